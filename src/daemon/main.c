/* gpuvisord: the node daemon (options, start-up, shutdown). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/console_auth.h"
#include "gpuvisor/xfuncs.h"
#include "migration.h"

#define DEFAULT_SOCKET "/run/gpuvisor/api.sock"
#define DEFAULT_STATE_DIR "/var/lib/gpuvisor"
#define DEFAULT_SIM_SPEC "h100-80gb:1"

/* Whether this gpuvisord is the build tree's: it then uses the build's lib
 * and console directories rather than the installed ones (tests, demo). */
static bool from_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t bl = strlen(GV_BUILD_DIR);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, GV_BUILD_DIR, bl) == 0 && exe[bl] == '/';
}

static const char *default_console_dir(void)
{
	return from_build_tree() ? GV_BUILD_DIR "/share/gpuvisor/console" : GV_DATADIR "/console";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gpuvisord [options]\n"
		"  --socket PATH       API socket (default " DEFAULT_SOCKET ")\n"
		"  --state-dir DIR     database, token, simulated hardware (default " DEFAULT_STATE_DIR
		")\n"
		"  --run-dir DIR       accounting files (default: the socket's directory)\n"
		"  --catalog PATH      GPU catalog (default: %s)\n"
		"  --backend B         auto | nvml | sim (default auto)\n"
		"  --sim SPEC          simulated GPUs, e.g. a100-40gb:1,h100-80gb:2\n"
		"  --sim-file PATH     simulated node description (JSON)\n"
		"  --mixed-size        allow timeslice instances of different sizes on one GPU\n"
		"  --listen ADDR:PORT  also serve TCP (bearer token in <state-dir>/token)\n"
		"  --lib-dir DIR       where shim/ and sim/ driver directories are\n"
		"  --log-level L       error | warning | info | debug (default info)\n"
		"  --group NAME        group given the socket, the state files and the files\n"
		"                      workloads use (default gpuvisor, when it exists)\n"
		"  --request-timeout S deadline of one API request, seconds (default 30)\n"
		"  --console-dir DIR   the web console's files, served on /ui/ (default %s)\n",
		gv_catalog_default_path(), default_console_dir());
}

static const char *default_lib_dir(void)
{
	return from_build_tree() ? GV_BUILD_DIR "/lib" : GV_LIBDIR;
}

static int parse_args(int argc, char **argv, struct gvd_opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' },
		{ "sim", required_argument, NULL, 'S' },
		{ "sim-file", required_argument, NULL, 'F' },
		{ "mixed-size", no_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "lib-dir", required_argument, NULL, 'L' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "group", required_argument, NULL, 'g' },
		{ "request-timeout", required_argument, NULL, 't' },
		{ "console-dir", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->socket_path = DEFAULT_SOCKET;
	o->state_dir = DEFAULT_STATE_DIR;
	o->backend = "auto";
	o->log_level = GVD_LOG_INFO;
	o->group = "gpuvisor";
	o->request_timeout_s = 30;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'r':
			o->run_dir = optarg;
			break;
		case 'c':
			o->catalog_path = optarg;
			break;
		case 'b':
			o->backend = optarg;
			break;
		case 'S':
			o->sim_spec = optarg;
			break;
		case 'F':
			o->sim_file = optarg;
			break;
		case 'm':
			o->mixed_size = true;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'L':
			o->lib_dir = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'C':
			o->console_dir = optarg;
			break;
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end || v < 1 || v > 3600) {
				fprintf(stderr,
					"gpuvisord: --request-timeout wants 1-3600 seconds\n");
				return -EINVAL;
			}
			o->request_timeout_s = (unsigned)v;
			break;
		}
		case 'v':
			if (gvd_log_level_parse(optarg, &o->log_level, NULL) < 0) {
				fprintf(stderr, "gpuvisord: unknown log level '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gpuvisord: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(o->backend, "auto") && strcmp(o->backend, "nvml") && strcmp(o->backend, "sim")) {
		fprintf(stderr, "gpuvisord: --backend must be auto, nvml or sim\n");
		return -EINVAL;
	}
	if (o->sim_spec && o->sim_file) {
		fprintf(stderr, "gpuvisord: give --sim or --sim-file, not both\n");
		return -EINVAL;
	}
	return 0;
}

/* Canonical absolute path of a directory that exists (created if needed). */
static int abs_dir(const char *in, char *out, struct gv_err *err)
{
	int ret = gvd_mkdir_p(in, 0755, err);

	if (ret)
		return ret;
	if (!realpath(in, out))
		return gv_err_sys(err, "%s", in);
	return 0;
}

static void describe_node(struct gvd *d, char *out, size_t cap)
{
	struct gv_node_desc hw;
	size_t len;
	int i;

	if (d->be->ops->query(d->be, &hw, NULL) != 0) {
		snprintf(out, cap, "(cannot query)");
		return;
	}
	len = (size_t)snprintf(out, cap, "%d GPU%s (", hw.n_gpus, hw.n_gpus == 1 ? "" : "s");
	for (i = 0; i < hw.n_gpus && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "",
					hw.gpus[i].model ? hw.gpus[i].model->id : hw.gpus[i].name);
	if (len < cap)
		snprintf(out + len, cap - len, ")");
}

/* Test-only crash points, like the simulated backend's GPUVISOR_SIM_CRASH:
 * honoured on a simulated node only, and a value that names none refuses
 * the start (a typo must not make a crash test pass vacuously). */
static int crash_points(struct gvd *d, struct gv_err *err)
{
	const char *env = getenv("GPUVISORD_CRASH");

	if (!env || !*env)
		return 0;
	if (strcmp(env, "mig_dst_created") != 0)
		return gv_err_set(err, EINVAL,
				  "GPUVISORD_CRASH='%s': the only crash point is mig_dst_created",
				  env);
	if (!d->sim)
		return gv_err_set(err, EINVAL,
				  "GPUVISORD_CRASH is for tests on a simulated node (--sim) only");
	d->crash_mig_dst_created = true;
	return 0;
}

static int open_backend(struct gvd *d, struct gv_err *err)
{
	struct gv_node_desc *desc = NULL;
	struct gv_err nerr = { 0 };
	const char *why = NULL;
	char what[512], reason[GV_ERR_MSG_MAX + 64] = "";
	int ret = 0;

	if (strcmp(d->o.backend, "sim") != 0) {
		ret = gv_backend_nvml_new(d->cat, &d->be, &nerr);
		if (!ret) {
			describe_node(d, what, sizeof(what));
			fprintf(stderr, "gpuvisord: using NVIDIA GPUs through NVML: %s\n", what);
			return 0;
		}
		if (strcmp(d->o.backend, "nvml") == 0)
			return gv_err_set(err, -ret, "--backend nvml: %s", nerr.msg);
		snprintf(reason, sizeof(reason), "no NVIDIA GPU (%s); ", nerr.msg);
	}
	desc = gv_xcalloc(err, 1, sizeof(*desc));
	if (!desc)
		return -ENOMEM;
	if (d->o.sim_file) {
		ret = gv_node_load(d->cat, d->o.sim_file, desc, err);
		why = d->o.sim_file;
	} else if (d->o.sim_spec) {
		ret = gv_node_from_spec(d->cat, d->o.sim_spec, desc, err);
		why = "--sim";
	} else if (access(d->sim_node_path, F_OK) == 0) {
		/* the simulated hardware of the last run */
		free(desc);
		desc = NULL;
		why = d->sim_node_path;
	} else {
		ret = gv_node_from_spec(d->cat, DEFAULT_SIM_SPEC, desc, err);
		why = "default";
	}
	if (!ret)
		ret = gv_backend_sim_new(d->cat, desc, d->sim_node_path, &d->be, err);
	free(desc);
	if (ret)
		return ret;
	d->sim = true;
	describe_node(d, what, sizeof(what));
	fprintf(stderr, "gpuvisord: %susing a simulated node: %s [%s; hardware state %s]\n", reason,
		what, why, d->sim_node_path);
	return 0;
}

/* Every connection is a descriptor: the API's limits (docs/api.md,
 * "Limits") need more than the usual soft limit of 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			gvd_log(GVD_LOG_WARN, "cannot raise the open-file limit: %s",
				strerror(errno));
	}
}

/* The database (and its write-ahead log and index, which SQLite creates
 * with the database's mode and owner) is readable by root and the group
 * only, also when an older daemon made it world-readable. */
static int share_state_files(struct gvd *d, struct gv_err *err)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char path[PATH_MAX + 8];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", d->db_path, sfx[i]);
		if (i > 0 && access(path, F_OK) != 0)
			continue;
		ret = gvd_group_share(d, path, 0640, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Console sessions, the history ring, and the directory of the console's
 * files: a directory given with --console-dir must be there; a missing
 * default one only leaves /ui/ answering 404 (a build without it). */
static int console_open(struct gvd *d, struct gv_err *err)
{
	const char *dir = d->o.console_dir ? d->o.console_dir : default_console_dir();
	int ret;

	ret = gv_console_auth_new(NULL, NULL, NULL, &d->console, err);
	if (!ret)
		ret = gvd_history_new(&d->history, err);
	if (ret)
		return ret;
	d->console_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->console_fd < 0 && d->o.console_dir)
		return gv_err_sys(err, "--console-dir %s", dir);
	if (d->console_fd < 0)
		gvd_log(GVD_LOG_WARN, "no console files in %s (%s): /ui/ answers 404", dir,
			strerror(errno));
	return 0;
}

static char state_dir_abs[PATH_MAX], run_dir_abs[PATH_MAX], lib_dir_abs[PATH_MAX],
	socket_abs[PATH_MAX];

int main(int argc, char **argv)
{
	struct gvd d;
	struct gv_err err = { 0 };
	struct gvd_http *http = NULL;
	pthread_t live;
	bool live_started = false;
	sigset_t sigs;
	int lock_fd = -1, sock_fd = -1, sig = 0, ret;
	char dir[PATH_MAX], *slash;

	memset(&d, 0, sizeof(d));
	d.console_fd = -1;
	if (parse_args(argc, argv, &d.o))
		return 2;
	gvd_log_set_level(d.o.log_level);
	pthread_mutex_init(&d.lock, NULL);
	gvd_metrics_init(&d.metrics);
	atomic_init(&d.stopping, false);
	/* nothing the daemon creates is for every user: what the group may
	 * use is given to it explicitly (gvd_group_share) */
	umask(027);
	gvd_group_resolve(&d);
	raise_fd_limit();

	/* SIGTERM/SIGINT are taken by sigwait in this thread only; the HTTP and
	 * liveness threads inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = abs_dir(d.o.state_dir, state_dir_abs, &err);
	if (ret)
		goto out;
	d.o.state_dir = state_dir_abs;
	ret = gvd_state_lock(d.o.state_dir, &lock_fd, &err);
	if (ret)
		goto out;
	ret = gvd_dir_writable(d.o.state_dir, "state directory", &err);
	if (ret)
		goto out;
	/* set-group-ID: what the daemon writes there (sim-node.json, which a
	 * simulated node's workloads read; the database) takes the group */
	ret = gvd_group_share(&d, d.o.state_dir, 02750, &err);
	if (ret)
		goto out;

	snprintf(dir, sizeof(dir), "%s", d.o.socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	ret = abs_dir(d.o.run_dir ? d.o.run_dir : dir, run_dir_abs, &err);
	if (ret)
		goto out;
	d.o.run_dir = run_dir_abs;
	ret = gvd_dir_writable(d.o.run_dir, "run directory", &err);
	if (ret)
		goto out;
	if (d.o.socket_path[0] != '/') {
		char sockdir[PATH_MAX];

		ret = abs_dir(dir, sockdir, &err);
		if (ret)
			goto out;
		snprintf(socket_abs, sizeof(socket_abs), "%s/%s", sockdir,
			 slash ? slash + 1 : d.o.socket_path);
		d.o.socket_path = socket_abs;
	}
	snprintf(d.acct_dir, sizeof(d.acct_dir), "%s/acct", d.o.run_dir);
	snprintf(d.sched_dir, sizeof(d.sched_dir), "%s/sched", d.o.run_dir);
	/* group members' workloads open their accounting files here */
	ret = gvd_mkdir_p(d.acct_dir, 0750, &err);
	if (!ret)
		ret = gvd_group_share(&d, d.acct_dir, 02750, &err);
	if (ret)
		goto out;
	{
		char limit_dir[PATH_MAX];

		snprintf(limit_dir, sizeof(limit_dir), "%s/limit", d.o.run_dir);
		ret = gvd_mkdir_p(limit_dir, 0755, &err);
		/* every tenant reads its limit here (containers of any user): 0755
		 * whatever the daemon's umask; the files are 0644 and only the
		 * daemon writes them */
		if (!ret && chmod(limit_dir, 0755) != 0)
			ret = gv_err_sys(&err, "cannot chmod %s", limit_dir);
		if (ret)
			goto out;
	}
	if (!d.o.lib_dir)
		d.o.lib_dir = default_lib_dir();
	if (realpath(d.o.lib_dir, lib_dir_abs))
		d.o.lib_dir = lib_dir_abs;
	if (!d.o.catalog_path)
		d.o.catalog_path = gv_catalog_default_path();
	snprintf(d.db_path, sizeof(d.db_path), "%s/gpuvisor.db", d.o.state_dir);
	snprintf(d.sim_node_path, sizeof(d.sim_node_path), "%s/sim-node.json", d.o.state_dir);

	ret = gv_catalog_load(d.o.catalog_path, &d.cat, &err);
	if (ret)
		goto out;
	ret = gv_store_open(d.db_path, &d.st, &err);
	if (ret) {
		/* SQLite names the statement, not the cause: look again */
		struct gv_err why = { 0 };

		if (gvd_dir_writable(d.o.state_dir, "state directory", &why) != 0)
			gv_err_set(&err, -ret, "cannot open %s: %s", d.db_path, why.msg);
		goto out;
	}
	ret = share_state_files(&d, &err);
	if (ret)
		goto out;
	ret = open_backend(&d, &err);
	if (ret)
		goto out;
	if (d.sim && access(d.sim_node_path, F_OK) == 0) {
		ret = gvd_group_share(&d, d.sim_node_path, 0640, &err);
		if (ret)
			goto out;
	}
	ret = crash_points(&d, &err);
	if (ret)
		goto out;
	if (d.o.listen) {
		ret = gvd_token_load(d.o.state_dir, d.token, sizeof(d.token), &err);
		if (ret)
			goto out;
	}
	ret = console_open(&d, &err);
	if (ret)
		goto out;

	pthread_mutex_lock(&d.lock);
	ret = gvd_reconcile(&d, &err);
	if (!ret) {
		/* a GPU without its segment fails only its own requests */
		struct gv_err serr = { 0 };

		gvd_sched_sync(&d, &serr);
	}
	pthread_mutex_unlock(&d.lock);
	if (ret)
		goto out;
	gvd_mig_recover(&d);
	gvd_suspend_reconcile(&d);
	ret = gvd_tenant_start(&d, &err);
	if (ret)
		goto out;

	ret = gvd_unix_listen(&d, d.o.socket_path, &sock_fd, &err);
	if (ret)
		goto out;
	ret = gvd_http_start(&d, sock_fd, &http, &err);
	if (ret)
		goto out;
	sock_fd = -1; /* MHD owns it now */
	ret = gvd_liveness_start(&d, &live);
	if (ret) {
		gv_err_set(&err, -ret, "cannot start the liveness thread");
		goto out;
	}
	live_started = true;
	fprintf(stderr, "gpuvisord: listening on %s%s%s (state %s)\n", d.o.socket_path,
		d.o.listen ? " and tcp " : "", d.o.listen ? d.listen_addr : "", d.o.state_dir);

	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	gvd_log(GVD_LOG_INFO, "%s: shutting down", strsignal(sig));
out:
	atomic_store(&d.stopping, true);
	gvd_http_stop(http);
	gvd_mig_shutdown(&d);
	if (live_started)
		pthread_join(live, NULL);
	gvd_tenant_stop(&d);
	if (sock_fd >= 0)
		close(sock_fd);
	if (http || sock_fd >= 0)
		unlink(d.o.socket_path);
	gvd_sched_close_all(&d);
	gv_store_close(d.st);
	gv_backend_free(d.be);
	gv_catalog_free(d.cat);
	gvd_history_free(d.history);
	gv_console_auth_free(d.console);
	if (d.console_fd >= 0)
		close(d.console_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	if (ret) {
		fprintf(stderr, "gpuvisord: %s\n", err.msg);
		return 1;
	}
	return 0;
}

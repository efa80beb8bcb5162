/* gpuvisor run --instance ID[,ID...] -- CMD ARGS: runs CMD as the
 * instance's workload; with several (passthrough) instances, one workload
 * on all their GPUs: the first instance's environment with
 * CUDA_VISIBLE_DEVICES naming every instance's device in the order given,
 * registered on the first with the others in "with".
 *
 * Protocol with the daemon: GET /v1/instances/ID/env gives the environment
 * (completed by env.c);
 * the child is forked into a process group of its own and held on a pipe
 * until POST /v1/instances/ID/workload {"pid":child} succeeded, so no CUDA
 * call can run unregistered; after the child ends, DELETE .../workload. If
 * this process dies first, the daemon clears the registration when the
 * child's process group is gone. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* process group of the running workload, for the forwarding handler; 0 when
 * there is none (never while a reaped group id could be reused) */
static volatile sig_atomic_t gv_run_pgid;

static const int gv_run_fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define GV_RUN_N_FWD (sizeof(gv_run_fwd_signals) / sizeof(gv_run_fwd_signals[0]))

static void gv_run_forward(int sig)
{
	int saved = errno;

	if (gv_run_pgid > 0)
		kill(-(pid_t)gv_run_pgid, sig);
	errno = saved;
}

static void gv_run_free_envp(char **envp)
{
	size_t i;

	for (i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/* environ, minus what the instance sets, plus the instance's variables, with
 * LD_LIBRARY_PATH_PREPEND put in front of LD_LIBRARY_PATH. NULL with the
 * reason printed on failure. */
static char **gv_run_build_envp(const json_t *vars)
{
	const char *prepend = NULL, *old_llp = getenv("LD_LIBRARY_PATH");
	const char *key;
	json_t *val;
	size_t n = 0, i, k = 0;
	char **envp = NULL;
	bool ok = false;

	json_object_foreach((json_t *)vars, key, val) {
		if (!json_is_string(val)) {
			fprintf(stderr, "gpuvisor: gpuvisord sent a non-string value for %s\n",
				key);
			return NULL;
		}
		if (strcmp(key, "LD_LIBRARY_PATH_PREPEND") == 0)
			prepend = json_string_value(val);
	}
	while (environ[n])
		n++;
	envp = calloc(n + json_object_size(vars) + 2, sizeof(*envp));
	if (!envp)
		goto out;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		char name[256];
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (len < sizeof(name)) {
			memcpy(name, environ[i], len);
			name[len] = '\0';
			if (json_object_get(vars, name) || strcmp(name, "LD_LIBRARY_PATH") == 0)
				continue;
		}
		if (!(envp[k++] = strdup(environ[i])))
			goto out;
	}
	json_object_foreach((json_t *)vars, key, val) {
		if (strcmp(key, "LD_LIBRARY_PATH_PREPEND") == 0 ||
		    strcmp(key, "LD_LIBRARY_PATH") == 0)
			continue;
		if (asprintf(&envp[k], "%s=%s", key, json_string_value(val)) < 0) {
			envp[k] = NULL;
			goto out;
		}
		k++;
	}
	if (!prepend)
		prepend = json_string_value(json_object_get(vars, "LD_LIBRARY_PATH"));
	if (prepend && *prepend) {
		int r = (old_llp && *old_llp)
				? asprintf(&envp[k], "LD_LIBRARY_PATH=%s:%s", prepend, old_llp)
				: asprintf(&envp[k], "LD_LIBRARY_PATH=%s", prepend);

		if (r < 0) {
			envp[k] = NULL;
			goto out;
		}
		k++;
	} else if (old_llp) {
		if (asprintf(&envp[k], "LD_LIBRARY_PATH=%s", old_llp) < 0) {
			envp[k] = NULL;
			goto out;
		}
		k++;
	}
	ok = true;
out:
	if (!ok) {
		fprintf(stderr, "gpuvisor: out of memory\n");
		gv_run_free_envp(envp);
		envp = NULL;
	}
	return envp;
}

/* The child: own process group, wait for the go byte, exec. Never returns. */
static void gv_run_child(int go_fd, int ex_fd, const sigset_t *mask, char **cmd, char **envp)
{
	char go = 0;
	ssize_t n;
	int e;

	setpgid(0, 0);
	do
		n = read(go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up: registration failed */
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvpe(cmd[0], cmd, envp);
	e = errno;
	if (write(ex_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* After registration: hands the terminal to the child's group when we own
 * it, releases the child (closing go_w) and waits until it has exec'd (ex_r
 * reaches EOF) or failed to (*exec_errno set). Returns whether the terminal
 * was handed over. */
static bool gv_run_release(pid_t child, int go_w, int ex_r, int *exec_errno)
{
	bool tty_fg = false;

	/* an interactive command gets the terminal (Ctrl-C, reads) */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
		sigset_t ttou, prev;

		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		sigprocmask(SIG_BLOCK, &ttou, &prev);
		tty_fg = tcsetpgrp(STDIN_FILENO, child) == 0;
		sigprocmask(SIG_SETMASK, &prev, NULL);
	}
	if (write(go_w, "g", 1) != 1) {
		fprintf(stderr, "gpuvisor: cannot release the workload: %s\n", strerror(errno));
		kill(-child, SIGKILL);
	}
	close(go_w);
	*exec_errno = 0;
	for (;;) {
		ssize_t n = read(ex_r, exec_errno, sizeof(*exec_errno));

		if (n >= 0 || errno != EINTR) {
			if (n != (ssize_t)sizeof(*exec_errno))
				*exec_errno = 0;
			break;
		}
	}
	return tty_fg;
}

/* Best effort: the daemon also clears a workload whose processes are gone. */
static void gv_run_unregister(struct gv_cli *cli, const char *path)
{
	struct gv_err err = { 0 };
	json_t *resp = NULL;
	long status = 0;
	int rc = gv_client_call(cli->client, "DELETE", path, NULL, &resp, &status, &err);

	if (rc < 0 && status != 404 && status != 409)
		fprintf(stderr, "gpuvisor: warning: could not unregister the workload: %s\n",
			err.msg);
	json_decref(resp);
}

/* --migratable: the daemon's "migration" variables (the shim's control
 * socket, its device, the devices its driver must see) override the env. */
static int gv_run_add_migration(json_t *resp)
{
	json_t *mig = json_object_get(json_object_get(resp, "migration"), "env");

	if (!json_is_object(mig)) {
		fprintf(stderr, "gpuvisor: gpuvisord gives no migration settings for this "
				"instance (too old?)\n");
		return -1;
	}
	return json_object_update(json_object_get(resp, "env"), mig);
}

/* --instance i-1,i-2: the ids (at most GV_RUN_SPAN_MAX) into ids[], each
 * non-empty. 0, or -1 with the reason printed. */
#define GV_RUN_SPAN_MAX 8 /* = GV_APIREQ_SPAN_MAX, the daemon's limit */
static int gv_run_split_ids(struct gv_cli *cli, char *list, char *ids[], int *n)
{
	char *save = NULL, *tok;

	*n = 0;
	if (strstr(list, ",,") || list[0] == ',' || list[strlen(list) - 1] == ',') {
		gv_cli_usage_error(cli, "--instance: an empty id in '%s'", list);
		return -1;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == GV_RUN_SPAN_MAX) {
			gv_cli_usage_error(cli, "--instance: at most %d instances",
					   GV_RUN_SPAN_MAX);
			return -1;
		}
		ids[(*n)++] = tok;
	}
	return 0;
}

/* The workload's CUDA_VISIBLE_DEVICES over several instances: each
 * instance's own value, in the order given (the first is the workload's
 * device 0). The other variables are the first instance's: a span is of
 * passthrough instances, whose variables differ only there and in
 * GPUVISOR_INSTANCE / GPUVISOR_TENANT (the first one's: the registration's
 * owner). */
static int gv_run_merge_devices(json_t *first, json_t *const *others, int n)
{
	json_t *env = json_object_get(first, "env");
	const char *cvd = json_string_value(json_object_get(env, "CUDA_VISIBLE_DEVICES"));
	char all[1024];
	int i;

	if (!cvd)
		return -1;
	snprintf(all, sizeof(all), "%s", cvd);
	for (i = 0; i < n; i++) {
		const char *o = json_string_value(
			json_object_get(json_object_get(others[i], "env"), "CUDA_VISIBLE_DEVICES"));

		if (!o || strlen(all) + strlen(o) + 2 > sizeof(all))
			return -1;
		strcat(all, ",");
		strcat(all, o);
	}
	return json_object_set_new(env, "CUDA_VISIBLE_DEVICES", json_string(all));
}

static int run_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "migratable", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL;
	char *wl_path = NULL, **envp = NULL, **cmd, *id_list = NULL,
	     *ids[GV_RUN_SPAN_MAX] = { NULL };
	json_t *resp = NULL, *body = NULL, *reg = NULL, *more[GV_RUN_SPAN_MAX] = { NULL };
	int n_ids = 0;
	int go[2] = { -1, -1 }, ex[2] = { -1, -1 };
	struct sigaction sa, old_sa[GV_RUN_N_FWD];
	sigset_t fwd, old_mask;
	bool handlers = false, tty_fg = false, migratable = false;
	pid_t child = -1;
	siginfo_t info;
	int c, rc, status = 0, exec_errno = 0;
	size_t i;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, NULL, &rc)) != -1) {
		switch (c) {
		case 'i':
			id = optarg;
			break;
		case 'm':
			migratable = true;
			break;
		default:
			return rc;
		}
	}
	if (!id || !*id)
		return gv_cli_usage_error(cli, "--instance is required (see gpuvisor list)");
	if (optind >= argc)
		return gv_cli_usage_error(cli,
					  "which command? (gpuvisor run --instance ID -- CMD)");
	cmd = &argv[optind];
	id_list = strdup(id);
	if (!id_list)
		return GV_EXIT_REFUSED;
	if (gv_run_split_ids(cli, id_list, ids, &n_ids) != 0) {
		free(id_list);
		return GV_EXIT_USAGE;
	}
	id = ids[0];
	if (n_ids > 1 && migratable) {
		free(id_list);
		return gv_cli_usage_error(cli, "--migratable takes one instance (a workload on "
					       "several moves with suspend and resume --to)");
	}
	if (!gv_cli_client(cli)) {
		free(id_list);
		return GV_EXIT_REFUSED;
	}
	wl_path = gv_cli_path(cli, "/v1/instances/", id, "/workload");
	if (!wl_path) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_instance_env(cli, id, &resp);
	if (rc)
		goto out;
	if (migratable && gv_run_add_migration(resp) != 0) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	for (i = 1; i < (size_t)n_ids; i++) {
		rc = gv_cli_instance_env(cli, ids[i], &more[i - 1]);
		if (rc)
			goto out;
	}
	if (n_ids > 1 && gv_run_merge_devices(resp, more, n_ids - 1) != 0) {
		fprintf(stderr,
			"gpuvisor: gpuvisord gave no CUDA_VISIBLE_DEVICES for an instance\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	envp = gv_run_build_envp(json_object_get(resp, "env"));
	if (!envp) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		fprintf(stderr, "gpuvisor: pipe: %s\n", strerror(errno));
		rc = GV_EXIT_REFUSED;
		goto out;
	}

	/* signals stay blocked until the handler knows the child's group */
	sigemptyset(&fwd);
	for (i = 0; i < GV_RUN_N_FWD; i++)
		sigaddset(&fwd, gv_run_fwd_signals[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old_mask);
	fflush(NULL);
	child = fork();
	if (child < 0) {
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		fprintf(stderr, "gpuvisor: fork: %s\n", strerror(errno));
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (child == 0) {
		close(go[1]);
		close(ex[0]);
		gv_run_child(go[0], ex[1], &old_mask, cmd, envp);
	}
	/* both sides set the group, so it exists whichever runs first */
	setpgid(child, child);
	close(go[0]);
	close(ex[1]);
	go[0] = ex[1] = -1;
	gv_run_pgid = child;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gv_run_forward;
	sigemptyset(&sa.sa_mask);
	/* a signal ignored on entry (nohup, `cmd &` in a script) stays ignored
	 * here and in the command, as a shell would leave it */
	for (i = 0; i < GV_RUN_N_FWD; i++) {
		sigaction(gv_run_fwd_signals[i], NULL, &old_sa[i]);
		if (old_sa[i].sa_handler != SIG_IGN)
			sigaction(gv_run_fwd_signals[i], &sa, NULL);
	}
	handlers = true;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);

	body = json_pack("{s:I}", "pid", (json_int_t)child);
	if (body && n_ids > 1) {
		json_t *with = json_array();

		for (i = 1; with && i < (size_t)n_ids; i++)
			json_array_append_new(with, json_string(ids[i]));
		if (!with || json_object_set_new(body, "with", with) < 0) {
			json_decref(body);
			body = NULL;
		}
	}
	rc = body ? gv_cli_call(cli, "POST", wl_path, body, &reg) : GV_EXIT_REFUSED;
	if (rc) {
		/* closing the go pipe unblocks the child, which exits unexec'd */
		close(go[1]);
		go[1] = -1;
		kill(-child, SIGKILL);
		fprintf(stderr,
			"gpuvisor: %s not started: its registration with gpuvisord failed\n",
			cmd[0]);
	} else {
		tty_fg = gv_run_release(child, go[1], ex[0], &exec_errno);
		go[1] = -1;
	}
	/* wait without reaping, so the group id stays ours while signals can
	 * still be forwarded to it */
	while (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	gv_run_pgid = 0;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (tty_fg) {
		sigset_t ttou, prev;

		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		sigprocmask(SIG_BLOCK, &ttou, &prev);
		tcsetpgrp(STDIN_FILENO, getpgrp());
		sigprocmask(SIG_SETMASK, &prev, NULL);
	}
	if (rc)
		goto out;
	gv_run_unregister(cli, wl_path);
	if (exec_errno) {
		fprintf(stderr, "gpuvisor: cannot run %s: %s\n", cmd[0], strerror(exec_errno));
		rc = exec_errno == ENOENT ? 127 : 126;
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		rc = 128 + WTERMSIG(status);
	} else {
		rc = GV_EXIT_REFUSED;
	}
out:
	if (handlers)
		for (i = 0; i < GV_RUN_N_FWD; i++)
			sigaction(gv_run_fwd_signals[i], &old_sa[i], NULL);
	for (i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	gv_run_free_envp(envp);
	json_decref(resp);
	json_decref(body);
	json_decref(reg);
	for (i = 0; i < GV_RUN_SPAN_MAX; i++)
		json_decref(more[i]);
	free(wl_path);
	free(id_list);
	return rc;
}

const struct gv_cmd gv_cmd_run = {
	.name = "run",
	.run = run_run,
	.usage = "run --instance ID[,ID...] [--migratable] [--] CMD [ARGS...]",
	.summary = "Run a command as the workload of an instance.",
	.help = "The command gets the instance's environment (CUDA_VISIBLE_DEVICES, the shim\n"
		"first on LD_LIBRARY_PATH, ...) in a process group of its own, registered\n"
		"with the daemon while it runs. SIGINT/SIGTERM/SIGHUP/SIGQUIT are forwarded\n"
		"to that group. The exit status is the command's (128+N when killed by\n"
		"signal N; 127 when it cannot be started).\n"
		"\n  --instance ID  the instance (see gpuvisor list); ID,ID,... (passthrough\n"
		"                 instances, up to 8): one workload on all their GPUs, in that\n"
		"                 order\n"
		"  --migratable   let `gpuvisor migrate` move it: its shim listens on a control\n"
		"                 socket and manages device memory so that it can be moved\n"
		"                 (CUDA features it cannot move yet are refused)\n"
		"\nexample:\n  gpuvisor run --instance i-1 -- python3 serve.py --port 8000\n",
};

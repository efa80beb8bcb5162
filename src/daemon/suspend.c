/* Suspend and resume of a workload through the CUDA driver's checkpoint
 * API, for any CUDA program (no --migratable, no shim cooperation).
 *
 * Suspend: every CUDA process of the workload's process group is locked
 * (its CUDA calls block and its queued GPU work finishes), then
 * checkpointed: the driver moves all its GPU memory and objects into the
 * process's host memory and frees the GPU memory. Resume: the driver
 * restores them at the same addresses, with the same handles, and unlocks.
 * The driver's calls run in gpuvisor-ckpt (src/ckpt/ckpt.c), a process of
 * their own run with a deadline, so a hung driver call never wedges the
 * daemon; the daemon's lock (held by the request handler) is dropped while
 * it runs.
 *
 * The workload stays bound to its instance and the instance's partition
 * stays reserved for it (its accounting file is untouched: nothing else may
 * use the instance meanwhile, and the shim's charges stay consistent with
 * what it will hold again after the resume); the GPU memory itself is free
 * for other instances of the GPU. It may also resume on another empty
 * instance of its profile (check_dst, move_workload): a time-sliced
 * workload on its own GPU, a passthrough one on any GPU of the same model.
 *
 * Crash safety: SUSPENDING / RESUMING are stored before the helper runs; a
 * daemon restarted in between asks the driver (gvd_suspend_reconcile).
 *
 * A pre-copy of a workload that is not --migratable (gvd_workload_precopy,
 * for a migration's row) runs `gpuvisor-ckpt precopy` the same way while
 * the workload runs, and records the move as a resume --to does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "ctldir.h"
#include "ctl.h"
#include "keep.h"

/* A lock waits for the workload's queued GPU work: a kernel that runs for
 * longer makes it time out, and the workload keeps running. */
#define LOCK_TIMEOUT_MS 30000
/* The whole helper run: checkpointing 100 GB at the ~2 GB/s an H200 showed
 * (tests/gpu/ckpt-check.h200-580.159.04.txt) takes about a minute. */
#define HELPER_DEADLINE_MS 300000
#define HELPER_OUT_MAX 65536
/* A restarted daemon waits this long for a pre-copy helper its previous
 * run left (gvd_precopy_found) */
#define HELPER_ORPHAN_WAIT_MS 60000
#define MAP_MAX (2 * GV_STORE_UUID_MAX + 2)
/* the verb's own options after the maps (ckpt_run) */
#define CKPT_EXTRA_MAX 16
/* The descriptor number of the pre-copy helper's keep socket (keep.h) */
#define KEEP_CHILD_FD 3

static enum gv_wl_state settle(struct gvd *d, pid_t pgid, enum gv_wl_state was, char *const *maps,
			       int n_maps, struct gv_err *err);

static const char *helper_path(char out[PATH_MAX])
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	/* next to gpuvisord in a build tree (bin/), else the installed one */
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, PATH_MAX, "%s/gpuvisor-ckpt", exe);
			if (access(out, X_OK) == 0)
				return out;
		}
	}
	snprintf(out, PATH_MAX, "%s/gpuvisor-ckpt", GV_LIBEXECDIR);
	return out;
}

/* The helper's environment, built before fork: the daemon has threads, so
 * the child may only call async-signal-safe functions (dup2, execve). The
 * driver must see every GPU to restore (the driver's docs), and on a
 * simulated node it is libcudasim with the daemon's node file. */
static char **helper_env(struct gvd *d)
{
	extern char **environ;
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!strncmp(environ[i], "CUDA_VISIBLE_DEVICES=", 21) ||
		    !strncmp(environ[i], "GPUVISOR_REAL_LIBCUDA=", 22) ||
		    !strncmp(environ[i], "GPUVISOR_SIM_NODE=", 18))
			continue;
		env[k++] = environ[i];
	}
	if (d->sim) {
		/* the two strings are freed by helper_env_free */
		if (asprintf(&env[k], "GPUVISOR_REAL_LIBCUDA=%s/libcudasim.so", d->o.lib_dir) < 0 ||
		    asprintf(&env[k + 1], "GPUVISOR_SIM_NODE=%s", d->sim_node_path) < 0) {
			free(env[k]);
			free(env);
			return NULL;
		}
	}
	return env;
}

static void helper_env_free(struct gvd *d, char **env)
{
	size_t k = 0;

	if (!env)
		return;
	while (env[k])
		k++;
	if (d->sim && k >= 2) {
		free(env[k - 1]);
		free(env[k - 2]);
	}
	free(env);
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs gpuvisor-ckpt VERB PGID --timeout-ms N [--map OLD=NEW]... [EXTRA...]
 * (maps: one per GPU of a resume onto other GPUs; extra: the verb's own
 * options, e.g. --bulk SOCK); *out gets its JSON answer (also when it
 * reports a failure, which is then returned as -EIO with its message). */
static int ckpt_run_keep(struct gvd *d, const char *verb, pid_t pgid, char *const *maps, int n_maps,
			 char *const *extra, int n_extra, int keep, json_t **out,
			 struct gv_err *err);

static int ckpt_run(struct gvd *d, const char *verb, pid_t pgid, char *const *maps, int n_maps,
		    char *const *extra, int n_extra, json_t **out, struct gv_err *err)
{
	return ckpt_run_keep(d, verb, pgid, maps, n_maps, extra, n_extra, -1, out, err);
}

/* ckpt_run with keep >= 0 given to the helper as its descriptor
 * KEEP_CHILD_FD (extra then names it: --keep-fd). */
static int ckpt_run_keep(struct gvd *d, const char *verb, pid_t pgid, char *const *maps, int n_maps,
			 char *const *extra, int n_extra, int keep, json_t **out,
			 struct gv_err *err)
{
	static char opt_timeout[] = "--timeout-ms";
	static char opt_map[] = "--map";
	char path[PATH_MAX], pg[16], tmo[16], *argv[6 + 2 * GV_APIREQ_SPAN_MAX + CKPT_EXTRA_MAX],
		**env = NULL, *buf = NULL;
	size_t len = 0;
	int fds[2] = { -1, -1 }, status = 0, ret = 0, k, i;
	int64_t deadline = mono_ms() + HELPER_DEADLINE_MS;
	json_t *j = NULL;
	pid_t pid;

	*out = NULL;
	helper_path(path);
	snprintf(pg, sizeof(pg), "%d", (int)pgid);
	snprintf(tmo, sizeof(tmo), "%d", LOCK_TIMEOUT_MS);
	argv[0] = path;
	argv[1] = (char *)verb;
	argv[2] = pg;
	argv[3] = opt_timeout;
	argv[4] = tmo;
	k = 5;
	/* one --map OLD=NEW per GPU of the workload (the driver's gpuPairs) */
	for (i = 0; i < n_maps && i < GV_APIREQ_SPAN_MAX; i++) {
		argv[k++] = opt_map;
		argv[k++] = maps[i];
	}
	for (i = 0; i < n_extra && i < CKPT_EXTRA_MAX; i++)
		argv[k++] = extra[i];
	argv[k] = NULL;
	env = helper_env(d);
	buf = malloc(HELPER_OUT_MAX + 1);
	if (!buf || !env || pipe2(fds, O_CLOEXEC) != 0) {
		ret = gv_err_set(err, ENOMEM, "cannot start the checkpoint helper: %s",
				 strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = gv_err_sys(err, "cannot start the checkpoint helper");
		goto out;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		/* dup2 onto itself would keep close-on-exec */
		if (keep >= 0 && (keep == KEEP_CHILD_FD ? fcntl(keep, F_SETFD, 0)
							: dup2(keep, KEEP_CHILD_FD)) < 0)
			_exit(127);
		execve(path, argv, env);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ret = gv_err_set(
				err, ETIMEDOUT,
				"the CUDA driver did not answer within %d s (%s of process "
				"group %d); the workload may be left locked",
				HELPER_DEADLINE_MS / 1000, verb, (int)pgid);
			goto out;
		}
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fds[0], buf + len, HELPER_OUT_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == HELPER_OUT_MAX)
			break;
	}
	buf[len] = '\0';
	waitpid(pid, &status, 0);
	j = json_loads(buf, 0, NULL);
	if (!j || !json_is_object(j)) {
		ret = gv_err_set(err, EIO, "the checkpoint helper %s failed (%s)", path,
				 WIFEXITED(status) && WEXITSTATUS(status) == 127
					 ? "it cannot be run"
					 : "no answer");
		goto out;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *m = json_string_value(json_object_get(j, "error"));

		ret = gv_err_set(err, EIO, "%s", m ? m : "the checkpoint helper failed");
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	free(buf);
	helper_env_free(d, env);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return ret;
}

static double jms(json_t *j, const char *key)
{
	return json_number_value(json_object_get(j, key));
}

/* Loads the instance and checks that its workload can be suspended or
 * resumed. Under d->lock. */
static int check_src(struct gvd *d, const char *id, bool suspend, bool held,
		     struct gv_store_inst *in, int *http, struct gv_err *err)
{
	const char *verb = suspend ? "suspend" : "resume";
	int ret;

	ret = gv_store_inst_get(d->st, id, in, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	*http = 409;
	if (in->wl_pid <= 0 || !gvd_workload_alive(in))
		return gv_err_set(err, ESRCH, "instance %s has no workload to %s", id, verb);
	if (in->kind == GV_PROFILE_MIG)
		return gv_err_set(err, ENOTSUP,
				  "cannot %s the workload of %s: it runs in a MIG instance, which "
				  "the CUDA driver's checkpoint does not support",
				  verb, id);
	if (suspend && in->wl_state != GV_WL_RUNNING)
		return gv_err_set(err, EBUSY, "the workload of %s is not running (it is %s)", id,
				  gvd_wl_state_name(in->wl_state));
	if (!suspend && in->wl_state != GV_WL_SUSPENDED)
		return gv_err_set(err, EBUSY, "the workload of %s is not suspended (it is %s)", id,
				  gvd_wl_state_name(in->wl_state));
	return held ? 0 : gvd_busy(d, id, err);
}

/* Where a suspended workload may be resumed instead of its own instance:
 * an empty, ready instance of the same profile. A time-sliced workload's
 * partition (its accounting file) and scheduler attachment are mapped by
 * its processes, so they move by name to the destination, which must be on
 * the same GPU (on another GPU the shim would have to switch them: not
 * built). A passthrough workload may go to a GPU of the same model: the
 * driver remaps it (gpuPairs; *remap set). Under d->lock. */
static int check_dst(struct gvd *d, const struct gv_store_inst *src, const char *to, bool held,
		     struct gv_store_inst *dst, bool *remap, int *http, struct gv_err *err)
{
	struct gvd_view v;
	int ret, gs, gd;

	*remap = false;
	ret = gv_store_inst_get(d->st, to, dst, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	*http = 409;
	if (dst->wl_pid > 0 && gvd_workload_alive(dst))
		return gv_err_set(err, EBUSY, "instance %s already has a workload (pid %d)", to,
				  (int)dst->wl_pid);
	if (dst->state != GV_INST_READY)
		return gv_err_set(err, EBUSY, "instance %s is not ready", to);
	if (strcmp(dst->profile, src->profile) || dst->kind != src->kind ||
	    dst->fb_mib != src->fb_mib)
		return gv_err_set(err, EINVAL,
				  "instance %s is a %s, the workload's instance %s a %s: a "
				  "workload resumes on an instance of its own profile",
				  to, dst->profile, src->id, src->profile);
	ret = held ? gvd_claim_check(d, to, err) : gvd_busy(d, to, err);
	if (ret)
		return ret;
	if (!strcmp(dst->gpu_uuid, src->gpu_uuid))
		return 0;
	if (src->kind == GV_PROFILE_TIMESLICE)
		return gv_err_set(err, ENOTSUP,
				  "instance %s is on another GPU: a time-sliced workload resumes "
				  "on an instance of its own GPU (its partition and scheduler "
				  "attachment move with it; onto another GPU the shim would "
				  "have to switch them, which is not built yet)",
				  to);
	ret = gvd_view_load(d, &v, err);
	if (ret) {
		*http = 500;
		return ret;
	}
	gs = gvd_view_gpu_by_uuid(&v, src->gpu_uuid);
	gd = gvd_view_gpu_by_uuid(&v, dst->gpu_uuid);
	if (gs < 0 || gd < 0)
		ret = gv_err_set(err, ENODEV, "the GPU of %s is gone", gs < 0 ? src->id : dst->id);
	else if (strcmp(v.hw.gpus[gs].name, v.hw.gpus[gd].name) ||
		 v.hw.gpus[gs].mem_mib != v.hw.gpus[gd].mem_mib)
		ret = gv_err_set(err, EINVAL,
				 "gpu %d (%s, %llu MiB) is not the model of gpu %d (%s, %llu MiB): "
				 "the driver restores only onto the same chip with the same memory",
				 gd, v.hw.gpus[gd].name, (unsigned long long)v.hw.gpus[gd].mem_mib,
				 gs, v.hw.gpus[gs].name, (unsigned long long)v.hw.gpus[gs].mem_mib);
	gvd_view_free(&v);
	*remap = ret == 0;
	return ret;
}

/* After the driver restored the workload: it is the destinations' now,
 * member by member in the span's order (dst[0] owns the registration), and
 * so are its ctl directories (gvd_ctl_move, per member pair).
 * A time-sliced workload (always on one instance) also moves its
 * accounting file and scheduler tenant: they exchange names with the
 * destination's, so that what its processes have mapped is the
 * destination's partition (renameat2 RENAME_EXCHANGE: atomic, both names
 * exist throughout). Under d->lock. */
static int move_workload(struct gvd *d, const struct gv_store_inst *src,
			 const struct gv_store_inst *dst, int n, struct gv_err *err)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct gv_sched *sc;
	int ret, i;

	ret = gv_store_begin(d->st, err);
	if (ret)
		return ret;
	for (i = 0; !ret && i < n; i++) {
		ret = gv_store_inst_set_workload(d->st, dst[i].id, src[i].wl_pid, src[i].wl_pgid,
						 src[i].wl_starttime, src[i].wl_since, err);
		if (!ret && n > 1)
			ret = gv_store_inst_set_span(d->st, dst[i].id, dst[0].id, i, err);
	}
	for (i = 0; !ret && i < n; i++)
		ret = gv_store_inst_set_workload(d->st, src[i].id, 0, 0, 0, 0, err);
	ret = gv_store_end(d->st, ret, err);
	if (ret)
		return ret;
	/* its control sockets (bound, so they follow their directory) are
	 * found at ctl/<the instance it is on> from now on */
	for (i = 0; i < n; i++) {
		struct gv_err cerr = { 0 };

		if (gvd_ctl_move(d, &src[i], dst[i].id, &cerr))
			gvd_log(GVD_LOG_ERROR,
				"%s -> %s: %s (its bulk memory cannot be pre-copied "
				"until it ends)",
				src[i].id, dst[i].id, cerr.msg);
	}
	if (n != 1 || src->kind != GV_PROFILE_TIMESLICE)
		return 0;
	gvd_acct_path(d, src->id, a);
	gvd_acct_path(d, dst->id, b);
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0)
		gvd_log(GVD_LOG_ERROR,
			"%s -> %s: cannot exchange %s and %s: %s (the "
			"destination shows the workload's memory under the source)",
			src->id, dst->id, a, b, strerror(errno));
	sc = gvd_sched_of(d, src->gpu_uuid);
	if (sc) {
		struct gv_err serr = { 0 };

		if (gv_sched_tenant_swap(sc, src->id, dst->id, &serr) ||
		    gvd_sched_sync(d, &serr)) /* weights follow the instance */
			gvd_log(GVD_LOG_ERROR, "%s -> %s: scheduler: %s", src->id, dst->id,
				serr.msg);
	}
	return 0;
}

/* Which GPU went where, member by member, for a report (new reference). */
static json_t *pairs_json(const struct gv_store_inst *src, const struct gv_store_inst *dst, int n)
{
	json_t *pairs = json_array();

	for (int i = 0; pairs && i < n; i++)
		json_array_append_new(pairs,
				      json_pack("{s:s, s:s, s:s, s:s}", "from", src[i].id, "to",
						dst[i].id, "from_device", src[i].device_uuid,
						"to_device", dst[i].device_uuid));
	return pairs;
}

/* "i-1, i-2" into out. */
static void id_list_str(const struct gv_store_inst *in, int n, char *out, size_t cap)
{
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? ", " : "", in[i].id);
}

/* Loads the workload's span from any member and checks every member
 * (check_src). Under d->lock. */
static int load_src(struct gvd *d, const char *id, bool suspend, bool held,
		    struct gv_store_inst *src, int *n, int *http, struct gv_err *err)
{
	int ret, i;

	ret = gvd_span_load(d, id, src, n, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	for (i = 0; i < *n; i++) {
		/* the caller's row (held) owns every member */
		ret = check_src(d, src[i].id, suspend, held, &src[i], http, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Where each member goes: to[i] for src[i] (check_dst), none twice and
 * none a member itself. *moving: false when to is empty or names the
 * members themselves. Under d->lock. */
static int load_dst(struct gvd *d, const struct gv_store_inst *src, int n,
		    const struct gv_apireq_resume *to, bool held, struct gv_store_inst *dst,
		    bool *remap, bool *moving, int *http, struct gv_err *err)
{
	char ids[GV_APIREQ_SPAN_MAX * (GV_STORE_ID_MAX + 2)];
	int ret, i, k;

	*moving = false;
	if (!to || to->n_to == 0)
		return 0;
	*http = 409;
	id_list_str(src, n, ids, sizeof(ids));
	if (to->n_to != n)
		return gv_err_set(err, EINVAL,
				  "the workload is on %d instance%s (%s): name one destination "
				  "for each, in that order",
				  n, n == 1 ? "" : "s", ids);
	for (i = 0; i < n && !strcmp(to->to[i], src[i].id); i++)
		;
	if (i == n)
		return 0; /* where it is */
	for (i = 0; i < n; i++)
		for (k = 0; k < n; k++)
			if (!strcmp(to->to[i], src[k].id))
				return gv_err_set(err, EINVAL,
						  "%s is one of the workload's own instances (%s): "
						  "the destinations are other instances",
						  to->to[i], ids);
	for (i = 0; i < n; i++) {
		ret = check_dst(d, &src[i], to->to[i], held, &dst[i], &remap[i], http, err);
		if (ret)
			return ret;
	}
	*moving = true;
	return 0;
}

/* held: the caller (a migration's row) owns id and the destinations, so
 * the busy check would refuse them; the claims on them are taken all the
 * same. The whole span changes at once: one helper run over the
 * workload's process group, every member's state written together. */
static int change(struct gvd *d, const char *id, const struct gv_apireq_resume *to, bool suspend,
		  bool held, json_t **report, int *http, struct gv_err *err)
{
	static char opt_bulk[] = "--bulk";
	struct gv_store_inst src[GV_APIREQ_SPAN_MAX], dst[GV_APIREQ_SPAN_MAX];
	struct gv_err store_err = { 0 };
	char maps[GV_APIREQ_SPAN_MAX][MAP_MAX], *mapv[GV_APIREQ_SPAN_MAX], bulk[PATH_MAX],
		*extra[2] = { NULL, NULL };
	char ids[GV_APIREQ_SPAN_MAX * (GV_STORE_ID_MAX + 2)];
	bool remap[GV_APIREQ_SPAN_MAX] = { false }, moving = false;
	const struct gv_store_inst *now;
	enum gv_wl_state end;
	json_t *j = NULL, *span = NULL;
	int ret, gpu = -1, n = 0, n_maps = 0, n_extra = 0, claimed = 0, i;

	*report = NULL;
	ret = load_src(d, id, suspend, held, src, &n, http, err);
	if (!ret)
		ret = load_dst(d, src, n, to, held, dst, remap, &moving, http, err);
	for (i = 0; !ret && moving && i < n; i++) {
		ret = gvd_claim(d, dst[i].id, err);
		if (!ret)
			claimed++;
	}
	if (ret)
		goto out;
	*http = 500;
	ret = gv_store_begin(d->st, err);
	for (i = 0; !ret && i < n; i++)
		ret = gv_store_inst_set_wl_state(d->st, src[i].id,
						 suspend ? GV_WL_SUSPENDING : GV_WL_RESUMING, err);
	ret = gv_store_end(d->st, ret, err);
	if (ret)
		goto out;
	for (i = 0; moving && i < n; i++)
		if (remap[i]) {
			snprintf(maps[n_maps], MAP_MAX, "%s=%s", src[i].device_uuid,
				 dst[i].device_uuid);
			mapv[n_maps] = maps[n_maps];
			n_maps++;
		}
	id_list_str(src, n, ids, sizeof(ids));
	/* bulk memory the workload holds from another process (after a
	 * pre-copy) must become its own before the driver's checkpoint: the
	 * helper asks the shim first (`own`, docs/migration.md) */
	if (suspend) {
		gvd_bulk_for(d, &src[0], bulk, sizeof(bulk));
		if (is_socket(bulk)) {
			extra[0] = opt_bulk;
			extra[1] = bulk;
			n_extra = 2;
		}
	}

	/* the driver may take a minute: other requests go on meanwhile, and
	 * see SUSPENDING / RESUMING and the claimed destinations */
	pthread_mutex_unlock(&d->lock);
	ret = ckpt_run(d, suspend ? "suspend" : "resume", src[0].wl_pgid, mapv, n_maps, extra,
		       n_extra, &j, err);
	/* suspend undoes itself on failure; a failed resume leaves the driver's
	 * checkpoint in place, to be resumed again (the driver has no rollback) */
	end = suspend ? (ret ? GV_WL_RUNNING : GV_WL_SUSPENDED)
		      : (ret ? GV_WL_SUSPENDED : GV_WL_RUNNING);
	if (ret && !j && ret != -ETIMEDOUT) {
		/* no answer: the helper died somewhere between the phases */
		struct gv_err serr = { 0 };

		char why[GV_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		/* a resume onto other GPUs finishes there: a process the helper
		 * restored is on the destinations already (the driver has no way
		 * back), the others follow it */
		end = settle(d, src[0].wl_pgid, suspend ? GV_WL_SUSPENDING : GV_WL_RESUMING, mapv,
			     n_maps, &serr);
		if (!suspend && end == GV_WL_RUNNING) {
			/* it runs, where it was asked to: the resume is done */
			gvd_log(GVD_LOG_WARN,
				"%s: %s; asked again, the driver had the workload "
				"restored: it runs",
				src[0].id, why);
			ret = 0;
			j = json_pack("{s:s}", "note", why);
		} else {
			gv_err_set(err, EIO, "%s; asked again, the driver has the workload %s%s%s",
				   why, gvd_wl_state_name(end), serr.msg[0] ? ": " : "", serr.msg);
		}
	}
	pthread_mutex_lock(&d->lock);
	if (ret == -ETIMEDOUT)
		end = suspend ? GV_WL_SUSPENDING : GV_WL_RESUMING; /* unknown: reconcile asks */
	for (i = 0; i < n; i++)
		if (gv_store_inst_set_wl_state(d->st, src[i].id, end, &store_err))
			gvd_log(GVD_LOG_ERROR, "%s: %s", src[i].id, store_err.msg);
	if (!ret && moving && move_workload(d, src, dst, n, &store_err))
		gvd_log(GVD_LOG_ERROR,
			"%s: the workload runs on %s but the state database "
			"still has it on %s: %s",
			dst[0].id, dst[0].id, src[0].id, store_err.msg);
	now = moving && !ret ? dst : src;
	{
		struct gvd_view v;

		if (gvd_view_load(d, &v, &store_err) == 0) {
			gpu = gvd_view_gpu_by_uuid(&v, now[0].gpu_uuid);
			gvd_view_free(&v);
		}
	}
	if (ret) {
		gvd_event(d, suspend ? "workload.suspend_failed" : "workload.resume_failed", gpu,
			  src[0].id, "%s of workload pid %d (on %s) failed: %s",
			  suspend ? "suspend" : "resume", (int)src[0].wl_pid, ids, err->msg);
	} else if (suspend) {
		gvd_event(d, "workload.suspended", gpu, src[0].id,
			  "workload pid %d (on %s) suspended: its GPU memory is in host memory "
			  "(lock %.0f ms, checkpoint %.0f ms)",
			  (int)src[0].wl_pid, ids, jms(j, "lock_ms"), jms(j, "checkpoint_ms"));
	} else {
		char to_ids[sizeof(ids)];

		id_list_str(now, n, to_ids, sizeof(to_ids));
		gvd_event(d, "workload.resumed", gpu, now[0].id,
			  "workload pid %d resumed%s%s on %s (restore %.0f ms, unlock %.0f ms)",
			  (int)src[0].wl_pid, moving ? " from " : "", moving ? ids : "", to_ids,
			  jms(j, "restore_ms"), jms(j, "unlock_ms"));
	}
	if (ret) {
		*http = ret == -ETIMEDOUT ? 504 : 409;
		goto out;
	}
	json_object_del(j, "ok");
	json_object_set_new(j, "instance", json_string(now[0].id));
	/* a workload on several instances: all of them, in its order, and
	 * which GPU went where */
	if (n > 1) {
		span = json_array();
		for (i = 0; span && i < n; i++)
			json_array_append_new(span, json_string(now[i].id));
		json_object_set_new(j, "span", span);
	}
	if (moving)
		json_object_set_new(j, "pairs", pairs_json(src, dst, n));
	*report = j;
	j = NULL;
out:
	json_decref(j);
	for (i = 0; i < claimed; i++)
		gvd_unclaim(d, dst[i].id);
	return ret;
}

int gvd_workload_suspend(struct gvd *d, const char *id, json_t **report, int *http,
			 struct gv_err *err)
{
	return change(d, id, NULL, true, false, report, http, err);
}

int gvd_workload_resume(struct gvd *d, const char *id, const struct gv_apireq_resume *to,
			json_t **report, int *http, struct gv_err *err)
{
	return change(d, id, to, false, false, report, http, err);
}

int gvd_workload_move(struct gvd *d, const char *id, const struct gv_apireq_resume *to, bool held,
		      json_t **report, int *http, struct gv_err *err)
{
	struct gv_store_inst src[GV_APIREQ_SPAN_MAX], dst[GV_APIREQ_SPAN_MAX];
	struct gv_err back_err = { 0 };
	json_t *sus = NULL, *res = NULL;
	bool remap[GV_APIREQ_SPAN_MAX], moving = false;
	int ret, back_http, n = 0;

	*report = NULL;
	/* refuse what the resume would refuse before the workload stops */
	ret = load_src(d, id, true, held, src, &n, http, err);
	if (!ret)
		ret = load_dst(d, src, n, to, held, dst, remap, &moving, http, err);
	if (!ret && !moving)
		ret = gv_err_set(err, EINVAL, "the destination is where the workload is");
	if (!ret)
		ret = change(d, id, NULL, true, held, &sus, http, err);
	if (ret)
		return ret;
	ret = change(d, id, to, false, held, &res, http, err);
	if (ret) {
		/* it runs on where it was, or stays suspended there for a later
		 * resume; the error is the move's */
		if (change(d, id, NULL, false, held, &res, &back_http, &back_err))
			gv_err_prefix(err, "the workload of %s stays suspended (%s)", id,
				      back_err.msg);
		json_decref(sus);
		json_decref(res);
		return ret;
	}
	json_object_set(res, "lock_ms", json_object_get(sus, "lock_ms"));
	json_object_set(res, "checkpoint_ms", json_object_get(sus, "checkpoint_ms"));
	json_decref(sus);
	*report = res;
	return 0;
}

/* settle() after a pre-copy helper that gave no answer: the workload was
 * RUNNING in the store throughout, so a driver that cannot be asked (no
 * helper) or knows none of its processes leaves it so rather than try to
 * resume it. */
static enum gv_wl_state settle_precopy(struct gvd *d, pid_t pgid, struct gv_err *err)
{
	json_t *j = NULL;

	gv_err_clear(err);
	if (ckpt_run(d, "state", pgid, NULL, 0, NULL, 0, &j, err)) {
		json_decref(j);
		return GV_WL_RUNNING; /* nothing the driver holds */
	}
	json_decref(j);
	return settle(d, pgid, GV_WL_RESUMING, NULL, 0, err);
}

/* Whether the shim serving path says its bulk is released: after a helper
 * that died between the release and the map, the bulk is lost (the helper
 * held its only references) and the shim keeps the workload stopped. */
static bool bulk_released(const char *path, pid_t owner)
{
	struct gv_err err = { 0 };
	json_t *h = NULL;
	const char *st;
	bool yes;

	if (gvd_ctl_hello(path, owner, 5000, &h, &err))
		return false;
	st = json_string_value(json_object_get(h, "state"));
	yes = st && !strcmp(st, "released");
	json_decref(h);
	return yes;
}

/* Whether every bulk allocation the shim serving path lists is on the GPU
 * of one of the n instances dst (the shim reads each one's device from its
 * handle): after a helper that died without an answer, where a workload
 * moved across GPUs runs. */
static bool bulk_on(const char *path, pid_t owner, const struct gv_store_inst *dst, int n)
{
	struct gv_buf b;
	json_t *msg = json_pack("{s:s}", "op", "list"), *ans = NULL, *e;
	struct gv_err err = { 0 };
	atomic_bool stop = false;
	bool yes = false;
	size_t i;
	int fd = -1;

	gv_buf_init(&b);
	if (msg && gvd_ctl_connect(path, owner, &fd, &err) == 0 &&
	    gvd_ctl_send(fd, msg, &err) == 0 &&
	    gvd_ctl_recv(fd, &b, 5000, &stop, &ans, &err) == 0 &&
	    json_is_true(json_object_get(ans, "ok")) &&
	    json_array_size(json_object_get(ans, "bulk")) > 0) {
		yes = true;
		json_array_foreach(json_object_get(ans, "bulk"), i, e) {
			const char *g = json_string_value(json_object_get(e, "device"));
			int k = 0;

			while (g && k < n && strcmp(g, dst[k].device_uuid))
				k++;
			if (!g || k == n)
				yes = false;
		}
	}
	if (fd >= 0)
		close(fd);
	json_decref(msg);
	json_decref(ans);
	gv_buf_free(&b);
	return yes;
}

/* After a pre-copy helper that left the workload's bulk released (it died,
 * or could not map it): the bulk mapped back from gpuvisord's copies
 * (keep.h) at its old addresses, the processes first brought back to the
 * source's GPUs when the helper's restore had put them on the
 * destination's (maps: its --map pairs, none between two instances of one
 * GPU). 0: the workload runs on src again, its data as of the stop. */
static int keep_recover(struct gvd *d, const struct gv_store_inst *src,
			const struct gv_store_inst *dst, int n, int n_maps, const char *bulk,
			const struct gvd_keep *k, struct gv_err *err)
{
	char back[GV_APIREQ_SPAN_MAX][MAP_MAX], *backv[GV_APIREQ_SPAN_MAX];
	json_t *j = NULL;
	int ret, nb = 0;

	if (!gvd_keep_usable(k))
		return gv_err_set(err, ENOENT, "gpuvisord holds no copy of the source bulk");
	if (n_maps && k->restoring && !k->restored)
		return gv_err_set(err, EIO,
				  "the helper died in the driver's restore onto the destination's "
				  "GPUs: which GPUs the processes are on is not known");
	if (n_maps && k->restored) {
		for (int i = 0; i < n; i++)
			if (strcmp(src[i].device_uuid, dst[i].device_uuid)) {
				snprintf(back[nb], MAP_MAX, "%s=%s", dst[i].device_uuid,
					 src[i].device_uuid);
				backv[nb] = back[nb];
				nb++;
			}
		ret = ckpt_run(d, "suspend", src[0].wl_pgid, NULL, 0, NULL, 0, &j, err);
		json_decref(j);
		j = NULL;
		if (!ret)
			ret = ckpt_run(d, "resume", src[0].wl_pgid, backv, nb, NULL, 0, &j, err);
		json_decref(j);
		if (ret) {
			gv_err_prefix(err, "back to the source's GPUs: ");
			return ret;
		}
	}
	return gvd_keep_map_back(k, bulk, src[0].wl_pid, err);
}

int gvd_workload_precopy(struct gvd *d, const char *id, const struct gv_apireq_resume *to,
			 const struct gvd_precopy *o, json_t **out, enum gv_store_mig_state *fail,
			 int *http, struct gv_err *err)
{
	static char o_bulk[] = "--bulk", o_dev[] = "--to-device", o_mode[] = "--mode",
		    o_dl[] = "--downtime-limit-ms", o_rounds[] = "--max-rounds",
		    o_fixed[] = "--stun-fixed-ms", o_keep[] = "--keep-fd";
	struct gv_store_inst src[GV_APIREQ_SPAN_MAX], dst[GV_APIREQ_SPAN_MAX];
	struct gv_err serr = { 0 }, store_err = { 0 }, kerr = { 0 };
	struct gvd_keep keep = { .sock = -1, .child = -1 };
	char bulk[PATH_MAX], maps[GV_APIREQ_SPAN_MAX][MAP_MAX], dl[24], rounds[16], mode[16],
		fixed[24], keepfd[16], why[GV_ERR_MSG_MAX];
	char *mapv[GV_APIREQ_SPAN_MAX], *extra[CKPT_EXTRA_MAX];
	bool remap[GV_APIREQ_SPAN_MAX] = { false }, moving = false, on_dst = false, lost = false;
	enum gv_wl_state end = GV_WL_RUNNING;
	const char *state, *result;
	json_t *j = NULL;
	int ret, n = 0, n_extra = 0, n_maps = 0, claimed = 0, i;

	*out = NULL;
	*fail = GV_MIGST_FAILED;
	ret = load_src(d, id, true, true, src, &n, http, err);
	if (!ret)
		ret = load_dst(d, src, n, to, true, dst, remap, &moving, http, err);
	if (!ret && !moving)
		ret = gv_err_set(err, EINVAL, "the destination is where the workload is");
	if (!ret) {
		gvd_bulk_for(d, &src[0], bulk, sizeof(bulk));
		if (!is_socket(bulk))
			ret = gv_err_set(err, ENOENT,
					 "the workload has no bulk control socket (%s): use --mode "
					 "checkpoint",
					 bulk);
	}
	for (i = 0; !ret && i < n; i++) {
		ret = gvd_claim(d, dst[i].id, err);
		if (!ret)
			claimed++;
	}
	if (ret)
		goto out;
	*http = 409;
	snprintf(mode, sizeof(mode), "%s", o->mode);
	snprintf(dl, sizeof(dl), "%llu", (unsigned long long)o->downtime_limit_ms);
	extra[n_extra++] = o_bulk;
	extra[n_extra++] = bulk;
	/* one GPU: its memory goes to the destination's GPU (the same one
	 * between two timeslice instances); several: each by its --map */
	if (n == 1) {
		extra[n_extra++] = o_dev;
		extra[n_extra++] = dst[0].device_uuid;
	}
	extra[n_extra++] = o_mode;
	extra[n_extra++] = mode;
	extra[n_extra++] = o_dl;
	extra[n_extra++] = dl;
	if (o->max_rounds) {
		snprintf(rounds, sizeof(rounds), "%u", o->max_rounds);
		extra[n_extra++] = o_rounds;
		extra[n_extra++] = rounds;
	}
	if (o->stun_fixed_ms) {
		snprintf(fixed, sizeof(fixed), "%llu", (unsigned long long)o->stun_fixed_ms);
		extra[n_extra++] = o_fixed;
		extra[n_extra++] = fixed;
	}
	for (i = 0; i < n; i++)
		if (remap[i]) {
			snprintf(maps[n_maps], MAP_MAX, "%s=%s", src[i].device_uuid,
				 dst[i].device_uuid);
			mapv[n_maps] = maps[n_maps];
			n_maps++;
		}
	/* without it the move runs as before: the helper alone holds the
	 * released bulk */
	if (gvd_keep_open(&keep, &kerr) == 0) {
		snprintf(keepfd, sizeof(keepfd), "%d", KEEP_CHILD_FD);
		extra[n_extra++] = o_keep;
		extra[n_extra++] = keepfd;
	} else {
		gvd_log(GVD_LOG_WARN, "%s: %s", id, kerr.msg);
	}

	/* the workload runs on while its bulk is pre-copied: RUNNING in the
	 * store, both instances held by the caller's row, no daemon lock */
	pthread_mutex_unlock(&d->lock);
	ret = ckpt_run_keep(d, "precopy", src[0].wl_pgid, mapv, n_maps, extra, n_extra, keep.child,
			    &j, err);
	gvd_keep_collect(&keep);
	state = json_string_value(json_object_get(j, "state"));
	result = json_string_value(json_object_get(json_object_get(j, "report"), "result"));
	snprintf(why, sizeof(why), "%s", ret ? err->msg : "");
	if (!state) {
		/* no answer (it died, or was killed past its deadline): the
		 * driver says whether its processes run; restored where they
		 * were if not. Across GPUs, the shim's bulk says which GPU. */
		end = settle_precopy(d, src[0].wl_pgid, &serr);
		lost = bulk_released(bulk, src[0].wl_pid);
		on_dst = !lost && end == GV_WL_RUNNING && n_maps &&
			 bulk_on(bulk, src[0].wl_pid, dst, n);
		if (lost && keep_recover(d, src, dst, n, n_maps, bulk, &keep, &kerr) == 0) {
			gvd_log(GVD_LOG_WARN,
				"%s: %s; gpuvisord mapped its copy of the source bulk back", id,
				why[0] ? why : "the pre-copy helper gave no answer");
			end = GV_WL_RUNNING;
			ret = gv_err_set(
				err, EIO,
				"%s; gpuvisord mapped its copy of the workload's bulk memory "
				"back: the workload runs on %s",
				why[0] ? why : "the pre-copy helper gave no answer", src[0].id);
		} else if (lost) {
			gvd_log(GVD_LOG_ERROR,
				"%s: workload pid %d lost its GPU memory in a pre-copy: %s", id,
				(int)src[0].wl_pid, why);
			ret = gv_err_set(
				err, EIO,
				"%s; the workload's GPU memory is lost (the helper died while "
				"it held the only references to its bulk memory, %s): it stays "
				"stopped on %s",
				why[0] ? why : "the pre-copy helper gave no answer", kerr.msg,
				src[0].id);
		} else if (on_dst) {
			gvd_log(GVD_LOG_WARN, "%s: %s; asked again, the workload runs on %s", id,
				why, dst[0].id);
			ret = 0;
			json_decref(j);
			j = json_pack("{s:s}", "note", why);
		} else {
			ret = gv_err_set(
				err, EIO,
				"%s; asked again, the driver has the workload %s on %s%s%s",
				why[0] ? why : "the pre-copy helper gave no answer",
				gvd_wl_state_name(end), src[0].id, serr.msg[0] ? ": " : "",
				serr.msg);
		}
	} else if (!strcmp(state, "destination")) {
		on_dst = true; /* whatever else it says, the workload runs there */
		if (ret)
			json_object_set_new(j, "note", json_string(why));
		ret = 0;
	} else if (!strcmp(state, "source")) {
		if (result && !strcmp(result, "aborted"))
			*fail = GV_MIGST_ABORTED;
		ret = gv_err_set(err, ret ? -ret : EIO, "%s; the workload runs on %s",
				 why[0] ? why : "the pre-copy helper failed", src[0].id);
	} else if (!strcmp(state, "checkpointed")) {
		/* the driver holds it and the helper could not restore it: once
		 * more, where it was */
		end = settle(d, src[0].wl_pgid, GV_WL_RESUMING, NULL, 0, &serr);
		ret = gv_err_set(err, EIO, "%s; the workload was left checkpointed: %s%s%s",
				 why[0] ? why : "the pre-copy helper failed",
				 end == GV_WL_RUNNING ? "restored on " : "it stays suspended on ",
				 src[0].id, end == GV_WL_RUNNING ? "" : " (resume it)");
	} else if (keep_recover(d, src, dst, n, n_maps, bulk, &keep, &kerr) == 0) {
		gvd_log(GVD_LOG_WARN, "%s: %s; gpuvisord mapped its copy of the source bulk back",
			id, why);
		ret = gv_err_set(
			err, EIO,
			"%s; gpuvisord mapped its copy of the workload's bulk memory back: "
			"the workload runs on %s",
			why[0] ? why : "the pre-copy helper failed", src[0].id);
	} else {
		gvd_log(GVD_LOG_ERROR, "%s: workload pid %d lost its GPU memory in a pre-copy: %s",
			id, (int)src[0].wl_pid, why);
		ret = gv_err_set(
			err, EIO,
			"%s; the workload's GPU memory is lost (its bulk memory was released "
			"and the helper holding it is gone): it stays stopped on %s",
			why[0] ? why : "the pre-copy helper failed", src[0].id);
	}
	pthread_mutex_lock(&d->lock);
	for (i = 0; end != GV_WL_RUNNING && i < n; i++)
		if (gv_store_inst_set_wl_state(d->st, src[i].id, end, &store_err))
			gvd_log(GVD_LOG_ERROR, "%s: %s", src[i].id, store_err.msg);
	if (on_dst && move_workload(d, src, dst, n, &store_err))
		gvd_log(GVD_LOG_ERROR,
			"%s: the workload runs on %s but the state database "
			"still has it on %s: %s",
			dst[0].id, dst[0].id, src[0].id, store_err.msg);
	if (j && on_dst)
		json_object_set_new(j, "pairs", pairs_json(src, dst, n));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	gvd_keep_free(&keep);
	for (i = 0; i < claimed; i++)
		gvd_unclaim(d, dst[i].id);
	return ret;
}

/* The helper a gpuvisord that stopped left running on pgid's workload
 * (`gpuvisor-ckpt precopy PGID ...`), or 0. */
static pid_t find_helper(pid_t pgid)
{
	char path[64], buf[512], pg[16];
	DIR *dp = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	if (!dp)
		return 0;
	snprintf(pg, sizeof(pg), "%d", (int)pgid);
	while (!found && (e = readdir(dp))) {
		const char *a0, *a1, *a2, *base;
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* argv[0] \0 argv[1] \0 argv[2] */
		a0 = buf;
		a1 = a0 + strlen(a0) + 1;
		if (a1 >= buf + n)
			continue;
		a2 = a1 + strlen(a1) + 1;
		if (a2 >= buf + n)
			continue;
		base = strrchr(a0, '/');
		base = base ? base + 1 : a0;
		if (!strcmp(base, "gpuvisor-ckpt") && !strcmp(a1, "precopy") && !strcmp(a2, pg))
			found = (pid_t)atoi(e->d_name);
	}
	closedir(dp);
	return found;
}

bool gvd_precopy_found(struct gvd *d, const struct gv_store_mig *m,
		       const char srcs[][GV_STORE_ID_MAX], const struct gv_apireq_resume *to,
		       bool *gone, char *msg, size_t cap)
{
	struct gv_store_inst src[GV_APIREQ_SPAN_MAX], dst[GV_APIREQ_SPAN_MAX];
	struct gv_err serr = { 0 };
	char bulk[PATH_MAX];
	enum gv_wl_state end;
	bool have_src = true, have_dst = true, cross = true, on_dst = false;
	int64_t until = mono_ms() + HELPER_ORPHAN_WAIT_MS;
	int i, n = to->n_to;
	pid_t helper;

	*gone = false;
	pthread_mutex_lock(&d->lock);
	/* every member of a span: they share the workload's pid */
	for (i = 0; i < n; i++) {
		have_src = have_src && gv_store_inst_get(d->st, srcs[i], &src[i], NULL) == 0 &&
			   src[i].wl_pid == m->pid && gvd_workload_alive(&src[i]);
		have_dst = have_dst && to->to[i][0] &&
			   gv_store_inst_get(d->st, to->to[i], &dst[i], NULL) == 0;
		cross = cross && have_src && have_dst &&
			strcmp(src[i].device_uuid, dst[i].device_uuid) != 0;
	}
	if (have_src)
		gvd_bulk_for(d, &src[0], bulk, sizeof(bulk));
	pthread_mutex_unlock(&d->lock);
	if (have_dst && dst[0].wl_pid == m->pid)
		return true; /* the move was recorded */
	if (!have_src) {
		snprintf(msg, cap, "the workload (pid %d) is gone", (int)m->pid);
		*gone = true;
		return false;
	}
	/* the helper outlives the daemon (it is killed only past its
	 * deadline): let it finish what it does, or end it while it still
	 * pre-copies and the workload runs */
	while ((helper = find_helper(src[0].wl_pgid)) > 0 && mono_ms() < until) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (helper > 0) {
		gvd_log(GVD_LOG_WARN,
			"%s: the pre-copy helper (pid %d) of migration %s still runs "
			"after %d s: killed",
			m->src, (int)helper, m->id, HELPER_ORPHAN_WAIT_MS / 1000);
		kill(helper, SIGKILL);
	}
	end = settle_precopy(d, src[0].wl_pgid, &serr);
	if (bulk_released(bulk, src[0].wl_pid)) {
		gvd_log(GVD_LOG_ERROR,
			"%s: workload pid %d lost its GPU memory in the pre-copy of "
			"migration %s",
			m->src, (int)m->pid, m->id);
		snprintf(msg, cap,
			 "the workload's GPU memory is lost (its bulk memory was "
			 "released when the helper died): it stays stopped on %s",
			 src[0].id);
		*gone = true;
		return false;
	}
	/* onto other GPUs, the bulk's GPUs say where the helper left it
	 * (between two instances of one GPU they cannot: it stays where the
	 * store has it, on the GPU where it runs either way) */
	on_dst = end == GV_WL_RUNNING && cross && bulk_on(bulk, src[0].wl_pid, dst, n);
	pthread_mutex_lock(&d->lock);
	if (on_dst && move_workload(d, src, dst, n, &serr))
		gvd_log(GVD_LOG_ERROR,
			"%s: the workload runs on %s but the state database "
			"still has it on %s: %s",
			dst[0].id, dst[0].id, src[0].id, serr.msg);
	for (i = 0; !on_dst && end != GV_WL_RUNNING && i < n; i++)
		if (gv_store_inst_set_wl_state(d->st, src[i].id, end, &serr))
			gvd_log(GVD_LOG_ERROR, "%s: %s", src[i].id, serr.msg);
	pthread_mutex_unlock(&d->lock);
	snprintf(msg, cap, "the workload (pid %d) %s %s", (int)m->pid,
		 end == GV_WL_RUNNING ? "runs on" : "stays suspended on", src[0].id);
	return on_dst;
}

/* Every state the helper reports for the group equals want. */
static bool all_states(json_t *j, const char *want)
{
	json_t *a = json_object_get(j, "states"), *s;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return false;
	json_array_foreach(a, i, s)
		if (!json_is_string(s) || strcmp(json_string_value(s), want))
			return false;
	return true;
}

/* Asks the driver where the workload's CUDA processes are and settles them
 * after a suspend or resume that did not finish (the helper died or gave
 * no answer, or gpuvisord stopped): all checkpointed while suspending ->
 * suspended (it did finish); all running -> running; anything else (locked,
 * checkpointed while resuming, a mix) is resumed -> running, or suspended
 * when even that fails; maps: the --map pairs of a resume onto other GPUs,
 * so that the processes still checkpointed follow those already restored
 * there. Without d->lock (it runs the helper). */
static enum gv_wl_state settle(struct gvd *d, pid_t pgid, enum gv_wl_state was, char *const *maps,
			       int n_maps, struct gv_err *err)
{
	enum gv_wl_state end;
	json_t *j = NULL;

	gv_err_clear(err);
	ckpt_run(d, "state", pgid, NULL, 0, NULL, 0, &j, err);
	if (j && all_states(j, "checkpointed") && was == GV_WL_SUSPENDING) {
		end = GV_WL_SUSPENDED;
	} else if (j && all_states(j, "running")) {
		end = GV_WL_RUNNING;
	} else {
		json_decref(j);
		j = NULL;
		gv_err_clear(err);
		end = ckpt_run(d, "resume", pgid, maps, n_maps, NULL, 0, &j, err) ? GV_WL_SUSPENDED
										  : GV_WL_RUNNING;
	}
	json_decref(j);
	return end;
}

void gvd_suspend_reconcile(struct gvd *d)
{
	struct gv_store_inst *insts = NULL;
	struct gv_err err = { 0 };
	size_t n = 0, i;

	if (gv_store_inst_list(d->st, &insts, &n, &err)) {
		gvd_log(GVD_LOG_ERROR, "suspend reconcile: %s", err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		struct gv_store_inst *in = &insts[i];
		enum gv_wl_state end;

		/* a span is settled once, through its owner, for all members */
		if (in->wl_pid <= 0 ||
		    (in->wl_state != GV_WL_SUSPENDING && in->wl_state != GV_WL_RESUMING) ||
		    !gvd_workload_alive(in) || (in->wl_span[0] && strcmp(in->wl_span, in->id)))
			continue;
		end = settle(d, in->wl_pgid, in->wl_state, NULL, 0, &err);
		gvd_log(GVD_LOG_WARN,
			"%s: workload pid %d was %s when gpuvisord stopped; now %s%s%s", in->id,
			(int)in->wl_pid, gvd_wl_state_name(in->wl_state), gvd_wl_state_name(end),
			err.msg[0] ? ": " : "", err.msg);
		gvd_event(d, "workload.reconciled", -1, in->id,
			  "workload pid %d was %s when gpuvisord stopped; now %s", (int)in->wl_pid,
			  gvd_wl_state_name(in->wl_state), gvd_wl_state_name(end));
		for (size_t k = 0; k < n; k++)
			if ((k == i || (in->wl_span[0] && !strcmp(insts[k].wl_span, in->id))) &&
			    gv_store_inst_set_wl_state(d->st, insts[k].id, end, &err))
				gvd_log(GVD_LOG_ERROR, "%s: %s", insts[k].id, err.msg);
	}
	free(insts);
}

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
 * for other instances of the GPU. Resume onto another instance needs the
 * shim to switch partitions and is not offered yet (docs/migration.md).
 *
 * Crash safety: SUSPENDING / RESUMING are stored before the helper runs; a
 * daemon restarted in between asks the driver (gvd_suspend_reconcile).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* A lock waits for the workload's queued GPU work: a kernel that runs for
 * minutes makes it time out, and the workload keeps running. */
#define LOCK_TIMEOUT_MS 10000
/* The whole helper run: checkpointing 100 GB at the ~2 GB/s an H200 showed
 * (tests/gpu/ckpt-check.h200-580.159.04.txt) takes about a minute. */
#define HELPER_DEADLINE_MS 300000
#define HELPER_OUT_MAX 65536

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

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs gpuvisor-ckpt VERB PGID; *out gets its JSON answer (also when it
 * reports a failure, which is then returned as -EIO with its message). */
static int ckpt_run(struct gvd *d, const char *verb, pid_t pgid, json_t **out, struct gv_err *err)
{
	static char opt_timeout[] = "--timeout-ms";
	char path[PATH_MAX], pg[16], tmo[16], *argv[6], **env = NULL, *buf = NULL;
	size_t len = 0;
	int fds[2] = { -1, -1 }, status = 0, ret = 0;
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
	argv[5] = NULL;
	env = helper_env(d);
	buf = malloc(HELPER_OUT_MAX + 1);
	if (!buf || !env || pipe2(fds, O_CLOEXEC) != 0) {
		ret = gv_err_set(err, ENOMEM, "cannot start the checkpoint helper: %s",
				 strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = gv_err_set(err, errno, "cannot start the checkpoint helper: %s",
				 strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
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
			ret = gv_err_set(err, ETIMEDOUT,
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

/* Loads the instance and checks that its workload can go from `from` to a
 * suspend or resume; sets `through` in the store. Under d->lock. */
static int begin(struct gvd *d, const char *id, bool suspend, struct gv_store_inst *in, int *http,
		 struct gv_err *err)
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
	ret = gvd_mig_busy(d, id, err);
	if (ret)
		return ret;
	*http = 500;
	return gv_store_inst_set_wl_state(d->st, id, suspend ? GV_WL_SUSPENDING : GV_WL_RESUMING,
					  err);
}

static int change(struct gvd *d, const char *id, bool suspend, json_t **report, int *http,
		  struct gv_err *err)
{
	struct gv_store_inst in;
	struct gv_err store_err = { 0 };
	enum gv_wl_state end;
	json_t *j = NULL;
	int ret, gpu = -1;

	*report = NULL;
	ret = begin(d, id, suspend, &in, http, err);
	if (ret)
		return ret;

	/* the driver may take a minute: other requests go on meanwhile, and
	 * see SUSPENDING / RESUMING */
	pthread_mutex_unlock(&d->lock);
	ret = ckpt_run(d, suspend ? "suspend" : "resume", in.wl_pgid, &j, err);
	pthread_mutex_lock(&d->lock);
	/* suspend undoes itself on failure; a failed resume leaves the driver's
	 * checkpoint in place, to be resumed again (the driver has no rollback) */
	end = suspend ? (ret ? GV_WL_RUNNING : GV_WL_SUSPENDED)
		      : (ret ? GV_WL_SUSPENDED : GV_WL_RUNNING);
	if (ret == -ETIMEDOUT)
		end = suspend ? GV_WL_SUSPENDING : GV_WL_RESUMING; /* unknown: reconcile asks */
	if (gv_store_inst_set_wl_state(d->st, id, end, &store_err))
		gvd_log(GVD_LOG_ERROR, "%s: %s", id, store_err.msg);
	{
		struct gvd_view v;

		if (gvd_view_load(d, &v, &store_err) == 0) {
			gpu = gvd_view_gpu_by_uuid(&v, in.gpu_uuid);
			gvd_view_free(&v);
		}
	}
	if (ret)
		gvd_event(d, suspend ? "workload.suspend_failed" : "workload.resume_failed", gpu, id,
			  "%s of workload pid %d failed: %s", suspend ? "suspend" : "resume",
			  (int)in.wl_pid, err->msg);
	else if (suspend)
		gvd_event(d, "workload.suspended", gpu, id,
			  "workload pid %d suspended: its GPU memory is in host memory (lock %.0f ms, "
			  "checkpoint %.0f ms)",
			  (int)in.wl_pid, jms(j, "lock_ms"), jms(j, "checkpoint_ms"));
	else
		gvd_event(d, "workload.resumed", gpu, id,
			  "workload pid %d resumed (restore %.0f ms, unlock %.0f ms)", (int)in.wl_pid,
			  jms(j, "restore_ms"), jms(j, "unlock_ms"));
	if (ret) {
		*http = ret == -ETIMEDOUT ? 504 : 409;
		json_decref(j);
		return ret;
	}
	json_object_del(j, "ok");
	*report = j;
	return 0;
}

int gvd_workload_suspend(struct gvd *d, const char *id, json_t **report, int *http,
			 struct gv_err *err)
{
	return change(d, id, true, report, http, err);
}

int gvd_workload_resume(struct gvd *d, const char *id, json_t **report, int *http,
			struct gv_err *err)
{
	return change(d, id, false, report, http, err);
}

const char *gvd_wl_state_name(enum gv_wl_state s)
{
	switch (s) {
	case GV_WL_RUNNING: return "running";
	case GV_WL_SUSPENDING: return "suspending";
	case GV_WL_SUSPENDED: return "suspended";
	case GV_WL_RESUMING: return "resuming";
	}
	return "unknown";
}

/* Every state the helper reports for the group equals want. */
static bool all_states(json_t *j, const char *want)
{
	json_t *a = json_object_get(j, "states"), *s;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return false;
	json_array_foreach (a, i, s)
		if (!json_is_string(s) || strcmp(json_string_value(s), want))
			return false;
	return true;
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
		json_t *j = NULL;

		if (in->wl_pid <= 0 ||
		    (in->wl_state != GV_WL_SUSPENDING && in->wl_state != GV_WL_RESUMING) ||
		    !gvd_workload_alive(in))
			continue;
		gv_err_clear(&err);
		/* a restart in the middle: ask the driver where the workload is;
		 * a half-done suspend or resume is completed as a resume, so the
		 * workload runs (the safe side: it holds its partition anyway) */
		ckpt_run(d, "state", in->wl_pgid, &j, &err);
		if (j && all_states(j, "checkpointed") && in->wl_state == GV_WL_SUSPENDING) {
			end = GV_WL_SUSPENDED;
		} else if (j && all_states(j, "running")) {
			end = GV_WL_RUNNING;
		} else {
			json_decref(j);
			j = NULL;
			gv_err_clear(&err);
			end = ckpt_run(d, "resume", in->wl_pgid, &j, &err) ? GV_WL_SUSPENDED
									 : GV_WL_RUNNING;
		}
		json_decref(j);
		gvd_log(GVD_LOG_WARN, "%s: workload pid %d was %s when gpuvisord stopped; now %s%s%s",
			in->id, (int)in->wl_pid, gvd_wl_state_name(in->wl_state),
			gvd_wl_state_name(end), err.msg[0] ? ": " : "", err.msg);
		gvd_event(d, "workload.reconciled", -1, in->id,
			  "workload pid %d was %s when gpuvisord stopped; now %s", (int)in->wl_pid,
			  gvd_wl_state_name(in->wl_state), gvd_wl_state_name(end));
		if (gv_store_inst_set_wl_state(d->st, in->id, end, &err))
			gvd_log(GVD_LOG_ERROR, "%s: %s", in->id, err.msg);
	}
	free(insts);
}

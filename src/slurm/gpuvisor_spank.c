/* gpuvisor's SPANK plugin: vGPUs as Slurm job resources.
 *
 *   srun|sbatch|salloc --vgpu=PROFILE[,PROFILE...] ...
 *
 * plugstack.conf: required /usr/lib/x86_64-linux-gnu/slurm/gpuvisor_spank.so
 *                 [socket=/run/gpuvisor/api.sock]   ("%n": the node name)
 *
 * Where each part runs (spank(8); Slurm 22.05's slurmstepd, mgr.c):
 * - every context: slurm_spank_init registers --vgpu; its callback checks
 *   the syntax (srun/sbatch refuse a malformed value before submitting).
 * - slurmstepd, as root, before the tasks are forked (init_post_opt): the
 *   job's instances on this node are found by their owner tag
 *   ("slurm:job:ID", kept by gpuvisord with each instance, so it survives a
 *   daemon restart) or created, one per profile, with that tag; then their
 *   environment (GET /v1/instances/ID/env) is read. A later step of the
 *   same job on the node reuses them; a lock file beside the socket keeps
 *   two steps starting at once from creating them twice. Anything that
 *   fails gives back what this step created and is kept as the step's
 *   reason: every task prints it on its stderr (the job's) and exits 1
 *   before exec (task_init), so the job fails at its start and says why.
 * - slurmstepd, as root, task_post_fork of task 0: the tasks are forked,
 *   all in task 0's process group (mgr.c puts them there before this
 *   call), and wait for slurmstepd before they exec. Task 0's pid is
 *   registered as the workload of the first instance (root in the daemon's
 *   pid namespace may register any group leader: docs/api.md), so the
 *   step's whole process group is the workload and no CUDA call runs
 *   unregistered. A step that finds the instance's workload taken (the
 *   batch script of the same job, a concurrent step) runs without one: its
 *   tasks still get the instance's environment, so its memory partition.
 *   A watcher thread in slurmstepd then follows the group for scontrol
 *   suspend/resume (below).
 * - the task, as the user, just before exec (task_init): the instance's
 *   variables (local task k gets instance k mod N), LD_LIBRARY_PATH with
 *   the shim first, GPUVISOR_PROFILE and GPUVISOR_SLURM_INSTANCES.
 * - slurmstepd at the step's end (slurm_spank_exit): the watcher stops and
 *   the registration is dropped (the instance stays for the job's next
 *   step).
 * - slurmd's job epilog (slurmstepd spank epilog, as root, on every node of
 *   the job however it ended: completed, failed, cancelled, timed out):
 *   every instance tagged with the job is destroyed with force; the
 *   daemon's instance.destroyed event names the job and the peak memory.
 *   An unreachable daemon (restarting) is retried for 30 s.
 *
 * scontrol suspend: slurmstepd sends the step's processes SIGTSTP, 2 s
 * later SIGSTOP, and SIGCONT on resume (req.c, _handle_suspend; SPANK has
 * no suspend callback). The driver's checkpoint needs the process running
 * (its lock waits for the process's own threads), so the watcher, seeing
 * the group's leader stopped for 2.5 s (after Slurm's SIGSTOP), continues
 * the group, has gpuvisord suspend the workload (its GPU memory to host
 * memory), and stops the group again; when the leader runs again (Slurm's
 * SIGCONT) it has the workload resumed; CUDA calls made meanwhile wait for
 * the restore. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "client.h"
#include "vgpu.h"

SPANK_PLUGIN(gpuvisor, 1);

#define GV_SPANK_DEFAULT_SOCKET "/run/gpuvisor/api.sock"
#define GV_SPANK_EPILOG_RETRY_S 30
#define GV_SPANK_WATCH_MS 100
/* Slurm sends SIGSTOP 2 s after SIGTSTP: act only after that */
#define GV_SPANK_STOP_SETTLE_MS 2500

struct gv_spank_inst {
	char id[32];
	char profile[GV_VGPU_NAME_MAX];
	json_t *env; /* GET /env's "env" object, completed */
};

/* One slurmstepd (or srun, sbatch, slurmd) per process: plain statics. */
static char g_vgpu[1024]; /* --vgpu's value, "" when not asked */
static char g_socket_tmpl[PATH_MAX] = GV_SPANK_DEFAULT_SOCKET;
static char g_socket[108]; /* the daemon's socket for this node */
static char g_owner[GV_VGPU_OWNER_MAX];
static struct gv_spank_inst g_inst[GV_VGPU_MAX];
static int g_n_inst;
static char g_fail[GV_ERR_MSG_MAX + 64]; /* why this step cannot run; "" when it can */
static char g_registered[32];		 /* instance whose workload is this step's group */
static pid_t g_pgid;
static pthread_t g_watcher;
static bool g_watching;
static atomic_bool g_stop;

static int gv_spank_opt_cb(int val, const char *optarg, int remote);

/* spank.h's option fields are char *, so the texts are arrays */
static char gv_spank_opt_name[] = "vgpu";
static char gv_spank_opt_arg[] = "PROFILE[,PROFILE...]";
static char gv_spank_opt_usage[] =
	"gpuvisor vGPU instance(s) on each node of the job, e.g. h100-20c (timeslice), "
	"3g.40gb (MIG), passthrough; several profiles: local task k uses the k-th (mod N)";

static struct spank_option gv_spank_opt = {
	gv_spank_opt_name, gv_spank_opt_arg, gv_spank_opt_usage, 1, 0, gv_spank_opt_cb,
};

static int gv_spank_opt_cb(int val, const char *optarg, int remote)
{
	char names[GV_VGPU_MAX][GV_VGPU_NAME_MAX];
	struct gv_err err = { 0 };
	int n;

	if (gv_vgpu_parse(optarg, names, &n, &err) != 0) {
		slurm_error("gpuvisor: %s", err.msg);
		return -1;
	}
	snprintf(g_vgpu, sizeof(g_vgpu), "%s", optarg);
	return 0;
}

/* Plugin arguments from plugstack.conf: socket=TEMPLATE. */
static int gv_spank_args(int ac, char **av)
{
	int i;

	for (i = 0; i < ac; i++) {
		if (strncmp(av[i], "socket=", 7) == 0) {
			snprintf(g_socket_tmpl, sizeof(g_socket_tmpl), "%s", av[i] + 7);
		} else {
			slurm_error("gpuvisor: unknown plugin argument '%s' (plugstack.conf)",
				    av[i]);
			return -1;
		}
	}
	return 0;
}

/* g_socket for this node; slurmstepd and the job epilog have the node name
 * in SLURMD_NODENAME. */
static int gv_spank_resolve_socket(struct gv_err *err)
{
	return gv_vgpu_socket(g_socket_tmpl, getenv("SLURMD_NODENAME"), g_socket, sizeof(g_socket),
			      err);
}

static int gv_spank_call(struct gv_client *c, const char *method, const char *path,
			 const json_t *body, json_t **out, long *status, struct gv_err *err)
{
	json_t *ignored = NULL;
	int rc = gv_client_call(c, method, path, body, out ? out : &ignored, status, err);

	json_decref(ignored);
	return rc;
}

static void gv_spank_free_insts(void)
{
	int i;

	for (i = 0; i < g_n_inst; i++)
		json_decref(g_inst[i].env);
	memset(g_inst, 0, sizeof(g_inst));
	g_n_inst = 0;
}

/* On a simulated node libcudasim needs the daemon's catalog: what `gpuvisor
 * run` adds to /env (docs/api.md, "CLI notes"). */
static int gv_spank_complete_env(struct gv_client *c, json_t *env, struct gv_err *err)
{
	json_t *node = NULL;
	const char *catalog;
	int rc;

	if (!json_object_get(env, "GPUVISOR_SIM_NODE") || json_object_get(env, "GPUVISOR_CATALOG"))
		return 0;
	rc = gv_spank_call(c, "GET", "/v1/node", NULL, &node, NULL, err);
	if (rc)
		goto out;
	catalog = json_string_value(json_object_get(node, "catalog"));
	if (catalog && catalog[0] == '/' &&
	    json_object_set_new(env, "GPUVISOR_CATALOG", json_string(catalog)) < 0)
		rc = gv_err_nomem(err);
out:
	json_decref(node);
	return rc;
}

/* The environment of instance k (its /env, completed). */
static int gv_spank_fetch_env(struct gv_client *c, struct gv_spank_inst *in, struct gv_err *err)
{
	char path[96];
	json_t *resp = NULL, *inst = NULL, *env;
	int rc;

	snprintf(path, sizeof(path), "/v1/instances/%s", in->id);
	rc = gv_spank_call(c, "GET", path, NULL, &inst, NULL, err);
	if (rc)
		goto out;
	snprintf(in->profile, sizeof(in->profile), "%s",
		 json_string_value(json_object_get(inst, "profile")) ?: "");
	snprintf(path, sizeof(path), "/v1/instances/%s/env", in->id);
	rc = gv_spank_call(c, "GET", path, NULL, &resp, NULL, err);
	if (rc)
		goto out;
	env = json_object_get(resp, "env");
	if (!json_is_object(env)) {
		rc = gv_err_set(err, EPROTO, "gpuvisord's answer for %s has no \"env\"", in->id);
		goto out;
	}
	/* the admin socket never goes to a workload (docs/api.md, "Tenants") */
	json_object_del(env, "GPUVISOR_SOCKET");
	rc = gv_spank_complete_env(c, env, err);
	if (rc)
		goto out;
	in->env = json_incref(env);
out:
	json_decref(resp);
	json_decref(inst);
	return rc;
}

/* Destroys (force) the instance id; the reason is logged on failure. */
static void gv_spank_destroy(struct gv_client *c, const char *id)
{
	struct gv_err err = { 0 };
	char path[96];
	long status = 0;

	snprintf(path, sizeof(path), "/v1/instances/%s?force=1", id);
	if (gv_spank_call(c, "DELETE", path, NULL, NULL, &status, &err) != 0 && status != 404)
		slurm_error("gpuvisor: %s: could not give back %s: %s", g_owner, id, err.msg);
}

/* Finds or creates the job's instances on this node (see the top). Holds
 * an flock beside the socket meanwhile. */
static int gv_spank_acquire(struct gv_client *c, struct gv_err *err)
{
	char names[GV_VGPU_MAX][GV_VGPU_NAME_MAX], ids[GV_VGPU_MAX][32], lock[PATH_MAX];
	char created[GV_VGPU_MAX][32];
	json_t *list = NULL, *body = NULL, *resp = NULL;
	int rc, n, have, i, n_created = 0, fd = -1;

	rc = gv_vgpu_parse(g_vgpu, names, &n, err);
	if (rc)
		return rc;
	snprintf(lock, sizeof(lock), "%s.slurm-lock", g_socket);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		slurm_info("gpuvisor: %s: no lock %s (%s): going on without it", g_owner, lock,
			   strerror(errno));
	rc = gv_spank_call(c, "GET", "/v1/instances", NULL, &list, NULL, err);
	if (rc)
		goto out;
	have = gv_vgpu_owned(list, g_owner, ids, GV_VGPU_MAX);
	if (have > 0) {
		for (i = 0; i < have; i++)
			snprintf(g_inst[i].id, sizeof(g_inst[i].id), "%s", ids[i]);
		g_n_inst = have;
	} else {
		for (i = 0; i < n; i++) {
			body = json_pack("{s:s, s:s}", "profile", names[i], "owner", g_owner);
			rc = body ? gv_spank_call(c, "POST", "/v1/instances", body, &resp, NULL,
						  err)
				  : gv_err_nomem(err);
			json_decref(body);
			body = NULL;
			if (rc) {
				gv_err_prefix(err, "no %s instance on this node", names[i]);
				goto out;
			}
			snprintf(created[n_created], 32, "%s",
				 json_string_value(json_object_get(resp, "id")) ?: "");
			snprintf(g_inst[i].id, sizeof(g_inst[i].id), "%s", created[n_created]);
			n_created++;
			g_n_inst = i + 1;
			json_decref(resp);
			resp = NULL;
		}
	}
	for (i = 0; i < g_n_inst; i++) {
		rc = gv_spank_fetch_env(c, &g_inst[i], err);
		if (rc)
			goto out;
	}
	for (i = 0; i < n_created; i++)
		slurm_info("gpuvisor: %s: created %s (%s)", g_owner, g_inst[i].id,
			   g_inst[i].profile);
out:
	if (rc) {
		for (i = 0; i < n_created; i++)
			gv_spank_destroy(c, created[i]);
		gv_spank_free_insts();
	}
	if (fd >= 0)
		close(fd); /* drops the flock */
	json_decref(list);
	json_decref(resp);
	return rc;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	if (gv_spank_args(ac, av) != 0)
		return -1;
	if (spank_option_register(sp, &gv_spank_opt) != ESPANK_SUCCESS) {
		slurm_error("gpuvisor: cannot register --vgpu");
		return -1;
	}
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	struct gv_client *c = NULL;
	struct gv_err err = { 0 };
	uint32_t job = 0, step = 0;
	int rc;

	if (spank_context() != S_CTX_REMOTE || !g_vgpu[0])
		return 0;
	if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS) {
		snprintf(g_fail, sizeof(g_fail), "cannot read the job's id from Slurm");
		return 0;
	}
	/* the extern step (PrologFlags=contain) runs no tasks of the user */
	if (step == SLURM_EXTERN_CONT)
		return 0;
	gv_vgpu_owner(job, g_owner);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = gv_spank_resolve_socket(&err);
	if (!rc)
		rc = gv_client_new(g_socket, &c, &err);
	if (!rc)
		rc = gv_spank_acquire(c, &err);
	if (rc) {
		if (rc == -ENOTCONN)
			snprintf(g_fail, sizeof(g_fail), "--vgpu=%s: gpuvisord at %s: %s", g_vgpu,
				 g_socket, err.msg);
		else
			snprintf(g_fail, sizeof(g_fail), "--vgpu=%s: %s", g_vgpu, err.msg);
		slurm_error("gpuvisor: job %u: %s", job, g_fail);
	}
	gv_client_free(c);
	return 0;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t gv_spank_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state letter of pid, or 0 when it is gone. */
static char gv_spank_proc_state(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	char st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		st = gv_vgpu_stat_state(line);
	fclose(f);
	return st == 'Z' || st == 'X' ? 0 : st;
}

/* POST /v1/instances/ID/{suspend,resume}; 0 or the error, logged. */
static int gv_spank_suspend_call(struct gv_client *c, const char *what)
{
	struct gv_err err = { 0 };
	char path[96];
	int rc;

	snprintf(path, sizeof(path), "/v1/instances/%s/%s", g_registered, what);
	rc = gv_spank_call(c, "POST", path, NULL, NULL, NULL, &err);
	if (rc)
		slurm_error("gpuvisor: %s: %s of %s failed: %s", g_owner, what, g_registered,
			    err.msg);
	else
		slurm_info("gpuvisor: %s: %s %s (process group %d)", g_owner,
			   strcmp(what, "suspend") == 0 ? "suspended" : "resumed", g_registered,
			   (int)g_pgid);
	return rc;
}

/* The watcher (see the top): follows the leader's state every 100 ms. */
static void *gv_spank_watch(void *arg)
{
	struct gv_client *c = arg;
	struct timespec tick = { 0, GV_SPANK_WATCH_MS * 1000000L };
	int64_t stopped_since = 0;
	bool suspended = false, gave_up = false;

	while (!atomic_load(&g_stop)) {
		char st = gv_spank_proc_state(g_pgid);

		if (!st)
			break;
		if (st == 'T' || st == 't') {
			if (!stopped_since) {
				stopped_since = gv_spank_now_ms();
			} else if (!suspended && !gave_up &&
				   gv_spank_now_ms() - stopped_since >= GV_SPANK_STOP_SETTLE_MS) {
				/* the checkpoint needs the group running: continue
				 * it for the driver's lock and checkpoint, then stop
				 * it again as Slurm left it */
				kill(-g_pgid, SIGCONT);
				suspended = gv_spank_suspend_call(c, "suspend") == 0;
				gave_up = !suspended;
				kill(-g_pgid, SIGSTOP);
			}
		} else {
			stopped_since = 0;
			gave_up = false;
			if (suspended) {
				gv_spank_suspend_call(c, "resume");
				suspended = false;
			}
		}
		nanosleep(&tick, NULL);
	}
	gv_client_free(c);
	return NULL;
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
	struct gv_client *c = NULL;
	struct gv_err err = { 0 };
	json_t *body = NULL;
	char path[96];
	long status = 0;
	pid_t pid = 0;
	int task = -1, rc;

	if (spank_context() != S_CTX_REMOTE || g_n_inst == 0 || g_fail[0])
		return 0;
	if (spank_get_item(sp, S_TASK_ID, &task) != ESPANK_SUCCESS || task != 0 ||
	    spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS)
		return 0;
	rc = gv_client_new(g_socket, &c, &err);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "/v1/instances/%s/workload", g_inst[0].id);
	body = json_pack("{s:i}", "pid", (int)pid);
	rc = body ? gv_spank_call(c, "POST", path, body, NULL, &status, &err) : gv_err_nomem(&err);
	if (rc && status == 409) {
		/* the job's batch script or a concurrent step holds it */
		slurm_info("gpuvisor: %s: %s keeps its workload; this step runs in its "
			   "partition unregistered: %s",
			   g_owner, g_inst[0].id, err.msg);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	snprintf(g_registered, sizeof(g_registered), "%s", g_inst[0].id);
	g_pgid = pid;
	atomic_store(&g_stop, false);
	if (pthread_create(&g_watcher, NULL, gv_spank_watch, c) == 0) {
		g_watching = true;
		c = NULL; /* the watcher's now */
	} else {
		slurm_error("gpuvisor: %s: no watcher thread: scontrol suspend will not free "
			    "GPU memory",
			    g_owner);
	}
out:
	if (rc)
		slurm_error("gpuvisor: %s: registering task 0 (pid %d) with %s failed: %s", g_owner,
			    (int)pid, g_inst[0].id, err.msg);
	json_decref(body);
	gv_client_free(c);
	/* a workload the daemon does not know cannot be suspended or
	 * accounted: the step fails (Slurm kills its waiting tasks) */
	return rc ? -1 : 0;
}

/* LD_LIBRARY_PATH with dir first. */
static int gv_spank_prepend_llp(spank_t sp, const char *dir)
{
	char old[4096] = "", *val = NULL;
	int rc;

	if (spank_getenv(sp, "LD_LIBRARY_PATH", old, sizeof(old)) != ESPANK_SUCCESS)
		old[0] = '\0';
	if ((old[0] ? asprintf(&val, "%s:%s", dir, old) : asprintf(&val, "%s", dir)) < 0)
		return -1;
	rc = spank_setenv(sp, "LD_LIBRARY_PATH", val, 1) == ESPANK_SUCCESS ? 0 : -1;
	free(val);
	return rc;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	const struct gv_spank_inst *in;
	char all[GV_VGPU_MAX * (32 + GV_VGPU_NAME_MAX + 2)] = "";
	const char *key;
	json_t *val;
	int task = 0, i;
	size_t len = 0;

	if (spank_context() != S_CTX_REMOTE)
		return 0;
	if (g_fail[0]) {
		/* the task's stderr is the job's: the user reads why here */
		fprintf(stderr, "gpuvisor: job not started: %s\n", g_fail);
		fflush(stderr);
		return -1;
	}
	if (g_n_inst == 0)
		return 0;
	spank_get_item(sp, S_TASK_ID, &task);
	in = &g_inst[gv_vgpu_pick(task, g_n_inst)];
	json_object_foreach(in->env, key, val) {
		const char *s = json_string_value(val);

		if (!s)
			continue;
		if (strcmp(key, "LD_LIBRARY_PATH_PREPEND") == 0) {
			if (gv_spank_prepend_llp(sp, s) != 0)
				goto fail;
		} else if (spank_setenv(sp, key, s, 1) != ESPANK_SUCCESS) {
			goto fail;
		}
	}
	for (i = 0; i < g_n_inst && len < sizeof(all); i++)
		len += (size_t)snprintf(all + len, sizeof(all) - len, "%s%s:%s", i ? "," : "",
					g_inst[i].id, g_inst[i].profile);
	if (spank_setenv(sp, "GPUVISOR_PROFILE", in->profile, 1) != ESPANK_SUCCESS ||
	    spank_setenv(sp, "GPUVISOR_SLURM_INSTANCES", all, 1) != ESPANK_SUCCESS)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "gpuvisor: job not started: cannot set the environment of %s\n", in->id);
	return -1;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	struct gv_client *c = NULL;
	struct gv_err err = { 0 };
	char path[96];
	long status = 0;

	if (spank_context() != S_CTX_REMOTE)
		return 0;
	if (g_watching) {
		atomic_store(&g_stop, true);
		pthread_join(g_watcher, NULL);
		g_watching = false;
	}
	/* the instance stays for the job's next step; its registration goes
	 * (best effort: the daemon also clears a group that is gone) */
	if (g_registered[0] && gv_client_new(g_socket, &c, &err) == 0) {
		snprintf(path, sizeof(path), "/v1/instances/%s/workload", g_registered);
		if (gv_spank_call(c, "DELETE", path, NULL, NULL, &status, &err) != 0 &&
		    status != 404 && status != 409)
			slurm_info("gpuvisor: %s: unregistering %s: %s", g_owner, g_registered,
				   err.msg);
	}
	gv_client_free(c);
	gv_spank_free_insts();
	return 0;
}

/* Gives back every instance tagged with the job. -ENOTCONN when the daemon
 * cannot be reached (the caller retries). */
static int gv_spank_give_back(struct gv_client *c, struct gv_err *err)
{
	char ids[64][32];
	json_t *list = NULL, *arr;
	int rc, n, i;
	size_t k;

	rc = gv_spank_call(c, "GET", "/v1/instances", NULL, &list, NULL, err);
	if (rc)
		return rc;
	n = gv_vgpu_owned(list, g_owner, ids, 64);
	arr = json_object_get(list, "instances");
	for (i = 0; i < n; i++) {
		json_t *peak = NULL;
		const char *profile = "?";

		for (k = 0; k < json_array_size(arr); k++) {
			json_t *o = json_array_get(arr, k);

			if (strcmp(json_string_value(json_object_get(o, "id")) ?: "", ids[i]) ==
			    0) {
				peak = json_object_get(o, "mem_peak_bytes");
				profile = json_string_value(json_object_get(o, "profile")) ?: "?";
			}
		}
		if (json_is_integer(peak))
			slurm_info("gpuvisor: %s: giving back %s (%s), peak %lld bytes", g_owner,
				   ids[i], profile, (long long)json_integer_value(peak));
		else
			slurm_info("gpuvisor: %s: giving back %s (%s)", g_owner, ids[i], profile);
		gv_spank_destroy(c, ids[i]);
	}
	json_decref(list);
	return 0;
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	struct gv_client *c = NULL;
	struct gv_err err = { 0 };
	char *optarg = NULL;
	uint32_t job = 0;
	bool asked;
	int rc, tries;

	/* slurm_spank_init is not called in the job script context: the
	 * plugstack.conf arguments come here too */
	if (gv_spank_args(ac, av) != 0 || spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
		return 0;
	/* a job that asked for --vgpu waits for a restarting daemon; any
	 * other job's epilog only looks once (an instance may outlive a step
	 * that died before it could say so), and quietly */
	asked = spank_option_getopt(sp, &gv_spank_opt, &optarg) == ESPANK_SUCCESS;
	gv_vgpu_owner(job, g_owner);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = gv_spank_resolve_socket(&err);
	if (!rc)
		rc = gv_client_new(g_socket, &c, &err);
	for (tries = 0; !rc || rc == -ENOTCONN; tries++) {
		if (c)
			rc = gv_spank_give_back(c, &err);
		if (rc != -ENOTCONN || !asked || tries >= GV_SPANK_EPILOG_RETRY_S)
			break;
		if (tries == 0)
			slurm_info("gpuvisor: %s: gpuvisord at %s not reachable (%s): retrying "
				   "for %d s",
				   g_owner, g_socket, err.msg, GV_SPANK_EPILOG_RETRY_S);
		sleep(1);
	}
	if (rc && (asked || rc != -ENOTCONN))
		slurm_error("gpuvisor: %s: instances not given back: %s", g_owner, err.msg);
	gv_client_free(c);
	return 0;
}

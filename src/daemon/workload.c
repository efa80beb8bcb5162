/* Workloads bound to instances: registration, liveness, clean-up.
 *
 * A workload is a process group. It is alive while the group has members,
 * unless its number was reused: Linux does not hand out a pid that is still
 * a live group's id, so a group id that now belongs to a leader started
 * after our workload's process must be a new group. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/acct.h"

/* Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; the
 * command name (field 2) may hold spaces and parentheses, so fields are
 * counted after its last ')'. */
static int proc_starttime(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024], *p, *end;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* p[1] is the space before field 3 */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	errno = 0;
	*out = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return -EINVAL;
	return 0;
}

bool gvd_workload_alive(const struct gv_store_inst *in)
{
	uint64_t leader_start;

	if (in->wl_pid <= 0 || in->wl_pgid <= 0)
		return false;
	if (kill(-in->wl_pgid, 0) != 0 && errno == ESRCH)
		return false;
	if (proc_starttime(in->wl_pgid, &leader_start) == 0 && leader_start > in->wl_starttime)
		return false; /* the group id now names a newer group */
	return true;
}

int gvd_workload_attach(struct gvd *d, const char *id, pid_t pid, int *http, struct gv_err *err)
{
	struct gv_store_inst in;
	uint64_t st;
	pid_t pgid;
	int ret, gpu;
	struct gvd_view v;

	*http = 500;
	ret = gv_store_inst_get(d->st, id, &in, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	if (in.wl_pid > 0 && gvd_workload_alive(&in)) {
		*http = 409;
		return gv_err_set(err, EBUSY, "instance %s already has a workload (pid %d)", id,
				  (int)in.wl_pid);
	}
	if (proc_starttime(pid, &st) != 0 || (pgid = getpgid(pid)) < 0) {
		*http = 400;
		return gv_err_set(err, ESRCH, "no process %d", (int)pid);
	}
	if (pgid <= 1 || pgid == getpgrp()) {
		*http = 400;
		return gv_err_set(err, EINVAL,
				  "process %d is in process group %d, which is %s: a workload "
				  "needs its own process group (setsid or setpgid)",
				  (int)pid, (int)pgid, pgid <= 1 ? "init's" : "gpuvisord's");
	}
	ret = gv_store_begin(d->st, err);
	if (ret)
		return ret;
	ret = gv_store_inst_set_workload(d->st, id, pid, pgid, st, (int64_t)time(NULL), err);
	if (!ret) {
		gpu = -1;
		if (gvd_view_load(d, &v, NULL) == 0) {
			gpu = gvd_view_gpu_by_uuid(&v, in.gpu_uuid);
			gvd_view_free(&v);
		}
		gvd_event(d, "workload.attached", gpu, id, "workload pid %d (group %d) on %s",
			  (int)pid, (int)pgid, id);
	}
	ret = gv_store_end(d->st, ret, err);
	if (!ret)
		*http = 200;
	return ret;
}

int gvd_workload_detach(struct gvd *d, const char *id, int *http, struct gv_err *err)
{
	struct gv_store_inst in;
	int ret;

	*http = 500;
	ret = gv_store_inst_get(d->st, id, &in, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	if (in.wl_pid > 0) {
		ret = gv_store_inst_set_workload(d->st, id, 0, 0, 0, 0, err);
		if (ret)
			return ret;
		gvd_event(d, "workload.detached", -1, id, "workload pid %d left %s",
			  (int)in.wl_pid, id);
	}
	*http = 200;
	return 0;
}

void gvd_workload_sweep(struct gvd *d)
{
	struct gv_store_inst *arr = NULL;
	size_t n = 0, i;

	if (gv_store_inst_list(d->st, &arr, &n, NULL) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (arr[i].wl_pid <= 0 || gvd_workload_alive(&arr[i]))
			continue;
		if (gv_store_inst_set_workload(d->st, arr[i].id, 0, 0, 0, 0, NULL) == 0)
			gvd_event(d, "workload.exited", -1, arr[i].id,
				  "workload pid %d of %s exited", (int)arr[i].wl_pid, arr[i].id);
	}
	free(arr);
}

static void reclaim_file(const char *path)
{
	struct gv_acct *a = NULL;
	int n;

	if (gv_acct_open(path, &a, NULL) != 0)
		return;
	n = gv_acct_reclaim_dead(a);
	if (n > 0)
		gvd_log(GVD_LOG_INFO, "%s: gave back the charges of %d dead process(es)", path, n);
	gv_acct_close(a);
}

/* Gives back what dead processes still charge: in every instance's
 * accounting file and, on a simulated node, in every device's (GPUs and
 * MIG devices). A process that exits frees its own charges, one killed
 * (SIGKILL) frees nothing, and a reclaim at the moment its death shows
 * (a migration's end: its control socket closed) may run before the
 * kernel has finished it (a process's sockets close before it is a
 * zombie), when its slots still look alive. This sweep is what makes
 * sure they go back: at most one liveness period after the process is
 * gone. Caller holds d->lock (the backend is queried). */
static void reclaim_dead_charges(struct gvd *d)
{
	struct gv_store_inst *arr = NULL;
	struct gv_node_desc hw;
	char path[PATH_MAX];
	size_t n = 0, i;
	int g, k;

	if (gv_store_inst_list(d->st, &arr, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			gvd_acct_path(d, arr[i].id, path);
			reclaim_file(path);
		}
		free(arr);
	}
	if (!d->sim || d->be->ops->query(d->be, &hw, NULL) != 0)
		return;
	for (g = 0; g < hw.n_gpus; g++) {
		if (gv_acct_sim_path(d->sim_node_path, hw.gpus[g].uuid, path, sizeof(path)) == 0)
			reclaim_file(path);
		for (k = 0; k < hw.gpus[g].n_mig; k++)
			if (hw.gpus[g].mig[k].uuid[0] &&
			    gv_acct_sim_path(d->sim_node_path, hw.gpus[g].mig[k].uuid, path,
					     sizeof(path)) == 0)
				reclaim_file(path);
	}
}

static void *liveness_main(void *arg)
{
	struct gvd *d = arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	int tick = 0;

	while (!atomic_load(&d->stopping)) {
		nanosleep(&ts, NULL);
		if (++tick < 10)
			continue;
		tick = 0;
		pthread_mutex_lock(&d->lock);
		gvd_workload_sweep(d);
		reclaim_dead_charges(d);
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

int gvd_liveness_start(struct gvd *d, pthread_t *th)
{
	int rc = pthread_create(th, NULL, liveness_main, d);

	return rc ? -rc : 0;
}

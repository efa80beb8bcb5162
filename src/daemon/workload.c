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
#include "ctldir.h"
#include "gpuvisor/acct.h"
#include "gpuvisor/proc.h"

bool gvd_workload_alive(const struct gv_store_inst *in)
{
	struct gv_proc_stat leader;

	if (in->wl_pid <= 0 || in->wl_pgid <= 0)
		return false;
	if (kill(-in->wl_pgid, 0) != 0 && errno == ESRCH)
		return false;
	if (gv_proc_stat_read(in->wl_pgid, &leader) == 0 && leader.starttime > in->wl_starttime)
		return false; /* the group id now names a newer group */
	return true;
}

/* Whether pid lives in gpuvisord's pid namespace: only there do the pids
 * in a request body mean what they say to the daemon (a container's root
 * names its own namespace's numbers). */
static bool same_pidns(pid_t pid)
{
	char path[64], mine[64], theirs[64];
	ssize_t a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	a = readlink("/proc/self/ns/pid", mine, sizeof(mine) - 1);
	b = readlink(path, theirs, sizeof(theirs) - 1);
	if (a <= 0 || b <= 0)
		return false;
	mine[a] = theirs[b] = '\0';
	return strcmp(mine, theirs) == 0;
}

/* The rule of docs/api.md ("Workloads"): who may register pid. 0 or -EPERM
 * with the reason (an HTTP 403). The peer must still be the process that
 * connected (started before the request arrived), so a connection handed
 * on to another process and a reused pid do not pass for it. */
static int may_register(const struct gvd_peer *peer, pid_t pid, struct gv_err *err)
{
	struct gv_proc_stat ps;
	int r;

	if (!peer->local)
		return gv_err_set(err, EPERM,
				  "a workload can only be registered on gpuvisord's Unix socket, "
				  "where the kernel tells which process asks: over TCP it cannot "
				  "(run the workload with gpuvisor run on the node)");
	if (gv_proc_stat_read(peer->pid, &ps) != 0 || (peer->since && ps.starttime > peer->since))
		return gv_err_set(err, EPERM,
				  "the process that sent the request (pid %d) is gone: it must "
				  "stay until the answer comes",
				  (int)peer->pid);
	if (peer->uid == 0 && same_pidns(peer->pid))
		return 0; /* root on the node may adopt any process */
	r = peer->pid > 1 ? gv_proc_descends(pid, peer->pid, gv_proc_stat_of, NULL) : 0;
	if (r == 1)
		return 0;
	return gv_err_set(err, EPERM,
			  "process %d is neither the requesting process (pid %d) nor one of its "
			  "descendants: only a workload's own launcher (gpuvisor run) or root "
			  "on the node may register it",
			  (int)pid, (int)peer->pid);
}

static int record(struct gvd *d, const struct gv_store_inst *in, pid_t pid, pid_t pgid,
		  uint64_t starttime, const char *how, const struct gv_apireq_workload *span,
		  int *http, struct gv_err *err);

/* The other members a registration names ("with"): each an instance of
 * its own, passthrough (a whole GPU each; a time-sliced or MIG workload's
 * partition, scheduler attachment and accounting belong to one instance),
 * free and not held by an operation. The owner in is checked the same. */
static int check_with(struct gvd *d, const struct gv_store_inst *in,
		      const struct gv_apireq_workload *req, int *http, struct gv_err *err)
{
	struct gv_store_inst m;
	int i, ret;

	*http = 409;
	if (req->n_with == 0)
		return 0;
	if (in->kind != GV_PROFILE_PASSTHROUGH)
		return gv_err_set(
			err, ENOTSUP,
			"%s is a %s instance: a workload spans passthrough instances only "
			"(one whole GPU each; a time-sliced or MIG partition belongs to "
			"one instance)",
			in->id, gv_profile_kind_name(in->kind));
	for (i = 0; i < req->n_with; i++) {
		if (!strcmp(req->with[i], in->id)) {
			*http = 400;
			return gv_err_set(err, EINVAL,
					  "%s is named twice (as the instance and in "
					  "'with')",
					  in->id);
		}
		ret = gv_store_inst_get(d->st, req->with[i], &m, err);
		if (ret) {
			*http = ret == -ENOENT ? 404 : 500;
			return ret;
		}
		if (m.kind != GV_PROFILE_PASSTHROUGH)
			return gv_err_set(
				err, ENOTSUP,
				"%s is a %s instance: a workload spans passthrough instances "
				"only (one whole GPU each; a time-sliced or MIG partition "
				"belongs to one instance)",
				m.id, gv_profile_kind_name(m.kind));
		if (m.state != GV_INST_READY)
			return gv_err_set(err, EBUSY, "instance %s is not ready", m.id);
		if (m.wl_pid > 0 && gvd_workload_alive(&m))
			return gv_err_set(err, EBUSY, "instance %s already has a workload (pid %d)",
					  m.id, (int)m.wl_pid);
		ret = gvd_busy(d, m.id, err);
		if (ret)
			return ret;
	}
	return 0;
}

int gvd_workload_attach(struct gvd *d, const char *id, const struct gv_apireq_workload *req,
			const struct gvd_peer *peer, int *http, struct gv_err *err)
{
	struct gv_store_inst in;
	struct gv_proc_stat ps, again;
	pid_t pid = req->pid;
	bool found;
	pid_t pgid;
	int ret;

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
	ret = gvd_claim_check(d, id, err);
	if (ret) {
		*http = 409;
		return ret;
	}
	ret = check_with(d, &in, req, http, err);
	if (ret)
		return ret;
	/* read before the checks and compared after: the same process all along */
	found = gv_proc_stat_read(pid, &ps) == 0;
	ret = may_register(peer, pid, err);
	if (ret) {
		*http = 403;
		return ret;
	}
	if (!found) {
		*http = 400;
		return gv_err_set(err, ESRCH, "no process %d", (int)pid);
	}
	pgid = ps.pgid;
	if (pgid <= 1 || pgid == getpgrp()) {
		*http = 400;
		return gv_err_set(err, EINVAL,
				  "process %d is in process group %d, which is %s: a workload "
				  "needs its own process group (setsid or setpgid)",
				  (int)pid, (int)pgid, pgid <= 1 ? "init's" : "gpuvisord's");
	}
	/* a forced destroy kills the group and checks its leader first: the
	 * registered process must be that leader */
	if (pgid != pid) {
		*http = 400;
		return gv_err_set(err, EINVAL,
				  "process %d does not lead its process group (%d): a workload "
				  "is registered by its group's leader (setsid or setpgid(0, 0))",
				  (int)pid, (int)pgid);
	}
	/* the checks read pid's parents: it must be the same process after */
	if (gv_proc_stat_read(pid, &again) != 0 || again.starttime != ps.starttime) {
		*http = 400;
		return gv_err_set(err, ESRCH, "process %d exited while it was checked", (int)pid);
	}
	return record(d, &in, pid, pgid, ps.starttime, "", req, http, err);
}

int gvd_workload_attach_tenant(struct gvd *d, const char *id, const struct gvd_peer *peer,
			       pid_t *pgid_out, int *http, struct gv_err *err)
{
	struct gv_store_inst in;
	struct gv_proc_stat me, leader, again;
	pid_t pgid;
	int ret;

	*http = 500;
	*pgid_out = 0;
	ret = gv_store_inst_get(d->st, id, &in, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	if (!peer->local || peer->pid <= 0 || gv_proc_stat_read(peer->pid, &me) != 0 ||
	    (peer->since && me.starttime > peer->since)) {
		*http = 403;
		return gv_err_set(err, EPERM, "the process that connected is gone");
	}
	pgid = me.pgid;
	if (pgid <= 1 || pgid == getpgrp()) {
		*http = 400;
		return gv_err_set(err, EINVAL,
				  "process %d is in process group %d, which is %s: a workload "
				  "needs its own process group",
				  (int)peer->pid, (int)pgid, pgid <= 1 ? "init's" : "gpuvisord's");
	}
	/* the group's leader is the caller or one of its ancestors: the caller
	 * registers its own group, never a stranger's */
	if (gv_proc_stat_read(pgid, &leader) != 0 ||
	    (pgid != peer->pid && gv_proc_descends(peer->pid, pgid, gv_proc_stat_of, NULL) != 1)) {
		*http = 403;
		return gv_err_set(err, EPERM,
				  "the leader of process %d's group (%d) is gone or is not its "
				  "ancestor: start the workload in a group of its own",
				  (int)peer->pid, (int)pgid);
	}
	if (in.wl_pid > 0 && gvd_workload_alive(&in)) {
		if (in.wl_pgid == pgid && in.wl_starttime == leader.starttime) {
			*pgid_out = pgid; /* another process of the same workload */
			*http = 200;
			return 0;
		}
		*http = 409;
		return gv_err_set(err, EBUSY, "instance %s already has a workload (pid %d)", id,
				  (int)in.wl_pid);
	}
	if (gv_proc_stat_read(pgid, &again) != 0 || again.starttime != leader.starttime) {
		*http = 400;
		return gv_err_set(err, ESRCH, "process %d exited while it was checked", (int)pgid);
	}
	*pgid_out = pgid;
	return record(d, &in, pgid, pgid, leader.starttime, " (tenant endpoint)", NULL, http, err);
}

/* Stores (pid, pgid, start) as in's workload, and as that of every
 * member span names (one transaction: all or none), and says so (an
 * event). */
static int record(struct gvd *d, const struct gv_store_inst *in, pid_t pid, pid_t pgid,
		  uint64_t starttime, const char *how, const struct gv_apireq_workload *span,
		  int *http, struct gv_err *err)
{
	const char *id = in->id;
	int64_t now = (int64_t)time(NULL);
	int n_with = span ? span->n_with : 0, i;
	char with[GV_APIREQ_SPAN_MAX * (GV_APIREQ_ID_MAX + 2) + 16] = "";
	struct gvd_view v;
	int ret, gpu;

	ret = gvd_ctl_prepare(d, id, pid, err);
	if (ret)
		return ret;
	ret = gv_store_begin(d->st, err);
	if (ret)
		return ret;
	ret = gv_store_inst_set_workload(d->st, id, pid, pgid, starttime, now, err);
	if (!ret && n_with)
		ret = gv_store_inst_set_span(d->st, id, id, 0, err);
	for (i = 0; !ret && i < n_with; i++) {
		ret = gv_store_inst_set_workload(d->st, span->with[i], pid, pgid, starttime, now,
						 err);
		if (!ret)
			ret = gv_store_inst_set_span(d->st, span->with[i], id, i + 1, err);
		snprintf(with + strlen(with), sizeof(with) - strlen(with), "%s%s",
			 i ? ", " : " (with ", span->with[i]);
	}
	if (n_with)
		snprintf(with + strlen(with), sizeof(with) - strlen(with), ")");
	if (!ret) {
		gpu = -1;
		if (gvd_view_load(d, &v, NULL) == 0) {
			gpu = gvd_view_gpu_by_uuid(&v, in->gpu_uuid);
			gvd_view_free(&v);
		}
		gvd_event(d, "workload.attached", gpu, id, "workload pid %d (group %d) on %s%s%s",
			  (int)pid, (int)pgid, id, with, how);
	}
	ret = gv_store_end(d->st, ret, err);
	if (!ret)
		*http = 200;
	return ret;
}

int gvd_span_load(struct gvd *d, const char *id, struct gv_store_inst *out, int *n,
		  struct gv_err *err)
{
	struct gv_store_inst *arr = NULL;
	size_t cnt = 0, i;
	int ret, k = 0;

	*n = 0;
	ret = gv_store_inst_get(d->st, id, &out[0], err);
	if (ret)
		return ret;
	if (!out[0].wl_span[0] || out[0].wl_pid <= 0) {
		*n = 1;
		return 0;
	}
	ret = gv_store_inst_list(d->st, &arr, &cnt, err);
	if (ret)
		return ret;
	{
		char owner[GV_STORE_ID_MAX];

		snprintf(owner, sizeof(owner), "%s", out[0].wl_span);
		/* members by their place; a place taken twice or missing (a
		 * hand-edited database) is an error, not a guess */
		for (int pos = 0; pos < GV_APIREQ_SPAN_MAX; pos++) {
			bool found = false;

			for (i = 0; i < cnt; i++)
				if (!strcmp(arr[i].wl_span, owner) && arr[i].wl_span_pos == pos &&
				    arr[i].wl_pid > 0) {
					if (found) {
						ret = gv_err_set(err, EIO,
								 "the span of %s has two members "
								 "at place %d",
								 owner, pos);
						goto out;
					}
					out[k++] = arr[i];
					found = true;
				}
			if (!found)
				break;
		}
		for (i = 0; i < cnt; i++)
			if (!strcmp(arr[i].wl_span, owner) && arr[i].wl_pid > 0 &&
			    arr[i].wl_span_pos >= k) {
				ret = gv_err_set(err, EIO, "the span of %s has a gap before %s",
						 owner, arr[i].id);
				goto out;
			}
	}
	if (k == 0)
		ret = gv_err_set(err, EIO, "the span of %s has no owner", out[0].wl_span);
	*n = k;
out:
	if (ret)
		*n = 0;
	free(arr);
	return ret;
}

int gvd_workload_detach(struct gvd *d, const char *id, int *http, struct gv_err *err)
{
	struct gv_store_inst in[GV_APIREQ_SPAN_MAX];
	int ret, n = 0, i;

	*http = 500;
	ret = gvd_span_load(d, id, in, &n, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	if (in[0].wl_pid <= 0) {
		*http = 200;
		return 0;
	}
	/* the whole span goes: its members hold one workload */
	ret = gv_store_begin(d->st, err);
	for (i = 0; !ret && i < n; i++)
		ret = gv_store_inst_set_workload(d->st, in[i].id, 0, 0, 0, 0, err);
	ret = gv_store_end(d->st, ret, err);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		gvd_event(d, "workload.detached", -1, in[i].id, "workload pid %d left %s",
			  (int)in[i].wl_pid, in[i].id);
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
void gvd_workload_reclaim_charges(struct gvd *d)
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

bool gvd_partition_over(struct gvd *d, const char *id)
{
	for (int k = 0; k < d->n_over; k++)
		if (strcmp(d->over[k], id) == 0)
			return true;
	return false;
}

void gvd_partition_check(struct gvd *d)
{
	struct gv_store_inst *arr = NULL;
	size_t n = 0, i;
	int k;

	if (gv_store_inst_list(d->st, &arr, &n, NULL) != 0)
		return;
	/* forget instances that are gone */
	for (k = 0; k < d->n_over;) {
		bool alive = false;

		for (i = 0; i < n && !alive; i++)
			alive = strcmp(arr[i].id, d->over[k]) == 0;
		if (alive) {
			k++;
			continue;
		}
		memmove(d->over[k], d->over[d->n_over - 1], sizeof(d->over[k]));
		d->n_over--;
	}
	for (i = 0; i < n; i++) {
		int64_t used = gvd_acct_used(d, &arr[i]);
		uint64_t fb = arr[i].fb_mib * 1024 * 1024;
		bool was = gvd_partition_over(d, arr[i].id);

		if (used < 0)
			continue;
		if ((uint64_t)used > fb && !was &&
		    d->n_over < (int)(sizeof(d->over) / sizeof(d->over[0]))) {
			snprintf(d->over[d->n_over++], sizeof(d->over[0]), "%s", arr[i].id);
			gvd_log(GVD_LOG_WARN, "%s uses %lld bytes, over its partition of %llu",
				arr[i].id, (long long)used, (unsigned long long)fb);
			gvd_event(
				d, "instance.over_partition", -1, arr[i].id,
				"%s uses %lld MiB, over its partition of %llu MiB (a tenant wrote "
				"its accounting file or bypassed the shim)",
				arr[i].id, (long long)(used >> 20),
				(unsigned long long)arr[i].fb_mib);
		} else if ((uint64_t)used <= fb && was) {
			for (k = 0; k < d->n_over; k++)
				if (strcmp(d->over[k], arr[i].id) == 0) {
					memmove(d->over[k], d->over[d->n_over - 1],
						sizeof(d->over[k]));
					d->n_over--;
					break;
				}
			gvd_event(d, "instance.within_partition", -1, arr[i].id,
				  "%s is back within its partition", arr[i].id);
		}
	}
	free(arr);
}

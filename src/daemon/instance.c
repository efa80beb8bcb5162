/* Instance and GPU-mode state changes. Every function here runs with
 * d->lock held, so the store, the backend and the accounting files change
 * in one order that reconcile.c can finish or undo after a crash:
 *   create:  row(creating) -> MIG instance / accounting file -> row(ready)
 *   destroy: row(destroying) -> MIG instance / accounting file gone -> row gone
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/acct.h"
#include "gpuvisor/proc.h"

/* The MIG profile the hardware instance is made of. */
static const struct gv_profile *mig_hw_profile(const struct gv_place_result *r)
{
	if (!r->profile)
		return NULL;
	return r->kind == GV_PROFILE_MIG_VGPU ? r->profile->mig : r->profile;
}

static int place_status(int ret)
{
	switch (-ret) {
	case ENOSPC:
	case EBUSY:
	case EEXIST:
	case EAGAIN:
		return 409;
	case EINVAL:
	case ENOENT:
	case ERANGE:
	case EOPNOTSUPP:
		return 400;
	default:
		return 500;
	}
}

int gvd_instance_create(struct gvd *d, const struct gv_apireq_create *req,
			struct gv_store_inst *out, int *http, struct gv_err *err)
{
	return gvd_instance_create_as(d, req, NULL, out, http, err);
}

int gvd_instance_create_as(struct gvd *d, const struct gv_apireq_create *req, const char *id,
			   struct gv_store_inst *out, int *http, struct gv_err *err)
{
	struct gvd_view v;
	struct gv_place_req pr = { 0 };
	struct gv_place_result res;
	struct gv_store_inst in;
	char uuid[GV_UUID_MAX] = "", path[PATH_MAX];
	const struct gv_gpu_info *g;
	int64_t n;
	int ret, gpu = -1;
	bool row = false;

	*http = 500;
	memset(out, 0, sizeof(*out));
	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	if (req->gpu[0]) {
		gpu = gvd_view_gpu_ref(&v, req->gpu, err);
		if (gpu < 0) {
			*http = 400;
			ret = gpu;
			goto out;
		}
	}
	pr.profile = req->profile;
	pr.gpu = gpu;
	pr.start = req->placement;
	pr.fb_mib = req->framebuffer_mib;
	pr.policy = req->spread ? GV_PLACE_SPREAD : GV_PLACE_PACK;
	ret = gv_place(&v.node, &pr, &res, err);
	if (ret) {
		*http = place_status(ret);
		goto out;
	}
	g = &v.hw.gpus[res.gpu];

	memset(&in, 0, sizeof(in));
	snprintf(in.gpu_uuid, sizeof(in.gpu_uuid), "%s", g->uuid);
	snprintf(in.profile, sizeof(in.profile), "%s",
		 res.profile ? res.profile->name : req->profile);
	in.kind = res.kind;
	in.start = gv_profile_kind_is_mig(res.kind) ? res.start : -1;
	in.fb_mib = res.fb_mib;
	in.state = GV_INST_CREATING;
	in.created = (int64_t)time(NULL);
	if (!gv_profile_kind_is_mig(res.kind))
		snprintf(in.device_uuid, sizeof(in.device_uuid), "%s", g->uuid);
	snprintf(in.owner, sizeof(in.owner), "%s", req->owner);

	ret = gv_store_begin(d->st, err);
	if (ret)
		goto out;
	if (id) {
		snprintf(in.id, sizeof(in.id), "%s", id);
		ret = 0;
	} else {
		ret = gv_store_next_id(d->st, "instance", &n, err);
		if (!ret)
			snprintf(in.id, sizeof(in.id), "i-%lld", (long long)n);
	}
	if (!ret)
		ret = gv_store_inst_insert(d->st, &in, err);
	ret = gv_store_end(d->st, ret, err);
	if (ret)
		goto out;
	row = true;

	if (gv_profile_kind_is_mig(res.kind)) {
		const struct gv_profile *hp = mig_hw_profile(&res);

		if (!hp) {
			ret = gv_err_set(err, EINVAL, "profile %s has no MIG profile", in.profile);
			*http = 400;
			goto out;
		}
		ret = d->be->ops->mig_create(d->be, res.gpu, hp, res.start, uuid, err);
		if (ret) {
			gv_err_prefix(err, "gpu %d: creating MIG instance %s at slot %d", res.gpu,
				      hp->name, res.start);
			*http = place_status(ret);
			goto out;
		}
		snprintf(in.device_uuid, sizeof(in.device_uuid), "%s", uuid);
	} else if (res.kind == GV_PROFILE_TIMESLICE) {
		gvd_acct_path(d, in.id, path);
		unlink(path); /* a leftover of an id can only be stale */
		ret = gv_acct_create(path, res.fb_mib * 1024 * 1024, err);
		if (ret)
			goto out;
		gvd_limit_path(d, in.id, path);
		ret = gv_acct_limit_create(path, res.fb_mib * 1024 * 1024, err);
		if (ret) {
			gvd_acct_path(d, in.id, path);
			unlink(path);
			goto out;
		}
		ret = gvd_sched_tenant_add(d, g, &in, err);
		if (ret) {
			gv_err_prefix(err, "gpu %d: registering with the scheduler", res.gpu);
			*http = ret == -ENOSPC ? 409 : 500;
			unlink(path);
			goto out;
		}
	}

	ret = gv_store_begin(d->st, err);
	if (ret)
		goto undo_hw;
	ret = gv_store_inst_set_state(d->st, in.id, GV_INST_READY, in.device_uuid, err);
	if (!ret) {
		char ev[GV_STORE_MSG_MAX];

		if (in.start >= 0)
			snprintf(ev, sizeof(ev), "created %s (%s) on gpu %d at slot %d: %s",
				 in.profile, gv_profile_kind_name(in.kind), res.gpu, in.start,
				 in.device_uuid);
		else
			snprintf(ev, sizeof(ev), "created %s (%s, %llu MiB) on gpu %d", in.profile,
				 gv_profile_kind_name(in.kind), (unsigned long long)in.fb_mib,
				 res.gpu);
		gvd_event(d, "instance.created", res.gpu, in.id, "%s%s%s", ev,
			  in.owner[0] ? " for " : "", in.owner);
	}
	ret = gv_store_end(d->st, ret, err);
	if (ret)
		goto undo_hw;
	in.state = GV_INST_READY;
	gvd_tenant_sync(d); /* its tenant endpoint exists when the answer goes */
	*out = in;
	*http = 201;
	row = false;
	goto out;

undo_hw:
	if (uuid[0])
		d->be->ops->mig_destroy(d->be, res.gpu, uuid, NULL);
	if (res.kind == GV_PROFILE_TIMESLICE) {
		gvd_sched_tenant_del(d, in.gpu_uuid, in.id, false);
		gvd_acct_path(d, in.id, path);
		unlink(path);
		gvd_limit_path(d, in.id, path);
		unlink(path);
	}
out:
	if (row && gv_store_inst_delete(d->st, in.id, NULL) != 0)
		gvd_log(GVD_LOG_ERROR, "cannot remove failed instance %s; restart reconciles it",
			in.id);
	gvd_view_free(&v);
	return ret;
}

int gvd_instance_destroy(struct gvd *d, const char *id, bool force, int *http, struct gv_err *err)
{
	struct gv_store_inst in;
	struct gvd_view v;
	char path[PATH_MAX];
	int64_t peak;
	int ret, gpu;

	*http = 500;
	ret = gv_store_inst_get(d->st, id, &in, err);
	if (ret) {
		*http = ret == -ENOENT ? 404 : 500;
		return ret;
	}
	/* a running migration owns both its instances until it ends, a resume
	 * onto another instance its destination */
	ret = gvd_busy(d, id, err);
	if (ret) {
		*http = 409;
		return ret;
	}
	if (in.wl_pid > 0 && !gvd_workload_alive(&in)) {
		gv_store_inst_set_workload(d->st, id, 0, 0, 0, 0, NULL);
		in.wl_pid = 0;
	}
	if (in.wl_pid > 0 && !force) {
		*http = 409;
		return gv_err_set(err, EBUSY,
				  "instance %s has a running workload (pid %d): stop it first, or "
				  "destroy with force to kill it",
				  id, (int)in.wl_pid);
	}
	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	gpu = gvd_view_gpu_by_uuid(&v, in.gpu_uuid);
	if (in.wl_pid > 0) {
		struct gv_err kerr = { 0 };

		/* pgid was checked at registration to be neither ours nor init's
		 * and to be the registered process's own; the group is signalled
		 * only while its leader still is that process (same start time) */
		if (in.wl_pgid == getpgrp()) {
			gvd_log(GVD_LOG_ERROR, "workload group %d of %s is gpuvisord's: not killed",
				(int)in.wl_pgid, id);
			gvd_event(d, "workload.exited", gpu, id,
				  "workload pid %d of %s was not killed: its group is gpuvisord's",
				  (int)in.wl_pid, id);
		} else if (gv_proc_group_kill(in.wl_pgid, in.wl_starttime, SIGKILL, &kerr) == 0) {
			gvd_event(d, "workload.killed", gpu, id,
				  "killed workload pid %d (group %d)", (int)in.wl_pid,
				  (int)in.wl_pgid);
		} else {
			gvd_log(GVD_LOG_WARN, "workload of %s: nothing killed: %s", id, kerr.msg);
			gvd_event(d, "workload.exited", gpu, id,
				  "workload pid %d of %s was gone, nothing killed: %s",
				  (int)in.wl_pid, id, kerr.msg);
		}
		gv_store_inst_set_workload(d->st, id, 0, 0, 0, 0, NULL);
	}
	ret = gv_store_inst_set_state(d->st, id, GV_INST_DESTROYING, NULL, err);
	if (ret)
		goto out;
	if (gv_profile_kind_is_mig(in.kind) && in.device_uuid[0] && gpu >= 0) {
		ret = d->be->ops->mig_destroy(d->be, gpu, in.device_uuid, err);
		if (ret == -ENOENT) {
			ret = 0;
		} else if (ret) {
			gv_err_prefix(err, "destroying MIG instance %s", in.device_uuid);
			gv_store_inst_set_state(d->st, id, GV_INST_READY, NULL, NULL);
			goto out;
		}
	}
	/* the peak is read before the accounting file goes: what the owner
	 * used is the instance's last word in the events (accounting) */
	peak = gvd_acct_peak(d, &in);
	if (in.kind == GV_PROFILE_TIMESLICE)
		gvd_sched_tenant_del(d, in.gpu_uuid, id, true);
	gvd_acct_path(d, id, path);
	unlink(path);
	gvd_limit_path(d, id, path);
	unlink(path);
	ret = gv_store_begin(d->st, err);
	if (ret)
		goto out;
	ret = gv_store_inst_delete(d->st, id, err);
	if (!ret) {
		char extra[GV_STORE_OWNER_MAX + 64] = "";

		if (in.owner[0])
			snprintf(extra, sizeof(extra), " of %s", in.owner);
		if (peak >= 0)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
				 ", peak %lld bytes", (long long)peak);
		gvd_event(d, "instance.destroyed", gpu, id, "destroyed %s on gpu %d%s%s",
			  in.profile, gpu, extra, force ? " (forced)" : "");
	}
	ret = gv_store_end(d->st, ret, err);
	if (!ret) {
		gvd_tenant_sync(d);
		*http = 200;
	}
out:
	gvd_view_free(&v);
	return ret;
}

int gvd_gpu_set_mode(struct gvd *d, const char *ref, enum gv_mode mode, int *gpu_out, int *http,
		     struct gv_err *err)
{
	struct gvd_view v;
	char ids[256] = "";
	size_t i, len = 0;
	int gi, n = 0, ret;
	const struct gv_gpu_info *g;

	*http = 500;
	*gpu_out = -1;
	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	gi = gvd_view_gpu_ref(&v, ref, err);
	if (gi < 0) {
		*http = 404;
		ret = gi;
		goto out;
	}
	*gpu_out = gi;
	g = &v.hw.gpus[gi];
	if (v.mode[gi] == mode) {
		*http = 200;
		goto out;
	}
	for (i = 0; i < v.n_insts; i++) {
		if (v.gpu_of[i] != gi)
			continue;
		n++;
		if (len < sizeof(ids))
			len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%s",
						n > 1 ? ", " : "", v.insts[i].id);
	}
	if (n > 0) {
		*http = 409;
		ret = gv_err_set(err, EBUSY, "gpu %d has %d instance%s (%s): destroy them first",
				 gi, n, n == 1 ? "" : "s", ids);
		goto out;
	}
	if (mode == GV_MODE_MIG && !g->mig_capable) {
		*http = 409;
		ret = gv_err_set(err, EOPNOTSUPP, "gpu %d (%s) does not support MIG", gi,
				 g->model ? g->model->id : g->name);
		goto out;
	}
	if ((mode == GV_MODE_MIG) != g->mig_mode) {
		ret = d->be->ops->set_mig_mode(d->be, gi, mode == GV_MODE_MIG, err);
		if (ret) {
			gv_err_prefix(err, "gpu %d: turning MIG mode %s", gi,
				      mode == GV_MODE_MIG ? "on" : "off");
			*http = ret == -EBUSY || ret == -EOPNOTSUPP ? 409 : 500;
			goto out;
		}
	}
	ret = gv_store_gpu_set_mode(d->st, g->uuid, mode, err);
	if (ret)
		goto out;
	gvd_event(d, "gpu.mode", gi, NULL, "gpu %d: mode %s -> %s", gi, gv_mode_name(v.mode[gi]),
		  gv_mode_name(mode));
	{
		/* the segment follows the mode; a failure is logged and the
		 * next timeslice instance create tries again */
		struct gv_err serr = { 0 };

		gvd_sched_sync(d, &serr);
	}
	*http = 200;
out:
	gvd_view_free(&v);
	return ret;
}

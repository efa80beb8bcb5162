/* Start-up reconciliation: after any crash, make the store and the hardware
 * agree before the API opens.
 *   creating   -> roll back (destroy the MIG instance at that placement if
 *                 the hardware has one, remove the accounting file and row)
 *   destroying -> finish
 *   ready, GPU or MIG instance gone -> removed, with an event
 *   MIG instance the store does not know -> adopted, with an event
 *   workloads whose process group died -> cleared
 *   timeslice instance without accounting file -> file recreated */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/acct.h"

#define GVD_EVENTS_KEEP 100000

static const struct gv_mig_inst *hw_mig_find(const struct gv_gpu_info *g, const char *uuid,
					     int start)
{
	int i;

	for (i = 0; i < g->n_mig; i++) {
		if (uuid && uuid[0] ? strcmp(g->mig[i].uuid, uuid) == 0 : g->mig[i].start == start)
			return &g->mig[i];
	}
	return NULL;
}

static int drop_row(struct gvd *d, const struct gv_store_inst *in, int gpu, const char *kind,
		    const char *why, struct gv_err *err)
{
	char path[PATH_MAX];
	int ret;

	gvd_acct_path(d, in->id, path);
	unlink(path);
	ret = gv_store_begin(d->st, err);
	if (ret)
		return ret;
	ret = gv_store_inst_delete(d->st, in->id, err);
	if (!ret)
		gvd_event(d, kind, gpu, in->id, "%s %s: %s", in->id, in->profile, why);
	return gv_store_end(d->st, ret, err);
}

/* An accounting file an older gpuvisord wrote in another format: the shim
 * of this version cannot open it, so it is replaced while no workload
 * uses the instance (a workload still running keeps the file it has). */
static void refresh_acct(const struct gv_store_inst *in, const char *path)
{
	struct gv_acct *a = NULL;
	struct gv_err e = { 0 };

	if (in->wl_pid > 0 || access(path, F_OK) != 0)
		return;
	if (gv_acct_open(path, &a, &e) == 0) {
		gv_acct_close(a);
		return;
	}
	if (unlink(path) == 0)
		gvd_log(GVD_LOG_INFO, "%s: replaced its accounting file (%s)", in->id, e.msg);
}

static int fix_rows(struct gvd *d, struct gv_err *err)
{
	struct gvd_view v;
	size_t i;
	int ret;

	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	for (i = 0; i < v.n_insts && !ret; i++) {
		const struct gv_store_inst *in = &v.insts[i];
		int g = v.gpu_of[i];
		const struct gv_gpu_info *gi = g >= 0 ? &v.hw.gpus[g] : NULL;
		const struct gv_mig_inst *mi = NULL;

		if (gi && gv_profile_kind_is_mig(in->kind))
			mi = hw_mig_find(gi, in->device_uuid, in->start);
		switch (in->state) {
		case GV_INST_CREATING:
		case GV_INST_DESTROYING:
			if (mi) {
				ret = d->be->ops->mig_destroy(d->be, g, mi->uuid, err);
				if (ret == -ENOENT)
					ret = 0;
				if (ret)
					break;
			}
			ret = drop_row(
				d, in, g,
				in->state == GV_INST_CREATING ? "instance.rolled_back"
							      : "instance.destroyed",
				in->state == GV_INST_CREATING
					? "creation interrupted by a daemon crash; rolled back"
					: "destruction interrupted by a daemon crash; finished",
				err);
			break;
		case GV_INST_READY:
			if (!gi)
				ret = drop_row(d, in, -1, "instance.vanished",
					       "its GPU is no longer on this node", err);
			else if (gv_profile_kind_is_mig(in->kind) && (!gi->mig_mode || !mi))
				ret = drop_row(d, in, g, "instance.vanished",
					       "its MIG instance no longer exists on the GPU", err);
			else if (in->kind == GV_PROFILE_TIMESLICE) {
				char path[PATH_MAX];

				gvd_acct_path(d, in->id, path);
				refresh_acct(in, path);
				if (access(path, F_OK) != 0 &&
				    gv_acct_create(path, in->fb_mib * 1024 * 1024, err) != 0)
					gvd_log(GVD_LOG_WARN, "%s: %s", in->id, err->msg);
			}
			break;
		}
	}
	gvd_view_free(&v);
	return ret;
}

static int adopt_mig(struct gvd *d, struct gv_err *err)
{
	struct gvd_view v;
	size_t i;
	int g, k, ret;

	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	for (g = 0; g < v.hw.n_gpus && !ret; g++) {
		const struct gv_gpu_info *gi = &v.hw.gpus[g];

		for (k = 0; k < gi->n_mig && !ret; k++) {
			const struct gv_mig_inst *mi = &gi->mig[k];
			struct gv_store_inst in = { 0 };
			bool known = false;
			int64_t n;

			for (i = 0; i < v.n_insts; i++)
				if (strcmp(v.insts[i].device_uuid, mi->uuid) == 0)
					known = true;
			if (known || !mi->profile)
				continue;
			snprintf(in.gpu_uuid, sizeof(in.gpu_uuid), "%s", gi->uuid);
			snprintf(in.profile, sizeof(in.profile), "%s", mi->profile->name);
			snprintf(in.device_uuid, sizeof(in.device_uuid), "%s", mi->uuid);
			in.kind = GV_PROFILE_MIG;
			in.start = mi->start;
			in.fb_mib = mi->profile->fb_mib;
			in.state = GV_INST_READY;
			in.created = (int64_t)time(NULL);
			ret = gv_store_begin(d->st, err);
			if (ret)
				break;
			ret = gv_store_next_id(d->st, "instance", &n, err);
			if (!ret) {
				snprintf(in.id, sizeof(in.id), "i-%lld", (long long)n);
				ret = gv_store_inst_insert(d->st, &in, err);
			}
			if (!ret)
				ret = gv_store_gpu_set_mode(d->st, gi->uuid, GV_MODE_MIG, err);
			if (!ret) {
				gvd_event(d, "instance.adopted", g, in.id,
					  "adopted MIG instance %s (%s at slot %d) found on gpu %d",
					  mi->uuid, mi->profile->name, mi->start, g);
			}
			ret = gv_store_end(d->st, ret, err);
		}
	}
	gvd_view_free(&v);
	return ret;
}

int gvd_reconcile(struct gvd *d, struct gv_err *err)
{
	int ret;

	ret = fix_rows(d, err);
	if (!ret)
		ret = adopt_mig(d, err);
	if (!ret)
		gvd_workload_sweep(d);
	/* the event log is bounded; old events go at start, never mid-run */
	if (!ret && gv_store_event_prune(d->st, GVD_EVENTS_KEEP, err) != 0)
		gvd_log(GVD_LOG_WARN, "cannot prune old events: %s", err->msg);
	if (ret)
		gv_err_prefix(err, "reconciling state with the hardware");
	return ret;
}

/* gpuvisord's side of the time-slice scheduler (docs/scheduler.md): one
 * segment per timeslice GPU at <run-dir>/sched/<gpu uuid>.sched, its policy
 * and slice kept in the store and replayed at start, one tenant per
 * timeslice instance. Every function here runs with d->lock held (the
 * daemon is the only writer of tenant slots and the policy request).
 *
 * A segment outlives the daemon: running tenants keep scheduling each
 * other while it restarts, and a restarted daemon adopts the file instead
 * of recreating it (containers bind-mount its inode). It is unlinked only
 * when its GPU leaves timeslice mode, which the daemon allows only when the
 * GPU has no instances. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/rundir.h"

/* A workload killed by a forced destroy takes a moment to die; its
 * scheduler client counts as attached until the kernel has torn it down. */
#define GVD_SCHED_REMOVE_WAIT_MS 2000

void gvd_sched_path(struct gvd *d, const char *gpu_uuid, char out[PATH_MAX])
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_SCHED, gpu_uuid, out, PATH_MAX);
}

static struct gvd_sched_gpu *slot_of(struct gvd *d, const char *gpu_uuid, bool make)
{
	struct gvd_sched_gpu *free_slot = NULL;
	int i;

	for (i = 0; i < GV_NODE_MAX_GPUS; i++) {
		if (d->sched[i].s && strcmp(d->sched[i].uuid, gpu_uuid) == 0)
			return &d->sched[i];
		if (!d->sched[i].s && !free_slot)
			free_slot = &d->sched[i];
	}
	return make ? free_slot : NULL;
}

struct gv_sched *gvd_sched_of(struct gvd *d, const char *gpu_uuid)
{
	struct gvd_sched_gpu *g = slot_of(d, gpu_uuid, false);

	return g ? g->s : NULL;
}

/* The stored policy and slice of a GPU, else the defaults (best effort, as
 * in NVIDIA vGPU, 2 ms). A stored fixed share on a mixed-size node (the
 * daemon restarted with --mixed-size) becomes equal share. */
int gvd_sched_settings(struct gvd *d, const char *gpu_uuid, enum gv_sched_policy *policy,
		       uint32_t *slice_us)
{
	char name[32];
	uint32_t us = 0;
	struct gv_err err = { 0 };

	*policy = GV_SCHED_BEST_EFFORT;
	*slice_us = GV_SCHED_SLICE_DEFAULT_US;
	if (gv_store_gpu_get_sched(d->st, gpu_uuid, name, sizeof(name), &us, &err) != 0)
		return 0;
	if (gv_sched_policy_parse(name, policy, NULL) != 0 || us < GV_SCHED_SLICE_MIN_US ||
	    us > GV_SCHED_SLICE_MAX_US) {
		gvd_log(GVD_LOG_WARN,
			"gpu %s: stored scheduler settings '%s' %u us are invalid; "
			"using best-effort, 2 ms",
			gpu_uuid, name, us);
		*policy = GV_SCHED_BEST_EFFORT;
		return 0;
	}
	*slice_us = us;
	if (*policy == GV_SCHED_FIXED_SHARE && d->o.mixed_size) {
		gvd_log(GVD_LOG_WARN,
			"gpu %s: fixed-share is not available in mixed-size mode; "
			"using equal-share",
			gpu_uuid);
		*policy = GV_SCHED_EQUAL_SHARE;
	}
	return 0;
}

uint32_t gvd_sched_share_ppm(struct gvd *d, const struct gv_gpu_info *g,
			     const struct gv_store_inst *in)
{
	const struct gv_profile *p = g->model ? gv_model_find_profile(g->model, in->profile) : NULL;
	int n = 0;

	if (p && p->kind == GV_PROFILE_TIMESLICE)
		n = d->o.mixed_size && p->max_mixed > 0 ? p->max_mixed : p->max_count;
	if (n > 0)
		return GV_SCHED_SHARE_FULL / (uint32_t)n;
	/* a size the catalog does not name: its part of the framebuffer */
	if (g->mem_mib == 0 || in->fb_mib >= g->mem_mib)
		return GV_SCHED_SHARE_FULL;
	return (uint32_t)(in->fb_mib * GV_SCHED_SHARE_FULL / g->mem_mib);
}

static int tenant_set(struct gvd *d, struct gv_sched *s, const struct gv_gpu_info *g,
		      const struct gv_store_inst *in, struct gv_err *err)
{
	uint32_t w = 1;
	int ret;

	if (gv_store_inst_get_weight(d->st, in->id, &w, NULL) != 0 || w < GV_SCHED_WEIGHT_MIN ||
	    w > GV_SCHED_WEIGHT_MAX)
		w = 1;
	ret = gv_sched_tenant_set(s, in->id, w, gvd_sched_share_ppm(d, g, in), err);
	return ret < 0 ? ret : 0;
}

/* Forgets tenants whose instance is gone (a removal that found a process
 * still attached, or a crash between the row and the segment). */
static void drop_stale_tenants(struct gvd *d, struct gv_sched *s, const struct gvd_view *v)
{
	struct gv_sched_stats *st = calloc(1, sizeof(*st));
	size_t t, i;

	if (!st || gv_sched_stats(s, st, NULL) != 0)
		goto out;
	for (t = 0; t < st->n_tenants; t++) {
		const char *id = st->tenants[t].instance_id;
		bool known = false;

		for (i = 0; i < v->n_insts && !known; i++)
			known = strcmp(v->insts[i].id, id) == 0 &&
				v->insts[i].kind == GV_PROFILE_TIMESLICE;
		if (!known && gv_sched_tenant_remove(s, id, NULL) == 0)
			gvd_log(GVD_LOG_INFO, "scheduler: removed tenant %s of a gone instance",
				id);
	}
out:
	free(st);
}

/* Creates or adopts the segment of timeslice GPU gi and makes it agree with
 * the store: policy, slice, one tenant per timeslice instance. */
static int ensure(struct gvd *d, const struct gvd_view *v, int gi, struct gv_err *err)
{
	const struct gv_gpu_info *g = &v->hw.gpus[gi];
	struct gvd_sched_gpu *slot = slot_of(d, g->uuid, true);
	enum gv_sched_policy pol;
	char path[PATH_MAX];
	uint32_t us;
	size_t i;
	int ret, n = 0;

	if (!slot)
		return gv_err_set(err, ENOSPC, "too many scheduler segments");
	gvd_sched_settings(d, g->uuid, &pol, &us);
	gvd_sched_path(d, g->uuid, path);
	if (!slot->s) {
		/* group members' workloads map their GPU's segment from here;
		 * set-group-ID gives the segments the group */
		ret = gvd_mkdir_p(d->sched_dir, 0750, err);
		if (!ret)
			ret = gvd_group_share(d, d->sched_dir, 02750, err);
		if (ret)
			return ret;
		for (i = 0; i < v->n_insts; i++)
			n += v->gpu_of[i] == gi;
		ret = gv_sched_create(path, pol, us, &slot->s, err);
		if (ret == -EPROTO && n == 0) {
			/* nobody can be using a segment of a GPU without instances */
			gvd_log(GVD_LOG_WARN, "%s: %s; replacing it", path, err->msg);
			unlink(path);
			ret = gv_sched_create(path, pol, us, &slot->s, err);
		}
		if (ret)
			return ret;
		snprintf(slot->uuid, sizeof(slot->uuid), "%s", g->uuid);
	}
	ret = gv_sched_set_policy(slot->s, pol, us, err);
	for (i = 0; !ret && i < v->n_insts; i++)
		if (v->gpu_of[i] == gi && v->insts[i].kind == GV_PROFILE_TIMESLICE)
			ret = tenant_set(d, slot->s, g, &v->insts[i], err);
	if (!ret)
		drop_stale_tenants(d, slot->s, v);
	return ret;
}

static void close_gpu(struct gvd *d, const char *gpu_uuid, bool unlink_file)
{
	struct gvd_sched_gpu *slot = slot_of(d, gpu_uuid, false);
	char path[PATH_MAX];

	if (slot) {
		gv_sched_free(slot->s);
		memset(slot, 0, sizeof(*slot));
	}
	if (unlink_file) {
		gvd_sched_path(d, gpu_uuid, path);
		if (unlink(path) == 0)
			gvd_log(GVD_LOG_INFO, "scheduler: removed %s", path);
	}
}

int gvd_sched_sync(struct gvd *d, struct gv_err *err)
{
	struct gvd_view v;
	int gi, ret, first = 0;

	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	for (gi = 0; gi < v.hw.n_gpus; gi++) {
		const struct gv_gpu_info *g = &v.hw.gpus[gi];
		struct gv_err gerr = { 0 };
		size_t i;
		int n = 0;

		if (v.mode[gi] == GV_MODE_TIMESLICE) {
			ret = ensure(d, &v, gi, &gerr);
			if (ret) {
				gvd_log(GVD_LOG_ERROR, "gpu %d: scheduler: %s", gi, gerr.msg);
				if (!first)
					first = gv_err_set(err, -ret, "gpu %d: scheduler: %s", gi,
							   gerr.msg);
			}
			continue;
		}
		for (i = 0; i < v.n_insts; i++)
			n += v.gpu_of[i] == gi;
		if (n == 0)
			close_gpu(d, g->uuid, true);
	}
	gvd_view_free(&v);
	return first;
}

void gvd_sched_close_all(struct gvd *d)
{
	int i;

	for (i = 0; i < GV_NODE_MAX_GPUS; i++) {
		gv_sched_free(d->sched[i].s);
		memset(&d->sched[i], 0, sizeof(d->sched[i]));
	}
}

int gvd_sched_tenant_add(struct gvd *d, const struct gv_gpu_info *g, const struct gv_store_inst *in,
			 struct gv_err *err)
{
	struct gv_sched *s = gvd_sched_of(d, g->uuid);

	if (!s) {
		/* the segment could not be made when the GPU entered timeslice
		 * mode (or at start): try again now */
		int ret = gvd_sched_sync(d, err);

		s = gvd_sched_of(d, g->uuid);
		if (!s)
			return ret ? ret
				   : gv_err_set(err, EIO, "no scheduler segment for %s", g->uuid);
	}
	return tenant_set(d, s, g, in, err);
}

void gvd_sched_tenant_del(struct gvd *d, const char *gpu_uuid, const char *id, bool wait)
{
	struct gv_sched *s = gvd_sched_of(d, gpu_uuid);
	struct gv_err err = { 0 };
	int ret, waited = 0;

	if (!s)
		return;
	for (;;) {
		ret = gv_sched_tenant_remove(s, id, &err);
		if (ret != -EBUSY || !wait || waited >= GVD_SCHED_REMOVE_WAIT_MS)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		waited += 10;
	}
	if (ret && ret != -ENOENT)
		gvd_log(GVD_LOG_WARN, "scheduler: %s (the tenant is dropped once it detaches)",
			err.msg);
}

char *gvd_sched_metrics(struct gvd *d, const struct gvd_view *v)
{
	struct gv_sched_stats *st = calloc(1, sizeof(*st));
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "gpuvisor_sched_gpu_time_seconds_total", "counter",
		  "GPU time a timeslice instance held the slice (overruns included)." },
		{ "gpuvisor_sched_share_last_second", "gauge",
		  "Part of the last second a timeslice instance held the GPU (0-1)." },
		{ "gpuvisor_sched_wait_seconds_total", "counter",
		  "Time a timeslice instance's processes waited for the slice." },
		{ "gpuvisor_sched_slices_total", "counter", "Slices a timeslice instance took." },
		{ "gpuvisor_sched_overruns_total", "counter",
		  "Slices that ran more than 10% past their length." },
	};
	struct gv_sched *segs[GV_NODE_MAX_GPUS] = { 0 };
	char *text = NULL;
	size_t len = 0, k, t;
	FILE *f;
	int g;

	if (!st)
		return NULL;
	f = open_memstream(&text, &len);
	if (!f) {
		free(st);
		return NULL;
	}
	for (g = 0; g < v->hw.n_gpus; g++)
		if (v->mode[g] == GV_MODE_TIMESLICE)
			segs[g] = gvd_sched_of(d, v->hw.gpus[g].uuid);
	fputs("# HELP gpuvisor_sched_info Scheduler policy of a timeslice GPU (value 1).\n"
	      "# TYPE gpuvisor_sched_info gauge\n",
	      f);
	for (g = 0; g < v->hw.n_gpus; g++)
		if (segs[g] && gv_sched_stats(segs[g], st, NULL) == 0)
			fprintf(f, "gpuvisor_sched_info{gpu=\"%d\",uuid=\"%s\",policy=\"%s\"} 1\n",
				g, v->hw.gpus[g].uuid, gv_sched_policy_name(st->policy_requested));
	fputs("# HELP gpuvisor_sched_slice_seconds Time slice length of a timeslice GPU.\n"
	      "# TYPE gpuvisor_sched_slice_seconds gauge\n",
	      f);
	for (g = 0; g < v->hw.n_gpus; g++)
		if (segs[g] && gv_sched_stats(segs[g], st, NULL) == 0)
			fprintf(f, "gpuvisor_sched_slice_seconds{gpu=\"%d\"} %.3f\n", g,
				st->slice_us_requested / 1e6);
	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name,
			m[k].type);
		for (g = 0; g < v->hw.n_gpus; g++) {
			if (!segs[g] || gv_sched_stats(segs[g], st, NULL) != 0)
				continue;
			for (t = 0; t < st->n_tenants; t++) {
				const struct gv_sched_tenant_stats *ts = &st->tenants[t];
				double val = k == 0   ? ts->used_ns / 1e9
					     : k == 1 ? ts->share_1s_ppm / 1e6
					     : k == 2 ? ts->wait_ns / 1e9
					     : k == 3 ? (double)ts->slices
						      : (double)ts->overruns;

				fprintf(f, "%s{instance=\"%s\",gpu=\"%d\"} %.9g\n", m[k].name,
					ts->instance_id, g, val);
			}
		}
	}
	free(st);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* /v1/gpus/{gpu}/sched (GET, PUT) and /v1/instances/{id}/weight (PUT):
 * the time-slice scheduler of a timeslice GPU (docs/api.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* The GPU of the request's path, in timeslice mode with its segment open;
 * -1 with the response set otherwise. */
static int sched_gpu(struct gvd_req *q, struct gvd_resp *r, struct gvd_view *v, struct gv_sched **s)
{
	struct gv_err err = { 0 };
	int g;

	g = gvd_view_gpu_ref(v, q->seg[2], &err);
	if (g < 0) {
		gvd_resp_fail(r, 404, &err);
		return -1;
	}
	if (v->mode[g] != GV_MODE_TIMESLICE) {
		gvd_resp_error(r, 409,
			       "gpu %d is in %s mode: the time-slice scheduler runs on timeslice "
			       "GPUs (gpuvisor mode %d timeslice)",
			       g, gv_mode_name(v->mode[g]), g);
		return -1;
	}
	*s = gvd_sched_of(q->d, v->hw.gpus[g].uuid);
	if (!*s) {
		gvd_sched_sync(q->d, &err);
		*s = gvd_sched_of(q->d, v->hw.gpus[g].uuid);
	}
	if (!*s) {
		gvd_resp_error(r, 500, "gpu %d has no scheduler segment: %s", g,
			       err.msg[0] ? err.msg : "unknown error");
		return -1;
	}
	return g;
}

static json_t *tenant_json(const struct gv_sched_tenant_stats *t)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:b}",
			 "instance", t->instance_id, "weight", (json_int_t)t->weight, "share_ppm",
			 (json_int_t)t->share_ppm, "gpu_time_ns", (json_int_t)t->used_ns,
			 "share_last_s", t->share_1s_ppm / 1e6, "wait_ns", (json_int_t)t->wait_ns,
			 "slices", (json_int_t)t->slices, "overruns", (json_int_t)t->overruns,
			 "overrun_ns", (json_int_t)t->overrun_ns, "revocations",
			 (json_int_t)t->revocations, "processes", (json_int_t)t->procs, "waiting",
			 t->waiting, "holding", t->holding);
}

/* policy/slice_ms: what was asked for last (in force from the next
 * handover); *_in_force: what the tenants run under now. */
static json_t *sched_json(struct gvd *d, const struct gvd_view *v, int g,
			  const struct gv_sched_stats *st)
{
	json_t *tenants = json_array(), *holder = json_null();
	char path[PATH_MAX];
	size_t i;

	for (i = 0; tenants && i < st->n_tenants; i++) {
		json_array_append_new(tenants, tenant_json(&st->tenants[i]));
		if (st->tenants[i].holding) {
			json_decref(holder);
			holder = json_string(st->tenants[i].instance_id);
		}
	}
	gvd_sched_path(d, v->hw.gpus[g].uuid, path);
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:I, s:o, s:o}", "gpu", g,
			 "uuid", v->hw.gpus[g].uuid, "segment", path, "policy",
			 gv_sched_policy_name(st->policy_requested), "slice_ms",
			 (json_int_t)(st->slice_us_requested / 1000), "policy_in_force",
			 gv_sched_policy_name(st->policy), "slice_ms_in_force",
			 (json_int_t)(st->slice_us / 1000), "mixed_size", d->o.mixed_size,
			 "handovers", (json_int_t)st->handovers, "holder", holder, "tenants",
			 tenants);
}

static void reply_sched(struct gvd_req *q, struct gvd_resp *r, struct gvd_view *v, int g,
			struct gv_sched *s)
{
	struct gv_sched_stats *st = calloc(1, sizeof(*st));
	struct gv_err err = { 0 };

	if (!st) {
		gvd_resp_error(r, 500, "out of memory");
		return;
	}
	if (gv_sched_stats(s, st, &err) != 0)
		gvd_resp_fail(r, 500, &err);
	else
		gvd_resp_json(r, 200, sched_json(q->d, v, g, st));
	free(st);
}

void gvd_route_gpu_sched(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gv_sched *s = NULL;
	struct gvd_view v;
	int g;

	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	g = sched_gpu(q, r, &v, &s);
	if (g >= 0)
		reply_sched(q, r, &v, g, s);
	gvd_view_free(&v);
}

void gvd_route_gpu_sched_set(struct gvd_req *q, struct gvd_resp *r)
{
	struct gvd *d = q->d;
	struct gv_err err = { 0 };
	struct gv_apireq_sched req;
	struct gv_sched *s = NULL;
	struct gvd_view v;
	enum gv_sched_policy pol, old_pol;
	uint32_t us, old_us;
	const char *uuid;
	int g, ret;

	ret = gv_apireq_sched_parse(q->body, q->body_len, &req, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	if (gvd_view_load(d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	g = sched_gpu(q, r, &v, &s);
	if (g < 0)
		goto out;
	uuid = v.hw.gpus[g].uuid;
	gvd_sched_settings(d, uuid, &old_pol, &old_us);
	pol = req.has_policy ? req.policy : old_pol;
	us = req.has_slice ? req.slice_ms * 1000 : old_us;
	if (pol == GV_SCHED_FIXED_SHARE && d->o.mixed_size) {
		gvd_resp_error(r, 409,
			       "gpu %d: fixed-share is not available in mixed-size mode (as in "
			       "NVIDIA vGPU): use best-effort or equal-share",
			       g);
		goto out;
	}
	/* the store first: a failure there leaves the segment as it was */
	ret = gv_store_gpu_set_sched(d->st, uuid, gv_sched_policy_name(pol), us, &err);
	if (!ret) {
		ret = gv_sched_set_policy(s, pol, us, &err);
		if (ret)
			gv_store_gpu_set_sched(d->st, uuid, gv_sched_policy_name(old_pol), old_us,
					       NULL);
	}
	if (ret) {
		gvd_resp_fail(r, ret == -EINVAL ? 400 : 500, &err);
		goto out;
	}
	if (pol != old_pol || us != old_us)
		gvd_event(d, "sched.policy", g, NULL, "gpu %d: scheduler %s, %u ms -> %s, %u ms", g,
			  gv_sched_policy_name(old_pol), old_us / 1000, gv_sched_policy_name(pol),
			  us / 1000);
	reply_sched(q, r, &v, g, s);
out:
	gvd_view_free(&v);
}

void gvd_route_instance_weight(struct gvd_req *q, struct gvd_resp *r)
{
	struct gvd *d = q->d;
	struct gv_err err = { 0 };
	struct gv_store_inst in;
	struct gv_sched *s;
	struct gvd_view v;
	uint32_t w, old = 1;
	int g, ret;

	ret = gv_apireq_weight_parse(q->body, q->body_len, &w, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gv_store_inst_get(d->st, q->seg[2], &in, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	if (in.kind != GV_PROFILE_TIMESLICE) {
		gvd_resp_error(r, 409,
			       "instance %s is a %s instance: weights apply to timeslice instances",
			       in.id, gv_profile_kind_name(in.kind));
		return;
	}
	if (gvd_view_load(d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	g = gvd_view_gpu_by_uuid(&v, in.gpu_uuid);
	s = gvd_sched_of(d, in.gpu_uuid);
	if (g < 0 || !s) {
		gvd_resp_error(r, 409, "instance %s: its GPU has no scheduler segment", in.id);
		goto out;
	}
	gv_store_inst_get_weight(d->st, in.id, &old, NULL);
	ret = gv_store_inst_set_weight(d->st, in.id, w, &err);
	if (!ret) {
		ret = gv_sched_tenant_set(s, in.id, w, gvd_sched_share_ppm(d, &v.hw.gpus[g], &in),
					  &err);
		if (ret < 0)
			gv_store_inst_set_weight(d->st, in.id, old, NULL);
	}
	if (ret < 0) {
		gvd_resp_fail(r, 500, &err);
		goto out;
	}
	if (w != old)
		gvd_event(d, "sched.weight", g, in.id, "%s: scheduler weight %u -> %u", in.id, old,
			  w);
	gvd_resp_json(
		r, 200,
		json_pack("{s:s, s:i, s:I}", "instance", in.id, "gpu", g, "weight", (json_int_t)w));
out:
	gvd_view_free(&v);
}

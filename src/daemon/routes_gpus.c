/* /v1/gpus, /v1/gpus/{gpu}, /v1/gpus/{gpu}/mode, /v1/profiles */
#include <errno.h>

#include "api.h"

void gvd_route_gpus(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gvd_view v;
	json_t *arr;
	int g;

	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	arr = json_array();
	for (g = 0; arr && g < v.hw.n_gpus; g++)
		json_array_append_new(arr, gvd_json_gpu(q->d, &v, g));
	gvd_view_free(&v);
	gvd_resp_json(r, 200, arr ? json_pack("{s:o}", "gpus", arr) : NULL);
}

void gvd_route_gpu(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gvd_view v;
	int g;

	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	g = gvd_view_gpu_ref(&v, q->seg[2], &err);
	if (g < 0)
		gvd_resp_fail(r, 404, &err);
	else
		gvd_resp_json(r, 200, gvd_json_gpu(q->d, &v, g));
	gvd_view_free(&v);
}

void gvd_route_gpu_mode(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gvd_view v;
	enum gv_mode mode;
	int ret, http, g;

	ret = gv_apireq_mode_parse(q->body, q->body_len, &mode, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gvd_gpu_set_mode(q->d, q->seg[2], mode, &g, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	gvd_resp_json(r, 200, gvd_json_gpu(q->d, &v, g));
	gvd_view_free(&v);
}

static json_t *int_or_null(int v, bool present)
{
	return present ? json_integer(v) : json_null();
}

static json_t *starts_json(uint32_t mask)
{
	json_t *a = json_array();
	int s;

	for (s = 0; a && s < GV_MIG_MAX_SLOTS; s++)
		if (mask & (1u << s))
			json_array_append_new(a, json_integer(s));
	return a;
}

/* Why a create of profile name on GPU g would be refused now: the
 * placement code's own message (what POST /v1/instances would answer),
 * or null when it would be placed. */
static json_t *reason_json(const struct gvd_view *v, int g, const char *name)
{
	struct gv_place_req pr = { .profile = name, .gpu = g, .start = -1 };
	struct gv_place_result res;
	struct gv_err err = { 0 };

	if (gv_place(&v->node, &pr, &res, &err) == 0)
		return json_null();
	return json_string(err.msg);
}

/* The start slots where an instance of MIG profile hp could still go on
 * GPU g (in MIG mode; none in another mode). */
static json_t *free_starts_json(const struct gvd_view *v, int g, const struct gv_profile *hp)
{
	const struct gv_place_gpu *pg = &v->pg[g];
	json_t *a = json_array();
	int s;

	for (s = 0; a && s < GV_MIG_MAX_SLOTS && v->mode[g] == GV_MODE_MIG && pg->model; s++)
		if ((hp->start_mask & (1u << s)) &&
		    gv_place_mig_check(pg->model, pg->insts, pg->n_insts, hp, s, NULL) == 0)
			json_array_append_new(a, json_integer(s));
	return a;
}

static json_t *profile_json(const struct gvd_view *v, int g, const struct gv_profile *p)
{
	bool mig = p->kind == GV_PROFILE_MIG || p->kind == GV_PROFILE_MIG_VGPU;
	const struct gv_profile *hp = p->kind == GV_PROFILE_MIG_VGPU && p->mig ? p->mig : p;
	int freec = gv_place_free_count(&v->pg[g], p, v->node.mixed_size);
	json_t *o;

	o = json_pack("{s:i, s:s, s:s, s:I, s:i, s:o, s:i, s:o, s:o, s:o}", "gpu", g, "name",
		      p->name, "kind", gv_profile_kind_name(p->kind), "fb_mib",
		      (json_int_t)p->fb_mib, "max", p->max_count, "max_mixed",
		      int_or_null(p->max_mixed, p->kind == GV_PROFILE_TIMESLICE), "free",
		      freec < 0 ? 0 : freec, "compute_slices", int_or_null(hp->compute_slices, mig),
		      "mem_slices", int_or_null(hp->mem_slices, mig), "starts",
		      mig ? starts_json(hp->start_mask) : json_null());
	if (o && (json_object_set_new(o, "reason",
				      freec > 0 ? json_null() : reason_json(v, g, p->name)) < 0 ||
		  (mig && json_object_set_new(o, "free_starts", free_starts_json(v, g, hp)) < 0))) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

void gvd_route_profiles(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gvd_view v;
	json_t *arr;
	size_t i;
	int g, only = -1;

	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	if (q->query.seen & GV_APIREQ_Q_GPU) {
		only = gvd_view_gpu_ref(&v, q->query.gpu, &err);
		if (only < 0) {
			gvd_resp_fail(r, 404, &err);
			goto out;
		}
	}
	arr = json_array();
	for (g = 0; arr && g < v.hw.n_gpus; g++) {
		const struct gv_model *m = v.hw.gpus[g].model;
		bool has_pt = false;

		if (only >= 0 && g != only)
			continue;
		for (i = 0; m && i < m->n_profiles; i++) {
			json_array_append_new(arr, profile_json(&v, g, &m->profiles[i]));
			has_pt |= m->profiles[i].kind == GV_PROFILE_PASSTHROUGH;
		}
		if (!has_pt) { /* every GPU can be passed through whole */
			bool fits = v.mode[g] == GV_MODE_PASSTHROUGH && v.pg[g].n_insts == 0;

			json_array_append_new(
				arr,
				json_pack("{s:i, s:s, s:s, s:I, s:i, s:n, s:i, s:n, s:n, s:n, "
					  "s:o}",
					  "gpu", g, "name", "passthrough", "kind", "passthrough",
					  "fb_mib", (json_int_t)v.hw.gpus[g].mem_mib, "max", 1,
					  "max_mixed", "free", fits, "compute_slices", "mem_slices",
					  "starts", "reason",
					  fits ? json_null() : reason_json(&v, g, "passthrough")));
		}
	}
	gvd_resp_json(r, 200, arr ? json_pack("{s:o}", "profiles", arr) : NULL);
out:
	gvd_view_free(&v);
}

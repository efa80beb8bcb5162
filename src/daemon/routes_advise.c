/* POST /v1/advise: advice on how to run a workload here (gv_advise over the
 * node's view). Read-only: it never creates or changes anything. */
#include <errno.h>
#include <stdlib.h>

#include "api.h"
#include "gpuvisor/advise.h"

static json_t *int_or_null(int v, bool present)
{
	return present ? json_integer(v) : json_null();
}

static json_t *strings_json(const char (*s)[GV_ADVISE_REASON_MAX], int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(s[i]));
	return a;
}

/* One option: the recommendation's fields, also each alternative's. */
static json_t *opt_json(const struct gv_advice_opt *o)
{
	json_t *slots = json_array(), *cmds = json_array(), *mg = json_array();
	const struct gv_advise_slot *first = o->n_slots > 0 ? &o->slots[0] : NULL;
	int i;

	for (i = 0; slots && i < o->n_slots; i++) {
		const struct gv_advise_slot *s = &o->slots[i];

		json_array_append_new(slots,
				      json_pack("{s:i, s:i, s:s, s:s, s:o, s:I, s:o}", "replica",
						i + 1, "gpu", s->gpu, "profile", s->profile, "kind",
						gv_profile_kind_name(s->kind), "placement",
						int_or_null(s->start, s->start >= 0), "fb_mib",
						(json_int_t)s->fb_mib, "free_after",
						int_or_null(s->free_after, s->free_after >= 0)));
	}
	for (i = 0; cmds && i < o->n_commands; i++)
		json_array_append_new(cmds, json_string(o->commands[i]));
	for (i = 0; mg && i < o->n_mode_gpus; i++)
		json_array_append_new(mg, json_integer(o->mode_gpus[i]));
	if (!slots || !cmds || !mg) {
		json_decref(slots);
		json_decref(cmds);
		json_decref(mg);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "mode",
			 gv_mode_name(o->mode), "profile",
			 o->profile[0] ? json_string(o->profile) : json_null(), "gpu",
			 int_or_null(first ? first->gpu : 0, first != NULL), "placement",
			 int_or_null(first ? first->start : 0, first && first->start >= 0),
			 "fits_now", o->fits_now, "replicas", slots, "mode_changes", mg, "reasons",
			 strings_json(o->reasons, o->n_reasons), "commands", cmds);
}

void gvd_route_advise(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_advice *adv = NULL;
	struct gv_advise_body b;
	struct gv_err err = { 0 };
	struct gvd_view v;
	json_t *body = NULL, *alts;
	int ret, g, i;

	ret = gv_advisereq_parse(q->body, q->body_len, &b, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	if (b.gpu[0]) {
		g = gvd_view_gpu_ref(&v, b.gpu, &err);
		if (g < 0) {
			gvd_resp_fail(r, 404, &err);
			goto out;
		}
		b.req.gpu = g;
	}
	adv = calloc(1, sizeof(*adv));
	if (!adv) {
		gvd_resp_error(r, 500, "out of memory");
		goto out;
	}
	ret = gv_advise(&v.node, &b.req, adv, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : ret == -EINVAL ? 400 : 500, &err);
		goto out;
	}
	body = opt_json(&adv->rec);
	alts = json_array();
	for (i = 0; alts && i < adv->n_alts; i++)
		json_array_append_new(alts, opt_json(&adv->alts[i]));
	/* set_new takes its value even when it fails */
	if (body && json_object_set_new(body, "alternatives", alts) == 0 &&
	    json_object_set_new(body, "request",
				json_pack("{s:s, s:I, s:b, s:b, s:i, s:o}", "workload",
					  gv_advise_workload_name(b.req.workload), "memory_mib",
					  (json_int_t)b.req.memory_mib, "trusted", b.req.trusted,
					  "latency_sensitive", b.req.latency_sensitive, "replicas",
					  b.req.replicas, "gpu",
					  int_or_null(b.req.gpu, b.req.gpu >= 0))) == 0) {
		gvd_resp_json(r, 200, body);
		body = NULL;
	} else {
		if (!body)
			json_decref(alts);
		gvd_resp_error(r, 500, "out of memory building the response");
	}
	json_decref(body);
out:
	free(adv);
	gvd_view_free(&v);
}

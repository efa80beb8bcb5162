/* /v1/instances and below: list, create, get, destroy, workload, env */
#include <errno.h>
#include <stdio.h>

#include "api.h"
#include "migration.h"

void gvd_route_instances(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gvd_view v;
	json_t *arr;
	size_t i;

	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	arr = json_array();
	for (i = 0; arr && i < v.n_insts; i++)
		json_array_append_new(arr, gvd_json_instance(q->d, &v, &v.insts[i]));
	gvd_view_free(&v);
	gvd_resp_json(r, 200, arr ? json_pack("{s:o}", "instances", arr) : NULL);
}

/* Answers with the instance's current representation and status. */
static void reply_instance(struct gvd_req *q, struct gvd_resp *r, const char *id, int status)
{
	struct gv_err err = { 0 };
	struct gv_store_inst in;
	struct gvd_view v;
	int ret;

	ret = gv_store_inst_get(q->d->st, id, &in, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	if (gvd_view_load(q->d, &v, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	gvd_resp_json(r, status, gvd_json_instance(q->d, &v, &in));
	gvd_view_free(&v);
}

void gvd_route_instance(struct gvd_req *q, struct gvd_resp *r)
{
	reply_instance(q, r, q->seg[2], 200);
}

void gvd_route_instance_create(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_apireq_create req;
	struct gv_store_inst in;
	struct gv_err err = { 0 };
	int ret, http;

	ret = gv_apireq_create_parse(q->body, q->body_len, &req, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gvd_instance_create(q->d, &req, &in, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	reply_instance(q, r, in.id, 201);
}

void gvd_route_instance_destroy(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	int ret, http;

	ret = gvd_instance_destroy(q->d, q->seg[2], q->query.force, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	gvd_resp_json(r, 200, json_pack("{s:s}", "deleted", q->seg[2]));
}

void gvd_route_workload_attach(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gv_apireq_workload req;
	int ret, http;

	ret = gv_apireq_workload_parse(q->body, q->body_len, &req, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gvd_workload_attach(q->d, q->seg[2], &req, &q->peer, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	reply_instance(q, r, q->seg[2], 200);
}

void gvd_route_workload_detach(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	int ret, http;

	ret = gvd_workload_detach(q->d, q->seg[2], &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	reply_instance(q, r, q->seg[2], 200);
}

/* The workload's environment, mounts and device nodes (edits.c: the one
 * description gpuvisor run and gpuvisor cdi both use), plus what a
 * migratable workload adds. */
void gvd_route_instance_env(struct gvd_req *q, struct gvd_resp *r)
{
	struct gvd *d = q->d;
	struct gv_err err = { 0 };
	struct gv_store_inst in;
	json_t *edits;
	int ret;

	ret = gv_store_inst_get(d->st, q->seg[2], &in, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	edits = gvd_instance_edits(d, &in, &err);
	if (!edits) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	json_object_set_new(edits, "migration", gvd_mig_env(d, &in));
	gvd_resp_json(r, 200, edits);
}

static void workload_change(struct gvd_req *q, struct gvd_resp *r, bool suspend)
{
	struct gv_err err = { 0 };
	json_t *report = NULL;
	int ret, http;

	struct gv_apireq_resume to = { 0 };

	if (!suspend) {
		ret = gv_apireq_resume_parse(q->body, q->body_len, &to, &err);
		if (ret) {
			gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
			return;
		}
	}
	ret = suspend ? gvd_workload_suspend(q->d, q->seg[2], &report, &http, &err)
		      : gvd_workload_resume(q->d, q->seg[2], &to, &report, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	/* the instance the workload is on now (a resume may have moved it) */
	gvd_resp_json(r, 200,
		      json_pack("{s:O, s:O*, s:s, s:o}", "instance",
				json_object_get(report, "instance"), "span",
				json_object_get(report, "span"), "workload",
				suspend ? "suspended" : "running", "report", report));
}

void gvd_route_workload_suspend(struct gvd_req *q, struct gvd_resp *r)
{
	workload_change(q, r, true);
}

void gvd_route_workload_resume(struct gvd_req *q, struct gvd_resp *r)
{
	workload_change(q, r, false);
}

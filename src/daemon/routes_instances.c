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
	pid_t pid;
	int ret, http;

	ret = gv_apireq_workload_parse(q->body, q->body_len, &pid, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gvd_workload_attach(q->d, q->seg[2], pid, &q->peer, &http, &err);
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

static void set_path(json_t *env, json_t *mounts, const char *key, const char *path)
{
	json_object_set_new(env, key, json_string(path));
	if (mounts)
		json_array_append_new(mounts,
				      json_pack("{s:s, s:s}", "host", path, "container", path));
}

void gvd_route_instance_env(struct gvd_req *q, struct gvd_resp *r)
{
	struct gvd *d = q->d;
	struct gv_err err = { 0 };
	struct gv_store_inst in;
	char path[PATH_MAX];
	json_t *env, *mounts;
	int ret;

	ret = gv_store_inst_get(d->st, q->seg[2], &in, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	env = json_object();
	mounts = json_array();
	if (!env || !mounts) {
		json_decref(env);
		json_decref(mounts);
		gvd_resp_error(r, 500, "out of memory");
		return;
	}
	json_object_set_new(env, "CUDA_VISIBLE_DEVICES", json_string(in.device_uuid));
	json_object_set_new(env, "GPUVISOR_INSTANCE", json_string(in.id));
	/* no GPUVISOR_SOCKET and no mount of the admin socket: this is what a
	 * tenant's workload (and container) gets, and the admin API lets its
	 * caller create, destroy and migrate every instance. Nothing in the
	 * workload needs it: the daemon reaches the shim on the shim's own
	 * control socket (docs/api.md, "Tenants"). */
	if (in.kind == GV_PROFILE_TIMESLICE) {
		snprintf(path, sizeof(path), "%s/shim", d->o.lib_dir);
		set_path(env, mounts, "LD_LIBRARY_PATH_PREPEND", path);
		gvd_acct_path(d, in.id, path);
		set_path(env, mounts, "GPUVISOR_ACCT", path);
		/* the scheduler segment, mounted read-write like the accounting
		 * file (tenants write their records); GPUVISOR_INSTANCE names
		 * the tenant */
		if (gvd_sched_of(d, in.gpu_uuid)) {
			gvd_sched_path(d, in.gpu_uuid, path);
			set_path(env, mounts, "GPUVISOR_SCHED", path);
		}
		if (d->sim) {
			snprintf(path, sizeof(path), "%s/libcudasim.so", d->o.lib_dir);
			set_path(env, mounts, "GPUVISOR_REAL_LIBCUDA", path);
		}
	} else {
		/* MIG and passthrough workloads get the shim too: without a
		 * partition (no GPUVISOR_ACCT) it only forwards, and it is what
		 * migrates them (docs/migration.md) */
		snprintf(path, sizeof(path), "%s/shim", d->o.lib_dir);
		set_path(env, mounts, "LD_LIBRARY_PATH_PREPEND", path);
		if (d->sim) {
			snprintf(path, sizeof(path), "%s/libcudasim.so", d->o.lib_dir);
			set_path(env, mounts, "GPUVISOR_REAL_LIBCUDA", path);
		}
	}
	if (d->sim)
		set_path(env, mounts, "GPUVISOR_SIM_NODE", d->sim_node_path);
	/* what a migratable workload adds (gpuvisor run --migratable) */
	gvd_resp_json(r, 200, json_pack("{s:o, s:o, s:o}", "env", env, "mounts", mounts,
					"migration", gvd_mig_env(d, &in)));
}

static void workload_change(struct gvd_req *q, struct gvd_resp *r, bool suspend)
{
	struct gv_err err = { 0 };
	json_t *report = NULL;
	int ret, http;

	char to[GV_APIREQ_ID_MAX] = "";

	if (!suspend) {
		ret = gv_apireq_resume_parse(q->body, q->body_len, to, &err);
		if (ret) {
			gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
			return;
		}
	}
	ret = suspend ? gvd_workload_suspend(q->d, q->seg[2], &report, &http, &err)
		      : gvd_workload_resume(q->d, q->seg[2], to, &report, &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	/* the instance the workload is on now (a resume may have moved it) */
	gvd_resp_json(r, 200, json_pack("{s:O, s:s, s:o}", "instance",
					json_object_get(report, "instance"), "workload",
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

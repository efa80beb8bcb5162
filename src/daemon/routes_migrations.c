/* /v1/migrations and below: start, list, show, progress, cancel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "migration.h"

void gvd_route_migrations(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gv_store_mig *arr = NULL;
	size_t n = 0, i;
	json_t *list;

	if (gv_store_mig_list(q->d->st, &arr, &n, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	list = json_array();
	for (i = 0; list && i < n; i++)
		json_array_append_new(list, gvd_mig_json(&arr[i], false));
	gv_store_mig_list_free(arr, n);
	gvd_resp_json(r, 200, list ? json_pack("{s:o}", "migrations", list) : NULL);
}

static void reply_mig(struct gvd_req *q, struct gvd_resp *r, const char *id, int status)
{
	struct gv_err err = { 0 };
	struct gv_store_mig m;
	int ret = gv_store_mig_get(q->d->st, id, &m, &err);

	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	gvd_resp_json(r, status, gvd_mig_json(&m, true));
	gv_store_mig_release(&m);
}

void gvd_route_migration_start(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_migreq req;
	struct gv_err err = { 0 };
	char id[GV_STORE_ID_MAX];
	int ret, http;

	ret = gv_migreq_parse(q->body, q->body_len, &req, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	ret = gvd_mig_start(q->d, &req, id, sizeof(id), &http, &err);
	if (ret) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	reply_mig(q, r, id, 202);
}

void gvd_route_migration(struct gvd_req *q, struct gvd_resp *r)
{
	reply_mig(q, r, q->seg[2], 200);
}

void gvd_route_migration_cancel(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	int http;

	if (gvd_mig_cancel(q->d, q->seg[2], &http, &err)) {
		gvd_resp_fail(r, http, &err);
		return;
	}
	reply_mig(q, r, q->seg[2], 202);
}

/* Progress entries with seq > since (all that are kept, oldest first), and
 * the migration's state: a client polls until the state is not running. */
void gvd_route_migration_progress(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_err err = { 0 };
	struct gv_store_mig m;
	json_t *all = NULL, *out, *p;
	size_t i;
	int ret = gv_store_mig_get(q->d->st, q->seg[2], &m, &err);

	if (ret) {
		gvd_resp_fail(r, ret == -ENOENT ? 404 : 500, &err);
		return;
	}
	if (m.progress)
		all = json_loads(m.progress, 0, NULL);
	out = json_array();
	json_array_foreach(all, i, p) {
		json_t *s = json_object_get(p, "seq");

		if (out && json_is_integer(s) && json_integer_value(s) > q->query.since)
			json_array_append(out, p);
	}
	gvd_resp_json(r, 200,
		      out ? json_pack("{s:s, s:s, s:o}", "id", m.id, "state",
				      gv_store_mig_state_name(m.state), "progress", out)
			  : NULL);
	json_decref(all);
	gv_store_mig_release(&m);
}

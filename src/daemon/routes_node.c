/* /v1/node, /v1/events, /metrics */
#include <stdlib.h>

#include "api.h"

#define GVD_EVENTS_MAX 1000

void gvd_route_node(struct gvd_req *q, struct gvd_resp *r)
{
	struct gvd *d = q->d;

	/* listen: the TCP address bound (port 0 resolved; a wildcard address
	 * stays as it is: gpuvisor ui makes it the loopback one) */
	gvd_resp_json(r, 200,
		      json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:o}", "backend",
				d->be->ops->name, "catalog", d->o.catalog_path, "mixed_size",
				d->o.mixed_size, "state_dir", d->o.state_dir, "run_dir",
				d->o.run_dir, "lib_dir", d->o.lib_dir, "version", GV_VERSION,
				"listen",
				d->listen_addr[0] ? json_string(d->listen_addr) : json_null()));
}

void gvd_route_events(struct gvd_req *q, struct gvd_resp *r)
{
	struct gv_store_event *ev = NULL;
	struct gv_err err = { 0 };
	json_t *arr;
	size_t n = 0, i;
	char t[32];

	if (gv_store_event_list(q->d->st, q->query.since, GVD_EVENTS_MAX, &ev, &n, &err)) {
		gvd_resp_fail(r, 500, &err);
		return;
	}
	arr = json_array();
	for (i = 0; arr && i < n; i++) {
		gvd_time_str(ev[i].time, t);
		json_array_append_new(
			arr,
			json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "seq", (json_int_t)ev[i].seq,
				  "time", t, "kind", ev[i].kind, "gpu",
				  ev[i].gpu >= 0 ? json_integer(ev[i].gpu) : json_null(),
				  "instance",
				  ev[i].instance[0] ? json_string(ev[i].instance) : json_null(),
				  "message", ev[i].message));
	}
	free(ev);
	gvd_resp_json(r, 200, arr ? json_pack("{s:o}", "events", arr) : NULL);
}

void gvd_route_metrics(struct gvd_req *q, struct gvd_resp *r)
{
	r->text = gvd_metrics_render(q->d);
	if (!r->text) {
		gvd_resp_error(r, 500, "out of memory rendering metrics");
		return;
	}
	r->status = 200;
}

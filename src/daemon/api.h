/* gpuvisord: requests and responses as the route handlers see them. */
#ifndef GPUVISORD_API_H
#define GPUVISORD_API_H

#include "daemon.h"

#define GVD_MAX_SEGS 6

struct gvd_req {
	struct gvd *d;
	const char *method;
	const char *seg[GVD_MAX_SEGS];
	int n_seg;
	const char *body;
	size_t body_len;
	struct gv_apireq_query query; /* validated against the route's keys */
	struct gvd_peer peer;
};

struct gvd_resp {
	int status;
	json_t *json; /* owned */
	char *text;   /* owned; text/plain (metrics) */
	char allow[64];
};

typedef void (*gvd_route_fn)(struct gvd_req *q, struct gvd_resp *r);

/* Sets an error response {"error":{"code","message"}}; the code word comes
 * from the status. */
void gvd_resp_error(struct gvd_resp *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* From a failed call: err's message, status (500 when status < 400). */
void gvd_resp_fail(struct gvd_resp *r, int status, const struct gv_err *err);
void gvd_resp_json(struct gvd_resp *r, int status, json_t *body);

/* routes_node.c */
void gvd_route_node(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_events(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_metrics(struct gvd_req *q, struct gvd_resp *r);
/* routes_gpus.c */
void gvd_route_gpus(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_gpu(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_gpu_mode(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_profiles(struct gvd_req *q, struct gvd_resp *r);
/* routes_instances.c */
void gvd_route_instances(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance_create(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance_destroy(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_workload_attach(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_workload_detach(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance_env(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_workload_suspend(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_workload_resume(struct gvd_req *q, struct gvd_resp *r);
/* routes_migrations.c */
void gvd_route_migrations(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_migration_start(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_migration(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_migration_cancel(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_migration_progress(struct gvd_req *q, struct gvd_resp *r);
/* routes_sched.c */
void gvd_route_gpu_sched(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_gpu_sched_set(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance_weight(struct gvd_req *q, struct gvd_resp *r);

#endif

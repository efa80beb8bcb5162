/* gpuvisord: requests and responses as the route handlers see them. */
#ifndef GPUVISORD_API_H
#define GPUVISORD_API_H

#include "daemon.h"
#include "gpuvisor/console_auth.h"

#define GVD_MAX_SEGS 6
/* Request line + headers, bytes: more is 431 (docs/api.md, "Limits"). */
#define GVD_HEAD_MAX 8192

/* How a request was let in (request.c, docs/api.md "Authentication"). */
enum gvd_auth {
	GVD_AUTH_NONE = 0, /* a route that needs none (static files, login) */
	GVD_AUTH_LOCAL,	   /* the Unix socket */
	GVD_AUTH_BEARER,   /* TCP with the bearer token */
	GVD_AUTH_COOKIE,   /* TCP with a console session cookie */
};

struct gvd_req {
	struct gvd *d;
	const char *method;
	const char *target; /* the raw target as sent (path?query) */
	size_t target_len;
	enum gvd_auth auth;
	/* the request's valid console session (its gv_session cookie), "" none */
	char session[GV_CONSOLE_SECRET_HEX + 1];
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
	/* a static file of the console: owned bytes and their type (no
	 * Cache-Control: no-store, which every API answer has) */
	char *file;
	size_t file_len;
	const char *file_type;
	/* 303 and its Location (a path of ours); empty body */
	char location[64];
	/* "gv_session=<id>; HttpOnly; ..." to set, or one that clears it */
	char set_cookie[160];
};

/* One request as a transport hands it to the request layer (request.c).
 * Every pointer is to bytes the transport owns for the call. */
struct gvd_http_in {
	const char *method; /* NUL-terminated */
	const char *target; /* the raw request target as sent: path?query */
	size_t target_len;  /* may exceed GV_HTTP_TARGET_MAX (then target may be "") */
	bool tcp;	    /* needs the bearer token */
	const char *auth;   /* Authorization value, NUL-terminated at auth_len; or NULL */
	size_t auth_len;
	const char *cookie; /* Cookie value (NUL-terminated at cookie_len); or NULL */
	size_t cookie_len;
	bool console_header; /* "X-Gpuvisor-Console: 1" came (the CSRF guard) */
	bool bad_head;	     /* the transport found bytes it hides (a NUL in a line) */
	size_t head_len;     /* request line + headers, bytes as received */
	const char *body;
	size_t body_len;
	bool body_too_large; /* more than GV_APIREQ_MAX_BODY came (and was dropped) */
	struct gvd_peer peer;
};

/* Answers a request whose head and body are complete: checks, route,
 * handler (under d->lock). r starts as { .status = 500 }; the caller sends
 * it and frees r->json / r->text. */
void gvd_http_serve(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r);
/* The checks that need no body (head bytes, sizes, TCP token): true with r
 * set when the request is refused, so the transport can answer before it
 * reads any body. */
bool gvd_http_refuse_early(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r);
/* The error code word of a status ("bad_request", ...). */
const char *gvd_status_name(int status);

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
/* routes_session.c: console sessions and tickets */
void gvd_route_session_get(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_session_login(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_session_logout(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_session_ticket(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_ui_login(struct gvd_req *q, struct gvd_resp *r);
/* routes_ui.c: the console's static files */
void gvd_route_root(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_ui_index(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_ui_file(struct gvd_req *q, struct gvd_resp *r);
/* routes_history.c */
void gvd_route_history(struct gvd_req *q, struct gvd_resp *r);
/* Sets a 303 to location (a constant path of ours). */
void gvd_resp_redirect(struct gvd_resp *r, const char *location);
/* routes_sched.c */
void gvd_route_gpu_sched(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_gpu_sched_set(struct gvd_req *q, struct gvd_resp *r);
void gvd_route_instance_weight(struct gvd_req *q, struct gvd_resp *r);
/* routes_advise.c */
void gvd_route_advise(struct gvd_req *q, struct gvd_resp *r);

#endif

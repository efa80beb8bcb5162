/* The request layer: one HTTP request as the transport hands it over
 * (struct gvd_http_in) to its answer (struct gvd_resp), without a socket:
 * byte checks of the head, authentication, the target's path and query,
 * routing, the body rule, and the error format of docs/api.md. api.c feeds
 * it from libmicrohttpd; tests/fuzz/fuzz_http.c calls it directly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "gpuvisor/httpreq.h"

struct route {
	const char *method;
	const char *path[GVD_MAX_SEGS]; /* "*" matches one segment: an id */
	int n;
	unsigned query;
	bool body;
	gvd_route_fn fn;
};

static const struct route routes[] = {
	{ "GET", { "v1", "node" }, 2, 0, false, gvd_route_node },
	{ "GET", { "v1", "gpus" }, 2, 0, false, gvd_route_gpus },
	{ "GET", { "v1", "gpus", "*" }, 3, 0, false, gvd_route_gpu },
	{ "PUT", { "v1", "gpus", "*", "mode" }, 4, 0, true, gvd_route_gpu_mode },
	{ "GET", { "v1", "profiles" }, 2, GV_APIREQ_Q_GPU, false, gvd_route_profiles },
	{ "GET", { "v1", "instances" }, 2, 0, false, gvd_route_instances },
	{ "POST", { "v1", "instances" }, 2, 0, true, gvd_route_instance_create },
	{ "GET", { "v1", "instances", "*" }, 3, 0, false, gvd_route_instance },
	{ "DELETE", { "v1", "instances", "*" }, 3, GV_APIREQ_Q_FORCE, false,
	  gvd_route_instance_destroy },
	{ "POST", { "v1", "instances", "*", "workload" }, 4, 0, true, gvd_route_workload_attach },
	{ "DELETE", { "v1", "instances", "*", "workload" }, 4, 0, false,
	  gvd_route_workload_detach },
	{ "GET", { "v1", "instances", "*", "env" }, 4, 0, false, gvd_route_instance_env },
	{ "POST", { "v1", "instances", "*", "suspend" }, 4, 0, false, gvd_route_workload_suspend },
	{ "POST", { "v1", "instances", "*", "resume" }, 4, 0, true, gvd_route_workload_resume },
	{ "GET", { "v1", "gpus", "*", "sched" }, 4, 0, false, gvd_route_gpu_sched },
	{ "PUT", { "v1", "gpus", "*", "sched" }, 4, 0, true, gvd_route_gpu_sched_set },
	{ "PUT", { "v1", "instances", "*", "weight" }, 4, 0, true, gvd_route_instance_weight },
	{ "GET", { "v1", "events" }, 2, GV_APIREQ_Q_SINCE, false, gvd_route_events },
	{ "GET", { "v1", "migrations" }, 2, 0, false, gvd_route_migrations },
	{ "POST", { "v1", "migrations" }, 2, 0, true, gvd_route_migration_start },
	{ "GET", { "v1", "migrations", "*" }, 3, 0, false, gvd_route_migration },
	{ "DELETE", { "v1", "migrations", "*" }, 3, 0, false, gvd_route_migration_cancel },
	{ "GET", { "v1", "migrations", "*", "progress" }, 4, GV_APIREQ_Q_SINCE, false,
	  gvd_route_migration_progress },
	{ "POST", { "v1", "advise" }, 2, 0, true, gvd_route_advise },
	{ "GET", { "metrics" }, 1, 0, false, gvd_route_metrics },
};

const char *gvd_status_word(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 408:
		return "timeout";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 414:
		return "uri_too_long";
	case 431:
		return "headers_too_large";
	case 505:
		return "http_version_not_supported";
	default:
		return status >= 400 && status < 500 ? "bad_request" : "internal";
	}
}

void gvd_resp_json(struct gvd_resp *r, int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
	if (!body)
		gvd_resp_error(r, 500, "out of memory building the response");
}

static void resp_error_msg(struct gvd_resp *r, int status, const char *msg)
{
	char clean[GV_ERR_MSG_MAX];

	/* a message may quote a value cut by a bounded format ("%.64s") in the
	 * middle of a UTF-8 sequence; JSON strings must be valid UTF-8 */
	snprintf(clean, sizeof(clean), "%s", msg);
	gv_utf8_sanitize(clean);
	json_decref(r->json);
	r->status = status;
	r->json = json_pack("{s:{s:s, s:s}}", "error", "code", gvd_status_word(status), "message",
			    clean);
}

void gvd_resp_error(struct gvd_resp *r, int status, const char *fmt, ...)
{
	char msg[GV_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_error_msg(r, status, msg);
}

void gvd_resp_fail(struct gvd_resp *r, int status, const struct gv_err *err)
{
	if (status < 400)
		status = 500;
	resp_error_msg(r, status, err->msg[0] ? err->msg : "internal error");
}

static bool path_matches(const struct route *rt, const struct gv_http_target *t)
{
	int i;

	if (rt->n != t->n_seg)
		return false;
	for (i = 0; i < rt->n; i++)
		if (strcmp(rt->path[i], "*") != 0 && strcmp(rt->path[i], t->seg[i]) != 0)
			return false;
	return true;
}

/* Bearer token of a TCP request, compared as bytes: "Bearer " then exactly
 * the token, nothing after it (a NUL with more bytes was refused with the
 * head already). */
static bool authorized(const struct gvd *d, const struct gvd_http_in *in)
{
	size_t tl;

	if (!in->auth || in->auth_len < 7 || memcmp(in->auth, "Bearer ", 7) != 0)
		return false;
	tl = in->auth_len - 7;
	if (!gv_http_token_valid(in->auth + 7, tl) || memchr(in->auth + 7, '\0', tl) ||
	    in->auth[in->auth_len] != '\0')
		return false;
	return gvd_token_equal(d->token, in->auth + 7);
}

bool gvd_http_refuse_early(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r)
{
	if (in->bad_head) {
		gvd_resp_error(r, 400, "the request head has a NUL byte or a line libmicrohttpd "
				       "could not take whole");
		return true;
	}
	if (in->head_len > GVD_HEAD_MAX) {
		gvd_resp_error(r, 431, "request line and headers are over the limit of %d bytes",
			       GVD_HEAD_MAX);
		return true;
	}
	if (in->target_len > GV_HTTP_TARGET_MAX) {
		gvd_resp_error(r, 414, "request target is over the limit of %d bytes",
			       GV_HTTP_TARGET_MAX);
		return true;
	}
	if (in->tcp && !authorized(d, in)) {
		gvd_resp_error(r, 401, "missing or wrong bearer token (see <state-dir>/token)");
		return true;
	}
	return false;
}

void gvd_http_serve(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r)
{
	struct gv_http_target *t = NULL;
	struct gvd_req q = { .d = d, .method = in->method, .peer = in->peer };
	const struct route *rt = NULL;
	struct gv_err err = { 0 };
	size_t i, alen = 0;
	bool path_known = false;
	int ret, s;

	r->allow[0] = '\0';
	if (gvd_http_refuse_early(d, in, r))
		return;
	if (in->body_too_large) {
		gvd_resp_error(r, 413, "request body is over the limit of %d bytes",
			       GV_APIREQ_MAX_BODY);
		return;
	}
	t = malloc(sizeof(*t));
	if (!t) {
		gvd_resp_error(r, 500, "out of memory");
		return;
	}
	ret = gv_http_target_parse(in->target, in->target_len, t, &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 414 : ret == -ENOENT ? 404 : 400, &err);
		goto out;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], t))
			continue;
		path_known = true;
		if (alen < sizeof(r->allow))
			alen += (size_t)snprintf(r->allow + alen, sizeof(r->allow) - alen, "%s%s",
						 alen ? ", " : "", routes[i].method);
		if (strcmp(routes[i].method, in->method) == 0)
			rt = &routes[i];
	}
	if (!path_known) {
		gvd_resp_error(r, 404, "no such resource");
		goto out;
	}
	/* the method word itself is never quoted: it may be any bytes */
	if (!rt) {
		gvd_resp_error(r, 405, "this method is not allowed here; allowed: %s", r->allow);
		goto out;
	}
	r->allow[0] = '\0';
	/* ids and GPU references are checked as bytes before any handler
	 * formats or looks them up */
	for (s = 0; s < rt->n; s++) {
		if (strcmp(rt->path[s], "*") == 0 &&
		    !gv_http_id_valid(t->seg[s], strlen(t->seg[s]))) {
			gvd_resp_error(r, 400,
				       "path segment %d is not an id or GPU reference "
				       "(1-%d bytes of A-Z a-z 0-9 . _ -)",
				       s + 1, GV_HTTP_ID_MAX);
			goto out;
		}
	}
	gv_apireq_query_init(&q.query, rt->query);
	for (s = 0; s < t->n_arg; s++) {
		ret = gv_apireq_query_add(&q.query, t->arg[s].key, t->arg[s].value, &err);
		if (ret) {
			gvd_resp_fail(r, 400, &err);
			goto out;
		}
	}
	if (!rt->body && in->body_len > 0) {
		gvd_resp_error(r, 400, "%s %s takes no request body", in->method, t->seg[0]);
		goto out;
	}
	for (s = 0; s < t->n_seg; s++)
		q.seg[s] = t->seg[s];
	q.n_seg = t->n_seg;
	q.body = in->body;
	q.body_len = in->body_len;
	pthread_mutex_lock(&d->lock);
	gvd_workload_sweep(d);
	rt->fn(&q, r);
	pthread_mutex_unlock(&d->lock);
out:
	free(t);
}

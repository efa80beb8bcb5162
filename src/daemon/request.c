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
#include "gpuvisor/nametab.h"

/* Who may use a route (docs/api.md, "Authentication"). Without a flag: the
 * Unix socket, or TCP with the bearer token or a console session cookie. */
enum {
	R_OPEN = 1u << 0,      /* anyone: holds no data (static files) or is the login */
	R_NO_COOKIE = 1u << 1, /* not with a session cookie: what makes sessions */
};

struct route {
	const char *method;
	const char *path[GVD_MAX_SEGS]; /* "*" matches one segment: an id */
	int n;
	unsigned query;
	bool body;
	gvd_route_fn fn;
	unsigned flags;
};

/* The first route whose path and method match wins: a fixed path comes
 * before a "*" one beside it (/ui/login before /ui/NAME). */
static const struct route routes[] = {
	{ "GET", { "v1", "node" }, 2, 0, false, gvd_route_node, 0 },
	{ "GET", { "v1", "gpus" }, 2, 0, false, gvd_route_gpus, 0 },
	{ "GET", { "v1", "gpus", "*" }, 3, 0, false, gvd_route_gpu, 0 },
	{ "PUT", { "v1", "gpus", "*", "mode" }, 4, 0, true, gvd_route_gpu_mode, 0 },
	{ "GET", { "v1", "profiles" }, 2, GV_APIREQ_Q_GPU, false, gvd_route_profiles, 0 },
	{ "GET", { "v1", "instances" }, 2, 0, false, gvd_route_instances, 0 },
	{ "POST", { "v1", "instances" }, 2, 0, true, gvd_route_instance_create, 0 },
	{ "GET", { "v1", "instances", "*" }, 3, 0, false, gvd_route_instance, 0 },
	{ "DELETE",
	  { "v1", "instances", "*" },
	  3,
	  GV_APIREQ_Q_FORCE,
	  false,
	  gvd_route_instance_destroy,
	  0 },
	{ "POST",
	  { "v1", "instances", "*", "workload" },
	  4,
	  0,
	  true,
	  gvd_route_workload_attach,
	  0 },
	{ "DELETE",
	  { "v1", "instances", "*", "workload" },
	  4,
	  0,
	  false,
	  gvd_route_workload_detach,
	  0 },
	{ "GET", { "v1", "instances", "*", "env" }, 4, 0, false, gvd_route_instance_env, 0 },
	{ "POST",
	  { "v1", "instances", "*", "suspend" },
	  4,
	  0,
	  false,
	  gvd_route_workload_suspend,
	  0 },
	{ "POST", { "v1", "instances", "*", "resume" }, 4, 0, true, gvd_route_workload_resume, 0 },
	{ "GET", { "v1", "gpus", "*", "sched" }, 4, 0, false, gvd_route_gpu_sched, 0 },
	{ "PUT", { "v1", "gpus", "*", "sched" }, 4, 0, true, gvd_route_gpu_sched_set, 0 },
	{ "PUT", { "v1", "instances", "*", "weight" }, 4, 0, true, gvd_route_instance_weight, 0 },
	{ "GET", { "v1", "events" }, 2, GV_APIREQ_Q_SINCE, false, gvd_route_events, 0 },
	{ "GET", { "v1", "migrations" }, 2, 0, false, gvd_route_migrations, 0 },
	{ "POST", { "v1", "migrations" }, 2, 0, true, gvd_route_migration_start, 0 },
	{ "GET", { "v1", "migrations", "*" }, 3, 0, false, gvd_route_migration, 0 },
	{ "DELETE", { "v1", "migrations", "*" }, 3, 0, false, gvd_route_migration_cancel, 0 },
	{ "GET",
	  { "v1", "migrations", "*", "progress" },
	  4,
	  GV_APIREQ_Q_SINCE,
	  false,
	  gvd_route_migration_progress,
	  0 },
	{ "POST", { "v1", "advise" }, 2, 0, true, gvd_route_advise, 0 },
	{ "GET", { "v1", "history" }, 2, GV_APIREQ_Q_SECONDS, false, gvd_route_history, 0 },
	{ "GET", { "v1", "session" }, 2, 0, false, gvd_route_session_get, 0 },
	{ "POST", { "v1", "session" }, 2, 0, true, gvd_route_session_login, R_OPEN },
	{ "DELETE", { "v1", "session" }, 2, 0, false, gvd_route_session_logout, 0 },
	{ "POST",
	  { "v1", "session", "ticket" },
	  3,
	  0,
	  false,
	  gvd_route_session_ticket,
	  R_NO_COOKIE },
	{ "GET", { "metrics" }, 1, 0, false, gvd_route_metrics, 0 },
	{ "GET", { 0 }, 0, 0, false, gvd_route_root, R_OPEN },
	{ "GET", { "ui" }, 1, 0, false, gvd_route_ui_index, R_OPEN },
	{ "GET", { "ui", "login" }, 2, GV_APIREQ_Q_TICKET, false, gvd_route_ui_login, R_OPEN },
	{ "GET", { "ui", "*" }, 2, 0, false, gvd_route_ui_file, R_OPEN },
};

/* The statuses with a word of their own; any other takes its class's. */
static const struct gv_nametab status_words[] = {
	{ 400, "bad_request" },
	{ 401, "unauthorized" },
	{ 403, "forbidden" },
	{ 404, "not_found" },
	{ 405, "method_not_allowed" },
	{ 408, "timeout" },
	{ 409, "conflict" },
	{ 413, "too_large" },
	{ 414, "uri_too_long" },
	{ 431, "headers_too_large" },
	{ 505, "http_version_not_supported" },
};

const char *gvd_status_name(int status)
{
	const char *w = gv_nametab_name(status_words, GV_NAMETAB_N(status_words), status, NULL);

	if (w)
		return w;
	return status >= 400 && status < 500 ? "bad_request" : "internal";
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
	r->json = json_pack("{s:{s:s, s:s}}", "error", "code", gvd_status_name(status), "message",
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
static bool bearer_ok(const struct gvd *d, const struct gvd_http_in *in)
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

/* How the request may act: the Unix socket, the bearer token, a live
 * console session (its id copied to session), or not at all. */
static enum gvd_auth auth_of(struct gvd *d, const struct gvd_http_in *in,
			     char session[GV_CONSOLE_SECRET_HEX + 1])
{
	const char *v;
	size_t vl;

	session[0] = '\0';
	if (in->cookie && d->console &&
	    gv_console_cookie_find(in->cookie, in->cookie_len, &v, &vl) == 0 &&
	    gv_console_session_check(d->console, v, vl)) {
		memcpy(session, v, vl);
		session[vl] = '\0';
	}
	if (!in->tcp)
		return GVD_AUTH_LOCAL;
	if (bearer_ok(d, in))
		return GVD_AUTH_BEARER;
	return session[0] ? GVD_AUTH_COOKIE : GVD_AUTH_NONE;
}

/* The route for method and t: 0, or -ENOENT (no such path) or -EPERM (the
 * path is known, not with this method); allow lists the path's methods. */
static int route_find(const char *method, const struct gv_http_target *t, char *allow, size_t cap,
		      const struct route **out)
{
	size_t i, alen = 0;
	bool path_known = false;

	*out = NULL;
	allow[0] = '\0';
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], t))
			continue;
		path_known = true;
		if (alen < cap && !strstr(allow, routes[i].method))
			alen += (size_t)snprintf(allow + alen, cap - alen, "%s%s", alen ? ", " : "",
						 routes[i].method);
		if (!*out && strcmp(routes[i].method, method) == 0)
			*out = &routes[i];
	}
	if (!path_known)
		return -ENOENT;
	return *out ? 0 : -EPERM;
}

/* Whether the request's route takes anyone (static files, the login), or
 * its path is under /ui/, all of which is open (a file that is not there
 * is a 404 for anyone). A target that does not parse or names no such
 * route elsewhere is not open. */
static bool route_open(const struct gvd_http_in *in)
{
	struct gv_http_target *t = malloc(sizeof(*t));
	const struct route *rt = NULL;
	char allow[64];
	bool open = false;

	if (!t)
		return false;
	if (gv_http_target_parse(in->target, in->target_len, t, NULL) == 0) {
		if (route_find(in->method, t, allow, sizeof(allow), &rt) == 0)
			open = (rt->flags & R_OPEN) != 0;
		else
			open = t->n_seg >= 1 && strcmp(t->seg[0], "ui") == 0;
	}
	free(t);
	return open;
}

bool gvd_http_refuse_early(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r)
{
	char session[GV_CONSOLE_SECRET_HEX + 1];

	if (in->bad_head) {
		gvd_resp_error(r, 400,
			       "the request head has a NUL byte or a line libmicrohttpd "
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
	if (auth_of(d, in, session) == GVD_AUTH_NONE && !route_open(in)) {
		gvd_resp_error(r, 401,
			       "missing or wrong bearer token (see <state-dir>/token) "
			       "or console session");
		return true;
	}
	return false;
}

void gvd_resp_redirect(struct gvd_resp *r, const char *location)
{
	json_decref(r->json);
	r->json = NULL;
	r->status = 303;
	snprintf(r->location, sizeof(r->location), "%s", location);
}

void gvd_http_serve(struct gvd *d, const struct gvd_http_in *in, struct gvd_resp *r)
{
	struct gv_http_target *t = NULL;
	struct gvd_req q = { .d = d,
			     .method = in->method,
			     .peer = in->peer,
			     .target = in->target,
			     .target_len = in->target_len };
	const struct route *rt = NULL;
	struct gv_err err = { 0 };
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
	ret = route_find(in->method, t, r->allow, sizeof(r->allow), &rt);
	if (ret == -ENOENT) {
		gvd_resp_error(r, 404, "no such resource");
		goto out;
	}
	/* the method word itself is never quoted: it may be any bytes */
	if (!rt) {
		gvd_resp_error(r, 405, "this method is not allowed here; allowed: %s", r->allow);
		goto out;
	}
	q.auth = auth_of(d, in, q.session);
	if (rt->flags & R_OPEN) {
		/* the login does not act as the session the browser may hold */
		if (q.auth == GVD_AUTH_COOKIE)
			q.auth = GVD_AUTH_NONE;
	} else if (q.auth == GVD_AUTH_NONE) {
		gvd_resp_error(r, 401,
			       "missing or wrong bearer token (see <state-dir>/token) "
			       "or console session");
		goto out;
	} else if (q.auth == GVD_AUTH_COOKIE && (rt->flags & R_NO_COOKIE)) {
		gvd_resp_error(r, 403,
			       "a console session cannot do this: it needs the bearer "
			       "token or the Unix socket");
		goto out;
	} else if (q.auth == GVD_AUTH_COOKIE && strcmp(in->method, "GET") != 0 &&
		   strcmp(in->method, "HEAD") != 0 && !in->console_header) {
		/* a cross-site form or link can send the cookie but not a header */
		gvd_resp_error(r, 403,
			       "a console session's %s needs the header "
			       "X-Gpuvisor-Console: 1",
			       rt->method);
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
		/* "/" has no segment to name */
		gvd_resp_error(r, 400, "%s %s takes no request body", in->method,
			       t->n_seg ? t->seg[0] : "/");
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

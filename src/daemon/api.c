/* HTTP glue: libmicrohttpd on the Unix socket (and optionally TCP with a
 * bearer token), body collection with the 64 KiB limit, routing, and the
 * error format of docs/api.md. */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>

#include "api.h"
#include "gpuvisor/proc.h"

struct gvd_listener {
	struct gvd *d;
	bool tcp;
};

struct gvd_http {
	struct MHD_Daemon *unix_mhd;
	struct MHD_Daemon *tcp_mhd;
	struct gvd_listener unix_l, tcp_l;
};

struct conn_ctx {
	char *body;
	size_t len, cap;
	bool too_large;
	uint64_t since; /* when the request arrived (gv_proc_now_ticks) */
};

struct route {
	const char *method;
	const char *path[GVD_MAX_SEGS]; /* "*" matches one segment */
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
	{ "GET", { "metrics" }, 1, 0, false, gvd_route_metrics },
};

static const char *status_word(int status)
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
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	default:
		return "internal";
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
	json_decref(r->json);
	r->status = status;
	r->json = json_pack("{s:{s:s, s:s}}", "error", "code", status_word(status), "message",
			    msg);
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

/* Splits "/v1/instances/i-3" into segments in buf; -1 when the path is not
 * clean (empty segments, too deep). A trailing '/' is tolerated. */
static int split_path(const char *url, char *buf, size_t cap, const char *seg[], int max)
{
	size_t len = strlen(url);
	char *p, *s;
	int n = 0;

	if (len == 0 || len >= cap || url[0] != '/')
		return -1;
	memcpy(buf, url + 1, len);
	if (len > 1 && buf[len - 2] == '/')
		buf[len - 2] = '\0';
	if (buf[0] == '\0')
		return 0;
	for (p = buf; p; p = s) {
		s = strchr(p, '/');
		if (s)
			*s++ = '\0';
		if (!*p || n == max)
			return -1;
		seg[n++] = p;
	}
	return n;
}

static bool path_matches(const struct route *rt, const struct gvd_req *q)
{
	int i;

	if (rt->n != q->n_seg)
		return false;
	for (i = 0; i < rt->n; i++)
		if (strcmp(rt->path[i], "*") != 0 && strcmp(rt->path[i], q->seg[i]) != 0)
			return false;
	return true;
}

struct query_walk {
	struct gv_apireq_query *q;
	struct gv_err err;
	int ret;
};

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct query_walk *w = cls;

	(void)kind;
	w->ret = gv_apireq_query_add(w->q, key, value, &w->err);
	return w->ret ? MHD_NO : MHD_YES;
}

static void dispatch(struct gvd *d, struct MHD_Connection *c, struct gvd_req *q,
		     struct gvd_resp *r)
{
	const struct route *rt = NULL;
	struct query_walk w = { 0 };
	size_t i, alen = 0;
	bool path_known = false;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], q))
			continue;
		path_known = true;
		if (alen < sizeof(r->allow))
			alen += (size_t)snprintf(r->allow + alen, sizeof(r->allow) - alen, "%s%s",
						 alen ? ", " : "", routes[i].method);
		if (strcmp(routes[i].method, q->method) == 0)
			rt = &routes[i];
	}
	if (!path_known) {
		gvd_resp_error(r, 404, "no such resource");
		return;
	}
	if (!rt) {
		gvd_resp_error(r, 405, "%s is not allowed here; allowed: %s", q->method, r->allow);
		return;
	}
	r->allow[0] = '\0';
	gv_apireq_query_init(&q->query, rt->query);
	w.q = &q->query;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_iter, &w);
	if (w.ret) {
		gvd_resp_fail(r, 400, &w.err);
		return;
	}
	if (!rt->body && q->body_len > 0) {
		gvd_resp_error(r, 400, "%s %s takes no request body", q->method, q->seg[0]);
		return;
	}
	pthread_mutex_lock(&d->lock);
	gvd_workload_sweep(d);
	rt->fn(q, r);
	pthread_mutex_unlock(&d->lock);
}

/* The peer of a Unix-socket connection, from SO_PEERCRED: the process that
 * called connect() and its credentials, in gpuvisord's namespaces. Left
 * not local on TCP or when the kernel does not say. */
static void peer_of(struct MHD_Connection *c, bool tcp, uint64_t since, struct gvd_peer *p)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	memset(p, 0, sizeof(*p));
	p->since = since;
	if (tcp)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    cred.pid <= 0)
		return;
	p->local = true;
	p->pid = cred.pid;
	p->uid = cred.uid;
}

static bool authorized(struct gvd *d, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return false;
	return gvd_token_equal(d->token, h + 7);
}

static enum MHD_Result send_resp(struct gvd *d, struct MHD_Connection *c, const char *method,
				 struct gvd_resp *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char *text;
	const char *ctype = "application/json";

	if (r->text) {
		text = r->text;
		r->text = NULL;
		ctype = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		text = r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;
		if (text) {
			size_t n = strlen(text);
			char *nl = realloc(text, n + 2);

			if (nl) {
				text = nl;
				memcpy(text + n, "\n", 2);
			}
		} else {
			r->status = 500;
			text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n");
		}
	}
	if (!text)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	ok = MHD_queue_response(c, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	gvd_metrics_count(&d->metrics, method, r->status);
	gvd_log(GVD_LOG_DEBUG, "%s -> %d", method, r->status);
	return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct gvd_listener *l = cls;
	struct gvd *d = l->d;
	struct conn_ctx *ctx = *con_cls;
	struct gvd_req q = { .d = d, .method = method };
	struct gvd_resp r = { .status = 500 };
	char pathbuf[512];
	enum MHD_Result ok;

	(void)version;
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		if (gv_proc_now_ticks(&ctx->since) != 0)
			ctx->since = 0; /* no peer process can have started before */
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* keep reading past the limit so the client gets its 413 instead
		 * of a reset connection, but keep nothing */
		if (!ctx->too_large && ctx->len + *upload_size > GV_APIREQ_MAX_BODY) {
			ctx->too_large = true;
			free(ctx->body);
			ctx->body = NULL;
		}
		if (!ctx->too_large) {
			if (ctx->len + *upload_size + 1 > ctx->cap) {
				size_t cap = ctx->len + *upload_size + 1;
				char *g = realloc(ctx->body, cap);

				if (!g)
					return MHD_NO;
				ctx->body = g;
				ctx->cap = cap;
			}
			memcpy(ctx->body + ctx->len, upload, *upload_size);
			ctx->len += *upload_size;
			ctx->body[ctx->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}

	if (l->tcp && !authorized(d, c)) {
		gvd_resp_error(&r, 401, "missing or wrong bearer token (see <state-dir>/token)");
	} else if (ctx->too_large) {
		gvd_resp_error(&r, 413, "request body is over the limit of %d bytes",
			       GV_APIREQ_MAX_BODY);
	} else {
		q.n_seg = split_path(url, pathbuf, sizeof(pathbuf), q.seg, GVD_MAX_SEGS);
		q.body = ctx->body;
		q.body_len = ctx->len;
		peer_of(c, l->tcp, ctx->since, &q.peer);
		if (q.n_seg < 0)
			gvd_resp_error(&r, 404, "no such resource");
		else
			dispatch(d, c, &q, &r);
	}
	ok = send_resp(d, c, method, &r);
	json_decref(r.json);
	free(r.text);
	return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (ctx) {
		free(ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

static int tcp_listen(const char *spec, int *fd_out, struct gv_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd = -1, one = 1, rc, ret = 0;
	size_t hl;

	*fd_out = -1;
	if (!colon || colon == spec || !colon[1])
		return gv_err_set(err, EINVAL, "--listen wants ADDR:PORT, not '%s'", spec);
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		return gv_err_set(err, EINVAL, "--listen address too long");
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc)
		return gv_err_set(err, EINVAL, "--listen %s: %s", spec, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = gv_err_set(err, errno, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0)
		ret = gv_err_set(err, errno, "cannot listen on %s: %s", spec, strerror(errno));
out:
	freeaddrinfo(ai);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

static void bound_addr(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	out[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static struct MHD_Daemon *start_mhd(struct gvd_listener *l, int fd)
{
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					MHD_USE_ERROR_LOG,
				0, NULL, NULL, handler, l, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
}

int gvd_http_start(struct gvd *d, int unix_fd, struct gvd_http **out, struct gv_err *err)
{
	struct gvd_http *h = calloc(1, sizeof(*h));
	int tfd = -1, ret = 0;

	*out = NULL;
	if (!h)
		return gv_err_set(err, ENOMEM, "out of memory");
	h->unix_l.d = d;
	h->tcp_l.d = d;
	h->tcp_l.tcp = true;
	h->unix_mhd = start_mhd(&h->unix_l, unix_fd);
	if (!h->unix_mhd) {
		ret = gv_err_set(err, EIO, "cannot start the HTTP server on %s", d->o.socket_path);
		goto out;
	}
	if (d->o.listen) {
		ret = tcp_listen(d->o.listen, &tfd, err);
		if (ret)
			goto out;
		bound_addr(tfd, d->listen_addr, sizeof(d->listen_addr));
		h->tcp_mhd = start_mhd(&h->tcp_l, tfd);
		if (!h->tcp_mhd) {
			close(tfd);
			ret = gv_err_set(err, EIO, "cannot start the HTTP server on %s", d->o.listen);
			goto out;
		}
	}
out:
	if (ret) {
		gvd_http_stop(h);
		return ret;
	}
	*out = h;
	return 0;
}

void gvd_http_stop(struct gvd_http *h)
{
	if (!h)
		return;
	/* MHD closes the listen sockets it was given */
	if (h->tcp_mhd)
		MHD_stop_daemon(h->tcp_mhd);
	if (h->unix_mhd)
		MHD_stop_daemon(h->unix_mhd);
	free(h);
}

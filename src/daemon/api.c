/* HTTP transport: libmicrohttpd on the Unix socket and, optionally, TCP,
 * one MHD daemon each (a flood on one cannot take the other's connection
 * slots), in epoll mode with a small thread pool (no FD_SETSIZE bound),
 * with the limits of docs/api.md ("Limits"): connections per listener and
 * per TCP peer address, memory per connection, an idle timeout and a
 * deadline for a whole request (a watchdog shuts down a connection whose
 * request or response has taken longer, however it trickles). Everything
 * about the request itself is request.c's; this file hands it the raw
 * target, the head's bytes and the body, sends the answer, and counts in
 * the metrics every answer, libmicrohttpd's own refusals included.
 *
 * One request per connection: every answer says "Connection: close", so a
 * connection's deadline is its request's (an idle keep-alive connection
 * cannot hold a slot between requests). */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "gpuvisor/buf.h"
#include "gpuvisor/httpreq.h"
#include "gpuvisor/proc.h"

/* Connection slots per listener; per peer address on TCP. */
#define UNIX_CONN_LIMIT 1024
#define TCP_CONN_LIMIT 1024
#define TCP_PER_IP_LIMIT 64
/* Connections per user on the Unix socket (root unlimited): a group member
 * cannot take the slots root administers through. */
#define UNIX_PER_UID_LIMIT 256
/* libmicrohttpd's memory pool per connection: request line, headers and
 * its buffers. The body goes to our own buffer (at most GV_APIREQ_MAX_BODY). */
#define CONN_MEMORY 32768
#define IDLE_TIMEOUT_S 10
#define THREADS_PER_LISTENER 4
#define LISTEN_BACKLOG 4096

/* One connection: MHD's socket context, on its listener's list for the
 * watchdog. */
struct gvd_conn {
	struct gvd_conn *prev, *next;
	int fd;
	uid_t uid;	   /* the peer's (Unix socket; 0 on TCP) */
	uint64_t phase_ns; /* accepted, or its answer queued: the deadline counts from here */
	bool busy;	   /* a route handler runs for it: no deadline meanwhile */
	bool shut;	   /* shut down: by the watchdog, or refused */
	bool refused;	   /* over the per-user limit */
};

struct gvd_listener {
	struct gvd *d;
	bool tcp;
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock; /* conns */
	struct gvd_conn *conns;
};

struct gvd_http {
	struct gvd_listener unix_l, tcp_l;
	pthread_t watchdog;
	bool wd_started;
	pthread_mutex_t wd_lock;
	pthread_cond_t wd_cond;
	bool stop;
	uint64_t deadline_ns;
};

/* One request (MHD's client context), made when its request line arrives. */
struct req_ctx {
	struct gvd_conn *conn;
	char *target; /* copy of the raw target; NULL when over the limit */
	size_t target_len;
	const char *uri; /* MHD's buffer where the target was: for the head check */
	bool started;
	struct gv_buf body; /* what has come of the body; empty once too_large */
	bool too_large;
	uint64_t since; /* when the request arrived (gv_proc_now_ticks) */
	bool is_file;	/* the answer is a console file (may be cached) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct gvd_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void conn_set(struct gvd_listener *l, struct gvd_conn *conn, bool busy)
{
	if (!conn)
		return;
	pthread_mutex_lock(&l->lock);
	conn->busy = busy;
	conn->phase_ns = now_ns();
	pthread_mutex_unlock(&l->lock);
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	struct gvd_listener *l = cls;
	struct gvd_conn *conn = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		/* without a record the connection has only the idle timeout */
		conn = calloc(1, sizeof(*conn));
		if (!conn || !ci) {
			free(conn);
			*socket_context = NULL;
			return;
		}
		conn->fd = ci->connect_fd;
		conn->phase_ns = now_ns();
		if (!l->tcp) {
			struct ucred cred;
			socklen_t cl = sizeof(cred);

			if (getsockopt(conn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
				conn->uid = cred.uid;
		}
		pthread_mutex_lock(&l->lock);
		if (conn->uid != 0) {
			struct gvd_conn *o;
			int n = 0;

			for (o = l->conns; o; o = o->next)
				n += o->uid == conn->uid && !o->shut;
			/* over its share: shut down at once (libmicrohttpd then
			 * closes it), counted as the deadline's are not */
			if (n >= UNIX_PER_UID_LIMIT) {
				shutdown(conn->fd, SHUT_RDWR);
				conn->shut = true;
				conn->refused = true;
			}
		}
		conn->next = l->conns;
		if (l->conns)
			l->conns->prev = conn;
		l->conns = conn;
		pthread_mutex_unlock(&l->lock);
		*socket_context = conn;
		return;
	}
	if (!conn)
		return;
	/* MHD calls this before it closes the descriptor: once off the list,
	 * the watchdog can no longer shut down a number reused by another
	 * connection */
	pthread_mutex_lock(&l->lock);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		l->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	pthread_mutex_unlock(&l->lock);
	if (conn->shut && !conn->refused)
		gvd_metrics_deadline(&l->d->metrics);
	free(conn);
	*socket_context = NULL;
}

/* Called by MHD once the request line is parsed, before it splits the
 * query or %-decodes the path: the only place the target is seen as it
 * was sent (an "%00" in it is still three bytes). */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req_ctx *ctx = calloc(1, sizeof(*ctx));
	char *qm;

	(void)cls;
	if (!ctx)
		return NULL; /* the handler then drops the connection */
	ctx->conn = conn_of(c);
	ctx->uri = uri;
	ctx->target_len = strlen(uri);
	if (ctx->target_len <= GV_HTTP_TARGET_MAX) {
		ctx->target = malloc(ctx->target_len + 1);
		if (!ctx->target) {
			free(ctx);
			return NULL;
		}
		memcpy(ctx->target, uri, ctx->target_len + 1);
	}
	/* The daemon splits the query itself (request.c, from the copy above),
	 * with its own limits. libmicrohttpd 0.9.75 splits it right after this
	 * call into records in the connection's pool, and a query with
	 * thousands of arguments exhausts the pool: it then drops the
	 * connection or answers HTML. Ending the string it will split (its own
	 * writable read buffer, where it already found the '?') leaves it
	 * nothing to split. */
	qm = (char *)strchr(uri, '?');
	if (qm && qm[1])
		qm[1] = '\0';
	return ctx;
}

struct head_scan {
	const char *base;
	size_t len;
	unsigned char *cov;
};

static void cover(struct head_scan *h, const char *p, size_t n)
{
	uintptr_t b = (uintptr_t)h->base, s = (uintptr_t)p;
	size_t i;

	if (!p || s < b || s >= b + h->len)
		return;
	for (i = (size_t)(s - b); i < h->len && n > 0; i++, n--)
		h->cov[i] = 1;
}

static enum MHD_Result cover_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	cover(cls, key, key_size);
	cover(cls, value, value_size);
	return MHD_YES;
}

/* libmicrohttpd keeps the request head in place in its read buffer and
 * hands over C strings: a NUL byte inside the request line or a header
 * value hides what follows it ("Bearer TOKEN\0junk" reads as "Bearer
 * TOKEN", "/v1/instances/i-1\0junk" as "/v1/instances/i-1"). Every byte of
 * the head must therefore belong to a string it handed over or be one of
 * the separators it overwrote with NUL (space, tab, CR, LF, the colon):
 * anything else was hidden, and the request is refused. A folded header
 * line (obsolete, RFC 7230 3.2.4) is refused the same way. */
static bool head_hides_bytes(struct MHD_Connection *c, const char *method, const char *version,
			     const struct req_ctx *ctx, size_t head_len)
{
	struct head_scan h = { .base = method, .len = head_len };
	bool bad = false;
	size_t i;

	if (!method || head_len == 0 || head_len > 4 * CONN_MEMORY)
		return false;
	h.cov = calloc(head_len, 1);
	if (!h.cov)
		return true;
	cover(&h, method, strlen(method));
	cover(&h, ctx->uri, ctx->target_len);
	if (version)
		cover(&h, version, strlen(version));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, cover_header, &h);
	for (i = 0; i < head_len && !bad; i++) {
		unsigned char b = (unsigned char)method[i];

		if (!h.cov[i] && b != '\0' && b != ' ' && b != '\t' && b != '\r' && b != '\n')
			bad = true;
	}
	free(h.cov);
	return bad;
}

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

/* What request.c needs from the head (the body fields are the caller's). */
static void head_of(struct gvd_listener *l, struct MHD_Connection *c, const char *method,
		    const char *version, struct req_ctx *ctx, struct gvd_http_in *in)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	const char *auth = NULL;
	size_t alen = 0;

	memset(in, 0, sizeof(*in));
	in->method = method;
	in->target = ctx->target ? ctx->target : "";
	in->target_len = ctx->target_len;
	in->tcp = l->tcp;
	in->head_len = ci ? ci->header_size : 0;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
					  strlen(MHD_HTTP_HEADER_AUTHORIZATION), &auth,
					  &alen) == MHD_YES) {
		in->auth = auth;
		in->auth_len = alen;
	}
	auth = NULL;
	alen = 0;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE,
					  strlen(MHD_HTTP_HEADER_COOKIE), &auth,
					  &alen) == MHD_YES) {
		in->cookie = auth;
		in->cookie_len = alen;
	}
	auth = NULL;
	alen = 0;
	in->console_header = MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-Gpuvisor-Console",
							   strlen("X-Gpuvisor-Console"), &auth,
							   &alen) == MHD_YES &&
			     alen == 1 && auth[0] == '1';
	in->bad_head = head_hides_bytes(c, method, version, ctx, in->head_len);
	peer_of(c, l->tcp, ctx->since, &in->peer);
}

/* The target as the log may show it: its path only. A query is written
 * "?(redacted)": the one of /ui/login is a one-time ticket, and no other
 * is worth the risk of a secret pasted into one. */
static void target_for_log(const struct req_ctx *ctx, char *out, size_t cap)
{
	const char *t = ctx->target ? ctx->target : "";
	size_t i, n = strcspn(t, "?");

	snprintf(out, cap, "%.*s%s", (int)(n > 200 ? 200 : n), t, t[n] ? "?(redacted)" : "");
	/* bytes a terminal or a log reader would take for something else */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

/* Headers on every answer (docs/api.md, "Console"): what the browser may
 * load and run for a page of ours, and that no answer is sniffed, framed or
 * sent on as a referrer. */
static void security_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; script-src 'self'; style-src 'self'; "
				"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
				"base-uri 'none'; form-action 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

/* json_dump_callback's sink: 0 or -1, as jansson wants. */
static int dump_to_buf(const char *p, size_t n, void *data)
{
	return gv_buf_append(data, p, n) < 0 ? -1 : 0;
}

/* j as one compact line ending in a newline, or NULL (out of memory). */
static char *json_line(const json_t *j)
{
	struct gv_buf b = GV_BUF_INIT;

	if (json_dump_callback(j, dump_to_buf, &b, JSON_COMPACT) < 0 ||
	    gv_buf_appends(&b, "\n") < 0) {
		gv_buf_free(&b);
		return NULL;
	}
	return gv_buf_steal(&b);
}

static enum MHD_Result send_resp(struct gvd_listener *l, struct MHD_Connection *c,
				 struct req_ctx *ctx, const char *method, struct gvd_resp *r)
{
	struct gvd *d = l->d;
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char *text;
	size_t len;
	char shown[256];
	const char *ctype = "application/json";

	if (r->file) {
		text = r->file;
		len = r->file_len;
		r->file = NULL;
		ctype = r->file_type;
	} else if (r->status == 204 || r->status == 303) {
		text = NULL;
		len = 0;
	} else if (r->text) {
		text = r->text;
		r->text = NULL;
		len = strlen(text);
		ctype = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		text = r->json ? json_line(r->json) : NULL;
		if (!text) {
			r->status = 500;
			text = strdup(
				"{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n");
		}
		if (!text)
			return MHD_NO;
		len = strlen(text);
	}
	if (text)
		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	if (len > 0)
		MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Connection", "close");
	security_headers(resp);
	if (!ctx->is_file)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	if (r->location[0])
		MHD_add_response_header(resp, "Location", r->location);
	if (r->set_cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	ok = MHD_queue_response(c, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	if (ok == MHD_YES)
		gvd_metrics_count(&d->metrics, method, r->status);
	/* the method word may be any bytes: only a known one is shown */
	target_for_log(ctx, shown, sizeof(shown));
	gvd_log(GVD_LOG_DEBUG, "%s %s -> %d",
		strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(method) &&
				strlen(method) < 10
			? method
			: "(method)",
		shown, r->status);
	return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct gvd_listener *l = cls;
	struct req_ctx *ctx = *con_cls;
	struct gvd_http_in in;
	struct gvd_resp r = { .status = 500 };
	enum MHD_Result ok;

	(void)url;
	if (!ctx)
		return MHD_NO;
	if (!ctx->started) {
		ctx->started = true;
		if (gv_proc_now_ticks(&ctx->since) != 0)
			ctx->since = 0; /* no peer process can have started before */
		/* refused before any body is read: a wrong token, a bad head */
		head_of(l, c, method, version, ctx, &in);
		if (!gvd_http_refuse_early(l->d, &in, &r))
			return MHD_YES;
		goto answer;
	}
	if (*upload_size > 0) {
		/* an admitted caller keeps sending past the limit and gets its
		 * 413 instead of a reset connection, but nothing is kept (the
		 * deadline bounds how long) */
		if (!ctx->too_large && ctx->body.len + *upload_size > GV_APIREQ_MAX_BODY) {
			ctx->too_large = true;
			gv_buf_free(&ctx->body);
		}
		if (!ctx->too_large && gv_buf_append(&ctx->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	head_of(l, c, method, version, ctx, &in);
	in.body = ctx->body.data;
	in.body_len = ctx->body.len;
	in.body_too_large = ctx->too_large;
	conn_set(l, ctx->conn, true);
	gvd_http_serve(l->d, &in, &r);
	ctx->is_file = r.file != NULL;
answer:
	ok = send_resp(l, c, ctx, method, &r);
	conn_set(l, ctx->conn, false);
	json_decref(r.json);
	free(r.text);
	free(r.file);
	return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (ctx) {
		free(ctx->target);
		gv_buf_free(&ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's messages (a refused connection over a limit, a head it
 * cannot parse) are for debugging: a flood must not flood the log.
 *
 * They are also the only place where an answer it makes itself (a head it
 * cannot parse or hold: 400, 413, 414, 431, 505) shows: that happens
 * before the request reaches the daemon, often before its request line is
 * known, and by the time the connection closes the answer is gone. Every
 * such answer goes through one function of libmicrohttpd (0.9.75:
 * transmit_error_response_len) that logs this sentence with the status, so
 * it is counted here, under method "other". */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	static const char sent[] = "Error processing request (HTTP response code is ";
	struct gvd_listener *l = cls;
	char msg[512];
	unsigned code;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (strncmp(msg, sent, sizeof(sent) - 1) == 0 &&
	    sscanf(msg + sizeof(sent) - 1, "%u", &code) == 1 && code >= 100 && code <= 999)
		gvd_metrics_count(&l->d->metrics, "other", (int)code);
	gvd_log(GVD_LOG_DEBUG, "libmicrohttpd: %s", msg);
}

static void *watchdog(void *arg)
{
	struct gvd_http *h = arg;
	struct gvd_listener *ls[2] = { &h->unix_l, &h->tcp_l };
	struct gvd_conn *conn;
	struct timespec ts;
	uint64_t now;
	int i;

	pthread_mutex_lock(&h->wd_lock);
	while (!h->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->wd_cond, &h->wd_lock, &ts);
		if (h->stop)
			break;
		now = now_ns();
		for (i = 0; i < 2; i++) {
			if (!ls[i]->mhd)
				continue;
			pthread_mutex_lock(&ls[i]->lock);
			for (conn = ls[i]->conns; conn; conn = conn->next) {
				if (conn->busy || conn->shut ||
				    now - conn->phase_ns < h->deadline_ns)
					continue;
				/* MHD sees the end of the stream and closes it */
				shutdown(conn->fd, SHUT_RDWR);
				conn->shut = true;
			}
			pthread_mutex_unlock(&ls[i]->lock);
		}
	}
	pthread_mutex_unlock(&h->wd_lock);
	return NULL;
}

static int tcp_listen(const char *spec, int *fd_out, struct gv_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
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
		ret = gv_err_sys(err, "socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* the kernel caps the backlog at net.core.somaxconn */
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0)
		ret = gv_err_sys(err, "cannot listen on %s", spec);
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
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, THREADS_PER_LISTENER, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, l->tcp ? TCP_CONN_LIMIT : UNIX_CONN_LIMIT, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log, l },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, l },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, l },
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, l },
		/* per peer address on TCP only; on the Unix socket this entry
		 * ends the list */
		{ l->tcp ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, TCP_PER_IP_LIMIT,
		  NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				handler, l, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

static void listener_init(struct gvd_listener *l, struct gvd *d, bool tcp)
{
	l->d = d;
	l->tcp = tcp;
	pthread_mutex_init(&l->lock, NULL);
}

int gvd_http_start(struct gvd *d, int unix_fd, struct gvd_http **out, struct gv_err *err)
{
	struct gvd_http *h = calloc(1, sizeof(*h));
	int tfd = -1, ret = 0;

	*out = NULL;
	if (!h) {
		close(unix_fd);
		return gv_err_nomem(err);
	}
	listener_init(&h->unix_l, d, false);
	listener_init(&h->tcp_l, d, true);
	pthread_mutex_init(&h->wd_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->wd_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	h->deadline_ns = (uint64_t)d->o.request_timeout_s * 1000000000u;
	h->unix_l.mhd = start_mhd(&h->unix_l, unix_fd);
	if (!h->unix_l.mhd) {
		close(unix_fd);
		ret = gv_err_set(err, EIO, "cannot start the HTTP server on %s", d->o.socket_path);
		goto out;
	}
	if (d->o.listen) {
		ret = tcp_listen(d->o.listen, &tfd, err);
		if (ret)
			goto out;
		bound_addr(tfd, d->listen_addr, sizeof(d->listen_addr));
		h->tcp_l.mhd = start_mhd(&h->tcp_l, tfd);
		if (!h->tcp_l.mhd) {
			close(tfd);
			ret = gv_err_set(err, EIO, "cannot start the HTTP server on %s",
					 d->o.listen);
			goto out;
		}
	}
	ret = -pthread_create(&h->watchdog, NULL, watchdog, h);
	if (ret) {
		gv_err_set(err, -ret, "cannot start the request watchdog");
		goto out;
	}
	h->wd_started = true;
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
	if (h->wd_started) {
		pthread_mutex_lock(&h->wd_lock);
		h->stop = true;
		pthread_cond_signal(&h->wd_cond);
		pthread_mutex_unlock(&h->wd_lock);
		pthread_join(h->watchdog, NULL);
	}
	/* MHD closes the listen sockets it was given */
	if (h->tcp_l.mhd)
		MHD_stop_daemon(h->tcp_l.mhd);
	if (h->unix_l.mhd)
		MHD_stop_daemon(h->unix_l.mhd);
	free(h);
}

/* The bulk control socket: what a pre-copy helper (gpuvisor-ckpt precopy)
 * asks of a workload's shim to move its bulk (bulk.c) with a short stun.
 * The contract is docs/shim.md "The bulk control socket"; the design it
 * serves is docs/migration.md "The pre-copy design that follows".
 *
 * $GPUVISOR_BULK_CTL names the socket; gpuvisord sets it for every
 * workload, in a directory of its own made 0700 for the workload's uid.
 * Where that directory is not in the process's view (a container's
 * workload: the run directory is not mounted), gpuvisord binds the socket
 * there and gives it through the tenant endpoint (gv_tenant_bulk_socket),
 * and the shim listens on it; the rules below are the same.
 * Unset (or the bulk off): no socket, no hold, nothing here runs.
 *
 * The first process of the workload that makes a bulk allocation binds it
 * (then, not at start-up: a process without bulk has nothing to offer).
 * An existing path is probed with connect(): refused is a dead process's
 * file, replaced; accepted is another live process of the workload, which
 * keeps it (this process's bulk is then carried by the driver's checkpoint
 * like its other memory). One thread serves it, one connection at a time,
 * from root or the workload's own uid only (SO_PEERCRED; the directory is
 * the first fence). Requests and answers are one JSON object per line
 * (bulkreq.c reads them); descriptors travel with SCM_RIGHTS attached to
 * the line they belong to, sent in one sendmsg.
 *
 * States: running; stopped (the hold, hold.c: no submission runs, none is
 * in the driver, the contexts are drained); released (stopped, and some
 * entries unmapped: release took the bulk away and map has not put all of
 * it back). A connection that closes while stopped lets the workload run
 * (go); one that closes while released cannot: the helper held the only
 * references to the bulk, so the workload stays stopped (no submission may
 * ever run on unmapped memory), and that is said on stderr.
 *
 * fork: the child closes its copies of the descriptors (the parent serves
 * them) and may bind for itself at its own first bulk allocation.
 */
#include "bulk.h"
#include "bulkreq.h"

#include "gpuvisor/buf.h"
#include "gpuvisor/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define GV_CTL_VERSION 1
/* An answer that cannot be written in this long: the helper is stuck or
 * gone, and the connection is dropped. */
#define GV_CTL_SEND_TIMEOUT_S 10

static char gv_ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool gv_ctl_on;
static atomic_bool gv_ctl_tried;
static pthread_mutex_t gv_ctl_start_lock = PTHREAD_MUTEX_INITIALIZER;
/* the listening socket and the connection: the server thread's */
static int gv_ctl_lfd = -1, gv_ctl_cfd = -1;
static bool gv_ctl_stopped; /* the server thread's */

/* ------------------------------------------------------------- answers */

/* An answer being built; rc holds the first failure to add a piece (the
 * answer is then not sent at all rather than cut short). */
struct gv_sb {
	struct gv_buf b;
	int rc;
};

#define gv_sb_add(sb, ...) gv_buf_putf(&(sb)->b, &(sb)->rc, __VA_ARGS__)

/* s as a JSON string: quotes and backslashes escaped, control characters
 * dropped (the messages are the shim's own). */
static void gv_sb_str(struct gv_sb *b, const char *s)
{
	gv_sb_add(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			gv_sb_add(b, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			gv_sb_add(b, "%c", *s);
	}
	gv_sb_add(b, "\"");
}

static int gv_ctl_answer(int fd, struct gv_sb *b, const int *fds, size_t nfds)
{
	int rc;

	gv_sb_add(b, "\n");
	rc = b->rc < 0 ? -ENOMEM : gv_fdpass_send(fd, b->b.data, b->b.len, fds, nfds);
	gv_buf_free(&b->b);
	b->rc = 0;
	return rc;
}

static int gv_ctl_fail(int fd, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int gv_ctl_fail(int fd, const char *op, const char *fmt, ...)
{
	struct gv_sb b = { 0 };
	char msg[GV_ERR_MSG_MAX + 64];
	int n = op ? snprintf(msg, sizeof(msg), "%s: ", op) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	gv_sb_add(&b, "{\"ok\":false,\"error\":");
	gv_sb_str(&b, msg);
	gv_sb_add(&b, "}");
	return gv_ctl_answer(fd, &b, NULL, 0);
}

/* ------------------------------------------------------------ requests */

static const char *gv_ctl_state_name(void)
{
	if (!gv_ctl_stopped)
		return "running";
	return gv_bulk_unmapped() ? "released" : "stopped";
}

static int gv_ctl_uuid(CUdevice dev, char *out, size_t cap)
{
	CUuuid u;
	const unsigned char *b = (const unsigned char *)u.bytes;

	if (GV_REAL(cuDeviceGetUuid_v2)(&u, dev) != CUDA_SUCCESS)
		return -EIO;
	snprintf(out, cap,
		 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}

static int gv_ctl_list(int fd)
{
	struct gv_bulk_info *v = NULL;
	struct gv_sb b = { 0 };
	ssize_t n = gv_bulk_list(&v);
	char uuid[48];

	if (n < 0)
		return gv_ctl_fail(fd, "list", "out of memory");
	gv_sb_add(&b, "{\"ok\":true,\"bulk\":[");
	for (ssize_t i = 0; i < n; i++) {
		if (gv_ctl_uuid(v[i].dev, uuid, sizeof(uuid)) < 0) {
			free(v);
			gv_buf_free(&b.b);
			return gv_ctl_fail(fd, "list", "the UUID of device %d is not known",
					   (int)v[i].dev);
		}
		gv_sb_add(&b,
			  "%s{\"id\":%llu,\"base\":%llu,\"size\":%llu,\"bytes\":%llu,"
			  "\"device\":\"%s\",\"foreign\":%s}",
			  i ? "," : "", (unsigned long long)v[i].id, (unsigned long long)v[i].base,
			  (unsigned long long)v[i].size, (unsigned long long)v[i].bytes, uuid,
			  v[i].foreign ? "true" : "false");
	}
	gv_sb_add(&b, "]}");
	free(v);
	return gv_ctl_answer(fd, &b, NULL, 0);
}

static int gv_ctl_export(int fd, const struct gv_bulkreq *rq)
{
	int fds[GV_BULKREQ_IDS_MAX];
	struct gv_err err = { 0 };
	struct gv_sb b = { 0 };
	int rc;

	if (gv_ctl_stopped && gv_bulk_unmapped())
		return gv_ctl_fail(fd, "export", "the bulk is released");
	if (gv_bulk_export(rq->ids, rq->nids, fds, &err) < 0)
		return gv_ctl_fail(fd, "export", "%s", err.msg);
	gv_sb_add(&b, "{\"ok\":true,\"ids\":[");
	for (size_t i = 0; i < rq->nids; i++)
		gv_sb_add(&b, "%s%llu", i ? "," : "", (unsigned long long)rq->ids[i]);
	gv_sb_add(&b, "]}");
	rc = gv_ctl_answer(fd, &b, fds, rq->nids);
	/* the helper has them now; none is kept (a descriptor of its own
	 * memory held open would double it across a checkpoint) */
	for (size_t i = 0; i < rq->nids; i++)
		close(fds[i]);
	return rc;
}

static int gv_ctl_stop(int fd, const struct gv_bulkreq *rq)
{
	struct gv_err err = { 0 };
	struct gv_sb b = { 0 };
	double ms = 0;

	if (gv_ctl_stopped)
		return gv_ctl_fail(fd, "stop", "the workload is %s already", gv_ctl_state_name());
	if (gv_hold_stop(rq->timeout_ms, &ms, &err) < 0)
		return gv_ctl_fail(fd, "stop", "%s", err.msg);
	gv_ctl_stopped = true;
	gv_shim_log(true, "bulk control: stopped in %.3f ms", ms);
	gv_sb_add(&b, "{\"ok\":true,\"ms\":%.3f}", ms);
	return gv_ctl_answer(fd, &b, NULL, 0);
}

static int gv_ctl_release(int fd)
{
	struct gv_sb b = { 0 };
	unsigned n;

	if (!gv_ctl_stopped)
		return gv_ctl_fail(fd, "release", "the workload is running (stop first)");
	if (gv_bulk_unmapped())
		return gv_ctl_fail(fd, "release", "the bulk is released already");
	n = gv_bulk_release();
	gv_shim_log(true, "bulk control: %u allocations released", n);
	gv_sb_add(&b, "{\"ok\":true,\"released\":%u}", n);
	return gv_ctl_answer(fd, &b, NULL, 0);
}

/* Takes the fds: the table's on success, closed otherwise. */
static int gv_ctl_map(int fd, const struct gv_bulkreq *rq, int *fds, size_t nfds)
{
	struct gv_err err = { 0 };
	struct gv_sb b = { 0 };
	unsigned left = 0;
	int rc;

	if (!gv_ctl_stopped || !gv_bulk_unmapped())
		rc = gv_ctl_fail(fd, "map", "the bulk is not released");
	else if (nfds != rq->nids)
		rc = gv_ctl_fail(fd, "map", "%zu ids and %zu descriptors", rq->nids, nfds);
	else if (gv_bulk_map(rq->ids, fds, nfds, &left, &err) < 0)
		rc = gv_ctl_fail(fd, "map", "%s", err.msg);
	else {
		gv_sb_add(&b, "{\"ok\":true,\"mapped\":%zu,\"left\":%u}", nfds, left);
		return gv_ctl_answer(fd, &b, NULL, 0);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}

static int gv_ctl_go(int fd)
{
	struct gv_sb b = { 0 };
	unsigned left;

	if (!gv_ctl_stopped)
		return gv_ctl_fail(fd, "go", "the workload is running");
	if ((left = gv_bulk_unmapped()))
		return gv_ctl_fail(fd, "go", "%u bulk allocations are released and not mapped",
				   left);
	gv_hold_go();
	gv_ctl_stopped = false;
	gv_shim_log(true, "bulk control: running again");
	gv_sb_add(&b, "{\"ok\":true}");
	return gv_ctl_answer(fd, &b, NULL, 0);
}

static double gv_ctl_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int gv_ctl_own(int fd, const struct gv_bulkreq *rq)
{
	struct gv_err err = { 0 };
	struct gv_sb b = { 0 };
	struct timespec t0;
	unsigned owned = 0;
	int ret;

	if (gv_ctl_stopped)
		return gv_ctl_fail(fd, "own", "the workload is %s (go first)", gv_ctl_state_name());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gv_hold_stop(rq->timeout_ms, NULL, &err) < 0)
		return gv_ctl_fail(fd, "own", "%s", err.msg);
	ret = gv_bulk_own(&owned, &err);
	gv_hold_go();
	if (ret < 0)
		return gv_ctl_fail(fd, "own", "%s (%u moved before it)", err.msg, owned);
	gv_shim_log(true, "bulk control: %u foreign allocations made the workload's own", owned);
	gv_sb_add(&b, "{\"ok\":true,\"owned\":%u,\"ms\":%.3f}", owned, gv_ctl_ms_since(&t0));
	return gv_ctl_answer(fd, &b, NULL, 0);
}

/* One request line with the fds that came with it (consumed: kept by map,
 * else closed). A negative return drops the connection. */
static int gv_ctl_request(int fd, const char *line, size_t len, int *fds, size_t nfds,
			  bool truncated)
{
	struct gv_bulkreq rq;
	struct gv_err err = { 0 };
	struct gv_sb b = { 0 };
	const char *op;

	if (gv_bulkreq_parse(line, len, &rq, &err) < 0) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return gv_ctl_fail(fd, NULL, "bad request: %s", err.msg);
	}
	op = gv_bulkreq_op_name(rq.op);
	if (truncated || (nfds && rq.op != GV_BULKREQ_MAP)) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return gv_ctl_fail(fd, op,
				   truncated ? "more than %d descriptors in one message"
					     : "descriptors come with map only",
				   GV_BULKREQ_IDS_MAX);
	}
	switch (rq.op) {
	case GV_BULKREQ_HELLO:
		gv_sb_add(&b, "{\"ok\":true,\"pid\":%ld,\"version\":%d,\"state\":\"%s\"}",
			  (long)getpid(), GV_CTL_VERSION, gv_ctl_state_name());
		return gv_ctl_answer(fd, &b, NULL, 0);
	case GV_BULKREQ_LIST:
		return gv_ctl_list(fd);
	case GV_BULKREQ_EXPORT:
		return gv_ctl_export(fd, &rq);
	case GV_BULKREQ_STOP:
		return gv_ctl_stop(fd, &rq);
	case GV_BULKREQ_RELEASE:
		return gv_ctl_release(fd);
	case GV_BULKREQ_MAP:
		return gv_ctl_map(fd, &rq, fds, nfds);
	case GV_BULKREQ_GO:
		return gv_ctl_go(fd);
	case GV_BULKREQ_OWN:
		return gv_ctl_own(fd, &rq);
	default:
		return gv_ctl_fail(fd, op, "unknown op");
	}
}

/* --------------------------------------------------------- connections */

struct gv_conn {
	char buf[GV_BULKREQ_LINE_MAX + 1];
	size_t len;
	int fds[GV_BULKREQ_IDS_MAX];
	size_t nfds;
	bool truncated; /* more fds came than one message may carry */
};

static struct gv_conn gv_ctl_conn;

static void gv_conn_reset(struct gv_conn *c)
{
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->len = 0;
	c->nfds = 0;
	c->truncated = false;
}

/* Reads what is there and answers every complete line: 0, or negative
 * when the connection is over (closed, broken, or a line too long). */
static int gv_conn_read(int fd, struct gv_conn *c)
{
	ssize_t got = gv_fdpass_recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT,
				     c->fds, GV_BULKREQ_IDS_MAX, &c->nfds, &c->truncated);
	char *nl;

	if (got == -EINTR || got == -EAGAIN)
		return 0;
	if (got <= 0)
		return -EPIPE;
	c->len += (size_t)got;
	/* requests come one at a time (each waits for its answer), so the
	 * descriptors received so far belong to the first line */
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t n = (size_t)(nl - c->buf);
		int rc = gv_ctl_request(fd, c->buf, n, c->fds, c->nfds, c->truncated);

		c->nfds = 0;
		c->truncated = false;
		memmove(c->buf, nl + 1, c->len - n - 1);
		c->len -= n + 1;
		if (rc < 0)
			return rc;
	}
	if (c->len == sizeof(c->buf)) {
		(void)gv_ctl_fail(fd, NULL, "bad request: a request is longer than %d bytes",
				  GV_BULKREQ_LINE_MAX);
		return -E2BIG;
	}
	return 0;
}

/* The connection is gone: a stop it made is undone unless the bulk is
 * released, which it cannot be undone without the helper. */
static void gv_ctl_dropped(void)
{
	unsigned lost;

	gv_conn_reset(&gv_ctl_conn);
	if (!gv_ctl_stopped)
		return;
	lost = gv_bulk_unmapped();
	if (lost) {
		/* the contract's words (gpuvisord and people look for them),
		 * hence not gv_shim_log's prefix */
		fprintf(stderr,
			"gpuvisor: the pre-copy helper went away while the bulk memory was "
			"released: %u allocations lost\n",
			lost);
		return;
	}
	gv_hold_go();
	gv_ctl_stopped = false;
	gv_shim_log(true, "bulk control: the helper went away; running again");
}

static bool gv_ctl_peer_ok(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void gv_ctl_accept(int lfd)
{
	struct timeval tv = { .tv_sec = GV_CTL_SEND_TIMEOUT_S };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	uid_t uid = (uid_t)-1;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!gv_ctl_peer_ok(fd, &uid)) {
		(void)gv_ctl_fail(fd, NULL,
				  "permission denied: uid %ld is neither root nor the "
				  "workload's (%ld)",
				  (long)uid, (long)geteuid());
		close(fd);
		return;
	}
	if (gv_ctl_cfd >= 0) {
		(void)gv_ctl_fail(fd, NULL, "busy: another client is connected (one at a time)");
		close(fd);
		return;
	}
	gv_ctl_cfd = fd;
}

static void *gv_ctl_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = gv_ctl_lfd, .events = POLLIN },
				       { .fd = gv_ctl_cfd, .events = POLLIN } };

		if (poll(p, gv_ctl_cfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			gv_shim_log(false, "bulk control: poll: %s; the socket is no longer served",
				    strerror(errno));
			return NULL;
		}
		/* the connection first: a helper that closes and reconnects
		 * at once is not told it is busy with itself */
		if (gv_ctl_cfd >= 0 && p[1].revents && gv_conn_read(gv_ctl_cfd, &gv_ctl_conn) < 0) {
			close(gv_ctl_cfd);
			gv_ctl_cfd = -1;
			gv_ctl_dropped();
		}
		if (p[0].revents & POLLIN)
			gv_ctl_accept(gv_ctl_lfd);
	}
	return NULL;
}

/* ------------------------------------------------------------- binding */

/* The path exists: true when a live process serves it (connect accepted,
 * or its backlog is full); false when it is stale (and then removed). */
static bool gv_ctl_live(const struct sockaddr_un *sa, struct gv_err *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct stat st;
	int rc, e;

	if (fd < 0) {
		gv_err_sys(err, "socket");
		return true;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return true;
	if (e == ENOENT)
		return false;
	if (e != ECONNREFUSED || lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		gv_err_set(err, e, "%s exists and is not a socket to replace (%s)", sa->sun_path,
			   strerror(e));
		return true;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		gv_err_sys(err, "cannot remove the stale %s", sa->sun_path);
		return true;
	}
	return false;
}

static int gv_ctl_bind(struct gv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;
	int fd, rc;

	memcpy(sa.sun_path, gv_ctl_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gv_err_sys(err, "socket");
	for (int tries = 0;; tries++) {
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == ENOENT) {
			/* the directory is not in this process's view (a
			 * container's): gpuvisord binds it and gives the socket */
			close(fd);
			rc = gv_tenant_bulk_socket(&fd, err);
			if (rc)
				return rc;
			/* listening here makes the socket's credentials this
			 * process's: the helper checks them */
			if (listen(fd, 4) < 0) {
				rc = gv_err_sys(err, "%s: listen", gv_ctl_path);
				close(fd);
				return rc;
			}
			goto serve;
		}
		if (errno != EADDRINUSE || tries == 2) {
			rc = gv_err_sys(err, "bind %s", gv_ctl_path);
			goto fail;
		}
		if (gv_ctl_live(&sa, err)) {
			rc = err->msg[0] ? -err->code : -EADDRINUSE;
			goto fail;
		}
	}
	/* the directory (0700, the workload's) is the fence; this is the
	 * file's own, as the contract says */
	if (chmod(gv_ctl_path, 0600) < 0 || listen(fd, 4) < 0) {
		rc = gv_err_sys(err, "%s", gv_ctl_path);
		goto fail_bound;
	}
serve:
	gv_ctl_lfd = fd;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay the application's */
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, gv_ctl_main, NULL);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		gv_ctl_lfd = -1;
		rc = gv_err_sys_code(err, rc, "cannot start its thread");
		goto fail_bound;
	}
	gv_shim_log(true, "bulk control: serving %s", gv_ctl_path);
	return 0;
fail_bound:
	unlink(gv_ctl_path);
fail:
	close(fd);
	return rc;
}

void gv_bulkctl_start(void)
{
	struct gv_err err = { 0 };
	int rc;

	if (!gv_ctl_on || atomic_load_explicit(&gv_ctl_tried, memory_order_acquire))
		return;
	pthread_mutex_lock(&gv_ctl_start_lock);
	if (atomic_load(&gv_ctl_tried)) {
		pthread_mutex_unlock(&gv_ctl_start_lock);
		return;
	}
	rc = gv_ctl_bind(&err);
	atomic_store_explicit(&gv_ctl_tried, true, memory_order_release);
	pthread_mutex_unlock(&gv_ctl_start_lock);
	if (rc == -EADDRINUSE && !err.msg[0])
		gv_shim_log(true,
			    "bulk control: another process of the workload serves %s; this "
			    "process's bulk is carried by the driver's checkpoint",
			    gv_ctl_path);
	else if (rc < 0)
		/* no directory and no tenant endpoint to ask: this process
		 * does not see gpuvisord's run directory and was not started
		 * by gpuvisor (said under debug only, as gpuvisord refuses
		 * --mode precopy with the reason) */
		gv_shim_log(rc == -ENOENT,
			    "bulk control socket not served (no pre-copy of this "
			    "process's bulk): %s",
			    err.msg);
}

/* The parent serves; the child's copies of its descriptors go, and the
 * child may bind for itself at its own first bulk allocation (the
 * parent's live socket then stays the parent's). */
static void gv_bulkctl_atfork_child(void)
{
	pthread_mutex_init(&gv_ctl_start_lock, NULL);
	if (gv_ctl_lfd >= 0)
		close(gv_ctl_lfd);
	if (gv_ctl_cfd >= 0)
		close(gv_ctl_cfd);
	gv_ctl_lfd = gv_ctl_cfd = -1;
	for (size_t i = 0; i < gv_ctl_conn.nfds; i++)
		close(gv_ctl_conn.fds[i]);
	memset(&gv_ctl_conn, 0, sizeof(gv_ctl_conn));
	gv_ctl_stopped = false;
	atomic_store(&gv_ctl_tried, false);
}

void gv_bulkctl_init(void)
{
	const char *p = getenv("GPUVISOR_BULK_CTL");

	if (!p || !*p)
		return;
	if (strlen(p) >= sizeof(gv_ctl_path)) {
		gv_shim_log(false, "GPUVISOR_BULK_CTL=%s: path too long; no bulk control socket",
			    p);
		return;
	}
	memcpy(gv_ctl_path, p, strlen(p) + 1);
	if (pthread_atfork(NULL, NULL, gv_bulkctl_atfork_child) != 0) {
		gv_shim_log(false, "bulk control: cannot register a fork handler; no socket");
		return;
	}
	gv_hold_enable();
	gv_ctl_on = gv_hold_on;
}

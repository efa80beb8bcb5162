/* gpuvisor-ckpt: the client of a workload's bulk control socket
 * (docs/shim.md "The bulk control socket"): one JSON request per line,
 * one answer line each, file descriptors attached with SCM_RIGHTS. */
#include "ckpt.h"

#include "gpuvisor/buf.h"
#include "gpuvisor/fdpass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define BULKC_FDS_MAX 64
#define BULKC_LINE_MAX (4u << 20)

struct bulkc {
	int fd;
	struct gv_buf buf; /* bytes read past the last answer's newline */
};

int bulkc_open(const char *path, int pgid, struct bulkc **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct bulkc *c;
	int fd, ret;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return ckpt_fail(-ENAMETOOLONG, "bulk control socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ckpt_fail(-errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = ckpt_fail(-errno,
				"cannot reach the workload's bulk control socket %s: %s (its shim "
				"makes it at its first large allocation; a workload in a "
				"container does not see it)",
				path, strerror(errno));
		close(fd);
		return ret;
	}
	/* the server's pid as of its listen(): it must be the workload's */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 || cr.pid <= 0 ||
	    getpgid(cr.pid) != pgid) {
		close(fd);
		return ckpt_fail(-EPERM,
				 "the bulk control socket %s is served by process %d, which is "
				 "not in the workload's process group %d: refused",
				 path, (int)cr.pid, pgid);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return ckpt_fail(-ENOMEM, "out of memory");
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void bulkc_close(struct bulkc *c)
{
	if (!c)
		return;
	close(c->fd);
	gv_buf_free(&c->buf);
	free(c);
}

static int send_line(struct bulkc *c, const char *req, const int *fds, size_t n_fds)
{
	size_t len = strlen(req);
	char *line = malloc(len + 1);
	int ret = 0;

	if (!line)
		return ckpt_fail(-ENOMEM, "out of memory");
	if (n_fds > BULKC_FDS_MAX) {
		free(line);
		return ckpt_fail(-E2BIG, "more than %d descriptors in one request", BULKC_FDS_MAX);
	}
	memcpy(line, req, len);
	line[len++] = '\n';
	if (gv_fdpass_send(c->fd, line, len, fds, n_fds) != 0)
		ret = ckpt_fail(-EPIPE,
				"the workload's shim closed its bulk control "
				"connection (request %.60s)",
				req);
	free(line);
	return ret;
}

/* Reads up to the next newline; descriptors that came with it are kept
 * (up to cap), the rest closed. */
static int read_line(struct bulkc *c, char **line, int *fds, size_t cap, size_t *n_fds)
{
	*n_fds = 0;
	for (;;) {
		char *nl = c->buf.len ? memchr(c->buf.data, '\n', c->buf.len) : NULL;
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - c->buf.data);

			*line = malloc(n + 1);
			if (!*line)
				return ckpt_fail(-ENOMEM, "out of memory");
			memcpy(*line, c->buf.data, n);
			(*line)[n] = '\0';
			gv_buf_consume(&c->buf, n + 1);
			return 0;
		}
		/* each read gets 64 KiB of room at least; the buffer stays under
		 * BULKC_LINE_MAX */
		if (c->buf.len + 65536 >= BULKC_LINE_MAX)
			return ckpt_fail(-E2BIG, "the shim's answer is longer than %u bytes",
					 BULKC_LINE_MAX);
		if (gv_buf_reserve(&c->buf, 65536) < 0)
			return ckpt_fail(-ENOMEM, "out of memory");
		/* the last byte of the room stays for the buffer's '\0' */
		r = gv_fdpass_recv(c->fd, c->buf.data + c->buf.len, c->buf.cap - c->buf.len - 1, 0,
				   fds, cap, n_fds, NULL);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return ckpt_fail(-EPIPE, "the workload's shim closed its bulk control "
						 "connection");
		c->buf.len += (size_t)r;
	}
}

int bulkc_call(struct bulkc *c, const char *req, const int *fds, size_t n_fds, json_t **ans,
	       int *fds_out, size_t cap, size_t *n_out)
{
	int got[BULKC_FDS_MAX];
	size_t n_got = 0, i;
	char *line = NULL;
	json_t *j = NULL;
	int ret;

	*ans = NULL;
	if (n_out)
		*n_out = 0;
	ret = send_line(c, req, fds, n_fds);
	if (!ret)
		ret = read_line(c, &line, got, BULKC_FDS_MAX, &n_got);
	if (ret)
		goto out;
	j = json_loads(line, 0, NULL);
	if (!json_is_object(j)) {
		ret = ckpt_fail(-EPROTO, "the shim's answer is not a JSON object: %.80s", line);
		goto out;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *e = json_string_value(json_object_get(j, "error"));

		ret = ckpt_fail(-EIO, "the workload's shim refused %.40s: %s", req,
				e ? e : "(no reason given)");
		goto out;
	}
	if (n_got > cap) {
		ret = ckpt_fail(-EPROTO, "the shim sent %zu descriptors, %zu expected", n_got, cap);
		goto out;
	}
	for (i = 0; i < n_got; i++)
		fds_out[i] = got[i];
	if (n_out)
		*n_out = n_got;
	n_got = 0;
	*ans = j;
	j = NULL;
out:
	for (i = 0; i < n_got; i++)
		close(got[i]);
	json_decref(j);
	free(line);
	return ret;
}

int ckpt_bulk_own(const char *path, int pgid, unsigned timeout_ms, double *ms)
{
	struct bulkc *c = NULL;
	json_t *ans = NULL;
	char req[96];
	int ret;

	*ms = -1;
	if (access(path, F_OK) != 0)
		return 0; /* no bulk, or none of its own socket: nothing imported */
	ret = bulkc_open(path, pgid, &c);
	if (ret == -ECONNREFUSED || ret == -ENOENT) {
		ckpt_err[0] = '\0';
		return 0; /* the process that had it is gone */
	}
	if (ret)
		return ret;
	snprintf(req, sizeof(req), "{\"op\":\"own\",\"timeout_ms\":%u}",
		 timeout_ms ? timeout_ms : 30000);
	ret = bulkc_call(c, req, NULL, 0, &ans, NULL, 0, NULL);
	if (ret) {
		char why[sizeof(ckpt_err)];

		snprintf(why, sizeof(why), "%s", ckpt_err);
		ckpt_fail(ret,
			  "before the checkpoint, the bulk memory a pre-copy moved must "
			  "become the workload's own again: %s",
			  why);
	} else
		*ms = json_number_value(json_object_get(ans, "ms"));
	json_decref(ans);
	bulkc_close(c);
	return ret;
}

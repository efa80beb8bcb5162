/* Client of a workload shim's control socket (ctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "gpuvisor/fdpass.h"

#define CTL_LINE_MAX (64 * 1024)

int gvd_ctl_connect(const char *path, pid_t owner, int *fd_out, struct gv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	pid_t want, got;
	int fd;

	*fd_out = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return gv_err_set(err, ENAMETOOLONG, "control socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gv_err_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return gv_err_sys_code(err, e, "cannot reach the workload's control socket %s",
				       path);
	}
	/* the ctl directory is writable by every workload: only the
	 * workload's own process group may answer for it */
	if (owner > 0) {
		want = getpgid(owner);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || want < 0 ||
		    (got = getpgid(cred.pid)) != want) {
			close(fd);
			return gv_err_set(err, EPERM,
					  "the control socket %s is not served by the workload "
					  "(process group %d)",
					  path, (int)want);
		}
	}
	*fd_out = fd;
	return 0;
}

int gvd_ctl_send_fds(int fd, const json_t *msg, const int *fds, size_t n_fds, struct gv_err *err)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len;
	int ret = 0;

	if (!text)
		return gv_err_nomem(err);
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: sent as one line */
	ret = gv_fdpass_send(fd, text, len + 1, fds, n_fds);
	if (ret < 0)
		gv_err_sys_code(err, -ret, "control socket: send");
	free(text);
	return ret;
}

int gvd_ctl_send(int fd, const json_t *msg, struct gv_err *err)
{
	return gvd_ctl_send_fds(fd, msg, NULL, 0, err);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Takes one complete line out of b, parsed; 1 when there is none yet. */
static int take_line(struct gv_buf *b, json_t **out, struct gv_err *err)
{
	char *nl = b->len ? memchr(b->data, '\n', b->len) : NULL;
	json_error_t jerr;
	size_t ll;
	json_t *j;

	if (!nl) {
		if (b->len > CTL_LINE_MAX)
			return gv_err_set(err, EPROTO, "control socket: a line over %d bytes",
					  CTL_LINE_MAX);
		return 1;
	}
	ll = (size_t)(nl - b->data);
	j = json_loadb(b->data, ll, JSON_REJECT_DUPLICATES, &jerr);
	gv_buf_consume(b, ll + 1);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return gv_err_set(err, EPROTO,
				  "control socket: the shim sent a line that is not a "
				  "JSON object");
	}
	*out = j;
	return 0;
}

int gvd_ctl_recv(int fd, struct gv_buf *b, int timeout_ms, const atomic_bool *stop, json_t **out,
		 struct gv_err *err)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
	int ret;

	*out = NULL;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now;
		ssize_t n;
		int pr;

		ret = take_line(b, out, err);
		if (ret <= 0)
			return ret;
		if (stop && atomic_load(stop))
			return gv_err_set(err, ECANCELED, "gpuvisord is stopping");
		now = mono_ms();
		if (now >= deadline)
			return gv_err_set(err, ETIMEDOUT,
					  "the workload's shim did not answer within %d ms",
					  timeout_ms);
		pr = poll(&p, 1, (int)(deadline - now < 200 ? deadline - now : 200));
		if (pr < 0 && errno != EINTR)
			return gv_err_sys(err, "control socket: poll");
		if (pr <= 0)
			continue;
		if (gv_buf_reserve(b, 4096) < 0)
			return gv_err_nomem(err);
		/* the last byte of the room stays for the buffer's '\0' */
		n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return gv_err_sys(err, "control socket");
		if (n == 0)
			return gv_err_set(err, EPIPE,
					  "the workload's shim closed the control "
					  "connection (did the workload exit?)");
		b->len += (size_t)n;
	}
}

int gvd_ctl_hello(const char *path, pid_t owner, int timeout_ms, json_t **out, struct gv_err *err)
{
	struct gv_buf b;
	json_t *msg = json_pack("{s:s}", "op", "hello"), *ok;
	int fd = -1, ret;

	*out = NULL;
	gv_buf_init(&b);
	if (!msg)
		return gv_err_nomem(err);
	ret = gvd_ctl_connect(path, owner, &fd, err);
	if (!ret)
		ret = gvd_ctl_send(fd, msg, err);
	if (!ret)
		ret = gvd_ctl_recv(fd, &b, timeout_ms, NULL, out, err);
	if (!ret) {
		ok = json_object_get(*out, "ok");
		if (!json_is_true(ok)) {
			const char *e = json_string_value(json_object_get(*out, "error"));

			ret = gv_err_set(err, EPROTO, "the workload's shim refused hello: %s",
					 e ? e : "(no reason)");
			json_decref(*out);
			*out = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	json_decref(msg);
	gv_buf_free(&b);
	return ret;
}

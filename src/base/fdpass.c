/* gv_fdpass_: descriptors over a Unix socket (include/gpuvisor/fdpass.h). */
#include "gpuvisor/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Control data for GV_FDPASS_MAX descriptors, aligned for a cmsghdr. */
union gv_fdpass_ctl {
	char buf[CMSG_SPACE(sizeof(int) * GV_FDPASS_MAX)];
	struct cmsghdr align;
};

int gv_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union gv_fdpass_ctl u;
	size_t off = 0;

	if (nfds > GV_FDPASS_MAX || (nfds && !len))
		return -EINVAL;
	while (off < len) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		if (off == 0 && nfds) {
			struct cmsghdr *c;

			m.msg_control = u.buf;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			memset(u.buf, 0, m.msg_controllen);
			c = CMSG_FIRSTHDR(&m);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		w = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		off += (size_t)w;
	}
	return 0;
}

ssize_t gv_fdpass_recv(int sock, void *buf, size_t len, int flags, int *fds, size_t cap,
		       size_t *nfds, bool *lost)
{
	union gv_fdpass_ctl u;
	size_t room = cap > *nfds ? cap - *nfds : 0;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf };
	ssize_t got;

	/* room for what the caller can keep only: the kernel closes the rest
	 * (MSG_CTRUNC) rather than installing them in this process first */
	if (room > GV_FDPASS_MAX)
		room = GV_FDPASS_MAX;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * room);
	got = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC);
	if (got < 0)
		return -errno;
	if ((m.msg_flags & MSG_CTRUNC) && lost)
		*lost = true;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		const unsigned char *p = CMSG_DATA(h);
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			/* CMSG_SPACE rounds up: one more than room may fit */
			memcpy(&fd, p + i * sizeof(int), sizeof(fd));
			if (*nfds < cap) {
				fds[(*nfds)++] = fd;
			} else {
				close(fd);
				if (lost)
					*lost = true;
			}
		}
	}
	return got;
}

/* gpuvisor: file descriptors passed over a Unix socket (SCM_RIGHTS).
 *
 * The bulk control socket (src/shim/bulkctl.c and its client
 * src/ckpt/bulkc.c) and the tests that drive it send a message with
 * descriptors attached and receive them on the other side. libc only
 * (gvbase): the shim links it.
 *
 * Contract: descriptors are sent with the message's first byte, so on a
 * stream socket they arrive with the first recvmsg that reads that byte.
 * Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC); a receiver
 * never keeps more than it has room for: the others are closed (by the
 * kernel or here) and reported as lost, so none leak into the process.
 */
#ifndef GPUVISOR_FDPASS_H
#define GPUVISOR_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most descriptors one message carries (the kernel's SCM_MAX_FD). */
#define GV_FDPASS_MAX 253

/* Writes all len bytes of buf to the connected socket sock, with nfds
 * descriptors of fds attached to the first byte; EINTR is retried, and a
 * closed peer is an error, never a SIGPIPE (MSG_NOSIGNAL). Returns 0, or
 * -EINVAL (nfds over GV_FDPASS_MAX, or descriptors with no byte to carry
 * them), -EPIPE (nothing written) or the -errno of sendmsg. */
int gv_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* One recvmsg of at most len bytes into buf, flags | MSG_CMSG_CLOEXEC. The
 * descriptors that come with it are appended to fds at *nfds, up to cap in
 * all; *lost (when not NULL) is set to true when some could not be kept
 * (more came than the room left, or the control data was truncated): those
 * are closed. Returns the bytes read (0: the peer closed), or -errno of
 * recvmsg (fds and *nfds unchanged then). */
ssize_t gv_fdpass_recv(int sock, void *buf, size_t len, int flags, int *fds, size_t cap,
		       size_t *nfds, bool *lost);

#endif

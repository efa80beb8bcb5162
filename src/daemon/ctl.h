/* gpuvisord: client of a workload shim's control socket (private; ctl.c).
 * One JSON object per line, at most 64 KiB (docs/migration.md, "Control
 * channel"). Used by the migration and suspend paths; it knows nothing of
 * either. */
#ifndef GPUVISORD_CTL_H
#define GPUVISORD_CTL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "gpuvisor/buf.h"
#include "gpuvisor/err.h"

/* owner > 0: the peer must be in owner's process group (EPERM otherwise). */
int gvd_ctl_connect(const char *path, pid_t owner, int *fd_out, struct gv_err *err);
int gvd_ctl_send(int fd, const json_t *msg, struct gv_err *err);
/* The same with n_fds descriptors attached (SCM_RIGHTS), for the shim's
 * bulk control socket. */
int gvd_ctl_send_fds(int fd, const json_t *msg, const int *fds, size_t n_fds, struct gv_err *err);
/* Next line as a JSON object. b holds the bytes read from the socket that
 * do not yet form a whole line, from one call to the next (a struct gv_buf
 * the caller initialises and frees). -ETIMEDOUT after timeout_ms without one,
 * -EPIPE when the shim closed, -ECANCELED when *stop became true. */
int gvd_ctl_recv(int fd, struct gv_buf *b, int timeout_ms, const atomic_bool *stop, json_t **out,
		 struct gv_err *err);
/* {"op":"hello"} on a fresh connection: the answer (ok:true) or an error. */
int gvd_ctl_hello(const char *path, pid_t owner, int timeout_ms, json_t **out, struct gv_err *err);

#endif

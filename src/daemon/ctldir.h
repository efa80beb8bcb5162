/* gpuvisord: a workload's control directory, ctl/<instance>/ of the run
 * directory (private; ctldir.c). It holds the sockets the workload's shim
 * serves (shim.sock of a --migratable workload, bulk.sock of its bulk) and
 * follows the workload on a move through the driver. Used by the
 * migration, suspend and workload paths; it calls none of them. */
#ifndef GPUVISORD_CTLDIR_H
#define GPUVISORD_CTLDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon.h"

/* <run-dir>/ctl/<instance>/shim.sock: where a workload started on the
 * instance listens. */
void gvd_ctl_path(struct gvd *d, const char *inst, char *out, size_t cap);
/* Where the workload registered on in listens now (its shim's control
 * socket) and where it serves its bulk memory (bulk.sock beside it). */
void gvd_ctl_for(struct gvd *d, const struct gv_store_inst *in, char *out, size_t cap);
void gvd_bulk_for(struct gvd *d, const struct gv_store_inst *in, char *out, size_t cap);
/* A move through the driver: the workload's ctl directory (its sockets,
 * bound, follow it) becomes ctl/<dst>; a leftover ctl/<dst> is removed
 * first. 0 also when the source has none. Under d->lock. */
int gvd_ctl_move(struct gvd *d, const struct gv_store_inst *src, const char *dst,
		 struct gv_err *err);
/* For a workload that cannot reach the run directory (a container's: the
 * directory is not among its mounts): a socket bound at in's bulk path
 * (gvd_bulk_for) by gpuvisord, for the workload's shim, which listens and
 * serves on it (src/shim/tenant.c). Not listening: the credentials a
 * client sees (SO_PEERCRED) are those of the process that calls listen(),
 * so the shim's, which gpuvisord checks against the workload. The socket
 * file is the caller's uid's, mode 0600, as the shim makes its own. 0 and
 * *fd, -EADDRINUSE when a live process already serves there (the
 * workload's other process: kept, not replaced), or another negative
 * errno with err set. */
int gvd_bulk_bind(struct gvd *d, const struct gv_store_inst *in, uid_t uid, int *fd,
		  struct gv_err *err);
/* At a workload's registration: <run-dir>/ctl/<inst>/ afresh, owned by
 * pid's user, mode 0700, so that only that user (and root) can create the
 * control socket gpuvisord connects to (docs/api.md, "Tenants"). */
int gvd_ctl_prepare(struct gvd *d, const char *inst, pid_t pid, struct gv_err *err);

#endif

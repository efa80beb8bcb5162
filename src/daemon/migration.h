/* gpuvisord: live migration of a workload between instances (private).
 * The engine runs in the workload's shim; the daemon places the
 * destination, drives the shim over its control socket, relays progress,
 * stores the report and moves the registration (docs/migration.md). */
#ifndef GPUVISORD_MIGRATION_H
#define GPUVISORD_MIGRATION_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"
#include "daemon.h"
#include "gpuvisor/migreq.h"

/* <run-dir>/ctl/<instance>.sock: where a workload started on the instance
 * listens. */
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
/* At a workload's registration: <run-dir>/ctl/<inst>/ afresh, owned by
 * pid's user, mode 0700, so that only that user (and root) can create the
 * control socket gpuvisord connects to (docs/api.md, "Tenants"). */
int gvd_ctl_prepare(struct gvd *d, const char *inst, pid_t pid, struct gv_err *err);

/* migration.c; callers hold d->lock unless said otherwise. */
/* What a workload needs to be migratable, merged into its env by `gpuvisor
 * run --migratable`: {"env":{"GPUVISOR_CTL":<run-dir>/ctl/<id>.sock,
 * "GPUVISOR_DEVICE":<its device>,"CUDA_VISIBLE_DEVICES":<its device, then
 * every device it could move to>},"mounts":[the ctl directory]}. The shim
 * shows the application only GPUVISOR_DEVICE; the real driver must see the
 * destinations from the start. (New reference; JSON null on ENOMEM.) */
json_t *gvd_mig_env(struct gvd *d, const struct gv_store_inst *in);
/* Validates, creates the destination and starts the migration thread;
 * *http is the status to answer with (202 and *id_out on success). */
int gvd_mig_start(struct gvd *d, const struct gv_migreq *req, char *id_out, size_t cap,
		  int *http, struct gv_err *err);
/* Asks the shim of a running migration's workload to stop it (before the
 * switch the workload stays where it was). */
int gvd_mig_cancel(struct gvd *d, const char *id, int *http, struct gv_err *err);
/* At start, before the API opens: resolves rows left running by a crash. */
void gvd_mig_recover(struct gvd *d);
/* At shutdown, without d->lock: stops following running migrations (their
 * rows stay running and are resolved at the next start) and joins threads. */
void gvd_mig_shutdown(struct gvd *d);
/* A stored migration as the API shows it (new reference). */
json_t *gvd_mig_json(const struct gv_store_mig *m, bool full);

#endif

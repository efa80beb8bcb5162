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
#include "ctldir.h"
#include "daemon.h"
#include "gpuvisor/migreq.h"

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
int gvd_mig_start(struct gvd *d, const struct gv_migreq *req, char *id_out, size_t cap, int *http,
		  struct gv_err *err);
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

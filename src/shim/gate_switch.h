/* libgpuvisor-cuda: moving the time-slice gate (gate.c) with a migrated
 * workload (docs/scheduler.md, "Migration"). Called by the migration
 * endpoint (mig_host.c) on the control thread, one migration at a time,
 * in this order:
 *   gv_gate_switch_prepare  before anything changes (ep_open)
 *   gv_gate_switch_commit   at the switch, only when it succeeded
 *   gv_gate_switch_end      after the migration, switched or not
 */
#ifndef GV_GATE_SWITCH_H
#define GV_GATE_SWITCH_H

#include <stdbool.h>

#include "gpuvisor/err.h"

/* Attaches this process to tenant instance of the scheduler segment at
 * path (both NULL or "": the destination is not timeslice, the workload
 * runs ungated after the switch) as the spare gate. The gate in use does
 * not change. 0, or a negative errno with err set (-EBUSY when the gate of
 * the previous migration is still in use, -EIO when the attach failed):
 * the migration must then be refused. */
int gv_gate_switch_prepare(const char *path, const char *instance, struct gv_err *err);
/* The spare becomes the gate every submission passes from now on: two
 * atomic stores, no lock, no wait (the caller has the workload stunned).
 * Threads already waiting at the previous gate finish their wait there. */
void gv_gate_switch_commit(void);
/* committed: detaches the previous gate's client (its slice is drained
 * and handed over) once no thread is inside it (waits for those, up to
 * 30 s; past that it stays attached and is reported). Not committed:
 * detaches the spare; the gate in use is untouched. */
void gv_gate_switch_end(bool committed);

#endif

/* gpuvisor: cross-process memory accounting in a shared file.
 *
 * One accounting file holds one limit (an instance's framebuffer for the
 * shim, a simulated device's memory for libcudasim) and what every process
 * using it has charged. It is a small file (on tmpfs: /dev/shm or the
 * daemon's run directory) that every process maps:
 *
 *   header: magic, version, limit_bytes, n_slots, atomic total
 *   slots:  atomic owner (pid), process start time, atomic bytes, PID namespace
 *
 * Contracts:
 * - gv_acct_charge() succeeds only if total + bytes <= limit, decided by a
 *   compare-and-swap on total: concurrent processes together never exceed
 *   the limit. There is no lock anywhere, so a process killed at any
 *   instruction cannot block the others.
 * - A process gets a slot on its first charge (after fork() the child gets
 *   its own). When a process dies without uncharging (SIGKILL), its slot
 *   still holds its bytes until it is reclaimed: by gv_acct_reclaim_dead(),
 *   which gv_acct_charge() calls before failing with -ENOMEM (and then
 *   retries once), which gv_acct_used() calls, and which the daemon calls
 *   when it sweeps. A slot is dead when its pid no longer exists, is a
 *   zombie, or belongs to a process with another start time (pid reuse).
 *   A dead slot's bytes are given back exactly once, whatever the number of
 *   processes reclaiming at the same time.
 * - Pids are those of the PID namespace of the process that charged, and
 *   each slot records that namespace: a process in another PID namespace
 *   (the daemon sweeping a file a container's workload charges) never
 *   reclaims the slot, since the pid names nothing it can check. Such a
 *   slot goes back when a process of its namespace reclaims it or the
 *   file is recreated. (A slot whose owner has not yet recorded its start
 *   is judged by pid alone: a window of two adjacent atomic stores, with
 *   nothing charged yet.)
 * - Known window: a process killed between the compare-and-swap on total
 *   and the update of its slot (two adjacent atomic instructions) leaks
 *   that one charge until the file is recreated; it never under-counts.
 */
#ifndef GPUVISOR_ACCT_H
#define GPUVISOR_ACCT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/err.h"

#define GV_ACCT_MAGIC 0x54434341u /* "ACCT" little-endian */
#define GV_ACCT_VERSION 2u	  /* 2: slots record the PID namespace */
#define GV_ACCT_SLOTS 1024	  /* processes that may hold charges at once */

struct gv_acct;

struct gv_acct_usage {
	pid_t pid;
	uint64_t bytes;
};

/* Creates the accounting file at path with the given limit, mode 0660
 * (regardless of umask), all slots free. The file appears complete or not at
 * all (written aside, then linked into place): -EEXIST when path exists. */
int gv_acct_create(const char *path, uint64_t limit_bytes, struct gv_err *err);
/* Maps an existing file. -ENOENT when absent; -EINVAL when it is not an
 * accounting file of this version (bad magic, version or size). */
int gv_acct_open(const char *path, struct gv_acct **out, struct gv_err *err);
/* Opens path, creating it with limit_bytes first when absent; safe when
 * several processes race to create the same file (one wins, all open it). An
 * existing file keeps its own limit. */
int gv_acct_open_or_create(const char *path, uint64_t limit_bytes, struct gv_acct **out,
			   struct gv_err *err);
void gv_acct_close(struct gv_acct *acct);

/* Charges bytes to the calling process: 0, or -ENOMEM (over the limit even
 * after reclaiming dead processes; nothing changed), -ENOSPC (no free slot
 * for a new process), -EINVAL (acct NULL). Charging 0 bytes succeeds. */
int gv_acct_charge(struct gv_acct *acct, uint64_t bytes);
/* Gives back bytes charged by the calling process: 0, or -EINVAL when this
 * process has charged less than that (nothing changed). */
int gv_acct_uncharge(struct gv_acct *acct, uint64_t bytes);
/* Bytes charged by all live processes (dead ones are reclaimed first). */
uint64_t gv_acct_used(struct gv_acct *acct);
/* The limit charges are held to: the limit file's when one is in use
 * (gv_acct_use_limit_file), else the accounting file's header. */
uint64_t gv_acct_limit(const struct gv_acct *acct);

/* The limit out of the tenants' reach. The accounting file is written by
 * every process of the instance (it must be: charges are shared), so a
 * limit in it is one a tenant can raise. The daemon therefore also writes
 * the limit to a separate small file (mode 0644, replaced atomically) that
 * the shim maps PROT_READ and a container gets read-only; once a process
 * uses it, gv_acct_charge and gv_acct_limit ignore the header's field. */
#define GV_ACCT_LIMIT_MAGIC 0x54494d4cu /* "LMIT" little-endian */
int gv_acct_limit_create(const char *path, uint64_t limit_bytes, struct gv_err *err);
/* 0, or a negative errno (missing, not a limit file) with nothing changed. */
int gv_acct_use_limit_file(struct gv_acct *acct, const char *path, struct gv_err *err);

/* The highest total the file has held since it was created (exact: raised
 * by every charge); 0 when only processes older than the field charged. */
uint64_t gv_acct_peak(const struct gv_acct *acct);
/* Bytes charged by the calling process. */
uint64_t gv_acct_mine(const struct gv_acct *acct);
/* Reclaims the slots of dead processes; returns how many this call freed. */
int gv_acct_reclaim_dead(struct gv_acct *acct);
/* Writes up to max (pid, bytes) pairs of processes holding slots and returns
 * how many processes hold slots (which may exceed max), or -EINVAL. */
int gv_acct_slots(struct gv_acct *acct, struct gv_acct_usage *out, size_t max);

/* The accounting file libcudasim uses for one simulated device, so that the
 * daemon can read (gv_acct_slots) and sweep the device-wide use of every
 * process simulating it: <dir>/gpuvisor-sim-<16 hex digits>.acct, where dir
 * is $GPUVISOR_SIM_SHM_DIR or /dev/shm and the digits are the XXH64 of
 * "<real path of the node file>\n<device UUID>" (node_path NULL or empty:
 * devices from $GPUVISOR_SIM_MODELS or the default, key ""). The UUID is
 * the GPU- UUID, or the MIG- UUID of a MIG device. -ENAMETOOLONG if out is
 * too small. */
int gv_acct_sim_path(const char *node_path, const char *uuid, char *out, size_t len);

/* Parses the text of /proc/<pid>/stat (NUL-terminated): the state letter
 * (field 3) and the start time in clock ticks (field 22). 0, or -EINVAL
 * when the text is not in that format. Used to tell dead processes and
 * reused pids apart; public for its fuzz target. */
int gv_acct_parse_proc_stat(const char *text, char *state, uint64_t *start);

#endif

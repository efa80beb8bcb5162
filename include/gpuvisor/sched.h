/* gpuvisor: the time-slice scheduler of one timeslice GPU (CUDA-free core).
 *
 * One shared-memory segment per timeslice GPU: a file on tmpfs (e.g.
 * /run/gpuvisor/sched-<gpu uuid>), created by gpuvisord and mapped
 * MAP_SHARED by every tenant process (the shim) on that GPU. Only the
 * current holder of the slice may submit work; everyone else sleeps on a
 * futex in the segment. There is no lock in the segment: the right to make
 * a scheduling decision belongs to whoever holds the slice (or has claimed
 * it by compare-and-swap from "nobody" or from a dead holder), so a process
 * killed at any point stalls the others for at most about one slice.
 *
 * Roles:
 *  - daemon: gv_sched_create (creates, or adopts an existing segment after a
 *    restart, without disturbing running tenants), gv_sched_tenant_set /
 *    _remove per timeslice instance, gv_sched_set_policy, gv_sched_stats.
 *  - shim (one client per process): gv_sched_open + gv_sched_attach at
 *    start-up, gv_sched_gate before every kernel launch, graph launch, async
 *    copy and memset, gv_sched_detach at exit. The sync callback given to
 *    attach must wait until all work this process submitted has finished.
 *  - CLI/metrics: gv_sched_open + gv_sched_stats (read-only use).
 *
 * See docs/scheduler.md for the policies, the fairness arithmetic and the
 * failure handling.
 */
#ifndef GPUVISOR_SCHED_H
#define GPUVISOR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

#define GV_SCHED_MAX_TENANTS 32	    /* instances per GPU (H100 4c: 20) */
#define GV_SCHED_MAX_CLIENTS 64	    /* attached processes per GPU, all tenants */
#define GV_SCHED_INSTANCE_ID_MAX 64 /* including the terminating NUL */
#define GV_SCHED_SLICE_MIN_US 1000
#define GV_SCHED_SLICE_MAX_US 30000
#define GV_SCHED_SLICE_DEFAULT_US 2000
#define GV_SCHED_WEIGHT_MIN 1
#define GV_SCHED_WEIGHT_MAX 100
#define GV_SCHED_SHARE_FULL 1000000u /* share_ppm of the whole GPU */

enum gv_sched_policy {
	GV_SCHED_BEST_EFFORT = 0, /* round robin among tenants with work */
	GV_SCHED_EQUAL_SHARE = 1, /* equal (weighted) time among tenants with work */
	GV_SCHED_FIXED_SHARE = 2, /* each tenant owns its share; unused time idles */
};

struct gv_sched;	/* one mapping of a segment (process-local handle) */
struct gv_sched_client; /* one attached process (tenant side) */

/* "best-effort", "equal-share", "fixed-share"; NULL for an unknown value. */
const char *gv_sched_policy_name(enum gv_sched_policy policy);
/* Inverse of gv_sched_policy_name; -EINVAL (message in err) otherwise. */
int gv_sched_policy_parse(const char *name, enum gv_sched_policy *out, struct gv_err *err);

/* Daemon: create the segment file at path with the given policy and slice
 * (GV_SCHED_SLICE_MIN_US..GV_SCHED_SLICE_MAX_US), or, when a valid segment
 * already exists there (daemon restart), map it unchanged: its tenants,
 * figures, current holder and policy survive (policy and slice_us are then
 * only validated; change them with gv_sched_set_policy). A file of the
 * wrong size, magic or version is refused with -EPROTO, not overwritten. */
int gv_sched_create(const char *path, enum gv_sched_policy policy, uint32_t slice_us,
		    struct gv_sched **out, struct gv_err *err);
/* Tenants, CLI: map an existing segment (-ENOENT when the daemon has not
 * created it). */
int gv_sched_open(const char *path, struct gv_sched **out, struct gv_err *err);
/* Unmaps; the file and everything in it stay. Detach clients first. */
void gv_sched_free(struct gv_sched *s);

/* Requests a policy/slice change; it takes effect at the next handover
 * (within one slice plus the current kernel's overrun) and sleeping tenants
 * are woken so that an idle GPU re-decides at once. */
int gv_sched_set_policy(struct gv_sched *s, enum gv_sched_policy policy, uint32_t slice_us,
			struct gv_err *err);

/* Daemon: registers the timeslice instance instance_id, or updates its
 * weight/share when already registered (idempotent, so a restarted daemon
 * can replay its state). weight: GV_SCHED_WEIGHT_MIN..MAX (1 = default).
 * share_ppm: fixed-share entitlement in millionths of the GPU, normally
 * GV_SCHED_SHARE_FULL / (max count of the instance's profile); 0 means
 * "an equal part among the registered tenants". Returns the tenant slot
 * (>= 0) or -EINVAL / -ENOSPC. */
int gv_sched_tenant_set(struct gv_sched *s, const char *instance_id, uint32_t weight,
			uint32_t share_ppm, struct gv_err *err);
/* Daemon: forgets instance_id; -EBUSY while a live process is attached,
 * -ENOENT when not registered. */
int gv_sched_tenant_remove(struct gv_sched *s, const char *instance_id, struct gv_err *err);
/* Daemon: the tenants of instances a and b exchange names, so that the
 * processes attached to a's slot (and its history) are from now on
 * instance b's tenant and b's slot becomes a's (a workload resumed onto
 * another instance of the GPU keeps its attachment). The caller makes sure
 * no process attaches to either name meanwhile. -ENOENT when one is not
 * registered. */
int gv_sched_tenant_swap(struct gv_sched *s, const char *a, const char *b, struct gv_err *err);

struct gv_sched_tenant_stats {
	int slot;
	char instance_id[GV_SCHED_INSTANCE_ID_MAX];
	uint32_t weight;
	uint32_t share_ppm;    /* fixed-share entitlement after normalisation */
	uint32_t procs;	       /* live attached processes */
	bool waiting;	       /* some process of it waits at the gate */
	bool holding;	       /* it holds the slice now */
	uint64_t used_ns;      /* GPU time held, overruns included */
	uint64_t wait_ns;      /* time its processes spent waiting at the gate */
	uint64_t slices;       /* slices taken */
	uint64_t overruns;     /* slices that ran past their length */
	uint64_t overrun_ns;   /* total time past the slice lengths */
	uint64_t revocations;  /* slices taken from it while alive (stopped) */
	uint32_t share_1s_ppm; /* GPU time in the last second / that second */
};

struct gv_sched_stats {
	enum gv_sched_policy policy; /* the one in force */
	uint32_t slice_us;
	enum gv_sched_policy policy_requested;
	uint32_t slice_us_requested;
	uint64_t handovers;	    /* grants since the segment was created */
	uint64_t policy_applied_ns; /* CLOCK_MONOTONIC of the last applied change */
	int holder_slot;	    /* tenant slot holding the slice, -1 for none */
	size_t n_tenants;
	struct gv_sched_tenant_stats tenants[GV_SCHED_MAX_TENANTS];
};

/* Figures for `gpuvisor top` and /metrics; lock-free reads, so figures of
 * different tenants may be a few microseconds apart. */
int gv_sched_stats(struct gv_sched *s, struct gv_sched_stats *out, struct gv_err *err);

/* Waits until every piece of work the calling process submitted has
 * finished (the shim synchronises its streams/contexts). Called at the end
 * of a slice by the thread that hands over: an application thread inside
 * gv_sched_gate, or the client's watchdog thread; never concurrently with
 * itself. Returns 0, or a negative errno (the slice is handed over anyway). */
typedef int (*gv_sched_sync_fn)(void *arg);

/* No watchdog thread: slices end only inside gv_sched_gate/try_gate/yield
 * (deterministic tests with a fake clock). Without the watchdog, a holder
 * that stops calling the gate keeps the slice until the others revoke it
 * (100 ms past its deadline) or find it dead, and the process counts as
 * alive exactly as long as the attaching thread lives (detach from that
 * thread). The shim must not use this flag. */
#define GV_SCHED_NO_WATCHDOG 0x1u

struct gv_sched_attach_opts {
	gv_sched_sync_fn sync; /* may be NULL: nothing to drain */
	void *sync_arg;
	unsigned flags; /* GV_SCHED_NO_WATCHDOG */
};

/* Shim: attaches the calling process to the registered tenant instance_id
 * (-ENOENT when the daemon did not register it, -ENOSPC when every client
 * slot is taken by live processes). opts may be NULL. Starts the client's
 * watchdog thread, which ends slices on time and, for as long as it lives,
 * holds the process's liveness token in the segment. One client per
 * process; a forked child attaches for itself. */
int gv_sched_attach(struct gv_sched *s, const char *instance_id,
		    const struct gv_sched_attach_opts *opts, struct gv_sched_client **out,
		    struct gv_err *err);
/* Gives the slice back (draining through the sync callback) when held,
 * stops the watchdog and frees the client slot. NULL is allowed. */
void gv_sched_detach(struct gv_sched_client *c);

/* The gate. Returns 0 when the caller may submit one piece of work now.
 * Fast path (this process holds an unexpired slice): one atomic load of the
 * holder word, one vDSO clock read, no write to shared memory. Otherwise it
 * ends the slice if it is ours and expired, then sleeps on the futex until
 * granted. Thread-safe. Never returns an error in normal operation. */
int gv_sched_gate(struct gv_sched_client *c);
/* Like gv_sched_gate but never sleeps: -EAGAIN while another tenant holds
 * the slice (the caller is then registered as wanting it). */
int gv_sched_try_gate(struct gv_sched_client *c);
/* Gives up the slice now if this process holds it (drains first). */
int gv_sched_yield(struct gv_sched_client *c);

/* Testing hook: replaces CLOCK_MONOTONIC (in ns) for this handle and the
 * clients attached through it. Every process on a segment must use the
 * same time base. */
void gv_sched_set_clock(struct gv_sched *s, uint64_t (*now_ns)(void *arg), void *arg);

#endif

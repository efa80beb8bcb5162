/* gpuvisor scheduler: segment layout and the policy decisions, shared by
 * sched.c (segment, gate, handover), sched_admin.c (the daemon's
 * administration of a segment) and sched_policy.c (pure decisions), and
 * exposed to tests/unit/test_sched.c. Not a public interface.
 *
 * Every field that more than one process touches is a lock-free _Atomic
 * (address-free on x86-64, so valid across processes). Who writes what:
 *  - the decider (the process whose client holds the `holder` word, or has
 *    claimed it by CAS) writes everything under "decider" below;
 *  - a client writes its own record's want/wake/wait fields;
 *  - the daemon writes tenant weight/share/state and policy_req.
 */
#ifndef GV_SCHED_INTERNAL_H
#define GV_SCHED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gpuvisor/sched.h"

/* Atomic loads and stores of segment fields: relaxed, and acquire/release. */
#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define LDA(x) atomic_load_explicit(&(x), memory_order_acquire)
#define STR(x, v) atomic_store_explicit(&(x), (v), memory_order_release)

#define GV_SCHED_MAGIC 0x44484353u /* "SCHD" */
#define GV_SCHED_VERSION 2u
#define GV_SCHED_BUCKETS 10		/* ring of the last second */
#define GV_SCHED_BUCKET_NS 100000000ull /* 100 ms */
#define GV_SCHED_VTIME_SCALE 100ull	/* vtime += ns * SCALE / weight */

/* holder word: bits 0-6 client index + 1 (0: nobody), bit 7 "deciding"
 * (a claim without a slice), bits 8-63 the grant token. */
#define GV_SCHED_H_IDX(h) ((int)((h)&0x7f) - 1)
#define GV_SCHED_H_DECIDING 0x80ull
#define GV_SCHED_H_TOKEN(h) ((h) >> 8)
#define GV_SCHED_H_MAKE(idx, token, deciding) \
	(((uint64_t)(token) << 8) | ((deciding) ? GV_SCHED_H_DECIDING : 0) | (uint64_t)((idx) + 1))

enum { GV_SLOT_FREE = 0, GV_SLOT_CLAIMING = 1, GV_SLOT_ACTIVE = 2 };

struct gv_sched_tenant_rec {
	_Atomic uint32_t state; /* FREE or ACTIVE; daemon */
	_Atomic uint32_t weight;
	_Atomic uint32_t share_ppm;
	_Atomic uint32_t rr_client;		    /* last client granted (RR inside a tenant) */
	char instance_id[GV_SCHED_INSTANCE_ID_MAX]; /* set before state=ACTIVE */
	/* decider */
	_Atomic uint64_t used_ns;
	_Atomic uint64_t slices;
	_Atomic uint64_t overruns;
	_Atomic uint64_t overrun_ns;
	_Atomic uint64_t revocations;
	_Atomic uint64_t vtime;	   /* equal share: weighted service */
	_Atomic int64_t credit_ns; /* fixed share: entitlement not yet used */
	_Atomic uint64_t bucket_epoch[GV_SCHED_BUCKETS];
	_Atomic uint64_t bucket_ns[GV_SCHED_BUCKETS];
	/* clients of this tenant */
	_Atomic uint64_t wait_ns;
};

struct gv_sched_client_rec {
	_Atomic uint32_t state; /* FREE, CLAIMING, ACTIVE */
	_Atomic uint32_t wake;	/* futex word: bumped when granted */
	_Atomic int32_t tenant;
	_Atomic int32_t pid;	  /* as the process sees itself (messages only) */
	_Atomic uint32_t want;	  /* threads of it inside the gate's slow path */
	_Atomic uint32_t stalled; /* revoked while alive: skipped until it runs */
	_Atomic uint64_t want_since;
	/* process-shared robust mutex, locked by the client's watchdog thread
	 * for the whole attachment: "owner died" means the process is gone,
	 * in any pid namespace */
	pthread_mutex_t live;
};

struct gv_sched_seg {
	uint32_t magic;
	uint32_t version;
	uint32_t size;
	uint32_t max_tenants;
	uint32_t max_clients;
	uint32_t reserved0;
	_Atomic uint64_t holder;
	/* written by the decider before publishing holder (release) */
	_Atomic uint64_t hold_granted;	/* when the grant was published */
	_Atomic uint64_t hold_len;	/* slice length of the grant */
	_Atomic uint64_t hold_start;	/* set by the grantee when it picks up */
	_Atomic uint64_t hold_deadline; /* liveness horizon for waiters */
	_Atomic uint64_t idle_until;	/* fixed share: next time someone is eligible */
	_Atomic uint64_t generation;	/* grants so far; token source */
	_Atomic int32_t last_tenant;	/* round robin position */
	_Atomic uint32_t policy;	/* in force */
	_Atomic uint32_t slice_us;
	_Atomic uint32_t reserved1;
	_Atomic uint64_t policy_req; /* (policy << 32) | slice_us */
	_Atomic uint64_t policy_applied_ns;
	_Atomic uint64_t last_accrue; /* fixed share credit accrual time */
	_Atomic uint64_t vclock;      /* equal share: floor for returning tenants */
	struct gv_sched_tenant_rec tenants[GV_SCHED_MAX_TENANTS];
	struct gv_sched_client_rec clients[GV_SCHED_MAX_CLIENTS];
};

/* ---- policy decisions (sched_policy.c), all pure functions of the segment
 * and `now`; called only by the decider. ---- */

/* Applies a pending policy_req; returns true when something changed. */
bool gv_sched_apply_policy(struct gv_sched_seg *g, uint64_t now);
/* Fixed share: entitlement rate of tenant t in ppm after normalisation
 * (oversubscribed shares are scaled down to sum to the whole GPU). */
uint32_t gv_sched_fixed_rate(const struct gv_sched_seg *g, int t);
/* Fixed share: credits accrue with wall time up to a cap of two slices. */
void gv_sched_accrue(struct gv_sched_seg *g, uint64_t now);
/* Charges [from, to) of GPU time to tenant t (used, vtime, credit, ring). */
void gv_sched_charge(struct gv_sched_seg *g, int t, uint64_t from, uint64_t to);
/* Ends one slice of t that lasted `held` ns against its length `len`. */
void gv_sched_finish_slice(struct gv_sched_seg *g, int t, uint64_t held, uint64_t len);
/* Tenant t keeps the slice without a decision (nobody else wants it): the
 * equal-share floor follows its virtual time, as a decision would. */
void gv_sched_note_alone(struct gv_sched_seg *g, int t);
/* Slice length a grant to tenant t gets under the policy in force. */
uint64_t gv_sched_slice_len(const struct gv_sched_seg *g, int t);

struct gv_sched_pick {
	int tenant;	  /* -1: nobody to run now */
	uint64_t len;	  /* slice length of the grant */
	uint64_t wake_at; /* tenant == -1 under fixed share: next eligibility, 0 if none */
};
/* Chooses the tenant to run next among those whose want bit is set in
 * `wanting` (bit t = tenant t). prev is the tenant whose slice just ended
 * (-1 if none): round robin starts after it. Updates the equal-share vclock
 * floor of returning tenants (a tenant cannot bank time while idle). */
struct gv_sched_pick gv_sched_pick(struct gv_sched_seg *g, uint64_t now, uint32_t wanting,
				   int prev);

/* ---- segment helpers (sched.c), for sched_admin.c and the tests ---- */

/* One process's mapping of a segment, and its clock. */
struct gv_sched {
	struct gv_sched_seg *g;
	uint64_t (*now_fn)(void *arg);
	void *now_arg;
};

/* CLOCK_MONOTONIC in ns, and s's clock (gv_sched_set_clock, else that one). */
uint64_t gv_sched_mono_ns(void);
uint64_t gv_sched_now(const struct gv_sched *s);
/* Wakes every process sleeping on a segment futex word. */
void gv_sched_futex_wake_all(_Atomic uint32_t *word);
/* Bumps r's wake word and wakes its sleepers. */
void gv_sched_poke(struct gv_sched_client_rec *r);
/* Whether the process attached in client slot k lives: a process-shared
 * robust mutex in its record, held for the whole attachment by its
 * watchdog thread. */
bool gv_sched_client_alive(struct gv_sched_seg *g, int k);
/* Frees a client slot whose process is gone (any process may do this). */
void gv_sched_free_dead_client(struct gv_sched_seg *g, int k);
/* Pokes every active client that waits at the gate. */
void gv_sched_wake_wanting(struct gv_sched_seg *g);
/* The policy_req word of a policy and slice length. */
uint64_t gv_sched_policy_word(uint32_t policy, uint32_t slice_us);
/* Maps the segment file open at fd into a new handle (path names it in
 * messages); the caller has checked the segment. */
int gv_sched_map_fd(int fd, const char *path, struct gv_sched **out, struct gv_err *err);
/* Index of the active tenant named id, or -1. */
int gv_sched_find_tenant(struct gv_sched_seg *g, const char *id);

struct gv_sched_seg *gv_sched_seg_of(struct gv_sched *s);
/* Share of the last second of tenant t in ppm, as gv_sched_stats computes
 * (sched_admin.c). */
uint32_t gv_sched_share_1s(const struct gv_sched_seg *g, int t, uint64_t now);

#endif

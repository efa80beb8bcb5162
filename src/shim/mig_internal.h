/* libgpuvisor-cuda, migration mode: state shared by the mig_*.c files.
 *
 * Migration mode is on when $GPUVISOR_CTL is set at start-up (see
 * docs/migration.md, "The shim endpoint"). It costs nothing otherwise:
 * gv_mig_init() then returns at once and no slot changes. When it is on,
 * gv_mig_init() copies every resolved driver entry point into gv_mig_real
 * and points gv_shim_real[i] at
 *   - the migration layer's wrapper (mig_wrap_*.c, one file per API family;
 *     their tables are listed in mig_wrap.c) for the names it handles,
 *   - a refusing stub (CUDA_ERROR_NOT_SUPPORTED) for the other names that
 *     take a handle or write device memory (mig-refuse.txt),
 * so both the trampolines and the shim's own C functions (which forward
 * through GV_REAL) reach the wrapper, below the partition accounting.
 */
#ifndef GV_MIG_INTERNAL_H
#define GV_MIG_INTERNAL_H

#include "shim_internal.h"

#include <pthread.h>
#include <stdatomic.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/err.h"

/* The real driver, whatever gv_shim_real points at in migration mode. */
extern void *gv_mig_real[GV_SYM_COUNT];
#define MREAL(name) ((__typeof__(&name))gv_mig_real[GV_SYM_##name])

struct gv_mig_refuse_ent {
	int sym;
	void *fn;
};
extern const struct gv_mig_refuse_ent gv_mig_refuse_tab[];
extern const size_t gv_mig_refuse_n;
/* Logs the name once and returns CUDA_ERROR_NOT_SUPPORTED. */
CUresult gv_mig_refuse(int sym);
/* The same for a wrapped name refused for some arguments only (why: "a
 * copy from or to a CUDA array"): logs the name and why, once per name. */
CUresult gv_mig_refuse_why(int sym, const char *why);

/* The wrappers (mig_wrap_internal.h): each API family's table of
 * { sym, wrapper } rows, ended by a row with fn NULL; mig_wrap.c lists the
 * tables, mig_init.c installs them. */
struct gv_mig_wrap_ent {
	int sym;
	void *fn;
};
extern const struct gv_mig_wrap_ent *const gv_mig_wrap_tab[];
extern const size_t gv_mig_wrap_n;

/* --- mig_init.c */
bool gv_mig_on(void);
/* Installs the wrappers when $GPUVISOR_CTL is set; called by gv_shim_init. */
void gv_mig_init(void);
/* Marks the workload non-migratable; the first reason is kept. */
void gv_mig_taint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* NULL while migratable, else the reason (stable string). */
const char *gv_mig_taint_reason(void);

/* --- mig_gate.c: every wrapper runs between gv_mig_enter and gv_mig_leave.
 * Reentrant per thread. gv_mig_enter also makes the driver's current
 * context on this thread the real object of the shim context current here
 * (after a switch the real objects changed). */
void gv_mig_enter(void);
void gv_mig_leave(void);
/* Closes the gate and waits for the calls inside to leave. */
void gv_mig_gate_close(void);
void gv_mig_gate_open(void);

/* --- mig_obj.c: the application's handles */
enum gv_mobj_kind { GV_MOBJ_CTX = 1, GV_MOBJ_MOD, GV_MOBJ_FUNC, GV_MOBJ_STREAM, GV_MOBJ_EVENT };

struct gv_mobj {
	enum gv_mobj_kind kind;
	void *real;		     /* the driver object in use */
	void *next_real;	     /* made by switch_over, not yet committed */
	void *old_real;		     /* the source object, destroyed by src_release */
	struct gv_mobj *ctx;	     /* owning context (modules, streams, events) */
	struct gv_mobj *mod;	     /* FUNC: its module */
	struct gv_mobj *prev, *next; /* all live objects, creation order */
	/* CTX */
	bool primary;
	unsigned flags; /* CTX, STREAM, EVENT */
	unsigned refs;	/* CTX primary: application retains */
	/* STREAM */
	int priority;
	unsigned long long stream_id; /* first cuStreamGetId answer (0: not asked) */
	/* EVENT */
	bool recorded;
	/* MOD */
	char *path;  /* cuModuleLoad */
	void *image; /* cuModuleLoadData*: a copy */
	size_t image_len;
	/* FUNC */
	char *name;
};

extern pthread_mutex_t gv_mobj_lock;
extern struct gv_mobj *gv_mobj_head;
extern atomic_uint gv_mig_gen; /* +1 at every switch */

struct gv_mobj *gv_mobj_new(enum gv_mobj_kind kind, void *real);
void gv_mobj_free(struct gv_mobj *o);
/* The shim object for handle h of kind, NULL when h is not one. */
struct gv_mobj *gv_mobj_find(const void *h, enum gv_mobj_kind kind);
/* Handle -> driver object. NULL and the default-stream values pass; an
 * unknown handle passes as is and taints (it came from an entry point the
 * shim does not wrap, e.g. cuLibraryGetKernel). */
void *gv_mobj_real(const void *h, enum gv_mobj_kind kind);

/* Thread's current context (shim object) and the context stack. */
struct gv_mobj *gv_mig_cur_ctx(void);
void gv_mig_set_cur_ctx(struct gv_mobj *c);
void gv_mig_push_ctx(struct gv_mobj *c);
struct gv_mobj *gv_mig_pop_ctx(void);
void gv_mig_sync_ctx(void);
void gv_mig_forget_ctx(struct gv_mobj *c);

/* --- device mapping: the application sees device 0 only, the driver sees
 * the source first and the candidate destinations after it. */
extern atomic_int gv_mig_dev;	 /* real ordinal of the device in use */
extern char gv_mig_dev_uuid[96]; /* its UUID as the daemon names it */
/* app ordinal -> real, -1 when not 0. */
int gv_mig_dev_real(CUdevice app);
/* Real ordinal of a UUID ("GPU-..."/"MIG-..." or bare hex), -1 if none. */
int gv_mig_find_uuid(const char *uuid);
void gv_mig_uuid_str(const CUuuid *u, const char *prefix, char *out, size_t len);

/* --- mig_mem.c: device memory through VMM */
#define GV_MIG_GRAN (2ull << 20)

struct gv_mreg {
	uint64_t id;
	CUdeviceptr va;			 /* the application's range */
	uint64_t size;			 /* multiple of GV_MIG_GRAN */
	CUmemGenericAllocationHandle h;	 /* physical memory mapped at va */
	CUmemGenericAllocationHandle dh; /* destination (0: none) */
	CUdeviceptr dva;		 /* destination mapped here for the copies */
	CUmemGenericAllocationHandle oh; /* source after the switch */
	CUdeviceptr odva;		 /* staging range to free after the switch */
	bool slab;			 /* sub-allocated in 256-byte units */
	unsigned live;			 /* slab: live allocations */
	uint64_t bits[GV_MIG_GRAN / 256 / 64];
	struct gv_mreg *prev, *next;
};

extern pthread_mutex_t gv_mreg_lock;
extern struct gv_mreg *gv_mreg_head;
struct gv_mreg *gv_mreg_find_locked(uint64_t id);
size_t gv_mreg_count_locked(uint64_t *bytes);
/* Allocates bytes of device memory (256-byte aligned). */
CUresult gv_mig_alloc(CUdeviceptr *dptr, size_t bytes);
CUresult gv_mig_free(CUdeviceptr dptr);
/* Base and size of the allocation containing p. */
CUresult gv_mig_range(CUdeviceptr p, CUdeviceptr *base, size_t *size);
/* Physical memory of size bytes on real device dev, mapped at a new range
 * with read-write access for dev. */
CUresult gv_mig_phys_new(int dev, uint64_t size, CUmemGenericAllocationHandle *h, CUdeviceptr *va);
CUresult gv_mig_map(CUdeviceptr va, uint64_t size, CUmemGenericAllocationHandle h, int dev);

/* --- mig_throttle.c: auto-converge (struct gv_mig_ops.throttle). While
 * pct > 0, every work submission of the workload (launches, copies, sets:
 * the wrappers call gv_mig_throttle_point before the gate) sleeps what its
 * thread owes, so that the thread spends about pct% of its time asleep and
 * runs at (100 - pct)% of its speed. */
extern atomic_uint gv_mig_throttle_pct;
/* The engine's callback (ctx unused): pct 0 lifts the throttle, more than
 * 99 counts as 99. Returns 0. */
int gv_mig_throttle(void *ctx, unsigned pct);
/* Sleeps what the calling thread owes (gv_mig_throttle_due). */
void gv_mig_throttle_wait(void);

/* One relaxed load when no throttle is in force. */
static inline void gv_mig_throttle_point(void)
{
	if (atomic_load_explicit(&gv_mig_throttle_pct, memory_order_relaxed))
		gv_mig_throttle_wait();
}

/* A thread's throttle account; zero-initialised. */
struct gv_mig_thr {
	uint64_t last_ns; /* end of the thread's last throttle point */
	uint64_t debt_ns; /* sleep owed, at most GV_MIG_THROTTLE_WINDOW_NS */
	unsigned epoch;	  /* throttle period (from 0 to >0) it belongs to */
	bool started;
};
/* The owed sleep is capped to this window: a thread that ran for long
 * between two submissions sleeps at most this long at the next one. */
#define GV_MIG_THROTTLE_WINDOW_NS 2000000000ull
/* Pure (tests/shim/test_mig_throttle.c): charges the time the thread ran
 * since its last throttle point at pct/(100 - pct) ns of sleep per ns and
 * returns the debt, i.e. how long to sleep now. A new epoch (the throttle
 * was switched on again after 0) or a first call starts the account at
 * now_ns, owing nothing. pct 0 returns 0 and changes nothing. */
uint64_t gv_mig_throttle_due(struct gv_mig_thr *t, unsigned pct, unsigned epoch, uint64_t now_ns);
/* Pure: the thread slept slept_ns and it is now now_ns. */
void gv_mig_throttle_slept(struct gv_mig_thr *t, uint64_t slept_ns, uint64_t now_ns);

/* --- partition.c */
struct gv_acct;
struct gv_acct *gv_part_acct(void);
struct gv_acct *gv_part_swap(struct gv_acct *next);

/* --- mig_host.c: creates the control socket, loads the plugin */
void gv_mig_ctl_start(void);

#endif

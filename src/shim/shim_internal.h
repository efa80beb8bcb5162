/* libgpuvisor-cuda: state shared by the shim's files (never installed).
 *
 * Every source of the shim includes cuda.h through this header with
 * __CUDA_API_VERSION_INTERNAL defined, so each driver name means itself
 * (cuMemAlloc is the 32-bit legacy entry point, cuMemAlloc_v2 the current
 * one, cuLaunchKernel_ptsz the per-thread-stream one) instead of being
 * renamed by cuda.h's versioning macros.
 */
#ifndef GV_SHIM_INTERNAL_H
#define GV_SHIM_INTERNAL_H

#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gv_shim_syms.h" /* generated: enum gv_sym */
#include "gpuvisor/err.h"

#define GV_EXPORT __attribute__((visibility("default")))
#define GV_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Generated tables (gen-trampolines.cmake), indexed by enum gv_sym.
 * gv_shim_real[i] is the real driver's entry point once resolved (a lazy
 * stub that resolves first until then; a CUDA_ERROR_NOT_FOUND stub when the
 * driver lacks it). gv_shim_hook[i] is the shim's own function for an
 * intercepted name, NULL otherwise. */
extern void *gv_shim_real[GV_SYM_COUNT];
extern const char *const gv_shim_names[GV_SYM_COUNT];
extern void *const gv_shim_hook[GV_SYM_COUNT];

/* The real driver's function for a name, typed with cuda.h's prototype. */
#define GV_REAL(name) ((__typeof__(&name))gv_shim_real[GV_SYM_##name])

/* --- tenant.c: registers the workload on its instance's tenant endpoint
 * ($GPUVISOR_TENANT) once, at start; best effort, at most 2 s. */
void gv_tenant_register(void);
/* A socket gpuvisord bound at this workload's bulk path (not listening),
 * asked of the tenant endpoint ("bulk"): 0 and *fd; -EADDRINUSE when
 * another process of the workload serves it; another negative errno with
 * err set (no endpoint, not registered, refused). */
int gv_tenant_bulk_socket(int *fd, struct gv_err *err);

/* --- resolve.c: the only place that loads the driver and looks up symbols */

/* Finds and dlopens the real driver and fills gv_shim_real (every slot:
 * real or the NOT_FOUND stub). Called once, by gv_shim_init(). */
void gv_shim_resolve(void);
/* Loads FILE from the directory of the shim's real file (lib/shim/ in the
 * build, <libdir>/gpuvisor/shim/ installed: the plugin lives beside
 * libcuda.so.1), else from shim/ below it (lib/libgpuvisor-cuda.so loaded
 * by path), and returns its ENTRY symbol, or NULL after logging why. Used
 * only for the migration plugin. */
void *gv_shim_resolve_plugin(const char *file, const char *entry);
/* The symbol index whose real entry point is fn, preferring an intercepted
 * name when several names share an address; -1 when fn is not one of them. */
int gv_shim_lookup_real(const void *fn);

/* --- init.c */

/* Idempotent and thread-safe; also run by the library constructor and by
 * the lazy trampoline stubs. */
void gv_shim_init(void);
/* Cheap: one acquire load once initialised. */
void gv_shim_ensure_init(void);
/* Writes "gpuvisor-cuda: <message>" to stderr (always for errors; for
 * debug messages only when $GPUVISOR_SHIM_DEBUG is set). */
void gv_shim_log(bool debug, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Re-entry guard. A driver may call its own exported names while serving a
 * call (libcudasim's cuCtxDestroy calls cuCtxDestroy_v2 unless it is linked
 * -Bsymbolic), and those calls land in the shim again. Every intercepted
 * partition/context entry point starts with GV_ENTER(): nested calls on the
 * same thread are forwarded untouched (GV_PART_OFF() is true for them), so
 * nothing is charged twice and no shim lock is taken twice. The depth is
 * restored by a cleanup handler on every return path. */
extern __thread unsigned gv_shim_depth __attribute__((tls_model("initial-exec")));

static inline unsigned gv_shim_enter(void)
{
	return gv_shim_depth++;
}

static inline void gv_shim_leave(const unsigned *prev)
{
	gv_shim_depth = *prev;
}

#define GV_ENTER()             \
	gv_shim_ensure_init(); \
	const unsigned gv_nested_ __attribute__((cleanup(gv_shim_leave))) = gv_shim_enter()
#define GV_NESTED() (gv_nested_ != 0)
#define GV_PART_OFF() (GV_NESTED() || !gv_part_on())

/* --- partition.c: the instance's memory partition */

/* Opens $GPUVISOR_ACCT; without it the partition is off. */
void gv_part_init(void);
/* True when allocations are charged. */
bool gv_part_on(void);
/* 0, or CUDA_ERROR_OUT_OF_MEMORY (nothing charged). */
CUresult gv_part_charge(uint64_t bytes);
void gv_part_uncharge(uint64_t bytes);
/* The partition as cuMemGetInfo reports it. */
void gv_part_info(uint64_t *free_bytes, uint64_t *total_bytes);
uint64_t gv_part_limit(void);

/* --- track.c: what each live allocation charged */

enum gv_track_kind {
	GV_TRACK_DPTR,	 /* linear memory: cuMemAlloc*, pitch, managed, async */
	GV_TRACK_VMM,	 /* cuMemCreate physical memory handle */
	GV_TRACK_ARRAY,	 /* CUarray */
	GV_TRACK_MIPMAP, /* CUmipmappedArray */
	GV_TRACK_CTX,	 /* a context's own reservation */
};

/* Records that key (of kind) charged bytes, made while ctx was current
 * (NULL: not tied to a context). 0, or -ENOMEM / -EEXIST. */
int gv_track_add(enum gv_track_kind kind, uint64_t key, uint64_t bytes, CUcontext ctx);
/* Removes key's record and returns 0 with its bytes and context (ctx may
 * be NULL), or -ENOENT. */
int gv_track_remove(enum gv_track_kind kind, uint64_t key, uint64_t *bytes, CUcontext *ctx);
/* Removes every record tied to ctx (the context is gone, and with it its
 * allocations) and returns the bytes they charged. */
uint64_t gv_track_remove_ctx(CUcontext ctx);

/* --- alloc.c helpers shared with array.c and ctx.c */

/* A free in two steps: the record is taken out before the driver frees (so
 * an address the driver hands out again at once is not mistaken for the old
 * one), then gv_untrack_end() uncharges it when the driver's result r is
 * success, or puts it back when the driver refused. Returns r. */
struct gv_untrack {
	bool had;
	uint64_t bytes;
	CUcontext ctx;
};
struct gv_untrack gv_untrack_begin(enum gv_track_kind kind, uint64_t key);
CUresult gv_untrack_end(CUresult r, enum gv_track_kind kind, uint64_t key,
			const struct gv_untrack *u);

static inline uint64_t gv_mul_sat(uint64_t a, uint64_t b)
{
	uint64_t p;

	return __builtin_mul_overflow(a, b, &p) ? UINT64_MAX : p;
}

/* The context current on this thread, NULL when none or on error. */
CUcontext gv_shim_current_ctx(void);

/* --- ctx.c */

/* Forgets the cached per-device context overhead (tests, fork). */
void gv_ctx_reset_cache(void);

/* --- gate.c: the time-slice gate (issue 4, docs/scheduler.md).
 * Every work-submitting entry point the shim intercepts (launch.c,
 * gated.c) is a GV_SUBMIT_FN: without a scheduler segment
 * ($GPUVISOR_SCHED + $GPUVISOR_INSTANCE) and without the bulk control
 * socket (the hold, hold.c) that is one predictable branch on gv_gate_on,
 * which is set once at init. */
extern bool gv_gate_on __attribute__((visibility("hidden")));
/* Reads the environment and attaches to the segment; turns the gate path
 * on for the hold too (init.c, after gv_bulk_init). */
void gv_gate_init(void);
/* Records the current context for the drain, then gv_sched_gate(); with
 * the hold on, blocks while it is stopped and counts the submission:
 * true when the caller must gv_hold_leave() once the driver returned. */
bool gv_gate_wait(void);
/* A context about to be destroyed: the drain must not touch it again. */
void gv_gate_ctx_forget(CUcontext ctx);
/* Synchronises every context recorded by the gate (the drain): 0, or -EIO
 * when one failed. Real driver calls only. */
int gv_gate_sync_all(void);

/* --- hold.c: stopping every submission of the process (the bulk control
 * socket's stop, bulkctl.c). */
extern bool gv_hold_on __attribute__((visibility("hidden")));
/* Turns the hold on; before gv_gate_init, before any thread submits. */
void gv_hold_enable(void);
/* Counts this thread in flight unless a stop is in force (false). */
bool gv_hold_try_enter(void);
/* Waits while a stop is in force. */
void gv_hold_wait_go(void);
/* Counts this thread in flight, waiting out a stop first; false (nothing
 * counted) when the hold is off. */
bool gv_hold_enter(void);
/* Gives back one count of gv_hold_try_enter / gv_hold_enter. */
void gv_hold_leave(void);
/* Blocks new submissions, waits up to timeout_ms for those in flight and
 * synchronises every recorded context; *ms is the time it took. On
 * failure (-ETIMEDOUT, -EIO, -EBUSY when already stopped) nothing stays
 * stopped and err says why. */
int gv_hold_stop(uint64_t timeout_ms, double *ms, struct gv_err *err);
/* Lets the submissions run again. */
void gv_hold_go(void);

/* Defines the exported entry point name(params) that passes the gate and
 * forwards args to the driver. With the gate path off the entry point is
 * a compare, a branch and the tail jump to the driver (no registers saved
 * around a call that does not happen). */
#define GV_SUBMIT_FN(name, params, args)                                 \
	__attribute__((noinline)) static CUresult gv_gated_##name params \
	{                                                                \
		CUresult r_;                                             \
                                                                         \
		if (!gv_gate_wait())                                     \
			return GV_REAL(name) args;                       \
		r_ = GV_REAL(name) args;                                 \
		gv_hold_leave();                                         \
		return r_;                                               \
	}                                                                \
	GV_EXPORT CUresult CUDAAPI name params                           \
	{                                                                \
		if (GV_UNLIKELY(gv_gate_on))                             \
			return gv_gated_##name args;                     \
		return GV_REAL(name) args;                               \
	}

#endif

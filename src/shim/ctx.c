/* Contexts: a context reserves device memory of its own (on a GPU, a few
 * hundred MiB for code, stacks, printf and heap buffers), which the driver
 * shows in cuMemGetInfo but no allocation call returns. The shim charges it
 * as the driver reports it:
 *
 *   overhead(dev) = free before - free after creating one more context,
 *
 * read with the real cuMemGetInfo while a context of dev is current: after
 * the first context of dev exists (created or primary), the shim makes it
 * current and creates and destroys a probe context between two reads,
 * until two deltas agree (at most 5 probes), keeping the smallest: another
 * process allocating or creating its own context between the reads can
 * only enlarge a delta (on an H200, two processes starting together read
 * 549 MB and 1001 MB with a single pair of probes). The value is cached per device for the life of the
 * process, so every later context is charged before it is made; the first
 * one is charged right after (it must exist to be measured) and destroyed
 * again if the charge fails. A driver whose cuMemGetInfo does not move when
 * a context is created gets 0 charged.
 *
 * Destroying a context (cuCtxDestroy, last cuDevicePrimaryCtxRelease,
 * cuDevicePrimaryCtxReset) frees everything allocated in it, so the shim
 * uncharges those allocations too.
 */
#include "bulk.h"
#include "shim_internal.h"

#include <pthread.h>

#define GV_MAX_DEVICES 64
/* Probe contexts per measurement at most; it stops at two equal readings. */
#define GV_MEASURE_TRIALS 5

struct gv_prim {
	int refs;     /* retains seen by the shim */
	bool charged; /* overhead charged (false after a reset) */
	CUcontext ctx;
};

static pthread_mutex_t gv_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t gv_overhead[GV_MAX_DEVICES];
static bool gv_overhead_known[GV_MAX_DEVICES];
static struct gv_prim gv_prim[GV_MAX_DEVICES];

void gv_ctx_reset_cache(void)
{
	pthread_mutex_lock(&gv_ctx_lock);
	for (int i = 0; i < GV_MAX_DEVICES; i++)
		gv_overhead_known[i] = false;
	pthread_mutex_unlock(&gv_ctx_lock);
}

static CUresult gv_probe_create(CUcontext *probe, CUdevice dev)
{
	CUresult r = GV_REAL(cuCtxCreate_v4)(probe, NULL, 0, dev);

	if (r != CUDA_SUCCESS)
		r = GV_REAL(cuCtxCreate_v2)(probe, 0, dev);
	return r;
}

/* One measurement with ctx current; UINT64_MAX when the driver cannot say. */
static uint64_t gv_measure_once(CUdevice dev)
{
	size_t f1, f2, t;
	CUcontext probe = NULL;
	CUresult r;

	if (GV_REAL(cuMemGetInfo_v2)(&f1, &t) != CUDA_SUCCESS)
		return UINT64_MAX;
	if (gv_probe_create(&probe, dev) != CUDA_SUCCESS)
		return UINT64_MAX;
	r = GV_REAL(cuMemGetInfo_v2)(&f2, &t);
	/* destroying the current probe pops it: ctx is current again */
	GV_REAL(cuCtxDestroy_v2)(probe);
	if (r != CUDA_SUCCESS)
		return UINT64_MAX;
	return f1 > f2 ? f1 - f2 : 0;
}

/* The overhead of one context on dev, measured with ctx (a context of dev)
 * current, and cached. Caller holds gv_ctx_lock. */
static uint64_t gv_overhead_of(CUdevice dev, CUcontext ctx)
{
	uint64_t best = UINT64_MAX;
	CUcontext popped;

	if (dev >= 0 && dev < GV_MAX_DEVICES && gv_overhead_known[dev])
		return gv_overhead[dev];
	if (GV_REAL(cuCtxPushCurrent_v2)(ctx) != CUDA_SUCCESS)
		return 0;
	for (int trial = 0; trial < GV_MEASURE_TRIALS; trial++) {
		uint64_t d = gv_measure_once(dev);

		if (d != UINT64_MAX && d == best)
			break; /* two equal readings: nothing else moved in between */
		if (d < best)
			best = d;
	}
	GV_REAL(cuCtxPopCurrent_v2)(&popped);
	if (best == UINT64_MAX)
		best = 0;
	if (dev >= 0 && dev < GV_MAX_DEVICES) {
		gv_overhead[dev] = best;
		gv_overhead_known[dev] = true;
	}
	gv_shim_log(true, "context overhead on device %d: %llu bytes", (int)dev,
		    (unsigned long long)best);
	return best;
}

static bool gv_overhead_cached(CUdevice dev, uint64_t *bytes)
{
	if (dev < 0 || dev >= GV_MAX_DEVICES || !gv_overhead_known[dev])
		return false;
	*bytes = gv_overhead[dev];
	return true;
}

/* Everything a gone context held goes back to the partition; its bulk
 * memory is released, as the driver frees its linear memory. */
static void gv_ctx_gone(CUcontext ctx, uint64_t overhead)
{
	gv_bulk_ctx_gone(ctx);
	gv_part_uncharge(overhead + gv_track_remove_ctx(ctx));
}

/* Charges a context created by create() (which returns the driver's result
 * and writes *pctx), destroying it again when the charge fails. */
#define GV_CTX_CREATE(name, params, args)                                         \
	GV_EXPORT CUresult CUDAAPI name params                                    \
	{                                                                         \
		uint64_t oh = 0;                                                  \
		bool known;                                                       \
		CUresult r;                                                       \
                                                                                  \
		GV_ENTER();                                                       \
		if (GV_PART_OFF() || !pctx)                                       \
			return GV_REAL(name) args;                                \
		pthread_mutex_lock(&gv_ctx_lock);                                 \
		known = gv_overhead_cached(dev, &oh);                             \
		if (known && (r = gv_part_charge(oh)) != CUDA_SUCCESS)            \
			goto out;                                                 \
		r = GV_REAL(name) args;                                           \
		if (r != CUDA_SUCCESS) {                                          \
			if (known)                                                \
				gv_part_uncharge(oh);                             \
			goto out;                                                 \
		}                                                                 \
		if (!known) {                                                     \
			oh = gv_overhead_of(dev, *pctx);                          \
			if ((r = gv_part_charge(oh)) != CUDA_SUCCESS) {           \
				GV_REAL(cuCtxDestroy_v2)(*pctx);                  \
				*pctx = NULL;                                     \
				goto out;                                         \
			}                                                         \
		}                                                                 \
		if (gv_track_add(GV_TRACK_CTX, (uintptr_t)*pctx, oh, NULL) < 0) { \
			GV_REAL(cuCtxDestroy_v2)(*pctx);                          \
			*pctx = NULL;                                             \
			gv_part_uncharge(oh);                                     \
			r = CUDA_ERROR_OUT_OF_MEMORY;                             \
		}                                                                 \
out:                                                                              \
		pthread_mutex_unlock(&gv_ctx_lock);                               \
		return r;                                                         \
	}

GV_CTX_CREATE(cuCtxCreate, (CUcontext * pctx, unsigned int flags, CUdevice dev), (pctx, flags, dev))
GV_CTX_CREATE(cuCtxCreate_v2, (CUcontext * pctx, unsigned int flags, CUdevice dev),
	      (pctx, flags, dev))
GV_CTX_CREATE(cuCtxCreate_v3,
	      (CUcontext * pctx, CUexecAffinityParam *paramsArray, int numParams,
	       unsigned int flags, CUdevice dev),
	      (pctx, paramsArray, numParams, flags, dev))
GV_CTX_CREATE(cuCtxCreate_v4,
	      (CUcontext * pctx, CUctxCreateParams *ctxCreateParams, unsigned int flags,
	       CUdevice dev),
	      (pctx, ctxCreateParams, flags, dev))

#define GV_CTX_DESTROY(name)                                                         \
	GV_EXPORT CUresult CUDAAPI name(CUcontext ctx)                               \
	{                                                                            \
		uint64_t oh = 0;                                                     \
		bool had;                                                            \
		CUresult r;                                                          \
                                                                                     \
		GV_ENTER();                                                          \
		gv_gate_ctx_forget(ctx);                                             \
		if (GV_PART_OFF()) {                                                 \
			r = GV_REAL(name)(ctx);                                      \
			if (r == CUDA_SUCCESS && !GV_NESTED())                       \
				gv_bulk_ctx_gone(ctx);                               \
			return r;                                                    \
		}                                                                    \
		pthread_mutex_lock(&gv_ctx_lock);                                    \
		had = gv_track_remove(GV_TRACK_CTX, (uintptr_t)ctx, &oh, NULL) == 0; \
		r = GV_REAL(name)(ctx);                                              \
		if (r == CUDA_SUCCESS)                                               \
			gv_ctx_gone(ctx, had ? oh : 0);                              \
		else if (had)                                                        \
			(void)gv_track_add(GV_TRACK_CTX, (uintptr_t)ctx, oh, NULL);  \
		pthread_mutex_unlock(&gv_ctx_lock);                                  \
		return r;                                                            \
	}

GV_CTX_DESTROY(cuCtxDestroy)
GV_CTX_DESTROY(cuCtxDestroy_v2)

GV_EXPORT CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	struct gv_prim *p;
	uint64_t oh = 0;
	bool known;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !pctx || dev < 0 || dev >= GV_MAX_DEVICES)
		return GV_REAL(cuDevicePrimaryCtxRetain)(pctx, dev);
	p = &gv_prim[dev];
	pthread_mutex_lock(&gv_ctx_lock);
	if (p->charged) {
		r = GV_REAL(cuDevicePrimaryCtxRetain)(pctx, dev);
		if (r == CUDA_SUCCESS)
			p->refs++;
		goto out;
	}
	known = gv_overhead_cached(dev, &oh);
	if (known && (r = gv_part_charge(oh)) != CUDA_SUCCESS)
		goto out;
	r = GV_REAL(cuDevicePrimaryCtxRetain)(pctx, dev);
	if (r != CUDA_SUCCESS) {
		if (known)
			gv_part_uncharge(oh);
		goto out;
	}
	if (!known) {
		oh = gv_overhead_of(dev, *pctx);
		if ((r = gv_part_charge(oh)) != CUDA_SUCCESS) {
			GV_REAL(cuDevicePrimaryCtxRelease_v2)(dev);
			*pctx = NULL;
			goto out;
		}
	}
	p->refs++;
	p->charged = true;
	p->ctx = *pctx;
out:
	pthread_mutex_unlock(&gv_ctx_lock);
	return r;
}

/* After the driver released (last=true when it was the last retain) or
 * reset the primary context of dev. Caller holds gv_ctx_lock. */
static void gv_prim_gone(CUdevice dev, bool release)
{
	struct gv_prim *p = &gv_prim[dev];
	uint64_t oh = 0;

	if (release && p->refs > 0)
		p->refs--;
	if (release && p->refs > 0)
		return;
	if (p->charged && gv_overhead_cached(dev, &oh)) {
		gv_ctx_gone(p->ctx, oh);
		p->charged = false;
	} else if (p->ctx) {
		gv_ctx_gone(p->ctx, 0);
	}
}

#define GV_PRIM_RELEASE(name, release)                                   \
	GV_EXPORT CUresult CUDAAPI name(CUdevice dev)                    \
	{                                                                \
		CUresult r;                                              \
                                                                         \
		GV_ENTER();                                              \
		if (GV_PART_OFF() || dev < 0 || dev >= GV_MAX_DEVICES) { \
			r = GV_REAL(name)(dev);                          \
			if (r == CUDA_SUCCESS && !GV_NESTED())           \
				gv_bulk_prim_gone(dev, !(release));      \
			return r;                                        \
		}                                                        \
		pthread_mutex_lock(&gv_ctx_lock);                        \
		r = GV_REAL(name)(dev);                                  \
		if (r == CUDA_SUCCESS) {                                 \
			gv_prim_gone(dev, release);                      \
			gv_bulk_prim_gone(dev, !(release));              \
		}                                                        \
		pthread_mutex_unlock(&gv_ctx_lock);                      \
		return r;                                                \
	}

GV_PRIM_RELEASE(cuDevicePrimaryCtxRelease, true)
GV_PRIM_RELEASE(cuDevicePrimaryCtxRelease_v2, true)
GV_PRIM_RELEASE(cuDevicePrimaryCtxReset, false)
GV_PRIM_RELEASE(cuDevicePrimaryCtxReset_v2, false)

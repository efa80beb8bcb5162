/* Linear and VMM device memory: charged before it is made, uncharged when
 * the driver refuses it or when it is freed.
 *
 * What is charged is what the application asked for (bytesize; pitch x
 * height for pitched memory), not the driver's internal rounding, so a
 * partition of N bytes holds allocations totalling exactly N bytes.
 * Stream-ordered frees (cuMemFreeAsync) give the bytes back when the free is
 * enqueued; memory a pool keeps cached after frees is not charged. A VMM
 * handle is uncharged at cuMemRelease even if a mapping still holds it.
 *
 * cuMemAlloc_v2 of $GPUVISOR_BULK_MIN bytes and more is made as bulk
 * (bulk.c: exportable VMM memory), with the partition or without it; with
 * it, charged and tracked like any linear allocation. Its frees go to
 * bulk.c.
 *
 * Arguments the shim cannot charge for (NULL out-pointers) go straight to
 * the driver, so the caller gets the driver's own error.
 */
#include "bulk.h"
#include "shim_internal.h"

#include <errno.h>

CUcontext gv_shim_current_ctx(void)
{
	CUcontext ctx = NULL;

	if (GV_REAL(cuCtxGetCurrent)(&ctx) != CUDA_SUCCESS)
		return NULL;
	return ctx;
}

/* Finishes a charged linear allocation: on failure gives the charge back;
 * on success records it, and when it cannot be recorded frees it again
 * (an untracked charge would never come back). */
static CUresult gv_linear_done(CUresult r, uint64_t ptr, uint64_t bytes, CUcontext ctx)
{
	uint64_t stale;
	int rc;

	if (r != CUDA_SUCCESS) {
		gv_part_uncharge(bytes);
		return r;
	}
	rc = gv_track_add(GV_TRACK_DPTR, ptr, bytes, ctx);
	if (rc == -EEXIST) {
		/* the driver reused an address whose free the shim never saw
		 * (e.g. its context was reset): that old charge is gone too */
		if (gv_track_remove(GV_TRACK_DPTR, ptr, &stale, NULL) == 0)
			gv_part_uncharge(stale);
		rc = gv_track_add(GV_TRACK_DPTR, ptr, bytes, ctx);
	}
	if (rc < 0) {
		if (gv_bulk_owns(ptr))
			(void)gv_bulk_free(ptr);
		else
			GV_REAL(cuMemFree_v2)((CUdeviceptr)ptr);
		gv_part_uncharge(bytes);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

struct gv_untrack gv_untrack_begin(enum gv_track_kind kind, uint64_t key)
{
	struct gv_untrack u = { 0 };

	u.had = gv_track_remove(kind, key, &u.bytes, &u.ctx) == 0;
	return u;
}

CUresult gv_untrack_end(CUresult r, enum gv_track_kind kind, uint64_t key,
			const struct gv_untrack *u)
{
	if (!u->had)
		return r;
	if (r == CUDA_SUCCESS)
		gv_part_uncharge(u->bytes);
	else
		(void)gv_track_add(kind, key, u->bytes, u->ctx);
	return r;
}

/* bytes as bulk memory (bulk.c) on ctx's device; the process's first one
 * starts the bulk control socket. False: made as plain linear memory. */
static bool gv_alloc_bulk(CUdeviceptr *dptr, uint64_t bytes, CUcontext ctx)
{
	if (gv_bulk_alloc(dptr, bytes, ctx) != CUDA_SUCCESS)
		return false;
	gv_bulkctl_start();
	return true;
}

GV_EXPORT CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_NESTED() || !dptr)
		return GV_REAL(cuMemAlloc_v2)(dptr, bytesize);
	ctx = gv_shim_current_ctx();
	/* bulk when it can be made; the driver's own memory otherwise (no
	 * context: the driver's error; a driver without exportable VMM) */
	if (!gv_part_on()) {
		if (ctx && gv_bulk_wanted(bytesize) && gv_alloc_bulk(dptr, bytesize, ctx))
			return CUDA_SUCCESS;
		return GV_REAL(cuMemAlloc_v2)(dptr, bytesize);
	}
	if ((r = gv_part_charge(bytesize)) != CUDA_SUCCESS)
		return r;
	if (ctx && gv_bulk_wanted(bytesize) && gv_alloc_bulk(dptr, bytesize, ctx))
		return gv_linear_done(CUDA_SUCCESS, *dptr, bytesize, ctx);
	r = GV_REAL(cuMemAlloc_v2)(dptr, bytesize);
	return gv_linear_done(r, r == CUDA_SUCCESS ? *dptr : 0, bytesize, ctx);
}

GV_EXPORT CUresult CUDAAPI cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int bytesize)
{
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !dptr)
		return GV_REAL(cuMemAlloc)(dptr, bytesize);
	ctx = gv_shim_current_ctx();
	if ((r = gv_part_charge(bytesize)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMemAlloc)(dptr, bytesize);
	return gv_linear_done(r, r == CUDA_SUCCESS ? *dptr : 0, bytesize, ctx);
}

/* The pitch is the driver's choice: charge width x height first (the least
 * it can take), then the rest once the pitch is known. */
static CUresult gv_pitch_done(CUresult r, uint64_t ptr, uint64_t pitch, uint64_t height,
			      uint64_t pre, CUcontext ctx)
{
	uint64_t actual;

	if (r != CUDA_SUCCESS) {
		gv_part_uncharge(pre);
		return r;
	}
	actual = gv_mul_sat(pitch, height);
	if (actual > pre && gv_part_charge(actual - pre) != CUDA_SUCCESS) {
		GV_REAL(cuMemFree_v2)((CUdeviceptr)ptr);
		gv_part_uncharge(pre);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (actual < pre)
		gv_part_uncharge(pre - actual);
	return gv_linear_done(CUDA_SUCCESS, ptr, actual, ctx);
}

GV_EXPORT CUresult CUDAAPI cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pPitch,
					      size_t WidthInBytes, size_t Height,
					      unsigned int ElementSizeBytes)
{
	uint64_t pre = gv_mul_sat(WidthInBytes, Height);
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !dptr || !pPitch)
		return GV_REAL(cuMemAllocPitch_v2)(dptr, pPitch, WidthInBytes, Height,
						   ElementSizeBytes);
	ctx = gv_shim_current_ctx();
	if ((r = gv_part_charge(pre)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMemAllocPitch_v2)(dptr, pPitch, WidthInBytes, Height, ElementSizeBytes);
	r = gv_pitch_done(r, r == CUDA_SUCCESS ? *dptr : 0, r == CUDA_SUCCESS ? *pPitch : 0, Height,
			  pre, ctx);
	if (r != CUDA_SUCCESS)
		*dptr = 0;
	return r;
}

GV_EXPORT CUresult CUDAAPI cuMemAllocPitch(CUdeviceptr_v1 *dptr, unsigned int *pPitch,
					   unsigned int WidthInBytes, unsigned int Height,
					   unsigned int ElementSizeBytes)
{
	uint64_t pre = gv_mul_sat(WidthInBytes, Height);
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !dptr || !pPitch)
		return GV_REAL(cuMemAllocPitch)(dptr, pPitch, WidthInBytes, Height,
						ElementSizeBytes);
	ctx = gv_shim_current_ctx();
	if ((r = gv_part_charge(pre)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMemAllocPitch)(dptr, pPitch, WidthInBytes, Height, ElementSizeBytes);
	r = gv_pitch_done(r, r == CUDA_SUCCESS ? *dptr : 0, r == CUDA_SUCCESS ? *pPitch : 0, Height,
			  pre, ctx);
	if (r != CUDA_SUCCESS)
		*dptr = 0;
	return r;
}

GV_EXPORT CUresult CUDAAPI cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !dptr)
		return GV_REAL(cuMemAllocManaged)(dptr, bytesize, flags);
	ctx = gv_shim_current_ctx();
	if ((r = gv_part_charge(bytesize)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMemAllocManaged)(dptr, bytesize, flags);
	return gv_linear_done(r, r == CUDA_SUCCESS ? *dptr : 0, bytesize, ctx);
}

#define GV_ASYNC_ALLOC(name, params, args)                                              \
	GV_EXPORT CUresult CUDAAPI name params                                          \
	{                                                                               \
		CUcontext ctx;                                                          \
		CUresult r;                                                             \
                                                                                        \
		GV_ENTER();                                                             \
		if (GV_PART_OFF() || !dptr)                                             \
			return GV_REAL(name) args;                                      \
		ctx = gv_shim_current_ctx();                                            \
		if ((r = gv_part_charge(bytesize)) != CUDA_SUCCESS)                     \
			return r;                                                       \
		r = GV_REAL(name) args;                                                 \
		return gv_linear_done(r, r == CUDA_SUCCESS ? *dptr : 0, bytesize, ctx); \
	}

GV_ASYNC_ALLOC(cuMemAllocAsync, (CUdeviceptr * dptr, size_t bytesize, CUstream hStream),
	       (dptr, bytesize, hStream))
GV_ASYNC_ALLOC(cuMemAllocAsync_ptsz, (CUdeviceptr * dptr, size_t bytesize, CUstream hStream),
	       (dptr, bytesize, hStream))
GV_ASYNC_ALLOC(cuMemAllocFromPoolAsync,
	       (CUdeviceptr * dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream),
	       (dptr, bytesize, pool, hStream))
GV_ASYNC_ALLOC(cuMemAllocFromPoolAsync_ptsz,
	       (CUdeviceptr * dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream),
	       (dptr, bytesize, pool, hStream))

GV_EXPORT CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr)
{
	struct gv_untrack u;

	GV_ENTER();
	if (GV_NESTED() || (!gv_part_on() && !gv_bulk_owns(dptr)))
		return GV_REAL(cuMemFree_v2)(dptr);
	u = gv_untrack_begin(GV_TRACK_DPTR, dptr);
	if (gv_bulk_owns(dptr))
		return gv_untrack_end(gv_bulk_free(dptr), GV_TRACK_DPTR, dptr, &u);
	return gv_untrack_end(GV_REAL(cuMemFree_v2)(dptr), GV_TRACK_DPTR, dptr, &u);
}

GV_EXPORT CUresult CUDAAPI cuMemFree(CUdeviceptr_v1 dptr)
{
	struct gv_untrack u;

	GV_ENTER();
	if (GV_PART_OFF())
		return GV_REAL(cuMemFree)(dptr);
	u = gv_untrack_begin(GV_TRACK_DPTR, dptr);
	return gv_untrack_end(GV_REAL(cuMemFree)(dptr), GV_TRACK_DPTR, dptr, &u);
}

/* A stream-ordered free of bulk: the memory must stay until the work
 * queued before the free on hStream is done, so that work is waited for,
 * then the bulk goes at once. */
static CUresult gv_bulk_free_async(CUdeviceptr dptr, CUstream hStream)
{
	CUresult r = GV_REAL(cuStreamSynchronize)(hStream);

	return r == CUDA_SUCCESS ? gv_bulk_free(dptr) : r;
}

GV_EXPORT CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream)
{
	struct gv_untrack u;

	GV_ENTER();
	if (GV_NESTED() || (!gv_part_on() && !gv_bulk_owns(dptr)))
		return GV_REAL(cuMemFreeAsync)(dptr, hStream);
	u = gv_untrack_begin(GV_TRACK_DPTR, dptr);
	if (gv_bulk_owns(dptr))
		return gv_untrack_end(gv_bulk_free_async(dptr, hStream), GV_TRACK_DPTR, dptr, &u);
	return gv_untrack_end(GV_REAL(cuMemFreeAsync)(dptr, hStream), GV_TRACK_DPTR, dptr, &u);
}

GV_EXPORT CUresult CUDAAPI cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream hStream)
{
	struct gv_untrack u;

	GV_ENTER();
	if (GV_NESTED() || (!gv_part_on() && !gv_bulk_owns(dptr)))
		return GV_REAL(cuMemFreeAsync_ptsz)(dptr, hStream);
	u = gv_untrack_begin(GV_TRACK_DPTR, dptr);
	if (gv_bulk_owns(dptr))
		return gv_untrack_end(gv_bulk_free_async(dptr, hStream), GV_TRACK_DPTR, dptr, &u);
	return gv_untrack_end(GV_REAL(cuMemFreeAsync_ptsz)(dptr, hStream), GV_TRACK_DPTR, dptr, &u);
}

/* Physical memory on the host (VMM pinned host allocations) is not device
 * memory and is not charged. */
static bool gv_prop_on_device(const CUmemAllocationProp *prop)
{
	switch (prop->location.type) {
	case CU_MEM_LOCATION_TYPE_HOST:
	case CU_MEM_LOCATION_TYPE_HOST_NUMA:
	case CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT:
		return false;
	default:
		return true;
	}
}

GV_EXPORT CUresult CUDAAPI cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
				       const CUmemAllocationProp *prop, unsigned long long flags)
{
	CUresult r;
	int rc;

	GV_ENTER();
	if (GV_PART_OFF() || !handle || !prop || !gv_prop_on_device(prop))
		return GV_REAL(cuMemCreate)(handle, size, prop, flags);
	if ((r = gv_part_charge(size)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMemCreate)(handle, size, prop, flags);
	if (r != CUDA_SUCCESS) {
		gv_part_uncharge(size);
		return r;
	}
	/* physical memory belongs to the device, not to the current context */
	rc = gv_track_add(GV_TRACK_VMM, *handle, size, NULL);
	if (rc < 0) {
		GV_REAL(cuMemRelease)(*handle);
		gv_part_uncharge(size);
		*handle = 0;
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

GV_EXPORT CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle handle)
{
	struct gv_untrack u;

	GV_ENTER();
	if (GV_PART_OFF())
		return GV_REAL(cuMemRelease)(handle);
	u = gv_untrack_begin(GV_TRACK_VMM, handle);
	return gv_untrack_end(GV_REAL(cuMemRelease)(handle), GV_TRACK_VMM, handle, &u);
}

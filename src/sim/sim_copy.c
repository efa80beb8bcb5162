/* cuMemcpy* and cuMemset* (1-D, 2-D and 3-D, linear memory): operations
 * queued on a stream.
 *
 * Synchronous calls run on the legacy default stream (the per-thread one
 * for _ptds entry points) and return when done. Asynchronous calls return
 * at once, except when a host buffer is pageable (not from cuMemAllocHost /
 * cuMemHostAlloc / cuMemHostRegister): then they complete before returning,
 * as CUDA's do, so the caller may reuse the buffer.
 *
 * Device pointers must lie inside a live allocation (or a mapped VMM range
 * with access granted) for their whole length: CUDA_ERROR_INVALID_VALUE
 * otherwise, never a fault.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static void run_copy(struct sim_op *op)
{
	memmove(op->u.copy.dst, op->u.copy.src, op->u.copy.n);
}

static void run_set(struct sim_op *op)
{
	size_t n = op->u.set.n;

	switch (op->u.set.elem) {
	case 1:
		memset(op->u.set.dst, (int)(op->u.set.val & 0xff), n);
		break;
	case 2: {
		uint16_t *d = op->u.set.dst, v = (uint16_t)op->u.set.val;

		for (size_t i = 0; i < n; i++)
			d[i] = v;
		break;
	}
	default: {
		uint32_t *d = op->u.set.dst, v = op->u.set.val;

		for (size_t i = 0; i < n; i++)
			d[i] = v;
		break;
	}
	}
}

static bool pinned(const void *p, size_t n)
{
	struct sim_alloc a;

	return sim_mem_find((uintptr_t)p, n ? n : 1, &a) && a.kind != SIM_MEM_VMM;
}

enum side { SIDE_HOST, SIDE_DEV, SIDE_ANY };

/* A pointer of a copy: device pointers must be live and accessible; "any"
 * (cuMemcpy with unified addressing) may also be host memory outside the
 * simulated device address space. */
static CUresult check_side(uintptr_t p, size_t n, enum side side)
{
	struct sim_alloc a;

	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	if (side == SIDE_HOST)
		return CUDA_SUCCESS;
	if (sim_mem_find(p, n, &a))
		return sim_mem_check_dev((CUdeviceptr)p, n);
	if (side == SIDE_ANY && !sim_addr_in_device_space(p))
		return CUDA_SUCCESS;
	return CUDA_ERROR_INVALID_VALUE;
}

static CUresult copy(uintptr_t dst, enum side ds, uintptr_t src, enum side ss, size_t n, CUstream h,
		     bool pt, bool async)
{
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(h, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!n)
		return CUDA_SUCCESS;
	if ((rc = check_side(dst, n, ds)) != CUDA_SUCCESS ||
	    (rc = check_side(src, n, ss)) != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_copy;
	op->u.copy.dst = (void *)dst;
	op->u.copy.src = (const void *)src;
	op->u.copy.n = n;
	if (async && (ds == SIDE_DEV || pinned((void *)dst, n)) &&
	    (ss == SIDE_DEV || pinned((void *)src, n)))
		sim_stream_submit(s, op);
	else
		return sim_stream_run_sync(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{
	return copy(dstDevice, SIDE_DEV, (uintptr_t)srcHost, SIDE_HOST, ByteCount, NULL, false,
		    false);
}

SIM_API CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{
	return copy(dstDevice, SIDE_DEV, (uintptr_t)srcHost, SIDE_HOST, ByteCount, NULL, true,
		    false);
}

SIM_API CUresult cuMemcpyDtoH_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{
	return copy((uintptr_t)dstHost, SIDE_HOST, srcDevice, SIDE_DEV, ByteCount, NULL, false,
		    false);
}

SIM_API CUresult cuMemcpyDtoH_v2_ptds(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{
	return copy((uintptr_t)dstHost, SIDE_HOST, srcDevice, SIDE_DEV, ByteCount, NULL, true,
		    false);
}

SIM_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount)
{
	return copy(dstDevice, SIDE_DEV, srcDevice, SIDE_DEV, ByteCount, NULL, false, false);
}

SIM_API CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dstDevice, CUdeviceptr srcDevice,
				      size_t ByteCount)
{
	return copy(dstDevice, SIDE_DEV, srcDevice, SIDE_DEV, ByteCount, NULL, true, false);
}

SIM_API CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{
	return copy(dst, SIDE_ANY, src, SIDE_ANY, ByteCount, NULL, false, false);
}

SIM_API CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{
	return copy(dst, SIDE_ANY, src, SIDE_ANY, ByteCount, NULL, true, false);
}

SIM_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount,
				      CUstream hStream)
{
	return copy(dstDevice, SIDE_DEV, (uintptr_t)srcHost, SIDE_HOST, ByteCount, hStream, false,
		    true);
}

SIM_API CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dstDevice, const void *srcHost,
					   size_t ByteCount, CUstream hStream)
{
	return copy(dstDevice, SIDE_DEV, (uintptr_t)srcHost, SIDE_HOST, ByteCount, hStream, true,
		    true);
}

SIM_API CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount,
				      CUstream hStream)
{
	return copy((uintptr_t)dstHost, SIDE_HOST, srcDevice, SIDE_DEV, ByteCount, hStream, false,
		    true);
}

SIM_API CUresult cuMemcpyDtoHAsync_v2_ptsz(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount,
					   CUstream hStream)
{
	return copy((uintptr_t)dstHost, SIDE_HOST, srcDevice, SIDE_DEV, ByteCount, hStream, true,
		    true);
}

SIM_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice,
				      size_t ByteCount, CUstream hStream)
{
	return copy(dstDevice, SIDE_DEV, srcDevice, SIDE_DEV, ByteCount, hStream, false, true);
}

SIM_API CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dstDevice, CUdeviceptr srcDevice,
					   size_t ByteCount, CUstream hStream)
{
	return copy(dstDevice, SIDE_DEV, srcDevice, SIDE_DEV, ByteCount, hStream, true, true);
}

SIM_API CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream)
{
	return copy(dst, SIDE_ANY, src, SIDE_ANY, ByteCount, hStream, false, true);
}

SIM_API CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount,
				    CUstream hStream)
{
	return copy(dst, SIDE_ANY, src, SIDE_ANY, ByteCount, hStream, true, true);
}

static CUresult peer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx, size_t n,
		     CUstream h, bool pt, bool async)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!sim_ctx_valid((struct sim_ctx *)dctx) || !sim_ctx_valid((struct sim_ctx *)sctx))
		return CUDA_ERROR_INVALID_CONTEXT;
	return copy(dst, SIDE_DEV, src, SIDE_DEV, n, h, pt, async);
}

SIM_API CUresult cuMemcpyPeer(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice,
			      CUcontext srcContext, size_t ByteCount)
{
	return peer(dstDevice, dstContext, srcDevice, srcContext, ByteCount, NULL, false, false);
}

SIM_API CUresult cuMemcpyPeer_ptds(CUdeviceptr dstDevice, CUcontext dstContext,
				   CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount)
{
	return peer(dstDevice, dstContext, srcDevice, srcContext, ByteCount, NULL, true, false);
}

SIM_API CUresult cuMemcpyPeerAsync(CUdeviceptr dstDevice, CUcontext dstContext,
				   CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount,
				   CUstream hStream)
{
	return peer(dstDevice, dstContext, srcDevice, srcContext, ByteCount, hStream, false, true);
}

SIM_API CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dstDevice, CUcontext dstContext,
					CUdeviceptr srcDevice, CUcontext srcContext,
					size_t ByteCount, CUstream hStream)
{
	return peer(dstDevice, dstContext, srcDevice, srcContext, ByteCount, hStream, true, true);
}

/* ---- 2-D and 3-D copies ----
 *
 * Linear memory only: a side is host memory, device memory, or unified
 * (either, as cuMemcpy takes it). No CUDA array exists in the simulator, so
 * an array side is CUDA_ERROR_INVALID_HANDLE. A side's rows are pitch bytes
 * apart and its slices pitch * height bytes apart; the pitch must hold
 * X + WidthInBytes when there is more than one row, and the height Y +
 * Height when there is more than one slice (CUDA_ERROR_INVALID_VALUE
 * otherwise). The whole span a device side touches, from its first byte to
 * its last, must lie in one allocation. Nothing is copied for a zero
 * width, height or depth. Rows may overlap (memmove per row). */

struct rect_side {
	CUmemorytype type;
	uintptr_t base;
	size_t x, y, z, pitch, height;
};

static void run_rect(struct sim_op *op)
{
	for (size_t z = 0; z < op->u.rect.depth; z++)
		for (size_t y = 0; y < op->u.rect.height; y++)
			memmove(op->u.rect.dst + z * op->u.rect.dslice + y * op->u.rect.dpitch,
				op->u.rect.src + z * op->u.rect.sslice + y * op->u.rect.spitch,
				op->u.rect.width);
}

/* First byte (*first), slice stride (*slice) and span of one side, or
 * CUDA_ERROR_INVALID_VALUE / _INVALID_HANDLE. */
static CUresult rect_side(const struct rect_side *sd, size_t w, size_t h, size_t d,
			  uintptr_t *first, size_t *slice, size_t *span, enum side *side)
{
	size_t off, rows, t;
	struct sim_alloc a;

	switch (sd->type) {
	case CU_MEMORYTYPE_HOST:
		*side = SIDE_HOST;
		break;
	case CU_MEMORYTYPE_DEVICE:
		*side = SIDE_DEV;
		break;
	case CU_MEMORYTYPE_UNIFIED:
		*side = SIDE_ANY;
		break;
	case CU_MEMORYTYPE_ARRAY:
		return CUDA_ERROR_INVALID_HANDLE;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	if ((h > 1 || d > 1) && (__builtin_add_overflow(sd->x, w, &t) || sd->pitch < t))
		return CUDA_ERROR_INVALID_VALUE;
	if (d > 1 && (__builtin_add_overflow(sd->y, h, &t) || sd->height < t))
		return CUDA_ERROR_INVALID_VALUE;
	/* rows before the last one: (z + d - 1) * height + y + h - 1 */
	if (__builtin_mul_overflow(sd->pitch, sd->height, slice) ||
	    __builtin_mul_overflow(sd->z, *slice, &off) ||
	    __builtin_mul_overflow(sd->y, sd->pitch, &t) || __builtin_add_overflow(off, t, &off) ||
	    __builtin_add_overflow(off, sd->x, &off) ||
	    __builtin_mul_overflow(d - 1, *slice, span) ||
	    __builtin_mul_overflow(h - 1, sd->pitch, &rows) ||
	    __builtin_add_overflow(*span, rows, span) || __builtin_add_overflow(*span, w, span) ||
	    __builtin_add_overflow(sd->base, off, first) ||
	    __builtin_add_overflow(*first, *span, &t))
		return CUDA_ERROR_INVALID_VALUE;
	if (!sd->base)
		return CUDA_ERROR_INVALID_VALUE;
	/* unified: device memory when it lies in a simulated allocation */
	if (*side == SIDE_ANY && sim_mem_find(*first, *span, &a) && a.kind != SIM_MEM_HOST &&
	    a.kind != SIM_MEM_HOST_REG)
		*side = SIDE_DEV;
	return check_side(*first, *span, *side);
}

static CUresult rect_copy(const struct rect_side *dst, const struct rect_side *src, size_t w,
			  size_t h, size_t d, CUstream hs, bool pt, bool async)
{
	uintptr_t df, sf;
	size_t dslice, sslice, dspan, sspan;
	enum side ds, ss;
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!w || !h || !d)
		return CUDA_SUCCESS;
	if ((rc = rect_side(dst, w, h, d, &df, &dslice, &dspan, &ds)) != CUDA_SUCCESS ||
	    (rc = rect_side(src, w, h, d, &sf, &sslice, &sspan, &ss)) != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_rect;
	op->u.rect.dst = (char *)df;
	op->u.rect.src = (const char *)sf;
	op->u.rect.width = w;
	op->u.rect.height = h;
	op->u.rect.depth = d;
	op->u.rect.dpitch = dst->pitch;
	op->u.rect.spitch = src->pitch;
	op->u.rect.dslice = dslice;
	op->u.rect.sslice = sslice;
	if (async && (ds == SIDE_DEV || pinned((void *)df, dspan)) &&
	    (ss == SIDE_DEV || pinned((void *)sf, sspan)))
		sim_stream_submit(s, op);
	else
		return sim_stream_run_sync(s, op);
	return CUDA_SUCCESS;
}

static CUresult copy2d(const CUDA_MEMCPY2D *p, CUstream h, bool pt, bool async)
{
	struct rect_side d, s;

	if (!p)
		return sim_check_init() != CUDA_SUCCESS ? sim_check_init()
							: CUDA_ERROR_INVALID_VALUE;
	d = (struct rect_side){ p->dstMemoryType,
				p->dstMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->dstHost
								       : p->dstDevice,
				p->dstXInBytes,
				p->dstY,
				0,
				p->dstPitch,
				1 };
	s = (struct rect_side){ p->srcMemoryType,
				p->srcMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->srcHost
								       : p->srcDevice,
				p->srcXInBytes,
				p->srcY,
				0,
				p->srcPitch,
				1 };
	return rect_copy(&d, &s, p->WidthInBytes, p->Height, 1, h, pt, async);
}

static CUresult copy3d(const CUDA_MEMCPY3D *p, CUstream h, bool pt, bool async)
{
	struct rect_side d, s;

	if (!p || p->reserved0 || p->reserved1 || p->srcLOD || p->dstLOD)
		return sim_check_init() != CUDA_SUCCESS ? sim_check_init()
							: CUDA_ERROR_INVALID_VALUE;
	d = (struct rect_side){
		p->dstMemoryType,
		p->dstMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->dstHost : p->dstDevice,
		p->dstXInBytes,
		p->dstY,
		p->dstZ,
		p->dstPitch,
		p->dstHeight
	};
	s = (struct rect_side){
		p->srcMemoryType,
		p->srcMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->srcHost : p->srcDevice,
		p->srcXInBytes,
		p->srcY,
		p->srcZ,
		p->srcPitch,
		p->srcHeight
	};
	return rect_copy(&d, &s, p->WidthInBytes, p->Height, p->Depth, h, pt, async);
}

SIM_API CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *pCopy)
{
	return copy2d(pCopy, NULL, false, false);
}

SIM_API CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *pCopy)
{
	return copy2d(pCopy, NULL, true, false);
}

/* The simulator has no alignment constraints: the unaligned copy is the
 * same copy. */
SIM_API CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *pCopy)
{
	return copy2d(pCopy, NULL, false, false);
}

SIM_API CUresult cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D *pCopy)
{
	return copy2d(pCopy, NULL, true, false);
}

SIM_API CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *pCopy, CUstream hStream)
{
	return copy2d(pCopy, hStream, false, true);
}

SIM_API CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *pCopy, CUstream hStream)
{
	return copy2d(pCopy, hStream, true, true);
}

SIM_API CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D *pCopy)
{
	return copy3d(pCopy, NULL, false, false);
}

SIM_API CUresult cuMemcpy3D_v2_ptds(const CUDA_MEMCPY3D *pCopy)
{
	return copy3d(pCopy, NULL, true, false);
}

SIM_API CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *pCopy, CUstream hStream)
{
	return copy3d(pCopy, hStream, false, true);
}

SIM_API CUresult cuMemcpy3DAsync_v2_ptsz(const CUDA_MEMCPY3D *pCopy, CUstream hStream)
{
	return copy3d(pCopy, hStream, true, true);
}

/* ---- memset ---- */

static CUresult set(CUdeviceptr dst, uint32_t val, size_t elem, size_t n, CUstream h, bool pt,
		    bool async)
{
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(h, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!n)
		return CUDA_SUCCESS;
	if (dst % elem || n > SIZE_MAX / elem)
		return CUDA_ERROR_INVALID_VALUE;
	rc = sim_mem_check_dev(dst, n * elem);
	if (rc != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_set;
	op->u.set.dst = (void *)(uintptr_t)dst;
	op->u.set.val = val;
	op->u.set.elem = elem;
	op->u.set.n = n;
	if (async)
		sim_stream_submit(s, op);
	else
		return sim_stream_run_sync(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{
	return set(dstDevice, uc, 1, N, NULL, false, false);
}

SIM_API CUresult cuMemsetD8_v2_ptds(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{
	return set(dstDevice, uc, 1, N, NULL, true, false);
}

SIM_API CUresult cuMemsetD16_v2(CUdeviceptr dstDevice, unsigned short us, size_t N)
{
	return set(dstDevice, us, 2, N, NULL, false, false);
}

SIM_API CUresult cuMemsetD16_v2_ptds(CUdeviceptr dstDevice, unsigned short us, size_t N)
{
	return set(dstDevice, us, 2, N, NULL, true, false);
}

SIM_API CUresult cuMemsetD32_v2(CUdeviceptr dstDevice, unsigned int ui, size_t N)
{
	return set(dstDevice, ui, 4, N, NULL, false, false);
}

SIM_API CUresult cuMemsetD32_v2_ptds(CUdeviceptr dstDevice, unsigned int ui, size_t N)
{
	return set(dstDevice, ui, 4, N, NULL, true, false);
}

SIM_API CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N,
				 CUstream hStream)
{
	return set(dstDevice, uc, 1, N, hStream, false, true);
}

SIM_API CUresult cuMemsetD8Async_ptsz(CUdeviceptr dstDevice, unsigned char uc, size_t N,
				      CUstream hStream)
{
	return set(dstDevice, uc, 1, N, hStream, true, true);
}

SIM_API CUresult cuMemsetD16Async(CUdeviceptr dstDevice, unsigned short us, size_t N,
				  CUstream hStream)
{
	return set(dstDevice, us, 2, N, hStream, false, true);
}

SIM_API CUresult cuMemsetD16Async_ptsz(CUdeviceptr dstDevice, unsigned short us, size_t N,
				       CUstream hStream)
{
	return set(dstDevice, us, 2, N, hStream, true, true);
}

SIM_API CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N,
				  CUstream hStream)
{
	return set(dstDevice, ui, 4, N, hStream, false, true);
}

SIM_API CUresult cuMemsetD32Async_ptsz(CUdeviceptr dstDevice, unsigned int ui, size_t N,
				       CUstream hStream)
{
	return set(dstDevice, ui, 4, N, hStream, true, true);
}

/* ---- 2-D memset: h rows of w elements, pitch bytes apart. The pointer
 * must be aligned to the element; with more than one row, so must the
 * pitch, and it must hold a row. The span from the first element to the
 * last must lie in one allocation. */

static void run_set2d(struct sim_op *op)
{
	for (size_t y = 0; y < op->u.set2d.h; y++) {
		struct sim_op row = { .run = run_set };

		row.u.set.dst = op->u.set2d.dst + y * op->u.set2d.pitch;
		row.u.set.val = op->u.set2d.val;
		row.u.set.elem = op->u.set2d.elem;
		row.u.set.n = op->u.set2d.n;
		run_set(&row);
	}
}

static CUresult set2d(CUdeviceptr dst, size_t pitch, uint32_t val, size_t elem, size_t w, size_t h,
		      CUstream hs, bool pt, bool async)
{
	struct sim_stream *s;
	struct sim_op *op;
	size_t row, span;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!w || !h)
		return CUDA_SUCCESS;
	if (dst % elem || __builtin_mul_overflow(w, elem, &row) ||
	    (h > 1 && (pitch % elem || pitch < row)) ||
	    __builtin_mul_overflow(h - 1, pitch, &span) || __builtin_add_overflow(span, row, &span))
		return CUDA_ERROR_INVALID_VALUE;
	rc = sim_mem_check_dev(dst, span);
	if (rc != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_set2d;
	op->u.set2d.dst = (char *)(uintptr_t)dst;
	op->u.set2d.val = val;
	op->u.set2d.elem = elem;
	op->u.set2d.n = w;
	op->u.set2d.h = h;
	op->u.set2d.pitch = pitch;
	if (async)
		sim_stream_submit(s, op);
	else
		return sim_stream_run_sync(s, op);
	return CUDA_SUCCESS;
}

/* The twelve 2-D sets: element type T of size N bytes; PT: the per-thread
 * default stream variant. */
#define SIM_SET2D(name, T, N, PT)                                                        \
	SIM_API CUresult name(CUdeviceptr dstDevice, size_t dstPitch, T v, size_t Width, \
			      size_t Height)                                             \
	{                                                                                \
		return set2d(dstDevice, dstPitch, v, N, Width, Height, NULL, PT, false); \
	}
#define SIM_SET2D_ASYNC(name, T, N, PT)                                                    \
	SIM_API CUresult name(CUdeviceptr dstDevice, size_t dstPitch, T v, size_t Width,   \
			      size_t Height, CUstream hStream)                             \
	{                                                                                  \
		return set2d(dstDevice, dstPitch, v, N, Width, Height, hStream, PT, true); \
	}

SIM_SET2D(cuMemsetD2D8_v2, unsigned char, 1, false)
SIM_SET2D(cuMemsetD2D8_v2_ptds, unsigned char, 1, true)
SIM_SET2D(cuMemsetD2D16_v2, unsigned short, 2, false)
SIM_SET2D(cuMemsetD2D16_v2_ptds, unsigned short, 2, true)
SIM_SET2D(cuMemsetD2D32_v2, unsigned int, 4, false)
SIM_SET2D(cuMemsetD2D32_v2_ptds, unsigned int, 4, true)
SIM_SET2D_ASYNC(cuMemsetD2D8Async, unsigned char, 1, false)
SIM_SET2D_ASYNC(cuMemsetD2D8Async_ptsz, unsigned char, 1, true)
SIM_SET2D_ASYNC(cuMemsetD2D16Async, unsigned short, 2, false)
SIM_SET2D_ASYNC(cuMemsetD2D16Async_ptsz, unsigned short, 2, true)
SIM_SET2D_ASYNC(cuMemsetD2D32Async, unsigned int, 4, false)
SIM_SET2D_ASYNC(cuMemsetD2D32Async_ptsz, unsigned int, 4, true)

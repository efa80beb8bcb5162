/* cuMemcpy* and cuMemset*: operations queued on a stream.
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

static CUresult copy(uintptr_t dst, enum side ds, uintptr_t src, enum side ss, size_t n,
		     CUstream h, bool pt, bool async)
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
		sim_stream_run_sync(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{
	return copy(dstDevice, SIDE_DEV, (uintptr_t)srcHost, SIDE_HOST, ByteCount, NULL, false,
		    false);
}

SIM_API CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dstDevice, const void *srcHost,
				      size_t ByteCount)
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

SIM_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost,
				      size_t ByteCount, CUstream hStream)
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

SIM_API CUresult cuMemcpyDtoHAsync_v2_ptsz(void *dstHost, CUdeviceptr srcDevice,
					   size_t ByteCount, CUstream hStream)
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

SIM_API CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount,
			       CUstream hStream)
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
		sim_stream_run_sync(s, op);
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

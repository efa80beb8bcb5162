/* What the workload is told about a bulk pointer (bulk.c): the allocation
 * it asked cuMemAlloc for, not the reservation the shim rounded it up to.
 *
 * cuMemGetAddressRange and the pointer attributes RANGE_START_ADDR /
 * RANGE_SIZE give the allocation's base and the bytes asked for (the
 * driver would answer the granularity-rounded VMM range), CONTEXT the
 * context current at the allocation (the driver has none for VMM memory).
 * An address in the rounding past the bytes asked for is no allocation,
 * as it would not be for cuMemAlloc: CUDA_ERROR_NOT_FOUND /
 * CUDA_ERROR_INVALID_VALUE. Every other answer is the driver's. */
#include "bulk.h"

GV_EXPORT CUresult CUDAAPI cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize,
						   CUdeviceptr dptr)
{
	CUdeviceptr base;
	uint64_t bytes;

	GV_ENTER();
	if (GV_NESTED() || !gv_bulk_range(dptr, &base, &bytes, NULL)) {
		if (!GV_NESTED() && gv_bulk_in_tail(dptr))
			return CUDA_ERROR_NOT_FOUND;
		return GV_REAL(cuMemGetAddressRange_v2)(pbase, psize, dptr);
	}
	if (pbase)
		*pbase = base;
	if (psize)
		*psize = bytes;
	return CUDA_SUCCESS;
}

/* Rewrites one attribute the driver answered for a bulk pointer. */
static void gv_bulk_attr(CUpointer_attribute attr, void *data, CUdeviceptr base, uint64_t bytes,
			 CUcontext ctx)
{
	switch (attr) {
	case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
		*(CUdeviceptr *)data = base;
		break;
	case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
		*(size_t *)data = bytes;
		break;
	case CU_POINTER_ATTRIBUTE_CONTEXT:
		*(CUcontext *)data = ctx;
		break;
	default:
		break;
	}
}

GV_EXPORT CUresult CUDAAPI cuPointerGetAttribute(void *data, CUpointer_attribute attribute,
						 CUdeviceptr ptr)
{
	CUdeviceptr base;
	uint64_t bytes;
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuPointerGetAttribute)(data, attribute, ptr);
	if (r == CUDA_SUCCESS && !GV_NESTED() && data && gv_bulk_range(ptr, &base, &bytes, &ctx))
		gv_bulk_attr(attribute, data, base, bytes, ctx);
	return r;
}

GV_EXPORT CUresult CUDAAPI cuPointerGetAttributes(unsigned int numAttributes,
						  CUpointer_attribute *attributes, void **data,
						  CUdeviceptr ptr)
{
	CUdeviceptr base;
	uint64_t bytes;
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuPointerGetAttributes)(numAttributes, attributes, data, ptr);
	if (r != CUDA_SUCCESS || GV_NESTED() || !attributes || !data ||
	    !gv_bulk_range(ptr, &base, &bytes, &ctx))
		return r;
	for (unsigned i = 0; i < numAttributes; i++)
		if (data[i])
			gv_bulk_attr(attributes[i], data[i], base, bytes, ctx);
	return r;
}

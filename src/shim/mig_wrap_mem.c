/* Migration mode, wrappers: device memory and pointer attributes.
 *
 * Allocation, free and the address range go to the migration layer's VMM
 * allocator (mig_mem.c), whose memory it can move; stream-ordered ones are
 * made at once. The kinds of memory the shim cannot move (managed, arrays,
 * IPC, external memory, pools, mapped host memory, the VMM API itself) are
 * forwarded and make the workload non-migratable; the pre-3.2 entry points
 * with 32-bit device pointers are refused. Pointer attributes answer in
 * the application's terms.
 */
#include "mig_wrap_internal.h"

/* --- memory */

static CUresult w_cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
	IN();
	if (!gv_mig_cur_ctx())
		OUT(MREAL(cuMemAlloc_v2)(p, n)); /* the driver's error */
	OUT(gv_mig_alloc(p, n));
}

static CUresult w_cuMemAllocPitch_v2(CUdeviceptr *p, size_t *pitch, size_t w, size_t h,
				     unsigned elem)
{
	size_t pt;
	CUresult r;

	IN();
	if (!p || !pitch || !w || !h || (elem != 4 && elem != 8 && elem != 16) || !gv_mig_cur_ctx())
		OUT(MREAL(cuMemAllocPitch_v2)(p, pitch, w, h, elem));
	pt = (w + 511) / 512 * 512;
	r = gv_mig_alloc(p, gv_mul_sat(pt, h));
	if (r == CUDA_SUCCESS)
		*pitch = pt;
	OUT(r);
}

static CUresult w_cuMemFree_v2(CUdeviceptr p)
{
	CUresult r;

	IN();
	if (!p)
		OUT(CUDA_SUCCESS);
	r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFree_v2)(p); /* not ours (managed memory): the driver's */
	OUT(r);
}

/* Stream-ordered allocation made at once: memory available before the
 * stream reaches the allocation is allowed by the semantics. The free waits
 * for the stream, then frees. */
static CUresult w_cuMemAllocAsync(CUdeviceptr *p, size_t n, CUstream s)
{
	(void)s;
	return w_cuMemAlloc_v2(p, n);
}

static CUresult w_cuMemFreeAsync(CUdeviceptr p, CUstream s)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamSynchronize)(STREAM(s));
	if (r == CUDA_SUCCESS)
		r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFreeAsync)(p, STREAM(s));
	OUT(r);
}

static CUresult w_cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned flags)
{
	IN();
	gv_mig_taint("the workload allocated managed memory (cuMemAllocManaged)");
	OUT(MREAL(cuMemAllocManaged)(p, n, flags));
}

static CUresult w_cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	CUresult r;

	IN();
	r = gv_mig_range(p, base, size);
	if (r != CUDA_SUCCESS)
		r = MREAL(cuMemGetAddressRange_v2)(base, size, p);
	OUT(r);
}

static CUresult w_cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p)
{
	IN();
	gv_mig_taint("the workload called cuIpcGetMemHandle");
	OUT(MREAL(cuIpcGetMemHandle)(h, p));
}

static CUresult w_cuMemCreate(CUmemGenericAllocationHandle *h, size_t size,
			      const CUmemAllocationProp *prop, unsigned long long flags)
{
	CUmemAllocationProp p2;

	IN();
	gv_mig_taint("the workload uses the VMM API itself (cuMemCreate)");
	if (prop && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE) {
		p2 = *prop;
		p2.location.id = DEV(prop->location.id);
		prop = &p2;
	}
	OUT(MREAL(cuMemCreate)(h, size, prop, flags));
}

/* --- memory the shim cannot move: forwarded, the workload marked */

static CUresult w_cuArrayCreate_v2(CUarray *a, const CUDA_ARRAY_DESCRIPTOR *d)
{
	IN();
	TAINTED("CUDA arrays (cuArrayCreate)");
	OUT(MREAL(cuArrayCreate_v2)(a, d));
}

static CUresult w_cuArray3DCreate_v2(CUarray *a, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
	IN();
	TAINTED("CUDA arrays (cuArray3DCreate)");
	OUT(MREAL(cuArray3DCreate_v2)(a, d));
}

static CUresult w_cuMipmappedArrayCreate(CUmipmappedArray *a, const CUDA_ARRAY3D_DESCRIPTOR *d,
					 unsigned levels)
{
	IN();
	TAINTED("mipmapped arrays (cuMipmappedArrayCreate)");
	OUT(MREAL(cuMipmappedArrayCreate)(a, d, levels));
}

static CUresult w_cuIpcOpenMemHandle_v2(CUdeviceptr *p, CUipcMemHandle h, unsigned flags)
{
	IN();
	TAINTED("another process's memory (cuIpcOpenMemHandle)");
	OUT(MREAL(cuIpcOpenMemHandle_v2)(p, h, flags));
}

static CUresult w_cuImportExternalMemory(CUexternalMemory *m,
					 const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *d)
{
	IN();
	TAINTED("external memory (cuImportExternalMemory)");
	OUT(MREAL(cuImportExternalMemory)(m, d));
}

static CUresult w_cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	IN();
	TAINTED("memory pools (cuMemPoolCreate)");
	OUT(MREAL(cuMemPoolCreate)(pool, props));
}

static CUresult w_cuMemHostGetDevicePointer_v2(CUdeviceptr *p, void *h, unsigned flags)
{
	IN();
	TAINTED("mapped host memory (cuMemHostGetDevicePointer)");
	OUT(MREAL(cuMemHostGetDevicePointer_v2)(p, h, flags));
}

/* The pre-3.2 entry points with 32-bit device pointers cannot address VMM
 * ranges: refused like the entry points in mig-refuse.txt. */
static CUresult w_legacy_cuMemAlloc(void)
{
	return gv_mig_refuse(GV_SYM_cuMemAlloc);
}

static CUresult w_legacy_cuMemAllocPitch(void)
{
	return gv_mig_refuse(GV_SYM_cuMemAllocPitch);
}

static CUresult w_legacy_cuMemFree(void)
{
	return gv_mig_refuse(GV_SYM_cuMemFree);
}

static CUresult w_legacy_cuArrayCreate(void)
{
	return gv_mig_refuse(GV_SYM_cuArrayCreate);
}

static CUresult w_legacy_cuArray3DCreate(void)
{
	return gv_mig_refuse(GV_SYM_cuArray3DCreate);
}

static CUresult w_legacy_cuMemHostGetDevicePointer(void)
{
	return gv_mig_refuse(GV_SYM_cuMemHostGetDevicePointer);
}

static CUresult w_legacy_cuMemGetAddressRange(void)
{
	return gv_mig_refuse(GV_SYM_cuMemGetAddressRange);
}

/* --- per-thread default stream: the stream-ordered allocation and free */

static CUresult w_cuMemAllocAsync_ptsz(CUdeviceptr *p, size_t n, CUstream s)
{
	(void)s;
	return w_cuMemAlloc_v2(p, n);
}

static CUresult w_cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamSynchronize_ptsz)(STREAM(s));
	if (r == CUDA_SUCCESS)
		r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFreeAsync_ptsz)(p, STREAM(s));
	OUT(r);
}

/* --- pointer attributes: the context and the device ordinal in the
 * application's terms, the rest as the driver answers. */

static void pointer_attr_app(CUpointer_attribute a, void *data)
{
	if (a == CU_POINTER_ATTRIBUTE_CONTEXT && *(CUcontext *)data) {
		struct gv_mobj *o = gv_mig_ctx_of_real(*(CUcontext *)data);

		if (o)
			*(CUcontext *)data = (CUcontext)o;
	} else if (a == CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL &&
		   *(int *)data == atomic_load(&gv_mig_dev)) {
		*(int *)data = 0;
	}
}

static CUresult w_cuPointerGetAttribute(void *data, CUpointer_attribute a, CUdeviceptr p)
{
	CUresult r;

	IN();
	r = MREAL(cuPointerGetAttribute)(data, a, p);
	if (r == CUDA_SUCCESS && data)
		pointer_attr_app(a, data);
	OUT(r);
}

static CUresult w_cuPointerGetAttributes(unsigned n, CUpointer_attribute *a, void **data,
					 CUdeviceptr p)
{
	CUresult r;

	IN();
	r = MREAL(cuPointerGetAttributes)(n, a, data, p);
	if (r == CUDA_SUCCESS && a && data)
		for (unsigned i = 0; i < n; i++)
			if (data[i])
				pointer_attr_app(a[i], data[i]);
	OUT(r);
}

const struct gv_mig_wrap_ent gv_mig_wrap_mem[] = {
	W(cuMemAlloc_v2),
	W(cuMemAllocPitch_v2),
	W(cuMemFree_v2),
	W(cuMemAllocAsync),
	W(cuMemFreeAsync),
	W(cuMemAllocManaged),
	W(cuMemGetAddressRange_v2),
	W(cuIpcGetMemHandle),
	W(cuMemCreate),
	W(cuArrayCreate_v2),
	W(cuArray3DCreate_v2),
	W(cuMipmappedArrayCreate),
	W(cuIpcOpenMemHandle_v2),
	W(cuImportExternalMemory),
	W(cuMemPoolCreate),
	W(cuMemHostGetDevicePointer_v2),
	W(cuMemAllocAsync_ptsz),
	W(cuMemFreeAsync_ptsz),
	W(cuPointerGetAttribute),
	W(cuPointerGetAttributes),
	{ GV_SYM_cuMemAlloc, (void *)w_legacy_cuMemAlloc },
	{ GV_SYM_cuMemAllocPitch, (void *)w_legacy_cuMemAllocPitch },
	{ GV_SYM_cuMemFree, (void *)w_legacy_cuMemFree },
	{ GV_SYM_cuArrayCreate, (void *)w_legacy_cuArrayCreate },
	{ GV_SYM_cuArray3DCreate, (void *)w_legacy_cuArray3DCreate },
	{ GV_SYM_cuMemHostGetDevicePointer, (void *)w_legacy_cuMemHostGetDevicePointer },
	{ GV_SYM_cuMemGetAddressRange, (void *)w_legacy_cuMemGetAddressRange },
	W_END,
};

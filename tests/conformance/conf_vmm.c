/* Virtual memory management: granularity, create, reserve, map, access,
 * pointer attributes of mapped memory, unmap, release. */
#include <string.h>

#include "conf.h"

static CUmemAllocationProp prop(void)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = (int)conf.dev;
	return p;
}

static size_t gran(void)
{
	CUmemAllocationProp p = prop();
	size_t g = 0;

	cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM);
	return g;
}

static CUmemAccessDesc rw(void)
{
	CUmemAccessDesc d;

	memset(&d, 0, sizeof(d));
	d.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	d.location.id = (int)conf.dev;
	d.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	return d;
}

CASE(vmm_granularity,
     "cuMemGetAllocationGranularity: a power of two; RECOMMENDED is a multiple of MINIMUM")
{
	CUmemAllocationProp p = prop();
	size_t g = 0, r = 0;

	OK(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	OK(cuMemGetAllocationGranularity(&r, &p, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
	EXPECT(g && !(g & (g - 1)) && r && r % g == 0);
}

CASE(vmm_create_unaligned,
     "cuMemCreate: size must be a multiple of the granularity (CUDA_ERROR_INVALID_VALUE otherwise)")
{
	CUmemAllocationProp p = prop();
	CUmemGenericAllocationHandle h;

	EXPECT_RC(cuMemCreate(&h, gran() + 1, &p, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(vmm_map_copy,
     "cuMemCreate + cuMemAddressReserve + cuMemMap + cuMemSetAccess: the range is device memory for copies and kernels")
{
	CUmemAllocationProp p = prop();
	CUmemAccessDesc d = rw();
	CUmemGenericAllocationHandle h;
	CUdeviceptr va;
	size_t g = gran();
	unsigned v[4] = { 1, 2, 3, 4 }, r[4];

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&va, g, 0, 0, 0));
	OK(cuMemMap(va, g, 0, h, 0));
	OK(cuMemSetAccess(va, g, &d, 1));
	OK(cuMemcpyHtoD(va, v, sizeof(v)));
	OK(conf_count(NULL, NULL, va, 10));
	OK(cuCtxSynchronize());
	OK(cuMemcpyDtoH(r, va, sizeof(r)));
	EXPECT(r[0] == 11 && r[3] == 4);
	OK(cuMemUnmap(va, g));
	OK(cuMemRelease(h));
	OK(cuMemAddressFree(va, g));
}

CASE(vmm_range_is_reservation,
     "CU_POINTER_ATTRIBUTE_RANGE_START_ADDR / RANGE_SIZE (\"the address range for this requested pointer\") give the reservation; MAPPING_BASE_ADDR / MAPPING_SIZE (\"the actual underlying mapping that the pointer belongs to\") the mapping")
{
	CUmemAllocationProp p = prop();
	CUmemAccessDesc d = rw();
	CUmemGenericAllocationHandle h;
	CUdeviceptr va, start = 0;
	size_t g = gran(), size = 0, msize = 0;
	void *mbase = NULL;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&va, 4 * g, 0, 0, 0));
	OK(cuMemMap(va + g, g, 0, h, 0));
	OK(cuMemSetAccess(va + g, g, &d, 1));
	OK(cuPointerGetAttribute(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, va + g + 64));
	OK(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, va + g + 64));
	if (!EXPECT(start == va && size == 4 * g))
		conf_note("range %#llx+%zu, reservation %#llx+%zu", (unsigned long long)start, size,
			  (unsigned long long)va, 4 * g);
	OK(cuPointerGetAttribute(&mbase, CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR, va + g + 64));
	OK(cuPointerGetAttribute(&msize, CU_POINTER_ATTRIBUTE_MAPPING_SIZE, va + g + 64));
	if (!EXPECT((CUdeviceptr)(uintptr_t)mbase == va + g && msize == g))
		conf_note("mapping %p+%zu", mbase, msize);
	OK(cuMemUnmap(va + g, g));
	OK(cuMemRelease(h));
	OK(cuMemAddressFree(va, 4 * g));
}

CASE(vmm_get_access, "cuMemGetAccess: the access set with cuMemSetAccess")
{
	CUmemAllocationProp p = prop();
	CUmemAccessDesc d = rw();
	CUmemGenericAllocationHandle h;
	CUmemLocation loc = d.location;
	CUdeviceptr va;
	unsigned long long f = 0;
	size_t g = gran();

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&va, g, 0, 0, 0));
	OK(cuMemMap(va, g, 0, h, 0));
	OK(cuMemSetAccess(va, g, &d, 1));
	OK(cuMemGetAccess(&f, &loc, va));
	EXPECT(f == CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
	OK(cuMemUnmap(va, g));
	OK(cuMemRelease(h));
	OK(cuMemAddressFree(va, g));
}

CASE(vmm_retain_handle,
     "cuMemRetainAllocationHandle: the handle of a mapped address (to be released once more)")
{
	CUmemAllocationProp p = prop(), q;
	CUmemGenericAllocationHandle h, h2 = 0;
	CUdeviceptr va;
	size_t g = gran();

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&va, g, 0, 0, 0));
	OK(cuMemMap(va, g, 0, h, 0));
	OK(cuMemRetainAllocationHandle(&h2, (void *)(uintptr_t)va));
	EXPECT(h2 == h);
	memset(&q, 0, sizeof(q));
	OK(cuMemGetAllocationPropertiesFromHandle(&q, h2));
	EXPECT(q.type == CU_MEM_ALLOCATION_TYPE_PINNED && q.location.id == (int)conf.dev);
	OK(cuMemRelease(h2));
	OK(cuMemUnmap(va, g));
	OK(cuMemRelease(h));
	OK(cuMemAddressFree(va, g));
}

CASE(vmm_release_while_mapped,
     "cuMemRelease: \"The memory allocation will be freed when all outstanding mappings to the memory are unmapped\": a released handle's mapping stays usable")
{
	CUmemAllocationProp p = prop();
	CUmemAccessDesc d = rw();
	CUmemGenericAllocationHandle h;
	CUdeviceptr va;
	size_t g = gran();
	unsigned v = 5, r = 0;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&va, g, 0, 0, 0));
	OK(cuMemMap(va, g, 0, h, 0));
	OK(cuMemSetAccess(va, g, &d, 1));
	OK(cuMemRelease(h));
	OK(cuMemcpyHtoD(va, &v, 4));
	OK(cuMemcpyDtoH(&r, va, 4));
	EXPECT(r == 5);
	OK(cuMemUnmap(va, g));
	OK(cuMemAddressFree(va, g));
}

CASE(vmm_two_mappings, "one allocation mapped at two addresses: both see the same memory")
{
	CUmemAllocationProp p = prop();
	CUmemAccessDesc d = rw();
	CUmemGenericAllocationHandle h;
	CUdeviceptr a, b;
	size_t g = gran();
	unsigned v = 0x1234, r = 0;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemAddressReserve(&a, g, 0, 0, 0));
	OK(cuMemAddressReserve(&b, g, 0, 0, 0));
	OK(cuMemMap(a, g, 0, h, 0));
	OK(cuMemMap(b, g, 0, h, 0));
	OK(cuMemSetAccess(a, g, &d, 1));
	OK(cuMemSetAccess(b, g, &d, 1));
	OK(cuMemcpyHtoD(a, &v, 4));
	OK(cuMemcpyDtoH(&r, b, 4));
	EXPECT(r == 0x1234);
	OK(cuMemUnmap(a, g));
	OK(cuMemUnmap(b, g));
	OK(cuMemRelease(h));
	OK(cuMemAddressFree(a, g));
	OK(cuMemAddressFree(b, g));
}

CASE(vmm_memgetinfo,
     "cuMemCreate allocates physical memory: cuMemGetInfo's free drops by at least its size until it is released and unmapped")
{
	CUmemAllocationProp p = prop();
	CUmemGenericAllocationHandle h;
	size_t g = gran(), n = 32 * g, f0, f1, f2, t;

	OK(cuMemGetInfo(&f0, &t));
	OK(cuMemCreate(&h, n, &p, 0));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f1 + n <= f0 + (f0 / 100));
	OK(cuMemRelease(h));
	OK(cuMemGetInfo(&f2, &t));
	EXPECT(f2 >= f1 + n - g);
}

/* Virtual memory management: reserve, create, map, access, unmap. */
#include <string.h>

#include "simtest.h"

int main(void)
{
	CUcontext ctx;
	CUmemAllocationProp prop;
	CUmemAllocationProp got;
	CUmemAccessDesc acc;
	CUmemGenericAllocationHandle h, h2, hr;
	CUdeviceptr va, va2;
	size_t gran, f0, f1, t;
	unsigned long long flags;
	unsigned buf[1024];
	unsigned type;

	OK(cuInit(0));
	OK(cuDevicePrimaryCtxRetain(&ctx, 0));
	OK(cuCtxSetCurrent(ctx));

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = 0;
	EXPECT_RC(cuMemGetAllocationGranularity(NULL, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM),
		  CUDA_ERROR_INVALID_VALUE);
	OK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	EXPECT(gran == 2 * MIB);
	OK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
	EXPECT(gran == 2 * MIB);

	/* physical memory: multiples of the granularity, charged at once */
	OK(cuMemGetInfo(&f0, &t));
	EXPECT_RC(cuMemCreate(&h, gran + 4096, &prop, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemCreate(&h, gran, NULL, 0), CUDA_ERROR_INVALID_VALUE);
	prop.location.id = 5;
	EXPECT_RC(cuMemCreate(&h, gran, &prop, 0), CUDA_ERROR_INVALID_DEVICE);
	prop.location.id = 0;
	EXPECT_RC(cuMemCreate(&h, 1ull << 50, &prop, 0), CUDA_ERROR_OUT_OF_MEMORY);
	OK(cuMemCreate(&h, 2 * gran, &prop, 0));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f0 - f1 == 2 * gran);
	OK(cuMemGetAllocationPropertiesFromHandle(&got, h));
	EXPECT(got.type == CU_MEM_ALLOCATION_TYPE_PINNED && got.location.id == 0);

	/* addresses */
	EXPECT_RC(cuMemAddressReserve(&va, gran + 1, 0, 0, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemAddressReserve(&va, 4 * gran, 0, 0, 0));
	EXPECT(va % gran == 0);
	OK(cuMemAddressReserve(&va2, 2 * gran, 0, va + 8 * gran, 0));
	EXPECT(va2 % gran == 0 && (va2 >= va + 4 * gran || va2 + 2 * gran <= va));

	/* map: inaccessible until cuMemSetAccess */
	EXPECT_RC(cuMemMap(va + 4096, 2 * gran, 0, h, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemMap(va, 4 * gran, 0, h, 0), CUDA_ERROR_NOT_SUPPORTED); /* handle too small */
	SIM_ONLY(EXPECT_RC(cuMemMap(va, gran, 0, (CUmemGenericAllocationHandle)12345, 0),
			   CUDA_ERROR_INVALID_VALUE));
	OK(cuMemMap(va, 2 * gran, 0, h, 0));
	EXPECT_RC(cuMemMap(va + gran, gran, 0, h, 0), CUDA_ERROR_NOT_SUPPORTED); /* overlap */
	EXPECT_RC(cuMemsetD32(va, 1, 4), CUDA_ERROR_INVALID_VALUE);
	acc.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	acc.location.id = 0;
	acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	EXPECT_RC(cuMemSetAccess(va, 3 * gran, &acc, 1), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemSetAccess(va, 2 * gran, &acc, 1));
	OK(cuMemGetAccess(&flags, &acc.location, va + 100));
	EXPECT(flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
	OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, va + gran));
	EXPECT(type == CU_MEMORYTYPE_DEVICE);

	/* new physical memory reads as zero; data round trips */
	OK(cuMemcpyDtoH(buf, va + gran, sizeof(buf)));
	for (size_t i = 0; i < 1024; i++)
		EXPECT(buf[i] == 0);
	OK(cuMemsetD32(va, 0x11223344, 2 * gran / 4));
	OK(cuMemcpyDtoH(buf, va + 2 * gran - sizeof(buf), sizeof(buf)));
	EXPECT(buf[1023] == 0x11223344);

	/* the same physical memory at a second address sees the same bytes */
	EXPECT_RC(cuMemMap(va2, gran, gran, h, 0), CUDA_ERROR_NOT_SUPPORTED); /* offset */
	OK(cuMemMap(va2, 2 * gran, 0, h, 0));
	OK(cuMemSetAccess(va2, 2 * gran, &acc, 1));
	OK(cuMemsetD32(va + gran, 0xcafe, 1));
	OK(cuMemcpyDtoH(buf, va2 + gran, 4));
	EXPECT(buf[0] == 0xcafe);
	OK(cuMemRetainAllocationHandle(&hr, (void *)(uintptr_t)(va2 + 64)));
	EXPECT(hr == h);
	OK(cuMemRelease(hr));

	/* release while mapped: memory lives until the last unmap */
	OK(cuMemRelease(h));
	EXPECT_RC(cuMemRelease(h), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemcpyDtoH(buf, va, 4));
	EXPECT(buf[0] == 0x11223344);
	EXPECT_RC(cuMemUnmap(va, gran), CUDA_ERROR_INVALID_VALUE);	     /* half a mapping */
	EXPECT_RC(cuMemAddressFree(va, 4 * gran), CUDA_ERROR_INVALID_VALUE); /* still mapped */
	OK(cuMemUnmap(va, 2 * gran));
	EXPECT_RC(cuMemcpyDtoH(buf, va, 4), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f0 - f1 == 2 * gran); /* still mapped at va2 */
	OK(cuMemUnmap(va2, 2 * gran));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f1 == f0);
	OK(cuMemUnmap(va2, 2 * gran)); /* nothing mapped there: a no-op, as in the driver */
	EXPECT_RC(cuMemUnmap(va2 + 64 * gran, 2 * gran),
		  CUDA_ERROR_INVALID_VALUE); /* not reserved */

	/* the address range can be reused */
	OK(cuMemCreate(&h2, gran, &prop, 0));
	OK(cuMemMap(va + gran, gran, 0, h2, 0));
	OK(cuMemSetAccess(va + gran, gran, &acc, 1));
	OK(cuMemcpyDtoH(buf, va + gran, 4));
	EXPECT(buf[0] == 0); /* fresh memory, not the previous contents */
	OK(cuMemUnmap(va + gran, gran));
	OK(cuMemRelease(h2));
	EXPECT_RC(cuMemAddressFree(va, 2 * gran), CUDA_ERROR_INVALID_VALUE); /* wrong size */
	OK(cuMemAddressFree(va, 4 * gran));
	OK(cuMemAddressFree(va2, 2 * gran));
	EXPECT_RC(cuMemAddressFree(va2, 2 * gran), CUDA_ERROR_INVALID_VALUE);

	OK(cuDevicePrimaryCtxRelease(0));
	printf("sim.vmm: ok\n");
	return 0;
}

/* Allocation paths, copies and sets, pointer queries. */
#include <stdint.h>
#include <string.h>

#include "simtest.h"

static size_t free_mem(void)
{
	size_t f, t;

	OK(cuMemGetInfo(&f, &t));
	return f;
}

static void alloc_free(void)
{
	CUdeviceptr p, q, base;
	size_t f0 = free_mem(), size, pitch, total;
	unsigned char buf[4096];

	EXPECT_RC(cuMemAlloc(NULL, 16), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemAlloc(&p, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuDeviceTotalMem(&total, 0));
	EXPECT_RC(cuMemAlloc(&p, total + 1), CUDA_ERROR_OUT_OF_MEMORY);
	EXPECT(free_mem() == f0);

	OK(cuMemAlloc(&p, 1000));
	EXPECT(p % 256 == 0);
	EXPECT(f0 - free_mem() == 1024); /* charged at the aligned size */
	OK(cuMemAlloc(&q, 3 * MIB));
	EXPECT(q % 256 == 0 && (q >= p + 1024 || q + 3 * MIB <= p));
	OK(cuMemGetAddressRange(&base, &size, q + 100));
	EXPECT(base == q && size == 3 * MIB);
	OK(cuMemGetAddressRange(NULL, &size, p));
	EXPECT(size == 1000);
	EXPECT_RC(cuMemGetAddressRange(&base, &size, q + 3 * MIB + 4096), CUDA_ERROR_NOT_FOUND);

	/* freed memory is scrubbed before it is handed out again */
	OK(cuMemsetD8(q, 0xab, 3 * MIB));
	OK(cuMemFree(q));
	EXPECT_RC(cuMemFree(q), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemFree(p + 8), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(0));
	OK(cuMemAlloc(&q, 3 * MIB));
	OK(cuMemcpyDtoH(buf, q + MIB, sizeof(buf)));
	for (size_t i = 0; i < sizeof(buf); i++)
		EXPECT(buf[i] == 0);
	OK(cuMemFree(q));
	OK(cuMemFree(p));
	EXPECT(free_mem() == f0);

	/* first fit with coalescing: two freed neighbours serve one larger
	 * request at the first one's address (the simulator's allocator) */
	SIM_ONLY({
		CUdeviceptr x, y, z, w;

		OK(cuMemAlloc(&x, MIB));
		OK(cuMemAlloc(&y, MIB));
		OK(cuMemAlloc(&z, MIB));
		EXPECT(y == x + MIB && z == y + MIB);
		OK(cuMemFree(x));
		OK(cuMemFree(y));
		OK(cuMemAlloc(&w, 2 * MIB));
		EXPECT(w == x);
		OK(cuMemFree(w));
		OK(cuMemFree(z));
	});

	/* pitch */
	EXPECT_RC(cuMemAllocPitch(&p, &pitch, 100, 10, 3), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemAllocPitch(&p, NULL, 100, 10, 4), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemAllocPitch(&p, &pitch, 1000, 10, 4));
	EXPECT(pitch >= 1000 && pitch % 512 == 0);
	OK(cuMemGetAddressRange(&base, &size, p));
	EXPECT(size == pitch * 10);
	OK(cuMemFree(p));

	/* managed memory: device memory the host can touch */
	EXPECT_RC(cuMemAllocManaged(&p, 4096, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemAllocManaged(&p, 4096, CU_MEM_ATTACH_GLOBAL));
	memset((void *)(uintptr_t)p, 7, 4096);
	OK(cuMemcpyDtoH(buf, p, 4096));
	EXPECT(buf[0] == 7 && buf[4095] == 7);
	{
		int managed = 0;

		OK(cuPointerGetAttribute(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED, p));
		EXPECT(managed == 1);
	}
	EXPECT(f0 - free_mem() == 4096);
	OK(cuMemFree(p));
}

static void host_memory(void)
{
	void *h, *h2;
	static char reg[8192];
	unsigned flags, type;
	CUdeviceptr d, dev;
	size_t f0 = free_mem();

	OK(cuMemAllocHost(&h, 1 << 20));
	OK(cuMemHostAlloc(&h2, 4096, CU_MEMHOSTALLOC_DEVICEMAP));
	EXPECT(free_mem() == f0); /* host memory is not device memory */
	OK(cuMemHostGetFlags(&flags, h2));
	EXPECT(flags == CU_MEMHOSTALLOC_DEVICEMAP);
	OK(cuMemHostGetDevicePointer(&d, h2, 0));
	EXPECT(d == (CUdeviceptr)(uintptr_t)h2);
	OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
				 (CUdeviceptr)(uintptr_t)h));
	EXPECT(type == CU_MEMORYTYPE_HOST);
	OK(cuMemAlloc(&dev, 4096));
	memset(h, 0x5a, 4096);
	OK(cuMemcpyHtoD(dev, h, 4096));
	OK(cuMemcpyDtoH(h2, dev, 4096));
	EXPECT(((unsigned char *)h2)[4095] == 0x5a);
	EXPECT_RC(cuMemFreeHost(reg), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFreeHost(h));
	OK(cuMemFreeHost(h2));
	EXPECT_RC(cuMemFreeHost(h2), CUDA_ERROR_INVALID_VALUE);

	OK(cuMemHostRegister(reg, sizeof(reg), 0));
	EXPECT_RC(cuMemHostRegister(reg + 100, 10, 0), CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
	OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
				 (CUdeviceptr)(uintptr_t)(reg + 10)));
	EXPECT(type == CU_MEMORYTYPE_HOST);
	OK(cuMemHostUnregister(reg));
	EXPECT_RC(cuMemHostUnregister(reg), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
	EXPECT_RC(cuMemHostRegister(NULL, 10, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(dev));
}

static void copies(void)
{
	enum { N = 1 << 16 };
	CUdeviceptr a, b;
	static unsigned host[N], back[N];
	unsigned short s16[8];
	CUstream st;

	for (unsigned i = 0; i < N; i++)
		host[i] = i * 2654435761u;
	OK(cuMemAlloc(&a, sizeof(host)));
	OK(cuMemAlloc(&b, sizeof(host)));
	OK(cuMemcpyHtoD(a, host, sizeof(host)));
	OK(cuMemcpyDtoD(b, a, sizeof(host)));
	OK(cuMemcpyDtoH(back, b, sizeof(back)));
	EXPECT(!memcmp(host, back, sizeof(host)));

	/* generic copy with unified addressing, both directions */
	memset(back, 0, sizeof(back));
	OK(cuMemcpy(b, (CUdeviceptr)(uintptr_t)host, 4096));
	OK(cuMemcpy((CUdeviceptr)(uintptr_t)back, b, 4096));
	EXPECT(!memcmp(host, back, 4096));

	/* out of bounds, NULL, freed: refused, never a fault */
	EXPECT_RC(cuMemcpyHtoD(a + 8, host, sizeof(host)), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemcpyDtoH(NULL, a, 16), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemcpyHtoD(0, host, 16), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemcpyDtoD(a, 0x1000, 16), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemcpyHtoD(a, host, 0));

	/* memset */
	OK(cuMemsetD32(a, 0xdeadbeef, N));
	OK(cuMemcpyDtoH(back, a, sizeof(back)));
	EXPECT(back[0] == 0xdeadbeef && back[N - 1] == 0xdeadbeef);
	OK(cuMemsetD16(a + 2, 0x1234, 8));
	OK(cuMemcpyDtoH(s16, a + 2, sizeof(s16)));
	EXPECT(s16[0] == 0x1234 && s16[7] == 0x1234);
	EXPECT_RC(cuMemsetD32(a + 2, 0, 4), CUDA_ERROR_INVALID_VALUE); /* misaligned */
	EXPECT_RC(cuMemsetD16(a + 1, 0, 4), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemsetD8(a, 0, sizeof(host) + 1), CUDA_ERROR_INVALID_VALUE);

	/* asynchronous copies and sets on a stream, in order */
	OK(cuStreamCreate(&st, 0));
	OK(cuMemsetD8Async(a, 1, sizeof(host), st));
	OK(cuMemcpyDtoDAsync(b, a, sizeof(host), st));
	OK(cuMemsetD32Async(a, 9, 1, st));
	OK(cuMemcpyDtoHAsync(back, b, sizeof(back), st));
	OK(cuStreamSynchronize(st));
	EXPECT(back[0] == 0x01010101u && back[N - 1] == 0x01010101u);
	OK(cuMemcpyHtoDAsync(a, host, sizeof(host), st));
	OK(cuMemcpyAsync((CUdeviceptr)(uintptr_t)back, a, sizeof(back), st));
	OK(cuStreamSynchronize(st));
	EXPECT(!memcmp(host, back, sizeof(host)));
	OK(cuStreamDestroy(st));
	OK(cuMemFree(a));
	OK(cuMemFree(b));
}

static void async_alloc(void)
{
	CUstream st;
	CUdeviceptr p;
	CUmemoryPool pool, pool2;
	cuuint64_t v;
	size_t f0 = free_mem();
	unsigned back[4];

	OK(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));
	OK(cuDeviceGetDefaultMemPool(&pool, 0));
	OK(cuDeviceGetMemPool(&pool2, 0));
	EXPECT(pool == pool2);
	OK(cuMemAllocAsync(&p, 1 << 20, st));
	EXPECT(f0 - free_mem() == 1 << 20);
	OK(cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &v));
	EXPECT(v == 1 << 20);
	OK(cuMemsetD32Async(p, 42, 4, st));
	OK(cuMemcpyDtoHAsync(back, p, sizeof(back), st));
	OK(cuMemFreeAsync(p, st));
	EXPECT_RC(cuMemFreeAsync(p, st), CUDA_ERROR_INVALID_VALUE);
	OK(cuStreamSynchronize(st));
	EXPECT(back[3] == 42);
	EXPECT(free_mem() == f0);
	v = 64 << 20;
	OK(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &v));
	v = 0;
	OK(cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &v));
	EXPECT(v == 64 << 20);
	OK(cuMemAllocFromPoolAsync(&p, 4096, pool, st));
	OK(cuMemFree(p)); /* cuMemFree accepts stream-ordered memory */
	OK(cuMemPoolTrimTo(pool, 0));
	SIM_ONLY(EXPECT_RC(cuMemAllocFromPoolAsync(&p, 4096, (CUmemoryPool)&v, st),
			   CUDA_ERROR_INVALID_VALUE));
	SIM_ONLY(EXPECT_RC(cuMemAllocAsync(&p, 16, (CUstream)&v), CUDA_ERROR_INVALID_HANDLE));
	OK(cuStreamDestroy(st));
	EXPECT(free_mem() == f0);
}

static void pointer_attributes(void)
{
	CUdeviceptr p, start, dp;
	CUcontext ctx, cur;
	unsigned type;
	size_t size;
	int ordinal;
	unsigned long long id1, id2;
	CUpointer_attribute attrs[3] = { CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					 CU_POINTER_ATTRIBUTE_CONTEXT,
					 CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL };
	void *data[3] = { &type, &ctx, &ordinal };
	int stackvar;

	OK(cuCtxGetCurrent(&cur));
	OK(cuMemAlloc(&p, 10000));
	OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p + 5));
	EXPECT(type == CU_MEMORYTYPE_DEVICE);
	OK(cuPointerGetAttribute(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, p + 5));
	EXPECT(start == p);
	OK(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, p + 5));
	EXPECT(size == 10000);
	OK(cuPointerGetAttribute(&dp, CU_POINTER_ATTRIBUTE_DEVICE_POINTER, p + 5));
	EXPECT(dp == p + 5);
	OK(cuPointerGetAttribute(&ctx, CU_POINTER_ATTRIBUTE_CONTEXT, p));
	EXPECT(ctx == cur);
	OK(cuPointerGetAttribute(&id1, CU_POINTER_ATTRIBUTE_BUFFER_ID, p));
	EXPECT_RC(cuPointerGetAttribute(NULL, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p),
		  CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					(CUdeviceptr)(uintptr_t)&stackvar),
		  CUDA_ERROR_INVALID_VALUE);
	OK(cuPointerGetAttributes(3, attrs, data, p));
	EXPECT(type == CU_MEMORYTYPE_DEVICE && ctx == cur && ordinal == 0);
	/* unknown pointers are not an error here: zero values */
	OK(cuPointerGetAttributes(3, attrs, data, (CUdeviceptr)(uintptr_t)&stackvar));
	EXPECT(type == 0 && ctx == NULL);
	OK(cuMemFree(p));
	OK(cuMemAlloc(&p, 10000));
	OK(cuPointerGetAttribute(&id2, CU_POINTER_ATTRIBUTE_BUFFER_ID, p));
	EXPECT(id1 != id2);
	OK(cuMemFree(p));
}

int main(void)
{
	CUcontext ctx;

	OK(cuInit(0));
	OK(cuDevicePrimaryCtxRetain(&ctx, 0));
	OK(cuCtxSetCurrent(ctx));
	alloc_free();
	host_memory();
	copies();
	async_alloc();
	pointer_attributes();
	OK(cuDevicePrimaryCtxRelease(0));
	printf("sim.mem: ok\n");
	return 0;
}

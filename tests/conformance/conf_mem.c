/* Memory: allocation, copies and sets, host memory, managed memory,
 * pointer attributes, stream-ordered allocation and pools. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define MIB (1024ull * 1024ull)

CASE(mem_alloc_zero,
     "cuMemAlloc: \"If bytesize is 0, cuMemAlloc() returns CUDA_ERROR_INVALID_VALUE\"")
{
	CUdeviceptr p;

	EXPECT_RC(cuMemAlloc(&p, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(mem_alloc_null_ptr, "cuMemAlloc: a NULL dptr is CUDA_ERROR_INVALID_VALUE")
{
	EXPECT_RC(cuMemAlloc(NULL, 16), CUDA_ERROR_INVALID_VALUE);
}

CASE(mem_alloc_aligned,
     "cuMemAlloc: \"The allocated memory is suitably aligned for any kind of variable\" (256 bytes or more)")
{
	CUdeviceptr p[4];

	for (int i = 0; i < 4; i++) {
		OK(cuMemAlloc(&p[i], 1 + 37 * i));
		EXPECT(p[i] % 256 == 0);
	}
	for (int i = 0; i < 4; i++)
		OK(cuMemFree(p[i]));
}

CASE(mem_alloc_too_big, "cuMemAlloc: more than the device has is CUDA_ERROR_OUT_OF_MEMORY")
{
	CUdeviceptr p;
	size_t total = 0;

	OK(cuDeviceTotalMem(&total, conf.dev));
	EXPECT_RC(cuMemAlloc(&p, total * 2), CUDA_ERROR_OUT_OF_MEMORY);
}

CASE(mem_free_twice,
     "cuMemFree: a pointer that is not (or no longer) an allocation is CUDA_ERROR_INVALID_VALUE")
{
	CUdeviceptr p;

	OK(cuMemAlloc(&p, 1024));
	OK(cuMemFree(p));
	EXPECT_RC(cuMemFree(p), CUDA_ERROR_INVALID_VALUE);
}

CASE(mem_free_interior,
     "cuMemFree: \"Frees the memory space pointed to by dptr, which must have been returned by a previous call to cuMemAlloc\": an interior pointer is CUDA_ERROR_INVALID_VALUE")
{
	CUdeviceptr p;

	OK(cuMemAlloc(&p, 4096));
	EXPECT_RC(cuMemFree(p + 256), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(p));
}

CASE(mem_get_info,
     "cuMemGetInfo: free <= total, total = the device's memory, an allocation lowers free")
{
	size_t f0, t0, f1, t1, dt;
	CUdeviceptr p;

	OK(cuMemGetInfo(&f0, &t0));
	OK(cuDeviceTotalMem(&dt, conf.dev));
	EXPECT(f0 <= t0 && t0 == dt);
	OK(cuMemAlloc(&p, 256 * MIB));
	OK(cuMemGetInfo(&f1, &t1));
	EXPECT(f1 + 200 * MIB <= f0);
	OK(cuMemFree(p));
}

CASE(mem_htod_dtoh, "cuMemcpyHtoD / cuMemcpyDtoH: synchronous copies; the bytes come back")
{
	enum { N = 1 << 16 };
	unsigned char *a = malloc(N), *b = malloc(N);
	CUdeviceptr d;

	REQUIRE(a && b);
	for (int i = 0; i < N; i++)
		a[i] = (unsigned char)(i * 7 + 3);
	OK(cuMemAlloc(&d, N));
	OK(cuMemcpyHtoD(d, a, N));
	OK(cuMemcpyDtoH(b, d, N));
	EXPECT(!memcmp(a, b, N));
	OK(cuMemFree(d));
	free(a);
	free(b);
}

CASE(mem_dtod, "cuMemcpyDtoD: device to device copy")
{
	unsigned v[64], w[64];
	CUdeviceptr a, b;

	for (int i = 0; i < 64; i++)
		v[i] = 1000u + (unsigned)i;
	OK(cuMemAlloc(&a, sizeof(v)));
	OK(cuMemAlloc(&b, sizeof(v)));
	OK(cuMemcpyHtoD(a, v, sizeof(v)));
	OK(cuMemcpyDtoD(b, a, sizeof(v)));
	OK(cuMemcpyDtoH(w, b, sizeof(w)));
	EXPECT(!memcmp(v, w, sizeof(v)));
	OK(cuMemFree(a));
	OK(cuMemFree(b));
}

CASE(mem_memcpy_unified,
     "cuMemcpy: with unified addressing the direction is inferred from the pointers")
{
	unsigned v[16], w[16];
	CUdeviceptr a;

	for (int i = 0; i < 16; i++)
		v[i] = 7u * (unsigned)i;
	OK(cuMemAlloc(&a, sizeof(v)));
	OK(cuMemcpy(a, (CUdeviceptr)(uintptr_t)v, sizeof(v)));
	OK(cuMemcpy((CUdeviceptr)(uintptr_t)w, a, sizeof(w)));
	EXPECT(!memcmp(v, w, sizeof(v)));
	OK(cuMemFree(a));
}

CASE(mem_copy_out_of_range,
     "cuMemcpyHtoD: a range past the end of the allocation is CUDA_ERROR_INVALID_VALUE")
{
	unsigned char buf[512] = { 0 };
	CUdeviceptr a;

	OK(cuMemAlloc(&a, 256));
	EXPECT_RC(cuMemcpyHtoD(a + 128, buf, 512), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(a));
}

CASE(mem_memset_d8,
     "cuMemsetD8: \"Sets the memory range of N 8-bit values to the specified value uc\"")
{
	unsigned char b[100];
	CUdeviceptr a;

	OK(cuMemAlloc(&a, 100));
	OK(cuMemsetD8(a, 0xab, 100));
	OK(cuMemcpyDtoH(b, a, 100));
	for (int i = 0; i < 100; i++)
		if (!EXPECT(b[i] == 0xab))
			break;
	OK(cuMemFree(a));
}

CASE(mem_memset_d16, "cuMemsetD16: N 16-bit values")
{
	unsigned short b[50];
	CUdeviceptr a;

	OK(cuMemAlloc(&a, sizeof(b)));
	OK(cuMemsetD16(a, 0xbeef, 50));
	OK(cuMemcpyDtoH(b, a, sizeof(b)));
	for (int i = 0; i < 50; i++)
		if (!EXPECT(b[i] == 0xbeef))
			break;
	OK(cuMemFree(a));
}

CASE(mem_memset_d32, "cuMemsetD32: N 32-bit values")
{
	unsigned b[50];
	CUdeviceptr a;

	OK(cuMemAlloc(&a, sizeof(b)));
	OK(cuMemsetD32(a, 0xdeadbeefu, 50));
	OK(cuMemcpyDtoH(b, a, sizeof(b)));
	for (int i = 0; i < 50; i++)
		if (!EXPECT(b[i] == 0xdeadbeefu))
			break;
	OK(cuMemFree(a));
}

CASE(mem_memset_d32_misaligned,
     "cuMemsetD32: dstDevice must be 4-byte aligned (CUDA_ERROR_INVALID_VALUE otherwise)")
{
	CUdeviceptr a;

	OK(cuMemAlloc(&a, 64));
	EXPECT_RC(cuMemsetD32(a + 2, 1, 4), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(a));
}

CASE(mem_memset_async, "cuMemsetD32Async: done when the stream is synchronized")
{
	unsigned b[32];
	CUdeviceptr a;
	CUstream s;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuMemAlloc(&a, sizeof(b)));
	OK(cuMemsetD32Async(a, 77, 32, s));
	OK(cuStreamSynchronize(s));
	OK(cuMemcpyDtoH(b, a, sizeof(b)));
	EXPECT(b[0] == 77 && b[31] == 77);
	OK(cuMemFree(a));
	OK(cuStreamDestroy(s));
}

CASE(mem_pitch,
     "cuMemAllocPitch: the pitch is at least WidthInBytes; ElementSizeBytes must be 4, 8 or 16")
{
	CUdeviceptr a;
	size_t pitch = 0;

	OK(cuMemAllocPitch(&a, &pitch, 100, 10, 4));
	EXPECT(pitch >= 100);
	OK(cuMemFree(a));
	EXPECT_RC(cuMemAllocPitch(&a, &pitch, 100, 10, 3), CUDA_ERROR_INVALID_VALUE);
}

CASE(mem_address_range,
     "cuMemGetAddressRange: the base and size of the allocation that contains dptr")
{
	CUdeviceptr a, base = 0;
	size_t size = 0;

	OK(cuMemAlloc(&a, 10000));
	OK(cuMemGetAddressRange(&base, &size, a + 5000));
	EXPECT(base == a && size >= 10000);
	OK(cuMemFree(a));
}

CASE(mem_host_alloc, "cuMemAllocHost: page-locked host memory, usable by the host and in copies")
{
	unsigned *h = NULL;
	CUdeviceptr d;

	OK(cuMemAllocHost((void **)&h, 4096));
	REQUIRE(h != NULL);
	for (int i = 0; i < 1024; i++)
		h[i] = (unsigned)i;
	OK(cuMemAlloc(&d, 4096));
	OK(cuMemcpyHtoD(d, h, 4096));
	memset(h, 0, 4096);
	OK(cuMemcpyDtoH(h, d, 4096));
	EXPECT(h[1023] == 1023);
	OK(cuMemFree(d));
	OK(cuMemFreeHost(h));
}

CASE(mem_host_alloc_mapped,
     "cuMemHostAlloc(CU_MEMHOSTALLOC_DEVICEMAP) + cuMemHostGetDevicePointer: the device address of the host memory (equal to it with unified addressing)")
{
	void *h = NULL;
	CUdeviceptr d = 0;

	OK(cuMemHostAlloc(&h, 4096, CU_MEMHOSTALLOC_DEVICEMAP));
	OK(cuMemHostGetDevicePointer(&d, h, 0));
	EXPECT(d == (CUdeviceptr)(uintptr_t)h);
	OK(cuMemFreeHost(h));
}

CASE(mem_host_register,
     "cuMemHostRegister: page-locks an existing range; cuMemHostUnregister undoes it; the range's memory type is host")
{
	void *h = aligned_alloc(4096, 8192);
	unsigned t = 0;

	REQUIRE(h != NULL);
	OK(cuMemHostRegister(h, 8192, 0));
	OK(cuPointerGetAttribute(&t, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h));
	EXPECT(t == CU_MEMORYTYPE_HOST);
	OK(cuMemHostUnregister(h));
	EXPECT_RC(cuMemHostUnregister(h), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
	free(h);
}

CASE(mem_managed, "cuMemAllocManaged: memory the host and device can both access")
{
	CUdeviceptr m;
	unsigned *p;
	int is = 0;

	OK(cuMemAllocManaged(&m, 4096, CU_MEM_ATTACH_GLOBAL));
	p = (unsigned *)(uintptr_t)m;
	p[0] = 41;
	OK(conf_count(NULL, NULL, m, 1));
	OK(cuCtxSynchronize());
	EXPECT(p[0] == 42);
	OK(cuPointerGetAttribute(&is, CU_POINTER_ATTRIBUTE_IS_MANAGED, m));
	EXPECT(is == 1);
	OK(cuMemFree(m));
	EXPECT_RC(cuMemAllocManaged(&m, 4096, 0), CUDA_ERROR_INVALID_VALUE);
}

/* ---- pointer attributes ---- */

CASE(ptr_type_device,
     "cuPointerGetAttribute(CU_POINTER_ATTRIBUTE_MEMORY_TYPE): CU_MEMORYTYPE_DEVICE for cuMemAlloc memory")
{
	CUdeviceptr a;
	unsigned t = 0;

	OK(cuMemAlloc(&a, 64));
	OK(cuPointerGetAttribute(&t, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, a));
	EXPECT(t == CU_MEMORYTYPE_DEVICE);
	OK(cuMemFree(a));
}

CASE(ptr_type_host,
     "cuPointerGetAttribute(CU_POINTER_ATTRIBUTE_MEMORY_TYPE): CU_MEMORYTYPE_HOST for cuMemAllocHost memory")
{
	void *h;
	unsigned t = 0;

	OK(cuMemAllocHost(&h, 64));
	OK(cuPointerGetAttribute(&t, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h));
	EXPECT(t == CU_MEMORYTYPE_HOST);
	OK(cuMemFreeHost(h));
}

CASE(ptr_context, "CU_POINTER_ATTRIBUTE_CONTEXT: the context in which the memory was allocated")
{
	CUdeviceptr a;
	CUcontext c = NULL;

	OK(cuMemAlloc(&a, 64));
	OK(cuPointerGetAttribute(&c, CU_POINTER_ATTRIBUTE_CONTEXT, a));
	EXPECT(c == conf.ctx);
	OK(cuMemFree(a));
}

CASE(ptr_ordinal, "CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: the device of the allocation")
{
	CUdeviceptr a;
	int o = -1;

	OK(cuMemAlloc(&a, 64));
	OK(cuPointerGetAttribute(&o, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, a));
	EXPECT(o == (int)conf.dev);
	OK(cuMemFree(a));
}

CASE(ptr_range,
     "CU_POINTER_ATTRIBUTE_RANGE_START_ADDR / RANGE_SIZE of an interior pointer: the allocation's start and size")
{
	CUdeviceptr a, start = 0;
	size_t size = 0;

	OK(cuMemAlloc(&a, 1 * MIB));
	OK(cuPointerGetAttribute(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, a + 1000));
	OK(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, a + 1000));
	EXPECT(start == a && size >= 1 * MIB);
	OK(cuMemFree(a));
}

CASE(ptr_buffer_id_unique,
     "CU_POINTER_ATTRIBUTE_BUFFER_ID: \"A process-wide unique ID for an allocated memory region\"")
{
	CUdeviceptr a, b;
	unsigned long long ia = 0, ib = 0;

	OK(cuMemAlloc(&a, 64));
	OK(cuMemAlloc(&b, 64));
	OK(cuPointerGetAttribute(&ia, CU_POINTER_ATTRIBUTE_BUFFER_ID, a));
	OK(cuPointerGetAttribute(&ib, CU_POINTER_ATTRIBUTE_BUFFER_ID, b));
	EXPECT(ia != ib && ia && ib);
	OK(cuMemFree(a));
	OK(cuMemFree(b));
}

CASE(ptr_unknown_attributes,
     "cuPointerGetAttributes: \"Unlike cuPointerGetAttribute, this function will not return an error when the ptr encountered is not a valid CUDA pointer. Instead, the attributes are assigned default NULL values and CUDA_SUCCESS is returned\"")
{
	int x = 0;
	CUcontext c = (CUcontext)1;
	unsigned t = 99;
	CUpointer_attribute at[] = { CU_POINTER_ATTRIBUTE_CONTEXT,
				     CU_POINTER_ATTRIBUTE_MEMORY_TYPE };
	void *data[] = { &c, &t };

	OK(cuPointerGetAttributes(2, at, data, (CUdeviceptr)(uintptr_t)&x));
	EXPECT(c == NULL && t == 0);
}

CASE(ptr_unknown_single,
     "cuPointerGetAttribute: a pointer CUDA does not know is an error (CUDA_ERROR_INVALID_VALUE)")
{
	int x = 0;
	unsigned t;

	EXPECT_RC(cuPointerGetAttribute(&t, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					(CUdeviceptr)(uintptr_t)&x),
		  CUDA_ERROR_INVALID_VALUE);
}

/* ---- stream-ordered allocation and pools ---- */

CASE(pool_alloc_async,
     "cuMemAllocAsync / cuMemFreeAsync: stream-ordered memory usable by work queued after it on the stream")
{
	CUstream s;
	CUdeviceptr p = 0;
	unsigned v[8];

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuMemAllocAsync(&p, sizeof(v), s));
	OK(cuMemsetD32Async(p, 5, 8, s));
	OK(cuMemcpyDtoHAsync(v, p, sizeof(v), s));
	OK(cuMemFreeAsync(p, s));
	OK(cuStreamSynchronize(s));
	EXPECT(v[0] == 5 && v[7] == 5);
	OK(cuStreamDestroy(s));
}

CASE(pool_mempool_attr,
     "CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE: the pool of a stream-ordered allocation (the device's default pool)")
{
	CUdeviceptr p;
	CUmemoryPool pool = NULL, def = NULL;

	OK(cuDeviceGetDefaultMemPool(&def, conf.dev));
	OK(cuMemAllocAsync(&p, 4096, NULL));
	OK(cuStreamSynchronize(NULL));
	OK(cuPointerGetAttribute(&pool, CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE, p));
	EXPECT(pool == def);
	OK(cuMemFreeAsync(p, NULL));
	OK(cuStreamSynchronize(NULL));
}

CASE(pool_from_pool, "cuMemAllocFromPoolAsync: allocation from a given pool")
{
	CUmemoryPool def;
	CUdeviceptr p;

	OK(cuDeviceGetDefaultMemPool(&def, conf.dev));
	OK(cuMemAllocFromPoolAsync(&p, 1 * MIB, def, NULL));
	OK(cuMemFreeAsync(p, NULL));
	OK(cuStreamSynchronize(NULL));
}

CASE(pool_release_threshold,
     "cuMemPoolSetAttribute / GetAttribute(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD): the value set is read back")
{
	CUmemoryPool def;
	cuuint64_t v = 1 * MIB, r = 0, old = 0;

	OK(cuDeviceGetDefaultMemPool(&def, conf.dev));
	OK(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &old));
	OK(cuMemPoolSetAttribute(def, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &v));
	OK(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &r));
	EXPECT(r == v);
	OK(cuMemPoolSetAttribute(def, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &old));
}

CASE(pool_trim, "cuMemPoolTrimTo: releases unused pool memory; succeeds on the default pool")
{
	CUmemoryPool def;

	OK(cuDeviceGetDefaultMemPool(&def, conf.dev));
	OK(cuMemPoolTrimTo(def, 0));
}

CASE(pool_used_mem,
     "CU_MEMPOOL_ATTR_USED_MEM_CURRENT: grows by at least the size of a live allocation from the pool")
{
	CUmemoryPool def;
	cuuint64_t u0 = 0, u1 = 0;
	CUdeviceptr p;

	OK(cuDeviceGetDefaultMemPool(&def, conf.dev));
	OK(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &u0));
	OK(cuMemAllocAsync(&p, 8 * MIB, NULL));
	OK(cuStreamSynchronize(NULL));
	OK(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &u1));
	EXPECT(u1 >= u0 + 8 * MIB);
	OK(cuMemFreeAsync(p, NULL));
	OK(cuStreamSynchronize(NULL));
}

CASE(pool_free_async_other_stream,
     "cuMemFreeAsync on another stream than the allocation's, ordered with an event: allowed")
{
	CUstream a, b;
	CUevent e;
	CUdeviceptr p;

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(cuMemAllocAsync(&p, 4096, a));
	OK(cuMemsetD8Async(p, 1, 4096, a));
	OK(cuEventRecord(e, a));
	OK(cuStreamWaitEvent(b, e, 0));
	OK(cuMemFreeAsync(p, b));
	OK(cuStreamSynchronize(b));
	OK(cuEventDestroy(e));
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
}

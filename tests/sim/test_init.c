/* Initialisation, devices, contexts, error names. Runs with
 * GPUVISOR_SIM_MODELS=a100-40gb:1,h100-80gb:1. */
#include <string.h>

#include "simtest.h"

static void before_init(void)
{
	int n, v;
	CUdevice d;
	CUcontext c;
	CUdeviceptr p;
	size_t f, t;

	OK(cuDriverGetVersion(&v)); /* allowed before cuInit */
	EXPECT(v >= 12000);
	EXPECT_RC(cuDriverGetVersion(NULL), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuDeviceGet(&d, 0), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuCtxGetCurrent(&c), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuMemGetInfo(&f, &t), CUDA_ERROR_NOT_INITIALIZED);
	EXPECT_RC(cuInit(1), CUDA_ERROR_INVALID_VALUE);
	OK(cuInit(0));
	OK(cuInit(0)); /* again: fine */
}

static void devices(void)
{
	int n, v, major, minor;
	char name[128];
	CUdevice d;
	CUuuid u0, u1;
	size_t mem;

	OK(cuDeviceGetCount(&n));
	EXPECT(n == 2);
	EXPECT_RC(cuDeviceGetCount(NULL), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGet(&d, 2), CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuDeviceGet(&d, -1), CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuDeviceGet(NULL, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuDeviceGet(&d, 1));
	EXPECT(d == 1);

	OK(cuDeviceGetName(name, sizeof(name), 0));
	EXPECT(strstr(name, "A100") != NULL);
	OK(cuDeviceGetName(name, sizeof(name), 1));
	EXPECT(strstr(name, "H100") != NULL);
	EXPECT_RC(cuDeviceGetName(NULL, 10, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGetName(name, sizeof(name), 5), CUDA_ERROR_INVALID_DEVICE);

	OK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0));
	OK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0));
	EXPECT(major == 8 && minor == 0);
	OK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 1));
	EXPECT(major == 9);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0));
	EXPECT(v == 108);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 1));
	EXPECT(v == 132);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 1));
	EXPECT(v == 32);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 1));
	EXPECT(v == 1024);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, 1));
	EXPECT(v == 1);
	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, 1));
	EXPECT(v == 1);
	EXPECT_RC(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuDeviceGetAttribute(NULL, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0),
		  CUDA_ERROR_INVALID_VALUE);

	OK(cuDeviceTotalMem(&mem, 0));
	EXPECT(mem > 39ull * 1024 * MIB && mem < 41ull * 1024 * MIB);
	OK(cuDeviceTotalMem(&mem, 1));
	EXPECT(mem > 79ull * 1024 * MIB && mem < 81ull * 1024 * MIB);
	EXPECT_RC(cuDeviceTotalMem(NULL, 0), CUDA_ERROR_INVALID_VALUE);

	OK(cuDeviceGetUuid(&u0, 0));
	OK(cuDeviceGetUuid(&u1, 1));
	EXPECT(memcmp(&u0, &u1, sizeof(u0)) != 0);
	EXPECT_RC(cuDeviceGetUuid(NULL, 0), CUDA_ERROR_INVALID_VALUE);
}

static void contexts(void)
{
	CUcontext a, b, cur, prim, prim2;
	CUdevice d, pd;
	int n;
	CUdeviceptr p;
	unsigned flags;
	int active;
	size_t f0, f1, t;

	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == NULL);
	EXPECT_RC(cuCtxGetCurrent(NULL), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuCtxGetDevice(&d), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuMemGetInfo(&f0, &t), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuCtxPopCurrent(&cur), CUDA_ERROR_INVALID_CONTEXT);

	EXPECT_RC(cuCtxCreate(&a, NULL, 0, 7), CUDA_ERROR_INVALID_DEVICE);
	EXPECT_RC(cuCtxCreate(NULL, NULL, 0, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuCtxCreate(&a, NULL, 0x10000, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuCtxCreate(&a, NULL, 0, 0));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == a);
	OK(cuCtxGetDevice(&d));
	EXPECT(d == 0);
	t = 0;
	OK(cuMemGetInfo(NULL, &t)); /* the driver accepts a NULL half */
	EXPECT(t > 0);
	OK(cuMemGetInfo(&f0, NULL));
	EXPECT_RC(cuMemGetInfo(NULL, NULL), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemGetInfo(&f0, &t));
	/* a context's own reservation is visible as used memory */
	EXPECT(t - f0 >= 16 * MIB);

	OK(cuCtxCreate(&b, NULL, CU_CTX_SCHED_BLOCKING_SYNC, 0));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f0 - f1 == 16 * MIB);
	OK(cuCtxGetFlags(&flags));
	EXPECT((flags & CU_CTX_SCHED_MASK) == CU_CTX_SCHED_BLOCKING_SYNC);
	OK(cuCtxPopCurrent(&cur));
	EXPECT(cur == b);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == a);
	OK(cuCtxPushCurrent(b));
	OK(cuCtxDestroy(b));
	/* destroyed while current: popped, a is current again */
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == a);
	EXPECT_RC(cuCtxDestroy(b), CUDA_ERROR_CONTEXT_IS_DESTROYED);
	SIM_ONLY(EXPECT_RC(cuCtxPushCurrent(b), CUDA_ERROR_INVALID_CONTEXT));
	SIM_ONLY(EXPECT_RC(cuCtxSetCurrent(b), CUDA_ERROR_INVALID_CONTEXT));
	SIM_ONLY(EXPECT_RC(cuCtxSetCurrent((CUcontext)0x1234), CUDA_ERROR_INVALID_CONTEXT));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f1 == f0);
	OK(cuCtxDestroy(a));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == NULL);

	/* primary context: one per device, reference counted (on the last
	 * device: the H100 here) */
	OK(cuDeviceGetCount(&n));
	pd = n - 1;
	OK(cuDevicePrimaryCtxGetState(pd, &flags, &active));
	EXPECT(!active);
	EXPECT_RC(cuDevicePrimaryCtxGetState(pd, NULL, &active), CUDA_ERROR_INVALID_VALUE);
	OK(cuDevicePrimaryCtxSetFlags(pd, CU_CTX_SCHED_SPIN));
	OK(cuDevicePrimaryCtxRetain(&prim, pd));
	OK(cuDevicePrimaryCtxRetain(&prim2, pd));
	EXPECT(prim == prim2);
	OK(cuDevicePrimaryCtxGetState(pd, &flags, &active));
	EXPECT(active && flags == CU_CTX_SCHED_SPIN);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == NULL); /* retain does not make it current */
	OK(cuCtxSetCurrent(prim));
	OK(cuCtxGetDevice(&d));
	EXPECT(d == pd);
	SIM_ONLY(EXPECT_RC(cuCtxDestroy(prim), CUDA_ERROR_INVALID_CONTEXT));
	OK(cuMemAlloc(&p, 1024));
	OK(cuDevicePrimaryCtxRelease(pd));
	OK(cuDevicePrimaryCtxGetState(pd, &flags, &active));
	EXPECT(active);
	OK(cuDevicePrimaryCtxRelease(pd));
	OK(cuDevicePrimaryCtxGetState(pd, &flags, &active));
	EXPECT(!active);
	/* its memory went with it, and it is no longer usable */
	EXPECT_RC(cuMemFree(p), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuDevicePrimaryCtxRelease(pd), CUDA_ERROR_INVALID_CONTEXT);
	OK(cuDevicePrimaryCtxRetain(&prim2, pd));
	EXPECT(prim2 == prim);
	OK(cuMemAlloc(&p, 16));
	OK(cuDevicePrimaryCtxReset(pd));
	OK(cuDevicePrimaryCtxGetState(pd, &flags, &active));
	EXPECT(!active && flags == 0);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
	OK(cuCtxSetCurrent(NULL));
	EXPECT_RC(cuDevicePrimaryCtxRetain(&prim, 9), CUDA_ERROR_INVALID_DEVICE);
}

/* Copies between contexts on two devices. */
static void peer(void)
{
	CUcontext c0, c1;
	CUdeviceptr a, b;
	CUstream s;
	int can;
	unsigned v[64], w[64];

	for (unsigned i = 0; i < 64; i++)
		v[i] = i * 7u;
	OK(cuDeviceCanAccessPeer(&can, 0, 1));
	EXPECT(can == 1);
	OK(cuDeviceCanAccessPeer(&can, 0, 0));
	EXPECT(can == 0);
	EXPECT_RC(cuDeviceCanAccessPeer(&can, 0, 4), CUDA_ERROR_INVALID_DEVICE);
	OK(cuCtxCreate(&c1, NULL, 0, 1));
	OK(cuMemAlloc(&b, sizeof(v)));
	OK(cuCtxCreate(&c0, NULL, 0, 0));
	OK(cuMemAlloc(&a, sizeof(v)));
	OK(cuCtxEnablePeerAccess(c1, 0));
	OK(cuMemcpyHtoD(a, v, sizeof(v)));
	OK(cuMemcpyPeer(b, c1, a, c0, sizeof(v)));
	OK(cuMemcpyDtoH(w, b, sizeof(w)));
	EXPECT(!memcmp(v, w, sizeof(v)));
	OK(cuStreamCreate(&s, 0));
	OK(cuMemsetD32(b, 3, 64));
	OK(cuMemcpyPeerAsync(a, c0, b, c1, sizeof(v), s));
	OK(cuStreamSynchronize(s));
	OK(cuMemcpyDtoH(w, a, sizeof(w)));
	EXPECT(w[0] == 3 && w[63] == 3);
	SIM_ONLY(EXPECT_RC(cuMemcpyPeer(b, (CUcontext)&can, a, c0, 4), CUDA_ERROR_INVALID_CONTEXT));
	OK(cuStreamDestroy(s));
	OK(cuCtxDestroy(c0));
	OK(cuCtxDestroy(c1));
}

static void errors(void)
{
	const char *s;

	OK(cuGetErrorName(CUDA_ERROR_OUT_OF_MEMORY, &s));
	EXPECT(!strcmp(s, "CUDA_ERROR_OUT_OF_MEMORY"));
	OK(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &s));
	EXPECT(!strcmp(s, "out of memory"));
	OK(cuGetErrorString(CUDA_SUCCESS, &s));
	EXPECT(!strcmp(s, "no error"));
	OK(cuGetErrorName(CUDA_ERROR_INVALID_CONTEXT, &s));
	EXPECT(!strcmp(s, "CUDA_ERROR_INVALID_CONTEXT"));
	/* every code the simulator returns has a name and a text */
	{
		const CUresult codes[] = { CUDA_ERROR_INVALID_VALUE,
					   CUDA_ERROR_NOT_INITIALIZED,
					   CUDA_ERROR_NO_DEVICE,
					   CUDA_ERROR_INVALID_DEVICE,
					   CUDA_ERROR_INVALID_IMAGE,
					   CUDA_ERROR_FILE_NOT_FOUND,
					   CUDA_ERROR_INVALID_HANDLE,
					   CUDA_ERROR_NOT_FOUND,
					   CUDA_ERROR_NOT_READY,
					   CUDA_ERROR_NOT_SUPPORTED,
					   CUDA_ERROR_OPERATING_SYSTEM,
					   CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED,
					   CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED };

		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			OK(cuGetErrorName(codes[i], &s));
			EXPECT(!strncmp(s, "CUDA_ERROR_", 11));
			OK(cuGetErrorString(codes[i], &s));
			EXPECT(s && *s);
		}
	}
	s = "x";
	EXPECT_RC(cuGetErrorString((CUresult)123456, &s), CUDA_ERROR_INVALID_VALUE);
	EXPECT(s == NULL);
	EXPECT_RC(cuGetErrorName(CUDA_SUCCESS, NULL), CUDA_ERROR_INVALID_VALUE);
	{
		const void *tbl = (void *)1;
		CUuuid id = { { 0 } };

		EXPECT_RC(cuGetExportTable(&tbl, &id), CUDA_ERROR_NOT_SUPPORTED);
		EXPECT(tbl == NULL);
	}
}

int main(void)
{
	before_init();
	devices();
	contexts();
	peer();
	errors();
	printf("sim.init: ok\n");
	return 0;
}

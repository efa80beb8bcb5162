/* gv-mig-probe: small driver-API checks of the shim's migration mode, run
 * by run-migrate.sh under the shim with GPUVISOR_CTL set.
 *   gv-mig-probe taint    allocates managed memory (which the shim cannot
 *                         move), prints "ready", waits for stdin to close
 *   gv-mig-probe refuse   an entry point migration mode does not handle
 *                         answers CUDA_ERROR_NOT_SUPPORTED; one it handles
 *                         works through cuGetProcAddress as well
 *   gv-mig-probe suballoc small allocations share 2 MiB VMM regions (the
 *                         device's free memory drops by whole regions, as
 *                         the simulator counts exactly), are 256-byte
 *                         aligned and disjoint, keep their contents, and
 *                         cuMemGetAddressRange answers for each
 *   gv-mig-probe ptsz     fills device memory through the per-thread-stream
 *                         entry points, 2-D/3-D copies and sets and
 *                         cuLaunchKernelEx (module $GV_KERNEL_MODULE),
 *                         prints "ready" and waits for a line on stdin
 *                         (the test migrates it meanwhile); then checks the
 *                         data, the stream queries (same context, device 0,
 *                         same stream id) and that the migrated streams,
 *                         events and function still work
 * Exit 0 when every check holds. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gv_kernels.h"

#define CK(call)                                                     \
	do {                                                         \
		CUresult r_ = (call);                                \
		if (r_ != CUDA_SUCCESS) {                            \
			fprintf(stderr, "%s: %d\n", #call, (int)r_); \
			return 1;                                    \
		}                                                    \
	} while (0)

#define NSMALL 1000
#define MIB (1024u * 1024u)

static void callback(CUstream s, CUresult status, void *data)
{
	(void)s;
	(void)status;
	(void)data;
}

static size_t used_now(void)
{
	size_t f = 0, t = 0;

	cuMemGetInfo_v2(&f, &t);
	return t - f;
}

static int suballoc(void)
{
	static CUdeviceptr p[NSMALL];
	static unsigned char buf[256];
	CUdeviceptr big, base;
	size_t before = used_now(), size;

	for (unsigned i = 0; i < NSMALL; i++) {
		CK(cuMemAlloc_v2(&p[i], 1 + i % 256));
		if (p[i] % 256) {
			fprintf(stderr, "allocation %u is not 256-byte aligned\n", i);
			return 1;
		}
		for (unsigned j = 0; j < i; j++)
			if (p[i] == p[j]) {
				fprintf(stderr, "allocations %u and %u overlap\n", j, i);
				return 1;
			}
		CK(cuMemsetD8_v2(p[i], (unsigned char)i, 1 + i % 256));
	}
	/* 1000 allocations of at most 256 bytes: 256000 bytes, one region */
	if (used_now() - before != 2 * MIB) {
		fprintf(stderr, "small allocations took %zu bytes, not one 2 MiB region\n",
			used_now() - before);
		return 1;
	}
	for (unsigned i = 0; i < NSMALL; i++) {
		CK(cuMemcpyDtoH_v2(buf, p[i], 1 + i % 256));
		for (unsigned j = 0; j < 1 + i % 256; j++)
			if (buf[j] != (unsigned char)i) {
				fprintf(stderr, "allocation %u lost its contents\n", i);
				return 1;
			}
		CK(cuMemGetAddressRange_v2(&base, &size, p[i] + i % 256));
		if (base != p[i] || size != 1 + i % 256) {
			fprintf(stderr, "cuMemGetAddressRange of allocation %u is wrong\n", i);
			return 1;
		}
	}
	CK(cuMemAlloc_v2(&big, 3 * MIB));
	if (used_now() - before != 6 * MIB) {
		fprintf(stderr, "a 3 MiB allocation took %zu bytes, not a 4 MiB region\n",
			used_now() - before - 2 * MIB);
		return 1;
	}
	CK(cuMemFree_v2(big));
	for (unsigned i = 0; i < NSMALL; i++)
		CK(cuMemFree_v2(p[i]));
	if (used_now() != before) {
		fprintf(stderr, "%zu bytes left after freeing everything\n", used_now() - before);
		return 1;
	}
	printf("ok\n");
	return 0;
}

#define PW 400u	   /* bytes per row of the pitched buffer */
#define PH 16u	   /* its rows */
#define HP 512u	   /* host pitch */
#define NLIN 4096u /* unsigned of the linear buffer */

#define EXPECT(cond)                                                                \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "line %d: expected %s\n", __LINE__, #cond); \
			return 1;                                                   \
		}                                                                   \
	} while (0)

static unsigned char pat(unsigned x, unsigned y)
{
	return (unsigned char)(x * 13 + y * 71 + 5);
}

static CUDA_MEMCPY2D rect(CUmemorytype st, const void *sh, CUdeviceptr sd, size_t sp,
			  CUmemorytype dt, void *dh, CUdeviceptr dd, size_t dp)
{
	CUDA_MEMCPY2D c;

	memset(&c, 0, sizeof(c));
	c.srcMemoryType = st;
	c.srcHost = sh;
	c.srcDevice = sd;
	c.srcPitch = sp;
	c.dstMemoryType = dt;
	c.dstHost = dh;
	c.dstDevice = dd;
	c.dstPitch = dp;
	c.WidthInBytes = PW;
	c.Height = PH;
	return c;
}

struct ptsz_state {
	CUcontext ctx;
	CUfunction fill, count;
	CUstream st;
	CUevent ev, done;
	CUdeviceptr pitched, copy3d, lin, counter;
	size_t pitch;
	unsigned long long id;
	unsigned char host[PH * HP];
};

/* gv_count (+add) on st through cuLaunchKernelEx_ptsz, which records done */
static CUresult count_ex(struct ptsz_state *p, unsigned add)
{
	struct gv_count_args a = { (unsigned *)(uintptr_t)p->counter, add };
	void *params[] = { &a };
	CUlaunchAttribute attr;
	CUlaunchConfig cfg;

	memset(&attr, 0, sizeof(attr));
	attr.id = CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
	attr.value.launchCompletionEvent.event = p->done;
	memset(&cfg, 0, sizeof(cfg));
	cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
	cfg.blockDimX = cfg.blockDimY = cfg.blockDimZ = 1;
	cfg.hStream = p->st;
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	return cuLaunchKernelEx_ptsz(&cfg, p->count, params, NULL);
}

/* Everything the workload wrote, read back, and the stream queries. */
static int ptsz_check(struct ptsz_state *p, unsigned counter_want, unsigned seed)
{
	static unsigned char back[PH * HP];
	static unsigned lin[NLIN];
	CUDA_MEMCPY2D c;
	unsigned long long id = 0;
	unsigned got = 0, flags = 0;
	CUcontext sc = NULL;
	CUdevice dev = -1;
	int prio = 1, ord = -1;

	/* pitched: the pattern in the rectangle, 0xEE past it in each row */
	memset(back, 0, sizeof(back));
	c = rect(CU_MEMORYTYPE_DEVICE, NULL, p->pitched, p->pitch, CU_MEMORYTYPE_HOST, back, 0, HP);
	c.WidthInBytes = p->pitch;
	CK(cuMemcpy2D_v2(&c));
	for (unsigned y = 0; y < PH; y++)
		for (unsigned x = 0; x < p->pitch; x++)
			EXPECT(back[y * HP + x] == (x < PW ? pat(x, y) : 0xEE));
	/* the 3-D copy of rows 2.. of the rectangle */
	memset(back, 0, sizeof(back));
	c = rect(CU_MEMORYTYPE_DEVICE, NULL, p->copy3d, PW, CU_MEMORYTYPE_HOST, back, 0, HP);
	c.Height = PH - 2;
	CK(cuMemcpy2D_v2_ptds(&c));
	for (unsigned y = 0; y < PH - 2; y++)
		for (unsigned x = 0; x < PW; x++)
			EXPECT(back[y * HP + x] == (x < 8 ? 0x5A : pat(x, y + 2)));
	/* linear: gv_fill with seed, first 64 words set to 7 */
	CK(cuMemcpyDtoH_v2_ptds(lin, p->lin, sizeof(lin)));
	for (unsigned i = 0; i < NLIN; i++)
		EXPECT(lin[i] == (i < 64 ? 7u : (i * 2654435761u) ^ seed));
	CK(cuMemcpyDtoH_v2(&got, p->counter, sizeof(got)));
	EXPECT(got == counter_want);

	CK(cuStreamGetCtx(p->st, &sc));
	EXPECT(sc == p->ctx);
	CK(cuStreamGetCtx_ptsz(NULL, &sc));
	EXPECT(sc == p->ctx);
	CK(cuStreamGetFlags(p->st, &flags));
	EXPECT(flags == CU_STREAM_NON_BLOCKING);
	CK(cuStreamGetPriority(p->st, &prio));
	EXPECT(prio == -1);
	CK(cuStreamGetPriority_ptsz(NULL, &prio));
	EXPECT(prio == 0);
	CK(cuStreamGetDevice(p->st, &dev));
	EXPECT(dev == 0);
	CK(cuStreamGetId(p->st, &id));
	if (!p->id)
		p->id = id;
	EXPECT(id == p->id);
	CK(cuPointerGetAttribute(&ord, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, p->lin));
	EXPECT(ord == 0);
	return 0;
}

static int ptsz(void)
{
	static struct ptsz_state p;
	const char *path = getenv("GV_KERNEL_MODULE");
	struct gv_fill_args fa;
	void *fparams[] = { &fa };
	CUDA_MEMCPY3D c3;
	CUDA_MEMCPY2D c;
	CUmodule mod;
	char line[16];

	if (!path) {
		fprintf(stderr, "GV_KERNEL_MODULE is not set\n");
		return 1;
	}
	CK(cuCtxGetCurrent(&p.ctx));
	CK(cuModuleLoad(&mod, path));
	CK(cuModuleGetFunction(&p.fill, mod, "gv_fill"));
	CK(cuModuleGetFunction(&p.count, mod, "gv_count"));
	CK(cuStreamCreateWithPriority(&p.st, CU_STREAM_NON_BLOCKING, -1));
	CK(cuEventCreate(&p.ev, 0));
	CK(cuEventCreate(&p.done, 0));
	CK(cuMemAllocPitch_v2(&p.pitched, &p.pitch, PW, PH, 4));
	CK(cuMemAlloc_v2(&p.copy3d, (size_t)PW * PH));
	CK(cuMemAlloc_v2(&p.lin, NLIN * sizeof(unsigned)));
	CK(cuMemAlloc_v2(&p.counter, sizeof(unsigned)));

	/* pitched buffer: 0xEE everywhere, then the pattern in the rectangle */
	for (unsigned y = 0; y < PH; y++)
		for (unsigned x = 0; x < HP; x++)
			p.host[y * HP + x] = pat(x, y);
	CK(cuMemsetD2D8_v2_ptds(p.pitched, p.pitch, 0xEE, p.pitch, PH));
	c = rect(CU_MEMORYTYPE_HOST, p.host, 0, HP, CU_MEMORYTYPE_DEVICE, NULL, p.pitched, p.pitch);
	CK(cuMemcpy2DAsync_v2_ptsz(&c, NULL));
	/* its rows 2.. to copy3d (pitch PW), then 8 bytes of each row set */
	memset(&c3, 0, sizeof(c3));
	c3.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	c3.srcDevice = p.pitched;
	c3.srcY = 2;
	c3.srcPitch = p.pitch;
	c3.srcHeight = PH;
	c3.dstMemoryType = CU_MEMORYTYPE_DEVICE;
	c3.dstDevice = p.copy3d;
	c3.dstPitch = PW;
	c3.dstHeight = PH;
	c3.WidthInBytes = PW;
	c3.Height = PH - 2;
	c3.Depth = 1;
	CK(cuMemcpy3DAsync_v2_ptsz(&c3, NULL));
	CK(cuMemsetD2D8Async_ptsz(p.copy3d, PW, 0x5A, 8, PH - 2, NULL));

	/* linear buffer: gv_fill on the per-thread stream, then 64 words of 7 */
	fa.x = (unsigned *)(uintptr_t)p.lin;
	fa.n = NLIN;
	fa.seed = 0x1234;
	CK(cuLaunchKernel_ptsz(p.fill, NLIN / 256, 1, 1, 256, 1, 1, 0, NULL, fparams, NULL));
	CK(cuEventRecord_ptsz(p.ev, NULL));
	CK(cuStreamWaitEvent_ptsz(p.st, p.ev, 0));
	CK(cuMemsetD32Async_ptsz(p.lin, 7, 64, p.st));
	CK(cuMemsetD32_v2_ptds(p.counter, 0, 1));
	CK(count_ex(&p, 3));
	CK(cuStreamWaitEvent_ptsz(NULL, p.done, 0));
	CK(cuStreamSynchronize_ptsz(NULL));
	CK(cuStreamSynchronize_ptsz(p.st));
	CK(cuStreamQuery_ptsz(NULL));
	if (ptsz_check(&p, 3, 0x1234))
		return 1;

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "stdin closed before the go\n");
		return 1;
	}

	/* after the migration: the same data, queries and objects that work */
	if (ptsz_check(&p, 3, 0x1234))
		return 1;
	CK(cuEventSynchronize(p.done));
	fa.seed = 0x4321;
	CK(cuLaunchKernel_ptsz(p.fill, NLIN / 256, 1, 1, 256, 1, 1, 0, p.st, fparams, NULL));
	CK(cuMemsetD32Async_ptsz(p.lin, 7, 64, p.st));
	CK(cuEventRecord_ptsz(p.ev, p.st));
	CK(cuStreamWaitEvent_ptsz(NULL, p.ev, 0));
	CK(count_ex(&p, 4));
	CK(cuEventSynchronize(p.done));
	CK(cuStreamSynchronize_ptsz(NULL));
	if (ptsz_check(&p, 7, 0x4321))
		return 1;
	CK(cuEventDestroy_v2(p.ev));
	CK(cuEventDestroy_v2(p.done));
	CK(cuStreamDestroy_v2(p.st));
	CK(cuMemFree_v2(p.pitched));
	CK(cuMemFree_v2(p.copy3d));
	CK(cuMemFree_v2(p.lin));
	CK(cuMemFree_v2(p.counter));
	CK(cuModuleUnload(mod));
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	CUdevice dev;
	CUcontext ctx;
	CUstream s;
	int n = 0;

	if (argc != 2)
		return 2;
	CK(cuInit(0));
	CK(cuDeviceGetCount(&n));
	if (n != 1) {
		fprintf(stderr, "the application sees %d devices, not 1\n", n);
		return 1;
	}
	CK(cuDeviceGet(&dev, 0));
	CK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CK(cuCtxSetCurrent(ctx));
	if (!strcmp(argv[1], "taint")) {
		CUdeviceptr p;
		char c;

		CK(cuMemAllocManaged(&p, 4096, CU_MEM_ATTACH_GLOBAL));
		printf("ready\n");
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
		CK(cuMemFree_v2(p));
		return 0;
	}
	if (!strcmp(argv[1], "refuse")) {
		CUresult (*create)(CUstream *, unsigned) = NULL;
		CUresult (*destroy)(CUstream) = NULL;
		CUdriverProcAddressQueryResult q;
		CUresult r;

		CK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
		r = cuStreamAddCallback(s, callback, NULL, 0);
		if (r != CUDA_ERROR_NOT_SUPPORTED) {
			fprintf(stderr, "cuStreamAddCallback answered %d, not NOT_SUPPORTED\n",
				(int)r);
			return 1;
		}
		CK(cuStreamDestroy_v2(s));
		CK(cuGetProcAddress_v2("cuStreamCreate", (void **)&create, 12000, 0, &q));
		CK(cuGetProcAddress_v2("cuStreamDestroy", (void **)&destroy, 12000, 0, &q));
		CK(create(&s, 0));
		CK(destroy(s));
		r = cuGetProcAddress_v2("cuStreamAddCallback", (void **)&create, 12000, 0, &q);
		if (r != CUDA_SUCCESS || q != CU_GET_PROC_ADDRESS_SUCCESS ||
		    ((CUresult(*)(CUstream, CUstreamCallback, void *, unsigned))(void *)create)(
			    s, callback, NULL, 0) != CUDA_ERROR_NOT_SUPPORTED) {
			fprintf(stderr,
				"cuStreamAddCallback through cuGetProcAddress was not refused\n");
			return 1;
		}
		CK(cuDevicePrimaryCtxRelease_v2(dev));
		printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "suballoc"))
		return suballoc();
	if (!strcmp(argv[1], "ptsz"))
		return ptsz();
	return 2;
}

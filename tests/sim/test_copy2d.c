/* sim.copy2d: 2-D and 3-D copies and 2-D sets of linear memory, their
 * per-thread-stream variants, the per-thread stream queries, and the event
 * attributes of cuLaunchKernelEx. Every check also states what a copy must
 * leave alone: the bytes outside its rectangle. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gv_kernels.h"
#include "simtest.h"

#define W 100u	   /* bytes per row copied */
#define H 7u	   /* rows */
#define HP 128u	   /* host pitch */
#define FILL 0xEEu /* what the device holds outside the rectangle */

static unsigned char pattern(size_t x, size_t y, size_t z)
{
	return (unsigned char)(x * 7 + y * 31 + z * 101 + 1);
}

/* host[z][y][x] with pitch HP and height hh */
static void fill_host(unsigned char *h, size_t hh, size_t d)
{
	for (size_t z = 0; z < d; z++)
		for (size_t y = 0; y < hh; y++)
			for (size_t x = 0; x < HP; x++)
				h[(z * hh + y) * HP + x] = pattern(x, y, z);
}

static CUDA_MEMCPY2D c2d(CUmemorytype st, const void *sh, CUdeviceptr sd, size_t sx, size_t sy,
			 size_t sp, CUmemorytype dt, void *dh, CUdeviceptr dd, size_t dp)
{
	CUDA_MEMCPY2D c;

	memset(&c, 0, sizeof(c));
	c.srcMemoryType = st;
	c.srcHost = sh;
	c.srcDevice = sd;
	c.srcXInBytes = sx;
	c.srcY = sy;
	c.srcPitch = sp;
	c.dstMemoryType = dt;
	c.dstHost = dh;
	c.dstDevice = dd;
	c.dstPitch = dp;
	c.WidthInBytes = W;
	c.Height = H;
	return c;
}

/* The pitched device buffer holds rows 1..H of the host pattern from
 * column 3 at its column 0, and FILL past W in every row. */
static void expect_rect(CUdeviceptr d, size_t pitch)
{
	unsigned char *back = malloc(pitch * H);

	OK(cuMemcpyDtoH_v2(back, d, pitch * H));
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < pitch; x++)
			EXPECT(back[y * pitch + x] == (x < W ? pattern(x + 3, y + 1, 0) : FILL));
	free(back);
}

static void copies2d(void)
{
	static unsigned char host[(H + 1) * HP], back[H * HP];
	CUdeviceptr d, d2;
	size_t pitch;
	CUstream st;
	CUDA_MEMCPY2D c;

	fill_host(host, H + 1, 1);
	OK(cuMemAllocPitch_v2(&d, &pitch, W, H, 4));
	OK(cuMemAlloc_v2(&d2, pitch * H));
	OK(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));

	/* host -> device from (3, 1), every variant */
	c = c2d(CU_MEMORYTYPE_HOST, host, 0, 3, 1, HP, CU_MEMORYTYPE_DEVICE, NULL, d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2D_v2(&c));
	expect_rect(d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2D_v2_ptds(&c));
	expect_rect(d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2DUnaligned_v2(&c));
	expect_rect(d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2DUnaligned_v2_ptds(&c));
	expect_rect(d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2DAsync_v2(&c, st));
	OK(cuStreamSynchronize(st));
	expect_rect(d, pitch);
	OK(cuMemsetD8_v2(d, FILL, pitch * H));
	OK(cuMemcpy2DAsync_v2_ptsz(&c, NULL));
	OK(cuStreamSynchronize_ptsz(NULL));
	expect_rect(d, pitch);

	/* device -> device (whole pitch), then device -> host, unified */
	c = c2d(CU_MEMORYTYPE_DEVICE, NULL, d, 0, 0, pitch, CU_MEMORYTYPE_DEVICE, NULL, d2, pitch);
	c.WidthInBytes = pitch;
	OK(cuMemcpy2D_v2(&c));
	expect_rect(d2, pitch);
	memset(back, 0, sizeof(back));
	c = c2d(CU_MEMORYTYPE_UNIFIED, NULL, d2, 0, 0, pitch, CU_MEMORYTYPE_UNIFIED, NULL,
		(CUdeviceptr)(uintptr_t)back, HP);
	OK(cuMemcpy2D_v2(&c));
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < HP; x++)
			EXPECT(back[y * HP + x] == (x < W ? pattern(x + 3, y + 1, 0) : 0));

	/* refused: a pitch that does not hold X + width, a rectangle past the
	 * allocation, an array, no description; nothing to copy: success */
	c = c2d(CU_MEMORYTYPE_HOST, host, 0, 30, 0, HP, CU_MEMORYTYPE_DEVICE, NULL, d, pitch);
	EXPECT_RC(cuMemcpy2D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	c = c2d(CU_MEMORYTYPE_HOST, host, 0, 0, 0, HP, CU_MEMORYTYPE_DEVICE, NULL, d + pitch,
		pitch);
	EXPECT_RC(cuMemcpy2D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	c = c2d(CU_MEMORYTYPE_HOST, host, 0, 0, 0, HP, CU_MEMORYTYPE_ARRAY, NULL, 0, pitch);
	SIM_ONLY(EXPECT_RC(cuMemcpy2D_v2(&c), CUDA_ERROR_INVALID_HANDLE));
	EXPECT_RC(cuMemcpy2D_v2(NULL), CUDA_ERROR_INVALID_VALUE);
	c = c2d(CU_MEMORYTYPE_HOST, host, 0, 0, 0, HP, CU_MEMORYTYPE_DEVICE, NULL, d + pitch,
		pitch);
	c.Height = 0;
	OK(cuMemcpy2D_v2(&c));

	OK(cuStreamDestroy_v2(st));
	OK(cuMemFree_v2(d));
	OK(cuMemFree_v2(d2));
}

static void copies3d(void)
{
	enum { D = 3, SH = H + 2 };
	static unsigned char host[D * SH * HP], back[D * H * HP];
	const size_t slice = (size_t)HP * H;
	CUDA_MEMCPY3D c;
	CUdeviceptr d;

	fill_host(host, SH, D);
	OK(cuMemAlloc_v2(&d, slice * D));
	OK(cuMemsetD8_v2(d, FILL, slice * D));
	/* slices 1..2 of the host, rows 2..H+1 from column 5, to slices 0..1 */
	memset(&c, 0, sizeof(c));
	c.srcMemoryType = CU_MEMORYTYPE_HOST;
	c.srcHost = host;
	c.srcXInBytes = 5;
	c.srcY = 2;
	c.srcZ = 1;
	c.srcPitch = HP;
	c.srcHeight = SH;
	c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
	c.dstDevice = d;
	c.dstPitch = HP;
	c.dstHeight = H;
	c.WidthInBytes = W;
	c.Height = H;
	c.Depth = D - 1;
	OK(cuMemcpy3D_v2(&c));
	OK(cuMemcpyDtoH_v2(back, d, sizeof(back)));
	for (size_t z = 0; z < D; z++)
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < HP; x++)
				EXPECT(back[(z * H + y) * HP + x] ==
				       (z < D - 1 && x < W ? pattern(x + 5, y + 2, z + 1) : FILL));
	/* the same through the other variants */
	OK(cuMemsetD8_v2(d, FILL, slice * D));
	OK(cuMemcpy3D_v2_ptds(&c));
	OK(cuMemcpy3DAsync_v2(&c, NULL));
	OK(cuMemcpy3DAsync_v2_ptsz(&c, NULL));
	OK(cuStreamSynchronize_ptsz(NULL));
	OK(cuMemcpyDtoH_v2(back, d, sizeof(back)));
	EXPECT(back[0] == pattern(5, 2, 1) && back[(H + 1) * HP + 1] == pattern(6, 3, 2));
	EXPECT(back[2 * slice] == FILL);

	/* refused: reserved fields, a level of detail, a source height that
	 * does not hold Y + height with several slices, a span past the end */
	c.reserved0 = &c;
	EXPECT_RC(cuMemcpy3D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	c.reserved0 = NULL;
	c.dstLOD = 1;
	EXPECT_RC(cuMemcpy3D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	c.dstLOD = 0;
	c.srcHeight = H + 1;
	EXPECT_RC(cuMemcpy3D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	c.srcHeight = SH;
	c.Depth = D + 1;
	EXPECT_RC(cuMemcpy3D_v2(&c), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree_v2(d));
}

static void sets2d(void)
{
	const size_t pitch = 64, rows = 5;
	unsigned char back[64 * 5];
	CUdeviceptr d;
	CUstream st;

	OK(cuMemAlloc_v2(&d, pitch * rows));
	OK(cuStreamCreate(&st, 0));
	OK(cuMemsetD8_v2(d, 0, pitch * rows));
	OK(cuMemsetD2D8_v2(d + 1, pitch, 0xAB, 10, rows));
	OK(cuMemcpyDtoH_v2(back, d, sizeof(back)));
	for (size_t y = 0; y < rows; y++)
		for (size_t x = 0; x < pitch; x++)
			EXPECT(back[y * pitch + x] == (x >= 1 && x < 11 ? 0xAB : 0));

	OK(cuMemsetD2D16_v2_ptds(d, pitch, 0x1234, 3, rows));
	OK(cuMemsetD2D32Async(d + 8, pitch, 0xCAFEF00Du, 2, rows - 1, st));
	OK(cuStreamSynchronize(st));
	OK(cuMemcpyDtoH_v2(back, d, sizeof(back)));
	for (size_t y = 0; y < rows; y++) {
		uint16_t v16;
		uint32_t v32;

		memcpy(&v16, back + y * pitch + 4, 2);
		EXPECT(v16 == 0x1234);
		memcpy(&v32, back + y * pitch + 12, 4);
		EXPECT(v32 == (y < rows - 1 ? 0xCAFEF00Du : 0));
		EXPECT(back[y * pitch + 16] == 0);
	}
	OK(cuMemsetD2D8_v2_ptds(d, pitch, 1, pitch, rows));
	OK(cuMemsetD2D8Async_ptsz(d, pitch, 2, 1, 1, NULL));
	OK(cuMemsetD2D16Async(d + 2, pitch, 0x0303, 1, 1, st));
	OK(cuMemsetD2D16Async_ptsz(d + 4, pitch, 0x0404, 1, 1, NULL));
	OK(cuMemsetD2D32_v2(d + 8, pitch, 0x05050505u, 1, 1));
	OK(cuMemsetD2D32Async_ptsz(d + 12, pitch, 0x06060606u, 1, 1, NULL));
	OK(cuStreamSynchronize(st));
	OK(cuStreamSynchronize_ptsz(NULL));
	OK(cuMemcpyDtoH_v2(back, d, 16));
	EXPECT(back[0] == 2 && back[1] == 1 && back[2] == 3 && back[4] == 4 && back[8] == 5 &&
	       back[12] == 6 && back[15] == 6);

	/* refused: misaligned pointer or pitch, a row wider than the pitch,
	 * past the allocation; an empty rectangle is a success */
	EXPECT_RC(cuMemsetD2D32_v2(d + 2, pitch, 0, 1, 2), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemsetD2D32_v2(d, 62, 0, 1, 2), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemsetD2D8_v2(d, pitch, 0, pitch + 1, 2), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuMemsetD2D8_v2(d, pitch, 0, 1, rows + 1), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemsetD2D8_v2(d, pitch, 0, 0, rows + 1));
	OK(cuStreamDestroy_v2(st));
	OK(cuMemFree_v2(d));
}

static void per_thread_queries(CUcontext ctx)
{
	unsigned long long id_pt = 0, id_legacy = 0, id_again = 0;
	CUcontext c = NULL;
	CUdevice dev = -1;
	int prio = 1;

	OK(cuStreamGetPriority_ptsz(NULL, &prio));
	EXPECT(prio == 0);
	OK(cuStreamGetCtx_ptsz(NULL, &c));
	EXPECT(c == ctx);
	OK(cuStreamGetDevice_ptsz(NULL, &dev));
	EXPECT(dev == 0);
	OK(cuStreamGetId_ptsz(NULL, &id_pt));
	OK(cuStreamGetId(NULL, &id_legacy));
	OK(cuStreamGetId(CU_STREAM_PER_THREAD, &id_again));
	EXPECT(id_pt != id_legacy && id_pt == id_again);
	EXPECT_RC(cuStreamGetPriority_ptsz(NULL, NULL), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuStreamGetId_ptsz(NULL, NULL), CUDA_ERROR_INVALID_VALUE);
}

static void launch_events(void)
{
	const char *path = getenv("GV_KERNEL_MODULE");
	CUmodule mod;
	CUfunction fn;
	CUdeviceptr counter;
	CUevent start, done;
	CUstream st;
	CUlaunchAttribute attr;
	CUlaunchConfig cfg;
	struct gv_count_args a;
	void *params[] = { &a };
	unsigned got = 0;
	float ms = -1;

	if (!path)
		return;
	OK(cuModuleLoad(&mod, path));
	OK(cuModuleGetFunction(&fn, mod, "gv_count"));
	OK(cuMemAlloc_v2(&counter, sizeof(unsigned)));
	OK(cuMemsetD32_v2(counter, 0, 1));
	OK(cuStreamCreate(&st, 0));
	OK(cuEventCreate(&start, 0));
	OK(cuEventCreate(&done, 0));
	memset(&a, 0, sizeof(a));
	a.counter = (unsigned *)(uintptr_t)counter;
	a.add = 5;
	memset(&cfg, 0, sizeof(cfg));
	cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
	cfg.blockDimX = cfg.blockDimY = cfg.blockDimZ = 1;
	cfg.hStream = st;
	memset(&attr, 0, sizeof(attr));
	attr.id = CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
	attr.value.launchCompletionEvent.event = done;
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	/* never recorded: no elapsed time yet; the launch records it */
	EXPECT_RC(cuEventElapsedTime(&ms, start, done), CUDA_ERROR_INVALID_HANDLE);
	OK(cuEventRecord(start, st));
	OK(cuLaunchKernelEx(&cfg, fn, params, NULL));
	OK(cuEventSynchronize(done));
	OK(cuEventElapsedTime(&ms, start, done));
	EXPECT(ms >= 0);
	OK(cuMemcpyDtoH_v2(&got, counter, sizeof(got)));
	EXPECT(got == 5);
	/* the per-thread variant, a programmatic event */
	attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT;
	attr.value.programmaticEvent.event = done;
	cfg.hStream = NULL;
	OK(cuLaunchKernelEx_ptsz(&cfg, fn, params, NULL));
	OK(cuEventSynchronize(done));
	OK(cuMemcpyDtoH_v2(&got, counter, sizeof(got)));
	EXPECT(got == 10);
	/* an invalid event: refused, the kernel does not run */
	attr.value.programmaticEvent.event = (CUevent)(uintptr_t)0x1234;
	SIM_ONLY(EXPECT_RC(cuLaunchKernelEx(&cfg, fn, params, NULL), CUDA_ERROR_INVALID_HANDLE));
	OK(cuCtxSynchronize());
	OK(cuMemcpyDtoH_v2(&got, counter, sizeof(got)));
	EXPECT(got == 10);
	OK(cuEventDestroy_v2(start));
	OK(cuEventDestroy_v2(done));
	OK(cuStreamDestroy_v2(st));
	OK(cuMemFree_v2(counter));
	OK(cuModuleUnload(mod));
}

int main(void)
{
	CUcontext ctx;

	OK(cuInit(0));
	OK(cuDevicePrimaryCtxRetain(&ctx, 0));
	OK(cuCtxSetCurrent(ctx));
	copies2d();
	copies3d();
	sets2d();
	per_thread_queries(ctx);
	launch_events();
	OK(cuDevicePrimaryCtxRelease_v2(0));
	printf("sim.copy2d: ok\n");
	return 0;
}

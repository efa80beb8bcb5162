/* The partition holds on every allocation path: with T bytes left, an
 * allocation of exactly T succeeds and leaves 0, one byte more fails with
 * CUDA_ERROR_OUT_OF_MEMORY and changes nothing, and after the free the same
 * allocation succeeds again. Run with a fresh accounting file. */
#include "shim_test.h"

#include <string.h>

#define T (4u << 20) /* bytes left free for each linear/VMM path */
#define ARRAY_BYTES (1u << 20)
/* 2 levels of a 512 x 512 float mipmap: 512*512*4 + 256*256*4 bytes */
#define MIP_BYTES (512u * 512u * 4u + 256u * 256u * 4u)

struct path {
	const char *name; /* the driver entry point it exercises */
	uint64_t bytes;	  /* what one allocation takes */
	CUresult (*alloc)(uint64_t extra, uint64_t *handle);
	CUresult (*release)(uint64_t handle);
};

static CUmemoryPool pool;
static CUstream stream;

static CUresult a_linear(uint64_t extra, uint64_t *h)
{
	CUdeviceptr p = 0;
	CUresult r = cuMemAlloc(&p, T + extra);

	*h = p;
	return r;
}

static CUresult f_linear(uint64_t h)
{
	return cuMemFree((CUdeviceptr)h);
}

static size_t pitch_w = 4096;

static CUresult a_pitch(uint64_t extra, uint64_t *h)
{
	CUdeviceptr p = 0;
	size_t pitch = 0;
	/* T / pitch rows (+1 row for extra): the probe made pitch * rows == T */
	CUresult r = cuMemAllocPitch(&p, &pitch, pitch_w, T / pitch_w + (extra ? 1 : 0), 4);

	CHECK(r != CUDA_SUCCESS || pitch == pitch_w);
	*h = p;
	return r;
}

static CUresult a_managed(uint64_t extra, uint64_t *h)
{
	CUdeviceptr p = 0;
	CUresult r = cuMemAllocManaged(&p, T + extra, CU_MEM_ATTACH_GLOBAL);

	*h = p;
	return r;
}

static CUresult a_async(uint64_t extra, uint64_t *h)
{
	CUdeviceptr p = 0;
	CUresult r = cuMemAllocAsync(&p, T + extra, stream);

	if (r == CUDA_SUCCESS)
		r = cuStreamSynchronize(stream);
	*h = p;
	return r;
}

static CUresult f_async(uint64_t h)
{
	CUresult r = cuMemFreeAsync((CUdeviceptr)h, stream);

	return r == CUDA_SUCCESS ? cuStreamSynchronize(stream) : r;
}

static CUresult a_pool(uint64_t extra, uint64_t *h)
{
	CUdeviceptr p = 0;
	CUresult r = cuMemAllocFromPoolAsync(&p, T + extra, pool, stream);

	if (r == CUDA_SUCCESS)
		r = cuStreamSynchronize(stream);
	*h = p;
	return r;
}

static CUresult a_vmm(uint64_t extra, uint64_t *h)
{
	CUmemAllocationProp prop;
	CUmemGenericAllocationHandle g = 0;
	size_t gran = 0;
	CUresult r;

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = 0;
	CHECK_OK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	CHECK(gran > 0 && T % gran == 0);
	/* one granule more: the driver would take it, the partition must not */
	r = cuMemCreate(&g, T + (extra ? gran : 0), &prop, 0);
	*h = g;
	return r;
}

static CUresult f_vmm(uint64_t h)
{
	return cuMemRelease((CUmemGenericAllocationHandle)h);
}

static CUresult a_array(uint64_t extra, uint64_t *h)
{
	CUDA_ARRAY_DESCRIPTOR d = {
		.Width = 4096 + (extra ? 1 : 0),
		.Height = 64,
		.Format = CU_AD_FORMAT_FLOAT,
		.NumChannels = 1,
	};
	CUarray a = NULL;
	CUresult r = cuArrayCreate(&a, &d);

	*h = (uintptr_t)a;
	return r;
}

static CUresult a_array3d(uint64_t extra, uint64_t *h)
{
	CUDA_ARRAY3D_DESCRIPTOR d = {
		.Width = 256 + (extra ? 1 : 0),
		.Height = 64,
		.Depth = 16,
		.Format = CU_AD_FORMAT_UNSIGNED_INT16,
		.NumChannels = 2,
	};
	CUarray a = NULL;
	CUresult r = cuArray3DCreate(&a, &d);

	*h = (uintptr_t)a;
	return r;
}

static CUresult f_array(uint64_t h)
{
	return cuArrayDestroy((CUarray)(uintptr_t)h);
}

static CUresult a_mipmap(uint64_t extra, uint64_t *h)
{
	CUDA_ARRAY3D_DESCRIPTOR d = {
		.Width = 512 + (extra ? 2 : 0),
		.Height = 512,
		.Format = CU_AD_FORMAT_FLOAT,
		.NumChannels = 1,
	};
	CUmipmappedArray m = NULL;
	CUresult r = cuMipmappedArrayCreate(&m, &d, 2);

	*h = (uintptr_t)m;
	return r;
}

static CUresult f_mipmap(uint64_t h)
{
	return cuMipmappedArrayDestroy((CUmipmappedArray)(uintptr_t)h);
}

static void run_path(const struct path *p, uint64_t exact_bytes)
{
	uint64_t h = 0, before;
	CUdeviceptr ballast, one = 0;

	before = gvt_free();
	if (!gvt_real_opt(p->name)) {
		/* nothing to partition where the driver has no such call: the shim
		 * must still give the driver's answer and keep nothing charged */
		fprintf(stderr, "path %s: the driver lacks it, checking pass-through only\n",
			p->name);
		CHECK_CU(p->alloc(0, &h), CUDA_ERROR_NOT_FOUND);
		CHECK_EQ_U64(gvt_free(), before);
		return;
	}
	fprintf(stderr, "path %s: %llu bytes\n", p->name, (unsigned long long)exact_bytes);
	ballast = gvt_fill_to(exact_bytes);
	/* one more than what is left: refused, nothing charged */
	CHECK_CU(p->alloc(1, &h), CUDA_ERROR_OUT_OF_MEMORY);
	CHECK_EQ_U64(gvt_free(), exact_bytes);
	/* exactly what is left */
	CHECK_OK(p->alloc(0, &h));
	CHECK_EQ_U64(gvt_free(), 0);
	CHECK_CU(cuMemAlloc(&one, 1), CUDA_ERROR_OUT_OF_MEMORY);
	CHECK_EQ_U64(gvt_free(), 0);
	/* free, and the same allocation fits again */
	CHECK_OK(p->release(h));
	CHECK_EQ_U64(gvt_free(), exact_bytes);
	CHECK_OK(p->alloc(0, &h));
	CHECK_EQ_U64(gvt_free(), 0);
	CHECK_OK(p->release(h));
	if (ballast)
		CHECK_OK(cuMemFree(ballast));
	CHECK_EQ_U64(gvt_free(), before);
}

int main(void)
{
	CUcontext ctx = gvt_ctx();
	uint64_t start;
	CUdeviceptr p;
	size_t pitch;
	CUdevice dev;
	const struct path paths[] = {
		{ "cuMemAlloc_v2", T, a_linear, f_linear },
		{ "cuMemAllocPitch_v2", T, a_pitch, f_linear },
		{ "cuMemAllocManaged", T, a_managed, f_linear },
		{ "cuMemAllocAsync", T, a_async, f_async },
		{ "cuMemAllocFromPoolAsync", T, a_pool, f_async },
		{ "cuMemCreate", T, a_vmm, f_vmm },
		{ "cuArrayCreate_v2", ARRAY_BYTES, a_array, f_array },
		{ "cuArray3DCreate_v2", ARRAY_BYTES, a_array3d, f_array },
		{ "cuMipmappedArrayCreate", MIP_BYTES, a_mipmap, f_mipmap },
	};

	(void)ctx;
	CHECK_OK(cuCtxGetDevice(&dev));
	CHECK_OK(cuDeviceGetDefaultMemPool(&pool, dev));
	CHECK_OK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	CHECK_EQ_U64(gvt_total(), gvt_limit());
	start = gvt_free();
	CHECK_EQ_U64(start, gvt_limit() - gvt_used());

	/* the pitch is the driver's choice: use a width it keeps as the pitch */
	CHECK_OK(cuMemAllocPitch(&p, &pitch, pitch_w, 1, 4));
	CHECK_EQ_U64(gvt_free(), start - pitch);
	CHECK_OK(cuMemFree(p));
	CHECK(pitch == pitch_w && T % pitch_w == 0);

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		run_path(&paths[i], paths[i].bytes);
	CHECK_EQ_U64(gvt_free(), start);
	CHECK_OK(cuStreamDestroy(stream));
	CHECK_OK(cuCtxDestroy(ctx));
	printf("ok\n");
	return 0;
}

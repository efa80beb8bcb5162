/* Bad arguments get the driver's own errors through the shim, nothing is
 * charged, and nothing crashes (interposers that dereferenced NULL
 * out-pointers crashed OptiX and others). Each call is made through the
 * shim and directly against the real driver, and the results compared. */
#include "shim_test.h"

#include <string.h>

/* Same result and nothing charged; ANY: the driver may accept the call. */
#define SAME_ANY(shim_call, real_call, may_succeed)                                            \
	do {                                                                                   \
		uint64_t u_ = gvt_used();                                                      \
		CUresult rs_, rr_;                                                             \
		fprintf(stderr, "%s\n", #shim_call);                                           \
		rr_ = (real_call);                                                             \
		fprintf(stderr, "  driver: %s\n", gvt_err_name(rr_));                          \
		rs_ = (shim_call);                                                             \
		if (rs_ != rr_) {                                                              \
			fprintf(stderr, "%s:%d: shim %s, driver %s: %s\n", __FILE__, __LINE__, \
				gvt_err_name(rs_), gvt_err_name(rr_), #shim_call);             \
			exit(1);                                                               \
		}                                                                              \
		CHECK((may_succeed) || rs_ != CUDA_SUCCESS);                                   \
		CHECK_EQ_U64(gvt_used(), u_);                                                  \
	} while (0)
#define SAME(shim_call, real_call) SAME_ANY(shim_call, real_call, 0)

/* The driver's own function, or (for an entry point it does not have) what
 * the shim answers for a missing one: CUDA_ERROR_NOT_FOUND. */
static CUresult missing(void)
{
	return CUDA_ERROR_NOT_FOUND;
}

static void *real_or_missing(const char *name)
{
	void *fn = gvt_real_opt(name);

	return fn ? fn : (void *)&missing;
}

#define REAL(name) ((__typeof__(&name))real_or_missing(#name))

int main(void)
{
	CUdeviceptr p;
	size_t pitch, sz;
	CUmemAllocationProp prop;
	CUmemGenericAllocationHandle h;
	CUDA_ARRAY_DESCRIPTOR ad = {
		.Width = 16, .Height = 16, .Format = CU_AD_FORMAT_FLOAT, .NumChannels = 1
	};
	CUarray arr;

	/* before cuInit / without a context */
	SAME_ANY(cuMemGetInfo(NULL, NULL), REAL(cuMemGetInfo_v2)(NULL, NULL), 1);
	SAME(cuMemAlloc(&p, 16), REAL(cuMemAlloc_v2)(&p, 16));
	CHECK_OK(cuInit(0));
	SAME(cuMemGetInfo(&sz, &sz), REAL(cuMemGetInfo_v2)(&sz, &sz));
	gvt_ctx();
	/* NULL out-pointers: whatever the driver says (it may accept them and
	 * write nothing); the shim must neither crash nor differ */
	SAME_ANY(cuMemGetInfo(NULL, NULL), REAL(cuMemGetInfo_v2)(NULL, NULL), 1);
	SAME_ANY(cuMemGetInfo(&sz, NULL), REAL(cuMemGetInfo_v2)(&sz, NULL), 1);
	SAME_ANY(cuMemGetInfo(NULL, &sz), REAL(cuMemGetInfo_v2)(NULL, &sz), 1);
	SAME(cuMemAlloc(NULL, 16), REAL(cuMemAlloc_v2)(NULL, 16));
	SAME(cuMemAlloc(&p, 0), REAL(cuMemAlloc_v2)(&p, 0));
	SAME(cuMemAllocPitch(NULL, &pitch, 16, 16, 4),
	     REAL(cuMemAllocPitch_v2)(NULL, &pitch, 16, 16, 4));
	SAME(cuMemAllocPitch(&p, NULL, 16, 16, 4), REAL(cuMemAllocPitch_v2)(&p, NULL, 16, 16, 4));
	SAME(cuMemAllocManaged(NULL, 16, CU_MEM_ATTACH_GLOBAL),
	     REAL(cuMemAllocManaged)(NULL, 16, CU_MEM_ATTACH_GLOBAL));
	SAME(cuMemAllocAsync(NULL, 16, NULL), REAL(cuMemAllocAsync)(NULL, 16, NULL));
	SAME(cuMemFree((CUdeviceptr)0xdead0000ull), REAL(cuMemFree_v2)((CUdeviceptr)0xdead0000ull));
	SAME(cuMemFreeAsync((CUdeviceptr)0xdead0000ull, NULL),
	     REAL(cuMemFreeAsync)((CUdeviceptr)0xdead0000ull, NULL));
	SAME(cuMemCreate(NULL, 2u << 20, NULL, 0), REAL(cuMemCreate)(NULL, 2u << 20, NULL, 0));
	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = 0;
	SAME(cuMemCreate(NULL, 2u << 20, &prop, 0), REAL(cuMemCreate)(NULL, 2u << 20, &prop, 0));
	SAME(cuMemCreate(&h, 2u << 20, NULL, 0), REAL(cuMemCreate)(&h, 2u << 20, NULL, 0));
	/* a made-up non-zero handle crashes NVIDIA's driver itself (R580:
	 * SIGSEGV in cuMemRelease), so only the handle it checks: 0 */
	SAME(cuMemRelease(0), REAL(cuMemRelease)(0));
	SAME(cuArrayCreate(NULL, &ad), REAL(cuArrayCreate_v2)(NULL, &ad));
	SAME(cuArrayCreate(&arr, NULL), REAL(cuArrayCreate_v2)(&arr, NULL));
	SAME(cuArray3DCreate(NULL, NULL), REAL(cuArray3DCreate_v2)(NULL, NULL));
	SAME(cuMipmappedArrayCreate(NULL, NULL, 1), REAL(cuMipmappedArrayCreate)(NULL, NULL, 1));
	SAME(cuCtxCreate(NULL, NULL, 0, 0), REAL(cuCtxCreate_v4)(NULL, NULL, 0, 0));
	SAME(cuCtxCreate(&(CUcontext){ 0 }, NULL, 0, 99),
	     REAL(cuCtxCreate_v4)(&(CUcontext){ 0 }, NULL, 0, 99));
	SAME(cuDevicePrimaryCtxRetain(NULL, 0), REAL(cuDevicePrimaryCtxRetain)(NULL, 0));
	SAME(cuDevicePrimaryCtxRetain(&(CUcontext){ 0 }, 99),
	     REAL(cuDevicePrimaryCtxRetain)(&(CUcontext){ 0 }, 99));
	SAME(cuDevicePrimaryCtxRelease(99), REAL(cuDevicePrimaryCtxRelease_v2)(99));
	SAME(cuDeviceTotalMem(NULL, 0), REAL(cuDeviceTotalMem_v2)(NULL, 0));
	SAME(cuDeviceTotalMem(&sz, 99), REAL(cuDeviceTotalMem_v2)(&sz, 99));
	/* an unknown name: the driver answers CUDA_SUCCESS with *pfn = NULL */
	SAME_ANY(cuGetProcAddress("", (void **)&p, CUDA_VERSION, 0, NULL),
		 REAL(cuGetProcAddress_v2)("", (void **)&p, CUDA_VERSION, 0, NULL), 1);
	/* cuGetProcAddress_v2 with a NULL symbol or a NULL pfn crashes NVIDIA's
	 * driver itself (R580, SIGSEGV before the shim is involved): the shim
	 * forwards those unchanged, so there is no error to compare */
	SAME(cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
	     REAL(cuLaunchKernel)(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
	/* total memory is the partition's */
	CHECK_OK(cuDeviceTotalMem(&sz, 0));
	CHECK_EQ_U64(sz, gvt_limit());
	printf("ok\n");
	return 0;
}

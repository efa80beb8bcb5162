/* cuGetProcAddress: base names, versions, per-thread variants. */
#include <dlfcn.h>
#include <string.h>

#include "simtest.h"

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	EXPECT(p != NULL);
	return p;
}

static void expect_proc(const char *name, int version, cuuint64_t flags, const char *exported)
{
	void *fn = NULL;
	CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;

	OK(cuGetProcAddress(name, &fn, version, flags, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_SUCCESS);
	if (fn != sym(exported)) {
		fprintf(stderr, "cuGetProcAddress(%s, %d, %llu) is not %s\n", name, version,
			(unsigned long long)flags, exported);
		exit(1);
	}
}

int main(void)
{
	void *fn;
	CUdriverProcAddressQueryResult st;
	CUresult (*init)(unsigned);
	CUresult (*gpa_v1)(const char *, void **, int, cuuint64_t);
	CUresult (*alloc)(CUdeviceptr *, size_t);
	CUdeviceptr p;
	CUcontext c;

	/* works before cuInit: that is how the runtime finds cuInit */
	OK(cuGetProcAddress("cuInit", &fn, 12000, 0, &st));
	*(void **)&init = fn;
	OK(init(0));

	expect_proc("cuMemAlloc", 3020, 0, "cuMemAlloc_v2");
	expect_proc("cuMemAlloc", 13000, 0, "cuMemAlloc_v2");
	expect_proc("cuCtxCreate", 2000, 0, "cuCtxCreate");
	expect_proc("cuCtxCreate", 11000, 0, "cuCtxCreate_v2");
	expect_proc("cuCtxCreate", 12000, 0, "cuCtxCreate_v3");
	expect_proc("cuCtxCreate", 13000, 0, "cuCtxCreate_v4");
	expect_proc("cuMemGetInfo", 12000, 0, "cuMemGetInfo_v2");
	expect_proc("cuDevicePrimaryCtxRelease", 10000, 0, "cuDevicePrimaryCtxRelease");
	expect_proc("cuDevicePrimaryCtxRelease", 11000, 0, "cuDevicePrimaryCtxRelease_v2");
	expect_proc("cuMemcpyHtoD", 12000, 0, "cuMemcpyHtoD_v2");
	expect_proc("cuMemcpyHtoD", 12000, CU_GET_PROC_ADDRESS_LEGACY_STREAM, "cuMemcpyHtoD_v2");
	expect_proc("cuMemcpyHtoD", 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
		    "cuMemcpyHtoD_v2_ptds");
	expect_proc("cuLaunchKernel", 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
		    "cuLaunchKernel_ptsz");
	expect_proc("cuStreamSynchronize", 12000, 0, "cuStreamSynchronize");
	expect_proc("cuMemAllocAsync", 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
		    "cuMemAllocAsync_ptsz");
	/* names without a per-thread variant answer the same in both modes */
	expect_proc("cuMemAlloc", 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
		    "cuMemAlloc_v2");
	expect_proc("cuGetProcAddress", 12000, 0, "cuGetProcAddress_v2");
	expect_proc("cuGetProcAddress", 11030, 0, "cuGetProcAddress");
	expect_proc("cuMemCreate", 12000, 0, "cuMemCreate");
	expect_proc("cuEventElapsedTime", 12000, 0, "cuEventElapsedTime");
	expect_proc("cuEventElapsedTime", 12080, 0, "cuEventElapsedTime_v2");

	/* too old a version for the only variant, unknown names: _v2 succeeds
	 * with the reason in the status and no pointer (the driver does so) */
	fn = (void *)1;
	OK(cuGetProcAddress("cuMemCreate", &fn, 10010, 0, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT && fn == NULL);
	fn = (void *)1;
	OK(cuGetProcAddress("cuInit", &fn, 0, 0, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT && fn == NULL);
	fn = (void *)1;
	OK(cuGetProcAddress("cuNoSuchCall", &fn, 13000, 0, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND && fn == NULL);
	/* exported names are not base names */
	OK(cuGetProcAddress("cuMemAlloc_v2", &fn, 13000, 0, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND && fn == NULL);
	OK(cuGetProcAddress("cuNoSuchCall", &fn, 13000, 0, NULL)); /* status is optional */
	EXPECT(fn == NULL);
	EXPECT_RC(cuGetProcAddress("cuInit", &fn, 13000, 0x100, &st), CUDA_ERROR_INVALID_VALUE);
	SIM_ONLY(EXPECT_RC(cuGetProcAddress(NULL, &fn, 13000, 0, &st), CUDA_ERROR_INVALID_VALUE));
	SIM_ONLY(EXPECT_RC(cuGetProcAddress("cuInit", NULL, 13000, 0, &st),
			   CUDA_ERROR_INVALID_VALUE));
	OK(cuGetProcAddress("cuInit", &fn, 13000, 0, NULL));
	EXPECT(fn == sym("cuInit"));

	/* the 4-argument version */
	*(void **)&gpa_v1 = sym("cuGetProcAddress");
	OK(gpa_v1("cuMemAlloc", &fn, 12000, 0));
	EXPECT(fn == sym("cuMemAlloc_v2"));
	EXPECT_RC(gpa_v1("cuNoSuchCall", &fn, 12000, 0), CUDA_ERROR_NOT_FOUND);

	/* what it returns works */
	OK(cuCtxCreate(&c, NULL, 0, 0));
	OK(cuGetProcAddress("cuMemAlloc", &fn, 12000, 0, &st));
	*(void **)&alloc = fn;
	OK(alloc(&p, 64));
	OK(cuMemFree(p));
	OK(cuCtxDestroy(c));
	printf("sim.procaddr: ok\n");
	return 0;
}

/* Calls the shim does not intercept reach the driver through the
 * trampolines, directly and through cuGetProcAddress; cuGetProcAddress
 * returns the shim's own function for intercepted names (whatever versioned
 * variant the driver picked), and the real driver's for the others. */
#include "shim_test.h"

#include <dlfcn.h>
#include <string.h>

typedef CUresult (*alloc_fn)(CUdeviceptr *, size_t);

/* The shim's export of name (the libcuda.so.1 this process loaded). */
static void *shim_sym(const char *name)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *fn;

	CHECK(h);
	fn = dlsym(h, name);
	dlclose(h);
	CHECK(fn);
	return fn;
}

static void *proc(const char *name, int version, cuuint64_t flags)
{
	CUdriverProcAddressQueryResult st;
	void *fn = NULL;

	CHECK_OK(cuGetProcAddress(name, &fn, version, flags, &st));
	CHECK(st == CU_GET_PROC_ADDRESS_SUCCESS);
	CHECK(fn);
	return fn;
}

int main(void)
{
	CUresult (*get_name)(char *, int, CUdevice);
	CUresult (*real_get_name)(char *, int, CUdevice) = gvt_real("cuDeviceGetName");
	char name[256] = "", real_name[256] = "";
	CUdeviceptr p;
	CUstream s;
	CUdevice dev;
	alloc_fn alloc;
	uint64_t f;
	int n = 0;

	/* not intercepted: trampolines, identical answers */
	CHECK_OK(cuInit(0));
	CHECK_OK(cuDeviceGetCount(&n));
	CHECK(n >= 1);
	CHECK_OK(cuDeviceGet(&dev, 0));
	CHECK_OK(cuDeviceGetName(name, sizeof(name), dev));
	CHECK_OK(real_get_name(real_name, sizeof(real_name), dev));
	CHECK(name[0] && !strcmp(name, real_name));
	gvt_ctx();
	CHECK_OK(cuStreamCreate(&s, 0));
	CHECK_OK(cuStreamSynchronize(s));
	CHECK_OK(cuStreamDestroy(s));

	/* not intercepted, through cuGetProcAddress: the driver's own pointer */
	get_name = proc("cuDeviceGetName", CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT);
	CHECK((void *)get_name == (void *)real_get_name);
	memset(name, 0, sizeof(name));
	CHECK_OK(get_name(name, sizeof(name), dev));
	CHECK(!strcmp(name, real_name));
	CHECK(proc("cuStreamCreate", CUDA_VERSION, 0) == gvt_real("cuStreamCreate"));

	/* intercepted: the shim's, for the variant the driver chose */
	alloc = proc("cuMemAlloc", CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT);
	CHECK((void *)alloc == shim_sym("cuMemAlloc_v2"));
	CHECK((void *)alloc != gvt_real("cuMemAlloc_v2"));
	CHECK(proc("cuMemGetInfo", CUDA_VERSION, 0) == shim_sym("cuMemGetInfo_v2"));
	CHECK(proc("cuGetProcAddress", CUDA_VERSION, 0) == shim_sym("cuGetProcAddress_v2"));
	CHECK(proc("cuLaunchKernel", CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT) ==
	      shim_sym("cuLaunchKernel"));
	CHECK(proc("cuLaunchKernel", CUDA_VERSION, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) ==
	      shim_sym("cuLaunchKernel_ptsz"));
	CHECK(proc("cuMemAllocAsync", CUDA_VERSION,
		   CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) ==
	      shim_sym("cuMemAllocAsync_ptsz"));
	CHECK(proc("cuCtxCreate", CUDA_VERSION, 0) == shim_sym("cuCtxCreate_v4"));
	/* an older cudaVersion gets the older variant, still the shim's */
	CHECK(proc("cuCtxCreate", 3020, 0) == shim_sym("cuCtxCreate_v2"));

	/* and what it returns charges the partition */
	f = gvt_free();
	CHECK_OK(alloc(&p, 4096));
	CHECK_EQ_U64(gvt_free(), f - 4096);
	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(gvt_free(), f);

	/* a name the driver does not have: the driver's answer */
	{
		CUdriverProcAddressQueryResult st, rst;
		void *fn = (void *)1, *rfn = (void *)1;
		CUresult (*real_proc)(const char *, void **, int, cuuint64_t,
				      CUdriverProcAddressQueryResult *) =
			gvt_real("cuGetProcAddress_v2");

		CHECK_CU(cuGetProcAddress("cuNoSuchThing", &fn, CUDA_VERSION, 0, &st),
			 real_proc("cuNoSuchThing", &rfn, CUDA_VERSION, 0, &rst));
		CHECK(fn == rfn && st == rst);
	}
	printf("ok\n");
	return 0;
}

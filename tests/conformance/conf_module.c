/* Modules and launches. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "gv_kernels.h"

CASE(module_missing_file, "cuModuleLoad: a file that does not exist is CUDA_ERROR_FILE_NOT_FOUND")
{
	CUmodule m;

	EXPECT_RC(cuModuleLoad(&m, "/nonexistent/conformance.fatbin"), CUDA_ERROR_FILE_NOT_FOUND);
}

CASE(module_function_missing,
     "cuModuleGetFunction: \"If no function of that name exists, cuModuleGetFunction() returns CUDA_ERROR_NOT_FOUND\"")
{
	CUfunction f;

	EXPECT_RC(cuModuleGetFunction(&f, conf.k.mod, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
}

CASE(module_global,
     "cuModuleGetGlobal: the device address and size of a module's __device__ variable, usable in copies")
{
	CUdeviceptr g = 0;
	size_t sz = 0;
	unsigned v = 77, r = 0;

	OK(cuModuleGetGlobal(&g, &sz, conf.k.mod, "gv_counter"));
	EXPECT(g != 0 && sz == sizeof(unsigned));
	OK(cuMemcpyHtoD(g, &v, 4));
	OK(cuMemcpyDtoH(&r, g, 4));
	EXPECT(r == 77);
	EXPECT_RC(cuModuleGetGlobal(&g, &sz, conf.k.mod, "no_such_global"), CUDA_ERROR_NOT_FOUND);
}

CASE(module_two_loads, "two loads of one image are two modules with their own globals")
{
	struct conf_kernels k2;
	CUdeviceptr a, b;
	size_t sz;

	OK(conf_load_kernels(&k2));
	OK(cuModuleGetGlobal(&a, &sz, conf.k.mod, "gv_counter"));
	OK(cuModuleGetGlobal(&b, &sz, k2.mod, "gv_counter"));
	EXPECT(a != b);
	OK(cuModuleUnload(k2.mod));
}

CASE(module_unload_twice,
     "cuModuleUnload of an unloaded module is an error (CUDA_ERROR_INVALID_HANDLE)")
{
	struct conf_kernels k2;

	OK(conf_load_kernels(&k2));
	OK(cuModuleUnload(k2.mod));
	EXPECT_RC(cuModuleUnload(k2.mod), CUDA_ERROR_INVALID_HANDLE);
}

CASE(launch_fill,
     "cuLaunchKernel: every thread of the grid runs (gv_fill writes one element per thread)")
{
	enum { N = 10000 };
	unsigned *h = malloc(N * sizeof(unsigned));
	CUdeviceptr d;
	int bad = 0;

	REQUIRE(h != NULL);
	OK(cuMemAlloc(&d, N * sizeof(unsigned)));
	OK(conf_fill(NULL, NULL, d, N, 0xabcdu));
	OK(cuMemcpyDtoH(h, d, N * sizeof(unsigned)));
	for (unsigned i = 0; i < N; i++)
		bad += h[i] != conf_fill_value(i, 0xabcdu);
	EXPECT(bad == 0);
	OK(cuMemFree(d));
	free(h);
}

CASE(launch_params_copied,
     "cuLaunchKernel: kernelParams are copied at launch (the host's argument may change right after)")
{
	CUdeviceptr c;
	struct gv_count_args a;
	void *params[] = { &a };
	unsigned r = 0;
	CUstream s;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuMemAlloc(&c, 16));
	OK(conf_spin(NULL, s, 50, c)); /* delays the launch; c is reset below */
	OK(cuMemsetD32Async(c, 0, 1, s));
	a.counter = (unsigned *)(uintptr_t)c;
	a.add = 3;
	OK(cuLaunchKernel(conf.k.count, 1, 1, 1, 1, 1, 1, 0, s, params, NULL));
	a.add = 1000;
	OK(cuStreamSynchronize(s));
	OK(cuMemcpyDtoH(&r, c, 4));
	EXPECT(r == 3);
	OK(cuMemFree(c));
	OK(cuStreamDestroy(s));
}

CASE(launch_extra_buffer,
     "cuLaunchKernel: arguments through extra (CU_LAUNCH_PARAM_BUFFER_POINTER / _SIZE / _END)")
{
	CUdeviceptr c;
	struct gv_count_args a;
	size_t sz = sizeof(a);
	void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &a, CU_LAUNCH_PARAM_BUFFER_SIZE, &sz,
			  CU_LAUNCH_PARAM_END };
	unsigned r = 0;

	OK(cuMemAlloc(&c, 4));
	OK(cuMemsetD32(c, 10, 1));
	a.counter = (unsigned *)(uintptr_t)c;
	a.add = 5;
	OK(cuLaunchKernel(conf.k.count, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra));
	OK(cuMemcpyDtoH(&r, c, 4));
	EXPECT(r == 15);
	OK(cuMemFree(c));
}

static CUresult launch_dims(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
			    unsigned bz, unsigned shmem)
{
	struct gv_count_args a = { NULL, 0 };
	void *params[] = { &a };

	/* counter NULL: never dereferenced by a launch that is refused; the
	 * accepted ones below use block (1,1,1) grid (1,1,1) with add 0 only
	 * through launch_ok */
	return cuLaunchKernel(conf.k.count, gx, gy, gz, bx, by, bz, shmem, NULL, params, NULL);
}

CASE(launch_block_too_big,
     "cuLaunchKernel: more than MAX_THREADS_PER_BLOCK threads per block is CUDA_ERROR_INVALID_VALUE")
{
	EXPECT_RC(launch_dims(1, 1, 1, 1024, 2, 1, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(launch_dims(1, 1, 1, 2048, 1, 1, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(launch_block_z_too_big,
     "cuLaunchKernel: blockDimZ above MAX_BLOCK_DIM_Z (64) is CUDA_ERROR_INVALID_VALUE")
{
	EXPECT_RC(launch_dims(1, 1, 1, 1, 1, 65, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(launch_grid_zero, "cuLaunchKernel: a zero grid or block dimension is CUDA_ERROR_INVALID_VALUE")
{
	EXPECT_RC(launch_dims(0, 1, 1, 1, 1, 1, 0), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(launch_dims(1, 1, 1, 0, 1, 1, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(launch_grid_y_too_big,
     "cuLaunchKernel: gridDimY above MAX_GRID_DIM_Y (65535) is CUDA_ERROR_INVALID_VALUE")
{
	EXPECT_RC(launch_dims(1, 65536, 1, 1, 1, 1, 0), CUDA_ERROR_INVALID_VALUE);
}

CASE(launch_shmem_too_big,
     "cuLaunchKernel: dynamic shared memory above the function's limit (48 KiB without opt-in) is an error")
{
	CUresult rc = launch_dims(1, 1, 1, 1, 1, 1, 1u << 20);

	EXPECT(rc == CUDA_ERROR_INVALID_VALUE || rc == CUDA_ERROR_OUT_OF_MEMORY);
	cuCtxSynchronize();
}

CASE(launch_null_function, "cuLaunchKernel: a NULL function is CUDA_ERROR_INVALID_HANDLE")
{
	struct gv_count_args a = { NULL, 0 };
	void *params[] = { &a };

	EXPECT_RC(cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
		  CUDA_ERROR_INVALID_HANDLE);
}

CASE(launch_ex, "cuLaunchKernelEx: the launch described by a CUlaunchConfig")
{
	CUdeviceptr c;
	struct gv_count_args a;
	void *params[] = { &a };
	CUlaunchConfig cfg;
	unsigned r = 0;

	OK(cuMemAlloc(&c, 4));
	OK(cuMemsetD32(c, 1, 1));
	a.counter = (unsigned *)(uintptr_t)c;
	a.add = 6;
	memset(&cfg, 0, sizeof(cfg));
	cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
	cfg.blockDimX = cfg.blockDimY = cfg.blockDimZ = 1;
	OK(cuLaunchKernelEx(&cfg, conf.k.count, params, NULL));
	OK(cuMemcpyDtoH(&r, c, 4));
	EXPECT(r == 7);
	OK(cuMemFree(c));
}

CASE(func_attribute,
     "cuFuncGetAttribute(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK): at least 1, at most the device's 1024")
{
	int v = 0;

	OK(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, conf.k.fill));
	EXPECT(v >= 1 && v <= 1024);
}

CASE(launch_other_context_module,
     "a module belongs to its context: a second context loads its own copy and launches from it")
{
	CUcontext c, p;
	struct conf_kernels k2;
	CUdeviceptr d;
	unsigned r = 0;

	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(conf_load_kernels(&k2));
	OK(cuMemAlloc(&d, 4));
	OK(cuMemsetD32(d, 0, 1));
	OK(conf_count(&k2, NULL, d, 9));
	OK(cuMemcpyDtoH(&r, d, 4));
	EXPECT(r == 9);
	OK(cuMemFree(d));
	OK(cuModuleUnload(k2.mod));
	OK(cuCtxPopCurrent(&p));
	OK(cuCtxDestroy(c));
}

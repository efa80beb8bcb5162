/* Modules (shared objects of C kernels) and kernel launches. Needs
 * GV_KERNEL_MODULE (gv_kernels.so) and GV_TEST_NOT_MODULE (some other
 * shared object). */
#include <stdint.h>
#include <string.h>

#include "gv_kernels.h"
#include "simtest.h"

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	EXPECT(f != NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	EXPECT(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(void)
{
	const char *path = getenv("GV_KERNEL_MODULE"), *other = getenv("GV_TEST_NOT_MODULE");
	CUcontext ctx;
	CUmodule m, m2;
	CUfunction fill, idx, cnt, f2, bad;
	CUdeviceptr d, g, g2;
	size_t gsize, len;
	unsigned host[4096];
	void *image;

	EXPECT(path && other);
	OK(cuInit(0));
	EXPECT_RC(cuModuleLoad(&m, path), CUDA_ERROR_INVALID_CONTEXT);
	OK(cuCtxCreate(&ctx, NULL, 0, 0));
	EXPECT_RC(cuModuleLoad(&m, NULL), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuModuleLoad(&m, "/nonexistent/gv_kernels.so"), CUDA_ERROR_FILE_NOT_FOUND);
	EXPECT_RC(cuModuleLoad(&m, other), CUDA_ERROR_INVALID_IMAGE);
	EXPECT_RC(cuModuleLoadData(&m, "x"), CUDA_ERROR_INVALID_IMAGE);
	EXPECT_RC(cuModuleLoadData(&m, ".version 8.0\n.target sm_90\n"), CUDA_ERROR_INVALID_IMAGE);
	OK(cuModuleLoad(&m, path));

	EXPECT_RC(cuModuleGetFunction(&bad, m, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
	EXPECT_RC(cuModuleGetFunction(&bad, (CUmodule)&len, "gv_fill"), CUDA_ERROR_INVALID_HANDLE);
	EXPECT_RC(cuModuleGetFunction(NULL, m, "gv_fill"), CUDA_ERROR_INVALID_VALUE);
	OK(cuModuleGetFunction(&fill, m, "gv_fill"));
	OK(cuModuleGetFunction(&idx, m, "gv_index2d"));
	OK(cuModuleGetFunction(&cnt, m, "gv_count"));

	/* 1-D: every element written by its own thread */
	OK(cuMemAlloc(&d, sizeof(host)));
	{
		struct gv_fill_args a = { (unsigned *)(uintptr_t)d, 4000, 77 };
		void *params[] = { &a };

		OK(cuMemsetD32(d, 0xffffffff, 4096));
		OK(cuLaunchKernel(fill, 16, 1, 1, 256, 1, 1, 0, NULL, params, NULL));
		/* arguments are copied at launch: changing them now has no effect */
		a.seed = 1;
		OK(cuCtxSynchronize());
		OK(cuMemcpyDtoH(host, d, sizeof(host)));
		for (unsigned i = 0; i < 4000; i++)
			EXPECT(host[i] == ((i * 2654435761u) ^ 77u));
		EXPECT(host[4000] == 0xffffffff); /* guarded by n */

		EXPECT_RC(cuLaunchKernel(fill, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL),
			  CUDA_ERROR_INVALID_VALUE);
		EXPECT_RC(cuLaunchKernel(fill, 1, 1, 1, 64, 64, 1, 0, NULL, params, NULL),
			  CUDA_ERROR_INVALID_VALUE);
		EXPECT_RC(cuLaunchKernel(fill, 0, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			  CUDA_ERROR_INVALID_VALUE);
		EXPECT_RC(cuLaunchKernel(fill, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			  CUDA_ERROR_INVALID_VALUE);
		EXPECT_RC(cuLaunchKernel((CUfunction)&a, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			  CUDA_ERROR_INVALID_HANDLE);
	}
	/* extra: the argument buffer form */
	{
		struct gv_fill_args a = { (unsigned *)(uintptr_t)d, 16, 5 };
		size_t sz = sizeof(a);
		void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &a, CU_LAUNCH_PARAM_BUFFER_SIZE,
				  &sz, CU_LAUNCH_PARAM_END };

		OK(cuLaunchKernel(fill, 1, 1, 1, 16, 1, 1, 0, NULL, NULL, extra));
		OK(cuMemcpyDtoH(host, d, 64));
		EXPECT(host[15] == ((15u * 2654435761u) ^ 5u));
	}
	/* 2-D grid of 2-D blocks: each element once, with its own indices */
	{
		struct gv_index2d_args a = { (unsigned *)(uintptr_t)d, 20, 7 };
		void *params[] = { &a };

		OK(cuMemsetD32(d, 0, 4096));
		OK(cuLaunchKernel(idx, 3, 2, 1, 8, 4, 1, 0, NULL, params, NULL));
		OK(cuMemcpyDtoH(host, d, 20 * 7 * 4));
		for (unsigned y = 0; y < 7; y++)
			for (unsigned x = 0; x < 20; x++)
				EXPECT(host[y * 20 + x] == ((y << 16) | x));
	}
	/* module globals: one per loaded module */
	EXPECT_RC(cuModuleGetGlobal(&g, &gsize, m, "no_such_var"), CUDA_ERROR_NOT_FOUND);
	OK(cuModuleGetGlobal(&g, &gsize, m, "gv_counter"));
	EXPECT(gsize == sizeof(unsigned));
	OK(cuMemsetD32(g, 0, 1));
	{
		struct gv_count_args a = { (unsigned *)(uintptr_t)g, 5 };
		void *params[] = { &a };

		OK(cuLaunchKernel(cnt, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL));
		OK(cuLaunchKernel(cnt, 4, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
		OK(cuMemcpyDtoH(host, g, 4));
		EXPECT(host[0] == 10);
	}
	image = read_file(path, &len);
	OK(cuModuleLoadData(&m2, image));
	free(image);
	OK(cuModuleGetGlobal(&g2, NULL, m2, "gv_counter"));
	EXPECT(g2 != g);
	OK(cuMemcpyDtoH(host, g2, 4));
	EXPECT(host[0] == 0);
	OK(cuModuleGetFunction(&f2, m2, "gv_fill"));
	EXPECT(f2 != fill);

	OK(cuModuleUnload(m2));
	EXPECT_RC(cuModuleUnload(m2), CUDA_ERROR_INVALID_HANDLE);
	EXPECT_RC(cuModuleGetFunction(&f2, m2, "gv_fill"), CUDA_ERROR_INVALID_HANDLE);
	{
		struct gv_fill_args a = { (unsigned *)(uintptr_t)d, 16, 5 };
		void *params[] = { &a };

		EXPECT_RC(cuLaunchKernel(f2, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			  CUDA_ERROR_INVALID_HANDLE);
	}
	EXPECT_RC(cuMemcpyDtoH(host, g2, 4), CUDA_ERROR_INVALID_VALUE);
	OK(cuMemFree(d));
	OK(cuModuleUnload(m));
	OK(cuCtxDestroy(ctx));
	printf("sim.module: ok\n");
	return 0;
}

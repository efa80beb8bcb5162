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
 * Exit 0 when every check holds. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CK(call)                                                                             \
	do {                                                                                 \
		CUresult r_ = (call);                                                        \
		if (r_ != CUDA_SUCCESS) {                                                    \
			fprintf(stderr, "%s: %d\n", #call, (int)r_);                         \
			return 1;                                                            \
		}                                                                            \
	} while (0)

#define NSMALL 1000
#define MIB (1024u * 1024u)

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

int main(int argc, char **argv)
{
	CUdevice dev;
	CUcontext ctx;
	CUstream s;
	int n = 0, prio = 0;

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
		r = cuStreamGetPriority(s, &prio);
		if (r != CUDA_ERROR_NOT_SUPPORTED) {
			fprintf(stderr, "cuStreamGetPriority answered %d, not NOT_SUPPORTED\n",
				(int)r);
			return 1;
		}
		CK(cuStreamDestroy_v2(s));
		CK(cuGetProcAddress_v2("cuStreamCreate", (void **)&create, 12000, 0, &q));
		CK(cuGetProcAddress_v2("cuStreamDestroy", (void **)&destroy, 12000, 0, &q));
		CK(create(&s, 0));
		CK(destroy(s));
		r = cuGetProcAddress_v2("cuStreamGetPriority", (void **)&create, 12000, 0, &q);
		if (r == CUDA_SUCCESS && q == CU_GET_PROC_ADDRESS_SUCCESS &&
		    ((CUresult(*)(CUstream, int *))(void *)create)(s, &prio) !=
			    CUDA_ERROR_NOT_SUPPORTED) {
			fprintf(stderr, "cuStreamGetPriority through cuGetProcAddress was not refused\n");
			return 1;
		}
		CK(cuDevicePrimaryCtxRelease_v2(dev));
		printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "suballoc"))
		return suballoc();
	return 2;
}

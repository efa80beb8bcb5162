/* gv-mig-probe: small driver-API checks of the shim's migration mode, run
 * by run-migrate.sh under the shim with GPUVISOR_CTL set.
 *   gv-mig-probe taint    allocates managed memory (which the shim cannot
 *                         move), prints "ready", waits for stdin to close
 *   gv-mig-probe refuse   an entry point migration mode does not handle
 *                         answers CUDA_ERROR_NOT_SUPPORTED; one it handles
 *                         works through cuGetProcAddress as well
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
	return 2;
}

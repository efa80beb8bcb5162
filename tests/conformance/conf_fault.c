/* Kernel faults and sticky errors (each case in a process of its own: the
 * faulting context is unusable afterwards, as documented). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

/* cuda.h, CUDA_ERROR_ILLEGAL_ADDRESS: "While executing a kernel, the
 * device encountered a load or store instruction on an invalid memory
 * address. This leaves the process in an inconsistent state and any
 * further CUDA work will return the same error." */
#define ILLEGAL \
	"CUDA_ERROR_ILLEGAL_ADDRESS: a kernel's store to an invalid address; \"any further CUDA work will return the same error\""

CASE_F(fault_null_ctx_sync, CONF_ISOLATED,
       ILLEGAL " — a store through NULL: cuCtxSynchronize reports it, the process lives")
{
	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_null_stream_sync, CONF_ISOLATED,
       ILLEGAL " — cuStreamSynchronize of the launch's stream reports it")
{
	CUstream s;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(conf_count(NULL, s, 0, 1));
	EXPECT_RC(cuStreamSynchronize(s), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_sticky_alloc, CONF_ISOLATED,
       ILLEGAL " — after it, cuMemAlloc in the context fails with it")
{
	CUdeviceptr p;

	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_sticky_launch, CONF_ISOLATED,
       ILLEGAL " — after it, a launch or a synchronous copy fails with it")
{
	CUdeviceptr p;
	unsigned v = 1;

	OK(cuMemAlloc(&p, 16));
	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(conf_count(NULL, NULL, p, 1), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(cuMemcpyHtoD(p, &v, 4), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_sticky_streams, CONF_ISOLATED,
       ILLEGAL
       " — after it, synchronizing any stream of the context and creating streams and events fail with it")
{
	CUstream s, t;
	CUevent e;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(cuStreamSynchronize(s), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(cuStreamCreate(&t, 0), CUDA_ERROR_ILLEGAL_ADDRESS);
	EXPECT_RC(cuEventCreate(&e, 0), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_launch_returns, CONF_ISOLATED,
       ILLEGAL
       " — the faulting launch itself returns CUDA_SUCCESS (launches are asynchronous; the error comes at synchronization)")
{
	CUstream s;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	EXPECT_RC(conf_spin(NULL, s, 50, 0), CUDA_SUCCESS); /* writes its times through NULL */
	EXPECT_RC(cuStreamSynchronize(s), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_event_sync, CONF_ISOLATED,
       ILLEGAL " — cuEventSynchronize of an event recorded after the faulting kernel reports it")
{
	CUstream s;
	CUevent e;
	CUdeviceptr w;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(cuMemAlloc(&w, 16));
	/* a kernel first, so that the record is queued before the fault */
	OK(conf_spin(NULL, s, 100, w));
	OK(conf_count(NULL, s, 0, 1));
	OK(cuEventRecord(e, s));
	EXPECT_RC(cuEventSynchronize(e), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_unmapped_vmm, CONF_ISOLATED,
       ILLEGAL " — a store to a reserved but unmapped VMM address")
{
	CUmemAllocationProp p;
	CUdeviceptr va;
	size_t g = 0;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = (int)conf.dev;
	OK(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	OK(cuMemAddressReserve(&va, g, 0, 0, 0));
	OK(conf_count(NULL, NULL, va, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
}

CASE_F(fault_other_context_ok, CONF_ISOLATED,
       ILLEGAL
       " — the process keeps running and calls that are not CUDA work (cuGetErrorName) still work")
{
	const char *n = NULL;

	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
	OK(cuGetErrorName(CUDA_ERROR_ILLEGAL_ADDRESS, &n));
	EXPECT(n && !strcmp(n, "CUDA_ERROR_ILLEGAL_ADDRESS"));
}

CASE_F(fault_host_segv_untouched, CONF_ISOLATED,
       "a fault in host code is not the driver's: after a kernel fault was caught, a SIGSEGV of the process's own code still ends it (checked in a grandchild; under ASan its report ends it)")
{
	pid_t pid;
	int st = 0;

	OK(conf_count(NULL, NULL, 0, 1));
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* not NULL: UBSan's null check would stop it before the fault */
		volatile uintptr_t bad = 64;

		alarm(10);
		*(volatile int *)bad = 1;
		_exit(42); /* survived: the fault was swallowed */
	}
	REQUIRE(pid > 0);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	/* under ASan its report ends the process: with abort_on_error=1 (make
	 * check's setting) by SIGABRT, else by a non-zero exit */
	EXPECT(WIFSIGNALED(st) ? WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGABRT
			       : WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 42);
}

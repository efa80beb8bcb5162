/* Streams and events: order, queries, waits across streams, timing. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simtest.h"

static atomic_int gate; /* host functions wait for this */
static int order[16];
static atomic_int n_order;

static void wait_gate(void *arg)
{
	(void)arg;
	while (!atomic_load(&gate))
		usleep(1000);
}

static void note(void *arg)
{
	order[atomic_fetch_add(&n_order, 1)] = (int)(intptr_t)arg;
}

static void sleep_ms(void *arg)
{
	usleep((useconds_t)(intptr_t)arg * 1000);
}

static void callback(CUstream s, CUresult status, void *arg)
{
	(void)s;
	if (status == CUDA_SUCCESS)
		note(arg);
}

int main(void)
{
	CUcontext ctx;
	CUstream a, b, nb;
	CUevent e1, e2, e3, nt;
	unsigned flags;
	int prio, lo, hi;
	float ms;
	int base = 0;

	OK(cuInit(0));
	EXPECT_RC(cuStreamCreate(&a, 0), CUDA_ERROR_INVALID_CONTEXT);
	OK(cuCtxCreate(&ctx, NULL, 0, 0));
	EXPECT_RC(cuStreamCreate(&a, 0x40), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuStreamCreate(NULL, 0), CUDA_ERROR_INVALID_VALUE);
	OK(cuStreamCreate(&a, 0));
	OK(cuStreamCreate(&b, 0));
	OK(cuCtxGetStreamPriorityRange(&lo, &hi));
	OK(cuStreamCreateWithPriority(&nb, CU_STREAM_NON_BLOCKING, hi));
	OK(cuStreamGetFlags(nb, &flags));
	EXPECT(flags == CU_STREAM_NON_BLOCKING);
	OK(cuStreamGetPriority(nb, &prio));
	EXPECT(prio == hi);
	SIM_ONLY(EXPECT_RC(cuStreamQuery((CUstream)&prio), CUDA_ERROR_INVALID_HANDLE));

	/* in order on a stream, asynchronous to the host */
	atomic_store(&gate, 0);
	OK(cuLaunchHostFunc(a, wait_gate, NULL));
	OK(cuLaunchHostFunc(a, note, (void *)1));
	OK(cuStreamAddCallback(a, callback, (void *)2, 0));
	OK(cuLaunchHostFunc(a, note, (void *)3));
	EXPECT_RC(cuStreamQuery(a), CUDA_ERROR_NOT_READY);
	EXPECT(atomic_load(&n_order) == 0);

	/* b waits for an event recorded on a (behind the gate) */
	OK(cuEventCreate(&e1, CU_EVENT_DEFAULT));
	OK(cuEventCreate(&e2, CU_EVENT_DEFAULT));
	OK(cuEventCreate(&nt, CU_EVENT_DISABLE_TIMING));
	EXPECT_RC(cuEventCreate(&e3, 0x100), CUDA_ERROR_INVALID_VALUE);
	OK(cuEventQuery(e1)); /* never recorded: complete */
	OK(cuEventRecord(e1, a));
	EXPECT_RC(cuEventQuery(e1), CUDA_ERROR_NOT_READY);
	OK(cuStreamWaitEvent(b, e1, 0));
	OK(cuLaunchHostFunc(b, note, (void *)4));
	/* another stream is not held up by them */
	SIM_ONLY({
		OK(cuLaunchHostFunc(nb, note, (void *)0));
		OK(cuStreamSynchronize(nb));
		EXPECT(atomic_load(&n_order) == 1 && order[0] == 0);
		base = 1;
	});
	EXPECT_RC(cuStreamQuery(b), CUDA_ERROR_NOT_READY);
	atomic_store(&gate, 1);
	OK(cuStreamSynchronize(b));
	OK(cuEventSynchronize(e1));
	OK(cuEventQuery(e1));
	OK(cuStreamSynchronize(a));
	EXPECT(atomic_load(&n_order) == base + 4);
	EXPECT(order[base] == 1 && order[base + 1] == 2 && order[base + 2] == 3 &&
	       order[base + 3] == 4);
	OK(cuStreamQuery(a));

	/* elapsed time: two records 50 ms apart */
	OK(cuEventRecord(e1, a));
	OK(cuLaunchHostFunc(a, sleep_ms, (void *)50));
	OK(cuEventRecord(e2, a));
	EXPECT_RC(cuEventElapsedTime(NULL, e1, e2), CUDA_ERROR_INVALID_HANDLE);
	OK(cuEventSynchronize(e2));
	OK(cuEventElapsedTime(&ms, e1, e2));
	EXPECT(ms >= 45.0f && ms < 10000.0f);
	OK(cuEventElapsedTime(&ms, e2, e1));
	EXPECT(ms <= -45.0f);
	OK(cuEventRecord(nt, a));
	OK(cuStreamSynchronize(a));
	EXPECT_RC(cuEventElapsedTime(&ms, e1, nt), CUDA_ERROR_INVALID_HANDLE);
	OK(cuEventCreate(&e3, 0));
	EXPECT_RC(cuEventElapsedTime(&ms, e1, e3), CUDA_ERROR_INVALID_HANDLE); /* not recorded */

	/* the legacy default stream waits for blocking streams, not for nb */
	atomic_store(&gate, 0);
	atomic_store(&n_order, 0);
	SIM_ONLY(OK(cuLaunchHostFunc(nb, wait_gate, NULL)));
	OK(cuLaunchHostFunc(a, sleep_ms, (void *)20));
	OK(cuLaunchHostFunc(a, note, (void *)7));
	OK(cuLaunchHostFunc(NULL, note, (void *)8));
	OK(cuStreamSynchronize(NULL));
	EXPECT(atomic_load(&n_order) == 2 && order[0] == 7 && order[1] == 8);
	atomic_store(&gate, 1);
	OK(cuCtxSynchronize());

	/* per-thread default stream */
	OK(cuLaunchHostFunc(CU_STREAM_PER_THREAD, note, (void *)9));
	OK(cuStreamSynchronize(CU_STREAM_PER_THREAD));
	EXPECT(order[2] == 9);

	OK(cuEventDestroy(e1));
	SIM_ONLY(EXPECT_RC(cuEventDestroy(e1), CUDA_ERROR_INVALID_HANDLE));
	SIM_ONLY(EXPECT_RC(cuEventRecord(e1, a), CUDA_ERROR_INVALID_HANDLE));
	OK(cuEventDestroy(e2));
	OK(cuEventDestroy(e3));
	OK(cuEventDestroy(nt));
	OK(cuStreamDestroy(a));
	SIM_ONLY(EXPECT_RC(cuStreamDestroy(a), CUDA_ERROR_INVALID_HANDLE));
	SIM_ONLY(EXPECT_RC(cuStreamSynchronize(a), CUDA_ERROR_INVALID_HANDLE));
	OK(cuStreamDestroy(b));
	/* streams die with their context */
	OK(cuCtxDestroy(ctx));
	SIM_ONLY(EXPECT_RC(cuStreamQuery(nb), CUDA_ERROR_INVALID_HANDLE));
	printf("sim.stream: ok\n");
	return 0;
}

/* Streams and events: ordering on a stream and between streams (the
 * driver API's "Stream synchronization behavior"), the legacy and the
 * per-thread default streams, queries, waits, timing, re-recording. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

/* Long enough to tell "the call waited" from "it returned at once" on a
 * loaded machine. */
#define SPIN_MS 300.0
#define QUICK_MS 150.0

static CUdeviceptr when_buf(int n)
{
	CUdeviceptr w = 0;

	if (cuMemAlloc(&w, 16ull * n) == CUDA_SUCCESS)
		cuMemsetD8(w, 0, 16ull * n);
	return w;
}

static void when_get(CUdeviceptr w, int i, unsigned long long out[2])
{
	cuMemcpyDtoH(out, w + 16ull * i, 16);
}

CASE(stream_create_flags,
     "cuStreamCreate / cuStreamGetFlags: the flags given (CU_STREAM_DEFAULT or CU_STREAM_NON_BLOCKING)")
{
	CUstream a, b;
	unsigned fa = 9, fb = 9;

	OK(cuStreamCreate(&a, CU_STREAM_DEFAULT));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuStreamGetFlags(a, &fa));
	OK(cuStreamGetFlags(b, &fb));
	EXPECT(fa == CU_STREAM_DEFAULT && fb == CU_STREAM_NON_BLOCKING);
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
}

CASE(stream_create_bad_flags, "cuStreamCreate: other flags are CUDA_ERROR_INVALID_VALUE")
{
	CUstream a;

	EXPECT_RC(cuStreamCreate(&a, 0x40), CUDA_ERROR_INVALID_VALUE);
}

CASE(stream_priority_clamped,
     "cuStreamCreateWithPriority: \"If the specified priority is outside the numerical range returned by cuCtxGetStreamPriorityRange, it will automatically be clamped to the lowest or the highest number in the range\"")
{
	int least, greatest, p = 99;
	CUstream s;

	OK(cuCtxGetStreamPriorityRange(&least, &greatest));
	OK(cuStreamCreateWithPriority(&s, 0, greatest - 100));
	OK(cuStreamGetPriority(s, &p));
	EXPECT(p == greatest);
	OK(cuStreamDestroy(s));
	OK(cuStreamCreateWithPriority(&s, 0, least + 100));
	OK(cuStreamGetPriority(s, &p));
	EXPECT(p == least);
	OK(cuStreamDestroy(s));
}

CASE(stream_get_ctx, "cuStreamGetCtx: the context the stream belongs to")
{
	CUstream s;
	CUcontext c = NULL;

	OK(cuStreamCreate(&s, 0));
	OK(cuStreamGetCtx(s, &c));
	EXPECT(c == conf.ctx);
	OK(cuStreamDestroy(s));
}

CASE(stream_ids_unique, "cuStreamGetId: a unique id per stream")
{
	CUstream a, b;
	unsigned long long ia = 0, ib = 0;

	OK(cuStreamCreate(&a, 0));
	OK(cuStreamCreate(&b, 0));
	OK(cuStreamGetId(a, &ia));
	OK(cuStreamGetId(b, &ib));
	EXPECT(ia != ib);
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
}

CASE(stream_query_idle_busy,
     "cuStreamQuery: CUDA_SUCCESS when all work is done, CUDA_ERROR_NOT_READY while some is not")
{
	CUstream s;
	CUdeviceptr w = when_buf(1);

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuStreamQuery(s));
	OK(conf_spin(NULL, s, SPIN_MS, w));
	EXPECT_RC(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
	OK(cuStreamSynchronize(s));
	OK(cuStreamQuery(s));
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(stream_launch_async,
     "kernel launches are asynchronous: cuLaunchKernel returns before the kernel completes")
{
	CUstream s;
	CUdeviceptr w = when_buf(1);
	double t0;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	t0 = conf_now_ms();
	OK(conf_spin(NULL, s, SPIN_MS, w));
	EXPECT(conf_now_ms() - t0 < QUICK_MS);
	OK(cuStreamSynchronize(s));
	EXPECT(conf_now_ms() - t0 >= SPIN_MS - 10);
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(stream_in_order,
     "work on one stream runs in issue order: a kernel starts after the previous one ended")
{
	CUstream s;
	CUdeviceptr w = when_buf(2);
	unsigned long long a[2], b[2];

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(conf_spin(NULL, s, 30, w));
	OK(conf_spin(NULL, s, 30, w + 16));
	OK(cuStreamSynchronize(s));
	when_get(w, 0, a);
	when_get(w, 1, b);
	EXPECT(b[0] >= a[1]);
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(legacy_waits_for_blocking,
     "legacy default stream: \"waits on all blocking streams\" — its work starts after earlier work of blocking streams")
{
	CUstream s;
	CUdeviceptr w = when_buf(2);
	unsigned long long a[2], b[2];

	OK(cuStreamCreate(&s, CU_STREAM_DEFAULT));
	OK(conf_spin(NULL, s, 50, w));
	OK(conf_spin(NULL, CU_STREAM_LEGACY, 10, w + 16));
	OK(cuCtxSynchronize());
	when_get(w, 0, a);
	when_get(w, 1, b);
	EXPECT(b[0] >= a[1]);
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(blocking_waits_for_legacy,
     "blocking streams \"wait on the legacy default stream\": work queued after legacy work starts after it")
{
	CUstream s;
	CUdeviceptr w = when_buf(2);
	unsigned long long a[2], b[2];

	OK(cuStreamCreate(&s, CU_STREAM_DEFAULT));
	OK(conf_spin(NULL, NULL, 50, w));
	OK(conf_spin(NULL, s, 10, w + 16));
	OK(cuCtxSynchronize());
	when_get(w, 0, a);
	when_get(w, 1, b);
	EXPECT(b[0] >= a[1]);
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(legacy_async_host,
     "asynchronous work on the legacy stream returns at once even while a blocking stream is busy (the ordering is the device's, not the host's)")
{
	CUstream s;
	CUdeviceptr w = when_buf(2);
	double t0, dt;

	OK(cuStreamCreate(&s, CU_STREAM_DEFAULT));
	OK(conf_spin(NULL, s, SPIN_MS, w));
	t0 = conf_now_ms();
	OK(conf_spin(NULL, CU_STREAM_LEGACY, 1, w + 16));
	OK(cuMemsetD32Async(w + 16, 0, 1, CU_STREAM_LEGACY));
	dt = conf_now_ms() - t0;
	if (!EXPECT(dt < QUICK_MS))
		conf_note("queueing on the legacy stream took %.0f ms", dt);
	EXPECT_RC(cuStreamQuery(CU_STREAM_LEGACY), CUDA_ERROR_NOT_READY);
	OK(cuCtxSynchronize());
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(blocking_async_host,
     "asynchronous work on a blocking stream returns at once while the legacy stream is busy")
{
	CUstream s;
	CUdeviceptr w = when_buf(2);
	double t0, dt;

	OK(cuStreamCreate(&s, CU_STREAM_DEFAULT));
	OK(conf_spin(NULL, CU_STREAM_LEGACY, SPIN_MS, w));
	t0 = conf_now_ms();
	OK(conf_spin(NULL, s, 1, w + 16));
	dt = conf_now_ms() - t0;
	if (!EXPECT(dt < QUICK_MS))
		conf_note("queueing on the blocking stream took %.0f ms", dt);
	EXPECT_RC(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
	OK(cuCtxSynchronize());
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

CASE(nonblocking_exempt,
     "CU_STREAM_NON_BLOCKING: \"Work running in the created stream may run concurrently with work in stream 0 (the NULL stream), and the created stream should perform no implicit synchronization with stream 0\"")
{
	CUstream nb;
	CUevent e;
	CUdeviceptr w = when_buf(2);

	OK(cuStreamCreate(&nb, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, CU_STREAM_LEGACY, SPIN_MS, w));
	OK(cuMemsetD32Async(w + 16, 3, 1, nb));
	OK(cuEventRecord(e, nb));
	OK(cuEventSynchronize(e));
	/* the memset finished while the legacy stream's kernel still runs */
	EXPECT_RC(cuStreamQuery(CU_STREAM_LEGACY), CUDA_ERROR_NOT_READY);
	OK(cuCtxSynchronize());
	OK(cuEventDestroy(e));
	OK(cuStreamDestroy(nb));
	OK(cuMemFree(w));
}

CASE(per_thread_stream,
     "CU_STREAM_PER_THREAD: the calling thread's default stream, usable like any stream")
{
	CUdeviceptr w = when_buf(1);
	unsigned v = 0;

	OK(cuMemsetD32Async(w, 9, 1, CU_STREAM_PER_THREAD));
	OK(cuStreamSynchronize(CU_STREAM_PER_THREAD));
	OK(cuMemcpyDtoH(&v, w, 4));
	EXPECT(v == 9);
	OK(cuStreamQuery(CU_STREAM_PER_THREAD));
	OK(cuMemFree(w));
}

CASE(per_thread_blocking,
     "the per-thread default stream \"is not a non-blocking stream and will synchronize with the legacy default stream\"")
{
	CUdeviceptr w = when_buf(2);
	unsigned long long a[2], b[2];

	OK(conf_spin(NULL, CU_STREAM_LEGACY, 50, w));
	OK(conf_spin(NULL, CU_STREAM_PER_THREAD, 10, w + 16));
	OK(cuCtxSynchronize());
	when_get(w, 0, a);
	when_get(w, 1, b);
	EXPECT(b[0] >= a[1]);
	OK(cuMemFree(w));
}

CASE(stream_destroy_returns,
     "cuStreamDestroy: \"In case the device is still doing work in the stream hStream when cuStreamDestroy() is called, the function will return immediately and the resources associated with hStream will be released automatically once the device has completed all work in hStream\"")
{
	CUstream s;
	CUevent e;
	CUdeviceptr w = when_buf(1);
	unsigned long long r[2];
	double t0, dt;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, s, SPIN_MS, w));
	OK(cuEventRecord(e, s));
	t0 = conf_now_ms();
	OK(cuStreamDestroy(s));
	dt = conf_now_ms() - t0;
	if (!EXPECT(dt < QUICK_MS))
		conf_note("cuStreamDestroy took %.0f ms", dt);
	/* the work still completes */
	OK(cuEventSynchronize(e));
	when_get(w, 0, r);
	EXPECT(r[1] > r[0] && r[0] != 0);
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(stream_destroy_ctx_sync,
     "work of a destroyed stream is still the context's: cuCtxSynchronize waits for it")
{
	CUstream s;
	CUdeviceptr w = when_buf(1);
	unsigned long long r[2];

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(conf_spin(NULL, s, 100, w));
	OK(cuStreamDestroy(s));
	OK(cuCtxSynchronize());
	when_get(w, 0, r);
	EXPECT(r[1] > r[0] && r[0] != 0);
	OK(cuMemFree(w));
}

CASE(stream_sync_legacy_handle,
     "cuStreamSynchronize(CU_STREAM_LEGACY) and (NULL) name the legacy default stream")
{
	OK(cuStreamSynchronize(NULL));
	OK(cuStreamSynchronize(CU_STREAM_LEGACY));
	OK(cuStreamQuery(NULL));
}

static atomic_int host_order[4];
static atomic_int host_n;

static void CUDA_CB host_note(void *p)
{
	int i = atomic_fetch_add(&host_n, 1);

	if (i < 4)
		atomic_store(&host_order[i], (int)(intptr_t)p);
}

CASE(host_func_order,
     "cuLaunchHostFunc: the host function runs after the work queued before it and before the work after it")
{
	CUstream s;
	CUdeviceptr w = when_buf(1);
	unsigned long long r[2] = { 0, 0 };

	atomic_store(&host_n, 0);
	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuLaunchHostFunc(s, host_note, (void *)1));
	OK(conf_spin(NULL, s, 20, w));
	OK(cuLaunchHostFunc(s, host_note, (void *)2));
	OK(cuStreamSynchronize(s));
	EXPECT(atomic_load(&host_n) == 2);
	EXPECT(host_order[0] == 1 && host_order[1] == 2);
	when_get(w, 0, r);
	EXPECT(r[1] > 0);
	OK(cuStreamDestroy(s));
	OK(cuMemFree(w));
}

static void CUDA_CB cb_note(CUstream s, CUresult st, void *p)
{
	(void)s;
	(void)st;
	host_note(p);
}

CASE(callback_flags,
     "cuStreamAddCallback: \"flags - Reserved for future use, must be 0\" (CUDA_ERROR_INVALID_VALUE otherwise); the callback runs in stream order")
{
	CUstream s;

	atomic_store(&host_n, 0);
	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	EXPECT_RC(cuStreamAddCallback(s, cb_note, (void *)5, 1), CUDA_ERROR_INVALID_VALUE);
	OK(cuStreamAddCallback(s, cb_note, (void *)5, 0));
	OK(cuStreamSynchronize(s));
	EXPECT(atomic_load(&host_n) == 1 && host_order[0] == 5);
	OK(cuStreamDestroy(s));
}

/* ---- events ---- */

CASE(event_query_unrecorded, "cuEventQuery: an event never recorded is complete (CUDA_SUCCESS)")
{
	CUevent e;

	OK(cuEventCreate(&e, 0));
	OK(cuEventQuery(e));
	OK(cuEventSynchronize(e));
	OK(cuEventDestroy(e));
}

CASE(event_create_flags,
     "cuEventCreate: CU_EVENT_INTERPROCESS requires CU_EVENT_DISABLE_TIMING; unknown flags are CUDA_ERROR_INVALID_VALUE")
{
	CUevent e;

	EXPECT_RC(cuEventCreate(&e, CU_EVENT_INTERPROCESS), CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuEventCreate(&e, 0x100), CUDA_ERROR_INVALID_VALUE);
	OK(cuEventCreate(&e, CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING));
	OK(cuEventDestroy(e));
}

CASE(event_pending,
     "cuEventQuery: CUDA_ERROR_NOT_READY until the work before the record completes; cuEventSynchronize waits for it")
{
	CUstream s;
	CUevent e;
	CUdeviceptr w = when_buf(1);

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, 0));
	OK(conf_spin(NULL, s, SPIN_MS, w));
	OK(cuEventRecord(e, s));
	EXPECT_RC(cuEventQuery(e), CUDA_ERROR_NOT_READY);
	OK(cuEventSynchronize(e));
	OK(cuEventQuery(e));
	OK(cuStreamDestroy(s));
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(event_record_other_context,
     "cuEventRecord: \"hEvent and hStream must be from the same context otherwise CUDA_ERROR_INVALID_HANDLE is returned\"")
{
	CUcontext c, p;
	CUstream s;
	CUevent e;

	OK(cuEventCreate(&e, 0));
	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuStreamCreate(&s, 0));
	EXPECT_RC(cuEventRecord(e, s), CUDA_ERROR_INVALID_HANDLE);
	OK(cuStreamDestroy(s));
	OK(cuCtxPopCurrent(&p));
	OK(cuEventDestroy(e));
	OK(cuCtxDestroy(c));
}

CASE(event_wait_other_context,
     "cuStreamWaitEvent: \"The event may be from a different context or device than hStream\"")
{
	CUcontext c, p;
	CUstream s, s2;
	CUevent e;
	CUdeviceptr w = when_buf(1);

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, s, 30, w));
	OK(cuEventRecord(e, s));
	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuStreamCreate(&s2, CU_STREAM_NON_BLOCKING));
	OK(cuStreamWaitEvent(s2, e, 0));
	OK(cuStreamSynchronize(s2));
	OK(cuEventQuery(e));
	OK(cuStreamDestroy(s2));
	OK(cuCtxPopCurrent(&p));
	OK(cuCtxDestroy(c));
	OK(cuStreamDestroy(s));
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(event_wait_orders,
     "cuStreamWaitEvent: \"all future work submitted to hStream will wait until hEvent reports completion\"")
{
	CUstream a, b;
	CUevent e;
	CUdeviceptr w = when_buf(2);
	unsigned long long x[2], y[2];

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, a, 50, w));
	OK(cuEventRecord(e, a));
	OK(cuStreamWaitEvent(b, e, 0));
	OK(conf_spin(NULL, b, 5, w + 16));
	OK(cuStreamSynchronize(b));
	when_get(w, 0, x);
	when_get(w, 1, y);
	EXPECT(y[0] >= x[1]);
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(event_wait_host_async,
     "cuStreamWaitEvent is asynchronous: it returns before the event completes")
{
	CUstream a, b;
	CUevent e;
	CUdeviceptr w = when_buf(1);
	double t0;

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, a, SPIN_MS, w));
	OK(cuEventRecord(e, a));
	t0 = conf_now_ms();
	OK(cuStreamWaitEvent(b, e, 0));
	OK(cuMemsetD32Async(w, 0, 1, b));
	EXPECT(conf_now_ms() - t0 < QUICK_MS);
	EXPECT_RC(cuStreamQuery(b), CUDA_ERROR_NOT_READY);
	OK(cuCtxSynchronize());
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(event_wait_survives_rerecord,
     "cuStreamWaitEvent waits for the record current at call time; a later cuEventRecord \"will overwrite any existing state\" but does not release the earlier wait")
{
	CUstream a, b, c;
	CUevent e, done;
	CUdeviceptr w = when_buf(2);
	CUresult qb, qa;

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&c, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(cuEventCreate(&done, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, a, SPIN_MS * 2, w));
	OK(cuEventRecord(e, a));	/* record 1: behind the kernel */
	OK(cuStreamWaitEvent(b, e, 0)); /* b waits for record 1 */
	OK(cuMemsetD32Async(w + 16, 1, 1, b));
	OK(cuEventRecord(done, b));
	OK(cuEventRecord(e, c));   /* record 2: on an idle stream */
	OK(cuEventSynchronize(e)); /* record 2 is done at once */
	usleep(50 * 1000);	   /* time for b to run, were it released */
	qb = cuEventQuery(done);
	qa = cuStreamQuery(a);
	if (qa == CUDA_ERROR_NOT_READY)
		EXPECT_RC(qb, CUDA_ERROR_NOT_READY);
	else
		conf_note("the kernel ended before the check: nothing proved");
	OK(cuCtxSynchronize());
	OK(cuEventQuery(done));
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
	OK(cuStreamDestroy(c));
	OK(cuEventDestroy(e));
	OK(cuEventDestroy(done));
	OK(cuMemFree(w));
}

CASE(event_query_latest_record,
     "cuEventQuery reports the latest record: a re-record on an idle stream is complete while the earlier one is still pending")
{
	CUstream a, c;
	CUevent e;
	CUdeviceptr w = when_buf(1);

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&c, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, a, SPIN_MS, w));
	OK(cuEventRecord(e, a));
	EXPECT_RC(cuEventQuery(e), CUDA_ERROR_NOT_READY);
	OK(cuEventRecord(e, c));
	OK(cuStreamSynchronize(c));
	if (cuStreamQuery(a) == CUDA_ERROR_NOT_READY)
		OK(cuEventQuery(e));
	OK(cuCtxSynchronize());
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(c));
	OK(cuEventDestroy(e));
	OK(cuMemFree(w));
}

CASE(elapsed_basic,
     "cuEventElapsedTime: milliseconds between two completed records (about the kernel's time between them)")
{
	CUstream s;
	CUevent a, b;
	CUdeviceptr w = when_buf(1);
	float ms = 0;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&a, 0));
	OK(cuEventCreate(&b, 0));
	OK(cuEventRecord(a, s));
	OK(conf_spin(NULL, s, 50, w));
	OK(cuEventRecord(b, s));
	OK(cuEventSynchronize(b));
	OK(cuEventElapsedTime(&ms, a, b));
	EXPECT(ms >= 45.0f && ms < 5000.0f);
	OK(cuStreamDestroy(s));
	OK(cuEventDestroy(a));
	OK(cuEventDestroy(b));
	OK(cuMemFree(w));
}

CASE(elapsed_not_ready,
     "cuEventElapsedTime: \"If cuEventRecord() has been called on both events but one or both of them has not yet been completed ... CUDA_ERROR_NOT_READY is returned\"")
{
	CUstream s;
	CUevent a, b;
	CUdeviceptr w = when_buf(1);
	float ms;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&a, 0));
	OK(cuEventCreate(&b, 0));
	OK(cuEventRecord(a, s));
	OK(conf_spin(NULL, s, SPIN_MS, w));
	OK(cuEventRecord(b, s));
	EXPECT_RC(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_NOT_READY);
	OK(cuStreamSynchronize(s));
	OK(cuStreamDestroy(s));
	OK(cuEventDestroy(a));
	OK(cuEventDestroy(b));
	OK(cuMemFree(w));
}

CASE(elapsed_unrecorded,
     "cuEventElapsedTime: \"If cuEventRecord() has not been called on either event then CUDA_ERROR_INVALID_HANDLE is returned\"")
{
	CUevent a, b;
	float ms;

	OK(cuEventCreate(&a, 0));
	OK(cuEventCreate(&b, 0));
	EXPECT_RC(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_INVALID_HANDLE);
	OK(cuEventDestroy(a));
	OK(cuEventDestroy(b));
}

CASE(elapsed_disable_timing,
     "cuEventElapsedTime: \"If either event was created with the CU_EVENT_DISABLE_TIMING flag, then this function will return CUDA_ERROR_INVALID_HANDLE\"")
{
	CUevent a, b;
	float ms;

	OK(cuEventCreate(&a, 0));
	OK(cuEventCreate(&b, CU_EVENT_DISABLE_TIMING));
	OK(cuEventRecord(a, NULL));
	OK(cuEventRecord(b, NULL));
	OK(cuEventSynchronize(b));
	EXPECT_RC(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_INVALID_HANDLE);
	OK(cuEventDestroy(a));
	OK(cuEventDestroy(b));
}

CASE(elapsed_latest_record,
     "cuEventElapsedTime uses the events' latest records: an earlier record completing later does not change the result")
{
	CUstream a, c;
	CUevent start, end;
	CUdeviceptr w = when_buf(1);
	float ms1 = -1, ms2 = -1;

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&c, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&start, 0));
	OK(cuEventCreate(&end, 0));
	OK(cuEventRecord(start, c));
	OK(conf_spin(NULL, a, SPIN_MS, w));
	OK(cuEventRecord(end, a)); /* record 1 of end: behind the kernel */
	OK(cuEventRecord(end, c)); /* record 2 of end: right after start */
	OK(cuStreamSynchronize(c));
	OK(cuEventElapsedTime(&ms1, start, end));
	OK(cuStreamSynchronize(a)); /* record 1 completes now */
	OK(cuEventElapsedTime(&ms2, start, end));
	EXPECT(ms1 >= 0 && ms1 < SPIN_MS / 2);
	if (!EXPECT(ms2 == ms1))
		conf_note("elapsed %.3f ms, then %.3f ms", ms1, ms2);
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(c));
	OK(cuEventDestroy(start));
	OK(cuEventDestroy(end));
	OK(cuMemFree(w));
}

CASE(elapsed_negative, "cuEventElapsedTime of (later, earlier) is negative")
{
	CUstream s;
	CUevent a, b;
	CUdeviceptr w = when_buf(1);
	float ms = 0;

	OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&a, 0));
	OK(cuEventCreate(&b, 0));
	OK(cuEventRecord(a, s));
	OK(conf_spin(NULL, s, 20, w));
	OK(cuEventRecord(b, s));
	OK(cuEventSynchronize(b));
	OK(cuEventElapsedTime(&ms, b, a));
	EXPECT(ms < -15.0f);
	OK(cuStreamDestroy(s));
	OK(cuEventDestroy(a));
	OK(cuEventDestroy(b));
	OK(cuMemFree(w));
}

CASE(event_destroy_pending,
     "cuEventDestroy: \"In case hEvent has been recorded but has not yet been completed ... the call will return immediately\" and waits on it still complete")
{
	CUstream a, b;
	CUevent e;
	CUdeviceptr w = when_buf(2);
	unsigned long long x[2], y[2];
	double t0;

	OK(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
	OK(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
	OK(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
	OK(conf_spin(NULL, a, 100, w));
	OK(cuEventRecord(e, a));
	OK(cuStreamWaitEvent(b, e, 0));
	OK(conf_spin(NULL, b, 1, w + 16));
	t0 = conf_now_ms();
	OK(cuEventDestroy(e));
	EXPECT(conf_now_ms() - t0 < 90);
	OK(cuStreamSynchronize(b));
	when_get(w, 0, x);
	when_get(w, 1, y);
	EXPECT(y[0] >= x[1]);
	OK(cuStreamDestroy(a));
	OK(cuStreamDestroy(b));
	OK(cuMemFree(w));
}

CASE(event_record_with_flags,
     "cuEventRecordWithFlags: flags other than CU_EVENT_RECORD_DEFAULT / CU_EVENT_RECORD_EXTERNAL are CUDA_ERROR_INVALID_VALUE")
{
	CUevent e;

	OK(cuEventCreate(&e, 0));
	OK(cuEventRecordWithFlags(e, NULL, CU_EVENT_RECORD_DEFAULT));
	EXPECT_RC(cuEventRecordWithFlags(e, NULL, 0x100), CUDA_ERROR_INVALID_VALUE);
	OK(cuEventSynchronize(e));
	OK(cuEventDestroy(e));
}

/* Contexts: created, primary, the per-thread stack, destruction. */
#include <string.h>

#include "conf.h"

CASE(ctx_create_current,
     "cuCtxCreate: \"The context is created with a usage count of 1 ... and is made current to the calling thread\"")
{
	CUcontext c = NULL, cur = NULL;

	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == c && c != conf.ctx);
	OK(cuCtxDestroy(c));
}

CASE(ctx_create_bad_device, "cuCtxCreate: an invalid device is CUDA_ERROR_INVALID_DEVICE")
{
	CUcontext c = NULL;

	EXPECT_RC(cuCtxCreate(&c, NULL, 0, conf.ndev + 7), CUDA_ERROR_INVALID_DEVICE);
}

CASE(ctx_create_bad_flags,
     "cuCtxCreate: flags outside CU_CTX_FLAGS_MASK are CUDA_ERROR_INVALID_VALUE")
{
	CUcontext c = NULL;

	EXPECT_RC(cuCtxCreate(&c, NULL, 0x80000000u, conf.dev), CUDA_ERROR_INVALID_VALUE);
}

CASE(ctx_get_device, "cuCtxGetDevice: the device of the current context")
{
	CUdevice d = -1;

	OK(cuCtxGetDevice(&d));
	EXPECT(d == conf.dev);
	EXPECT_RC(cuCtxGetDevice(NULL), CUDA_ERROR_INVALID_VALUE);
}

CASE(ctx_get_flags, "cuCtxGetFlags: the flags the context was created with")
{
	CUcontext c;
	unsigned f = 99;

	OK(cuCtxCreate(&c, NULL, CU_CTX_SCHED_YIELD, conf.dev));
	OK(cuCtxGetFlags(&f));
	EXPECT((f & CU_CTX_SCHED_MASK) == CU_CTX_SCHED_YIELD);
	OK(cuCtxDestroy(c));
}

CASE(ctx_ids_unique, "cuCtxGetId: \"a unique ID ... unique for the duration of the CUDA session\"")
{
	CUcontext c;
	unsigned long long a = 0, b = 0;

	OK(cuCtxGetId(conf.ctx, &a));
	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuCtxGetId(c, &b));
	EXPECT(a != b);
	OK(cuCtxDestroy(c));
}

CASE(ctx_push_pop_order,
     "cuCtxPushCurrent/cuCtxPopCurrent: a stack per thread; pop returns the context pushed last")
{
	CUcontext a, b, p = NULL, cur = NULL;

	OK(cuCtxCreate(&a, NULL, 0, conf.dev));
	OK(cuCtxPopCurrent(&p));
	EXPECT(p == a);
	OK(cuCtxCreate(&b, NULL, 0, conf.dev));
	OK(cuCtxPopCurrent(&p));
	EXPECT(p == b);
	OK(cuCtxPushCurrent(a));
	OK(cuCtxPushCurrent(b));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == b);
	OK(cuCtxPopCurrent(&p));
	EXPECT(p == b);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == a);
	OK(cuCtxPopCurrent(&p));
	EXPECT(p == a);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == conf.ctx);
	OK(cuCtxDestroy(a));
	OK(cuCtxDestroy(b));
}

static void pop_empty(void *arg)
{
	CUcontext p = (CUcontext)1;

	(void)arg;
	EXPECT_RC(cuCtxPopCurrent(&p), CUDA_ERROR_INVALID_CONTEXT);
}

CASE(ctx_pop_empty, "cuCtxPopCurrent: with no current context, CUDA_ERROR_INVALID_CONTEXT")
{
	conf_on_thread(pop_empty, NULL);
}

static void no_ctx_calls(void *arg)
{
	CUcontext cur = (CUcontext)1;
	CUdeviceptr p;
	CUstream s;

	(void)arg;
	EXPECT_RC(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	EXPECT(cur == NULL);
	EXPECT_RC(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuStreamCreate(&s, 0), CUDA_ERROR_INVALID_CONTEXT);
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
}

CASE(ctx_new_thread_none,
     "contexts are per thread: a new thread has no current context (cuCtxGetCurrent gives NULL; calls that need one give CUDA_ERROR_INVALID_CONTEXT)")
{
	conf_on_thread(no_ctx_calls, NULL);
}

static void set_and_use(void *arg)
{
	CUcontext c = arg, cur = NULL;
	CUdeviceptr p;

	OK(cuCtxSetCurrent(c));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == c);
	OK(cuMemAlloc(&p, 64));
	OK(cuMemFree(p));
}

CASE(ctx_current_other_thread,
     "cuCtxSetCurrent: a context can be current to several threads at once")
{
	CUcontext cur = NULL;

	conf_on_thread(set_and_use, conf.ctx);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == conf.ctx);
}

CASE(ctx_set_current_null,
     "cuCtxSetCurrent: \"If ctx is NULL then this will be equivalent to popping the top of the calling CPU thread's CUDA context stack\"")
{
	CUcontext c, cur = (CUcontext)1;

	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuCtxSetCurrent(NULL));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == conf.ctx); /* c was pushed over ctx: popping it leaves ctx */
	OK(cuCtxDestroy(c));
}

CASE(ctx_destroy_pops,
     "cuCtxDestroy: \"If ctx is current to the calling thread then ctx will also be popped from the current thread's context stack\"")
{
	CUcontext c, cur = NULL;

	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuCtxDestroy(c));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == conf.ctx);
}

CASE(ctx_destroy_not_current, "cuCtxDestroy: a context that is not current can be destroyed")
{
	CUcontext c, p;

	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuCtxPopCurrent(&p));
	OK(cuCtxDestroy(c));
}

struct other {
	CUcontext c;
};

static void destroyer(void *arg)
{
	struct other *o = arg;

	OK(cuCtxDestroy(o->c));
}

CASE(ctx_destroyed_by_other_thread,
     "cuCtxDestroy: \"If ctx is current to other threads, then ctx will remain current to those threads, and attempting to access ctx from those threads will result in the error CUDA_ERROR_CONTEXT_IS_DESTROYED\"")
{
	struct other o;
	CUcontext cur = NULL, p;
	CUdeviceptr d;

	OK(cuCtxCreate(&o.c, NULL, 0, conf.dev));
	conf_on_thread(destroyer, &o);
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == o.c);
	EXPECT_RC(cuMemAlloc(&d, 16), CUDA_ERROR_CONTEXT_IS_DESTROYED);
	EXPECT_RC(cuCtxSynchronize(), CUDA_ERROR_CONTEXT_IS_DESTROYED);
	cuCtxPopCurrent(&p);
}

CASE(ctx_synchronize,
     "cuCtxSynchronize: \"Blocks until the device has completed all preceding requested tasks\"")
{
	CUdeviceptr w;
	unsigned long long when[2] = { 0, 0 };
	double t0;

	OK(cuMemAlloc(&w, sizeof(when)));
	OK(cuMemsetD8(w, 0, sizeof(when)));
	t0 = conf_now_ms();
	OK(conf_spin(NULL, NULL, 50, w));
	OK(cuCtxSynchronize());
	EXPECT(conf_now_ms() - t0 >= 45);
	OK(cuMemcpyDtoH(when, w, sizeof(when)));
	EXPECT(when[1] > when[0]);
	OK(cuMemFree(w));
}

CASE(ctx_priority_range,
     "cuCtxGetStreamPriorityRange: leastPriority >= greatestPriority (lower numbers are higher priorities); NULL pointers allowed")
{
	int least = 99, greatest = 99;

	OK(cuCtxGetStreamPriorityRange(&least, &greatest));
	EXPECT(least >= greatest);
	OK(cuCtxGetStreamPriorityRange(NULL, NULL));
}

CASE(ctx_api_version,
     "cuCtxGetApiVersion: the API version the context was created with (3020 or later)")
{
	unsigned v = 0;

	OK(cuCtxGetApiVersion(conf.ctx, &v));
	EXPECT(v >= 3020);
}

CASE(ctx_two_contexts_memory,
     "contexts of one device each own their allocations: freeing a context frees them")
{
	CUcontext c;
	CUdeviceptr p;
	size_t f0, f1, f2, t;

	OK(cuMemGetInfo(&f0, &t));
	OK(cuCtxCreate(&c, NULL, 0, conf.dev));
	OK(cuMemAlloc(&p, 64ull << 20));
	OK(cuMemGetInfo(&f1, &t));
	EXPECT(f1 + (64ull << 20) <= f0);
	OK(cuCtxDestroy(c));
	OK(cuMemGetInfo(&f2, &t));
	EXPECT(f2 > f1);
}

/* ---- primary contexts ---- */

CASE(primary_retain_same,
     "cuDevicePrimaryCtxRetain: \"Retains the primary context on the device\"; every retain gives the same context")
{
	CUcontext a = NULL;

	OK(cuDevicePrimaryCtxRetain(&a, conf.dev));
	EXPECT(a == conf.ctx);
	OK(cuDevicePrimaryCtxRelease(conf.dev));
}

static void retain_not_current(void *arg)
{
	CUcontext a, cur = (CUcontext)1;

	(void)arg;
	OK(cuDevicePrimaryCtxRetain(&a, conf.dev));
	OK(cuCtxGetCurrent(&cur));
	EXPECT(cur == NULL);
	OK(cuDevicePrimaryCtxRelease(conf.dev));
}

CASE(primary_retain_not_pushed,
     "cuDevicePrimaryCtxRetain: \"Unlike cuCtxCreate() the newly retained context is not pushed onto the stack\"")
{
	conf_on_thread(retain_not_current, NULL);
}

CASE(primary_state_active, "cuDevicePrimaryCtxGetState: active while retained")
{
	unsigned f = 0;
	int active = 0;

	OK(cuDevicePrimaryCtxGetState(conf.dev, &f, &active));
	EXPECT(active == 1);
	EXPECT_RC(cuDevicePrimaryCtxGetState(conf.dev, NULL, &active), CUDA_ERROR_INVALID_VALUE);
}

CASE(primary_bad_device, "cuDevicePrimaryCtxRetain: an invalid device is CUDA_ERROR_INVALID_DEVICE")
{
	CUcontext a;

	EXPECT_RC(cuDevicePrimaryCtxRetain(&a, conf.ndev + 3), CUDA_ERROR_INVALID_DEVICE);
}

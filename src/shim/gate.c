/* The time-slice gate (issue 4; docs/scheduler.md, docs/shim.md).
 *
 * With $GPUVISOR_SCHED (the GPU's scheduler segment) and $GPUVISOR_INSTANCE
 * (this process's timeslice instance) set, the process attaches to the
 * segment at start-up and every work-submitting entry point passes
 * gv_sched_gate() before it forwards. Without them gv_gate_on stays false
 * and gv_shim_submit_gate() is one predictable branch.
 *
 * The drain callback the scheduler runs at the end of a slice must wait for
 * everything this process submitted. The gate records the context current
 * on the submitting thread (a thread-local cache makes that one
 * cuCtxGetCurrent and a compare per submission); the drain makes each
 * recorded context current in turn (push/pop, so the calling thread's own
 * stack is untouched) and synchronises it. It calls the real driver only,
 * never the shim's exports, so it never re-enters the gate.
 *
 * Fail open: a segment that cannot be opened or attached to is reported on
 * stderr and the process runs ungated (blocking every submission instead
 * would hang the workload on a daemon-side mistake).
 */
#include "shim_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/sched.h"

#define GV_GATE_MAX_CTX 64

bool gv_gate_on;

static const char *gv_gate_path;
static const char *gv_gate_instance;
static struct gv_sched *gv_gate_seg;
static struct gv_sched_client *_Atomic gv_gate_client;
static atomic_bool gv_gate_failed; /* attach failed: ungated, reported once */
/* exit() has begun: the driver may be tearing itself down, so the drain
 * no longer calls it (what is still queued finishes or dies with us). */
static atomic_bool gv_gate_exiting;

/* Guards attach and the context set. The drain holds it for the whole
 * drain, so a context is never destroyed (gv_gate_ctx_forget) while it is
 * being synchronised. Never held while calling gv_sched_gate. */
static pthread_mutex_t gv_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static CUcontext gv_gate_ctx[GV_GATE_MAX_CTX];
static unsigned gv_gate_nctx;
/* Bumped whenever a context leaves the set, so that thread caches that
 * still name it (a handle the driver may hand out again) are refreshed. */
static _Atomic uint64_t gv_gate_gen = 1;

static __thread CUcontext gv_gate_tls_ctx __attribute__((tls_model("initial-exec")));
static __thread uint64_t gv_gate_tls_gen __attribute__((tls_model("initial-exec")));

static void gv_gate_drop_locked(unsigned i)
{
	gv_gate_ctx[i] = gv_gate_ctx[--gv_gate_nctx];
	atomic_fetch_add_explicit(&gv_gate_gen, 1, memory_order_release);
}

/* The scheduler's sync callback: an application thread inside the gate or
 * the client's watchdog thread. */
static int gv_gate_drain(void *arg)
{
	int rc = 0;

	(void)arg;
	if (atomic_load(&gv_gate_exiting))
		return 0;
	pthread_mutex_lock(&gv_gate_lock);
	for (unsigned i = 0; i < gv_gate_nctx;) {
		CUcontext popped = NULL;

		if (GV_REAL(cuCtxPushCurrent_v2)(gv_gate_ctx[i]) != CUDA_SUCCESS) {
			/* destroyed behind our back (e.g. a released primary
			 * context): nothing of ours can run there any more */
			gv_gate_drop_locked(i);
			continue;
		}
		if (GV_REAL(cuCtxSynchronize)() != CUDA_SUCCESS)
			rc = -EIO;
		(void)GV_REAL(cuCtxPopCurrent_v2)(&popped);
		i++;
	}
	pthread_mutex_unlock(&gv_gate_lock);
	return rc;
}

static void gv_gate_note_ctx(void)
{
	CUcontext ctx = NULL;
	uint64_t gen = atomic_load_explicit(&gv_gate_gen, memory_order_acquire);
	unsigned i;

	if (GV_REAL(cuCtxGetCurrent)(&ctx) != CUDA_SUCCESS || !ctx)
		return;
	if (ctx == gv_gate_tls_ctx && gen == gv_gate_tls_gen)
		return;
	pthread_mutex_lock(&gv_gate_lock);
	for (i = 0; i < gv_gate_nctx && gv_gate_ctx[i] != ctx; i++)
		;
	if (i == gv_gate_nctx) {
		if (gv_gate_nctx < GV_GATE_MAX_CTX)
			gv_gate_ctx[gv_gate_nctx++] = ctx;
		else
			gv_shim_log(false, "time-slice gate: more than %d contexts; the "
					   "newest are not drained at handover",
				    GV_GATE_MAX_CTX);
	}
	pthread_mutex_unlock(&gv_gate_lock);
	gv_gate_tls_ctx = ctx;
	gv_gate_tls_gen = gen;
}

void gv_gate_ctx_forget(CUcontext ctx)
{
	if (!gv_gate_on || !ctx)
		return;
	pthread_mutex_lock(&gv_gate_lock);
	for (unsigned i = 0; i < gv_gate_nctx; i++)
		if (gv_gate_ctx[i] == ctx) {
			gv_gate_drop_locked(i);
			break;
		}
	pthread_mutex_unlock(&gv_gate_lock);
}

/* Opens and attaches (once per process; a forked child again). Caller
 * holds gv_gate_lock. */
static struct gv_sched_client *gv_gate_attach_locked(void)
{
	struct gv_sched_attach_opts o = { .sync = gv_gate_drain };
	struct gv_sched_client *c = atomic_load_explicit(&gv_gate_client, memory_order_acquire);
	struct gv_err err = { 0 };

	if (c || atomic_load(&gv_gate_failed))
		return c;
	if (!gv_gate_seg && gv_sched_open(gv_gate_path, &gv_gate_seg, &err) < 0)
		goto fail;
	/* the drain takes gv_gate_lock: attach must not run it, and it does
	 * not (nothing is held yet) */
	if (gv_sched_attach(gv_gate_seg, gv_gate_instance, &o, &c, &err) < 0)
		goto fail;
	atomic_store_explicit(&gv_gate_client, c, memory_order_release);
	gv_shim_log(true, "time-slice gate: instance %s attached to %s", gv_gate_instance,
		    gv_gate_path);
	return c;
fail:
	atomic_store(&gv_gate_failed, true);
	gv_shim_log(false, "time-slice gate disabled (work is submitted unscheduled): %s",
		    err.msg[0] ? err.msg : "cannot attach");
	return NULL;
}

/* A child gets neither the parent's client (it belongs to the parent's
 * watchdog thread) nor its contexts (CUDA does not survive fork). Its
 * first submission attaches it; a child that execs never does. The
 * parent's handles are left alone: their memory is only a copy here. */
static void gv_gate_atfork_child(void)
{
	pthread_mutex_init(&gv_gate_lock, NULL);
	atomic_store(&gv_gate_client, NULL);
	atomic_store(&gv_gate_failed, false);
	gv_gate_seg = NULL;
	gv_gate_nctx = 0;
	atomic_fetch_add(&gv_gate_gen, 1);
}

/* Registered after the driver was loaded, so it runs before the driver's
 * own exit handlers: the slice is handed over at once instead of at the
 * next waiter's liveness check. The client stays attached (other threads
 * may still be submitting); the process's death frees its slot. */
static void gv_gate_atexit(void)
{
	struct gv_sched_client *c = atomic_load(&gv_gate_client);

	atomic_store(&gv_gate_exiting, true);
	if (c)
		(void)gv_sched_yield(c);
}

void gv_gate_init(void)
{
	const char *path = getenv("GPUVISOR_SCHED");
	const char *inst = getenv("GPUVISOR_INSTANCE");

	if (!path || !*path || !inst || !*inst)
		return;
	/* getenv strings may be freed by a later setenv: keep copies */
	gv_gate_path = strdup(path);
	gv_gate_instance = strdup(inst);
	if (!gv_gate_path || !gv_gate_instance) {
		gv_shim_log(false, "time-slice gate disabled: out of memory");
		return;
	}
	if (pthread_atfork(NULL, NULL, gv_gate_atfork_child) != 0 || atexit(gv_gate_atexit) != 0) {
		gv_shim_log(false, "time-slice gate disabled: cannot register fork/exit handlers");
		return;
	}
	pthread_mutex_lock(&gv_gate_lock);
	(void)gv_gate_attach_locked();
	pthread_mutex_unlock(&gv_gate_lock);
	gv_gate_on = true;
}

void gv_gate_wait(void)
{
	struct gv_sched_client *c = atomic_load_explicit(&gv_gate_client, memory_order_acquire);

	if (GV_UNLIKELY(!c)) {
		if (atomic_load_explicit(&gv_gate_failed, memory_order_relaxed))
			return;
		pthread_mutex_lock(&gv_gate_lock);
		c = gv_gate_attach_locked();
		pthread_mutex_unlock(&gv_gate_lock);
		if (!c)
			return;
	}
	gv_gate_note_ctx();
	(void)gv_sched_gate(c);
}

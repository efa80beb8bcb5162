/* The time-slice gate (issue 4; docs/scheduler.md, docs/shim.md).
 *
 * With $GPUVISOR_SCHED (the GPU's scheduler segment) and $GPUVISOR_INSTANCE
 * (this process's timeslice instance) set, the process attaches to the
 * segment at start-up and every work-submitting entry point passes
 * gv_sched_gate() before it forwards. Without them (and without the hold
 * below) gv_gate_on stays false and a submission is one predictable
 * branch (GV_SUBMIT_FN).
 *
 * The hold (hold.c, for the bulk control socket) rides on the same path:
 * with it on, gv_gate_init turns gv_gate_on on even without a segment, and
 * gv_gate_wait records the context and counts the submission there.
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
 *
 * Migration (gate_switch.h): the gate a process submits through is one of
 * two gv_gate_ref, the current one and a spare. A migration attaches the
 * spare to the destination's tenant before anything changes, publishes it
 * at the switch (a pointer store while the workload is stunned: no
 * application thread waits for it) and afterwards detaches the previous
 * client once no thread is inside the gate on it. In migration mode every
 * pass through the gate counts itself on its ref for that (the wrapped
 * calls already take the migration gate's read lock, of the same cost);
 * otherwise the current ref never changes and nothing is counted.
 */
#include "gate_switch.h"
#include "mig_internal.h" /* gv_mig_on */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuvisor/sched.h"

#define GV_GATE_MAX_CTX 64
/* How long a migration waits for the threads still inside the previous
 * gate (waiting for that tenant's turn) before it gives up detaching. */
#define GV_GATE_RETIRE_WAIT_MS 30000

bool gv_gate_on;

/* One gate: a scheduler client of one tenant, or none (path ""). path,
 * instance and seg change only while the ref is not current, under
 * gv_gate_lock. */
struct gv_gate_ref {
	struct gv_sched_client *_Atomic c;
	atomic_bool failed; /* attach failed: ungated, reported once */
	atomic_uint users;  /* threads inside the gate on it (migration mode) */
	struct gv_sched *seg;
	char path[PATH_MAX];
	char instance[GV_SCHED_INSTANCE_ID_MAX];
};

static struct gv_gate_ref gv_gate_refs[2];
static struct gv_gate_ref *_Atomic gv_gate_cur = &gv_gate_refs[0];
/* the ref gv_gate_switch_commit replaced, until gv_gate_switch_end */
static struct gv_gate_ref *gv_gate_prev;
/* migration mode: set at init, before any thread can submit */
static bool gv_gate_switchable;
static bool gv_gate_hooks; /* fork and exit handlers registered */
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
 * the client's watchdog thread; also the hold's stop (gv_gate_sync_all). */
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

int gv_gate_sync_all(void)
{
	return gv_gate_drain(NULL);
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
			gv_shim_log(false,
				    "time-slice gate: more than %d contexts; the "
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

/* Opens and attaches r (once per process; a forked child again). Caller
 * holds gv_gate_lock. */
static struct gv_sched_client *gv_gate_attach_locked(struct gv_gate_ref *r, struct gv_err *err)
{
	struct gv_sched_attach_opts o = { .sync = gv_gate_drain };
	struct gv_sched_client *c = atomic_load_explicit(&r->c, memory_order_acquire);

	if (c || atomic_load(&r->failed) || !r->path[0])
		return c;
	if (!r->seg && gv_sched_open(r->path, &r->seg, err) < 0)
		goto fail;
	/* the drain takes gv_gate_lock: attach must not run it, and it does
	 * not (nothing is held yet) */
	if (gv_sched_attach(r->seg, r->instance, &o, &c, err) < 0)
		goto fail;
	atomic_store_explicit(&r->c, c, memory_order_release);
	gv_shim_log(true, "time-slice gate: instance %s attached to %s", r->instance, r->path);
	return c;
fail:
	atomic_store(&r->failed, true);
	return NULL;
}

static struct gv_sched_client *gv_gate_attach_or_report_locked(struct gv_gate_ref *r)
{
	struct gv_err err = { 0 };
	struct gv_sched_client *c = gv_gate_attach_locked(r, &err);

	if (!c && r->path[0])
		gv_shim_log(false, "time-slice gate disabled (work is submitted unscheduled): %s",
			    err.msg[0] ? err.msg : "cannot attach");
	return c;
}

/* A child gets neither the parent's client (it belongs to the parent's
 * watchdog thread) nor its contexts (CUDA does not survive fork). Its
 * first submission attaches it; a child that execs never does. The
 * parent's handles are left alone: their memory is only a copy here. */
static void gv_gate_atfork_child(void)
{
	pthread_mutex_init(&gv_gate_lock, NULL);
	for (size_t i = 0; i < 2; i++) {
		atomic_store(&gv_gate_refs[i].c, NULL);
		atomic_store(&gv_gate_refs[i].failed, false);
		atomic_store(&gv_gate_refs[i].users, 0);
		gv_gate_refs[i].seg = NULL;
	}
	/* a migration of the parent in flight is not the child's */
	if (gv_gate_prev) {
		gv_gate_prev->path[0] = '\0';
		gv_gate_prev = NULL;
	}
	gv_gate_nctx = 0;
	atomic_fetch_add(&gv_gate_gen, 1);
}

/* Registered after the driver was loaded, so it runs before the driver's
 * own exit handlers: the slice is handed over at once instead of at the
 * next waiter's liveness check. The client stays attached (other threads
 * may still be submitting); the process's death frees its slot. */
static void gv_gate_atexit(void)
{
	struct gv_sched_client *c = atomic_load(&atomic_load(&gv_gate_cur)->c);

	atomic_store(&gv_gate_exiting, true);
	if (c)
		(void)gv_sched_yield(c);
}

/* Sets r to gate on instance of the segment at path (NULL: ungated).
 * Caller holds gv_gate_lock; r is not current. */
static int gv_gate_ref_set_locked(struct gv_gate_ref *r, const char *path, const char *instance,
				  struct gv_err *err)
{
	bool gated = path && *path && instance && *instance;

	r->path[0] = r->instance[0] = '\0';
	atomic_store(&r->failed, false);
	if (!gated)
		return 0;
	if (strlen(path) >= sizeof(r->path) || strlen(instance) >= sizeof(r->instance))
		return gv_err_set(err, ENAMETOOLONG,
				  "scheduler segment %.64s or instance %.64s: "
				  "name too long",
				  path, instance);
	memcpy(r->path, path, strlen(path) + 1);
	memcpy(r->instance, instance, strlen(instance) + 1);
	return 0;
}

/* Caller holds gv_gate_lock. */
static int gv_gate_hooks_locked(struct gv_err *err)
{
	if (gv_gate_hooks)
		return 0;
	if (pthread_atfork(NULL, NULL, gv_gate_atfork_child) != 0 || atexit(gv_gate_atexit) != 0)
		return gv_err_set(err, ENOMEM, "cannot register fork/exit handlers");
	gv_gate_hooks = true;
	return 0;
}

void gv_gate_init(void)
{
	const char *path = getenv("GPUVISOR_SCHED");
	const char *inst = getenv("GPUVISOR_INSTANCE");
	struct gv_gate_ref *r = &gv_gate_refs[0];
	struct gv_err err = { 0 };
	bool sched = path && *path && inst && *inst;

	gv_gate_switchable = gv_mig_on();
	if (!sched && !gv_hold_on)
		return;
	pthread_mutex_lock(&gv_gate_lock);
	/* getenv strings may be freed by a later setenv: r keeps copies */
	if (!sched || gv_gate_ref_set_locked(r, path, inst, &err) == 0)
		(void)gv_gate_hooks_locked(&err);
	if (sched && !err.msg[0])
		(void)gv_gate_attach_or_report_locked(r);
	pthread_mutex_unlock(&gv_gate_lock);
	if (err.msg[0]) {
		gv_shim_log(false, "time-slice gate disabled: %s", err.msg);
		if (!gv_hold_on)
			return;
		r->path[0] = '\0';
	}
	gv_gate_on = true;
}

/* The current ref, counted as used when it may be switched: a ref is
 * taken only after the count, so that gv_gate_switch_end, which waits
 * for the count of the ref it replaced, never misses a user. */
static struct gv_gate_ref *gv_gate_enter(void)
{
	struct gv_gate_ref *r = atomic_load_explicit(&gv_gate_cur, memory_order_acquire), *now;

	if (!gv_gate_switchable)
		return r;
	for (;;) {
		atomic_fetch_add(&r->users, 1);
		now = atomic_load(&gv_gate_cur);
		if (now == r)
			return r;
		atomic_fetch_sub(&r->users, 1);
		r = now;
	}
}

bool gv_gate_wait(void)
{
	struct gv_gate_ref *r;
	struct gv_sched_client *c;

	/* migration's auto-converge sleep comes before the slice is taken,
	 * never inside it (the migration wrappers skip theirs when gated) */
	gv_mig_throttle_point();
	for (;;) {
		r = gv_gate_enter();
		c = atomic_load_explicit(&r->c, memory_order_acquire);

		if (GV_UNLIKELY(!c) && r->path[0] &&
		    !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
			pthread_mutex_lock(&gv_gate_lock);
			c = gv_gate_attach_or_report_locked(r);
			pthread_mutex_unlock(&gv_gate_lock);
		}
		if (c || gv_hold_on)
			gv_gate_note_ctx();
		if (c)
			(void)gv_sched_gate(c);
		if (gv_gate_switchable)
			atomic_fetch_sub(&r->users, 1);
		/* held after the slice is taken: a thread that waited out a
		 * stop takes its turn again rather than submit outside it */
		if (!gv_hold_on)
			return false;
		if (gv_hold_try_enter())
			return true;
		gv_hold_wait_go();
	}
}

/* ------------------------------------------------- migration: gate_switch.h */

static struct gv_gate_ref *gv_gate_spare(void)
{
	return atomic_load(&gv_gate_cur) == &gv_gate_refs[0] ? &gv_gate_refs[1] : &gv_gate_refs[0];
}

/* Detaches r's client and unmaps its segment (not under gv_gate_lock: the
 * detach drains, and the drain takes it). r is not current, nobody uses it. */
static void gv_gate_ref_clear(struct gv_gate_ref *r)
{
	struct gv_sched_client *c = atomic_exchange(&r->c, NULL);
	struct gv_sched *seg;

	gv_sched_detach(c);
	pthread_mutex_lock(&gv_gate_lock);
	seg = r->seg;
	r->seg = NULL;
	r->path[0] = r->instance[0] = '\0';
	atomic_store(&r->failed, false);
	pthread_mutex_unlock(&gv_gate_lock);
	gv_sched_free(seg);
}

int gv_gate_switch_prepare(const char *path, const char *instance, struct gv_err *err)
{
	struct gv_gate_ref *r;
	int ret = 0;

	if (!gv_gate_switchable)
		return gv_err_set(err, EPROTO, "the time-slice gate is not in migration mode");
	pthread_mutex_lock(&gv_gate_lock);
	r = gv_gate_spare();
	if (gv_gate_prev || atomic_load(&r->c) || atomic_load(&r->users)) {
		/* a previous switch could not retire its gate (a thread stayed
		 * inside it): the spare is not free */
		ret = gv_err_set(err, EBUSY,
				 "the time-slice gate of the previous migration is still in use");
		goto out;
	}
	ret = gv_gate_ref_set_locked(r, path, instance, err);
	if (!ret && r->path[0])
		ret = gv_gate_hooks_locked(err);
	if (!ret && r->path[0] && !gv_gate_attach_locked(r, err)) {
		gv_err_prefix(err, "time-slice gate of the destination (instance %s)", instance);
		ret = -EIO;
	}
	if (ret) {
		r->path[0] = r->instance[0] = '\0';
		atomic_store(&r->failed, false);
	}
out:
	pthread_mutex_unlock(&gv_gate_lock);
	return ret;
}

void gv_gate_switch_commit(void)
{
	struct gv_gate_ref *r = gv_gate_spare();

	gv_gate_prev = atomic_load(&gv_gate_cur);
	atomic_store(&gv_gate_cur, r);
	/* a process that ran ungated gates from now on; readers of the flag
	 * see it within a submission or two (it is only ever turned on) */
	if (r->path[0])
		__atomic_store_n(&gv_gate_on, true, __ATOMIC_RELEASE);
	gv_shim_log(true, "time-slice gate: %s%s after the migration",
		    r->path[0] ? "instance " : "ungated", r->instance);
}

void gv_gate_switch_end(bool committed)
{
	struct gv_gate_ref *r = committed ? gv_gate_prev : gv_gate_spare();
	struct timespec ms = { 0, 1000 * 1000 };
	unsigned waited = 0;

	if (!r)
		return;
	/* threads still inside r's gate wait for r's tenant's turn, which the
	 * scheduler gives within its rounds: bounded, normally a few slices */
	while (atomic_load(&r->users) > 0 && waited < GV_GATE_RETIRE_WAIT_MS) {
		nanosleep(&ms, NULL);
		waited++;
	}
	if (atomic_load(&r->users) > 0) {
		gv_shim_log(false,
			    "time-slice gate: a thread is still waiting at the gate of "
			    "instance %s after %d s; it stays attached",
			    r->instance, GV_GATE_RETIRE_WAIT_MS / 1000);
		return;
	}
	gv_gate_ref_clear(r);
	if (committed)
		gv_gate_prev = NULL;
}

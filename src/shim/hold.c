/* The hold: every submission of the process stopped at once, for the bulk
 * control socket's "stop" (bulkctl.c, docs/shim.md "The bulk control
 * socket"). It lives beside the time-slice gate because it is the same
 * path: with $GPUVISOR_BULK_CTL set and the bulk on, gv_gate_init turns
 * the gate path on (gv_gate_on), so every entry point of GV_SUBMIT_FN
 * passes gv_gate_wait, which counts the submission here for as long as
 * the real driver call runs, and records its context for the drain.
 * Bulk allocation and free are counted the same way (bulk.c), so the
 * table does not change under a stop. Without the socket nothing here is
 * reached: the submission path stays one branch on gv_gate_on.
 *
 * A submission increments the in-flight count and then reads the stop
 * flag; a stop sets the flag and then reads the count (both sequentially
 * consistent), so either the submission sees the stop and backs out, or
 * the stop sees it counted and waits for it. Blocked threads and the
 * stopper wait on one condition variable under one mutex, taken only
 * while a stop is in force or being made.
 *
 * A thread that is already counted (the driver calling an exported name
 * of its own from inside a submission lands here again) is counted again
 * without blocking: it must finish for the stop to complete.
 *
 * gate.c and this file call each other: the gate counts every submission
 * here (gv_hold_try_enter, gv_hold_wait_go), and a stop drains through the
 * gate's set of contexts (gv_gate_sync_all), which the gate owns for its
 * own drain. One submission path, split in two files by concern.
 */
#include "shim_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

bool gv_hold_on;

static atomic_uint gv_hold_inflight;
static atomic_bool gv_hold_stopping;
static pthread_mutex_t gv_hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gv_hold_cond;
static __thread unsigned gv_hold_depth __attribute__((tls_model("initial-exec")));

static void gv_hold_cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&gv_hold_cond, &a);
	pthread_condattr_destroy(&a);
}

/* A child runs: nothing of the parent's is in flight in it, and the
 * parent's stop is not the child's (its CUDA state did not survive the
 * fork anyway). */
static void gv_hold_atfork_child(void)
{
	pthread_mutex_init(&gv_hold_lock, NULL);
	gv_hold_cond_init();
	atomic_store(&gv_hold_inflight, 0);
	atomic_store(&gv_hold_stopping, false);
	gv_hold_depth = 0;
}

void gv_hold_enable(void)
{
	gv_hold_cond_init();
	if (pthread_atfork(NULL, NULL, gv_hold_atfork_child) != 0) {
		gv_shim_log(false, "bulk control: cannot register a fork handler; no hold");
		return;
	}
	gv_hold_on = true;
}

/* Takes one count back; the last one out wakes a waiting stop. */
static void gv_hold_out(void)
{
	if (atomic_fetch_sub(&gv_hold_inflight, 1) == 1 && atomic_load(&gv_hold_stopping)) {
		pthread_mutex_lock(&gv_hold_lock);
		pthread_cond_broadcast(&gv_hold_cond);
		pthread_mutex_unlock(&gv_hold_lock);
	}
}

bool gv_hold_try_enter(void)
{
	atomic_fetch_add(&gv_hold_inflight, 1);
	if (gv_hold_depth || !atomic_load(&gv_hold_stopping)) {
		gv_hold_depth++;
		return true;
	}
	gv_hold_out();
	return false;
}

void gv_hold_wait_go(void)
{
	pthread_mutex_lock(&gv_hold_lock);
	while (atomic_load(&gv_hold_stopping))
		pthread_cond_wait(&gv_hold_cond, &gv_hold_lock);
	pthread_mutex_unlock(&gv_hold_lock);
}

bool gv_hold_enter(void)
{
	if (!gv_hold_on)
		return false;
	while (!gv_hold_try_enter())
		gv_hold_wait_go();
	return true;
}

void gv_hold_leave(void)
{
	gv_hold_depth--;
	gv_hold_out();
}

static uint64_t gv_hold_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void gv_hold_go(void)
{
	pthread_mutex_lock(&gv_hold_lock);
	atomic_store(&gv_hold_stopping, false);
	pthread_cond_broadcast(&gv_hold_cond);
	pthread_mutex_unlock(&gv_hold_lock);
}

int gv_hold_stop(uint64_t timeout_ms, double *ms, struct gv_err *err)
{
	uint64_t t0 = gv_hold_now_ns(), end = t0 + timeout_ms * 1000000ull;
	struct timespec dl = { .tv_sec = (time_t)(end / 1000000000ull),
			       .tv_nsec = (long)(end % 1000000000ull) };
	unsigned left;
	int rc = 0;

	if (!gv_hold_on)
		return gv_err_set(err, ENOTSUP, "the hold is off in this process");
	pthread_mutex_lock(&gv_hold_lock);
	if (atomic_load(&gv_hold_stopping)) {
		pthread_mutex_unlock(&gv_hold_lock);
		return gv_err_set(err, EBUSY, "already stopped");
	}
	atomic_store(&gv_hold_stopping, true);
	while ((left = atomic_load(&gv_hold_inflight)) > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&gv_hold_cond, &gv_hold_lock, &dl);
	pthread_mutex_unlock(&gv_hold_lock);
	if (left > 0) {
		gv_hold_go();
		return gv_err_set(err, ETIMEDOUT,
				  "%u submissions still in the driver after %llu ms; not stopped",
				  left, (unsigned long long)timeout_ms);
	}
	/* the contexts' queued work: not cut short by the deadline (a
	 * synchronise cannot be), but a stop that took longer is undone */
	if (gv_gate_sync_all() < 0) {
		gv_hold_go();
		return gv_err_set(err, EIO, "a context's synchronisation failed; not stopped");
	}
	if (gv_hold_now_ns() > end) {
		gv_hold_go();
		return gv_err_set(err, ETIMEDOUT,
				  "the queued work took longer than %llu ms; not stopped",
				  (unsigned long long)timeout_ms);
	}
	if (ms)
		*ms = (double)(gv_hold_now_ns() - t0) / 1e6;
	return 0;
}

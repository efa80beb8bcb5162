/* Migration mode: the auto-converge throttle (struct gv_mig_ops.throttle).
 *
 * When pre-copy does not converge, the engine asks the endpoint to slow the
 * workload to (100 - pct)% of its speed. The shim cannot slow the device,
 * but it can delay what the workload submits to it: every wrapped launch,
 * copy and set passes gv_mig_throttle_point() before the gate, and while a
 * throttle is in force the calling thread sleeps there for what it owes.
 * Each thread keeps an account: the time it ran since its last throttle
 * point (host work, waits on the device, everything but the throttle's own
 * sleep) is charged at pct/(100 - pct), so over time it sleeps pct% of its
 * wall-clock time and does its work, device work included, at
 * (100 - pct)% of its speed. The debt is capped (GV_MIG_THROTTLE_WINDOW_NS):
 * a thread that submits rarely is throttled less than asked, never stalled
 * for longer than the window. The sleep happens outside the gate, so the
 * stun never waits for it, and in slices of at most 10 ms that end early
 * when the throttle is lifted.
 */
#include "mig_internal.h"

#include <errno.h>
#include <time.h>

atomic_uint gv_mig_throttle_pct;
static atomic_uint throttle_epoch;
static __thread struct gv_mig_thr thr;

#define SLICE_NS 10000000ull

int gv_mig_throttle(void *ctx, unsigned pct)
{
	(void)ctx;
	if (pct > 99)
		pct = 99;
	/* switched on: the accounts kept from an earlier throttle are stale */
	if (pct && !atomic_load(&gv_mig_throttle_pct))
		atomic_fetch_add(&throttle_epoch, 1);
	atomic_store(&gv_mig_throttle_pct, pct);
	return 0;
}

uint64_t gv_mig_throttle_due(struct gv_mig_thr *t, unsigned pct, unsigned epoch, uint64_t now_ns)
{
	uint64_t ran;

	if (!pct)
		return 0;
	if (pct > 99)
		pct = 99;
	if (!t->started || t->epoch != epoch) {
		t->started = true;
		t->epoch = epoch;
		t->last_ns = now_ns;
		t->debt_ns = 0;
		return 0;
	}
	ran = now_ns > t->last_ns ? now_ns - t->last_ns : 0;
	t->last_ns = now_ns;
	/* ran * 99 cannot overflow once ran is within the window */
	if (ran > GV_MIG_THROTTLE_WINDOW_NS)
		ran = GV_MIG_THROTTLE_WINDOW_NS;
	t->debt_ns += ran * pct / (100 - pct);
	if (t->debt_ns > GV_MIG_THROTTLE_WINDOW_NS)
		t->debt_ns = GV_MIG_THROTTLE_WINDOW_NS;
	return t->debt_ns;
}

void gv_mig_throttle_slept(struct gv_mig_thr *t, uint64_t slept_ns, uint64_t now_ns)
{
	t->debt_ns -= slept_ns < t->debt_ns ? slept_ns : t->debt_ns;
	t->last_ns = now_ns;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void gv_mig_throttle_wait(void)
{
	unsigned pct = atomic_load_explicit(&gv_mig_throttle_pct, memory_order_relaxed);
	uint64_t start = mono_ns(), now = start;
	uint64_t due = gv_mig_throttle_due(&thr, pct, atomic_load(&throttle_epoch), start);

	while (due > now - start &&
	       atomic_load_explicit(&gv_mig_throttle_pct, memory_order_relaxed)) {
		uint64_t left = due - (now - start), ns = left < SLICE_NS ? left : SLICE_NS;
		struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		now = mono_ns();
	}
	if (due)
		gv_mig_throttle_slept(&thr, now - start, now);
}

/* shim.mig_throttle: the auto-converge throttle of the shim's migration
 * mode (src/shim/mig_throttle.c, compiled into this test). The arithmetic
 * is pure and runs on a simulated clock: a thread that works, then submits
 * and sleeps what it is told, spends pct% of its time asleep. The sleep
 * itself is checked on the real clock with lower bounds only (a sleep is at
 * least what was asked) and generous upper bounds that catch hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "mig_throttle.c"

#define MS 1000000ull

static void test_off_and_start(void **state)
{
	struct gv_mig_thr t = { 0 };

	(void)state;
	/* pct 0: nothing owed, the account untouched */
	assert_int_equal(gv_mig_throttle_due(&t, 0, 1, 5 * MS), 0);
	assert_false(t.started);
	/* the first throttled call starts the account, owing nothing */
	assert_int_equal(gv_mig_throttle_due(&t, 50, 1, 5 * MS), 0);
	assert_true(t.started);
	assert_int_equal(t.last_ns, 5 * MS);
	/* 10 ms of work at 50%: 10 ms of sleep */
	assert_int_equal(gv_mig_throttle_due(&t, 50, 1, 15 * MS), 10 * MS);
	gv_mig_throttle_slept(&t, 4 * MS, 19 * MS);
	assert_int_equal(t.debt_ns, 6 * MS);
	/* 2 ms more at 50%: 6 + 2 */
	assert_int_equal(gv_mig_throttle_due(&t, 50, 1, 21 * MS), 8 * MS);
	gv_mig_throttle_slept(&t, 9 * MS, 30 * MS);
	assert_int_equal(t.debt_ns, 0);
}

static void test_rates(void **state)
{
	struct gv_mig_thr t = { 0 };

	(void)state;
	gv_mig_throttle_due(&t, 20, 1, 0);
	/* 20%: a quarter of the work time */
	assert_int_equal(gv_mig_throttle_due(&t, 20, 1, 8 * MS), 2 * MS);
	gv_mig_throttle_slept(&t, 2 * MS, 10 * MS);
	/* 99%: 99 times the work time; more than 99 counts as 99 */
	assert_int_equal(gv_mig_throttle_due(&t, 99, 1, 11 * MS), 99 * MS);
	gv_mig_throttle_slept(&t, 99 * MS, 110 * MS);
	assert_int_equal(gv_mig_throttle_due(&t, 250, 1, 111 * MS), 99 * MS);
}

static void test_epoch_and_window(void **state)
{
	struct gv_mig_thr t = { 0 };

	(void)state;
	gv_mig_throttle_due(&t, 50, 1, 0);
	assert_int_equal(gv_mig_throttle_due(&t, 50, 1, 10 * MS), 10 * MS);
	/* the throttle set again: the debt and the time before are forgotten */
	assert_int_equal(gv_mig_throttle_due(&t, 60, 2, 1000 * MS), 0);
	assert_int_equal(t.debt_ns, 0);
	assert_int_equal(gv_mig_throttle_due(&t, 60, 2, 1002 * MS), 3 * MS);
	/* a long run between submissions owes at most the window */
	assert_int_equal(gv_mig_throttle_due(&t, 90, 2, 60000 * MS), GV_MIG_THROTTLE_WINDOW_NS);
	/* a clock that went backwards owes nothing more */
	gv_mig_throttle_slept(&t, GV_MIG_THROTTLE_WINDOW_NS, 70000 * MS);
	assert_int_equal(gv_mig_throttle_due(&t, 90, 2, 69000 * MS), 0);
}

/* A thread that works work_ns between submissions and sleeps what it is
 * told: the share of its time asleep is pct% (within 0.5 points). */
static void simulate(unsigned pct, uint64_t work_ns)
{
	struct gv_mig_thr t = { 0 };
	uint64_t now = 1000 * MS, start, slept = 0;

	gv_mig_throttle_due(&t, pct, 7, now);
	start = now;
	for (int i = 0; i < 20000; i++) {
		uint64_t due;

		now += work_ns;
		due = gv_mig_throttle_due(&t, pct, 7, now);
		now += due;
		slept += due;
		gv_mig_throttle_slept(&t, due, now);
	}
	{
		double share = 100.0 * (double)slept / (double)(now - start);

		if (share < pct - 0.5 || share > pct + 0.5)
			fail_msg("pct %u, work %llu ns: asleep %.2f%% of the time", pct,
				 (unsigned long long)work_ns, share);
	}
}

static void test_share(void **state)
{
	const unsigned pcts[] = { 1, 10, 20, 50, 90, 99 };
	const uint64_t works[] = { 50000, MS, 15 * MS };

	(void)state;
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		for (size_t j = 0; j < sizeof(works) / sizeof(works[0]); j++)
			simulate(pcts[i], works[j]);
}

/* A thread whose work between submissions exceeds what the window can
 * balance is throttled less than asked, never more. */
static void test_rare_submitter(void **state)
{
	struct gv_mig_thr t = { 0 };
	uint64_t now = 0, slept = 0;

	(void)state;
	gv_mig_throttle_due(&t, 99, 1, now);
	for (int i = 0; i < 100; i++) {
		uint64_t due;

		now += 1000 * MS;
		due = gv_mig_throttle_due(&t, 99, 1, now);
		assert_true(due <= GV_MIG_THROTTLE_WINDOW_NS);
		now += due;
		slept += due;
		gv_mig_throttle_slept(&t, due, now);
	}
	assert_true(slept * 100 < now * 99);
	assert_true(slept * 100 >= now * 50);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void spin_until(uint64_t t)
{
	while (now_ns() < t)
		;
}

/* The real sleep: at 50%, 20 ms of work cost at least 20 ms at the next
 * submission; a new rate keeps the account; lifted, a submission does not
 * sleep (the account is left alone) and the next throttle starts a fresh
 * account. */
static void test_wait(void **state)
{
	uint64_t t0, t1, t2;

	(void)state;
	assert_int_equal(gv_mig_throttle(NULL, 50), 0);
	assert_int_equal(atomic_load(&gv_mig_throttle_pct), 50);
	gv_mig_throttle_point(); /* starts the account */
	t0 = now_ns();
	spin_until(t0 + 20 * MS);
	t1 = now_ns();
	gv_mig_throttle_point();
	t2 = now_ns();
	assert_true(t2 - t1 >= 20 * MS);
	assert_true(t2 - t1 < 20000 * MS);
	assert_int_equal(thr.debt_ns, 0);
	/* a new rate keeps the account: 5 ms of work at 75% owe 15 ms */
	assert_int_equal(gv_mig_throttle(NULL, 75), 0);
	t1 = now_ns();
	spin_until(t1 + 5 * MS);
	gv_mig_throttle_point();
	t2 = now_ns();
	assert_true(t2 - t1 >= 20 * MS);
	assert_true(t2 - t1 < 20000 * MS);

	assert_int_equal(gv_mig_throttle(NULL, 0), 0);
	assert_int_equal(atomic_load(&gv_mig_throttle_pct), 0);
	spin_until(now_ns() + 5 * MS);
	t1 = thr.last_ns;
	gv_mig_throttle_point();
	assert_int_equal(thr.last_ns, t1);

	/* over 99 is 99; a new epoch starts the account without a sleep */
	assert_int_equal(gv_mig_throttle(NULL, 300), 0);
	assert_int_equal(atomic_load(&gv_mig_throttle_pct), 99);
	t1 = now_ns();
	gv_mig_throttle_point();
	assert_int_equal(thr.debt_ns, 0);
	assert_true(thr.last_ns >= t1);
	assert_int_equal(gv_mig_throttle(NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_and_start),	 cmocka_unit_test(test_rates),
		cmocka_unit_test(test_epoch_and_window), cmocka_unit_test(test_share),
		cmocka_unit_test(test_rare_submitter),	 cmocka_unit_test(test_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

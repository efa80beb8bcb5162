/* Unit tests of the time-slice scheduler core. The policy tests drive
 * several clients of one segment from a single thread with a fake clock
 * (GV_SCHED_NO_WATCHDOG, gv_sched_try_gate): a "kernel" advances the clock,
 * so every figure is deterministic. The last tests use the real clock and
 * threads (watchdog, blocking gate) with generous hang bounds only. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/base/sched_internal.h"
#include "gpuvisor/sched.h"

#define MS 1000000ull
#define US 1000ull

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

struct fx {
	char dir[64];
	char path[128];
	struct gv_sched *s;
	struct gv_sched_client *c[GV_SCHED_MAX_CLIENTS];
	int n;
	int syncs[GV_SCHED_MAX_CLIENTS];
};

static int count_sync(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* the watchdog calls it from its own thread */
static int count_sync_atomic(void *arg)
{
	atomic_fetch_add((_Atomic int *)arg, 1);
	return 0;
}

static void fx_init(struct fx *f, enum gv_sched_policy policy, uint32_t slice_us)
{
	struct gv_err err = { 0 };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/gv-test-sched-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/seg", f->dir);
	/* start far from 0 so that bucket epochs are realistic */
	fake_now = 1000000ull * 1000 * MS;
	assert_int_equal(gv_sched_create(f->path, policy, slice_us, &f->s, &err), 0);
	gv_sched_set_clock(f->s, fake_clock, NULL);
}

/* registers a tenant and attaches one client for it; returns the client */
static int fx_add(struct fx *f, const char *id, uint32_t weight, uint32_t share)
{
	struct gv_err err = { 0 };
	struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };
	int i = f->n;

	assert_true(gv_sched_tenant_set(f->s, id, weight, share, &err) >= 0);
	o.sync = count_sync;
	o.sync_arg = &f->syncs[i];
	assert_int_equal(gv_sched_attach(f->s, id, &o, &f->c[i], &err), 0);
	f->n++;
	return i;
}

static void fx_free(struct fx *f)
{
	for (int i = 0; i < f->n; i++)
		gv_sched_detach(f->c[i]);
	gv_sched_free(f->s);
	unlink(f->path);
	rmdir(f->dir);
}

/* Runs the busy clients for `duration` of fake time; each admitted client
 * runs one kernel of kernel_ns[i] (the device is serial: the clock jumps).
 * got[i] accumulates each client's device time. Returns idle time. */
static uint64_t simulate(struct fx *f, const bool *busy, const uint64_t *kernel_ns,
			 uint64_t duration, uint64_t *got)
{
	struct gv_sched_seg *g = gv_sched_seg_of(f->s);
	uint64_t end = fake_now + duration, idle = 0;
	int stall = 0, first = 0;

	while (fake_now < end) {
		bool ran = false;

		for (int j = 0; j < f->n; j++) {
			int i = (first + j) % f->n;

			if (!busy[i])
				continue;
			if (gv_sched_try_gate(f->c[i]) != 0)
				continue;
			fake_now += kernel_ns[i];
			got[i] += kernel_ns[i];
			ran = true;
		}
		first = (first + 1) % f->n;
		if (ran) {
			stall = 0;
			continue;
		}
		/* nobody admitted: the GPU idles (fixed share) or a grant
		 * waits to be picked up in the next pass */
		if (atomic_load(&g->holder) == 0 && atomic_load(&g->idle_until) > fake_now) {
			idle += atomic_load(&g->idle_until) - fake_now;
			fake_now = atomic_load(&g->idle_until);
			continue;
		}
		assert_true(++stall < 10000);
		if (stall > 3) {
			fake_now += 10 * US;
			idle += 10 * US;
		}
	}
	return idle;
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void assert_near(double got, double want, double tol, const char *what)
{
	if (got < want - tol || got > want + tol)
		fail_msg("%s: got %.4f, want %.4f +- %.4f", what, got, want, tol);
}

/* ------------------------------------------------------------ basics */

static void test_policy_names(void **state)
{
	enum gv_sched_policy p;
	struct gv_err err = { 0 };

	(void)state;
	assert_string_equal(gv_sched_policy_name(GV_SCHED_BEST_EFFORT), "best-effort");
	assert_string_equal(gv_sched_policy_name(GV_SCHED_EQUAL_SHARE), "equal-share");
	assert_string_equal(gv_sched_policy_name(GV_SCHED_FIXED_SHARE), "fixed-share");
	assert_null(gv_sched_policy_name((enum gv_sched_policy)7));
	assert_int_equal(gv_sched_policy_parse("fixed-share", &p, &err), 0);
	assert_int_equal(p, GV_SCHED_FIXED_SHARE);
	assert_int_equal(gv_sched_policy_parse("fair", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fair"));
	assert_int_equal(gv_sched_policy_parse(NULL, &p, &err), -EINVAL);
}

static void test_create_open_validation(void **state)
{
	struct fx f;
	struct gv_err err = { 0 };
	struct gv_sched *s2 = NULL;
	struct gv_sched_stats st;
	char bad[160];
	int fd;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	snprintf(bad, sizeof(bad), "%s/other", f.dir);
	assert_int_equal(gv_sched_create(bad, GV_SCHED_EQUAL_SHARE, 999, &s2, &err), -EINVAL);
	assert_null(s2);
	assert_non_null(strstr(err.msg, "1-30 ms"));
	assert_int_equal(gv_sched_create(bad, GV_SCHED_EQUAL_SHARE, 30001, &s2, &err), -EINVAL);
	assert_int_equal(gv_sched_create(bad, (enum gv_sched_policy)9, 2000, &s2, &err), -EINVAL);
	assert_int_equal(access(bad, F_OK), -1); /* refused: nothing created */
	assert_int_equal(gv_sched_open(bad, &s2, &err), -ENOENT);
	/* a file that is not a segment is refused, not overwritten */
	fd = open(bad, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(gv_sched_open(bad, &s2, &err), -EPROTO);
	assert_int_equal(gv_sched_create(bad, GV_SCHED_BEST_EFFORT, 2000, &s2, &err), -EPROTO);
	unlink(bad);
	/* set_policy validates and changes nothing on bad input */
	assert_int_equal(gv_sched_set_policy(f.s, GV_SCHED_FIXED_SHARE, 0, &err), -EINVAL);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.policy_requested, GV_SCHED_EQUAL_SHARE);
	assert_int_equal(st.slice_us_requested, 2000);
	/* tenants */
	assert_int_equal(gv_sched_tenant_set(f.s, "", 1, 0, &err), -EINVAL);
	assert_int_equal(gv_sched_tenant_set(f.s, "a b", 1, 0, &err), -EINVAL);
	assert_int_equal(gv_sched_tenant_set(f.s, "a", 0, 0, &err), -EINVAL);
	assert_int_equal(gv_sched_tenant_set(f.s, "a", 101, 0, &err), -EINVAL);
	assert_int_equal(gv_sched_tenant_set(f.s, "a", 1, 1000001, &err), -EINVAL);
	assert_int_equal(gv_sched_tenant_set(f.s, "inst-a", 1, 250000, &err), 0);
	assert_int_equal(gv_sched_tenant_set(f.s, "inst-b", 2, 250000, &err), 1);
	/* idempotent update keeps the slot */
	assert_int_equal(gv_sched_tenant_set(f.s, "inst-a", 3, 500000, &err), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.n_tenants, 2);
	assert_int_equal(st.tenants[0].weight, 3);
	assert_int_equal(st.holder_slot, -1);
	/* daemon restart: create adopts the segment as it is: tenants and
	 * policy survive */
	assert_int_equal(gv_sched_create(f.path, GV_SCHED_BEST_EFFORT, 5000, &s2, &err), 0);
	assert_int_equal(gv_sched_stats(s2, &st, &err), 0);
	assert_int_equal(st.n_tenants, 2);
	assert_string_equal(st.tenants[1].instance_id, "inst-b");
	assert_int_equal(st.policy_requested, GV_SCHED_EQUAL_SHARE);
	assert_int_equal(st.slice_us_requested, 2000);
	assert_int_equal(gv_sched_set_policy(s2, GV_SCHED_BEST_EFFORT, 5000, &err), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.policy_requested, GV_SCHED_BEST_EFFORT);
	assert_int_equal(st.slice_us_requested, 5000);
	gv_sched_free(s2);
	assert_int_equal(gv_sched_tenant_remove(f.s, "nope", &err), -ENOENT);
	assert_int_equal(gv_sched_tenant_remove(f.s, "inst-a", &err), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.n_tenants, 1);
	fx_free(&f);
}

static void test_attach_rules(void **state)
{
	struct fx f;
	struct gv_err err = { 0 };
	struct gv_sched_client *c = NULL, *many[GV_SCHED_MAX_CLIENTS];
	struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };
	int n = 0;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	assert_int_equal(gv_sched_attach(f.s, "ghost", &o, &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err.msg, "ghost"));
	assert_int_equal(gv_sched_tenant_set(f.s, "t0", 1, 0, &err), 0);
	while (n < GV_SCHED_MAX_CLIENTS && gv_sched_attach(f.s, "t0", &o, &many[n], &err) == 0)
		n++;
	assert_int_equal(n, GV_SCHED_MAX_CLIENTS);
	assert_int_equal(gv_sched_attach(f.s, "t0", &o, &c, &err), -ENOSPC);
	/* a live process keeps its instance registered */
	assert_int_equal(gv_sched_tenant_remove(f.s, "t0", &err), -EBUSY);
	for (int i = 0; i < n; i++)
		gv_sched_detach(many[i]);
	assert_int_equal(gv_sched_attach(f.s, "t0", &o, &c, &err), 0);
	gv_sched_detach(c);
	assert_int_equal(gv_sched_tenant_remove(f.s, "t0", &err), 0);
	fx_free(&f);
}

/* A workload resumed onto another instance of the GPU keeps its client:
 * the two tenants exchange names, slot and history stay. */
static void test_tenant_swap(void **state)
{
	struct fx f;
	struct gv_err err = { 0 };
	struct gv_sched_client *c = NULL;
	struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };
	int ta, tb;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	ta = gv_sched_tenant_set(f.s, "src", 1, 0, &err);
	tb = gv_sched_tenant_set(f.s, "dst", 1, 0, &err);
	assert_true(ta >= 0 && tb >= 0 && ta != tb);
	assert_int_equal(gv_sched_attach(f.s, "src", &o, &c, &err), 0);
	assert_int_equal(gv_sched_tenant_swap(f.s, "src", "ghost", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ghost"));
	assert_int_equal(gv_sched_tenant_swap(f.s, "src", "dst", &err), 0);
	/* the attached process's slot is now "dst": "src" may go, "dst" not */
	assert_int_equal(gv_sched_tenant_set(f.s, "dst", 1, 0, &err), ta);
	assert_int_equal(gv_sched_tenant_set(f.s, "src", 1, 0, &err), tb);
	assert_int_equal(gv_sched_tenant_remove(f.s, "dst", &err), -EBUSY);
	assert_int_equal(gv_sched_tenant_remove(f.s, "src", &err), 0);
	gv_sched_detach(c);
	assert_int_equal(gv_sched_tenant_remove(f.s, "dst", &err), 0);
	fx_free(&f);
}

/* ------------------------------------------------------------ policies */

static void test_equal_share_three(void **state)
{
	struct fx f;
	bool busy[3] = { true, true, true };
	uint64_t k[3] = { 300 * US, 300 * US, 300 * US }, got[3] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "a", 1, 0);
	fx_add(&f, "b", 1, 0);
	fx_add(&f, "c", 1, 0);
	simulate(&f, busy, k, 2000 * MS, got);
	for (int i = 0; i < 3; i++)
		assert_near((double)got[i] / (double)sum(got, 3), 1.0 / 3, 0.01, "share");
	/* slices were handed over, so each tenant was drained */
	for (int i = 0; i < 3; i++)
		assert_true(f.syncs[i] > 100);
	fx_free(&f);
}

static void test_equal_share_weights(void **state)
{
	struct fx f;
	bool busy[3] = { true, true, true };
	uint64_t k[3] = { 250 * US, 400 * US, 100 * US }, got[3] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 3000);
	fx_add(&f, "w1", 1, 0);
	fx_add(&f, "w2", 2, 0);
	fx_add(&f, "w3", 3, 0);
	simulate(&f, busy, k, 3000 * MS, got);
	for (int i = 0; i < 3; i++)
		assert_near((double)got[i] / (double)sum(got, 3), (i + 1) / 6.0, 0.015,
			    "weighted share");
	fx_free(&f);
}

/* long kernels overrun their slices; deficit accounting still gives an
 * equal share, and the greedy short-kernel tenant cannot starve them */
static void test_equal_share_overrun_deficit(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	bool busy[2] = { true, true };
	uint64_t k[2] = { 7 * MS, 50 * US }, got[2] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "long", 1, 0);
	fx_add(&f, "greedy", 1, 0);
	simulate(&f, busy, k, 3000 * MS, got);
	assert_near((double)got[0] / (double)sum(got, 2), 0.5, 0.02, "long share");
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_true(st.tenants[0].overruns > 100);
	assert_true(st.tenants[0].overrun_ns > 100 * 5 * MS);
	assert_int_equal(st.tenants[1].overruns, 0);
	/* the scheduler's own figures agree with the device time */
	assert_near((double)st.tenants[0].used_ns / (double)got[0], 1.0, 0.02,
		    "charged vs device time");
	fx_free(&f);
}

static void test_equal_share_many_tenants(void **state)
{
	struct fx f;
	enum { N = 20 };
	bool busy[N];
	uint64_t k[N], got[N] = { 0 };
	char id[16];

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 1000);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "vgpu-%d", i);
		fx_add(&f, id, 1, 0);
		busy[i] = true;
		k[i] = (uint64_t)(50 + 37 * i) * US; /* 50 us .. 753 us */
	}
	simulate(&f, busy, k, 4000 * MS, got);
	for (int i = 0; i < N; i++)
		assert_near((double)got[i] / (double)sum(got, N), 1.0 / N, 0.05 / N, "share of 20");
	fx_free(&f);
}

/* a tenant idle for a while does not bank time: once back, shares are
 * equal from then on */
static void test_equal_share_no_banking(void **state)
{
	struct fx f;
	bool busy[2] = { true, false };
	uint64_t k[2] = { 200 * US, 200 * US }, got[2] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "early", 1, 0);
	fx_add(&f, "late", 1, 0);
	simulate(&f, busy, k, 1000 * MS, got);
	assert_near((double)got[0] / (1000.0 * MS), 1.0, 0.01, "alone: all of it");
	busy[1] = true;
	memset(got, 0, sizeof(got));
	simulate(&f, busy, k, 500 * MS, got);
	assert_near((double)got[1] / (double)sum(got, 2), 0.5, 0.02, "no banking");
	fx_free(&f);
}

/* two processes of one instance share that instance's time: the tenant,
 * not the process, is the unit of fairness */
static void test_equal_share_two_procs_one_tenant(void **state)
{
	struct fx f;
	struct gv_err err = { 0 };
	struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };
	bool busy[3] = { true, true, true };
	uint64_t k[3] = { 300 * US, 200 * US, 500 * US }, got[3] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "pair", 1, 0);
	fx_add(&f, "single", 1, 0);
	/* a second process of "pair" */
	assert_int_equal(gv_sched_attach(f.s, "pair", &o, &f.c[2], &err), 0);
	f.n = 3;
	simulate(&f, busy, k, 2000 * MS, got);
	assert_near((double)(got[0] + got[2]) / (double)sum(got, 3), 0.5, 0.02,
		    "instance with two processes");
	/* and inside the instance, both processes get turns */
	assert_true(got[0] > 2000 * MS / 10 && got[2] > 2000 * MS / 10);
	fx_free(&f);
}

static void test_best_effort(void **state)
{
	struct fx f;
	bool busy[3] = { true, false, false };
	uint64_t k[3] = { 300 * US, 6 * MS, 100 * US }, got[3] = { 0 };
	uint64_t idle;

	(void)state;
	fx_init(&f, GV_SCHED_BEST_EFFORT, 2000);
	fx_add(&f, "a", 1, 0);
	fx_add(&f, "b", 1, 0);
	fx_add(&f, "c", 1, 0);
	/* lone busy tenant gets (nearly) all of the GPU */
	idle = simulate(&f, busy, k, 1000 * MS, got);
	assert_true(idle < 10 * MS);
	assert_near((double)got[0] / (1000.0 * MS), 1.0, 0.01, "lone best effort");
	/* idle tenants are skipped; busy ones take turns, none starves */
	busy[1] = busy[2] = true;
	memset(got, 0, sizeof(got));
	simulate(&f, busy, k, 2000 * MS, got);
	for (int i = 0; i < 3; i++)
		assert_true((double)got[i] / (double)sum(got, 3) > 0.15);
	fx_free(&f);
}

/* best effort weights lengthen the turn: 2 ms vs 6 ms turns -> 1:3 */
static void test_best_effort_weights(void **state)
{
	struct fx f;
	struct gv_sched_seg *g;
	bool busy[2] = { true, true };
	uint64_t k[2] = { 100 * US, 100 * US }, got[2] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_BEST_EFFORT, 2000);
	fx_add(&f, "w1", 1, 0);
	fx_add(&f, "w3", 3, 0);
	simulate(&f, busy, k, 2000 * MS, got);
	assert_near((double)got[1] / (double)sum(got, 2), 0.75, 0.01, "weighted turns");
	/* turns never exceed the longest slice */
	g = gv_sched_seg_of(f.s);
	assert_int_equal(gv_sched_tenant_set(f.s, "w1", 100, 0, NULL), 0);
	assert_int_equal(gv_sched_slice_len(g, 0), 30 * MS);
	fx_free(&f);
}

static void test_fixed_share_lone_and_pair(void **state)
{
	struct fx f;
	bool busy[4] = { true, false, false, false };
	uint64_t k[4] = { 300 * US, 300 * US, 300 * US, 300 * US }, got[4] = { 0 };
	uint64_t idle;

	(void)state;
	fx_init(&f, GV_SCHED_FIXED_SHARE, 2000);
	/* four instances of a profile whose max count is 4 */
	for (int i = 0; i < 4; i++) {
		char id[8];

		snprintf(id, sizeof(id), "q%d", i);
		fx_add(&f, id, 1, GV_SCHED_SHARE_FULL / 4);
	}
	idle = simulate(&f, busy, k, 2000 * MS, got);
	assert_near((double)got[0] / (2000.0 * MS), 0.25, 0.01, "lone fixed share");
	assert_near((double)idle / (2000.0 * MS), 0.75, 0.02, "idle time");
	busy[2] = true;
	memset(got, 0, sizeof(got));
	simulate(&f, busy, k, 2000 * MS, got);
	assert_near((double)got[0] / (2000.0 * MS), 0.25, 0.01, "pair fixed share a");
	assert_near((double)got[2] / (2000.0 * MS), 0.25, 0.01, "pair fixed share c");
	fx_free(&f);
}

static void test_fixed_share_overrun_and_auto_share(void **state)
{
	struct fx f;
	bool busy[2] = { true, false };
	uint64_t k[2] = { 5 * MS, 100 * US }, got[2] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_FIXED_SHARE, 2000);
	/* share 0: an equal part of the registered tenants (1/2 each) */
	fx_add(&f, "x", 1, 0);
	fx_add(&f, "y", 1, 0);
	simulate(&f, busy, k, 3000 * MS, got);
	assert_near((double)got[0] / (3000.0 * MS), 0.5, 0.02,
		    "overrunning lone tenant still gets its share");
	busy[1] = true;
	memset(got, 0, sizeof(got));
	simulate(&f, busy, k, 3000 * MS, got);
	assert_near((double)got[0] / (3000.0 * MS), 0.5, 0.03, "x");
	assert_near((double)got[1] / (3000.0 * MS), 0.5, 0.03, "y");
	fx_free(&f);
}

static void test_fixed_share_weights_normalised(void **state)
{
	struct fx f;
	struct gv_sched_seg *g;

	(void)state;
	fx_init(&f, GV_SCHED_FIXED_SHARE, 2000);
	fx_add(&f, "h", 3, GV_SCHED_SHARE_FULL / 2);
	fx_add(&f, "l", 1, GV_SCHED_SHARE_FULL / 2);
	g = gv_sched_seg_of(f.s);
	/* 3:1 oversubscribes the GPU: scaled to sum to the whole */
	assert_int_equal(gv_sched_fixed_rate(g, 0), 750000);
	assert_int_equal(gv_sched_fixed_rate(g, 1), 250000);
	fx_free(&f);
}

static void test_policy_change_at_next_handover(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	bool busy[2] = { true, false };
	uint64_t k[2] = { 300 * US, 300 * US }, got[2] = { 0 };
	uint64_t t0;

	(void)state;
	fx_init(&f, GV_SCHED_FIXED_SHARE, 2000);
	fx_add(&f, "a", 1, GV_SCHED_SHARE_FULL / 4);
	fx_add(&f, "b", 1, GV_SCHED_SHARE_FULL / 4);
	simulate(&f, busy, k, 500 * MS, got);
	assert_near((double)got[0] / (500.0 * MS), 0.25, 0.02, "before");
	t0 = fake_now;
	assert_int_equal(gv_sched_set_policy(f.s, GV_SCHED_BEST_EFFORT, 1000, &err), 0);
	memset(got, 0, sizeof(got));
	simulate(&f, busy, k, 500 * MS, got);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.policy, GV_SCHED_BEST_EFFORT);
	assert_int_equal(st.slice_us, 1000);
	assert_true(st.policy_applied_ns >= t0);
	assert_true(st.policy_applied_ns - t0 <= 20 * MS);
	assert_true((double)got[0] / (500.0 * MS) > 0.95);
	fx_free(&f);
}

static void test_stats_figures(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	bool busy[2] = { true, true };
	uint64_t k[2] = { 500 * US, 500 * US }, got[2] = { 0 };

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "a", 1, 0);
	fx_add(&f, "b", 1, 0);
	simulate(&f, busy, k, 3000 * MS, got);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.n_tenants, 2);
	assert_true(st.handovers > 1000);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(st.tenants[i].procs, 1);
		assert_near(st.tenants[i].share_1s_ppm / 1e6, 0.5, 0.03, "share 1s");
		assert_near((double)st.tenants[i].used_ns / (3000.0 * MS), 0.5, 0.02, "used");
		assert_true(st.tenants[i].slices > 500);
		/* each waited about as long as the other ran */
		assert_near((double)st.tenants[i].wait_ns / (3000.0 * MS), 0.5, 0.05, "wait");
	}
	assert_true(st.holder_slot == 0 || st.holder_slot == 1);
	/* a second later with nobody running, the last-second share decays */
	busy[0] = busy[1] = false;
	for (int i = 0; i < 2; i++)
		gv_sched_yield(f.c[i]);
	fake_now += 1100 * MS;
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.holder_slot, -1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(st.tenants[i].share_1s_ppm, 0);
	fx_free(&f);
}

/* ------------------------------------------------------------ liveness */

static void test_dead_holder_taken_over(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	pid_t pid;
	int status;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "survivor", 1, 0);
	assert_int_equal(gv_sched_tenant_set(f.s, "victim", 1, 0, &err), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gv_sched_client *c = NULL;
		struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };

		if (gv_sched_attach(f.s, "victim", &o, &c, &err) != 0 || gv_sched_try_gate(c) != 0)
			_exit(1);
		_exit(0); /* dies holding the slice, never detaches */
	}
	/* not reaped yet: the victim is a zombie, which counts as dead */
	while (kill(pid, 0) == 0) {
		char p[64], buf[512];
		FILE *fp;
		char stt = '?';

		snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
		fp = fopen(p, "r");
		if (fp && fgets(buf, sizeof(buf), fp)) {
			char *q = strrchr(buf, ')');

			if (q && q[1])
				stt = q[2];
		}
		if (fp)
			fclose(fp);
		if (stt == 'Z')
			break;
		usleep(1000);
	}
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.holder_slot, 1);
	assert_int_equal(gv_sched_try_gate(f.c[0]), -EAGAIN); /* within its slice */
	fake_now += 2 * MS + 2 * MS;			      /* past the deadline and the grace */
	assert_int_equal(gv_sched_try_gate(f.c[0]), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.holder_slot, 0);
	assert_int_equal(st.tenants[1].procs, 0);
	/* the dead tenant was charged what it held */
	assert_true(st.tenants[1].used_ns >= 3 * MS);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* its slot is free: the instance can be removed, and a new process
	 * can attach in its place (the liveness mutex it left is reusable) */
	assert_int_equal(gv_sched_tenant_remove(f.s, "victim", &err), 0);
	fx_add(&f, "next", 1, 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.tenants[1].procs, 1);
	fx_free(&f);
}

/* a process that died while waiting for the slice is skipped when chosen,
 * and its slot freed */
static void test_dead_waiter_skipped(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	bool busy[1] = { true };
	uint64_t k[1] = { 500 * US }, got[1] = { 0 };
	int status;
	pid_t pid;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "survivor", 1, 0);
	assert_int_equal(gv_sched_tenant_set(f.s, "victim", 1, 0, &err), 1);
	assert_int_equal(gv_sched_try_gate(f.c[0]), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gv_sched_client *c = NULL;
		struct gv_sched_attach_opts o = { .flags = GV_SCHED_NO_WATCHDOG };

		if (gv_sched_attach(f.s, "victim", &o, &c, &err) != 0 ||
		    gv_sched_try_gate(c) != -EAGAIN)
			_exit(1);
		_exit(0); /* dies wanting the slice */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.tenants[1].procs, 0); /* dead: its liveness is gone */
	/* the victim, owed the most, is chosen at the slice end, found dead,
	 * freed, and the survivor goes on alone */
	simulate(&f, busy, k, 100 * MS, got);
	assert_near((double)got[0] / (100.0 * MS), 1.0, 0.02, "survivor alone");
	assert_int_equal(gv_sched_tenant_remove(f.s, "victim", &err), 0);
	fx_free(&f);
}

/* a live holder that stops (SIGSTOP, a debugger) loses the slice 100 ms
 * past its deadline, is charged for it, and rejoins when it runs again */
static void test_stopped_holder_revoked(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	struct gv_sched_seg *g;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "stopped", 1, 0);
	fx_add(&f, "other", 1, 0);
	g = gv_sched_seg_of(f.s);
	assert_int_equal(gv_sched_try_gate(f.c[0]), 0);
	assert_int_equal(gv_sched_try_gate(f.c[1]), -EAGAIN);
	fake_now += 50 * MS; /* a long kernel may run this long: kept */
	assert_int_equal(gv_sched_try_gate(f.c[1]), -EAGAIN);
	fake_now += 60 * MS;
	assert_int_equal(gv_sched_try_gate(f.c[1]), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.holder_slot, 1);
	assert_int_equal(st.tenants[0].used_ns, 110 * MS);
	assert_int_equal(st.tenants[0].overruns, 1);
	assert_int_equal(st.tenants[0].revocations, 1);
	assert_int_equal(st.tenants[1].revocations, 0);
	assert_int_equal(atomic_load(&g->clients[0].stalled), 1);
	/* it runs again: no longer skipped, waits its turn */
	assert_int_equal(gv_sched_try_gate(f.c[0]), -EAGAIN);
	assert_int_equal(atomic_load(&g->clients[0].stalled), 0);
	fx_free(&f);
}

/* a grant to a process that stopped while waiting is taken back */
static void test_unpicked_grant_revoked(void **state)
{
	struct fx f;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	struct gv_sched_seg *g;

	(void)state;
	fx_init(&f, GV_SCHED_EQUAL_SHARE, 2000);
	fx_add(&f, "runner", 1, 0);
	fx_add(&f, "sleeper", 1, 0);
	g = gv_sched_seg_of(f.s);
	assert_int_equal(gv_sched_try_gate(f.c[0]), 0);
	assert_int_equal(gv_sched_try_gate(f.c[1]), -EAGAIN);
	fake_now += 2500 * US;
	/* the slice ends and goes to the sleeper, which never picks it up */
	assert_int_equal(gv_sched_try_gate(f.c[0]), -EAGAIN);
	assert_int_equal(GV_SCHED_H_IDX(atomic_load(&g->holder)), 1);
	fake_now += 50 * MS;
	assert_int_equal(gv_sched_try_gate(f.c[0]), -EAGAIN);
	fake_now += 60 * MS;
	assert_int_equal(gv_sched_try_gate(f.c[0]), 0);
	assert_int_equal(gv_sched_stats(f.s, &st, &err), 0);
	assert_int_equal(st.holder_slot, 0);
	assert_int_equal(st.tenants[1].used_ns, 0); /* never ran: not charged */
	assert_int_equal(st.tenants[1].revocations, 1);
	assert_int_equal(atomic_load(&g->clients[1].stalled), 1);
	fx_free(&f);
}

/* ---------------------------------------------- real clock, threads */

struct thr {
	struct gv_sched_client *c;
	_Atomic int admitted;
};

static void *blocking_gate(void *arg)
{
	struct thr *t = arg;

	if (gv_sched_gate(t->c) == 0)
		atomic_store(&t->admitted, 1);
	return NULL;
}

static void test_idle_holder_gives_up_slice(void **state)
{
	char dir[] = "/tmp/gv-test-sched-XXXXXX", path[96];
	struct gv_sched *s = NULL;
	struct gv_sched_client *a = NULL, *b = NULL;
	struct gv_err err = { 0 };
	struct thr t = { 0 };
	pthread_t th;
	_Atomic int syncs_a = 0;
	struct gv_sched_attach_opts oa = { .sync = count_sync_atomic, .sync_arg = &syncs_a };
	struct timespec t0, t1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/seg", dir);
	assert_int_equal(gv_sched_create(path, GV_SCHED_EQUAL_SHARE, 5000, &s, &err), 0);
	assert_true(gv_sched_tenant_set(s, "a", 1, 0, &err) >= 0);
	assert_true(gv_sched_tenant_set(s, "b", 1, 0, &err) >= 0);
	assert_int_equal(gv_sched_attach(s, "a", &oa, &a, &err), 0);
	assert_int_equal(gv_sched_attach(s, "b", NULL, &b, &err), 0);
	/* a takes the slice, then stops submitting (no gate calls) */
	assert_int_equal(gv_sched_gate(a), 0);
	t.c = b;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, blocking_gate, &t), 0);
	/* the watchdog ends a's slice at its deadline, drains, hands over */
	for (int i = 0; i < 10000 && !atomic_load(&t.admitted); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&t.admitted), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5); /* hang bound only */
	assert_true(atomic_load(&syncs_a) >= 1);
	pthread_join(th, NULL);
	/* b idles too: after its slice nobody wants the GPU -> nobody holds it */
	for (int i = 0; i < 5000; i++) {
		struct gv_sched_stats st;

		assert_int_equal(gv_sched_stats(s, &st, &err), 0);
		if (st.holder_slot == -1)
			break;
		usleep(1000);
	}
	{
		struct gv_sched_stats st;

		assert_int_equal(gv_sched_stats(s, &st, &err), 0);
		assert_int_equal(st.holder_slot, -1);
	}
	/* and a comes back without waiting for anybody */
	assert_int_equal(gv_sched_gate(a), 0);
	gv_sched_detach(a);
	gv_sched_detach(b);
	gv_sched_free(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_create_open_validation),
		cmocka_unit_test(test_attach_rules),
		cmocka_unit_test(test_tenant_swap),
		cmocka_unit_test(test_equal_share_three),
		cmocka_unit_test(test_equal_share_weights),
		cmocka_unit_test(test_equal_share_overrun_deficit),
		cmocka_unit_test(test_equal_share_many_tenants),
		cmocka_unit_test(test_equal_share_no_banking),
		cmocka_unit_test(test_equal_share_two_procs_one_tenant),
		cmocka_unit_test(test_best_effort),
		cmocka_unit_test(test_best_effort_weights),
		cmocka_unit_test(test_fixed_share_lone_and_pair),
		cmocka_unit_test(test_fixed_share_overrun_and_auto_share),
		cmocka_unit_test(test_fixed_share_weights_normalised),
		cmocka_unit_test(test_policy_change_at_next_handover),
		cmocka_unit_test(test_stats_figures),
		cmocka_unit_test(test_dead_holder_taken_over),
		cmocka_unit_test(test_dead_waiter_skipped),
		cmocka_unit_test(test_stopped_holder_revoked),
		cmocka_unit_test(test_unpicked_grant_revoked),
		cmocka_unit_test(test_idle_holder_gives_up_slice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

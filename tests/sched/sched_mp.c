/* Multi-process scheduler tests: tenant processes forked from here attach
 * to one segment and "run kernels" of fixed duration on an emulated device
 * (queued asynchronously like GPU launches, or with --busy as busy-waits
 * on the wall clock while holding the gate), and each adds up its device
 * time inside measurement windows fixed in advance. The
 * checks are on SHARES of device time, never on speed, so that a loaded
 * 2-core machine changes nothing but the noise; time appears only in
 * generous hang bounds.
 *
 * usage: sched_mp SCENARIO [--busy]   (equal2 equal3 procs fixed_lone best_lone greedy
 *                             kill stop policy; bench: not a test)
 */
#include <errno.h>
#include <math.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/sched.h"

#define MS 1000000ull
#define MAXK 4
#define MAXW 3

struct window {
	uint64_t from, to;
};

struct kid {
	_Atomic uint64_t dev_ns[MAXW]; /* device time inside each window */
	_Atomic uint64_t kernels;
	_Atomic uint64_t gate_ns; /* time spent inside gv_sched_gate */
	_Atomic uint64_t max_gate_ns;
	_Atomic uint64_t last_start;
	_Atomic uint32_t in_kernel;    /* futex word (--busy) */
	_Atomic uint64_t q_end;	       /* when its queued work ends on the device */
	_Atomic uint64_t dev_total_ns; /* all its device time */
	int tenant;
	_Atomic int ready;
};

struct shared {
	struct window w[MAXW];
	_Atomic int stop;
	struct kid kid[MAXK];
};

static struct shared *sh;
static char dir[32];
static char path[96];
static pid_t pids[MAXK];
static int nkids;
static int failures;
static double last_error; /* relative share error of the last scenario */
static double starved_ms; /* longest time a tenant process sat in the gate */
static double min_eff;	  /* lowest device time / held time of a tenant */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void die(const char *what, const struct gv_err *err)
{
	fprintf(stderr, "sched_mp: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(2);
}

/* The emulated device. Default: like a GPU, a tenant enqueues kernels
 * asynchronously on its stream (at most QUEUE_NS of work ahead of now) and
 * the device runs them back to back on the wall clock whatever the CPU does
 * meanwhile, so a submitting thread that the host deschedules briefly does
 * not lose device time. With --busy, a kernel is a busy-wait of the calling
 * thread while it holds the gate (synchronous launches). */
#define QUEUE_NS (2 * MS)
static bool busy_kernels;

/* the shim's sync callback: wait until this process's work has finished,
 * sleeping as a blocking stream synchronisation would */
static int drain(void *arg)
{
	struct kid *k = arg;

	if (busy_kernels) {
		while (atomic_load(&k->in_kernel))
			syscall(SYS_futex, (uint32_t *)&k->in_kernel, FUTEX_WAIT, 1, NULL, NULL, 0);
		return 0;
	}
	sleep_until(atomic_load(&k->q_end));
	return 0;
}

static void kernel_done(struct kid *k)
{
	atomic_store(&k->in_kernel, 0);
	syscall(SYS_futex, (uint32_t *)&k->in_kernel, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* one kernel of kernel_ns; returns its [start, end) on the device */
static void launch(struct kid *k, uint64_t kernel_ns, uint64_t *start, uint64_t *end)
{
	uint64_t now = now_ns();

	if (busy_kernels) {
		atomic_store(&k->in_kernel, 1);
		*start = now;
		do
			*end = now_ns();
		while (*end - *start < kernel_ns);
		kernel_done(k);
		return;
	}
	*start = now > atomic_load(&k->q_end) ? now : atomic_load(&k->q_end);
	*end = *start + kernel_ns;
	atomic_store(&k->q_end, *end);
	if (*end > now + QUEUE_NS)
		sleep_until(*end - QUEUE_NS); /* the stream's queue is full */
}

static void tenant_main(int i, const char *id, uint64_t kernel_ns)
{
	struct kid *k = &sh->kid[i];
	struct gv_sched *s = NULL;
	struct gv_sched_client *c = NULL;
	struct gv_err err = { 0 };
	struct gv_sched_attach_opts o = { .sync = drain, .sync_arg = k };

	alarm(100); /* hang bound */
	if (gv_sched_open(path, &s, &err) < 0)
		die("open", &err);
	if (gv_sched_attach(s, id, &o, &c, &err) < 0)
		die("attach", &err);
	atomic_store(&k->ready, 1);
	while (!atomic_load(&sh->stop)) {
		uint64_t a, b, g0 = now_ns(), g1;

		if (gv_sched_gate(c) != 0)
			die("gate", NULL);
		g1 = now_ns();
		atomic_fetch_add(&k->gate_ns, g1 - g0);
		if (g1 - g0 > atomic_load(&k->max_gate_ns))
			atomic_store(&k->max_gate_ns, g1 - g0);
		launch(k, kernel_ns, &a, &b);
		atomic_store(&k->last_start, a);
		atomic_fetch_add(&k->kernels, 1);
		atomic_fetch_add(&k->dev_total_ns, b - a);
		for (int w = 0; w < MAXW; w++) {
			uint64_t lo = a > sh->w[w].from ? a : sh->w[w].from;
			uint64_t hi = b < sh->w[w].to ? b : sh->w[w].to;

			if (hi > lo)
				atomic_fetch_add(&k->dev_ns[w], hi - lo);
		}
	}
	gv_sched_detach(c);
	gv_sched_free(s);
	_exit(0);
}

static struct gv_sched *setup(enum gv_sched_policy policy, uint32_t slice_us, int ntenants,
			      const uint32_t *share_ppm)
{
	struct gv_sched *s = NULL;
	struct gv_err err = { 0 };

	/* scenarios may run one after another (bench) */
	strcpy(dir, "/tmp/gv-sched-mp-XXXXXX");
	nkids = 0;
	memset(pids, 0, sizeof(pids));
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(path, sizeof(path), "%s/seg", dir);
	if (gv_sched_create(path, policy, slice_us, &s, &err) < 0)
		die("create", &err);
	for (int t = 0; t < ntenants; t++) {
		char id[16];

		snprintf(id, sizeof(id), "t%d", t);
		if (gv_sched_tenant_set(s, id, 1, share_ppm ? share_ppm[t] : 0, &err) != t)
			die("tenant_set", &err);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap", NULL);
	return s;
}

/* windows are relative to now; set before the tenants start */
static void set_windows(uint64_t base, const uint64_t (*w)[2], int n)
{
	for (int i = 0; i < n; i++) {
		sh->w[i].from = base + w[i][0];
		sh->w[i].to = base + w[i][1];
	}
}

/* process i attaches to tenant "t<tenant_of[i]>" (NULL: tenant i) */
static void spawn_as(int nprocs, const uint64_t *kernel_ns, const int *tenant_of)
{
	for (int i = 0; i < nprocs; i++) {
		char id[16];

		sh->kid[i].tenant = tenant_of ? tenant_of[i] : i;
		snprintf(id, sizeof(id), "t%d", sh->kid[i].tenant);
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork", NULL);
		if (pids[i] == 0)
			tenant_main(i, id, kernel_ns[i]);
		nkids++;
	}
	for (int i = 0; i < nprocs; i++)
		while (!atomic_load(&sh->kid[i].ready))
			usleep(1000);
}

static void spawn(int ntenants_busy, const uint64_t *kernel_ns)
{
	spawn_as(ntenants_busy, kernel_ns, NULL);
}

static void teardown(struct gv_sched *s)
{
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < nkids; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	gv_sched_free(s);
	unlink(path);
	rmdir(dir);
	munmap(sh, sizeof(*sh));
	sh = NULL;
}

static double frac(int i, int w)
{
	return (double)atomic_load(&sh->kid[i].dev_ns[w]) / (double)(sh->w[w].to - sh->w[w].from);
}

static double share_of_busy(int i, int n, int w)
{
	uint64_t sum = 0;

	for (int j = 0; j < n; j++)
		sum += atomic_load(&sh->kid[j].dev_ns[w]);
	return sum ? (double)atomic_load(&sh->kid[i].dev_ns[w]) / (double)sum : 0;
}

static void check(bool ok, const char *fmt, double got, double lo, double hi)
{
	printf("  %-40s %.4f  (allowed %.4f .. %.4f)  %s\n", fmt, got, lo, hi, ok ? "ok" : "FAIL");
	if (!ok)
		failures++;
}

static void range(const char *what, double got, double lo, double hi)
{
	check(got >= lo && got <= hi, what, got, lo, hi);
}

static void print_stats(struct gv_sched *s)
{
	struct gv_sched_stats st;
	struct gv_err err = { 0 };

	if (gv_sched_stats(s, &st, &err) < 0)
		die("stats", &err);
	starved_ms = 0;
	for (int i = 0; i < nkids; i++)
		if (atomic_load(&sh->kid[i].max_gate_ns) / 1e6 > starved_ms)
			starved_ms = atomic_load(&sh->kid[i].max_gate_ns) / 1e6;
	for (int i = 0; i < nkids; i++)
		printf("  process %d: %llu kernels, %.1f ms in the gate (longest %.2f ms)\n", i,
		       (unsigned long long)atomic_load(&sh->kid[i].kernels),
		       atomic_load(&sh->kid[i].gate_ns) / 1e6,
		       atomic_load(&sh->kid[i].max_gate_ns) / 1e6);
	printf("  policy %s slice %u us, %llu handovers\n", gv_sched_policy_name(st.policy),
	       st.slice_us, (unsigned long long)st.handovers);
	min_eff = 1.0;
	for (size_t i = 0; i < st.n_tenants; i++) {
		struct gv_sched_tenant_stats *t = &st.tenants[i];
		uint64_t dev = 0;

		for (int j = 0; j < nkids; j++)
			if (sh->kid[j].tenant == t->slot)
				dev += atomic_load(&sh->kid[j].dev_total_ns);
		if (t->used_ns > 0 && (double)dev / (double)t->used_ns < min_eff)
			min_eff = (double)dev / (double)t->used_ns;

		printf("  %-3s used %7.1f ms  last 1s %5.1f%%  wait %7.1f ms  "
		       "slices %5llu  overruns %4llu  revoked %llu  procs %u\n",
		       t->instance_id, t->used_ns / 1e6, t->share_1s_ppm / 1e4, t->wait_ns / 1e6,
		       (unsigned long long)t->slices, (unsigned long long)t->overruns,
		       (unsigned long long)t->revocations, t->procs);
	}
}

/* n busy tenants, equal share: each within 5% of 1/n of the device time */
static void scenario_equal(int n)
{
	static const uint64_t kern[3] = { 300000, 700000, 1500000 };
	const uint64_t win[1][2] = { { 300 * MS, 1800 * MS } };
	struct gv_sched *s = setup(GV_SCHED_EQUAL_SHARE, 3000, n, NULL);
	uint64_t base;

	base = now_ns();
	set_windows(base, win, 1);
	spawn(n, kern);
	sleep_until(base + win[0][1] + 50 * MS);
	last_error = 0;
	for (int i = 0; i < n; i++) {
		char what[64];
		double sh_i = share_of_busy(i, n, 0), e = fabs(sh_i * n - 1.0);

		snprintf(what, sizeof(what), "equal share of t%d (kernel %llu us)", i,
			 (unsigned long long)kern[i] / 1000);
		range(what, sh_i, 0.95 / n, 1.05 / n);
		if (e > last_error)
			last_error = e;
	}
	print_stats(s);
	teardown(s);
}

/* two processes of instance t0 and one of t1: the instances share 50/50
 * (the shares are the instances', not the processes') */
static void scenario_procs(void)
{
	const uint64_t kern[3] = { 300000, 500000, 700000 };
	const int tenant_of[3] = { 0, 0, 1 };
	const uint64_t win[1][2] = { { 300 * MS, 1800 * MS } };
	struct gv_sched *s = setup(GV_SCHED_EQUAL_SHARE, 3000, 2, NULL);
	uint64_t base = now_ns();

	set_windows(base, win, 1);
	spawn_as(3, kern, tenant_of);
	sleep_until(base + win[0][1] + 50 * MS);
	range("share of t0 (two processes)", share_of_busy(0, 3, 0) + share_of_busy(1, 3, 0), 0.475,
	      0.525);
	range("share of t1 (one process)", share_of_busy(2, 3, 0), 0.475, 0.525);
	range("t0 process 2 of 2 gets turns", share_of_busy(1, 3, 0), 0.1, 0.5);
	print_stats(s);
	teardown(s);
}

/* fixed share: a lone busy tenant gets its 1/4, not more */
static void scenario_fixed_lone(void)
{
	const uint32_t shares[4] = { 250000, 250000, 250000, 250000 };
	const uint64_t kern[1] = { 400000 };
	const uint64_t win[1][2] = { { 300 * MS, 1800 * MS } };
	struct gv_sched *s = setup(GV_SCHED_FIXED_SHARE, 2000, 4, shares);
	uint64_t base = now_ns();

	set_windows(base, win, 1);
	spawn(1, kern);
	sleep_until(base + win[0][1] + 50 * MS);
	/* upper bound is the point; the lower one only catches a stall */
	range("fixed share of lone t0 (owns 1/4)", frac(0, 0), 0.15, 0.25 * 1.05);
	last_error = fabs(frac(0, 0) / 0.25 - 1.0);
	print_stats(s);
	teardown(s);
}

/* best effort: a lone busy tenant gets (nearly) all of the device */
static void scenario_best_lone(void)
{
	const uint64_t kern[1] = { 400000 };
	const uint64_t win[1][2] = { { 300 * MS, 1800 * MS } };
	struct gv_sched *s = setup(GV_SCHED_BEST_EFFORT, 2000, 3, NULL);
	uint64_t base = now_ns();

	set_windows(base, win, 1);
	spawn(1, kern);
	sleep_until(base + win[0][1] + 50 * MS);
	/* "nearly all" with room for a loaded two-core machine (0.899 seen
	 * under ASan with builds beside it); fixed share would give 0.25 */
	range("best effort share of lone t0", frac(0, 0), 0.75, 1.0);
	last_error = 1.0 - frac(0, 0);
	print_stats(s);
	teardown(s);
}

/* equal share: many 50 us kernels cannot starve 8 ms kernels */
static void scenario_greedy(void)
{
	const uint64_t kern[2] = { 8 * MS, 50000 };
	const uint64_t win[1][2] = { { 300 * MS, 2300 * MS } };
	struct gv_sched *s = setup(GV_SCHED_EQUAL_SHARE, 2000, 2, NULL);
	uint64_t base = now_ns();

	set_windows(base, win, 1);
	spawn(2, kern);
	sleep_until(base + win[0][1] + 50 * MS);
	range("share of t0 (8 ms kernels)", share_of_busy(0, 2, 0), 0.45, 0.55);
	last_error = fabs(share_of_busy(0, 2, 0) * 2 - 1.0);
	range("share of t1 (50 us kernels)", share_of_busy(1, 2, 0), 0.45, 0.55);
	print_stats(s);
	teardown(s);
}

/* SIGSTOPs process 0 (tenant t0) at a moment it holds the slice, checked
 * after the stop (a stopped process cannot hand over); false on timeout */
static bool stop_while_holding(struct gv_sched *s)
{
	uint64_t deadline = now_ns() + 20000 * MS;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };

	while (now_ns() < deadline) {
		if (gv_sched_stats(s, &st, &err) < 0)
			die("stats", &err);
		if (st.holder_slot != 0)
			continue;
		kill(pids[0], SIGSTOP);
		usleep(1000); /* the signal is delivered */
		if (gv_sched_stats(s, &st, &err) < 0)
			die("stats", &err);
		if (st.holder_slot == 0)
			return true;
		kill(pids[0], SIGCONT);
	}
	return false;
}

/* kill -9 of the holder in the middle of a kernel: the others go on within
 * about a slice and share the device equally afterwards */
static void scenario_kill(void)
{
	const uint64_t kern[3] = { 1 * MS, 500000, 700000 };
	struct gv_sched *s = setup(GV_SCHED_EQUAL_SHARE, 5000, 3, NULL);
	uint64_t base = now_ns(), t_kill, t_next = 0, deadline;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };
	const uint64_t never[1][2] = { { 0, 0 } };

	set_windows(base, never, 1);
	spawn(3, kern);
	usleep(300000);
	if (!stop_while_holding(s))
		die("t0 never held the slice", NULL);
	kill(pids[0], SIGKILL);
	t_kill = now_ns();
	/* not reaped on purpose: a zombie holder must count as dead */
	deadline = t_kill + 5000 * MS;
	while (now_ns() < deadline) {
		uint64_t a = atomic_load(&sh->kid[1].last_start);
		uint64_t b = atomic_load(&sh->kid[2].last_start);
		uint64_t m = a > b ? a : b;

		if (m > t_kill) {
			t_next = m;
			break;
		}
		usleep(200);
	}
	printf("  survivors resumed %.2f ms after the kill (slice 5 ms)\n",
	       t_next ? (double)(t_next - t_kill) / 1e6 : -1.0);
	if (!t_next)
		failures++;
	sh->w[1].from = now_ns() + 100 * MS;
	sh->w[1].to = sh->w[1].from + 1000 * MS;
	sleep_until(sh->w[1].to + 50 * MS);
	range("t1 share after the kill", share_of_busy(1, 3, 1), 0.475, 0.525);
	range("t2 share after the kill", share_of_busy(2, 3, 1), 0.475, 0.525);
	range("busy time after the kill", frac(1, 1) + frac(2, 1), 0.5, 1.0);
	if (gv_sched_stats(s, &st, &err) < 0)
		die("stats", &err);
	range("live processes of t0 after the kill", st.tenants[0].procs, 0, 0);
	print_stats(s);
	waitpid(pids[0], NULL, 0);
	pids[0] = 0;
	teardown(s);
}

/* SIGSTOP of the holder (a debugger, ^Z): the others go on once it is
 * 100 ms past its deadline; after SIGCONT it rejoins and all three share
 * equally again */
static void scenario_stop(void)
{
	const uint64_t kern[3] = { 1 * MS, 500000, 700000 };
	struct gv_sched *s = setup(GV_SCHED_EQUAL_SHARE, 5000, 3, NULL);
	uint64_t base = now_ns(), t_stop, t_next = 0, deadline;
	const uint64_t never[1][2] = { { 0, 0 } };

	set_windows(base, never, 1);
	spawn(3, kern);
	usleep(300000);
	if (!stop_while_holding(s))
		die("t0 never held the slice", NULL);
	t_stop = now_ns();
	deadline = t_stop + 5000 * MS;
	while (now_ns() < deadline) {
		uint64_t a = atomic_load(&sh->kid[1].last_start);
		uint64_t b = atomic_load(&sh->kid[2].last_start);
		uint64_t m = a > b ? a : b;

		if (m > t_stop) {
			t_next = m;
			break;
		}
		usleep(200);
	}
	printf("  others resumed %.2f ms after SIGSTOP (revoked 100 ms past the deadline)\n",
	       t_next ? (double)(t_next - t_stop) / 1e6 : -1.0);
	if (!t_next)
		failures++;
	usleep(200000);
	kill(pids[0], SIGCONT);
	sh->w[1].from = now_ns() + 400 * MS;
	sh->w[1].to = sh->w[1].from + 1000 * MS;
	sleep_until(sh->w[1].to + 50 * MS);
	for (int i = 0; i < 3; i++) {
		char what[64];

		snprintf(what, sizeof(what), "t%d share after SIGCONT", i);
		range(what, share_of_busy(i, 3, 1), 0.95 / 3, 1.05 / 3);
	}
	print_stats(s);
	teardown(s);
}

/* fixed share -> best effort at run time: in force within a second, and
 * the lone busy tenant goes from 1/4 to (nearly) all of the device */
static void scenario_policy(void)
{
	const uint32_t shares[4] = { 250000, 250000, 250000, 250000 };
	const uint64_t kern[1] = { 400000 };
	const uint64_t win[2][2] = { { 200 * MS, 1200 * MS }, { 1400 * MS, 2400 * MS } };
	struct gv_sched *s = setup(GV_SCHED_FIXED_SHARE, 2000, 4, shares);
	uint64_t base = now_ns(), t_change;
	struct gv_sched_stats st;
	struct gv_err err = { 0 };

	set_windows(base, win, 2);
	spawn(1, kern);
	sleep_until(base + 1300 * MS);
	t_change = now_ns();
	if (gv_sched_set_policy(s, GV_SCHED_BEST_EFFORT, 2000, &err) < 0)
		die("set_policy", &err);
	sleep_until(base + win[1][1] + 50 * MS);
	if (gv_sched_stats(s, &st, &err) < 0)
		die("stats", &err);
	range("fixed share before the change", frac(0, 0), 0.15, 0.25 * 1.05);
	range("policy in force (1 = best effort)", st.policy == GV_SCHED_BEST_EFFORT, 1, 1);
	range("seconds from request to effect", (double)(st.policy_applied_ns - t_change) / 1e9, 0,
	      1.0);
	range("best effort share after the change", frac(0, 1), 0.75, 1.0);
	print_stats(s);
	teardown(s);
}

/* Not a test: the overhead of the gate and the share error per policy,
 * printed as ratios (the core's part of bench/). */
static void bench(void)
{
	struct gv_sched *s = setup(GV_SCHED_BEST_EFFORT, 2000, 1, NULL);
	struct gv_sched_client *c = NULL;
	struct gv_err err = { 0 };
	const uint64_t kernel = 20000, span = 2000 * MS;
	uint64_t t0, n_plain = 0, n_gated = 0;
	const int calls = 5000000;
	double e[5];

	if (gv_sched_attach(s, "t0", NULL, &c, &err) < 0)
		die("attach", &err);
	gv_sched_gate(c);
	t0 = now_ns();
	for (int i = 0; i < calls; i++)
		gv_sched_gate(c);
	printf("gate fast path: %.1f ns per call\n", (double)(now_ns() - t0) / calls);
	/* one tenant alone, 20 us kernels: throughput with the gate / without,
	 * in alternating rounds so that other load on the machine hits both */
	for (int round = 0; round < 10; round++) {
		for (t0 = now_ns(); now_ns() - t0 < span / 10; n_plain++) {
			uint64_t a = now_ns();

			while (now_ns() - a < kernel)
				;
		}
		for (t0 = now_ns(); now_ns() - t0 < span / 10; n_gated++) {
			uint64_t a;

			gv_sched_gate(c);
			a = now_ns();
			while (now_ns() - a < kernel)
				;
		}
	}
	gv_sched_detach(c);
	teardown(s);
	scenario_equal(2);
	e[0] = last_error;
	scenario_equal(3);
	e[1] = last_error;
	scenario_greedy();
	e[2] = last_error;
	scenario_fixed_lone();
	e[3] = last_error;
	scenario_best_lone();
	e[4] = last_error;
	printf("\nlone tenant throughput with / without the scheduler: %.4f\n",
	       (double)n_gated / (double)n_plain);
	printf("share error, |measured/intended - 1|:\n"
	       "  equal share, 2 tenants      %.4f\n"
	       "  equal share, 3 tenants      %.4f\n"
	       "  equal share, 8 ms vs 50 us  %.4f\n"
	       "  fixed share 1/4, lone       %.4f\n"
	       "  best effort, lone (1 - share) %.4f\n",
	       e[0], e[1], e[2], e[3], e[4]);
}

static int run(const char *sc)
{
	if (strcmp(sc, "equal2") == 0)
		scenario_equal(2);
	else if (strcmp(sc, "equal3") == 0)
		scenario_equal(3);
	else if (strcmp(sc, "procs") == 0)
		scenario_procs();
	else if (strcmp(sc, "fixed_lone") == 0)
		scenario_fixed_lone();
	else if (strcmp(sc, "best_lone") == 0)
		scenario_best_lone();
	else if (strcmp(sc, "greedy") == 0)
		scenario_greedy();
	else if (strcmp(sc, "kill") == 0)
		scenario_kill();
	else if (strcmp(sc, "stop") == 0)
		scenario_stop();
	else if (strcmp(sc, "policy") == 0)
		scenario_policy();
	else if (strcmp(sc, "bench") == 0)
		bench();
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sc = argc > 1 ? argv[1] : "";

	if (argc > 2 && strcmp(argv[2], "--busy") == 0)
		busy_kernels = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(110);
	for (int attempt = 1; attempt <= 3; attempt++) {
		printf("scenario %s%s%s\n", sc, busy_kernels ? " (busy-wait kernels)" : "",
		       attempt > 1 ? " (again)" : "");
		failures = 0;
		starved_ms = 0;
		min_eff = 1.0;
		if (run(sc) < 0) {
			fprintf(stderr,
				"usage: %s equal2|equal3|procs|fixed_lone|"
				"best_lone|greedy|kill|stop|policy|bench [--busy]\n",
				argv[0]);
			return 2;
		}
		/* A tenant process that sat in the gate longer than the
		 * revocation bound (100 ms) was starved of CPU by the host, not
		 * by the scheduler: its shares mean nothing, measure again.
		 * (stop waits that long by design; it retries only on failure
		 * like the others.) */
		/* Likewise a tenant that used less than 90 % of the time it held:
		 * its process was descheduled while holding the slice. */
		if (!failures || (starved_ms <= 100.0 && min_eff >= 0.9))
			break;
		printf("  the host starved a tenant process (%.0f ms in the gate, "
		       "%.0f %% of held time used): measuring again\n",
		       starved_ms, 100.0 * min_eff);
	}
	printf("%s\n", failures ? "FAILED" : "passed");
	return failures ? 1 : 0;
}

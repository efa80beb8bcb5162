/* Time-slice scheduling end to end: gv-spin processes under the shim,
 * attached to one scheduler segment, on one simulated (or real) GPU.
 *
 *   ts_tool create SEG POLICY SLICE_US ID[:SHARE_PPM[:WEIGHT]]...
 *   ts_tool policy SEG POLICY SLICE_US
 *   ts_tool stats SEG                      (JSON)
 *   ts_tool shares FROM_NS|auto TO_NS|auto TRACE...   (JSON)
 *   ts_tool test SCENARIO BUILD_DIR        (CTest: equal2 equal3 procs
 *                                           fixed_lone best_lone greedy kill
 *                                           policy unregistered)
 *   ts_tool bench BUILD_DIR                (bench/sched.sh: overhead, errors)
 *
 * A test creates a segment in a private directory, starts tenant processes
 * (bin/gv-spin with lib/shim first on LD_LIBRARY_PATH, libcudasim as the
 * real driver, GPUVISOR_SCHED/GPUVISOR_INSTANCE set, and a private
 * GPUVISOR_SIM_SHM_DIR so that only they share the simulated device), and
 * reads each tenant's kernel trace (device clock start/end per kernel). It
 * checks SHARES of device time inside windows fixed in advance, never
 * speed. A tenant the host starved of CPU (it used under 90 % of the time
 * it held the GPU inside the window) cannot submit, so the GPU rightly goes
 * to the others: such a run is measured again, at most three times.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/sched.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MAXT 4

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / SEC), .tv_nsec = (long)(t % SEC) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- traces ---- */

struct trace {
	uint64_t *iv; /* start, end pairs */
	size_t n;
};

static int trace_read(const char *path, struct trace *t)
{
	FILE *f = fopen(path, "r");
	unsigned long long a, b;
	size_t cap = 0;

	t->iv = NULL;
	t->n = 0;
	if (!f)
		return -errno;
	while (fscanf(f, "%llu %llu", &a, &b) == 2) {
		if (t->n == cap) {
			uint64_t *p = realloc(t->iv, (cap ? cap * 2 : 1024) * 2 * sizeof(*p));

			if (!p) {
				fclose(f);
				return -ENOMEM;
			}
			t->iv = p;
			cap = cap ? cap * 2 : 1024;
		}
		t->iv[2 * t->n] = a;
		t->iv[2 * t->n + 1] = b;
		t->n++;
	}
	fclose(f);
	return 0;
}

/* Device time of t inside [from, to). */
static uint64_t trace_in(const struct trace *t, uint64_t from, uint64_t to)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->n; i++) {
		uint64_t a = t->iv[2 * i] > from ? t->iv[2 * i] : from;
		uint64_t b = t->iv[2 * i + 1] < to ? t->iv[2 * i + 1] : to;

		if (b > a)
			sum += b - a;
	}
	return sum;
}

/* ---- subcommands for scripts ---- */

static int cmd_create(int argc, char **argv)
{
	struct gv_err err = { 0 };
	enum gv_sched_policy p;
	struct gv_sched *s = NULL;
	int rc = 1;

	if (argc < 4) {
		fprintf(stderr,
			"usage: ts_tool create SEG POLICY SLICE_US ID[:SHARE_PPM[:WEIGHT]]...\n");
		return 2;
	}
	if (gv_sched_policy_parse(argv[1], &p, &err) < 0 ||
	    gv_sched_create(argv[0], p, (uint32_t)strtoul(argv[2], NULL, 10), &s, &err) < 0)
		goto out;
	for (int i = 3; i < argc; i++) {
		char id[GV_SCHED_INSTANCE_ID_MAX];
		unsigned long share = 0, weight = 1;
		char *c;

		snprintf(id, sizeof(id), "%s", argv[i]);
		if ((c = strchr(id, ':'))) {
			*c++ = '\0';
			share = strtoul(c, &c, 10);
			if (*c == ':')
				weight = strtoul(c + 1, NULL, 10);
		}
		if (gv_sched_tenant_set(s, id, (uint32_t)weight, (uint32_t)share, &err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "ts_tool create: %s\n", err.msg);
	gv_sched_free(s);
	return rc;
}

static int cmd_policy(int argc, char **argv)
{
	struct gv_err err = { 0 };
	enum gv_sched_policy p;
	struct gv_sched *s = NULL;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: ts_tool policy SEG POLICY SLICE_US\n");
		return 2;
	}
	if (gv_sched_policy_parse(argv[1], &p, &err) == 0 &&
	    gv_sched_open(argv[0], &s, &err) == 0 &&
	    gv_sched_set_policy(s, p, (uint32_t)strtoul(argv[2], NULL, 10), &err) == 0)
		rc = 0;
	else
		fprintf(stderr, "ts_tool policy: %s\n", err.msg);
	gv_sched_free(s);
	return rc;
}

static int cmd_stats(int argc, char **argv)
{
	struct gv_err err = { 0 };
	struct gv_sched *s = NULL;
	struct gv_sched_stats st;
	json_t *o, *ts;

	if (argc != 1) {
		fprintf(stderr, "usage: ts_tool stats SEG\n");
		return 2;
	}
	if (gv_sched_open(argv[0], &s, &err) < 0 || gv_sched_stats(s, &st, &err) < 0) {
		fprintf(stderr, "ts_tool stats: %s\n", err.msg);
		gv_sched_free(s);
		return 1;
	}
	gv_sched_free(s);
	ts = json_array();
	for (size_t i = 0; i < st.n_tenants; i++) {
		const struct gv_sched_tenant_stats *t = &st.tenants[i];

		json_array_append_new(
			ts, json_pack("{s:s,s:I,s:I,s:I,s:I,s:f}", "instance", t->instance_id,
				      "used_ns", (json_int_t)t->used_ns, "wait_ns",
				      (json_int_t)t->wait_ns, "slices", (json_int_t)t->slices,
				      "overruns", (json_int_t)t->overruns, "share_1s",
				      t->share_1s_ppm / 1e6));
	}
	o = json_pack("{s:s,s:I,s:I,s:o}", "policy", gv_sched_policy_name(st.policy), "slice_us",
		      (json_int_t)st.slice_us, "handovers", (json_int_t)st.handovers, "tenants",
		      ts);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return 0;
}

/* Window "auto": from the last first kernel to the first last kernel of
 * the traces (when all ran), less a tenth at each end. */
static int cmd_shares(int argc, char **argv)
{
	struct trace t[16];
	uint64_t from = 0, to = UINT64_MAX, dev[16], sum = 0;
	int n = argc - 2, rc = 0;
	json_t *o, *sh, *dv;

	if (n < 1 || n > 16) {
		fprintf(stderr, "usage: ts_tool shares FROM_NS|auto TO_NS|auto TRACE... (1-16)\n");
		return 2;
	}
	for (int i = 0; i < n; i++)
		if (trace_read(argv[2 + i], &t[i]) < 0 || !t[i].n) {
			fprintf(stderr, "ts_tool shares: %s: no kernels\n", argv[2 + i]);
			rc = 1;
		}
	if (rc)
		goto out;
	for (int i = 0; i < n; i++) {
		if (t[i].iv[0] > from)
			from = t[i].iv[0];
		if (t[i].iv[2 * t[i].n - 1] < to)
			to = t[i].iv[2 * t[i].n - 1];
	}
	if (to <= from) {
		fprintf(stderr, "ts_tool shares: the tenants did not run at the same time\n");
		rc = 1;
		goto out;
	}
	if (!strcmp(argv[0], "auto")) {
		uint64_t d = (to - from) / 10;

		from += d;
		to -= d;
	} else {
		from = strtoull(argv[0], NULL, 10);
		to = strtoull(argv[1], NULL, 10);
	}
	for (int i = 0; i < n; i++)
		sum += dev[i] = trace_in(&t[i], from, to);
	sh = json_array();
	dv = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(sh, json_real(sum ? (double)dev[i] / sum : 0));
		json_array_append_new(dv, json_integer((json_int_t)dev[i]));
	}
	o = json_pack("{s:I,s:f,s:o,s:o}", "window_ns", (json_int_t)(to - from), "busy",
		      (double)sum / (to - from), "device_ns", dv, "shares", sh);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
out:
	for (int i = 0; i < n; i++)
		free(t[i].iv);
	return rc;
}

/* ---- CTest scenarios ---- */

struct tenant {
	const char *id;
	unsigned kernel_us, depth;
	unsigned procs;	   /* processes of the tenant (gv-spin --procs; 0 = 1) */
	bool busy;	   /* runs gv-spin (else registered but idle) */
	bool unregistered; /* the daemon did not register it */
	pid_t pid;
	char trace[256];
	struct trace tr;
};

struct run {
	const char *build;
	char dir[64], seg[128];
	enum gv_sched_policy policy;
	uint32_t slice_us;
	struct tenant t[MAXT];
	int n;
	uint64_t t0; /* tenants start kernels here */
	unsigned seconds;
	bool nosched; /* tenants run without GPUVISOR_SCHED (bench baseline) */
	struct gv_sched *s;
};

static int failures;	    /* of checks on the scheduler's decisions (held time) */
static int failures_cpu;    /* of checks that also need the host to give the
			  * tenants CPU (device time: the simulated GPU is a
			  * CPU thread, its launches need the host) */
static double last_error;   /* |measured / intended - 1| of the last scenario */
static char last_note[128]; /* what else the bench prints about it */

/* Prints the check's line; a failed one counts in *count. */
static void vcheck(int *count, bool ok, const char *fmt, va_list ap)
{
	printf("  %s: ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
	if (!ok)
		(*count)++;
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(&failures, ok, fmt, ap);
	va_end(ap);
}

static void check_cpu(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_cpu(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(&failures_cpu, ok, fmt, ap);
	va_end(ap);
}

static pid_t spawn_tenant(struct run *r, struct tenant *t)
{
	char ld[512], real[512], sched[160], inst[96], shm[96], bin[512];
	char kus[32], dep[32], secs[32], start[32];
	char o_k[] = "--kernel-us", o_d[] = "--depth", o_s[] = "--seconds", o_a[] = "--start-at",
	     o_t[] = "--trace", o_p[] = "--procs", procs[16];
	char *argv[] = { bin, o_k,   kus, o_d,	    dep, o_s,	secs,
			 o_a, start, o_t, t->trace, o_p, procs, NULL };
	char *envp[] = { ld, real, shm, sched, inst, NULL };
	pid_t pid;
	posix_spawn_file_actions_t fa;

	snprintf(bin, sizeof(bin), "%s/bin/gv-spin", r->build);
	snprintf(ld, sizeof(ld), "LD_LIBRARY_PATH=%s/lib/shim", r->build);
	snprintf(real, sizeof(real), "GPUVISOR_REAL_LIBCUDA=%s/lib/libcudasim.so", r->build);
	snprintf(sched, sizeof(sched), "GPUVISOR_SCHED=%s", r->seg);
	snprintf(inst, sizeof(inst), "GPUVISOR_INSTANCE=%s", t->id);
	snprintf(shm, sizeof(shm), "GPUVISOR_SIM_SHM_DIR=%s", r->dir);
	snprintf(kus, sizeof(kus), "%u", t->kernel_us);
	snprintf(dep, sizeof(dep), "%u", t->depth);
	snprintf(secs, sizeof(secs), "%u", r->seconds);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)r->t0);
	snprintf(procs, sizeof(procs), "%u", t->procs ? t->procs : 1);
	if (r->nosched)
		envp[3] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, bin, &fa, NULL, argv, envp) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static int run_start(struct run *r)
{
	struct gv_err err = { 0 };

	snprintf(r->dir, sizeof(r->dir), "%s/gvts-XXXXXX", "/tmp");
	{
		const char *tmp = getenv("TMPDIR");

		if (tmp && *tmp && strlen(tmp) < 40)
			snprintf(r->dir, sizeof(r->dir), "%s/gvts-XXXXXX", tmp);
	}
	if (!mkdtemp(r->dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(r->seg, sizeof(r->seg), "%s/gpu.sched", r->dir);
	if (gv_sched_create(r->seg, r->policy, r->slice_us, &r->s, &err) < 0)
		goto fail;
	for (int i = 0; i < r->n; i++) {
		uint32_t share = r->policy == GV_SCHED_FIXED_SHARE ? GV_SCHED_SHARE_FULL / 4 : 0;

		if (r->t[i].unregistered)
			continue;
		if (gv_sched_tenant_set(r->s, r->t[i].id, 1, share, &err) < 0)
			goto fail;
	}
	/* process start-up (loader, cuInit, module) on a loaded machine */
	r->t0 = now_ns() + 1500 * MS;
	for (int i = 0; i < r->n; i++) {
		struct tenant *t = &r->t[i];

		snprintf(t->trace, sizeof(t->trace), "%s/%s.trace", r->dir, t->id);
		t->pid = t->busy ? spawn_tenant(r, t) : 0;
		if (t->busy && t->pid < 0) {
			fprintf(stderr, "cannot start %s/bin/gv-spin\n", r->build);
			return -1;
		}
	}
	return 0;
fail:
	fprintf(stderr, "segment: %s\n", err.msg);
	return -1;
}

/* Removes the scratch directory: every file in it is ours (the segment,
 * traces, the simulated device's accounting and execution files). */
static void run_clean(struct run *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(r->dir);
}

/* Waits for the tenants (a hang bound far above the run's length) and
 * reads their traces. */
static int run_finish(struct run *r)
{
	uint64_t bound = r->t0 + (r->seconds + 60) * SEC;
	int rc = 0;

	for (int i = 0; i < r->n; i++) {
		struct tenant *t = &r->t[i];
		int st = 0;

		if (!t->busy)
			continue;
		while (t->pid > 0) {
			pid_t w = waitpid(t->pid, &st, WNOHANG);

			if (w == t->pid)
				break;
			if (now_ns() > bound) {
				kill(t->pid, SIGKILL);
				waitpid(t->pid, &st, 0);
				printf("  %s hung\n", t->id);
				rc = -1;
				break;
			}
			usleep(20000);
		}
		if (t->pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0) {
			printf("  %s exited with %d\n", t->id, WEXITSTATUS(st));
			rc = -1;
		}
		t->pid = 0;
		if (trace_read(t->trace, &t->tr) < 0) {
			printf("  %s left no trace\n", t->id);
			rc = -1;
		}
		for (unsigned k = 1; k < t->procs; k++) {
			struct trace more;
			char p[300];
			uint64_t *iv;

			snprintf(p, sizeof(p), "%s.%u", t->trace, k);
			if (trace_read(p, &more) < 0) {
				printf("  %s process %u left no trace\n", t->id, k);
				rc = -1;
				continue;
			}
			iv = realloc(t->tr.iv, (t->tr.n + more.n) * 2 * sizeof(*iv) + 1);
			if (iv) {
				memcpy(iv + 2 * t->tr.n, more.iv, more.n * 2 * sizeof(*iv));
				t->tr.iv = iv;
				t->tr.n += more.n;
			}
			free(more.iv);
		}
	}
	gv_sched_free(r->s);
	r->s = NULL;
	return rc;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->t[i].tr.iv);
		r->t[i].tr.iv = NULL;
	}
	run_clean(r);
}

/* GPU time each tenant held (scheduler figures), indexed like r->t. */
static void held_now(struct run *r, uint64_t *held)
{
	struct gv_sched_stats st;

	memset(held, 0, sizeof(*held) * MAXT);
	if (gv_sched_stats(r->s, &st, NULL) < 0)
		return;
	for (size_t k = 0; k < st.n_tenants; k++)
		for (int i = 0; i < r->n; i++)
			if (!strcmp(st.tenants[k].instance_id, r->t[i].id))
				held[i] = st.tenants[k].used_ns;
}

struct window {
	uint64_t from, to;
	uint64_t held0[MAXT], held1[MAXT];
	uint64_t dev[MAXT];
	double share[MAXT];	 /* of the device time used in the window */
	double frac[MAXT];	 /* of the window */
	double held_share[MAXT]; /* of the GPU time held (scheduler figures) */
	double held_frac[MAXT];	 /* GPU time held / the window */
};

static void window_measure(struct run *r, struct window *w)
{
	sleep_until(w->from);
	held_now(r, w->held0);
	sleep_until(w->to);
	held_now(r, w->held1);
}

/* After run_finish. Returns the lowest device time / held time of a busy
 * tenant that held the GPU in the window (host CPU starvation shows as a
 * low value). */
static double window_eval(struct run *r, struct window *w, const char *name)
{
	uint64_t sum = 0, held_sum = 0;
	double min_eff = 1.0;

	for (int i = 0; i < r->n; i++) {
		sum += w->dev[i] = r->t[i].tr.iv ? trace_in(&r->t[i].tr, w->from, w->to) : 0;
		held_sum += w->held1[i] - w->held0[i];
	}
	printf("  %s (%.2f s):", name, (double)(w->to - w->from) / SEC);
	for (int i = 0; i < r->n; i++) {
		uint64_t held = w->held1[i] - w->held0[i];

		w->share[i] = sum ? (double)w->dev[i] / sum : 0;
		w->frac[i] = (double)w->dev[i] / (w->to - w->from);
		w->held_share[i] = held_sum ? (double)held / held_sum : 0;
		w->held_frac[i] = (double)held / (w->to - w->from);
		printf(" %s %.3f (%.3f of the window, held %.3f)", r->t[i].id, w->share[i],
		       w->frac[i], w->held_share[i]);
		if (r->t[i].busy && held > 10 * MS && (double)w->dev[i] / held < min_eff)
			min_eff = (double)w->dev[i] / held;
	}
	printf("; device time / held time >= %.2f\n", min_eff);
	return min_eff;
}

static void set_policy(struct run *r, enum gv_sched_policy p, uint32_t slice_us)
{
	struct gv_err err = { 0 };

	if (gv_sched_set_policy(r->s, p, slice_us, &err) < 0)
		check(false, "set policy: %s", err.msg);
}

/* The tenant whose process holds the slice now, or -1. */
static int holder(struct run *r)
{
	struct gv_sched_stats st;

	if (gv_sched_stats(r->s, &st, NULL) < 0)
		return -1;
	for (size_t k = 0; k < st.n_tenants; k++)
		if (st.tenants[k].holding)
			for (int i = 0; i < r->n; i++)
				if (!strcmp(st.tenants[k].instance_id, r->t[i].id))
					return i;
	return -1;
}

static void add(struct run *r, const char *id, unsigned kernel_us, unsigned depth, bool busy)
{
	r->t[r->n++] =
		(struct tenant){ .id = id, .kernel_us = kernel_us, .depth = depth, .busy = busy };
}

static bool within(double v, double lo, double hi)
{
	return v >= lo && v <= hi;
}

/* One attempt of a scenario: returns the lowest efficiency seen (for the
 * starvation retry), failures counted in `failures`. */
static double scenario(const char *name, const char *build)
{
	struct run r = { .build = build, .slice_us = 5000, .seconds = 5 };
	struct window w[2];
	const unsigned D = 2; /* kernels queued per tenant */
	double eff = 1.0;
	int nw = 1;
	uint64_t changed = 0, applied = 0; /* policy scenario */

	memset(w, 0, sizeof(w));
	if (!strcmp(name, "equal2") || !strcmp(name, "equal3")) {
		r.policy = GV_SCHED_EQUAL_SHARE;
		add(&r, "t0", 1000, D, true);
		add(&r, "t1", 1000, D, true);
		if (!strcmp(name, "equal3"))
			add(&r, "t2", 1000, D, true);
	} else if (!strcmp(name, "procs")) {
		/* two processes of one instance (the second forked after the shim
		 * attached the first: it attaches for itself) vs one */
		r.policy = GV_SCHED_EQUAL_SHARE;
		add(&r, "pair", 1000, D, true);
		r.t[0].procs = 2;
		add(&r, "solo", 1000, D, true);
	} else if (!strcmp(name, "unregistered")) {
		/* an instance the segment does not know: the shim says so and
		 * runs the process ungated (fail open), next to a gated one */
		r.policy = GV_SCHED_EQUAL_SHARE;
		r.seconds = 2;
		add(&r, "known", 1000, D, true);
		add(&r, "stranger", 1000, D, true);
		r.t[1].unregistered = true;
	} else if (!strcmp(name, "fixed_lone")) {
		r.policy = GV_SCHED_FIXED_SHARE; /* 1/4 each */
		add(&r, "busy", 1000, D, true);
		add(&r, "idle", 1000, 2, false);
	} else if (!strcmp(name, "best_lone")) {
		r.policy = GV_SCHED_BEST_EFFORT;
		add(&r, "busy", 1000, D, true);
		add(&r, "idle", 1000, 2, false);
	} else if (!strcmp(name, "greedy")) {
		r.policy = GV_SCHED_EQUAL_SHARE;
		add(&r, "short", 50, 16, true);
		add(&r, "long", 8000, 1, true);
	} else if (!strcmp(name, "kill")) {
		r.policy = GV_SCHED_EQUAL_SHARE;
		r.seconds = 6;
		add(&r, "t0", 2000, D, true);
		add(&r, "t1", 2000, D, true);
		add(&r, "t2", 2000, D, true);
	} else if (!strcmp(name, "policy")) {
		r.policy = GV_SCHED_FIXED_SHARE;
		r.seconds = 6;
		add(&r, "busy", 1000, D, true);
		add(&r, "idle", 1000, 2, false);
	} else {
		fprintf(stderr, "unknown scenario %s\n", name);
		failures++;
		return 1.0;
	}
	if (run_start(&r) < 0) {
		failures++;
		run_free(&r);
		return 1.0;
	}
	if (!strcmp(name, "kill")) {
		uint64_t tk = r.t0 + 2 * SEC;
		int h = -1;

		/* kill whoever holds the slice, while it holds it */
		sleep_until(tk);
		while (h < 0 && now_ns() < tk + 2 * SEC) {
			h = holder(&r);
			if (h >= 0 && r.t[h].pid > 0) {
				kill(r.t[h].pid, SIGKILL);
				waitpid(r.t[h].pid, NULL, 0);
				r.t[h].pid = 0;
				r.t[h].busy = false;
			} else {
				h = -1;
				usleep(500);
			}
		}
		check(h >= 0, "killed the holder (%s)", h >= 0 ? r.t[h].id : "none found");
		w[0].from = now_ns() + 300 * MS;
		w[0].to = r.t0 + r.seconds * SEC - 300 * MS;
		window_measure(&r, &w[0]);
	} else if (!strcmp(name, "policy")) {
		uint64_t tc = r.t0 + 2500 * MS;

		nw = 2;
		w[0].from = r.t0 + 500 * MS;
		w[0].to = tc;
		window_measure(&r, &w[0]);
		changed = now_ns();
		set_policy(&r, GV_SCHED_BEST_EFFORT, r.slice_us);
		w[1].from = tc + SEC; /* in force within a second */
		w[1].to = r.t0 + r.seconds * SEC - 300 * MS;
		window_measure(&r, &w[1]);
		{
			struct gv_sched_stats st;

			if (gv_sched_stats(r.s, &st, NULL) == 0 &&
			    st.policy == GV_SCHED_BEST_EFFORT)
				applied = st.policy_applied_ns;
		}
	} else {
		w[0].from = r.t0 + 700 * MS;
		w[0].to = r.t0 + r.seconds * SEC - 300 * MS;
		window_measure(&r, &w[0]);
	}
	if (run_finish(&r) < 0)
		check(false, "tenants ran to completion");
	for (int k = 0; k < nw; k++) {
		double e = window_eval(&r, &w[k], nw == 1 ? "window" : k ? "after" : "before");

		if (e < eff)
			eff = e;
	}
	last_error = 0;
	last_note[0] = '\0';
	if (!strcmp(name, "equal2") || !strcmp(name, "equal3") || !strcmp(name, "procs")) {
		double eq = 1.0 / r.n;

		for (int i = 0; i < r.n; i++)
			last_error = fmax(last_error, fabs(w[0].share[i] / eq - 1));
		for (int i = 0; i < r.n; i++) {
			/* a tenant the host starves past the revocation bound
			 * (100 ms) rightly loses turns: 5 % needs the CPU, 15 %
			 * catches a scheduler that starves someone */
			check(within(w[0].held_share[i], eq * 0.85, eq * 1.15),
			      "%s held %.3f of the GPU time, within 15%% of %.3f", r.t[i].id,
			      w[0].held_share[i], eq);
			check_cpu(within(w[0].held_share[i], eq * 0.95, eq * 1.05),
				  "%s held %.3f of the GPU time, within 5%% of %.3f", r.t[i].id,
				  w[0].held_share[i], eq);
			check_cpu(within(w[0].share[i], eq * 0.95, eq * 1.05),
				  "%s device time share %.3f within 5%% of %.3f", r.t[i].id,
				  w[0].share[i], eq);
		}
	} else if (!strcmp(name, "greedy")) {
		/* The scheduler divides the time the tenants hold the GPU; how
		 * much of its turn a tenant keeps the device busy is up to it:
		 * 50 us kernels through the simulator's host-side launch path
		 * keep it busy 80-95 % of a turn on a loaded VM, 8 ms kernels
		 * ~100 %. So: held time equal, and the long kernels' tenant
		 * gets at least its equal share of device time. */
		last_error = fmax(fabs(w[0].held_share[0] / 0.5 - 1),
				  fabs(w[0].held_share[1] / 0.5 - 1));
		snprintf(last_note, sizeof(last_note), "  (device time: long %.3f, short %.3f)",
			 w[0].share[1], w[0].share[0]);
		for (int i = 0; i < r.n; i++) {
			check(within(w[0].held_share[i], 0.425, 0.575),
			      "%s held %.3f of the GPU time (within 15%% of 0.5)", r.t[i].id,
			      w[0].held_share[i]);
			check_cpu(within(w[0].held_share[i], 0.475, 0.525),
				  "%s held %.3f of the GPU time (within 5%% of 0.5)", r.t[i].id,
				  w[0].held_share[i]);
		}
		check_cpu(w[0].share[1] >= 0.475, "long kernels' device share %.3f (>= 0.475)",
			  w[0].share[1]);
		check_cpu(w[0].share[0] >= 0.4, "short kernels' device share %.3f (>= 0.4)",
			  w[0].share[0]);
	} else if (!strcmp(name, "unregistered")) {
		for (int i = 0; i < r.n; i++)
			check(r.t[i].tr.n > 0, "%s ran %zu kernels", r.t[i].id, r.t[i].tr.n);
	} else if (!strcmp(name, "fixed_lone")) {
		last_error = fabs(w[0].frac[0] / 0.25 - 1);
		/* device time: at most its share; held time: its share (what it
		 * could use of it depends on the host's CPU) */
		check(w[0].frac[0] <= 0.25 * 1.05,
		      "lone busy tenant used %.3f of the GPU (<= 0.2625)", w[0].frac[0]);
		/* a holder the host keeps off the CPU at its deadline overruns;
		 * the overrun is repaid later, not necessarily in the window */
		check_cpu(w[0].held_frac[0] <= 0.25 * 1.05,
			  "it held %.3f of the GPU's time (<= 0.2625)", w[0].held_frac[0]);
		check_cpu(w[0].held_frac[0] >= 0.25 * 0.9,
			  "and took the share it was owed (%.3f >= 0.225)", w[0].held_frac[0]);
	} else if (!strcmp(name, "best_lone")) {
		last_error = 1 - w[0].frac[0];
		check_cpu(w[0].held_frac[0] >= 0.95,
			  "lone busy tenant held %.3f of the GPU's time (>= 0.95)",
			  w[0].held_frac[0]);
		check_cpu(w[0].frac[0] >= 0.8, "and used %.3f of it on the device (>= 0.8)",
			  w[0].frac[0]);
	} else if (!strcmp(name, "kill")) {
		double busy = 0;
		int alive = 0;

		for (int i = 0; i < r.n; i++)
			if (r.t[i].busy) {
				busy += w[0].frac[i];
				alive++;
			}
		check(alive == 2, "%d survivors", alive);
		check_cpu(busy >= 0.7, "the survivors kept the GPU busy: %.3f of the window", busy);
		for (int i = 0; i < r.n; i++)
			if (r.t[i].busy) {
				check(within(w[0].held_share[i], 0.425, 0.575),
				      "survivor %s held %.3f of the GPU time (0.425-0.575)",
				      r.t[i].id, w[0].held_share[i]);
				check_cpu(within(w[0].held_share[i], 0.45, 0.55),
					  "survivor %s held %.3f of the GPU time (0.45-0.55)",
					  r.t[i].id, w[0].held_share[i]);
				check_cpu(within(w[0].share[i], 0.45, 0.55),
					  "survivor %s device time share %.3f (0.45-0.55)",
					  r.t[i].id, w[0].share[i]);
			}
	} else if (!strcmp(name, "policy")) {
		check(w[0].frac[0] <= 0.25 * 1.05,
		      "fixed share: lone busy tenant used %.3f (<= 0.2625)", w[0].frac[0]);
		check_cpu(w[0].held_frac[0] <= 0.25 * 1.05, "and held %.3f (<= 0.2625)",
			  w[0].held_frac[0]);
		check(applied >= changed && applied - changed < SEC,
		      "best effort in force %.1f ms after the request (< 1 s)",
		      applied >= changed ? (double)(applied - changed) / MS : -1.0);
		check(w[1].held_frac[0] > 0.5,
		      "from a second after the change the tenant held %.3f (fixed share "
		      "allows 0.25)",
		      w[1].held_frac[0]);
		check_cpu(w[1].held_frac[0] >= 0.95 && w[1].frac[0] >= 0.8,
			  "best effort from a second after the change: held %.3f (>= 0.95), "
			  "used %.3f (>= 0.8)",
			  w[1].held_frac[0], w[1].frac[0]);
	}
	run_free(&r);
	return eff;
}

/* Kernels per second of one tenant alone (20 us kernels, 8 queued), with
 * or without the scheduler; best of `reps` runs. */
static double throughput(const char *build, bool sched, enum gv_sched_policy p, int reps)
{
	double best = 0;

	for (int k = 0; k < reps; k++) {
		struct run r = { .build = build,
				 .slice_us = 5000,
				 .seconds = 3,
				 .policy = p,
				 .nosched = !sched };
		uint64_t from, to, n = 0;

		add(&r, "solo", 20, 8, true);
		if (run_start(&r) < 0 || run_finish(&r) < 0) {
			run_free(&r);
			return 0;
		}
		from = r.t0 + 500 * MS;
		to = r.t0 + r.seconds * SEC - 200 * MS;
		for (size_t i = 0; i < r.t[0].tr.n; i++)
			n += r.t[0].tr.iv[2 * i] >= from && r.t[0].tr.iv[2 * i + 1] <= to;
		if ((double)n * SEC / (to - from) > best)
			best = (double)n * SEC / (to - from);
		run_free(&r);
	}
	return best;
}

/* bench/sched.sh: the scheduler's overhead for a lone tenant and the share
 * error of each policy, as ratios. Never fails on numbers. */
static int cmd_bench(int argc, char **argv)
{
	static const char *const sc[] = { "equal2", "equal3", "greedy", "fixed_lone", "best_lone" };
	static const char *const what[] = {
		"equal share, 2 tenants: max |share/0.5 - 1|",
		"equal share, 3 tenants: max |share/0.333 - 1|",
		"equal share, 50 us vs 8 ms kernels: max |held/0.5 - 1|",
		"fixed share 1/4, lone busy tenant: |got/0.25 - 1|",
		"best effort, lone busy tenant: 1 - got",
	};
	double base, be, eq;

	if (argc != 1) {
		fprintf(stderr, "usage: ts_tool bench BUILD_DIR\n");
		return 2;
	}
	printf("one tenant alone, 20 us kernels, 8 queued (kernels/s, best of 2):\n");
	base = throughput(argv[0], false, GV_SCHED_BEST_EFFORT, 2);
	be = throughput(argv[0], true, GV_SCHED_BEST_EFFORT, 2);
	eq = throughput(argv[0], true, GV_SCHED_EQUAL_SHARE, 2);
	printf("  without the scheduler       %9.0f\n", base);
	printf("  with it, best effort        %9.0f  ratio %.3f\n", be, base ? be / base : 0);
	printf("  with it, equal share        %9.0f  ratio %.3f\n", eq, base ? eq / base : 0);
	printf("share error per policy (one run each; 0 is exact):\n");
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		int saved = dup(1), null = open("/dev/null", O_WRONLY);

		/* the scenario's own report is not the bench's */
		fflush(stdout);
		dup2(null, 1);
		failures = 0;
		(void)scenario(sc[i], argv[0]);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		close(null);
		printf("  %-58s %.4f%s%s\n", what[i], last_error, last_note,
		       failures ? "  (a check failed in this run)" : "");
	}
	return 0;
}

static int cmd_test(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ts_tool test SCENARIO BUILD_DIR\n");
		return 2;
	}
	for (int attempt = 1; attempt <= 3; attempt++) {
		double eff;

		printf("%s, attempt %d\n", argv[0], attempt);
		failures = failures_cpu = 0;
		eff = scenario(argv[0], argv[1]);
		if (!failures && !failures_cpu)
			return 0;
		if (eff >= 0.9)
			return 1;
		printf("  the host starved a tenant process of CPU (device time %.0f%% of the "
		       "time it held the GPU)%s\n",
		       100.0 * eff, attempt < 3 ? ": measuring again" : "");
	}
	if (failures)
		return 1;
	/* the scheduler's decisions were right every time; what the tenants
	 * made of them could not be measured on a host this loaded */
	printf("SKIP: device time not measurable: the host kept the tenants' threads "
	       "off the CPU in three runs\n");
	return 77;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "create"))
		return cmd_create(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "policy"))
		return cmd_policy(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "shares"))
		return cmd_shares(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "test"))
		return cmd_test(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return cmd_bench(argc - 2, argv + 2);
	fprintf(stderr, "usage: ts_tool create|policy|stats|shares|test|bench ...\n");
	return 2;
}

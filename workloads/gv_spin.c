/* gv-spin: a tenant of fixed-duration kernels, for time-slice tests.
 *
 * Launches the gv_spin kernel (busy for --kernel-us on the device) in a
 * loop, keeping at most --depth kernels queued, until --seconds have passed
 * or --kernels have been launched. Each kernel writes its start and end
 * (device clock: %globaltimer on a GPU, CLOCK_MONOTONIC in the simulator)
 * to pinned host memory, so its device time is measured on the device, not
 * by the host. --trace FILE gets one line "start_ns end_ns" per kernel,
 * flushed as kernels complete (a process killed with SIGKILL leaves the
 * lines of the kernels it saw finish). At the end one JSON object goes to
 * stdout:
 *
 *   {"kernels":N,"device_ns":T,"kernel_us":K,"first_start_ns":A,
 *    "last_end_ns":B,"wall_ns":W}
 *
 * Device times of different processes on one GPU compare (one device
 * clock), so shares over a common window can be computed from the traces.
 *
 * --procs N forks N-1 more processes before touching CUDA (several
 * processes of one tenant; child k traces to FILE.k and prints its own
 * JSON line); the first process waits for them and fails if one did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gv_kernels.h"
#include "wl_common.h"

#define GV_SPIN_MAX_DEPTH 64

struct spin {
	struct wl w;
	unsigned long long kernel_us, seconds, max_kernels, depth, device, start_at_ns, procs;
	const char *trace_path;
	char child_trace[4200];
	FILE *trace;
	volatile unsigned long long *when; /* pinned: 2 per queue slot */
	CUevent ev[GV_SPIN_MAX_DEPTH];
	unsigned long long done, device_ns, first_ns, last_ns;
};

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--kernel-us N] [--seconds N] [--kernels N] [--depth N]\n"
		"          [--start-at NS] [--trace FILE] [--procs N] [--device N] [--verbose]\n"
		"defaults: 1000 us kernels for 2 seconds, 2 kernels queued; --start-at\n"
		"waits until CLOCK_MONOTONIC reaches NS first (0: at once)\n",
		prog);
}

/* Kernel i has finished (its event completed): account its device time. */
static void collect(struct spin *s, unsigned long long i)
{
	unsigned slot = (unsigned)(i % s->depth);
	unsigned long long t0, t1;

	WL_CHECK(&s->w, cuEventSynchronize(s->ev[slot]));
	t0 = s->when[2 * slot];
	t1 = s->when[2 * slot + 1];
	if (t1 < t0) {
		fprintf(stderr, "%s: kernel %llu reported an end before its start\n", s->w.prog, i);
		exit(1);
	}
	if (!s->done || t0 < s->first_ns)
		s->first_ns = t0;
	if (t1 > s->last_ns)
		s->last_ns = t1;
	s->device_ns += t1 - t0;
	s->done++;
	if (s->trace) {
		fprintf(s->trace, "%llu %llu\n", t0, t1);
		fflush(s->trace);
	}
}

static int parse(struct spin *s, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--verbose")) {
			s->w.verbose = 1;
			continue;
		}
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(argv[0]);
			exit(0);
		}
		if (!strcmp(o, "--kernel-us"))
			s->kernel_us = wl_parse_u64(s->w.prog, o, v, 10000000);
		else if (!strcmp(o, "--seconds"))
			s->seconds = wl_parse_u64(s->w.prog, o, v, 86400);
		else if (!strcmp(o, "--kernels"))
			s->max_kernels = wl_parse_u64(s->w.prog, o, v, 1ull << 40);
		else if (!strcmp(o, "--depth"))
			s->depth = wl_parse_u64(s->w.prog, o, v, GV_SPIN_MAX_DEPTH);
		else if (!strcmp(o, "--start-at"))
			s->start_at_ns = wl_parse_u64(s->w.prog, o, v, ~0ull);
		else if (!strcmp(o, "--procs"))
			s->procs = wl_parse_u64(s->w.prog, o, v, 16);
		else if (!strcmp(o, "--device"))
			s->device = wl_parse_u64(s->w.prog, o, v, 1024);
		else if (!strcmp(o, "--trace")) {
			if (!v) {
				fprintf(stderr, "%s: --trace needs a file\n", s->w.prog);
				return 2;
			}
			s->trace_path = v;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", s->w.prog, o);
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (!s->kernel_us || !s->depth || !s->procs || (!s->seconds && !s->max_kernels)) {
		fprintf(stderr,
			"%s: --kernel-us, --depth, --procs and one of --seconds/--kernels must "
			"be positive\n",
			s->w.prog);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct spin s = {
		.w = { .prog = "gv-spin" }, .kernel_us = 1000, .seconds = 2, .depth = 2, .procs = 1
	};
	pid_t kids[16];
	unsigned long long nkids = 0;
	unsigned long long i, t_start, deadline;
	struct gv_spin_args a;
	void *params[1] = { &a };
	void *host = NULL;
	CUfunction f;
	int rc = parse(&s, argc, argv);

	if (rc)
		return rc;
	fflush(stdout);
	for (unsigned long long k = 1; k < s.procs; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			nkids = 0;
			if (s.trace_path) {
				snprintf(s.child_trace, sizeof(s.child_trace), "%s.%llu",
					 s.trace_path, k);
				s.trace_path = s.child_trace;
			}
			break;
		}
		kids[nkids++] = pid;
	}
	if (s.trace_path && !(s.trace = fopen(s.trace_path, "w"))) {
		perror(s.trace_path);
		return 1;
	}
	wl_setup(&s.w, (int)s.device);
	f = wl_function(&s.w, "gv_spin");
	/* pinned host memory is device-accessible at the same address (UVA) */
	WL_CHECK(&s.w, cuMemAllocHost(&host, 2 * s.depth * sizeof(unsigned long long)));
	s.when = host;
	for (i = 0; i < s.depth; i++)
		WL_CHECK(&s.w, cuEventCreate(&s.ev[i], CU_EVENT_DISABLE_TIMING));
	while (s.start_at_ns && now_ns() < s.start_at_ns) {
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	t_start = now_ns();
	deadline = s.seconds ? t_start + s.seconds * 1000000000ull : ~0ull;
	a.ns = s.kernel_us * 1000ull;
	for (i = 0; !s.max_kernels || i < s.max_kernels; i++) {
		unsigned slot = (unsigned)(i % s.depth);

		if (i >= s.depth)
			collect(&s, i - s.depth);
		if (now_ns() >= deadline)
			break;
		a.when = (unsigned long long *)(s.when + 2 * slot);
		s.when[2 * slot] = 0;
		s.when[2 * slot + 1] = 0;
		WL_CHECK(&s.w, cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, s.w.stream, params, NULL));
		WL_CHECK(&s.w, cuEventRecord(s.ev[slot], s.w.stream));
	}
	while (s.done < i) /* kernels are collected in order */
		collect(&s, s.done);
	printf("{\"kernels\":%llu,\"device_ns\":%llu,\"kernel_us\":%llu,\"first_start_ns\":%llu,"
	       "\"last_end_ns\":%llu,\"wall_ns\":%llu}\n",
	       s.done, s.device_ns, s.kernel_us, s.first_ns, s.last_ns, now_ns() - t_start);
	for (i = 0; i < s.depth; i++)
		WL_CHECK(&s.w, cuEventDestroy(s.ev[i]));
	WL_CHECK(&s.w, cuMemFreeHost(host));
	wl_teardown(&s.w);
	if (s.trace && fclose(s.trace) != 0) {
		perror(s.trace_path);
		return 1;
	}
	fflush(stdout);
	for (unsigned long long k = 0; k < nkids; k++) {
		int st;

		if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "%s: process %llu of the tenant failed\n", s.w.prog, k + 1);
			rc = 1;
		}
	}
	return rc;
}

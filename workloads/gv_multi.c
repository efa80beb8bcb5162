/* gv-multi: a workload on several GPUs at once, for the CUDA driver API.
 *
 * One context per device (the primary context of devices 0..N-1 of what
 * CUDA_VISIBLE_DEVICES shows), weights and two activation buffers on each.
 * Every step, each device's activations go (through host memory) to the
 * next device's "halo" buffer, and each device computes its next
 * activations from its weights, its own activations and the halo: every
 * device's result depends on every other's memory. At the end the
 * activations and halos of all devices, in device order, are hashed:
 * "checksum: 0x..." is the same for the same options wherever the process
 * ran and however it was moved (integer arithmetic only). A suspend or a
 * move that lost or swapped one device's memory changes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gv_kernels.h"
#include "wl_common.h"

#define MIB (1024ull * 1024ull)
#define MAX_DEV 8

struct dev {
	struct wl w;
	CUdeviceptr weights, act[2], halo;
	CUfunction f_fill, f_step;
};

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--devices N] [--weights-mib N] [--act-kib N] [--steps N]\n"
		"          [--step-ms N] [--hold] [--verbose]\n"
		"defaults: 2 devices, 16 MiB weights and 256 KiB activations on each, 8 steps\n"
		"--hold: before the last step, wait until standard input ends (a test moves\n"
		"        the workload meanwhile; the last step and the checksum then read\n"
		"        what went through the moves)\n",
		prog);
}

static void use(struct dev *d)
{
	WL_CHECK(&d->w, cuCtxSetCurrent(d->w.ctx));
}

int main(int argc, char **argv)
{
	unsigned long long n_dev = 2, weights_mib = 16, act_kib = 256, steps = 8, step_ms = 0;
	struct dev dv[MAX_DEV];
	const char *prog = "gv-multi";
	int hold = 0, verbose = 0;
	unsigned char *host = NULL;
	size_t act_bytes;
	void *h;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--verbose")) {
			verbose = 1;
			continue;
		}
		if (!strcmp(o, "--hold")) {
			hold = 1;
			continue;
		}
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(argv[0]);
			return 0;
		}
		if (!strcmp(o, "--devices"))
			n_dev = wl_parse_u64(prog, o, v, MAX_DEV);
		else if (!strcmp(o, "--weights-mib"))
			weights_mib = wl_parse_u64(prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--act-kib"))
			act_kib = wl_parse_u64(prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--steps"))
			steps = wl_parse_u64(prog, o, v, 1000000);
		else if (!strcmp(o, "--step-ms"))
			step_ms = wl_parse_u64(prog, o, v, 3600000);
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, o);
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (!n_dev || !weights_mib || !act_kib) {
		fprintf(stderr, "%s: --devices, --weights-mib and --act-kib must be at least 1\n",
			prog);
		return 2;
	}
	act_bytes = act_kib * 1024;
	host = malloc(act_bytes * n_dev);
	if (!host) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	memset(dv, 0, sizeof(dv));
	for (unsigned i = 0; i < n_dev; i++) {
		struct dev *d = &dv[i];
		struct gv_fill_args a, b;

		d->w.prog = prog;
		d->w.verbose = verbose;
		wl_setup(&d->w, (int)i); /* makes device i's context current */
		d->f_fill = wl_function(&d->w, "gv_fill");
		d->f_step = wl_function(&d->w, "gv_infer_step");
		WL_CHECK(&d->w, cuMemAlloc(&d->weights, weights_mib * MIB));
		WL_CHECK(&d->w, cuMemAlloc(&d->act[0], act_bytes));
		WL_CHECK(&d->w, cuMemAlloc(&d->act[1], act_bytes));
		WL_CHECK(&d->w, cuMemAlloc(&d->halo, act_bytes));
		a = (struct gv_fill_args){ (unsigned *)(uintptr_t)d->weights, weights_mib * MIB / 4,
					   100 + i };
		b = (struct gv_fill_args){ (unsigned *)(uintptr_t)d->act[0], act_bytes / 4,
					   200 + i };
		wl_launch_1d(&d->w, d->f_fill, a.n, &a);
		wl_launch_1d(&d->w, d->f_fill, b.n, &b);
		WL_CHECK(&d->w, cuStreamSynchronize(d->w.stream));
	}
	for (unsigned long long s = 0; s < steps; s++) {
		if (hold && s + 1 == steps) {
			char c;

			if (verbose)
				fprintf(stderr, "%s: holding before the last step\n", prog);
			for (;;) {
				ssize_t n = read(0, &c, 1);

				if (n > 0 || (n < 0 && errno == EINTR))
					continue;
				break;
			}
		}
		/* every device's activations to the next device's halo */
		for (unsigned i = 0; i < n_dev; i++) {
			use(&dv[i]);
			WL_CHECK(&dv[i].w,
				 cuMemcpyDtoH(host + i * act_bytes, dv[i].act[s % 2], act_bytes));
		}
		for (unsigned i = 0; i < n_dev; i++) {
			unsigned from = (unsigned)((i + n_dev - 1) % n_dev);

			use(&dv[i]);
			WL_CHECK(&dv[i].w,
				 cuMemcpyHtoD(dv[i].halo, host + from * act_bytes, act_bytes));
		}
		for (unsigned i = 0; i < n_dev; i++) {
			struct dev *d = &dv[i];
			struct gv_infer_step_args st;

			use(d);
			st.w = (const unsigned *)(uintptr_t)d->weights;
			st.act_in = (const unsigned *)(uintptr_t)d->act[s % 2];
			st.act_out = (unsigned *)(uintptr_t)d->act[(s + 1) % 2];
			st.kv = (const unsigned *)(uintptr_t)d->halo;
			st.w_n = weights_mib * MIB / 4;
			st.act_n = (unsigned)(act_bytes / 4);
			st.kv_n = st.act_n;
			st.reads = 8;
			st.step = (unsigned)s;
			wl_launch_1d(&d->w, d->f_step, st.act_n, &st);
		}
		for (unsigned i = 0; i < n_dev; i++) {
			use(&dv[i]);
			WL_CHECK(&dv[i].w, cuStreamSynchronize(dv[i].w.stream));
		}
		if (verbose)
			fprintf(stderr, "%s: step %llu on %llu devices\n", prog, s + 1, n_dev);
		if (step_ms)
			wl_sleep_ms(step_ms);
	}
	h = wl_hash_new();
	for (unsigned i = 0; i < n_dev; i++) {
		use(&dv[i]);
		wl_hash_device(&dv[i].w, h, dv[i].act[steps % 2], act_bytes);
		wl_hash_device(&dv[i].w, h, dv[i].halo, act_bytes);
	}
	printf("gv-multi: %llu steps on %llu devices, weights %llu MiB each\n", steps, n_dev,
	       weights_mib);
	wl_hash_print(h);
	for (unsigned i = 0; i < n_dev; i++) {
		struct dev *d = &dv[i];

		use(d);
		WL_CHECK(&d->w, cuMemFree(d->halo));
		WL_CHECK(&d->w, cuMemFree(d->act[0]));
		WL_CHECK(&d->w, cuMemFree(d->act[1]));
		WL_CHECK(&d->w, cuMemFree(d->weights));
		wl_teardown(&d->w);
	}
	free(host);
	return 0;
}

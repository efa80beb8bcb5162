/* gv-infer: an inference-shaped workload for the CUDA driver API.
 *
 * Memory behaviour, as a serving engine's: weights written once and then
 * only read; a KV cache that grows by one block every step; activations
 * rewritten every step. At the end the activations and the KV cache are
 * copied back and hashed: "checksum: 0x..." is the same for the same
 * options on any device (integer arithmetic only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gv_kernels.h"
#include "wl_common.h"

#define MIB (1024ull * 1024ull)

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--weights-mib N] [--kv-mib-per-step N] [--act-kib N] [--steps N]\n"
		"          [--step-ms N] [--reads N] [--device N] [--hold] [--verbose]\n"
		"defaults: 64 MiB weights, 1 MiB of KV cache per step, 256 KiB activations,\n"
		"          8 steps, no pause between steps, 16 weight reads per activation\n"
		"--hold: before the last step, wait until standard input ends (a test moves\n"
		"        the workload meanwhile; the last step and the checksum then read\n"
		"        what went through the moves)\n",
		prog);
}

int main(int argc, char **argv)
{
	struct wl w = { .prog = "gv-infer" };
	unsigned long long weights_mib = 64, kv_mib = 1, act_kib = 256, steps = 8, step_ms = 0;
	unsigned long long reads = 16, device = 0;
	int hold = 0;
	CUdeviceptr weights, act[2], *kv = NULL;
	CUfunction f_fill, f_step, f_kv;
	size_t act_bytes;
	void *h;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--verbose")) {
			w.verbose = 1;
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
		if (!strcmp(o, "--weights-mib"))
			weights_mib = wl_parse_u64(w.prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--kv-mib-per-step"))
			kv_mib = wl_parse_u64(w.prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--act-kib"))
			act_kib = wl_parse_u64(w.prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--steps"))
			steps = wl_parse_u64(w.prog, o, v, 1000000);
		else if (!strcmp(o, "--step-ms"))
			step_ms = wl_parse_u64(w.prog, o, v, 3600000);
		else if (!strcmp(o, "--reads"))
			reads = wl_parse_u64(w.prog, o, v, 4096);
		else if (!strcmp(o, "--device"))
			device = wl_parse_u64(w.prog, o, v, 1024);
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", w.prog, o);
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (!weights_mib || !act_kib) {
		fprintf(stderr, "%s: --weights-mib and --act-kib must be at least 1\n", w.prog);
		return 2;
	}
	act_bytes = act_kib * 1024;
	kv = calloc(steps ? steps : 1, sizeof(*kv));
	if (!kv) {
		fprintf(stderr, "%s: out of memory\n", w.prog);
		return 1;
	}
	wl_setup(&w, (int)device);
	f_fill = wl_function(&w, "gv_fill");
	f_step = wl_function(&w, "gv_infer_step");
	f_kv = wl_function(&w, "gv_kv_write");

	WL_CHECK(&w, cuMemAlloc(&weights, weights_mib * MIB));
	WL_CHECK(&w, cuMemAlloc(&act[0], act_bytes));
	WL_CHECK(&w, cuMemAlloc(&act[1], act_bytes));
	{
		struct gv_fill_args a = { (unsigned *)(uintptr_t)weights, weights_mib * MIB / 4,
					  1 };
		struct gv_fill_args b = { (unsigned *)(uintptr_t)act[0], act_bytes / 4, 2 };

		wl_launch_1d(&w, f_fill, a.n, &a);
		wl_launch_1d(&w, f_fill, b.n, &b);
	}
	for (unsigned long long s = 0; s < steps; s++) {
		CUdeviceptr in = act[s % 2], out = act[(s + 1) % 2];
		struct gv_infer_step_args st;

		if (hold && s + 1 == steps) {
			char c;

			if (w.verbose)
				fprintf(stderr, "%s: holding before the last step\n", w.prog);
			for (;;) {
				ssize_t n = read(0, &c, 1);

				if (n > 0 || (n < 0 && errno == EINTR))
					continue;
				break;
			}
		}

		if (kv_mib) {
			struct gv_kv_write_args k;

			WL_CHECK(&w, cuMemAlloc(&kv[s], kv_mib * MIB));
			k.kv = (unsigned *)(uintptr_t)kv[s];
			k.act = (const unsigned *)(uintptr_t)in;
			k.kv_n = kv_mib * MIB / 4;
			k.act_n = (unsigned)(act_bytes / 4);
			k.step = (unsigned)s;
			wl_launch_1d(&w, f_kv, k.kv_n, &k);
		}
		st.w = (const unsigned *)(uintptr_t)weights;
		st.act_in = (const unsigned *)(uintptr_t)in;
		st.act_out = (unsigned *)(uintptr_t)out;
		st.kv = kv_mib ? (const unsigned *)(uintptr_t)kv[s] : st.act_in;
		st.w_n = weights_mib * MIB / 4;
		st.act_n = (unsigned)(act_bytes / 4);
		st.kv_n = kv_mib ? (unsigned)(kv_mib * MIB / 4) : st.act_n;
		st.reads = (unsigned)reads;
		st.step = (unsigned)s;
		wl_launch_1d(&w, f_step, st.act_n, &st);
		WL_CHECK(&w, cuStreamSynchronize(w.stream));
		if (w.verbose)
			fprintf(stderr, "%s: step %llu: kv cache %llu MiB\n", w.prog, s + 1,
				(s + 1) * kv_mib);
		if (step_ms)
			wl_sleep_ms(step_ms);
	}
	h = wl_hash_new();
	wl_hash_device(&w, h, act[steps % 2], act_bytes);
	for (unsigned long long s = 0; s < steps && kv_mib; s++)
		wl_hash_device(&w, h, kv[s], kv_mib * MIB);
	printf("gv-infer: %llu steps, weights %llu MiB, kv cache %llu MiB\n", steps, weights_mib,
	       steps * kv_mib);
	wl_hash_print(h);
	for (unsigned long long s = 0; s < steps && kv_mib; s++)
		WL_CHECK(&w, cuMemFree(kv[s]));
	WL_CHECK(&w, cuMemFree(act[0]));
	WL_CHECK(&w, cuMemFree(act[1]));
	WL_CHECK(&w, cuMemFree(weights));
	wl_teardown(&w);
	free(kv);
	return 0;
}

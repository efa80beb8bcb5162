/* gv-train: a training-shaped workload for the CUDA driver API.
 *
 * Memory behaviour, as an optimizer step's: parameters, gradients and
 * optimizer state are all rewritten every step. At the end all three are
 * copied back and hashed: "checksum: 0x..." is the same for the same
 * options on any device (integer arithmetic only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv_kernels.h"
#include "wl_common.h"

#define MIB (1024ull * 1024ull)

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--params-mib N] [--steps N] [--step-ms N] [--device N] [--verbose]\n"
		"defaults: 16 MiB each of parameters, gradients and optimizer state, 8 steps,\n"
		"          no pause between steps\n",
		prog);
}

int main(int argc, char **argv)
{
	struct wl w = { .prog = "gv-train" };
	unsigned long long params_mib = 16, steps = 8, step_ms = 0, device = 0;
	CUdeviceptr p, g, m;
	CUfunction f_fill, f_step;
	size_t bytes;
	void *h;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--verbose")) {
			w.verbose = 1;
			continue;
		}
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(argv[0]);
			return 0;
		}
		if (!strcmp(o, "--params-mib"))
			params_mib = wl_parse_u64(w.prog, o, v, 1ull << 20);
		else if (!strcmp(o, "--steps"))
			steps = wl_parse_u64(w.prog, o, v, 1000000);
		else if (!strcmp(o, "--step-ms"))
			step_ms = wl_parse_u64(w.prog, o, v, 3600000);
		else if (!strcmp(o, "--device"))
			device = wl_parse_u64(w.prog, o, v, 1024);
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", w.prog, o);
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (!params_mib) {
		fprintf(stderr, "%s: --params-mib must be at least 1\n", w.prog);
		return 2;
	}
	bytes = params_mib * MIB;
	wl_setup(&w, (int)device);
	f_fill = wl_function(&w, "gv_fill");
	f_step = wl_function(&w, "gv_train_step");
	WL_CHECK(&w, cuMemAlloc(&p, bytes));
	WL_CHECK(&w, cuMemAlloc(&g, bytes));
	WL_CHECK(&w, cuMemAlloc(&m, bytes));
	{
		struct gv_fill_args a = { (unsigned *)(uintptr_t)p, bytes / 4, 3 };

		wl_launch_1d(&w, f_fill, a.n, &a);
		WL_CHECK(&w, cuMemsetD32Async(g, 0, bytes / 4, w.stream));
		WL_CHECK(&w, cuMemsetD32Async(m, 0, bytes / 4, w.stream));
	}
	for (unsigned long long s = 0; s < steps; s++) {
		struct gv_train_step_args a = { (unsigned *)(uintptr_t)p, (unsigned *)(uintptr_t)g,
						(unsigned *)(uintptr_t)m, bytes / 4, (unsigned)s };

		wl_launch_1d(&w, f_step, a.n, &a);
		WL_CHECK(&w, cuStreamSynchronize(w.stream));
		if (w.verbose)
			fprintf(stderr, "%s: step %llu\n", w.prog, s + 1);
		if (step_ms)
			wl_sleep_ms(step_ms);
	}
	h = wl_hash_new();
	wl_hash_device(&w, h, p, bytes);
	wl_hash_device(&w, h, g, bytes);
	wl_hash_device(&w, h, m, bytes);
	printf("gv-train: %llu steps, %llu MiB x 3 buffers\n", steps, params_mib);
	wl_hash_print(h);
	WL_CHECK(&w, cuMemFree(p));
	WL_CHECK(&w, cuMemFree(g));
	WL_CHECK(&w, cuMemFree(m));
	wl_teardown(&w);
	return 0;
}

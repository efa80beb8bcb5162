/* shim_overhead: what the shim adds to the hot driver calls, measured in one
 * run against the same simulator instance:
 *
 *   direct: libcudasim dlopen'ed on its own
 *   shim:   libgpuvisor-cuda dlopen'ed with GPUVISOR_REAL_LIBCUDA = the same
 *           libcudasim (already loaded, so both paths drive one simulator)
 *           and GPUVISOR_ACCT = a fresh accounting file (partition on)
 *
 * For each path: N cuMemAlloc/cuMemFree pairs, N cuCtxGetCurrent calls (a
 * plain trampoline) and, when a kernel module is given, N cuLaunchKernel
 * calls (each followed by nothing: launches are asynchronous; one
 * cuCtxSynchronize at the end is included in the time). Prints ns per call
 * and the shim/direct ratio.
 *
 * usage: shim_overhead LIBCUDASIM LIBSHIM [N] [MODULE FUNCTION]
 * FUNCTION must take struct gv_count_args (workloads/kernels: gv_count).
 */
#define _GNU_SOURCE 1
#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/acct.h"
#include "gv_kernels.h"

struct api {
	const char *label;
	CUresult (*init)(unsigned int);
	CUresult (*ctx_create)(CUcontext *, unsigned int, CUdevice);
	CUresult (*ctx_destroy)(CUcontext);
	CUresult (*ctx_current)(CUcontext *);
	CUresult (*ctx_sync)(void);
	CUresult (*mem_alloc)(CUdeviceptr *, size_t);
	CUresult (*mem_free)(CUdeviceptr);
	CUresult (*module_load)(CUmodule *, const char *);
	CUresult (*module_get_function)(CUfunction *, CUmodule, const char *);
	CUresult (*launch)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int,
			   unsigned int, unsigned int, unsigned int, CUstream, void **, void **);
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int load(struct api *a, const char *label, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	a->label = label;
#define SYM(field, name)                                              \
	do {                                                          \
		*(void **)&a->field = dlsym(h, name);                 \
		if (!a->field) {                                      \
			fprintf(stderr, "%s lacks %s\n", path, name); \
			return -1;                                    \
		}                                                     \
	} while (0)
	SYM(init, "cuInit");
	SYM(ctx_create, "cuCtxCreate_v2");
	SYM(ctx_destroy, "cuCtxDestroy_v2");
	SYM(ctx_current, "cuCtxGetCurrent");
	SYM(ctx_sync, "cuCtxSynchronize");
	SYM(mem_alloc, "cuMemAlloc_v2");
	SYM(mem_free, "cuMemFree_v2");
	SYM(module_load, "cuModuleLoad");
	SYM(module_get_function, "cuModuleGetFunction");
	SYM(launch, "cuLaunchKernel");
#undef SYM
	return 0;
}

struct result {
	double alloc_ns, current_ns, launch_ns;
};

static int run(const struct api *a, long n, const char *module, const char *function,
	       struct result *res)
{
	CUcontext ctx, cur;
	CUdeviceptr p;
	CUmodule mod;
	CUfunction fn;
	double t;

	if (a->init(0) != CUDA_SUCCESS || a->ctx_create(&ctx, 0, 0) != CUDA_SUCCESS) {
		fprintf(stderr, "%s: no context\n", a->label);
		return -1;
	}
	/* warm up: first calls resolve lazily and touch fresh pages */
	for (int i = 0; i < 1000; i++) {
		if (a->mem_alloc(&p, 4096) != CUDA_SUCCESS)
			return -1;
		a->mem_free(p);
	}
	t = now_ns();
	for (long i = 0; i < n; i++) {
		a->mem_alloc(&p, 4096);
		a->mem_free(p);
	}
	res->alloc_ns = (now_ns() - t) / (double)n;
	t = now_ns();
	for (long i = 0; i < n; i++)
		a->ctx_current(&cur);
	res->current_ns = (now_ns() - t) / (double)n;
	res->launch_ns = -1;
	if (module && a->module_load(&mod, module) == CUDA_SUCCESS &&
	    a->module_get_function(&fn, mod, function) == CUDA_SUCCESS &&
	    a->mem_alloc(&p, 4096) == CUDA_SUCCESS) {
		/* the sample kernel gv_count: one thread adds to a counter */
		struct gv_count_args ka = { .counter = (unsigned *)(uintptr_t)p, .add = 1 };
		void *args[] = { &ka };

		for (int i = 0; i < 100; i++)
			a->launch(fn, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL);
		a->ctx_sync();
		t = now_ns();
		for (long i = 0; i < n; i++)
			a->launch(fn, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL);
		a->ctx_sync();
		res->launch_ns = (now_ns() - t) / (double)n;
		a->mem_free(p);
	} else if (module) {
		fprintf(stderr, "%s: cannot load %s:%s, launches not timed\n", a->label, module,
			function);
	}
	a->ctx_destroy(ctx);
	return 0;
}

#define GV_REPS 5

static void keep_min(struct result *best, const struct result *r)
{
	if (r->alloc_ns < best->alloc_ns)
		best->alloc_ns = r->alloc_ns;
	if (r->current_ns < best->current_ns)
		best->current_ns = r->current_ns;
	if (r->launch_ns < best->launch_ns)
		best->launch_ns = r->launch_ns;
}

static void row(const char *what, double direct, double shim)
{
	if (direct < 0 || shim < 0)
		return;
	printf("%-28s %10.1f %10.1f %8.2fx %+9.1f\n", what, direct, shim, shim / direct,
	       shim - direct);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/gv-bench.XXXXXX", acct[64];
	struct gv_err err = { 0 };
	struct api direct, shim;
	struct result rd, rs;
	long n = argc > 3 ? atol(argv[3]) : 200000;
	const char *module = argc > 5 ? argv[4] : NULL, *function = argc > 5 ? argv[5] : NULL;
	int rc = 1;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: %s LIBCUDASIM LIBSHIM [N] [MODULE FUNCTION]\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(acct, sizeof(acct), "%s/instance.acct", dir);
	if (gv_acct_create(acct, 64ull << 30, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	setenv("GPUVISOR_SIM_SHM_DIR", dir, 1);
	setenv("GPUVISOR_REAL_LIBCUDA", argv[1], 1);
	setenv("GPUVISOR_ACCT", acct, 1);
	if (load(&direct, "direct", argv[1]) < 0 || load(&shim, "shim", argv[2]) < 0)
		goto out;
	/* alternate the two paths and keep each one's best of GV_REPS runs: on a
	 * shared machine the minimum is the least disturbed measurement */
	rd = (struct result){ 1e30, 1e30, 1e30 };
	rs = rd;
	for (int rep = 0; rep < GV_REPS; rep++) {
		struct result d, s;

		if (run(&direct, n, module, function, &d) < 0 ||
		    run(&shim, n, module, function, &s) < 0)
			goto out;
		keep_min(&rd, &d);
		keep_min(&rs, &s);
	}
	printf("shim overhead, %ld calls each, best of %d runs (ns per call)\n", n, GV_REPS);
	printf("%-28s %10s %10s %9s %9s\n", "call", "direct", "shim", "ratio", "delta");
	row("cuMemAlloc+cuMemFree", rd.alloc_ns, rs.alloc_ns);
	row("cuCtxGetCurrent (trampoline)", rd.current_ns, rs.current_ns);
	row("cuLaunchKernel", rd.launch_ns, rs.launch_ns);
	rc = 0;
out:
	unlink(acct);
	{
		/* the simulator keeps its device accounting file in dir */
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return rc;
}

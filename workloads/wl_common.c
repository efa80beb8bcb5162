#include "wl_common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

void wl_check(const struct wl *w, CUresult r, const char *what)
{
	const char *name = NULL, *text = NULL;

	if (r == CUDA_SUCCESS)
		return;
	cuGetErrorName(r, &name);
	cuGetErrorString(r, &text);
	fprintf(stderr, "%s: %s failed: %s (%d): %s\n", w->prog, what, name ? name : "?", (int)r,
		text ? text : "unknown error");
	exit(1);
}

unsigned long long wl_parse_u64(const char *prog, const char *opt, const char *val,
				unsigned long long max)
{
	char *end;
	unsigned long long v;

	if (!val || !*val || *val == '-') {
		fprintf(stderr, "%s: %s needs a non-negative integer\n", prog, opt);
		exit(2);
	}
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not an integer in 0..%llu\n", prog, opt, val, max);
		exit(2);
	}
	return v;
}

static int try_load(struct wl *w, const char *path)
{
	if (access(path, R_OK) != 0)
		return -1;
	if (cuModuleLoad(&w->mod, path) != CUDA_SUCCESS)
		return -1;
	snprintf(w->module_path, sizeof(w->module_path), "%s", path);
	return 0;
}

static void load_module(struct wl *w)
{
	const char *env = getenv("GV_KERNEL_MODULE");
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n;

	if (env && *env) {
		WL_CHECK(w, cuModuleLoad(&w->mod, env));
		snprintf(w->module_path, sizeof(w->module_path), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* <build>/bin/gv-infer -> <build>/lib/gv_kernels.* */
			snprintf(path, sizeof(path), "%s/../lib/gv_kernels.fatbin", exe);
			if (try_load(w, path) == 0)
				return;
			snprintf(path, sizeof(path), "%s/../lib/gv_kernels.so", exe);
			if (try_load(w, path) == 0)
				return;
		}
	}
	if (try_load(w, GV_LIBDIR "/gv_kernels.fatbin") == 0 ||
	    try_load(w, GV_LIBDIR "/gv_kernels.so") == 0)
		return;
	fprintf(stderr,
		"%s: no kernel module could be loaded (tried $GV_KERNEL_MODULE, "
		"gv_kernels.fatbin and gv_kernels.so next to the program and in %s)\n",
		w->prog, GV_LIBDIR);
	exit(1);
}

void wl_setup(struct wl *w, int ordinal)
{
	int count = 0;

	WL_CHECK(w, cuInit(0));
	WL_CHECK(w, cuDeviceGetCount(&count));
	if (ordinal >= count) {
		fprintf(stderr, "%s: device %d does not exist (%d visible)\n", w->prog, ordinal,
			count);
		exit(1);
	}
	WL_CHECK(w, cuDeviceGet(&w->dev, ordinal));
	WL_CHECK(w, cuDevicePrimaryCtxRetain(&w->ctx, w->dev));
	WL_CHECK(w, cuCtxSetCurrent(w->ctx));
	WL_CHECK(w, cuStreamCreate(&w->stream, CU_STREAM_NON_BLOCKING));
	load_module(w);
	if (w->verbose)
		fprintf(stderr, "%s: kernels from %s\n", w->prog, w->module_path);
}

void wl_teardown(struct wl *w)
{
	WL_CHECK(w, cuStreamSynchronize(w->stream));
	WL_CHECK(w, cuStreamDestroy(w->stream));
	WL_CHECK(w, cuModuleUnload(w->mod));
	WL_CHECK(w, cuDevicePrimaryCtxRelease(w->dev));
}

CUfunction wl_function(const struct wl *w, const char *name)
{
	CUfunction f;

	wl_check(w, cuModuleGetFunction(&f, w->mod, name), name);
	return f;
}

void wl_launch_1d(const struct wl *w, CUfunction f, unsigned long long n, void *args)
{
	const unsigned block = 256;
	unsigned long long grid = (n + block - 1) / block;
	void *params[1] = { args };

	if (!grid)
		return;
	if (grid > 2147483647ull) {
		fprintf(stderr, "%s: grid too large\n", w->prog);
		exit(1);
	}
	WL_CHECK(w,
		 cuLaunchKernel(f, (unsigned)grid, 1, 1, block, 1, 1, 0, w->stream, params, NULL));
}

void *wl_hash_new(void)
{
	XXH3_state_t *s = XXH3_createState();

	if (!s || XXH3_64bits_reset(s) != XXH_OK) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return s;
}

void wl_hash_device(const struct wl *w, void *state, CUdeviceptr p, size_t n)
{
	const size_t chunk = 4u << 20;
	unsigned char *buf = malloc(chunk);

	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", w->prog);
		exit(1);
	}
	WL_CHECK(w, cuStreamSynchronize(w->stream));
	for (size_t off = 0; off < n; off += chunk) {
		size_t len = n - off < chunk ? n - off : chunk;

		WL_CHECK(w, cuMemcpyDtoH(buf, p + off, len));
		XXH3_64bits_update(state, buf, len);
	}
	free(buf);
}

void wl_hash_print(void *state)
{
	printf("checksum: 0x%016llx\n", (unsigned long long)XXH3_64bits_digest(state));
	fflush(stdout);
	XXH3_freeState(state);
}

void wl_sleep_ms(unsigned long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Loading the real driver and resolving its entry points.
 *
 * This file is the only place in the shim that calls dlopen/dlsym (the real
 * driver here, and the migration plugin in migration mode). The real
 * driver is $GPUVISOR_REAL_LIBCUDA when set, else the first libcuda.so.1 in
 * the standard system library directories that is not the shim itself (same
 * device and inode as the file the shim was loaded from). It is opened with
 * RTLD_NOW | RTLD_LOCAL so its symbols never join the global scope, where
 * they would compete with the shim's. Every name of symbols.txt is resolved
 * here once; a name the driver lacks gets gv_shim_missing, which returns
 * CUDA_ERROR_NOT_FOUND whatever its arguments.
 */
#include "shim_internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpuvisor/preload.h"

struct gv_rev {
	const void *fn;
	int idx;
};

static struct gv_rev gv_rev[GV_SYM_COUNT];
static int gv_nrev;

static CUresult gv_shim_missing(void)
{
	return CUDA_ERROR_NOT_FOUND;
}

static void *gv_open_driver(void)
{
	static const struct gv_preload_real real = {
		.who = "gpuvisor-cuda",
		.env = "GPUVISOR_REAL_LIBCUDA",
		.soname = "libcuda.so.1",
		.self_is = "this shim, not a driver",
		.found = "real driver",
		.none = "every driver call returns CUDA_ERROR_NOT_FOUND",
		.self = (const void *)&gv_shim_resolve,
	};

	return gv_preload_open_real(&real);
}

static int gv_rev_cmp(const void *a, const void *b)
{
	const struct gv_rev *x = a, *y = b;
	bool hx, hy;

	if (x->fn != y->fn)
		return (uintptr_t)x->fn < (uintptr_t)y->fn ? -1 : 1;
	/* among aliases of one address, intercepted names first */
	hx = gv_shim_hook[x->idx] != NULL;
	hy = gv_shim_hook[y->idx] != NULL;
	if (hx != hy)
		return hx ? -1 : 1;
	return x->idx - y->idx;
}

void gv_shim_resolve(void)
{
	void *h = gv_open_driver();

	gv_nrev = 0;
	for (int i = 0; i < GV_SYM_COUNT; i++) {
		void *fn = h ? dlsym(h, gv_shim_names[i]) : NULL;

		if (fn) {
			gv_rev[gv_nrev].fn = fn;
			gv_rev[gv_nrev].idx = i;
			gv_nrev++;
		} else {
			fn = (void *)&gv_shim_missing;
		}
		/* readers in other threads load the slot without a lock */
		__atomic_store_n(&gv_shim_real[i], fn, __ATOMIC_RELEASE);
	}
	qsort(gv_rev, (size_t)gv_nrev, sizeof(gv_rev[0]), gv_rev_cmp);
	/* the handle stays open for the life of the process */
}

int gv_shim_lookup_real(const void *fn)
{
	size_t lo = 0, hi = (size_t)gv_nrev;

	/* lower bound: the first entry with this address is the preferred one */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)gv_rev[mid].fn < (uintptr_t)fn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < (size_t)gv_nrev && gv_rev[lo].fn == fn)
		return gv_rev[lo].idx;
	return -1;
}

void *gv_shim_resolve_plugin(const char *file, const char *entry)
{
	char self[PATH_MAX], path[2 * PATH_MAX], *slash;
	Dl_info info;
	void *h, *fn;

	if (!dladdr((void *)&gv_shim_resolve, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, self))
		return NULL;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s", self, file);
	if (access(path, F_OK) != 0)
		snprintf(path, sizeof(path), "%s/shim/%s", self, file);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		gv_shim_log(false, "migration plugin: %s", dlerror());
		return NULL;
	}
	fn = dlsym(h, entry);
	if (!fn)
		gv_shim_log(false, "migration plugin %s: no %s", path, entry);
	return fn;
}

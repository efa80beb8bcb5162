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
#include <sys/stat.h>
#include <unistd.h>

/* Directories searched for the real libcuda.so.1, in order: Debian/Ubuntu
 * multiarch, Fedora/RHEL, the generic ones, NVIDIA's container toolkit
 * mount point and WSL. */
static const char *const gv_driver_dirs[] = {
	"/usr/lib/x86_64-linux-gnu",
	"/lib/x86_64-linux-gnu",
	"/usr/lib64",
	"/lib64",
	"/usr/lib",
	"/lib",
	"/usr/local/nvidia/lib64",
	"/usr/lib/wsl/lib",
};

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

/* Identity of the shim's own file, to never load ourselves as the driver. */
static bool gv_self_id(struct stat *self)
{
	Dl_info info;

	if (!dladdr((void *)&gv_shim_resolve, &info) || !info.dli_fname)
		return false;
	return stat(info.dli_fname, self) == 0;
}

static bool gv_is_self(const char *path, const struct stat *self, bool have_self)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	return have_self && st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

static void *gv_open_driver(void)
{
	const char *env = getenv("GPUVISOR_REAL_LIBCUDA");
	struct stat self;
	bool have_self = gv_self_id(&self);
	char path[4096];
	void *h;

	if (env && *env) {
		if (gv_is_self(env, &self, have_self)) {
			gv_shim_log(false, "GPUVISOR_REAL_LIBCUDA=%s is this shim, not a driver",
				    env);
			return NULL;
		}
		h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			gv_shim_log(false, "cannot load GPUVISOR_REAL_LIBCUDA=%s: %s", env,
				    dlerror());
		return h;
	}
	for (size_t i = 0; i < sizeof(gv_driver_dirs) / sizeof(gv_driver_dirs[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/libcuda.so.1", gv_driver_dirs[i]);
		if (stat(path, &st) != 0 || gv_is_self(path, &self, have_self))
			continue;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h) {
			gv_shim_log(true, "real driver: %s", path);
			return h;
		}
		gv_shim_log(true, "cannot load %s: %s", path, dlerror());
	}
	gv_shim_log(false, "no real libcuda.so.1 found (set GPUVISOR_REAL_LIBCUDA); every "
			   "driver call returns CUDA_ERROR_NOT_FOUND");
	return NULL;
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

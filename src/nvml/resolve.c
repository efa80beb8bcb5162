/* Loading the real NVML and resolving its entry points.
 *
 * The only file of the interposer that calls dlopen/dlsym. The real NVML
 * is $GPUVISOR_REAL_LIBNVML when set (the daemon sets it: the driver's
 * libnvidia-ml on a GPU node, the simulator's NVML on a simulated one),
 * else the first libnvidia-ml.so.1 in the standard system directories that
 * is not the interposer itself (same device and inode). It is opened with
 * RTLD_NOW | RTLD_LOCAL so its symbols never join the global scope, where
 * they would compete with the interposer's. Every name of symbols.txt is
 * resolved once; a name the library lacks gets gv_nvml_missing, which
 * returns NVML_ERROR_FUNCTION_NOT_FOUND ("local version of NVML doesn't
 * implement this function"), what NVML itself answers for such a call.
 */
#include "nvml_shim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* As the CUDA shim's list (src/shim/resolve.c): Debian/Ubuntu multiarch,
 * Fedora/RHEL, generic, NVIDIA's container toolkit mount point, WSL. */
static const char *const gv_nvml_dirs[] = {
	"/usr/lib/x86_64-linux-gnu",
	"/lib/x86_64-linux-gnu",
	"/usr/lib64",
	"/lib64",
	"/usr/lib",
	"/lib",
	"/usr/local/nvidia/lib64",
	"/usr/lib/wsl/lib",
};

static gv_nvml_ret gv_nvml_missing(void)
{
	return GV_NVML_ERROR_FUNCTION_NOT_FOUND;
}

static bool gv_self_id(struct stat *self)
{
	Dl_info info;

	if (!dladdr((void *)&gv_nvml_resolve, &info) || !info.dli_fname)
		return false;
	return stat(info.dli_fname, self) == 0;
}

static bool gv_is_self(const char *path, const struct stat *self, bool have_self)
{
	struct stat st;

	if (!have_self || stat(path, &st) != 0)
		return false;
	return st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

static void *gv_open_nvml(void)
{
	const char *env = getenv("GPUVISOR_REAL_LIBNVML");
	struct stat self;
	bool have_self = gv_self_id(&self);
	char path[4096];
	void *h;

	if (env && *env) {
		if (gv_is_self(env, &self, have_self)) {
			gv_nvml_log(false, "GPUVISOR_REAL_LIBNVML=%s is this interposer, not NVML",
				    env);
			return NULL;
		}
		h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			gv_nvml_log(false, "cannot load GPUVISOR_REAL_LIBNVML=%s: %s", env,
				    dlerror());
		return h;
	}
	for (size_t i = 0; i < sizeof(gv_nvml_dirs) / sizeof(gv_nvml_dirs[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/libnvidia-ml.so.1", gv_nvml_dirs[i]);
		if (stat(path, &st) != 0 || gv_is_self(path, &self, have_self))
			continue;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h) {
			gv_nvml_log(true, "real NVML: %s", path);
			return h;
		}
		gv_nvml_log(true, "cannot load %s: %s", path, dlerror());
	}
	gv_nvml_log(false, "no real libnvidia-ml.so.1 found (set GPUVISOR_REAL_LIBNVML); "
			   "every NVML call returns NVML_ERROR_FUNCTION_NOT_FOUND");
	return NULL;
}

void gv_nvml_resolve(void)
{
	void *h = gv_open_nvml();

	for (int i = 0; i < GV_NVML_SYM_COUNT; i++) {
		void *fn = h ? dlsym(h, gv_nvml_names[i]) : NULL;

		if (!fn)
			fn = (void *)&gv_nvml_missing;
		/* readers in other threads load the slot without a lock */
		__atomic_store_n(&gv_nvml_real[i], fn, __ATOMIC_RELEASE);
	}
	/* the handle stays open for the life of the process */
}

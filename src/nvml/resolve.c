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

#include "gpuvisor/preload.h"

static gv_nvml_ret gv_nvml_missing(void)
{
	return GV_NVML_ERROR_FUNCTION_NOT_FOUND;
}

static void *gv_open_nvml(void)
{
	static const struct gv_preload_real real = {
		.who = "gpuvisor-nvml",
		.env = "GPUVISOR_REAL_LIBNVML",
		.soname = "libnvidia-ml.so.1",
		.self_is = "this interposer, not NVML",
		.found = "real NVML",
		.none = "every NVML call returns NVML_ERROR_FUNCTION_NOT_FOUND",
		.self = (const void *)&gv_nvml_resolve,
	};

	return gv_preload_open_real(&real);
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

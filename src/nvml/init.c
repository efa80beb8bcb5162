/* Interposer start-up: resolve the real NVML, open the instance's partition.
 *
 * Runs from the library constructor, or earlier from whichever entry point
 * is called first (a lazy trampoline stub or an intercepted function);
 * pthread_once makes it run exactly once.
 *
 * memory.c and instance.c call gv_nvml_init from their entry points (a
 * program may call one before this library's constructor ran), and
 * gv_nvml_init opens memory.c's partition: the one loop between files
 * here, the start-up's. */
#include "nvml_shim.h"

#include <pthread.h>

static pthread_once_t gv_once = PTHREAD_ONCE_INIT;

static void gv_init_once(void)
{
	gv_nvml_resolve();
	gv_nvml_part_init();
}

void gv_nvml_init(void)
{
	pthread_once(&gv_once, gv_init_once);
}

__attribute__((constructor)) static void gv_nvml_ctor(void)
{
	gv_nvml_init();
}

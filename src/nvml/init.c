/* Interposer start-up: resolve the real NVML, open the instance's partition.
 *
 * Runs from the library constructor, or earlier from whichever entry point
 * is called first (a lazy trampoline stub or an intercepted function);
 * pthread_once makes it run exactly once. */
#include "nvml_shim.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

void gv_nvml_log(bool debug, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (debug) {
		const char *d = getenv("GPUVISOR_SHIM_DEBUG");

		if (!d || !*d || (d[0] == '0' && !d[1]))
			return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gpuvisor-nvml: %s\n", msg);
}

/* The interposer's messages: to stderr, prefixed "gpuvisor-nvml: ";
 * debug ones only with $GPUVISOR_SHIM_DEBUG set (not empty, not "0"), as
 * the CUDA shim's. Its own file: every other file here logs, and the
 * start-up (init.c) calls most of them. */
#include "nvml_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

/* The shim's messages on stderr, in a file of its own: every part of the
 * shim reports through it, and it calls nothing of theirs (before, it lived
 * in init.c, which calls every part's start-up: a loop of files). */
#include "shim_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void gv_shim_log(bool debug, const char *fmt, ...)
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
	fprintf(stderr, "gpuvisor-cuda: %s\n", msg);
}

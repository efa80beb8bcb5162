/* The shim's messages on stderr, in a file of its own: every part of the
 * shim reports through it, and it calls nothing of theirs (before, it lived
 * in init.c, which calls every part's start-up: a loop of files). */
#include "shim_internal.h"

#include <stdarg.h>

#include "gpuvisor/preload.h"

void gv_shim_log(bool debug, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gv_preload_vlog("gpuvisor-cuda", debug, fmt, ap);
	va_end(ap);
}

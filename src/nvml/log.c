/* The interposer's messages: to stderr, prefixed "gpuvisor-nvml: ", as
 * the CUDA shim's (gv_preload_vlog). Its own file: every other file here
 * logs, and the start-up (init.c) calls most of them. */
#include "nvml_shim.h"

#include <stdarg.h>

#include "gpuvisor/preload.h"

void gv_nvml_log(bool debug, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gv_preload_vlog("gpuvisor-nvml", debug, fmt, ap);
	va_end(ap);
}

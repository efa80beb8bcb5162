/* Daemon log: one line per message on stderr, filtered by --log-level. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"

static enum gvd_log_level level = GVD_LOG_INFO;

void gvd_log_set_level(enum gvd_log_level lvl)
{
	level = lvl;
}

void gvd_log(enum gvd_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;

	if (lvl > level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf per line so concurrent threads do not interleave */
	fprintf(stderr, "gpuvisord: %s: %s\n", names[lvl], line);
}

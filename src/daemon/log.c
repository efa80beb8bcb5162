/* Daemon log: one line per message on stderr, filtered by --log-level. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"
#include "gpuvisor/nametab.h"

static enum gvd_log_level level = GVD_LOG_INFO;

/* --log-level takes "warn" for "warning" too; a line says "warning". */
GV_NAMETAB(gvd_log_level, enum gvd_log_level, "?", "unknown log level '%s'",
	   { GVD_LOG_ERROR, "error" }, { GVD_LOG_WARN, "warning" }, { GVD_LOG_INFO, "info" },
	   { GVD_LOG_DEBUG, "debug" }, { GVD_LOG_WARN, "warn" })

void gvd_log_set_level(enum gvd_log_level lvl)
{
	level = lvl;
}

void gvd_log(enum gvd_log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (lvl > level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf per line so concurrent threads do not interleave */
	fprintf(stderr, "gpuvisord: %s: %s\n", gvd_log_level_name(lvl), line);
}

/* Events: what happened to the node, recorded in the store (GET
 * /v1/events) and logged. Every module that changes something reports
 * here; this file calls nothing of theirs. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "daemon.h"

void gvd_event(struct gvd *d, const char *kind, int gpu, const char *inst, const char *fmt, ...)
{
	char msg[GV_STORE_MSG_MAX];
	struct gv_err err = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (gv_store_event_add(d->st, (int64_t)time(NULL), kind, gpu, inst, msg, NULL, &err))
		gvd_log(GVD_LOG_ERROR, "cannot record event %s: %s", kind, err.msg);
	gvd_log(GVD_LOG_INFO, "%s: %s", kind, msg);
}

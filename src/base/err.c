#include "gpuvisor/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gv_err_set(struct gv_err *err, int code, const char *fmt, ...)
{
	if (code < 0)
		code = -code;
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

void gv_err_prefix(struct gv_err *err, const char *fmt, ...)
{
	char joined[GV_ERR_MSG_MAX];
	size_t n;
	int w;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	w = vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	if (n < sizeof(joined))
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, ": %s", err->msg);
	memcpy(err->msg, joined, sizeof(err->msg));
}

void gv_err_clear(struct gv_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

/* gv_err_: the one way a failure carries its message (include/gpuvisor/err.h). */
#include "gpuvisor/err.h"

#include <errno.h>
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

__attribute__((format(printf, 3, 0))) static int err_vsys(struct gv_err *err, int code,
							  const char *fmt, va_list ap)
{
	size_t n;
	int w;

	if (code < 0)
		code = -code;
	if (code == 0)
		code = EIO;
	if (err) {
		err->code = code;
		w = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		n = w < 0 ? 0 : (size_t)w;
		if (n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
	}
	return -code;
}

int gv_err_sys(struct gv_err *err, const char *fmt, ...)
{
	int code = errno, rc;
	va_list ap;

	va_start(ap, fmt);
	rc = err_vsys(err, code, fmt, ap);
	va_end(ap);
	errno = code;
	return rc;
}

int gv_err_sys_code(struct gv_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vsys(err, code, fmt, ap);
	va_end(ap);
	return rc;
}

int gv_err_nomem(struct gv_err *err)
{
	return gv_err_set(err, ENOMEM, "out of memory");
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

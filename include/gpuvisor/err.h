/* gpuvisor: error reporting shared by every module.
 *
 * Contract: functions return 0 on success or a negative errno; when they are
 * given a struct gv_err they also write a human-readable reason at the place
 * where the failure happened. Callers print err->msg as-is, so messages are
 * complete sentences without a trailing newline.
 */
#ifndef GPUVISOR_ERR_H
#define GPUVISOR_ERR_H

#include <stddef.h>

#define GV_ERR_MSG_MAX 512

struct gv_err {
	int code;		  /* positive errno, 0 when no error */
	char msg[GV_ERR_MSG_MAX]; /* reason; empty when no error */
};

/* Records code and a printf-style reason in err (which may be NULL) and
 * returns -code, so that `return gv_err_set(err, EINVAL, "...")` works. */
int gv_err_set(struct gv_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records "<message>: <strerror(errno)>" with errno as the code and returns
 * -errno, for a failed system call: `return gv_err_sys(err, "cannot open %s",
 * path)`. errno is read before anything can change it; 0 counts as EIO. */
int gv_err_sys(struct gv_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a code already taken out of errno or returned negated (the
 * sign does not matter); 0 counts as EIO. */
int gv_err_sys_code(struct gv_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records "out of memory" (ENOMEM) and returns -ENOMEM. */
int gv_err_nomem(struct gv_err *err);

/* Prepends "context: " to an existing message (no-op when err is NULL). */
void gv_err_prefix(struct gv_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void gv_err_clear(struct gv_err *err);

#endif

/* gpuvisor: allocation wrappers that record their failure (gvbase), in the
 * manner of libnvidia-container's xfuncs.
 *
 * Contract: each behaves as the libc call it is named after; on failure it
 * writes "out of memory" (code ENOMEM) into err, which may be NULL, and
 * returns NULL, so the caller only passes the error on:
 *
 *	p = gv_xmalloc(err, n);
 *	if (!p)
 *		return -ENOMEM;
 *
 * A zero size asks for one byte, so NULL always means a failure. Where the
 * message must say more than "out of memory", the caller sets its own.
 */
#ifndef GPUVISOR_XFUNCS_H
#define GPUVISOR_XFUNCS_H

#include <stddef.h>

#include "gpuvisor/err.h"

void *gv_xmalloc(struct gv_err *err, size_t size);
void *gv_xcalloc(struct gv_err *err, size_t nmemb, size_t size);
/* p is left as it was on failure (as realloc does). */
void *gv_xrealloc(struct gv_err *err, void *p, size_t size);
char *gv_xstrdup(struct gv_err *err, const char *s);

#endif

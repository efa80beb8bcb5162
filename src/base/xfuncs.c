/* gv_x*: allocations that record "out of memory" in the caller's err where they
 * fail (include/gpuvisor/xfuncs.h). */
#include "gpuvisor/xfuncs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *gv_xmalloc(struct gv_err *err, size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		gv_err_nomem(err);
	return p;
}

void *gv_xcalloc(struct gv_err *err, size_t nmemb, size_t size)
{
	void *p = nmemb && size ? calloc(nmemb, size) : calloc(1, 1);

	if (!p)
		gv_err_nomem(err);
	return p;
}

void *gv_xrealloc(struct gv_err *err, void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		gv_err_nomem(err);
	return q;
}

char *gv_xstrdup(struct gv_err *err, const char *s)
{
	char *p = strdup(s);

	if (!p)
		gv_err_nomem(err);
	return p;
}

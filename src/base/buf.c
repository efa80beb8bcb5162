/* gv_buf: a growing byte buffer, always NUL-terminated (include/gpuvisor/buf.h). */
#include "gpuvisor/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: small enough for a short answer, and doubling from
 * it reaches a large one in a few steps. */
#define GV_BUF_MIN 256

void gv_buf_init(struct gv_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void gv_buf_free(struct gv_buf *b)
{
	free(b->data);
	gv_buf_init(b);
}

int gv_buf_reserve(struct gv_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - 1 - b->len)
		return -EOVERFLOW;
	need = b->len + extra + 1;
	if (b->data && need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : GV_BUF_MIN;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int gv_buf_append(struct gv_buf *b, const void *p, size_t n)
{
	int rc = gv_buf_reserve(b, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int gv_buf_appends(struct gv_buf *b, const char *s)
{
	return gv_buf_append(b, s, strlen(s));
}

int gv_buf_vappendf(struct gv_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n, rc;

	/* try the room there is; on a short write, grow to the exact size */
	va_copy(again, ap);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
	if (n < 0) {
		va_end(again);
		if (b->data)
			b->data[b->len] = '\0';
		return -EINVAL;
	}
	if (b->data && (size_t)n < b->cap - b->len) {
		va_end(again);
		b->len += (size_t)n;
		return 0;
	}
	rc = gv_buf_reserve(b, (size_t)n);
	if (rc < 0) {
		va_end(again);
		if (b->data)
			b->data[b->len] = '\0';
		return rc;
	}
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, again);
	va_end(again);
	b->len += (size_t)n;
	return 0;
}

int gv_buf_appendf(struct gv_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gv_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int gv_buf_putf(struct gv_buf *b, int *rc, const char *fmt, ...)
{
	va_list ap;

	if (*rc < 0)
		return *rc;
	va_start(ap, fmt);
	*rc = gv_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return *rc;
}

void gv_buf_consume(struct gv_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

char *gv_buf_steal(struct gv_buf *b)
{
	char *s = b->data;

	if (!s)
		return strdup("");
	gv_buf_init(b);
	return s;
}

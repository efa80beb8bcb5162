/* gpuvisor: a growable byte buffer (gvbase), for building strings and
 * collecting bytes read from a socket or a file. One type instead of a
 * private struct and a hand-grown realloc loop in every module.
 *
 * Contract: a zeroed struct gv_buf (GV_BUF_INIT, or gv_buf_init) is an empty
 * buffer with no storage. data holds len bytes; after every gv_buf_ call
 * that succeeds and allocated, data[len] is '\0', so a buffer built from text
 * is a C string. A caller may write into the spare room that gv_buf_reserve
 * made (data + len, up to cap - len - 1 bytes) and add what it wrote to len
 * itself; it terminates the string then if it needs one. Functions return 0
 * or -ENOMEM (-EOVERFLOW where a size does not fit a size_t, -EINVAL for a
 * format vsnprintf refuses); on failure the buffer keeps what it held before
 * the call.
 */
#ifndef GPUVISOR_BUF_H
#define GPUVISOR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct gv_buf {
	char *data; /* NULL until something is reserved or appended */
	size_t len; /* bytes held */
	size_t cap; /* bytes allocated, always > len once data is set */
};

#define GV_BUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}

void gv_buf_init(struct gv_buf *b);
/* Releases the storage and leaves b empty (and reusable). */
void gv_buf_free(struct gv_buf *b);
/* Makes room for at least extra more bytes and the terminating '\0'. */
int gv_buf_reserve(struct gv_buf *b, size_t extra);
int gv_buf_append(struct gv_buf *b, const void *p, size_t n);
int gv_buf_appends(struct gv_buf *b, const char *s);
/* printf-style append. */
int gv_buf_appendf(struct gv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gv_buf_vappendf(struct gv_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* The same for building a text without a check at every step: appends
 * unless *rc already holds a failure, and keeps the first failure in *rc
 * (start it at 0); returns *rc. */
int gv_buf_putf(struct gv_buf *b, int *rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drops the first n bytes (all of them when n >= len), moving the rest to the
 * front: what a reader does with a line it has taken. */
void gv_buf_consume(struct gv_buf *b, size_t n);
/* Hands the bytes over as a string the caller frees, and leaves b empty. An
 * empty buffer gives an allocated "", so NULL means out of memory only. */
char *gv_buf_steal(struct gv_buf *b);

#endif

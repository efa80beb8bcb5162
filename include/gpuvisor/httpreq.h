/* gpuvisor: the byte-level checks of an HTTP request as gpuvisord sees it
 * (docs/api.md, "Limits"): the raw request target split into decoded path
 * segments and query arguments, identifiers, bearer tokens, UTF-8.
 *
 * Contract: every function looks only at the bytes it is given (lengths,
 * never a terminator inside them), so a NUL byte, a control character or
 * invalid UTF-8 anywhere is refused before anything formats, compares or
 * looks up the value. Nothing here allocates. */
#ifndef GPUVISOR_HTTPREQ_H
#define GPUVISOR_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuvisor/err.h"

#define GV_HTTP_TARGET_MAX 4096 /* raw request target (path?query), bytes: longer is 414 */
#define GV_HTTP_MAX_SEGS 6	/* path segments; deeper is 404 */
#define GV_HTTP_SEG_MAX 128	/* one decoded path segment, bytes */
#define GV_HTTP_MAX_ARGS 16	/* query arguments */
#define GV_HTTP_KEY_MAX 32	/* query key: [a-z0-9_], bytes */
#define GV_HTTP_VALUE_MAX 128	/* decoded query value, bytes */
#define GV_HTTP_ID_MAX 64	/* an id or GPU reference in a path: [A-Za-z0-9._-] */
#define GV_HTTP_TOKEN_MAX 128	/* bearer token: visible ASCII */

struct gv_http_target {
	/* decoded segments and arguments, each NUL-terminated (they hold no
	 * NUL of their own: refused) */
	char buf[GV_HTTP_TARGET_MAX + GV_HTTP_MAX_ARGS + 2];
	const char *seg[GV_HTTP_MAX_SEGS];
	int n_seg;
	struct {
		const char *key;
		const char *value; /* NULL: the argument had no '=' */
	} arg[GV_HTTP_MAX_ARGS];
	int n_arg;
};

/* Splits and decodes the raw target (len bytes, as sent: "/v1/x?a=1").
 * Returns 0, or with err set: -E2BIG over GV_HTTP_TARGET_MAX (HTTP 414);
 * -ENOENT a path that is not clean (no leading '/', an empty segment,
 * deeper than GV_HTTP_MAX_SEGS: 404); -EINVAL a bad byte (NUL or other
 * control character, raw or %-encoded; bad %-escape; invalid UTF-8), a
 * segment, key or value over its limit, a key outside [a-z0-9_], more than
 * GV_HTTP_MAX_ARGS arguments (400). A trailing '/' is tolerated; '+' in the
 * query is a space. */
int gv_http_target_parse(const char *raw, size_t len, struct gv_http_target *t, struct gv_err *err);

/* n bytes of s are well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool gv_utf8_valid(const char *s, size_t n);
/* Replaces in place with '?' every byte that is not part of well-formed
 * UTF-8 (a sequence cut by a bounded copy included): the result can go into
 * a JSON string. */
void gv_utf8_sanitize(char *s);
/* An id or GPU reference from a path: 1..GV_HTTP_ID_MAX bytes of
 * [A-Za-z0-9._-]. */
bool gv_http_id_valid(const char *s, size_t n);
/* A bearer token as sent: 1..GV_HTTP_TOKEN_MAX bytes of visible ASCII. */
bool gv_http_token_valid(const char *s, size_t n);

#endif

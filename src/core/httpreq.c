/* Byte-level checks of HTTP requests (include/gpuvisor/httpreq.h). */
#include "gpuvisor/httpreq.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 when
 * the bytes there are not one (RFC 3629 table 3). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing past U+10FFFF */
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool gv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		l = utf8_seq(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

void gv_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0, l;

	while (i < n) {
		l = utf8_seq(p + i, n - i);
		if (!l) {
			p[i++] = '?';
			continue;
		}
		i += l;
	}
}

bool gv_http_id_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > GV_HTTP_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

bool gv_http_token_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > GV_HTTP_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes raw[0..n) (one segment, key or value) to out, which has room for
 * n + 1 bytes; *out_len gets the decoded length. plus: '+' is a space. -1 on
 * a bad escape or a control byte (raw or decoded), -2 on invalid UTF-8. */
static int decode(const char *raw, size_t n, bool plus, char *out, size_t *out_len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval(raw[i + 1]);
			l = hexval(raw[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (unsigned char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*out_len = o;
	return gv_utf8_valid(out, o) ? 0 : -2;
}

static int bad_bytes(int rc, const char *what, int index, struct gv_err *err)
{
	if (rc == -2)
		return gv_err_set(err, EINVAL, "%s %d of the request target is not valid UTF-8",
				  what, index);
	return gv_err_set(err, EINVAL,
			  "%s %d of the request target has a control character (NUL included) "
			  "or a bad %%-escape",
			  what, index);
}

int gv_http_target_parse(const char *raw, size_t len, struct gv_http_target *t, struct gv_err *err)
{
	const char *q, *end = raw + len, *p, *s;
	size_t path_len, o = 0, dl;
	int rc;

	t->n_seg = 0;
	t->n_arg = 0;
	t->buf[0] = '\0';
	if (len > GV_HTTP_TARGET_MAX)
		return gv_err_set(err, E2BIG, "request target is over the limit of %d bytes",
				  GV_HTTP_TARGET_MAX);
	q = memchr(raw, '?', len);
	path_len = q ? (size_t)(q - raw) : len;
	if (path_len == 0 || raw[0] != '/')
		return gv_err_set(err, ENOENT, "no such resource");
	/* a trailing '/' is tolerated ("/v1/gpus/"), but "/" alone has no segment */
	if (path_len > 1 && raw[path_len - 1] == '/')
		path_len--;
	p = raw + 1;
	if (path_len > 1) {
		for (;;) {
			s = memchr(p, '/', (size_t)(raw + path_len - p));
			if (!s)
				s = raw + path_len;
			if (s == p || t->n_seg == GV_HTTP_MAX_SEGS)
				return gv_err_set(err, ENOENT, "no such resource");
			rc = decode(p, (size_t)(s - p), false, t->buf + o, &dl);
			if (rc)
				return bad_bytes(rc, "path segment", t->n_seg + 1, err);
			if (dl > GV_HTTP_SEG_MAX)
				return gv_err_set(err, EINVAL,
						  "path segment %d is over the limit of %d bytes",
						  t->n_seg + 1, GV_HTTP_SEG_MAX);
			t->seg[t->n_seg++] = t->buf + o;
			o += dl + 1;
			if (s == raw + path_len)
				break;
			p = s + 1;
		}
	}
	if (!q)
		return 0;
	for (p = q + 1; p < end; p = s + 1) {
		const char *eq;
		char *key;
		size_t kl, i;

		s = memchr(p, '&', (size_t)(end - p));
		if (!s)
			s = end;
		if (s == p)
			continue; /* "a=1&&b=2", a trailing '&' */
		if (t->n_arg == GV_HTTP_MAX_ARGS)
			return gv_err_set(err, EINVAL, "more than %d query arguments",
					  GV_HTTP_MAX_ARGS);
		eq = memchr(p, '=', (size_t)(s - p));
		key = t->buf + o;
		rc = decode(p, (size_t)((eq ? eq : s) - p), true, key, &kl);
		if (rc)
			return bad_bytes(rc, "query key", t->n_arg + 1, err);
		if (kl == 0 || kl > GV_HTTP_KEY_MAX)
			return gv_err_set(err, EINVAL, "query key %d is empty or over %d bytes",
					  t->n_arg + 1, GV_HTTP_KEY_MAX);
		for (i = 0; i < kl; i++)
			if (!((key[i] >= 'a' && key[i] <= 'z') ||
			      (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
				return gv_err_set(err, EINVAL,
						  "query key %d has a byte outside [a-z0-9_]",
						  t->n_arg + 1);
		o += kl + 1;
		t->arg[t->n_arg].key = key;
		t->arg[t->n_arg].value = NULL;
		if (eq) {
			char *val = t->buf + o;

			rc = decode(eq + 1, (size_t)(s - eq - 1), true, val, &dl);
			if (rc)
				return bad_bytes(rc, "query value", t->n_arg + 1, err);
			if (dl > GV_HTTP_VALUE_MAX)
				return gv_err_set(err, EINVAL,
						  "query value %d is over the limit of %d bytes",
						  t->n_arg + 1, GV_HTTP_VALUE_MAX);
			t->arg[t->n_arg].value = val;
			o += dl + 1;
		}
		t->n_arg++;
		if (s == end)
			break;
	}
	return 0;
}

/* gv_jf_: field getters of the strict JSON parsers (jsonfield_internal.h). */
#include "jsonfield_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gv_jf_load(const char *body, size_t len, size_t max, json_t **out, struct gv_err *err)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	if (len > max)
		return gv_err_set(err, E2BIG, "request body is %zu bytes; the limit is %zu", len,
				  max);
	if (!body || len == 0)
		return gv_err_set(err, EINVAL, "request body is empty; a JSON object is expected");
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root)
		return gv_err_set(err, EINVAL, "malformed JSON at line %d column %d: %s", jerr.line,
				  jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return gv_err_set(err, EINVAL, "request body must be a JSON object");
	}
	*out = root;
	return 0;
}

/* The first key of o not in allowed (NULL-terminated), or NULL. */
static const char *first_unknown(json_t *o, const char *const *allowed)
{
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(o, key, val) {
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return key;
	}
	return NULL;
}

int gv_jf_only(json_t *o, const char *const *allowed, struct gv_err *err)
{
	const char *key = first_unknown(o, allowed);

	if (key)
		return gv_err_set(err, EINVAL, "unknown field '%.64s'", key);
	return 0;
}

/* The member at key, or NULL when absent (or null under GV_JF_NULL_ABSENT);
 * *ret is the refusal of an absent required member, else 0. */
static json_t *member(json_t *o, const char *key, unsigned flags, int *ret, struct gv_err *err)
{
	json_t *v = json_object_get(o, key);

	*ret = 0;
	if (v && (!(flags & GV_JF_NULL_ABSENT) || !json_is_null(v)))
		return v;
	if (flags & GV_JF_REQUIRED)
		*ret = gv_err_set(err, EINVAL, "field '%s' is required", key);
	return NULL;
}

int gv_jf_text(json_t *o, const char *key, unsigned flags, char *dst, size_t cap,
	       struct gv_err *err)
{
	const bool brief = flags & GV_JF_BRIEF;
	const unsigned char low = (flags & GV_JF_SPACES) ? 0x20 : 0x21;
	const char *s;
	json_t *v;
	size_t n, i;
	int ret;

	dst[0] = '\0';
	v = member(o, key, flags, &ret, err);
	if (!v)
		return ret;
	if (!json_is_string(v))
		return gv_err_set(err, EINVAL, "field '%s' must be a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (brief && (n == 0 || n >= cap))
		return gv_err_set(err, EINVAL, "field '%s' must have 1 to %zu characters", key,
				  cap - 1);
	if (n == 0)
		return gv_err_set(err, EINVAL, "field '%s' must not be empty", key);
	if (n >= cap)
		return gv_err_set(err, EINVAL, "field '%s' is longer than %zu characters", key,
				  cap - 1);
	if (flags & GV_JF_ASCII)
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < low || (unsigned char)s[i] > 0x7e)
				return gv_err_set(err, EINVAL,
						  brief ? "field '%s' must be printable ASCII"
							: "field '%s' must be printable ASCII "
							  "without spaces",
						  key);
	memcpy(dst, s, n + 1);
	return 0;
}

int gv_jf_bool(json_t *o, const char *key, unsigned flags, bool *out, struct gv_err *err)
{
	json_t *v;
	int ret;

	v = member(o, key, flags, &ret, err);
	if (!v)
		return ret;
	if (!json_is_boolean(v))
		return gv_err_set(err, EINVAL, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* 1 with the integer member in *x, 0 when absent (and not required), or
 * the refusal. *present (may be NULL) is cleared. */
static int integer(json_t *o, const char *key, unsigned flags, json_int_t *x, bool *present,
		   struct gv_err *err)
{
	json_t *v;
	int ret;

	if (present)
		*present = false;
	v = member(o, key, flags, &ret, err);
	if (!v)
		return ret;
	if (!json_is_integer(v))
		return gv_err_set(err, EINVAL, "field '%s' must be an integer", key);
	*x = json_integer_value(v);
	return 1;
}

int gv_jf_uint(json_t *o, const char *key, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out,
	       bool *present, struct gv_err *err)
{
	json_int_t x = 0;
	int ret = integer(o, key, flags, &x, present, err);

	if (ret <= 0)
		return ret;
	if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
		return gv_err_set(err, EINVAL, "field '%s' must be between %llu and %llu", key,
				  (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)x;
	if (present)
		*present = true;
	return 0;
}

int gv_jf_int(json_t *o, const char *key, unsigned flags, long long lo, long long hi,
	      long long *out, bool *present, struct gv_err *err)
{
	json_int_t x = 0;
	int ret = integer(o, key, flags, &x, present, err);

	if (ret <= 0)
		return ret;
	if (x < lo || x > hi)
		return gv_err_set(err, EINVAL, "field '%s' must be between %lld and %lld", key, lo,
				  hi);
	*out = x;
	if (present)
		*present = true;
	return 0;
}

int gv_jf_text_list(json_t *root, const char *key, bool one_ok, int max, char *ids, size_t cap,
		    int *n, struct gv_err *err)
{
	json_t *v = json_object_get(root, key), *e, *tmp = NULL;
	size_t i;
	int ret = 0, k;

	*n = 0;
	for (k = 0; k < max; k++)
		ids[(size_t)k * cap] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (one_ok && json_is_string(v)) {
		ret = gv_jf_text(root, key, GV_JF_ASCII, ids, cap, err);
		if (!ret)
			*n = 1;
		return ret;
	}
	if (!json_is_array(v))
		return gv_err_set(err, EINVAL,
				  one_ok ? "field '%s' must be an instance id or an "
					   "array of them"
					 : "field '%s' must be an array of instance ids",
				  key);
	if (json_array_size(v) == 0 || json_array_size(v) > (size_t)max)
		return gv_err_set(err, EINVAL, "field '%s' must name 1 to %d instances", key, max);
	tmp = json_object();
	if (!tmp)
		return gv_err_nomem(err);
	json_array_foreach(v, i, e) {
		/* one element as the member key: the getter's checks and words */
		json_object_set(tmp, key, e);
		ret = gv_jf_text(tmp, key, GV_JF_REQUIRED | GV_JF_ASCII, ids + i * cap, cap, err);
		for (k = 0; !ret && k < (int)i; k++)
			if (!strcmp(ids + (size_t)k * cap, ids + i * cap))
				ret = gv_err_set(err, EINVAL, "field '%s' names %s twice", key,
						 ids + i * cap);
		if (ret)
			break;
	}
	json_decref(tmp);
	if (ret) {
		for (k = 0; k < max; k++)
			ids[(size_t)k * cap] = '\0';
		return ret;
	}
	*n = (int)json_array_size(v);
	return 0;
}

/* ---- members of a document file ---------------------------------------- */

int gv_jf_at_fail(const struct gv_jf_at *at, const char *key, struct gv_err *err, const char *fmt,
		  ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at->style == GV_JF_QUOTED)
		return gv_err_set(err, EINVAL, "%s: \"%s\" %s", at->where, key, msg);
	return gv_err_set(err, EINVAL, "%s%s%s: %s", at->where, *at->where ? "." : "", key, msg);
}

int gv_jf_at_only(json_t *o, const char *const *allowed, const struct gv_jf_at *at,
		  struct gv_err *err)
{
	const char *key = first_unknown(o, allowed);

	if (!key)
		return 0;
	if (at->style == GV_JF_QUOTED)
		return gv_err_set(err, EINVAL, "%s: unknown key \"%s\"", at->where, key);
	return gv_jf_at_fail(at, key, err, "unknown field");
}

int gv_jf_at_member(json_t *o, const char *key, json_type type, bool required,
		    const struct gv_jf_at *at, json_t **out, struct gv_err *err)
{
	json_t *v = json_object_get(o, key);
	bool ok;

	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		if (at->style == GV_JF_QUOTED)
			return gv_err_set(err, EINVAL, "%s: missing \"%s\"", at->where, key);
		return gv_jf_at_fail(at, key, err, "missing (required)");
	}
	switch (type) {
	case JSON_STRING:
		ok = json_is_string(v);
		break;
	case JSON_INTEGER:
		ok = json_is_integer(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		ok = json_is_boolean(v);
		break;
	case JSON_ARRAY:
		ok = json_is_array(v);
		break;
	case JSON_OBJECT:
		ok = json_is_object(v);
		break;
	default:
		return gv_err_set(err, EINVAL, "%s: no getter for the type of \"%s\"", at->where,
				  key);
	}
	if (!ok)
		return gv_jf_at_fail(at, key, err, "%s",
				     type == JSON_STRING    ? "must be a string"
				     : type == JSON_INTEGER ? "must be an integer"
				     : type == JSON_ARRAY   ? "must be an array"
				     : type == JSON_OBJECT  ? "must be an object"
							    : "must be true or false");
	*out = v;
	return 0;
}

int gv_jf_at_str(json_t *o, const char *key, bool required, const char **out,
		 const struct gv_jf_at *at, struct gv_err *err)
{
	json_t *v;
	int ret = gv_jf_at_member(o, key, JSON_STRING, required, at, &v, err);

	*out = v ? json_string_value(v) : NULL;
	return ret;
}

int gv_jf_at_int(json_t *o, const char *key, bool required, long long lo, long long hi,
		 long long *out, bool *present, const struct gv_jf_at *at, struct gv_err *err)
{
	json_t *v;
	long long x;
	int ret;

	if (present)
		*present = false;
	ret = gv_jf_at_member(o, key, JSON_INTEGER, required, at, &v, err);
	if (ret < 0 || !v)
		return ret;
	if (present)
		*present = true;
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		if (at->style == GV_JF_QUOTED)
			return gv_jf_at_fail(at, key, err, "is %lld, must be %lld..%lld", x, lo,
					     hi);
		return gv_jf_at_fail(at, key, err, "%lld is out of range %lld..%lld", x, lo, hi);
	}
	*out = x;
	return 0;
}

int gv_jf_at_bool(json_t *o, const char *key, bool *out, const struct gv_jf_at *at,
		  struct gv_err *err)
{
	json_t *v;
	int ret = gv_jf_at_member(o, key, JSON_TRUE, false, at, &v, err);

	if (ret < 0 || !v)
		return ret;
	*out = json_is_true(v);
	return 0;
}

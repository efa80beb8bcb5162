/* gv_migreq_: the body of POST /v1/migrations (see include/gpuvisor/migreq.h). */
#include "gpuvisor/migreq.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "gpuvisor/apireq.h"

static const char *const fields[] = { "instance", "to", "mode", "downtime_limit_ms",
				      "max_rounds", "auto_converge", "inject", NULL };

/* A string member of 1..cap-1 printable ASCII characters; absent or null
 * leaves dst empty unless required. */
static int get_text(json_t *o, const char *key, bool required, char *dst, size_t cap,
		    struct gv_err *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n, i;

	dst[0] = '\0';
	if (!v || json_is_null(v))
		return required ? gv_err_set(err, EINVAL, "field '%s' is required", key) : 0;
	if (!json_is_string(v))
		return gv_err_set(err, EINVAL, "field '%s' must be a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return gv_err_set(err, EINVAL, "field '%s' must not be empty", key);
	if (n >= cap)
		return gv_err_set(err, EINVAL, "field '%s' is longer than %zu characters", key,
				  cap - 1);
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return gv_err_set(err, EINVAL,
					  "field '%s' must be printable ASCII without spaces", key);
	memcpy(dst, s, n + 1);
	return 0;
}

/* A boolean member; absent or null leaves *out as it is. */
static int get_bool(json_t *o, const char *key, bool *out, struct gv_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return gv_err_set(err, EINVAL, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_uint(json_t *o, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		    struct gv_err *err)
{
	json_t *v = json_object_get(o, key);
	json_int_t x;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return gv_err_set(err, EINVAL, "field '%s' must be an integer", key);
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
		return gv_err_set(err, EINVAL, "field '%s' must be between %llu and %llu", key,
				  (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)x;
	return 0;
}

int gv_migreq_parse(const char *body, size_t len, struct gv_migreq *out, struct gv_err *err)
{
	char mode[16];
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	uint64_t rounds = 0;
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->mode = GV_MIG_PRECOPY;
	out->downtime_limit_ms = GV_MIGREQ_DOWNTIME_DEFAULT_MS;
	if (len > GV_APIREQ_MAX_BODY) {
		ret = gv_err_set(err, E2BIG, "request body is %zu bytes; the limit is %d", len,
				 GV_APIREQ_MAX_BODY);
		goto out;
	}
	if (!body || len == 0) {
		ret = gv_err_set(err, EINVAL, "request body is empty; a JSON object is expected");
		goto out;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		ret = gv_err_set(err, EINVAL, "malformed JSON at line %d column %d: %s", jerr.line,
				 jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = gv_err_set(err, EINVAL, "request body must be a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; fields[i] && strcmp(fields[i], key) != 0; i++)
			;
		if (!fields[i]) {
			ret = gv_err_set(err, EINVAL, "unknown field '%.64s'", key);
			goto out;
		}
	}
	ret = get_text(root, "instance", true, out->instance, sizeof(out->instance), err);
	if (!ret)
		ret = get_text(root, "to", true, out->to, sizeof(out->to), err);
	if (!ret)
		ret = get_text(root, "mode", false, mode, sizeof(mode), err);
	if (!ret && mode[0])
		ret = gv_mig_mode_parse(mode, &out->mode, err);
	if (!ret)
		ret = get_uint(root, "downtime_limit_ms", 1, GV_MIGREQ_DOWNTIME_MAX_MS,
			       &out->downtime_limit_ms, err);
	if (!ret)
		ret = get_uint(root, "max_rounds", 1, 1000, &rounds, err);
	if (!ret)
		out->max_rounds = (unsigned)rounds;
	if (!ret)
		ret = get_bool(root, "auto_converge", &out->auto_converge, err);
	if (!ret)
		ret = get_text(root, "inject", false, out->inject, sizeof(out->inject), err);
out:
	json_decref(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* gv_migctl_: requests on the shim's migration control socket
 * (include/gpuvisor/migctl.h). */
#include "gpuvisor/migctl.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

static int text(json_t *o, const char *key, bool required, bool spaces, char *dst, size_t cap,
		struct gv_err *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (!v || json_is_null(v))
		return required ? gv_err_set(err, EINVAL, "field '%s' is required", key) : 0;
	if (!json_is_string(v))
		return gv_err_set(err, EINVAL, "field '%s' must be a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n >= cap)
		return gv_err_set(err, EINVAL, "field '%s' must have 1 to %zu characters", key,
				  cap - 1);
	for (size_t i = 0; i < n; i++)
		if (s[i] < (spaces ? 0x20 : 0x21) || s[i] > 0x7e)
			return gv_err_set(err, EINVAL, "field '%s' must be printable ASCII", key);
	memcpy(dst, s, n + 1);
	return 0;
}

static int bool_field(json_t *o, const char *key, bool *out, struct gv_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return gv_err_set(err, EINVAL, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int uint_field(json_t *o, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
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

int gv_migctl_parse(const char *line, size_t len, struct gv_migctl_req *out, struct gv_err *err)
{
	static const char *const migrate_fields[] = { "op",	      "to",
						      "acct",	      "sched",
						      "instance",      "mode",
						      "downtime_ms",   "max_rounds",
						      "auto_converge", "inject",
						      NULL };
	char op[16], mode[16];
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	uint64_t rounds = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!line || len == 0 || len > GV_MIGCTL_LINE_MAX) {
		ret = gv_err_set(err, EINVAL, "a request is one JSON object of 1 to %d bytes",
				 GV_MIGCTL_LINE_MAX);
		goto out;
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root || !json_is_object(root)) {
		ret = gv_err_set(err, EINVAL, "a request must be a JSON object");
		goto out;
	}
	ret = text(root, "op", true, false, op, sizeof(op), err);
	if (ret)
		goto out;
	if (!strcmp(op, "hello")) {
		if (json_object_size(root) != 1) {
			ret = gv_err_set(err, EINVAL, "hello takes no fields");
			goto out;
		}
		out->op = GV_MIGCTL_HELLO;
		goto out;
	}
	if (strcmp(op, "migrate")) {
		ret = gv_err_set(err, EINVAL, "unknown op '%s'", op);
		goto out;
	}
	out->op = GV_MIGCTL_MIGRATE;
	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; migrate_fields[i] && strcmp(migrate_fields[i], key); i++)
			;
		if (!migrate_fields[i]) {
			ret = gv_err_set(err, EINVAL, "unknown field '%.64s'", key);
			goto out;
		}
	}
	out->mode = GV_MIG_PRECOPY;
	out->downtime_ms = 300;
	ret = text(root, "to", true, false, out->to, sizeof(out->to), err);
	if (!ret)
		ret = text(root, "acct", false, true, out->acct, sizeof(out->acct), err);
	if (!ret)
		ret = text(root, "sched", false, true, out->sched, sizeof(out->sched), err);
	if (!ret)
		ret = text(root, "instance", false, false, out->instance, sizeof(out->instance),
			   err);
	if (!ret && !out->sched[0] != !out->instance[0])
		ret = gv_err_set(err, EINVAL,
				 "fields 'sched' and 'instance' go together: both or neither");
	if (!ret)
		ret = text(root, "mode", false, false, mode, sizeof(mode), err);
	if (!ret && mode[0])
		ret = gv_mig_mode_parse(mode, &out->mode, err);
	if (!ret)
		ret = uint_field(root, "downtime_ms", 1, 600000, &out->downtime_ms, err);
	if (!ret)
		ret = uint_field(root, "max_rounds", 1, GV_MIG_ROUNDS_MAX, &rounds, err);
	if (!ret)
		out->max_rounds = (unsigned)rounds;
	if (!ret)
		ret = bool_field(root, "auto_converge", &out->auto_converge, err);
	if (!ret)
		ret = text(root, "inject", false, false, out->inject, sizeof(out->inject), err);
out:
	json_decref(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* Human-readable sizes and small parsers shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

static const char *const gv_fmt_units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
#define GV_FMT_N_UNITS (sizeof(gv_fmt_units) / sizeof(gv_fmt_units[0]))

/* v in units of gv_fmt_units[u], scaled up while it is 1024 or more */
static void gv_fmt_scaled(double v, size_t u, char *buf, size_t len)
{
	while (v >= 1024.0 && u + 1 < GV_FMT_N_UNITS) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, gv_fmt_units[u]);
}

void gv_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 1024)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		gv_fmt_scaled((double)bytes / 1024.0, 0, buf, len);
}

void gv_fmt_mib(uint64_t mib, char *buf, size_t len)
{
	/* below 1 GiB, whole MiB read better than "0.5 GiB"; scaled from MiB,
	 * not bytes, so no size overflows */
	if (mib < 1024)
		snprintf(buf, len, "%" PRIu64 " MiB", mib);
	else
		gv_fmt_scaled((double)mib, 1, buf, len);
}

int gv_parse_uint(const char *s, int *out)
{
	long v = 0;
	const char *p;

	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -ERANGE;
	}
	*out = (int)v;
	return 0;
}

int gv_parse_size_mib(const char *s, uint64_t *out)
{
	/* value = whole + frac_num / frac_den, in units of `unit` KiB */
	uint64_t whole = 0, frac_num = 0, frac_den = 1, unit_kib = 1024, kib;
	const char *p = s;
	int digits = 0;

	if (!s)
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (frac_den >= 1000000)
				continue; /* more precision than a MiB needs */
			frac_num = frac_num * 10 + (uint64_t)(*p - '0');
			frac_den *= 10;
		}
	}
	if (digits == 0)
		return -EINVAL;
	if (*p) {
		const char *u = p;

		switch (tolower((unsigned char)*u)) {
		case 'k':
			unit_kib = 1;
			break;
		case 'm':
			unit_kib = 1024;
			break;
		case 'g':
			unit_kib = 1024 * 1024;
			break;
		case 't':
			unit_kib = 1024ull * 1024 * 1024;
			break;
		case 'p':
			unit_kib = 1024ull * 1024 * 1024 * 1024;
			break;
		default:
			return -EINVAL;
		}
		u++;
		if (strcasecmp(u, "") != 0 && strcasecmp(u, "b") != 0 && strcasecmp(u, "ib") != 0)
			return -EINVAL;
	}
	if (whole > UINT64_MAX / unit_kib / 2)
		return -ERANGE;
	kib = whole * unit_kib + frac_num * unit_kib / frac_den;
	if (kib < 1024)
		return -EINVAL;
	/* 1 PiB: far above any GPU, and what gv_fmt_mib prints parses back */
	if (kib / 1024 > (1ull << 30))
		return -ERANGE;
	*out = kib / 1024;
	return 0;
}

const char *gv_json_str(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : dflt;
}

void gv_json_int_text(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else
		snprintf(buf, len, "-");
}

json_t *gv_json_id_list(const char *csv)
{
	json_t *list;
	char *copy, *save = NULL, *tok;

	if (!strchr(csv, ','))
		return json_string(csv);
	list = json_array();
	copy = strdup(csv);
	if (!list || !copy) {
		json_decref(list);
		free(copy);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(tok));
	free(copy);
	return list;
}

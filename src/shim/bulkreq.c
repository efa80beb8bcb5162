/* The bulk control socket's request reader (bulkreq.h). The shim links
 * libc only (no jansson, src/shim/CMakeLists.txt), and the requests are
 * three members of two types, so this reads exactly that shape and
 * refuses everything else: a reader that accepts less than JSON can be
 * checked whole, and its fuzz target does (tests/fuzz/fuzz_bulkreq.c). */
#include "bulkreq.h"

#include "gpuvisor/nametab.h"

#include <errno.h>
#include <string.h>

struct gv_rd {
	const char *p, *end;
};

/* GV_BULKREQ_NONE has no name a request may use: it is "?" as any value
 * outside the enum. */
GV_NAMETAB(gv_bulkreq_op, enum gv_bulkreq_op, "?", "unknown op '%s'", { GV_BULKREQ_HELLO, "hello" },
	   { GV_BULKREQ_LIST, "list" }, { GV_BULKREQ_EXPORT, "export" },
	   { GV_BULKREQ_STOP, "stop" }, { GV_BULKREQ_RELEASE, "release" },
	   { GV_BULKREQ_MAP, "map" }, { GV_BULKREQ_GO, "go" }, { GV_BULKREQ_OWN, "own" })

static void gv_rd_ws(struct gv_rd *rd)
{
	while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\r'))
		rd->p++;
}

/* Consumes c after optional whitespace. */
static bool gv_rd_eat(struct gv_rd *rd, char c)
{
	gv_rd_ws(rd);
	if (rd->p < rd->end && *rd->p == c) {
		rd->p++;
		return true;
	}
	return false;
}

/* A string of printable ASCII without escapes into dst (cap bytes with
 * the terminator). */
static int gv_rd_str(struct gv_rd *rd, char *dst, size_t cap, struct gv_err *err)
{
	size_t n = 0;

	if (!gv_rd_eat(rd, '"'))
		return gv_err_set(err, EINVAL, "a string was expected");
	while (rd->p < rd->end && *rd->p != '"') {
		unsigned char c = (unsigned char)*rd->p;

		if (c < 0x20 || c > 0x7e || c == '\\')
			return gv_err_set(err, EINVAL,
					  "strings are printable ASCII without escapes");
		if (n + 1 >= cap)
			return gv_err_set(err, EINVAL, "a string is longer than %zu characters",
					  cap - 1);
		dst[n++] = (char)c;
		rd->p++;
	}
	if (rd->p == rd->end)
		return gv_err_set(err, EINVAL, "a string is not terminated");
	rd->p++;
	dst[n] = '\0';
	return 0;
}

/* A plain non-negative integer below 2^64 (no sign, fraction, exponent or
 * leading zero). */
static int gv_rd_u64(struct gv_rd *rd, const char *what, uint64_t *out, struct gv_err *err)
{
	uint64_t v = 0;
	const char *s;

	gv_rd_ws(rd);
	s = rd->p;
	while (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
		unsigned d = (unsigned)(*rd->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return gv_err_set(err, EINVAL, "%s: a number is too large", what);
		v = v * 10 + d;
		rd->p++;
	}
	if (rd->p == s)
		return gv_err_set(err, EINVAL, "%s must be a non-negative integer", what);
	if (rd->p - s > 1 && *s == '0')
		return gv_err_set(err, EINVAL, "%s: a number has a leading zero", what);
	if (rd->p < rd->end && (*rd->p == '.' || *rd->p == 'e' || *rd->p == 'E'))
		return gv_err_set(err, EINVAL, "%s must be a non-negative integer", what);
	*out = v;
	return 0;
}

static int gv_rd_ids(struct gv_rd *rd, struct gv_bulkreq *r, struct gv_err *err)
{
	int ret;

	if (!gv_rd_eat(rd, '['))
		return gv_err_set(err, EINVAL, "field 'ids' must be an array of ids");
	if (gv_rd_eat(rd, ']'))
		return gv_err_set(err, EINVAL, "field 'ids' must have 1 to %d ids",
				  GV_BULKREQ_IDS_MAX);
	do {
		uint64_t id;

		if ((ret = gv_rd_u64(rd, "field 'ids'", &id, err)) < 0)
			return ret;
		if (r->nids == GV_BULKREQ_IDS_MAX)
			return gv_err_set(err, EINVAL, "field 'ids' must have 1 to %d ids",
					  GV_BULKREQ_IDS_MAX);
		for (size_t i = 0; i < r->nids; i++)
			if (r->ids[i] == id)
				return gv_err_set(err, EINVAL, "field 'ids' names %llu twice",
						  (unsigned long long)id);
		r->ids[r->nids++] = id;
	} while (gv_rd_eat(rd, ','));
	if (!gv_rd_eat(rd, ']'))
		return gv_err_set(err, EINVAL, "field 'ids': ',' or ']' expected");
	return 0;
}

static int gv_rd_object(struct gv_rd *rd, struct gv_bulkreq *r, bool *has_ids, bool *has_to,
			char *op, size_t opcap, struct gv_err *err)
{
	char key[16];
	int ret;

	if (!gv_rd_eat(rd, '{'))
		return gv_err_set(err, EINVAL, "a request is one JSON object on one line");
	if (gv_rd_eat(rd, '}'))
		return gv_err_set(err, EINVAL, "field 'op' is required");
	do {
		if ((ret = gv_rd_str(rd, key, sizeof(key), err)) < 0)
			return ret;
		if (!gv_rd_eat(rd, ':'))
			return gv_err_set(err, EINVAL, "':' expected after '%s'", key);
		if (!strcmp(key, "op")) {
			if (op[0])
				return gv_err_set(err, EINVAL, "field 'op' is given twice");
			if ((ret = gv_rd_str(rd, op, opcap, err)) < 0)
				return ret;
			if (!op[0])
				return gv_err_set(err, EINVAL, "field 'op' must not be empty");
		} else if (!strcmp(key, "ids")) {
			if (*has_ids)
				return gv_err_set(err, EINVAL, "field 'ids' is given twice");
			*has_ids = true;
			if ((ret = gv_rd_ids(rd, r, err)) < 0)
				return ret;
		} else if (!strcmp(key, "timeout_ms")) {
			if (*has_to)
				return gv_err_set(err, EINVAL, "field 'timeout_ms' is given twice");
			*has_to = true;
			if ((ret = gv_rd_u64(rd, "field 'timeout_ms'", &r->timeout_ms, err)) < 0)
				return ret;
		} else {
			return gv_err_set(err, EINVAL, "unknown field '%s'", key);
		}
	} while (gv_rd_eat(rd, ','));
	if (!gv_rd_eat(rd, '}'))
		return gv_err_set(err, EINVAL, "',' or '}' expected");
	gv_rd_ws(rd);
	if (rd->p != rd->end)
		return gv_err_set(err, EINVAL, "text after the request object");
	return 0;
}

static int gv_bulkreq_check(struct gv_bulkreq *r, const char *op, bool has_ids, bool has_to,
			    struct gv_err *err)
{
	bool wants_ids, takes_to;

	if (!op[0])
		return gv_err_set(err, EINVAL, "field 'op' is required");
	if (gv_bulkreq_op_parse(op, &r->op, err) < 0)
		return -EINVAL;
	wants_ids = r->op == GV_BULKREQ_EXPORT || r->op == GV_BULKREQ_MAP;
	takes_to = r->op == GV_BULKREQ_STOP || r->op == GV_BULKREQ_OWN;
	if (wants_ids && !has_ids)
		return gv_err_set(err, EINVAL, "%s: field 'ids' is required", op);
	if (!wants_ids && has_ids)
		return gv_err_set(err, EINVAL, "%s takes no field 'ids'", op);
	if (!takes_to && has_to)
		return gv_err_set(err, EINVAL, "%s takes no field 'timeout_ms'", op);
	if (!has_to && takes_to)
		r->timeout_ms = GV_BULKREQ_TIMEOUT_DEFAULT_MS;
	if (takes_to && (r->timeout_ms < 1 || r->timeout_ms > GV_BULKREQ_TIMEOUT_MAX_MS))
		return gv_err_set(err, EINVAL, "field 'timeout_ms' must be between 1 and %d",
				  GV_BULKREQ_TIMEOUT_MAX_MS);
	return 0;
}

int gv_bulkreq_parse(const char *line, size_t len, struct gv_bulkreq *r, struct gv_err *err)
{
	struct gv_rd rd = { .p = line, .end = line + len };
	bool has_ids = false, has_to = false;
	char op[16] = "";
	int ret;

	memset(r, 0, sizeof(*r));
	if (len > GV_BULKREQ_LINE_MAX)
		ret = gv_err_set(err, EINVAL, "a request is longer than %d bytes",
				 GV_BULKREQ_LINE_MAX);
	else if (len && (memchr(line, '\0', len) || memchr(line, '\n', len)))
		ret = gv_err_set(err, EINVAL, "a request is one line of text");
	else
		ret = gv_rd_object(&rd, r, &has_ids, &has_to, op, sizeof(op), err);
	if (!ret)
		ret = gv_bulkreq_check(r, op, has_ids, has_to, err);
	if (ret)
		memset(r, 0, sizeof(*r));
	return ret;
}

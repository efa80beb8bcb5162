/* shim.bulkreq: the bulk control socket's request reader
 * (src/shim/bulkreq.c, compiled into this test): each shape the contract
 * names is read as it says, and everything else is refused with a reason
 * that names what is wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bulkreq.h"

static int parse(const char *s, struct gv_bulkreq *r, struct gv_err *err)
{
	memset(err, 0, sizeof(*err));
	return gv_bulkreq_parse(s, strlen(s), r, err);
}

static void test_accepted(void **state)
{
	struct gv_bulkreq r;
	struct gv_err err;

	(void)state;
	assert_int_equal(parse("{\"op\":\"hello\"}", &r, &err), 0);
	assert_int_equal(r.op, GV_BULKREQ_HELLO);
	assert_int_equal(r.nids, 0);
	assert_int_equal(parse(" {\t\"ids\" : [ 7 , 18446744073709551615 ] , \"op\" : \"map\" }\r",
			       &r, &err),
			 0);
	assert_int_equal(r.op, GV_BULKREQ_MAP);
	assert_int_equal(r.nids, 2);
	assert_true(r.ids[0] == 7 && r.ids[1] == UINT64_MAX);
	assert_int_equal(parse("{\"op\":\"stop\",\"timeout_ms\":250}", &r, &err), 0);
	assert_int_equal(r.op, GV_BULKREQ_STOP);
	assert_int_equal(r.timeout_ms, 250);
	assert_int_equal(parse("{\"op\":\"own\"}", &r, &err), 0);
	assert_int_equal(r.timeout_ms, GV_BULKREQ_TIMEOUT_DEFAULT_MS);
	assert_int_equal(parse("{\"op\":\"export\",\"ids\":[0]}", &r, &err), 0);
	assert_int_equal(r.ids[0], 0);
	for (int op = GV_BULKREQ_HELLO; op <= GV_BULKREQ_OWN; op++) {
		char line[128];
		bool ids = op == GV_BULKREQ_EXPORT || op == GV_BULKREQ_MAP;

		snprintf(line, sizeof(line), "{\"op\":\"%s\"%s}", gv_bulkreq_op_name(op),
			 ids ? ",\"ids\":[3]" : "");
		assert_int_equal(parse(line, &r, &err), 0);
		assert_int_equal(r.op, op);
	}
}

static void test_64_ids(void **state)
{
	char line[2048];
	size_t n = (size_t)snprintf(line, sizeof(line), "{\"op\":\"export\",\"ids\":[1");
	struct gv_bulkreq r;
	struct gv_err err;

	(void)state;
	for (int i = 2; i <= GV_BULKREQ_IDS_MAX; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",%d", i);
	snprintf(line + n, sizeof(line) - n, "]}");
	assert_int_equal(parse(line, &r, &err), 0);
	assert_int_equal(r.nids, GV_BULKREQ_IDS_MAX);
	assert_int_equal(r.ids[63], 64);
	snprintf(line + n, sizeof(line) - n, ",65]}");
	assert_int_equal(parse(line, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "1 to 64 ids"));
}

static void test_refused(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "one JSON object" },
		{ "[1]", "one JSON object" },
		{ "{}", "'op' is required" },
		{ "{\"ids\":[1]}", "'op' is required" },
		{ "{\"op\":\"nope\"}", "unknown op 'nope'" },
		{ "{\"op\":\"\"}", "must not be empty" },
		{ "{\"op\":\"hello\",\"op\":\"list\"}", "'op' is given twice" },
		{ "{\"op\":\"hello\",\"x\":1}", "unknown field 'x'" },
		{ "{\"op\":\"hello\",}", "a string was expected" },
		{ "{\"op\":\"hello\"} x", "text after" },
		{ "{\"op\":\"hello\"", "'}' expected" },
		{ "{\"op\":\"he\\u006clo\"}", "without escapes" },
		{ "{\"op\":\"hello\"}\n", "one line" },
		{ "{\"op\":\"export\"}", "'ids' is required" },
		{ "{\"op\":\"export\",\"ids\":[]}", "1 to 64 ids" },
		{ "{\"op\":\"export\",\"ids\":[1,1]}", "names 1 twice" },
		{ "{\"op\":\"export\",\"ids\":[1,]}", "non-negative integer" },
		{ "{\"op\":\"export\",\"ids\":[\"1\"]}", "non-negative integer" },
		{ "{\"op\":\"export\",\"ids\":1}", "must be an array" },
		{ "{\"op\":\"export\",\"ids\":[18446744073709551616]}", "too large" },
		{ "{\"op\":\"export\",\"ids\":[1],\"ids\":[2]}", "'ids' is given twice" },
		{ "{\"op\":\"list\",\"ids\":[1]}", "list takes no field 'ids'" },
		{ "{\"op\":\"go\",\"timeout_ms\":5}", "go takes no field 'timeout_ms'" },
		{ "{\"op\":\"stop\",\"timeout_ms\":0}", "between 1 and" },
		{ "{\"op\":\"stop\",\"timeout_ms\":3600001}", "between 1 and" },
		{ "{\"op\":\"stop\",\"timeout_ms\":1.5}", "non-negative integer" },
		{ "{\"op\":\"stop\",\"timeout_ms\":1e3}", "non-negative integer" },
		{ "{\"op\":\"stop\",\"timeout_ms\":-1}", "non-negative integer" },
		{ "{\"op\":\"stop\",\"timeout_ms\":01}", "leading zero" },
		{ "{\"op\":\"stop\",\"timeout_ms\":\"5\"}", "non-negative integer" },
	};
	struct gv_bulkreq r, zero;
	struct gv_err err;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].in, &r, &err);

		if (ret != -EINVAL || !strstr(err.msg, bad[i].why))
			fail_msg("'%s': %d '%s', expected -EINVAL '...%s...'", bad[i].in, ret,
				 err.msg, bad[i].why);
		assert_memory_equal(&r, &zero, sizeof(r));
	}
}

static void test_limits(void **state)
{
	static char line[GV_BULKREQ_LINE_MAX + 2];
	struct gv_bulkreq r;
	struct gv_err err;

	(void)state;
	memset(line, ' ', sizeof(line) - 1);
	memcpy(line, "{\"op\":\"hello\"}", 14);
	assert_int_equal(gv_bulkreq_parse(line, GV_BULKREQ_LINE_MAX, &r, &err), 0);
	assert_int_equal(gv_bulkreq_parse(line, GV_BULKREQ_LINE_MAX + 1, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than"));
	assert_int_equal(gv_bulkreq_parse("{\"op\":\"hel\0lo\"}", 15, &r, &err), -EINVAL);
	assert_string_equal(gv_bulkreq_op_name((enum gv_bulkreq_op)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_64_ids),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* gv_migreq_parse: the body of POST /v1/migrations (include/gpuvisor/migreq.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/apireq.h"
#include "gpuvisor/migreq.h"

static int parse(const char *body, struct gv_migreq *out, struct gv_err *err)
{
	return gv_migreq_parse(body, strlen(body), out, err);
}

static void test_defaults(void **state)
{
	struct gv_migreq r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":\"1\"}", &r, &err), 0);
	assert_string_equal(r.instance, "i-1");
	assert_string_equal(r.to, "1");
	assert_int_equal(r.mode, GV_MIG_PRECOPY);
	assert_int_equal(r.downtime_limit_ms, GV_MIGREQ_DOWNTIME_DEFAULT_MS);
	assert_int_equal(r.max_rounds, 0);
	assert_false(r.auto_converge);
	assert_string_equal(r.inject, "");
}

static void test_full(void **state)
{
	struct gv_migreq r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":\"i-4\",\"mode\":\"stopcopy\","
			       "\"downtime_limit_ms\":50,\"max_rounds\":5,\"auto_converge\":true,"
			       "\"inject\":\"copy:round2\"}",
			       &r, &err),
			 0);
	assert_string_equal(r.to, "i-4");
	assert_int_equal(r.mode, GV_MIG_STOPCOPY);
	assert_int_equal(r.downtime_limit_ms, 50);
	assert_int_equal(r.max_rounds, 5);
	assert_true(r.auto_converge);
	assert_string_equal(r.inject, "copy:round2");
	assert_false(r.checkpoint);
	assert_int_equal(
		parse("{\"instance\":\"i-1\",\"to\":\"i-4\",\"mode\":\"checkpoint\"}", &r, &err),
		0);
	assert_true(r.checkpoint);
	assert_int_equal(
		parse("{\"instance\":\"i-1\",\"to\":\"i-4\",\"mode\":\"restart\"}", &r, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "none of precopy, stopcopy and checkpoint"));
	assert_false(r.checkpoint);
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":\"1\",\"auto_converge\":false,"
			       "\"max_rounds\":null,\"inject\":null}",
			       &r, &err),
			 0);
	assert_false(r.auto_converge);
	assert_int_equal(r.max_rounds, 0);
	assert_int_equal(
		parse("{\"instance\":\"i-1\",\"to\":\"1\",\"auto_converge\":null}", &r, &err), 0);
	assert_false(r.auto_converge);
}

/* Each refusal names its reason and leaves out zeroed. */
static void refused(const char *body, int want, const char *why)
{
	struct gv_migreq r;
	struct gv_err err = { 0 };

	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(gv_migreq_parse(body, strlen(body), &r, &err), want);
	if (!strstr(err.msg, why))
		fail_msg("'%.80s': got '%s', expected it to contain '%s'", body, err.msg, why);
	assert_string_equal(r.instance, "");
	assert_string_equal(r.to, "");
	assert_false(r.auto_converge);
	assert_int_equal(r.max_rounds, 0);
}

/* A workload on several instances: "to" is one instance per member. */
static void test_span(void **state)
{
	struct gv_migreq r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":[\"i-3\",\"i-4\"],"
			       "\"mode\":\"checkpoint\"}",
			       &r, &err),
			 0);
	assert_string_equal(r.to, "i-3");
	assert_int_equal(r.n_more, 1);
	assert_string_equal(r.more[0], "i-4");
	assert_true(r.checkpoint);
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":[\"i-3\"]}", &r, &err), 0);
	assert_string_equal(r.to, "i-3");
	assert_int_equal(r.n_more, 0);
	assert_int_equal(parse("{\"instance\":\"i-1\",\"to\":\"i-3\"}", &r, &err), 0);
	assert_int_equal(r.n_more, 0);
	refused("{\"instance\":\"i-1\",\"to\":[]}", -EINVAL, "must name 1 to 8 instances");
	refused("{\"instance\":\"i-1\",\"to\":[\"i-3\",\"i-3\"]}", -EINVAL, "names i-3 twice");
	refused("{\"instance\":\"i-1\",\"to\":[\"i-3\",\"\"]}", -EINVAL, "must not be empty");
	refused("{\"instance\":\"i-1\",\"to\":[\"i-3\",4]}", -EINVAL, "must be a string");
	refused("{\"instance\":\"i-1\",\"to\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
		"\"9\"]}",
		-EINVAL, "must name 1 to 8 instances");
}

static void test_refusals(void **state)
{
	char *big;

	(void)state;
	refused("", -EINVAL, "empty");
	refused("[1]", -EINVAL, "JSON object");
	refused("{\"instance\":\"i-1\",\"to\":\"1\"", -EINVAL, "malformed JSON");
	refused("{\"to\":\"1\"}", -EINVAL, "'instance' is required");
	refused("{\"instance\":\"i-1\"}", -EINVAL, "'to' is required");
	refused("{\"instance\":\"i-1\",\"to\":\"\"}", -EINVAL, "must not be empty");
	refused("{\"instance\":\"i 1\",\"to\":\"1\"}", -EINVAL, "printable ASCII");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"mode\":\"fast\"}", -EINVAL, "fast");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"downtime_limit_ms\":0}", -EINVAL,
		"'downtime_limit_ms' must be between 1 and 600000");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"max_rounds\":1001}", -EINVAL,
		"'max_rounds' must be between 1 and 1000");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"auto_converge\":1}", -EINVAL,
		"'auto_converge' must be true or false");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"auto_converge\":\"yes\"}", -EINVAL,
		"'auto_converge' must be true or false");
	/* a refused field refuses everything before it too */
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"max_rounds\":5,\"auto_converge\":[true]}",
		-EINVAL, "'auto_converge' must be true or false");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"autoconverge\":true}", -EINVAL,
		"unknown field 'autoconverge'");
	refused("{\"instance\":\"i-1\",\"to\":\"1\",\"auto_converge\":true,\"auto_converge\":false}",
		-EINVAL, "duplicate");
	big = malloc(GV_APIREQ_MAX_BODY + 2);
	assert_non_null(big);
	memset(big, ' ', GV_APIREQ_MAX_BODY + 1);
	big[GV_APIREQ_MAX_BODY + 1] = '\0';
	refused(big, -E2BIG, "limit");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

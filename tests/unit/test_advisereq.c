/* gv_advisereq_parse: the body of POST /v1/advise (include/gpuvisor/advise.h):
 * defaults, every field, and each refusal with its reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/advise.h"

static int parse(const char *body, struct gv_advise_body *out, struct gv_err *err)
{
	return gv_advisereq_parse(body, strlen(body), out, err);
}

static void test_defaults(void **state)
{
	struct gv_advise_body b;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"workload\":\"training\",\"memory_mib\":8192}", &b, &err), 0);
	assert_int_equal(b.req.workload, GV_ADVISE_TRAINING);
	assert_int_equal(b.req.memory_mib, 8192);
	assert_true(b.req.trusted);
	assert_false(b.req.latency_sensitive);
	assert_int_equal(b.req.replicas, 1);
	assert_int_equal(b.req.gpu, -1);
	assert_string_equal(b.gpu, "");
}

static void test_full(void **state)
{
	struct gv_advise_body b;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"workload\":\"inference\",\"memory_mib\":30720,\"trusted\":false,"
			       "\"latency_sensitive\":true,\"replicas\":64,\"gpu\":3}",
			       &b, &err),
			 0);
	assert_int_equal(b.req.workload, GV_ADVISE_INFERENCE);
	assert_false(b.req.trusted);
	assert_true(b.req.latency_sensitive);
	assert_int_equal(b.req.replicas, 64);
	assert_string_equal(b.gpu, "3");
	assert_int_equal(parse("{\"workload\":\"dev\",\"memory_mib\":1,\"gpu\":\"GPU-0a1b\","
			       "\"trusted\":null,\"replicas\":null}",
			       &b, &err),
			 0);
	assert_int_equal(b.req.workload, GV_ADVISE_DEV);
	assert_string_equal(b.gpu, "GPU-0a1b");
	assert_true(b.req.trusted);
	assert_int_equal(b.req.replicas, 1);
	assert_int_equal(parse("{\"workload\":\"dev\",\"memory_mib\":1,\"gpu\":null}", &b, &err),
			 0);
	assert_string_equal(b.gpu, "");
}

/* Each bad body is refused with a reason containing the words given, and
 * leaves the output zeroed. */
static void test_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *why;
		int ret;
	} bad[] = {
		{ "", "empty", -EINVAL },
		{ "[]", "JSON object", -EINVAL },
		{ "{\"workload\":\"training\"", "malformed JSON", -EINVAL },
		{ "{\"memory_mib\":1}", "'workload' is required", -EINVAL },
		{ "{\"workload\":\"training\"}", "'memory_mib' is required", -EINVAL },
		{ "{\"workload\":\"batch\",\"memory_mib\":1}",
		  "\"training\", \"inference\" or \"dev\"", -EINVAL },
		{ "{\"workload\":\"a-very-long-workload-name\",\"memory_mib\":1}",
		  "\"training\", \"inference\" or \"dev\"", -EINVAL },
		{ "{\"workload\":7,\"memory_mib\":1}", "'workload' must be a string", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":0}", "between 1 and", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":-5}", "between 1 and", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1073741825}", "between 1 and 1073741824",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":\"20G\"}",
		  "'memory_mib' must be an integer", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1.5}", "must be an integer", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"trusted\":1}", "true or false",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"latency_sensitive\":\"yes\"}",
		  "true or false", -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"replicas\":0}", "between 1 and 64",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"replicas\":65}", "between 1 and 64",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"gpu\":-1}", "between 0 and 99",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"gpu\":\"01\"}", "field 'gpu'",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"gpu\":true}", "index or a GPU UUID",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"memory_mib\":1,\"gpus\":1}", "unknown field 'gpus'",
		  -EINVAL },
		{ "{\"workload\":\"dev\",\"workload\":\"dev\",\"memory_mib\":1}", "malformed JSON",
		  -EINVAL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gv_advise_body b;
		struct gv_err err = { 0 };
		int ret = parse(bad[i].body, &b, &err);

		if (ret != bad[i].ret || !strstr(err.msg, bad[i].why))
			fail_msg("%s: got %d '%s', want %d '%s'", bad[i].body, ret, err.msg,
				 bad[i].ret, bad[i].why);
		assert_int_equal(b.req.memory_mib, 0);
		assert_int_equal(b.req.replicas, 0);
		assert_string_equal(b.gpu, "");
	}
}

static void test_too_large(void **state)
{
	size_t n = 70 * 1024;
	char *big = malloc(n + 1);
	struct gv_advise_body b;
	struct gv_err err = { 0 };

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(gv_advisereq_parse(big, n, &b, &err), -E2BIG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

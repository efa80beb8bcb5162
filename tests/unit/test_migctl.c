#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/migctl.h"

static int parse(const char *line, struct gv_migctl_req *out, struct gv_err *err)
{
	return gv_migctl_parse(line, strlen(line), out, err);
}

static void test_hello(void **state)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"op\":\"hello\"}", &r, &err), 0);
	assert_int_equal(r.op, GV_MIGCTL_HELLO);
	assert_int_equal(parse("{\"op\":\"hello\",\"sched\":null}", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no fields"));
}

static void test_migrate_defaults(void **state)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("{\"op\":\"migrate\",\"to\":\"GPU-1\"}", &r, &err), 0);
	assert_int_equal(r.op, GV_MIGCTL_MIGRATE);
	assert_string_equal(r.to, "GPU-1");
	assert_string_equal(r.acct, "");
	assert_string_equal(r.sched, "");
	assert_string_equal(r.instance, "");
	assert_int_equal(r.mode, GV_MIG_PRECOPY);
	assert_int_equal(r.downtime_ms, 300);
	assert_int_equal(r.max_rounds, 0);
	assert_false(r.auto_converge);
	assert_string_equal(r.inject, "");
}

static void test_migrate_full(void **state)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(
		parse("{\"op\":\"migrate\",\"to\":\"GPU-2\",\"acct\":\"/run/a b/i-3.acct\","
		      "\"sched\":\"/run/a b/GPU-2.sched\",\"instance\":\"i-3\","
		      "\"mode\":\"stopcopy\",\"downtime_ms\":50,\"max_rounds\":4,"
		      "\"auto_converge\":true,\"inject\":\"copy:round2\"}",
		      &r, &err),
		0);
	assert_string_equal(r.acct, "/run/a b/i-3.acct");
	assert_string_equal(r.sched, "/run/a b/GPU-2.sched");
	assert_string_equal(r.instance, "i-3");
	assert_int_equal(r.mode, GV_MIG_STOPCOPY);
	assert_int_equal(r.downtime_ms, 50);
	assert_int_equal(r.max_rounds, 4);
	assert_true(r.auto_converge);
	assert_string_equal(r.inject, "copy:round2");
	/* a destination that is not timeslice: both null */
	assert_int_equal(parse("{\"op\":\"migrate\",\"to\":\"MIG-1\",\"acct\":null,\"sched\":null,"
			       "\"instance\":null}",
			       &r, &err),
			 0);
	assert_string_equal(r.sched, "");
	assert_string_equal(r.instance, "");
}

/* Each refusal names its reason and leaves out zeroed. */
static void refused(const char *line, const char *why)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };

	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(parse(line, &r, &err), -EINVAL);
	if (!strstr(err.msg, why))
		fail_msg("'%s': got '%s', expected it to contain '%s'", line, err.msg, why);
	assert_int_equal(r.op, 0);
	assert_string_equal(r.sched, "");
	assert_string_equal(r.instance, "");
}

/* auto_converge: a boolean; null or absent is off; one field refused
 * refuses the whole request (nothing half-parsed). */
static void test_auto_converge(void **state)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(
		parse("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"auto_converge\":true}", &r, &err), 0);
	assert_true(r.auto_converge);
	assert_int_equal(
		parse("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"auto_converge\":false}", &r, &err),
		0);
	assert_false(r.auto_converge);
	assert_int_equal(
		parse("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"auto_converge\":null}", &r, &err), 0);
	assert_false(r.auto_converge);
	assert_string_equal(r.to, "GPU-1");
}

static void test_refusals(void **state)
{
	char line[256];

	(void)state;
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/s\"}", "go together");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"instance\":\"i-2\"}", "go together");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/s\",\"instance\":null}",
		"go together");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":7,\"instance\":\"i-2\"}",
		"'sched' must be a string");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/s\",\"instance\":\"i 2\"}",
		"'instance' must be printable ASCII");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"\",\"instance\":\"i-2\"}",
		"'sched' must have 1 to");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/s\\n\",\"instance\":\"i-2\"}",
		"'sched' must be printable ASCII");
	snprintf(line, sizeof(line),
		 "{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/s\",\"instance\":\"%0*d\"}",
		 GV_MIGCTL_INSTANCE_MAX, 0);
	refused(line, "'instance' must have 1 to 63");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"scheduler\":\"/s\"}", "unknown field");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"sched\":\"/a\",\"sched\":\"/b\","
		"\"instance\":\"i-1\"}",
		"JSON object");
	refused("{\"op\":\"migrate\"}", "'to' is required");
	refused("{\"op\":\"jump\"}", "unknown op");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"auto_converge\":1}",
		"'auto_converge' must be true or false");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"auto_converge\":\"true\"}",
		"'auto_converge' must be true or false");
	refused("{\"op\":\"migrate\",\"to\":\"GPU-1\",\"autoconverge\":true}", "unknown field");
	refused("{\"op\":\"hello\",\"auto_converge\":true}", "no fields");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),	     cmocka_unit_test(test_migrate_defaults),
		cmocka_unit_test(test_migrate_full), cmocka_unit_test(test_auto_converge),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

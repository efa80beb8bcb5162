#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/apireq.h"

static int create(const char *body, struct gv_apireq_create *out, struct gv_err *err)
{
	return gv_apireq_create_parse(body, strlen(body), out, err);
}

static void test_create_minimal(void **state)
{
	struct gv_apireq_create r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(create("{\"profile\":\"h100-8c\"}", &r, &err), 0);
	assert_string_equal(r.profile, "h100-8c");
	assert_string_equal(r.gpu, "");
	assert_int_equal(r.placement, -1);
	assert_int_equal(r.framebuffer_mib, 0);
	assert_false(r.spread);
}

static void test_create_full(void **state)
{
	struct gv_apireq_create r;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(create("{\"profile\":\"3g.40gb\",\"gpu\":1,\"placement\":4,"
				"\"framebuffer_mib\":8192,\"policy\":\"spread\"}",
				&r, &err),
			 0);
	assert_string_equal(r.gpu, "1");
	assert_int_equal(r.placement, 4);
	assert_int_equal(r.framebuffer_mib, 8192);
	assert_true(r.spread);
	assert_int_equal(
		create("{\"profile\":\"x\",\"gpu\":\"GPU-0a1b-ff\",\"policy\":\"pack\"}", &r, &err),
		0);
	assert_string_equal(r.gpu, "GPU-0a1b-ff");
	assert_false(r.spread);
	assert_int_equal(create(" {\"gpu\":\"0\", \"profile\":\"x\"} \n", &r, &err), 0);
	assert_string_equal(r.gpu, "0");
	assert_string_equal(r.owner, "");
	assert_int_equal(create("{\"profile\":\"x\",\"owner\":\"slurm:job:42 step 0\"}", &r, &err),
			 0);
	assert_string_equal(r.owner, "slurm:job:42 step 0");
	assert_int_equal(create("{\"profile\":\"x\",\"owner\":null}", &r, &err), 0);
	assert_string_equal(r.owner, "");
}

/* Every refusal: -EINVAL, a message naming the problem, output zeroed. */
static void test_create_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} bad[] = {
		{ "", "empty" },
		{ "{", "malformed JSON" },
		{ "{\"profile\":\"a\"} x", "malformed JSON" },
		{ "[]", "JSON object" },
		{ "\"h100-8c\"", "JSON object" },
		{ "null", "JSON object" },
		{ "{}", "'profile' is required" },
		{ "{\"profile\":1}", "'profile' must be a string" },
		{ "{\"profile\":null}", "'profile' must be a string" },
		{ "{\"profile\":\"\"}", "must not be empty" },
		{ "{\"profile\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		  "longer than" },
		{ "{\"profile\":\"a\",\"profile\":\"b\"}", "malformed JSON" },
		{ "{\"profile\":\"a\",\"bogus\":1}", "unknown field 'bogus'" },
		{ "{\"profile\":\"a\",\"gpu\":-1}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":100}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":1.5}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":true}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"01\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"-1\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"GPU-\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"GPU-xyz\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"gpu\":\"MIG-1234\"}", "'gpu'" },
		{ "{\"profile\":\"a\",\"placement\":-1}", "'placement'" },
		{ "{\"profile\":\"a\",\"placement\":8}", "'placement'" },
		{ "{\"profile\":\"a\",\"placement\":\"4\"}", "'placement' must be an integer" },
		{ "{\"profile\":\"a\",\"placement\":4.0}", "'placement' must be an integer" },
		{ "{\"profile\":\"a\",\"framebuffer_mib\":0}", "'framebuffer_mib'" },
		{ "{\"profile\":\"a\",\"framebuffer_mib\":-8}", "'framebuffer_mib'" },
		{ "{\"profile\":\"a\",\"framebuffer_mib\":99999999999999}", "'framebuffer_mib'" },
		{ "{\"profile\":\"a\",\"policy\":\"random\"}", "'policy'" },
		{ "{\"profile\":\"a\",\"policy\":\"\"}", "'policy'" },
		{ "{\"profile\":\"a\",\"policy\":1}", "'policy'" },
		{ "{\"profile\":\"a\",\"owner\":\"\"}", "'owner'" },
		{ "{\"profile\":\"a\",\"owner\":\"a\\nb\"}", "'owner'" },
		{ "{\"profile\":\"a\",\"owner\":7}", "'owner'" },
		{ "{\"profile\":\"a\\u0000b\"}", "malformed JSON" },
	};
	struct gv_apireq_create r;
	struct gv_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		memset(&r, 0x5a, sizeof(r));
		assert_int_equal(create(bad[i].body, &r, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].why)) {
			print_error("body %s: message '%s' lacks '%s'\n", bad[i].body, err.msg,
				    bad[i].why);
			fail();
		}
		assert_string_equal(r.profile, "");
		assert_int_equal(r.placement, 0);
	}
}

static void test_body_limit(void **state)
{
	struct gv_apireq_create r;
	struct gv_err err = { 0 };
	size_t n = GV_APIREQ_MAX_BODY + 1;
	char *big = malloc(n);
	enum gv_mode m;
	struct gv_apireq_workload w;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"profile\":\"a\"}", 15);
	assert_int_equal(gv_apireq_create_parse(big, n, &r, &err), -E2BIG);
	assert_int_equal(gv_apireq_mode_parse(big, n, &m, &err), -E2BIG);
	assert_int_equal(gv_apireq_workload_parse(big, n, &w, &err), -E2BIG);
	/* exactly at the limit is fine */
	assert_int_equal(gv_apireq_create_parse(big, n - 1, &r, &err), 0);
	free(big);
}

static void test_not_nul_terminated(void **state)
{
	char buf[32];
	struct gv_apireq_create r;

	(void)state;
	memcpy(buf, "{\"profile\":\"abc\"}XXXXXXXXXXXXXX", 32);
	assert_int_equal(gv_apireq_create_parse(buf, 17, &r, NULL), 0);
	assert_string_equal(r.profile, "abc");
}

static void test_mode(void **state)
{
	static const char *const bad[] = {
		"{}",		"{\"mode\":\"MIG\"}",	      "{\"mode\":\"vgpu\"}",
		"{\"mode\":1}", "{\"mode\":\"mig\",\"x\":1}", "{\"mode\":\"\"}",
		"[\"mig\"]",	"{\"mode\":\"mig\"",
	};
	enum gv_mode m = GV_MODE_MIG;
	struct gv_err err = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(gv_apireq_mode_parse("{\"mode\":\"mig\"}", 14, &m, &err), 0);
	assert_int_equal(m, GV_MODE_MIG);
	assert_int_equal(gv_apireq_mode_parse("{\"mode\":\"timeslice\"}", 20, &m, &err), 0);
	assert_int_equal(m, GV_MODE_TIMESLICE);
	assert_int_equal(gv_apireq_mode_parse("{\"mode\":\"passthrough\"}", 22, &m, &err), 0);
	assert_int_equal(m, GV_MODE_PASSTHROUGH);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(gv_apireq_mode_parse(bad[i], strlen(bad[i]), &m, &err), -EINVAL);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_workload(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"pid\":0}",
		"{\"pid\":1}",
		"{\"pid\":-5}",
		"{\"pid\":\"12\"}",
		"{\"pid\":12.5}",
		"{\"pid\":4294967296}",
		"{\"pid\":12,\"x\":1}",
		"{\"pid\":null}",
		/* with: an array of 1..7 distinct ids */
		"{\"pid\":12,\"with\":\"i-2\"}",
		"{\"pid\":12,\"with\":[]}",
		"{\"pid\":12,\"with\":[\"i-2\",\"i-2\"]}",
		"{\"pid\":12,\"with\":[\"i 2\"]}",
		"{\"pid\":12,\"with\":[3]}",
		"{\"pid\":12,\"with\":[\"\"]}",
		"{\"pid\":12,\"with\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]}",
		"{\"pid\":12,\"with\":[\"i-0123456789012345678901234567890\"]}",
		"{\"pid\":12,\"with\":{}}",
	};
	struct gv_err err = { 0 };
	struct gv_apireq_workload w;
	const char *two = "{\"pid\":4242,\"with\":[\"i-2\",\"i-9\"]}";
	size_t i;

	(void)state;
	assert_int_equal(gv_apireq_workload_parse("{\"pid\":4242}", 12, &w, &err), 0);
	assert_int_equal(w.pid, 4242);
	assert_int_equal(w.n_with, 0);
	assert_int_equal(gv_apireq_workload_parse(two, strlen(two), &w, &err), 0);
	assert_int_equal(w.pid, 4242);
	assert_int_equal(w.n_with, 2);
	assert_string_equal(w.with[0], "i-2");
	assert_string_equal(w.with[1], "i-9");
	assert_int_equal(gv_apireq_workload_parse("{\"pid\":7,\"with\":null}", 21, &w, &err), 0);
	assert_int_equal(w.n_with, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w.pid = 77;
		w.n_with = 3;
		err.msg[0] = '\0';
		assert_int_equal(gv_apireq_workload_parse(bad[i], strlen(bad[i]), &w, &err),
				 -EINVAL);
		assert_int_equal(w.pid, 0);
		assert_int_equal(w.n_with, 0);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(
		gv_apireq_workload_parse("{\"pid\":12,\"with\":[\"i-2\",\"i-2\"]}", 31, &w, &err),
		-EINVAL);
	assert_string_equal(err.msg, "field 'with' names i-2 twice");
}

static void test_resume(void **state)
{
	static const char *const bad[] = {
		"{}x",
		"{\"to\":\"\"}",
		"{\"to\":\"i 2\"}",
		"{\"to\":3}",
		"{\"to\":\"i-2\",\"x\":1}",
		"{\"to\":\"i-0123456789012345678901234567890\"}",
		"[]",
		"{\"to\":[]}",
		"{\"to\":[\"i-3\",\"i-3\"]}",
		"{\"to\":[\"i-3\",null]}",
		"{\"to\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}",
	};
	struct gv_err err = { 0 };
	struct gv_apireq_resume r;
	const char *two = "{\"to\":[\"i-3\",\"i-4\"]}";
	size_t i;

	(void)state;
	assert_int_equal(gv_apireq_resume_parse("", 0, &r, &err), 0);
	assert_int_equal(r.n_to, 0);
	assert_int_equal(gv_apireq_resume_parse("{\"to\":null}", 11, &r, &err), 0);
	assert_int_equal(r.n_to, 0);
	assert_int_equal(gv_apireq_resume_parse("{\"to\":\"i-7\"}", 12, &r, &err), 0);
	assert_int_equal(r.n_to, 1);
	assert_string_equal(r.to[0], "i-7");
	assert_int_equal(gv_apireq_resume_parse(two, strlen(two), &r, &err), 0);
	assert_int_equal(r.n_to, 2);
	assert_string_equal(r.to[0], "i-3");
	assert_string_equal(r.to[1], "i-4");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 'x', sizeof(r));
		err.msg[0] = '\0';
		assert_int_equal(gv_apireq_resume_parse(bad[i], strlen(bad[i]), &r, &err), -EINVAL);
		assert_int_equal(r.n_to, 0);
		assert_string_equal(r.to[0], "");
		assert_true(err.msg[0] != '\0');
	}
}

static int sched(const char *body, struct gv_apireq_sched *out, struct gv_err *err)
{
	return gv_apireq_sched_parse(body, strlen(body), out, err);
}

static void test_sched(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} bad[] = {
		{ "{}", "give 'policy'" },
		{ "{\"policy\":\"round-robin\"}", "field 'policy'" },
		{ "{\"policy\":\"Equal-Share\"}", "field 'policy'" },
		{ "{\"policy\":\"equal-share\\u0000x\"}", "not allowed" },
		{ "{\"policy\":\"equal-share \"}", "field 'policy'" },
		{ "{\"policy\":\"\"}", "field 'policy'" },
		{ "{\"policy\":2}", "field 'policy'" },
		{ "{\"policy\":null}", "field 'policy'" },
		{ "{\"slice_ms\":0}", "between 1 and 30" },
		{ "{\"slice_ms\":31}", "between 1 and 30" },
		{ "{\"slice_ms\":-1}", "between 1 and 30" },
		{ "{\"slice_ms\":2.5}", "must be an integer" },
		{ "{\"slice_ms\":\"2\"}", "must be an integer" },
		{ "{\"slice_ms\":2,\"slice_ms\":3}", "duplicate" },
		{ "{\"policy\":\"best-effort\",\"weight\":2}", "unknown field 'weight'" },
		{ "[\"best-effort\"]", "JSON object" },
		{ "{\"slice_ms\":2", "malformed" },
	};
	struct gv_apireq_sched r;
	struct gv_err err = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(sched("{\"policy\":\"equal-share\",\"slice_ms\":5}", &r, &err), 0);
	assert_true(r.has_policy);
	assert_int_equal(r.policy, GV_SCHED_EQUAL_SHARE);
	assert_true(r.has_slice);
	assert_int_equal(r.slice_ms, 5);
	assert_int_equal(sched("{\"policy\":\"fixed-share\"}", &r, &err), 0);
	assert_int_equal(r.policy, GV_SCHED_FIXED_SHARE);
	assert_false(r.has_slice);
	assert_int_equal(sched("{\"policy\":\"best-effort\"}", &r, &err), 0);
	assert_int_equal(r.policy, GV_SCHED_BEST_EFFORT);
	assert_int_equal(sched("{\"slice_ms\":30}", &r, &err), 0);
	assert_false(r.has_policy);
	assert_int_equal(r.slice_ms, 30);
	assert_int_equal(sched("{\"slice_ms\":1}", &r, &err), 0);
	assert_int_equal(r.slice_ms, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		memset(&r, 0x5a, sizeof(r));
		assert_int_equal(sched(bad[i].body, &r, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("%s: message '%s' lacks '%s'", bad[i].body, err.msg, bad[i].why);
		assert_false(r.has_policy);
		assert_false(r.has_slice);
		assert_int_equal(r.slice_ms, 0);
	}
	assert_int_equal(gv_apireq_sched_parse(NULL, 0, &r, &err), -EINVAL);
}

static void test_weight(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"weight\":0}",
		"{\"weight\":101}",
		"{\"weight\":-1}",
		"{\"weight\":\"2\"}",
		"{\"weight\":1.5}",
		"{\"weight\":2,\"x\":1}",
		"{\"weight\":null}",
		"{\"weight\":2,\"weight\":3}",
		"[2]",
	};
	struct gv_err err = { 0 };
	uint32_t w = 0;
	size_t i;

	(void)state;
	assert_int_equal(gv_apireq_weight_parse("{\"weight\":100}", 14, &w, &err), 0);
	assert_int_equal(w, 100);
	assert_int_equal(gv_apireq_weight_parse("{\"weight\":1}", 12, &w, &err), 0);
	assert_int_equal(w, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		w = 77;
		assert_int_equal(gv_apireq_weight_parse(bad[i], strlen(bad[i]), &w, &err), -EINVAL);
		assert_int_equal(w, 0);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_query(void **state)
{
	struct gv_apireq_query q;
	struct gv_err err = { 0 };

	(void)state;
	gv_apireq_query_init(&q, GV_APIREQ_Q_SINCE);
	assert_int_equal(gv_apireq_query_add(&q, "since", "42", &err), 0);
	assert_int_equal(q.since, 42);
	assert_int_equal(gv_apireq_query_add(&q, "since", "43", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(gv_apireq_query_add(&q, "force", "1", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown query argument 'force'"));

	gv_apireq_query_init(&q, GV_APIREQ_Q_SINCE);
	assert_int_equal(gv_apireq_query_add(&q, "since", "-1", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "since", "", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "since", NULL, &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "since", "1x", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "since", "9999999999999999999", &err), -EINVAL);
	assert_int_equal(q.seen, 0);

	gv_apireq_query_init(&q, GV_APIREQ_Q_FORCE);
	assert_int_equal(gv_apireq_query_add(&q, "force", NULL, &err), 0);
	assert_true(q.force);
	gv_apireq_query_init(&q, GV_APIREQ_Q_FORCE);
	assert_int_equal(gv_apireq_query_add(&q, "force", "false", &err), 0);
	assert_false(q.force);
	gv_apireq_query_init(&q, GV_APIREQ_Q_FORCE);
	assert_int_equal(gv_apireq_query_add(&q, "force", "yes", &err), -EINVAL);

	gv_apireq_query_init(&q, GV_APIREQ_Q_GPU);
	assert_int_equal(gv_apireq_query_add(&q, "gpu", "GPU-abc", &err), 0);
	assert_string_equal(q.gpu, "GPU-abc");
	gv_apireq_query_init(&q, GV_APIREQ_Q_GPU);
	assert_int_equal(gv_apireq_query_add(&q, "gpu", "x", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, NULL, "x", &err), -EINVAL);
	gv_apireq_query_init(&q, 0);
	assert_int_equal(gv_apireq_query_add(&q, "gpu", "0", &err), -EINVAL);

	/* history: seconds 1..600 */
	gv_apireq_query_init(&q, GV_APIREQ_Q_SECONDS);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "600", &err), 0);
	assert_int_equal(q.seconds, 600);
	gv_apireq_query_init(&q, GV_APIREQ_Q_SECONDS);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "1", &err), 0);
	assert_int_equal(q.seconds, 1);
	gv_apireq_query_init(&q, GV_APIREQ_Q_SECONDS);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "0", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'seconds' must be 1 to 600"));
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "601", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "-5", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", NULL, &err), -EINVAL);
	assert_int_equal(q.seconds, 0);
	assert_int_equal(q.seen, 0);

	/* the console's login link: a malformed ticket is kept as none */
	gv_apireq_query_init(&q, GV_APIREQ_Q_TICKET);
	assert_int_equal(gv_apireq_query_add(&q, "ticket",
					     "0123456789abcdef0123456789abcdef"
					     "0123456789abcdef0123456789abcdef",
					     &err),
			 0);
	assert_int_equal(strlen(q.ticket), 64);
	assert_false(q.bad_ticket);
	gv_apireq_query_init(&q, GV_APIREQ_Q_TICKET);
	assert_int_equal(gv_apireq_query_add(&q, "ticket", "ABC", &err), 0);
	assert_string_equal(q.ticket, "");
	assert_true(q.bad_ticket);
	gv_apireq_query_init(&q, GV_APIREQ_Q_SINCE);
	assert_int_equal(gv_apireq_query_add(&q, "ticket", "x", &err), -EINVAL);
	assert_int_equal(gv_apireq_query_add(&q, "seconds", "5", &err), -EINVAL);
}

static void test_gpu_ref(void **state)
{
	int idx = 5;

	(void)state;
	assert_int_equal(gv_apireq_gpu_ref("0", &idx, NULL), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(gv_apireq_gpu_ref("15", &idx, NULL), 0);
	assert_int_equal(idx, 15);
	assert_int_equal(gv_apireq_gpu_ref("GPU-12ab-CD", &idx, NULL), 0);
	assert_int_equal(idx, -1);
	assert_int_equal(gv_apireq_gpu_ref("100", &idx, NULL), -EINVAL);
	assert_int_equal(gv_apireq_gpu_ref("+1", &idx, NULL), -EINVAL);
	assert_int_equal(gv_apireq_gpu_ref(" 1", &idx, NULL), -EINVAL);
	assert_int_equal(gv_apireq_gpu_ref("gpu-1", &idx, NULL), -EINVAL);
	assert_int_equal(gv_apireq_gpu_ref(NULL, &idx, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_minimal),
		cmocka_unit_test(test_create_full),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_workload),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_gpu_ref),
		cmocka_unit_test(test_sched),
		cmocka_unit_test(test_weight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

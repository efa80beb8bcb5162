/* gv_http_*: the request target, ids, tokens and UTF-8 checked as bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/httpreq.h"

static int parse(const char *s, struct gv_http_target *t, struct gv_err *err)
{
	return gv_http_target_parse(s, strlen(s), t, err);
}

static void test_path_and_query(void **state)
{
	struct gv_http_target *t = malloc(sizeof(*t));
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(parse("/v1/instances/i-3?force=1&since=0&flag", t, &err), 0);
	assert_int_equal(t->n_seg, 3);
	assert_string_equal(t->seg[2], "i-3");
	assert_int_equal(t->n_arg, 3);
	assert_string_equal(t->arg[0].key, "force");
	assert_string_equal(t->arg[0].value, "1");
	assert_null(t->arg[2].value);
	/* trailing '/', %-escapes, '+' only in the query */
	assert_int_equal(parse("/v1/gpus/%47PU-a+b/?gpu=x+y%41", t, &err), 0);
	assert_int_equal(t->n_seg, 3);
	assert_string_equal(t->seg[2], "GPU-a+b");
	assert_string_equal(t->arg[0].value, "x yA");
	assert_int_equal(parse("/", t, &err), 0);
	assert_int_equal(t->n_seg, 0);
	/* empty pieces of a query are skipped */
	assert_int_equal(parse("/metrics?&&since=1&", t, &err), 0);
	assert_int_equal(t->n_arg, 1);
	free(t);
}

static void test_refusals(void **state)
{
	struct gv_http_target *t = malloc(sizeof(*t));
	struct gv_err err = { 0 };
	char *big = malloc(GV_HTTP_TARGET_MAX + 2), many[512] = "/v1/events?";
	int i;

	(void)state;
	/* NUL hidden behind an escape, raw, or a control byte */
	assert_int_equal(parse("/v1/instances/i-1%00junk", t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "control character"));
	assert_int_equal(gv_http_target_parse("/v1/i\0x", 7, t, &err), -EINVAL);
	assert_int_equal(parse("/v1/a%0a", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/a%7F", t, &err), -EINVAL);
	/* invalid UTF-8: a bad continuation, a cut sequence, overlong,
	 * surrogate, beyond U+10FFFF */
	assert_int_equal(parse("/v1/i-%C3%28", t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_int_equal(parse("/v1/i-%C3", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/%C0%AF", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/%ED%A0%80", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/%F4%90%80%80", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/x?%FF=1", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/x?a=%FF", t, &err), -EINVAL);
	/* bad escapes */
	assert_int_equal(parse("/v1/a%4", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/a%zz", t, &err), -EINVAL);
	/* keys: allowed bytes and length */
	assert_int_equal(parse("/v1/x?Since=1", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/x?=1", t, &err), -EINVAL);
	assert_int_equal(parse("/v1/x?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", t, &err), -EINVAL);
	/* too many arguments */
	for (i = 0; i < GV_HTTP_MAX_ARGS + 1; i++)
		strcat(many, "a=1&");
	assert_int_equal(parse(many, t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "more than"));
	/* not clean: 404 */
	assert_int_equal(parse("/v1//gpus", t, &err), -ENOENT);
	assert_int_equal(parse("v1/gpus", t, &err), -ENOENT);
	assert_int_equal(parse("/a/b/c/d/e/f/g", t, &err), -ENOENT);
	assert_int_equal(parse("", t, &err), -ENOENT);
	/* too long: 414 */
	memset(big, 'a', GV_HTTP_TARGET_MAX + 1);
	big[0] = '/';
	big[GV_HTTP_TARGET_MAX + 1] = '\0';
	assert_int_equal(parse(big, t, &err), -E2BIG);
	free(big);
	free(t);
}

static void test_ids_tokens_utf8(void **state)
{
	char s[] = "ok \xc3\xa9 cut \xc3";

	(void)state;
	assert_true(gv_http_id_valid("i-3", 3));
	assert_true(gv_http_id_valid("GPU-0a1b", 8));
	assert_false(gv_http_id_valid("", 0));
	assert_false(gv_http_id_valid("i/3", 3));
	assert_false(gv_http_id_valid("i-1\0x", 5));
	assert_false(gv_http_id_valid("\xc3\xa9", 2));
	assert_true(gv_http_token_valid("abc123", 6));
	assert_false(gv_http_token_valid("abc\0def", 7));
	assert_false(gv_http_token_valid("ab c", 4));
	assert_false(gv_http_token_valid("", 0));
	assert_true(gv_utf8_valid("\xe2\x82\xac", 3));
	assert_false(gv_utf8_valid("\xe2\x82", 2));
	gv_utf8_sanitize(s);
	assert_string_equal(s, "ok \xc3\xa9 cut ?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_and_query),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_ids_tokens_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

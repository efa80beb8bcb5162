#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/buf.h"

static void test_empty_buffer(void **state)
{
	struct gv_buf b = GV_BUF_INIT;
	char *s;

	(void)state;
	assert_null(b.data);
	gv_buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
	/* an empty buffer still steals as a string */
	s = gv_buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	gv_buf_free(&b);
	gv_buf_free(&b);
}

static void test_append_keeps_a_string(void **state)
{
	struct gv_buf b;

	(void)state;
	gv_buf_init(&b);
	assert_int_equal(gv_buf_append(&b, "ab", 2), 0);
	assert_int_equal(gv_buf_appends(&b, "cd"), 0);
	assert_int_equal(gv_buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "abcd");
	assert_true(b.cap > b.len);
	gv_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_appendf_grows(void **state)
{
	struct gv_buf b = GV_BUF_INIT;
	char big[5000];
	char *s;
	int i;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gv_buf_appendf(&b, "%d-%s", 7, "seven"), 0);
	assert_string_equal(b.data, "7-seven");
	/* larger than the room there is: grown to fit at once */
	assert_int_equal(gv_buf_appendf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 7 + 2 + strlen(big));
	assert_int_equal(b.data[7], '[');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(b.data[b.len], '\0');
	for (i = 0; i < 1000; i++)
		assert_int_equal(gv_buf_appendf(&b, "%d,", i % 10), 0);
	assert_int_equal(b.len, 7 + 2 + strlen(big) + 2000);
	s = gv_buf_steal(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(strncmp(s, "7-seven[", 8), 0);
	assert_int_equal(strcmp(s + strlen(s) - 4, "8,9,"), 0);
	free(s);
}

static void test_reserve_and_direct_write(void **state)
{
	struct gv_buf b = GV_BUF_INIT;

	(void)state;
	assert_int_equal(gv_buf_reserve(&b, 10000), 0);
	assert_true(b.cap >= 10001);
	assert_string_equal(b.data, "");
	memcpy(b.data + b.len, "line1\nrest", 10);
	b.len += 10;
	gv_buf_consume(&b, 6);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "rest");
	gv_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(gv_buf_reserve(&b, (size_t)-1), -EOVERFLOW);
	assert_string_equal(b.data, "");
	gv_buf_free(&b);
}

static void test_putf_keeps_the_first_failure(void **state)
{
	struct gv_buf b = GV_BUF_INIT;
	int rc = 0;

	(void)state;
	assert_int_equal(gv_buf_putf(&b, &rc, "%s=%d", "a", 1), 0);
	assert_int_equal(gv_buf_putf(&b, &rc, ";"), 0);
	assert_string_equal(b.data, "a=1;");
	/* after a failure nothing more is added */
	rc = -ENOMEM;
	assert_int_equal(gv_buf_putf(&b, &rc, "lost"), -ENOMEM);
	assert_string_equal(b.data, "a=1;");
	gv_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_buffer),
		cmocka_unit_test(test_append_keeps_a_string),
		cmocka_unit_test(test_appendf_grows),
		cmocka_unit_test(test_reserve_and_direct_write),
		cmocka_unit_test(test_putf_keeps_the_first_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/err.h"

static void test_set_returns_negative_and_formats(void **state)
{
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(gv_err_set(&err, EINVAL, "bad %s %d", "slot", 7), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "bad slot 7");
	/* negative codes are normalised */
	assert_int_equal(gv_err_set(&err, -ENOSPC, "full"), -ENOSPC);
	assert_int_equal(err.code, ENOSPC);
}

static void test_null_err_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(gv_err_set(NULL, ENOENT, "x"), -ENOENT);
	gv_err_prefix(NULL, "y");
	gv_err_clear(NULL);
}

static void test_prefix_and_truncation(void **state)
{
	struct gv_err err = { 0 };
	char big[2 * GV_ERR_MSG_MAX];

	(void)state;
	gv_err_set(&err, EIO, "disk");
	gv_err_prefix(&err, "gpu %d", 3);
	assert_string_equal(err.msg, "gpu 3: disk");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gv_err_set(&err, EIO, "%s", big);
	assert_int_equal(strlen(err.msg), GV_ERR_MSG_MAX - 1);
	gv_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_negative_and_formats),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_prefix_and_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

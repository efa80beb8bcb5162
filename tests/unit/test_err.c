#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/err.h"
#include "gpuvisor/xfuncs.h"

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

static void test_sys_appends_strerror(void **state)
{
	struct gv_err err = { 0 };

	(void)state;
	errno = ENOENT;
	assert_int_equal(gv_err_sys(&err, "cannot open %s", "/x"), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "cannot open /x: No such file or directory");
	/* errno survives the call */
	assert_int_equal(errno, ENOENT);
	assert_int_equal(gv_err_sys_code(&err, -EPERM, "kill(%d)", 7), -EPERM);
	assert_string_equal(err.msg, "kill(7): Operation not permitted");
	/* a call that left errno at 0 still fails */
	assert_int_equal(gv_err_sys_code(&err, 0, "read"), -EIO);
	assert_int_equal(err.code, EIO);
	assert_int_equal(gv_err_sys_code(NULL, EBUSY, "x"), -EBUSY);
	assert_int_equal(gv_err_nomem(&err), -ENOMEM);
	assert_string_equal(err.msg, "out of memory");
}

static void test_xfuncs(void **state)
{
	struct gv_err err = { 0 };
	char *p, *q;

	(void)state;
	p = gv_xmalloc(&err, 0);
	assert_non_null(p);
	q = gv_xrealloc(&err, p, 10);
	assert_non_null(q);
	free(q);
	p = gv_xcalloc(&err, 4, 4);
	assert_non_null(p);
	assert_int_equal(p[15], 0);
	free(p);
	p = gv_xstrdup(&err, "abc");
	assert_string_equal(p, "abc");
	free(p);
	assert_int_equal(err.code, 0);
#ifndef __SANITIZE_ADDRESS__
	/* a size no allocator gives: the error is written once, here
	 * (AddressSanitizer would report the size instead of returning NULL) */
	assert_null(gv_xmalloc(&err, SIZE_MAX));
	assert_int_equal(err.code, ENOMEM);
	assert_string_equal(err.msg, "out of memory");
	gv_err_clear(&err);
	assert_null(gv_xcalloc(&err, SIZE_MAX, 2));
	assert_string_equal(err.msg, "out of memory");
	assert_null(gv_xmalloc(NULL, SIZE_MAX));
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_negative_and_formats),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_prefix_and_truncation),
		cmocka_unit_test(test_sys_appends_strerror),
		cmocka_unit_test(test_xfuncs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/nametab.h"

enum colour { RED = 1, GREEN = 2, BLUE = 7, GREY = 8 };

const char *colour_name(enum colour c);
int colour_parse(const char *s, enum colour *out, struct gv_err *err);
const char *shade_name(enum colour c);

GV_NAMETAB(colour, enum colour, "unknown", "unknown colour '%s'", { RED, "red" },
	   { GREEN, "green" }, { BLUE, "blue" }, { GREY, "grey" }, { GREY, "gray" })

GV_NAMETAB_NAME(shade, enum colour, NULL, { RED, "dark" })

static void test_name(void **state)
{
	(void)state;
	assert_string_equal(colour_name(RED), "red");
	assert_string_equal(colour_name(BLUE), "blue");
	/* the first entry of a value is its name */
	assert_string_equal(colour_name(GREY), "grey");
	assert_string_equal(colour_name((enum colour)3), "unknown");
	assert_string_equal(shade_name(RED), "dark");
	assert_null(shade_name(GREEN));
}

static void test_parse(void **state)
{
	struct gv_err err = { 0 };
	enum colour c = RED;

	(void)state;
	assert_int_equal(colour_parse("blue", &c, &err), 0);
	assert_int_equal(c, BLUE);
	assert_int_equal(colour_parse("gray", &c, &err), 0);
	assert_int_equal(c, GREY);
	assert_int_equal(colour_parse("green", NULL, &err), 0);
	assert_int_equal(err.code, 0);
	/* exact: case counts, and *out stays */
	assert_int_equal(colour_parse("Blue", &c, &err), -EINVAL);
	assert_int_equal(c, GREY);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "unknown colour 'Blue'");
	assert_int_equal(colour_parse(NULL, &c, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown colour ''");
	assert_int_equal(colour_parse("", &c, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The console's sessions and tickets (src/core/console_auth.c) on a clock
 * and a random source driven by the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/console_auth.h"

struct fake {
	uint64_t now;
	unsigned counter; /* each draw differs */
	bool fail;
};

static uint64_t fake_clock(void *arg)
{
	return ((struct fake *)arg)->now;
}

static int fake_random(void *buf, size_t n, void *arg)
{
	struct fake *f = arg;
	unsigned char *b = buf;
	size_t i;

	if (f->fail)
		return -EIO;
	f->counter++;
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(f->counter * 31u + i * 7u + (f->counter >> 8));
	return 0;
}

static struct gv_console_auth *mk(struct fake *f)
{
	struct gv_console_auth *a = NULL;

	assert_int_equal(gv_console_auth_new(fake_clock, fake_random, f, &a, NULL), 0);
	assert_non_null(a);
	return a;
}

static void test_session_create_lookup_end(void **state)
{
	struct fake f = { .now = 1000 };
	struct gv_console_auth *a = mk(&f);
	char s1[GV_CONSOLE_SECRET_HEX + 1], s2[GV_CONSOLE_SECRET_HEX + 1];
	size_t i;

	(void)state;
	assert_int_equal(gv_console_session_new(a, s1), 0);
	assert_int_equal(strlen(s1), GV_CONSOLE_SECRET_HEX);
	for (i = 0; i < GV_CONSOLE_SECRET_HEX; i++)
		assert_non_null(strchr("0123456789abcdef", s1[i]));
	assert_int_equal(gv_console_session_new(a, s2), 0);
	assert_string_not_equal(s1, s2);
	assert_true(gv_console_session_check(a, s1, strlen(s1)));
	assert_true(gv_console_session_check(a, s2, strlen(s2)));
	/* a prefix, one byte more, one byte changed, empty: no */
	assert_false(gv_console_session_check(a, s1, GV_CONSOLE_SECRET_HEX - 1));
	assert_false(gv_console_session_check(a, "", 0));
	s1[10] ^= 1;
	assert_false(gv_console_session_check(a, s1, strlen(s1)));
	s1[10] ^= 1;
	assert_int_equal(gv_console_session_count(a), 2);
	assert_int_equal(gv_console_session_end(a, s1, strlen(s1)), 0);
	assert_false(gv_console_session_check(a, s1, strlen(s1)));
	assert_int_equal(gv_console_session_end(a, s1, strlen(s1)), -ENOENT);
	assert_true(gv_console_session_check(a, s2, strlen(s2)));
	assert_int_equal(gv_console_session_count(a), 1);
	gv_console_auth_free(a);
}

static void test_session_idle_expiry(void **state)
{
	struct fake f = { .now = 50 };
	struct gv_console_auth *a = mk(&f);
	char s[GV_CONSOLE_SECRET_HEX + 1], t[GV_CONSOLE_SECRET_HEX + 1];

	(void)state;
	assert_int_equal(gv_console_session_new(a, s), 0);
	assert_int_equal(gv_console_session_new(a, t), 0);
	/* use keeps s alive past the idle time counted from its creation */
	f.now += GV_CONSOLE_IDLE_S - 1;
	assert_true(gv_console_session_check(a, s, strlen(s)));
	f.now += GV_CONSOLE_IDLE_S - 1;
	assert_true(gv_console_session_check(a, s, strlen(s)));
	/* t, unused since its creation, is gone */
	assert_false(gv_console_session_check(a, t, strlen(t)));
	f.now += GV_CONSOLE_IDLE_S;
	assert_false(gv_console_session_check(a, s, strlen(s)));
	assert_int_equal(gv_console_session_count(a), 0);
	gv_console_auth_free(a);
}

static void test_ticket_one_use(void **state)
{
	struct fake f = { .now = 7 };
	struct gv_console_auth *a = mk(&f);
	char t[GV_CONSOLE_SECRET_HEX + 1], s[GV_CONSOLE_SECRET_HEX + 1];

	(void)state;
	assert_int_equal(gv_console_ticket_new(a, t), 0);
	/* a ticket is no session */
	assert_false(gv_console_session_check(a, t, strlen(t)));
	assert_int_equal(gv_console_ticket_redeem(a, t, strlen(t), s), 0);
	assert_int_equal(strlen(s), GV_CONSOLE_SECRET_HEX);
	assert_string_not_equal(s, t);
	assert_true(gv_console_session_check(a, s, strlen(s)));
	/* used: refused, and no second session */
	assert_int_equal(gv_console_ticket_redeem(a, t, strlen(t), s), -ENOENT);
	assert_string_equal(s, "");
	assert_int_equal(gv_console_session_count(a), 1);
	/* a session id is no ticket */
	assert_int_equal(gv_console_session_new(a, s), 0);
	assert_int_equal(gv_console_ticket_redeem(a, s, strlen(s), t), -ENOENT);
	gv_console_auth_free(a);
}

static void test_ticket_expiry(void **state)
{
	struct fake f = { .now = 100 };
	struct gv_console_auth *a = mk(&f);
	char t1[GV_CONSOLE_SECRET_HEX + 1], t2[GV_CONSOLE_SECRET_HEX + 1];
	char s[GV_CONSOLE_SECRET_HEX + 1];

	(void)state;
	assert_int_equal(gv_console_ticket_new(a, t1), 0);
	assert_int_equal(gv_console_ticket_new(a, t2), 0);
	f.now += GV_CONSOLE_TICKET_TTL_S - 1;
	assert_int_equal(gv_console_ticket_redeem(a, t1, strlen(t1), s), 0);
	f.now += 1;
	assert_int_equal(gv_console_ticket_redeem(a, t2, strlen(t2), s), -ENOENT);
	assert_int_equal(gv_console_session_count(a), 1);
	gv_console_auth_free(a);
}

static void test_cap_evicts_least_recently_used(void **state)
{
	struct fake f = { .now = 1 };
	struct gv_console_auth *a = mk(&f);
	char ids[GV_CONSOLE_MAX_SESSIONS][GV_CONSOLE_SECRET_HEX + 1];
	char extra[GV_CONSOLE_SECRET_HEX + 1];
	int i;

	(void)state;
	for (i = 0; i < GV_CONSOLE_MAX_SESSIONS; i++) {
		f.now++;
		assert_int_equal(gv_console_session_new(a, ids[i]), 0);
	}
	assert_int_equal(gv_console_session_count(a), GV_CONSOLE_MAX_SESSIONS);
	/* the oldest one is used again: the second oldest is the one to go */
	f.now++;
	assert_true(gv_console_session_check(a, ids[0], GV_CONSOLE_SECRET_HEX));
	f.now++;
	assert_int_equal(gv_console_session_new(a, extra), 0);
	assert_int_equal(gv_console_session_count(a), GV_CONSOLE_MAX_SESSIONS);
	assert_true(gv_console_session_check(a, ids[0], GV_CONSOLE_SECRET_HEX));
	assert_false(gv_console_session_check(a, ids[1], GV_CONSOLE_SECRET_HEX));
	assert_true(gv_console_session_check(a, ids[2], GV_CONSOLE_SECRET_HEX));
	assert_true(gv_console_session_check(a, extra, GV_CONSOLE_SECRET_HEX));
	gv_console_auth_free(a);
}

static void test_random_failure(void **state)
{
	struct fake f = { .now = 1 };
	struct gv_console_auth *a = mk(&f);
	char t[GV_CONSOLE_SECRET_HEX + 1], s[GV_CONSOLE_SECRET_HEX + 1];

	(void)state;
	assert_int_equal(gv_console_ticket_new(a, t), 0);
	f.fail = true;
	assert_int_equal(gv_console_session_new(a, s), -EIO);
	assert_string_equal(s, "");
	/* the ticket is spent even though no session could be made */
	assert_int_equal(gv_console_ticket_redeem(a, t, strlen(t), s), -EIO);
	f.fail = false;
	assert_int_equal(gv_console_ticket_redeem(a, t, strlen(t), s), -ENOENT);
	assert_int_equal(gv_console_session_count(a), 0);
	gv_console_auth_free(a);
}

static void test_constant_time_equal(void **state)
{
	(void)state;
	assert_true(gv_console_equal("abc", 3, "abc", 3));
	assert_false(gv_console_equal("abc", 3, "abd", 3));
	assert_false(gv_console_equal("abc", 3, "ab", 2));
	assert_false(gv_console_equal("abc", 3, "abcd", 4));
	assert_false(gv_console_equal("abc", 3, "", 0));
	assert_true(gv_console_equal("", 0, "", 0));
	/* bytes past the given length are not compared ("abc" within "abcd") */
	assert_true(gv_console_equal("abc", 3, "abcd", 3));
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_cookie_find(void **state)
{
	const char *v;
	size_t n;
	const char *h;

	(void)state;
	h = "gv_session=" HEX64;
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), 0);
	assert_int_equal(n, 64);
	assert_memory_equal(v, HEX64, 64);
	h = "theme=dark;  gv_session = " HEX64 " ; other=1";
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), 0);
	assert_memory_equal(v, HEX64, 64);
	h = "theme=dark; xgv_session=" HEX64;
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), -ENOENT);
	assert_null(v);
	assert_int_equal(gv_console_cookie_find("", 0, &v, &n), -ENOENT);
	h = "gv_session=" HEX64 "; gv_session=" HEX64;
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), -EINVAL);
	h = "gv_session=ABCDEF";
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), -EINVAL);
	h = "gv_session=" HEX64 "0";
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), -EINVAL);
	h = "novalue; gv_session=" HEX64;
	assert_int_equal(gv_console_cookie_find(h, strlen(h), &v, &n), -EINVAL);
	assert_int_equal(gv_console_cookie_find("gv_session=\x01", 12, &v, &n), -EINVAL);
	/* the length given counts, not a terminator */
	h = "gv_session=" HEX64;
	assert_int_equal(gv_console_cookie_find(h, strlen(h) - 1, &v, &n), -EINVAL);
}

static void test_login_parse(void **state)
{
	char tok[GV_CONSOLE_TOKEN_MAX + 1];
	struct gv_err err = { 0 };
	const char *b;

	(void)state;
	b = "{\"token\":\"abc123\"}";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), 0);
	assert_string_equal(tok, "abc123");
	b = "{\"token\":\"abc\",\"x\":1}";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), -EINVAL);
	assert_string_equal(tok, "");
	assert_non_null(strstr(err.msg, "unknown field 'x'"));
	b = "{}";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "token"));
	b = "{\"token\":5}";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), -EINVAL);
	b = "{\"token\":\"a b\"}";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), -EINVAL);
	b = "[\"token\"]";
	assert_int_equal(gv_console_login_parse(b, strlen(b), tok, sizeof(tok), &err), -EINVAL);
	b = "";
	assert_int_equal(gv_console_login_parse(b, 0, tok, sizeof(tok), &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_create_lookup_end),
		cmocka_unit_test(test_session_idle_expiry),
		cmocka_unit_test(test_ticket_one_use),
		cmocka_unit_test(test_ticket_expiry),
		cmocka_unit_test(test_cap_evicts_least_recently_used),
		cmocka_unit_test(test_random_failure),
		cmocka_unit_test(test_constant_time_equal),
		cmocka_unit_test(test_cookie_find),
		cmocka_unit_test(test_login_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

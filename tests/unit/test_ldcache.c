/* ldcache: SONAME lookup in a loader cache written by the system's own
 * ldconfig (a directory with a library whose SONAME is libgvtest.so.7),
 * and damaged caches refused without reading outside them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/ldcache.h"

static char dir[64];
static char cache[128];

static int setup(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gv-ldcache.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cache, sizeof(cache), "%s/ld.so.cache", dir);
	/* a real ELF library with a SONAME of its own, and a cache of its
	 * directory made by ldconfig (-X: no links; -f: our conf only) */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'int gv_x(void){return 7;}\\n' > x.c && "
		 "cc -shared -fPIC -Wl,-soname,libgvtest.so.7 -o libgvtest.so.7.1 x.c && "
		 "echo %s > ld.conf && "
		 "PATH=$PATH:/sbin:/usr/sbin ldconfig -X -C %s -f %s/ld.conf 2>/dev/null",
		 dir, dir, cache, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_found_by_soname(void **state)
{
	struct gv_err err = { 0 };
	char out[256], want[256];

	(void)state;
	snprintf(want, sizeof(want), "%s/libgvtest.so.7", dir);
	assert_int_equal(gv_ldcache_lookup(cache, "libgvtest.so.7", out, sizeof(out), &err), 0);
	assert_string_equal(out, want);
	assert_int_equal(gv_ldcache_lookup(cache, "libgvtest.so.8", out, sizeof(out), &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "libgvtest.so.8"));
	assert_int_equal(gv_ldcache_lookup(cache, "libgvtest.so.7", out, 8, &err), -ENAMETOOLONG);
	assert_int_equal(gv_ldcache_lookup("/nonexistent/ld.so.cache", "x", out, sizeof(out), &err),
			 -ENOENT);
}

static void test_damaged_refused(void **state)
{
	struct gv_err err = { 0 };
	char out[256], *buf;
	FILE *f;
	long len;

	(void)state;
	f = fopen(cache, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* every truncation is refused or still finds the right thing */
	for (long cut = 0; cut < len; cut += 7) {
		int r = gv_ldcache_find(buf, (size_t)cut, "libgvtest.so.7", out, sizeof(out), &err);

		assert_true(r == -EINVAL || r == -ENOENT || r == 0);
	}
	assert_int_equal(gv_ldcache_find("hello", 5, "x", out, sizeof(out), &err), -EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_by_soname),
		cmocka_unit_test(test_damaged_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

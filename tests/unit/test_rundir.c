/* The run directory's layout (rundir.h): the paths the daemon, its
 * accounting readers and the tests (tests/integration use $GV_RUN/acct,
 * $GV_RUN/sched ...) agree on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/rundir.h"

static void test_files_and_dirs(void **state)
{
	static const struct {
		enum gv_rundir_path what;
		const char *name, *want;
	} cases[] = {
		{ GV_RUNDIR_ACCT, "i-1", "/run/gv/acct/i-1.acct" },
		{ GV_RUNDIR_ACCT, NULL, "/run/gv/acct" },
		{ GV_RUNDIR_LIMIT, "i-2", "/run/gv/limit/i-2.limit" },
		{ GV_RUNDIR_SCHED, "GPU-1234", "/run/gv/sched/GPU-1234.sched" },
		{ GV_RUNDIR_SCHED, NULL, "/run/gv/sched" },
		{ GV_RUNDIR_TENANT, "i-3", "/run/gv/tenant/i-3" },
		{ GV_RUNDIR_TENANT, NULL, "/run/gv/tenant" },
		{ GV_RUNDIR_TENANT_SOCK, "i-3", "/run/gv/tenant/i-3/tenant.sock" },
		{ GV_RUNDIR_CTL, "i-4", "/run/gv/ctl/i-4" },
		{ GV_RUNDIR_CTL_SOCK, "i-4", "/run/gv/ctl/i-4/shim.sock" },
		{ GV_RUNDIR_CTL_BULK, "i-4", "/run/gv/ctl/i-4/bulk.sock" },
		{ GV_RUNDIR_DRIVER, "libnvidia-ml.so.1", "/run/gv/driver/libnvidia-ml.so.1" },
		{ GV_RUNDIR_DRIVER, NULL, "/run/gv/driver" },
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			gv_rundir_path("/run/gv", cases[i].what, cases[i].name, out, sizeof(out)),
			0);
		assert_string_equal(out, cases[i].want);
	}
}

static void test_refusals_leave_empty(void **state)
{
	char out[16];

	(void)state;
	/* a socket needs the instance it belongs to */
	strcpy(out, "x");
	assert_int_equal(gv_rundir_path("/r", GV_RUNDIR_TENANT_SOCK, NULL, out, sizeof(out)),
			 -EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(gv_rundir_path("/r", GV_RUNDIR_CTL_BULK, NULL, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(gv_rundir_path("/r", (enum gv_rundir_path)99, "a", out, sizeof(out)),
			 -EINVAL);
	assert_string_equal(out, "");
	/* "/r/acct/i-1.acct" is 16 characters: one too many for out[16] */
	assert_int_equal(gv_rundir_path("/r", GV_RUNDIR_ACCT, "i-1", out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(gv_rundir_path("/r", GV_RUNDIR_ACCT, "i1", out, sizeof(out)), 0);
	assert_string_equal(out, "/r/acct/i1.acct");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_and_dirs),
		cmocka_unit_test(test_refusals_leave_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* src/slurm/vgpu.c: --vgpu parsing, owner tag, socket template, owned
 * instances, task pick, /proc stat state. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vgpu.h"

static void test_parse(void **state)
{
	char names[GV_VGPU_MAX][GV_VGPU_NAME_MAX];
	struct gv_err err = { 0 };
	char longname[80];
	int n = -1;

	assert_int_equal(gv_vgpu_parse("h100-20c", names, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "h100-20c");
	assert_int_equal(gv_vgpu_parse("3g.40gb,h100-20c,passthrough", names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[1], "h100-20c");
	assert_string_equal(names[2], "passthrough");
	assert_int_equal(gv_vgpu_parse("", names, &n, &err), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(gv_vgpu_parse("a,,b", names, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty profile"));
	assert_int_equal(gv_vgpu_parse("a,", names, &n, &err), -EINVAL);
	assert_int_equal(gv_vgpu_parse("h100 20c", names, &n, &err), -EINVAL);
	assert_int_equal(gv_vgpu_parse("a/../b", names, &n, &err), -EINVAL);
	assert_int_equal(gv_vgpu_parse("a,a,a,a,a,a,a,a", names, &n, &err), 0);
	assert_int_equal(n, 8);
	assert_int_equal(gv_vgpu_parse("a,a,a,a,a,a,a,a,a", names, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "at most 8"));
	memset(longname, 'x', 70);
	longname[70] = '\0';
	assert_int_equal(gv_vgpu_parse(longname, names, &n, &err), -EINVAL);
}

static void test_owner_socket(void **state)
{
	char owner[GV_VGPU_OWNER_MAX], sock[108];
	struct gv_err err = { 0 };

	gv_vgpu_owner(4294967295u, owner);
	assert_string_equal(owner, "slurm:job:4294967295");
	assert_int_equal(gv_vgpu_socket("/run/gpuvisor/api.sock", NULL, sock, sizeof(sock), &err),
			 0);
	assert_string_equal(sock, "/run/gpuvisor/api.sock");
	assert_int_equal(gv_vgpu_socket("/tmp/gv/%n/api.sock", "gv2", sock, sizeof(sock), &err), 0);
	assert_string_equal(sock, "/tmp/gv/gv2/api.sock");
	assert_int_equal(gv_vgpu_socket("/tmp/100%%/%n", "a", sock, sizeof(sock), &err), 0);
	assert_string_equal(sock, "/tmp/100%/a");
	assert_int_equal(gv_vgpu_socket("/tmp/%n", NULL, sock, sizeof(sock), &err), -EINVAL);
	assert_int_equal(gv_vgpu_socket("/tmp/%x", "a", sock, sizeof(sock), &err), -EINVAL);
	assert_int_equal(gv_vgpu_socket("/tmp/%", "a", sock, sizeof(sock), &err), -EINVAL);
	assert_int_equal(gv_vgpu_socket("", "a", sock, sizeof(sock), &err), -EINVAL);
	assert_int_equal(gv_vgpu_socket("/tmp/%n", "a", sock, 6, &err), -ENAMETOOLONG);
	assert_int_equal(gv_vgpu_socket("/tmp/%n", "a", sock, 7, &err), 0);
}

static void test_owned(void **state)
{
	json_t *ans = json_loads("{\"instances\":["
				 "{\"id\":\"i-1\",\"owner\":\"slurm:job:7\"},"
				 "{\"id\":\"i-2\",\"owner\":null},"
				 "{\"id\":\"i-3\",\"owner\":\"slurm:job:77\"},"
				 "{\"id\":\"i-4\",\"owner\":\"slurm:job:7\"},"
				 "{\"id\":\"i-5\"}]}",
				 0, NULL);
	char ids[4][32];

	assert_non_null(ans);
	assert_int_equal(gv_vgpu_owned(ans, "slurm:job:7", ids, 4), 2);
	assert_string_equal(ids[0], "i-1");
	assert_string_equal(ids[1], "i-4");
	assert_int_equal(gv_vgpu_owned(ans, "slurm:job:7", ids, 1), 1);
	assert_int_equal(gv_vgpu_owned(ans, "slurm:job:8", ids, 4), 0);
	assert_int_equal(gv_vgpu_owned(NULL, "slurm:job:7", ids, 4), 0);
	json_decref(ans);
}

static void test_pick_state(void **state)
{
	assert_int_equal(gv_vgpu_pick(0, 2), 0);
	assert_int_equal(gv_vgpu_pick(3, 2), 1);
	assert_int_equal(gv_vgpu_pick(5, 1), 0);
	assert_int_equal(gv_vgpu_pick(5, 0), 0);
	assert_int_equal(gv_vgpu_stat_state("123 (gv-infer) T 1 2 3"), 'T');
	assert_int_equal(gv_vgpu_stat_state("123 (a) b) (c) R 1"), 'R');
	assert_int_equal(gv_vgpu_stat_state("123 (x)"), 0);
	assert_int_equal(gv_vgpu_stat_state("garbage"), 0);
	assert_int_equal(gv_vgpu_stat_state(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_owner_socket),
		cmocka_unit_test(test_owned),
		cmocka_unit_test(test_pick_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

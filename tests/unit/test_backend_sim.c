#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"

static struct gv_catalog *cat;
static char tmpdir[256];
static int test_no;

static int setup(void **state)
{
	const char *src = getenv("GV_TEST_SOURCE_DIR");
	char path[1024];
	struct gv_err err = { 0 };

	(void)state;
	unsetenv("GPUVISOR_SIM_FAIL");
	unsetenv("GPUVISOR_SIM_CRASH");
	snprintf(path, sizeof(path), "%s/data/catalog.json", src ? src : GV_SOURCE_DIR);
	if (gv_catalog_load(path, &cat, &err) != 0) {
		fprintf(stderr, "catalog: %s\n", err.msg);
		return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gv-test-sim-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	gv_catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh state file path for each test. */
static void state_path(char *out, size_t len)
{
	snprintf(out, len, "%s/state-%d.json", tmpdir, ++test_no);
}

static const struct gv_profile *prof(const char *model, const char *name)
{
	const struct gv_model *m = gv_catalog_find_model(cat, model);
	const struct gv_profile *p = m ? gv_model_find_profile(m, name) : NULL;

	assert_non_null(p);
	return p;
}

static struct gv_backend *sim_from_spec(const char *spec, const char *path)
{
	struct gv_node_desc d;
	struct gv_backend *be = NULL;
	struct gv_err err = { 0 };

	assert_int_equal(gv_node_from_spec(cat, spec, &d, &err), 0);
	if (gv_backend_sim_new(cat, &d, path, &be, &err) != 0)
		fail_msg("gv_backend_sim_new: %s", err.msg);
	assert_string_equal(be->ops->name, "sim");
	return be;
}

static void query(struct gv_backend *be, struct gv_node_desc *n)
{
	struct gv_err err = { 0 };

	assert_int_equal(be->ops->query(be, n, &err), 0);
}

static void test_state_survives_new_backend(void **state)
{
	char path[512], uuid[GV_UUID_MAX];
	struct gv_backend *be, *be2 = NULL;
	struct gv_node_desc n, onfile;
	struct gv_err err = { 0 };

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:2,l4:1", path);
	/* the file exists from the start */
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(be->ops->set_mig_mode(be, 1, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 1, prof("h100-80gb", "3g.40gb"), 4, uuid, &err),
			 0);
	assert_int_equal(strncmp(uuid, "MIG-", 4), 0);
	gv_backend_free(be);

	/* a restarted daemon, with or without the description, finds it */
	be = sim_from_spec("h100-80gb:2,l4:1", path);
	query(be, &n);
	assert_int_equal(n.n_gpus, 3);
	assert_false(n.gpus[0].mig_mode);
	assert_true(n.gpus[1].mig_mode);
	assert_int_equal(n.gpus[1].n_mig, 1);
	assert_string_equal(n.gpus[1].mig[0].uuid, uuid);
	assert_int_equal(n.gpus[1].mig[0].start, 4);
	assert_string_equal(n.gpus[1].mig[0].profile->name, "3g.40gb");
	gv_backend_free(be);

	assert_int_equal(gv_backend_sim_new(cat, NULL, path, &be2, &err), 0);
	query(be2, &n);
	assert_string_equal(n.gpus[1].mig[0].uuid, uuid);
	gv_backend_free(be2);

	/* the file is an ordinary node description */
	assert_int_equal(gv_node_load(cat, path, &onfile, &err), 0);
	assert_string_equal(onfile.gpus[1].mig[0].uuid, uuid);
	assert_int_equal(onfile.mig_serial, 1);
}

static void test_state_of_another_node_is_refused(void **state)
{
	char path[512];
	struct gv_backend *be, *be2 = (struct gv_backend *)&be;
	struct gv_node_desc d;
	struct gv_err err = { 0 };

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:2", path);
	gv_backend_free(be);
	assert_int_equal(gv_node_from_spec(cat, "h100-80gb:1,a100-40gb:1", &d, &err), 0);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EEXIST);
	assert_null(be2);
	assert_non_null(strstr(err.msg, "GPU 1"));
	assert_int_equal(gv_node_from_spec(cat, "h100-80gb:3", &d, &err), 0);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EEXIST);
	/* neither a description nor a state file */
	state_path(path, sizeof(path));
	assert_int_equal(gv_backend_sim_new(cat, NULL, path, &be2, &err), -EINVAL);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_mig_mode_rules(void **state)
{
	char path[512], uuid[GV_UUID_MAX];
	struct gv_backend *be;
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:1,l4:1", path);
	assert_int_equal(be->ops->set_mig_mode(be, 1, true, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "does not support MIG"));
	assert_int_equal(be->ops->set_mig_mode(be, 7, true, &err), -EINVAL);
	assert_int_equal(be->ops->set_mig_mode(be, -1, true, &err), -EINVAL);
	/* MIG instances need MIG mode */
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 0, uuid, &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "not in MIG mode"));
	assert_string_equal(uuid, "");
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 0, uuid, &err),
			 0);
	assert_int_equal(be->ops->set_mig_mode(be, 0, false, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "MIG instance"));
	query(be, &n);
	assert_true(n.gpus[0].mig_mode);
	assert_int_equal(be->ops->mig_destroy(be, 0, uuid, &err), 0);
	assert_int_equal(be->ops->set_mig_mode(be, 0, false, &err), 0);
	query(be, &n);
	assert_false(n.gpus[0].mig_mode);
	gv_backend_free(be);
	/* and that is what the "hardware" remembers */
	be = sim_from_spec("h100-80gb:1,l4:1", path);
	query(be, &n);
	assert_false(n.gpus[0].mig_mode);
	assert_int_equal(n.gpus[0].n_mig, 0);
	gv_backend_free(be);
}

static void test_mig_create_destroy_rules(void **state)
{
	char path[512], a[GV_UUID_MAX], b[GV_UUID_MAX], c[GV_UUID_MAX];
	struct gv_backend *be;
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:1,a100-40gb:1", path);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	/* bad start: NVML_ERROR_INVALID_ARGUMENT */
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "3g.40gb"), 2, a, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "3g.40gb"));
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "7g.80gb"), 1, a, &err),
			 -EINVAL);
	/* not a MIG profile of this model */
	assert_int_equal(be->ops->mig_create(be, 0, prof("a100-40gb", "3g.20gb"), 0, a, &err),
			 -EINVAL);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "h100-8c"), 0, a, &err),
			 -EINVAL);
	assert_int_equal(be->ops->mig_create(be, 0, NULL, 0, a, &err), -EINVAL);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 0);

	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "4g.40gb"), 0, a, &err), 0);
	/* overlap: NVML_ERROR_INSUFFICIENT_RESOURCES */
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "3g.40gb"), 0, b, &err),
			 -ENOSPC);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 3, b, &err),
			 -ENOSPC);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "3g.40gb"), 4, b, &err), 0);
	assert_string_not_equal(a, b);
	/* full: every memory slice and all 7 compute slices are used */
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 6, c, &err),
			 -ENOSPC);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 2);

	assert_int_equal(
		be->ops->mig_destroy(be, 0, "MIG-00000000-0000-4000-8000-000000000000", &err),
		-ENOENT);
	assert_int_equal(be->ops->mig_destroy(be, 1, a, &err), -ENOENT);
	assert_int_equal(be->ops->mig_destroy(be, 0, a, &err), 0);
	assert_int_equal(be->ops->mig_destroy(be, 0, a, &err), -ENOENT);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	assert_string_equal(n.gpus[0].mig[0].uuid, b);
	/* the freed slots take new instances; the same place gives a new UUID */
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "4g.40gb"), 0, c, &err), 0);
	assert_string_not_equal(a, c);
	gv_backend_free(be);
}

static void test_media_extensions_max_one(void **state)
{
	char path[512], uuid[GV_UUID_MAX];
	struct gv_backend *be;
	struct gv_err err = { 0 };
	const struct gv_profile *me = prof("h100-80gb", "1g.10gb+me");

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:1", path);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, me, 0, uuid, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, me, 1, uuid, &err), -ENOSPC);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 1, uuid, &err),
			 0);
	gv_backend_free(be);
}

static void test_fault_injection(void **state)
{
	char path[512], a[GV_UUID_MAX], b[GV_UUID_MAX];
	struct gv_backend *be, *be2 = NULL;
	struct gv_node_desc n, d;
	struct gv_err err = { 0 };
	const struct gv_profile *p = prof("h100-80gb", "1g.10gb");

	(void)state;
	state_path(path, sizeof(path));
	setenv("GPUVISOR_SIM_FAIL", "mig_create:2,mig_destroy:1", 1);
	be = sim_from_spec("h100-80gb:1", path);
	unsetenv("GPUVISOR_SIM_FAIL");
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, p, 0, a, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, p, 1, b, &err), -EIO);
	assert_non_null(strstr(err.msg, "injected"));
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	assert_int_equal(be->ops->mig_create(be, 0, p, 1, b, &err), 0);
	assert_int_equal(be->ops->mig_destroy(be, 0, a, &err), -EIO);
	assert_int_equal(be->ops->mig_destroy(be, 0, a, &err), 0);
	gv_backend_free(be);

	/* malformed values are refused, not ignored */
	assert_int_equal(gv_node_from_spec(cat, "h100-80gb:1", &d, &err), 0);
	state_path(path, sizeof(path));
	setenv("GPUVISOR_SIM_FAIL", "mig_create", 1);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EINVAL);
	setenv("GPUVISOR_SIM_FAIL", "mig_craete:1", 1);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EINVAL);
	setenv("GPUVISOR_SIM_FAIL", "mig_create:0", 1);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EINVAL);
	unsetenv("GPUVISOR_SIM_FAIL");
	setenv("GPUVISOR_SIM_CRASH", "somewhere", 1);
	assert_int_equal(gv_backend_sim_new(cat, &d, path, &be2, &err), -EINVAL);
	unsetenv("GPUVISOR_SIM_CRASH");
	assert_null(be2);
}

static void test_crash_after_create_keeps_instance(void **state)
{
	char path[512];
	struct gv_backend *be;
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	int status = 0;
	pid_t pid;

	(void)state;
	state_path(path, sizeof(path));
	be = sim_from_spec("h100-80gb:1", path);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	gv_backend_free(be);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gv_backend *child = NULL;
		char uuid[GV_UUID_MAX];

		setenv("GPUVISOR_SIM_CRASH", "mig_create_after", 1);
		if (gv_backend_sim_new(cat, NULL, path, &child, NULL) != 0)
			_exit(2);
		child->ops->mig_create(child, 0, prof("h100-80gb", "2g.20gb"), 2, uuid, NULL);
		_exit(3); /* not reached when the crash point works */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	be = sim_from_spec("h100-80gb:1", path);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	assert_int_equal(n.gpus[0].mig[0].start, 2);
	gv_backend_free(be);
}

static void test_failed_save_changes_nothing(void **state)
{
	char dir[512], path[600], uuid[GV_UUID_MAX];
	struct gv_backend *be;
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	snprintf(dir, sizeof(dir), "%s/vanishing", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	be = sim_from_spec("h100-80gb:1", path);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 0, uuid, &err),
			 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-80gb", "1g.10gb"), 1, uuid, &err),
			 -ENOENT);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	assert_int_equal(be->ops->mig_destroy(be, 0, n.gpus[0].mig[0].uuid, &err), -ENOENT);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	assert_int_equal(be->ops->set_mig_mode(be, 0, false, &err), -EBUSY);
	gv_backend_free(be);
}

static void test_in_memory_backend(void **state)
{
	char uuid[GV_UUID_MAX];
	struct gv_backend *be;
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	be = sim_from_spec("a30-24gb:1", NULL);
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("a30-24gb", "2g.12gb"), 2, uuid, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("a30-24gb", "2g.12gb"), 1, uuid, &err),
			 -EINVAL);
	query(be, &n);
	assert_int_equal(n.gpus[0].n_mig, 1);
	gv_backend_free(be);
	gv_backend_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_survives_new_backend),
		cmocka_unit_test(test_state_of_another_node_is_refused),
		cmocka_unit_test(test_mig_mode_rules),
		cmocka_unit_test(test_mig_create_destroy_rules),
		cmocka_unit_test(test_media_extensions_max_one),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_crash_after_create_keeps_instance),
		cmocka_unit_test(test_failed_save_changes_nothing),
		cmocka_unit_test(test_in_memory_backend),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

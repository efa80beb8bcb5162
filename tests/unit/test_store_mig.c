/* The migrations table of the store (schema 3): rows survive a reopen,
 * update writes every mutable field, ids are refused twice, lists are in
 * creation order, report/progress text round-trips, a schema-2 file is
 * migrated with its rows kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gpuvisor/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return store_fx_setup(state, "/tmp/gv-store-mig-XXXXXX");
}

static struct gv_store_mig mk(const char *id, const char *src)
{
	struct gv_store_mig m;

	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", id);
	snprintf(m.src, sizeof(m.src), "%s", src);
	snprintf(m.src_device, sizeof(m.src_device), "GPU-a");
	snprintf(m.mode, sizeof(m.mode), "precopy");
	snprintf(m.ctl, sizeof(m.ctl), "/run/gpuvisor/ctl/%s.sock", src);
	m.downtime_limit_ms = 300;
	m.pid = 4242;
	m.created = 1700000000;
	return m;
}

static void test_insert_get_update(void **state)
{
	struct fx *f = *state;
	struct gv_store_mig m = mk("m-1", "i-1"), g;
	struct gv_err err = { 0 };

	assert_int_equal(gv_store_mig_insert(f->st, &m, &err), 0);
	assert_int_equal(gv_store_mig_insert(f->st, &m, &err), -EEXIST);
	assert_int_equal(gv_store_mig_get(f->st, "m-1", &g, &err), 0);
	assert_string_equal(g.src, "i-1");
	assert_string_equal(g.dst, "");
	assert_false(g.dst_created);
	assert_int_equal(g.state, GV_MIGST_RUNNING);
	assert_null(g.report);
	assert_null(g.progress);
	assert_int_equal(g.pid, 4242);
	assert_string_equal(g.ctl, "/run/gpuvisor/ctl/i-1.sock");
	assert_string_equal(g.more, ""); /* one instance */
	gv_store_mig_release(&g);

	snprintf(m.more, sizeof(m.more), "i-5=i-7,i-6=i-8"); /* schema 6: a span's pairs */
	snprintf(m.dst, sizeof(m.dst), "i-2");
	snprintf(m.dst_device, sizeof(m.dst_device), "GPU-b");
	m.dst_created = true;
	m.state = GV_MIGST_COMPLETED;
	m.finished = 1700000042;
	snprintf(m.error, sizeof(m.error), "note");
	m.report = strdup("{\"result\":\"ok\"}");
	m.progress = strdup("[{\"seq\":1}]");
	assert_int_equal(gv_store_mig_update(f->st, &m, &err), 0);
	reopen(f);
	assert_int_equal(gv_store_mig_get(f->st, "m-1", &g, &err), 0);
	assert_string_equal(g.dst, "i-2");
	assert_string_equal(g.dst_device, "GPU-b");
	assert_true(g.dst_created);
	assert_int_equal(g.state, GV_MIGST_COMPLETED);
	assert_int_equal(g.finished, 1700000042);
	assert_string_equal(g.error, "note");
	assert_string_equal(g.report, "{\"result\":\"ok\"}");
	assert_string_equal(g.progress, "[{\"seq\":1}]");
	assert_string_equal(g.more, "i-5=i-7,i-6=i-8");
	gv_store_mig_release(&g);
	gv_store_mig_release(&m);

	assert_int_equal(gv_store_mig_get(f->st, "m-9", &g, &err), -ENOENT);
	m = mk("m-9", "i-1");
	assert_int_equal(gv_store_mig_update(f->st, &m, &err), -ENOENT);
	assert_int_equal(gv_store_mig_delete(f->st, "m-9", &err), -ENOENT);
	assert_int_equal(gv_store_mig_delete(f->st, "m-1", &err), 0);
	assert_int_equal(gv_store_mig_get(f->st, "m-1", &g, &err), -ENOENT);
}

static void test_list_order_and_names(void **state)
{
	struct fx *f = *state;
	struct gv_store_mig a = mk("m-10", "i-1"), b = mk("m-2", "i-3"), *arr = NULL;
	struct gv_err err = { 0 };
	size_t n = 0;

	assert_int_equal(gv_store_mig_list(f->st, &arr, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(gv_store_mig_insert(f->st, &a, &err), 0);
	b.state = GV_MIGST_SWITCHED;
	assert_int_equal(gv_store_mig_insert(f->st, &b, &err), 0);
	assert_int_equal(gv_store_mig_list(f->st, &arr, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(arr[0].id, "m-2"); /* by the id's number, not its text */
	assert_string_equal(arr[1].id, "m-10");
	gv_store_mig_list_free(arr, n);
	assert_string_equal(gv_store_mig_state_name(GV_MIGST_SWITCHED), "running");
	assert_string_equal(gv_store_mig_state_name(GV_MIGST_ABORTED), "aborted");
	assert_string_equal(gv_store_mig_state_name(GV_MIGST_FAILED), "failed");
	assert_string_equal(gv_store_mig_state_name((enum gv_store_mig_state)77), "unknown");
	a = mk("", "i-1");
	assert_int_equal(gv_store_mig_insert(f->st, &a, &err), -EINVAL);
}

/* A database written at schema 2 gets the table and keeps its instances. */
static void test_from_schema_2(void **state)
{
	struct fx *f = *state;
	struct gv_store_mig m = mk("m-1", "i-1");
	struct gv_err err = { 0 };
	sqlite3 *db;

	/* rewinding only works while migrations is the newest step */
	if (GV_STORE_SCHEMA_VERSION != 3)
		skip();
	gv_store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TABLE migrations; PRAGMA user_version = 2;"
				      "INSERT INTO counters(name, value) VALUES('instance', 7);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gv_store_open(f->path, &f->st, &err), 0);
	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
	assert_int_equal(gv_store_mig_insert(f->st, &m, &err), 0);
	{
		int64_t next = 0;

		assert_int_equal(gv_store_next_id(f->st, "instance", &next, &err), 0);
		assert_int_equal(next, 8);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_get_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_schema_2, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

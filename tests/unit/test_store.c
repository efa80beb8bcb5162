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

#define GV_STR_(x) #x
#define GV_STR(x) GV_STR_(x)

static int setup(void **state)
{
	return store_fx_setup(state, "/tmp/gv-store-XXXXXX");
}

static struct gv_store_inst mk(const char *id, const char *gpu, const char *profile, int start)
{
	struct gv_store_inst in;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "%s", id);
	snprintf(in.gpu_uuid, sizeof(in.gpu_uuid), "%s", gpu);
	snprintf(in.profile, sizeof(in.profile), "%s", profile);
	in.kind = start >= 0 ? GV_PROFILE_MIG : GV_PROFILE_TIMESLICE;
	in.start = start;
	in.fb_mib = 4864;
	in.state = GV_INST_CREATING;
	in.created = 1700000000;
	return in;
}

static void test_schema_version(void **state)
{
	struct fx *f = *state;

	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
	reopen(f);
	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct gv_err err = { 0 };
	struct gv_store *st = (struct gv_store *)0x1;
	sqlite3 *db;

	gv_store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gv_store_open(f->path, &st, &err), -EPROTO);
	assert_null(st);
	assert_non_null(strstr(err.msg, "schema version 99"));
	/* the refused file is left as it was */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = " GV_STR(GV_STORE_SCHEMA_VERSION), NULL, NULL,
		     NULL);
	sqlite3_close(db);
	reopen(f);
}

/* A database written by schema 1 (the first release) opens, gets the
 * scheduler columns with their defaults, and keeps its rows. */
static void test_migrate_from_v1(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst in;
	enum gv_mode m = GV_MODE_PASSTHROUGH;
	char policy[32] = "x";
	uint32_t w = 0, us = 7;
	sqlite3 *db;

	gv_store_close(f->st);
	f->st = NULL;
	unlink(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
			"CREATE TABLE gpus (uuid TEXT PRIMARY KEY, mode TEXT NOT NULL);"
			"CREATE TABLE instances ("
			" id TEXT PRIMARY KEY, seq INTEGER NOT NULL, gpu_uuid TEXT NOT NULL,"
			" profile TEXT NOT NULL, kind INTEGER NOT NULL, start INTEGER NOT NULL,"
			" fb_mib INTEGER NOT NULL, state INTEGER NOT NULL,"
			" device_uuid TEXT NOT NULL, created INTEGER NOT NULL,"
			" wl_pid INTEGER NOT NULL DEFAULT 0, wl_pgid INTEGER NOT NULL DEFAULT 0,"
			" wl_starttime INTEGER NOT NULL DEFAULT 0,"
			" wl_since INTEGER NOT NULL DEFAULT 0);"
			"CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
			" time INTEGER NOT NULL, kind TEXT NOT NULL, gpu INTEGER,"
			" instance TEXT, message TEXT NOT NULL);"
			"INSERT INTO gpus VALUES('GPU-a', 'timeslice');"
			"INSERT INTO instances(id, seq, gpu_uuid, profile, kind, start, fb_mib,"
			" state, device_uuid, created) VALUES('i-4', 4, 'GPU-a', 'h100-20c',"
			" 1, -1, 20480, 1, 'GPU-a', 1700000000);"
			"PRAGMA user_version = 1;",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
	assert_int_equal(gv_store_inst_get(f->st, "i-4", &in, NULL), 0);
	assert_string_equal(in.profile, "h100-20c");
	assert_string_equal(in.owner, ""); /* schema 5: no owner before */
	assert_int_equal(gv_store_inst_get_weight(f->st, "i-4", &w, NULL), 0);
	assert_int_equal(w, 1);
	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-a", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_TIMESLICE);
	assert_int_equal(gv_store_gpu_get_sched(f->st, "GPU-a", policy, sizeof(policy), &us, NULL),
			 -ENOENT);
	assert_string_equal(policy, "");
	assert_int_equal(us, 0);
	/* opening again applies nothing twice */
	reopen(f);
	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
}

/* Schema 5 -> 6: a row with a workload keeps it, and is in no span. */
static void test_migrate_from_v5_span(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst in;
	sqlite3 *db;

	assert_int_equal(
		gv_store_inst_insert(f->st,
				     &(struct gv_store_inst){ .id = "i-2",
							      .gpu_uuid = "GPU-a",
							      .profile = "passthrough",
							      .start = -1,
							      .state = GV_INST_READY,
							      .wl_pid = 4242,
							      .wl_pgid = 4242,
							      .wl_starttime = 77,
							      .wl_state = GV_WL_SUSPENDED },
				     NULL),
		0);
	gv_store_close(f->st);
	f->st = NULL;
	/* back to what schema 5 had: no span columns */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "ALTER TABLE instances DROP COLUMN wl_span;"
				      "ALTER TABLE instances DROP COLUMN wl_span_pos;"
				      "ALTER TABLE migrations DROP COLUMN more;"
				      "PRAGMA user_version = 5;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(gv_store_schema_version(f->st), GV_STORE_SCHEMA_VERSION);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &in, NULL), 0);
	assert_int_equal(in.wl_pid, 4242);
	assert_int_equal(in.wl_state, GV_WL_SUSPENDED);
	assert_string_equal(in.wl_span, "");
	assert_int_equal(in.wl_span_pos, 0);
}

/* A span: members name the owner and their place; registering a workload
 * (or clearing it) takes the instance out of any span. */
static void test_span(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("i-1", "GPU-a", "passthrough", -1), b = a, got;
	struct gv_err err = { 0 };

	snprintf(b.id, sizeof(b.id), "i-2");
	assert_int_equal(gv_store_inst_insert(f->st, &a, NULL), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &b, NULL), 0);
	assert_int_equal(gv_store_inst_set_workload(f->st, "i-1", 99, 99, 5, 6, NULL), 0);
	assert_int_equal(gv_store_inst_set_workload(f->st, "i-2", 99, 99, 5, 6, NULL), 0);
	assert_int_equal(gv_store_inst_set_span(f->st, "i-1", "i-1", 0, NULL), 0);
	assert_int_equal(gv_store_inst_set_span(f->st, "i-2", "i-1", 1, NULL), 0);
	reopen(f);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, NULL), 0);
	assert_string_equal(got.wl_span, "i-1");
	assert_int_equal(got.wl_span_pos, 1);
	assert_int_equal(got.wl_pid, 99);
	/* refused: no owner, a negative place, an unknown instance */
	assert_int_equal(gv_store_inst_set_span(f->st, "i-2", "", 1, &err), -EINVAL);
	assert_int_equal(gv_store_inst_set_span(f->st, "i-2", "i-1", -1, &err), -EINVAL);
	assert_int_equal(gv_store_inst_set_span(f->st, "i-9", "i-1", 1, &err), -ENOENT);
	assert_int_equal(gv_store_inst_set_workload(f->st, "i-2", 0, 0, 0, 0, NULL), 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, NULL), 0);
	assert_string_equal(got.wl_span, "");
	assert_int_equal(got.wl_span_pos, 0);
	assert_int_equal(got.wl_pid, 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, NULL), 0);
	assert_string_equal(got.wl_span, "i-1");
}

static void test_sched_settings(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst in = mk("i-1", "GPU-b", "h100-20c", -1);
	enum gv_mode m = GV_MODE_MIG;
	char policy[32];
	uint32_t us = 0, w = 0;

	assert_int_equal(gv_store_gpu_get_sched(f->st, "GPU-b", policy, sizeof(policy), &us, NULL),
			 -ENOENT);
	assert_int_equal(gv_store_gpu_set_sched(f->st, "GPU-b", "equal-share", 5000, NULL), 0);
	/* a GPU first seen here counts as passthrough, like one never stored */
	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-b", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_PASSTHROUGH);
	assert_int_equal(gv_store_gpu_set_mode(f->st, "GPU-b", GV_MODE_TIMESLICE, NULL), 0);
	assert_int_equal(gv_store_gpu_set_sched(f->st, "GPU-b", "fixed-share", 30000, NULL), 0);
	reopen(f);
	assert_int_equal(gv_store_gpu_get_sched(f->st, "GPU-b", policy, sizeof(policy), &us, NULL),
			 0);
	assert_string_equal(policy, "fixed-share");
	assert_int_equal(us, 30000);
	/* setting the mode keeps the scheduler settings */
	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-b", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_TIMESLICE);
	assert_int_equal(gv_store_gpu_set_sched(f->st, "GPU-b", "", 1000, NULL), -EINVAL);
	assert_int_equal(gv_store_gpu_set_sched(f->st, "GPU-b", "best-effort", 0, NULL), -EINVAL);
	assert_int_equal(gv_store_gpu_get_sched(f->st, "GPU-b", policy, sizeof(policy), &us, NULL),
			 0);
	assert_string_equal(policy, "fixed-share");

	assert_int_equal(gv_store_inst_get_weight(f->st, "i-1", &w, NULL), -ENOENT);
	assert_int_equal(gv_store_inst_set_weight(f->st, "i-1", 3, NULL), -ENOENT);
	assert_int_equal(gv_store_inst_insert(f->st, &in, NULL), 0);
	assert_int_equal(gv_store_inst_get_weight(f->st, "i-1", &w, NULL), 0);
	assert_int_equal(w, 1);
	assert_int_equal(gv_store_inst_set_weight(f->st, "i-1", 0, NULL), -EINVAL);
	assert_int_equal(gv_store_inst_set_weight(f->st, "i-1", 42, NULL), 0);
	reopen(f);
	assert_int_equal(gv_store_inst_get_weight(f->st, "i-1", &w, NULL), 0);
	assert_int_equal(w, 42);
}

static void test_open_bad_path(void **state)
{
	struct gv_err err = { 0 };
	struct gv_store *st = (struct gv_store *)0x1;

	(void)state;
	assert_true(gv_store_open("/nonexistent-dir/x/gpuvisor.db", &st, &err) < 0);
	assert_null(st);
	assert_true(err.msg[0] != '\0');
}

static void test_instance_crud(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("i-1", "GPU-a", "3g.40gb", 4),
			     b = mk("i-2", "GPU-b", "h100-8c", -1);
	struct gv_store_inst got, *arr = NULL;
	struct gv_err err = { 0 };
	size_t n = 0;

	snprintf(b.owner, sizeof(b.owner), "slurm:job:42");
	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &b, &err), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), -EEXIST);

	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), 0);
	assert_string_equal(got.gpu_uuid, "GPU-a");
	assert_string_equal(got.profile, "3g.40gb");
	assert_int_equal(got.kind, GV_PROFILE_MIG);
	assert_int_equal(got.start, 4);
	assert_int_equal(got.fb_mib, 4864);
	assert_int_equal(got.state, GV_INST_CREATING);
	assert_string_equal(got.device_uuid, "");
	assert_string_equal(got.owner, "");
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, &err), 0);
	assert_string_equal(got.owner, "slurm:job:42");
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), 0);
	assert_int_equal(got.created, 1700000000);

	assert_int_equal(gv_store_inst_set_state(f->st, "i-1", GV_INST_READY, "MIG-x", &err), 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), 0);
	assert_int_equal(got.state, GV_INST_READY);
	assert_string_equal(got.device_uuid, "MIG-x");
	/* NULL keeps the device uuid */
	assert_int_equal(gv_store_inst_set_state(f->st, "i-1", GV_INST_DESTROYING, NULL, &err), 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), 0);
	assert_string_equal(got.device_uuid, "MIG-x");
	assert_int_equal(got.state, GV_INST_DESTROYING);

	assert_int_equal(gv_store_inst_set_workload(f->st, "i-2", 1234, 1200, 99, 1700000100, &err),
			 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, &err), 0);
	assert_int_equal(got.wl_pid, 1234);
	assert_int_equal(got.wl_pgid, 1200);
	assert_int_equal(got.wl_starttime, 99);
	assert_int_equal(got.wl_since, 1700000100);
	assert_int_equal(gv_store_inst_set_workload(f->st, "i-2", 0, 5, 5, 5, &err), 0);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, &err), 0);
	assert_int_equal(got.wl_pid, 0);
	assert_int_equal(got.wl_pgid, 0);

	assert_int_equal(gv_store_inst_list(f->st, &arr, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(arr[0].id, "i-1");
	assert_string_equal(arr[1].id, "i-2");
	free(arr);

	assert_int_equal(gv_store_inst_delete(f->st, "i-1", &err), 0);
	assert_int_equal(gv_store_inst_delete(f->st, "i-1", &err), -ENOENT);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), -ENOENT);
	assert_int_equal(gv_store_inst_set_state(f->st, "i-9", GV_INST_READY, NULL, &err), -ENOENT);
	assert_int_equal(gv_store_inst_set_workload(f->st, "i-9", 1, 1, 1, 1, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "i-9"));
}

static void test_list_orders_by_creation(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("i-10", "G", "p", -1), b = mk("i-9", "G", "p", -1);
	struct gv_store_inst *arr = NULL;
	size_t n = 0;

	assert_int_equal(gv_store_inst_insert(f->st, &a, NULL), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &b, NULL), 0);
	assert_int_equal(gv_store_inst_list(f->st, &arr, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(arr[0].id, "i-9");
	assert_string_equal(arr[1].id, "i-10");
	free(arr);
}

static void test_empty_list(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst *arr = (struct gv_store_inst *)0x1;
	size_t n = 7;

	assert_int_equal(gv_store_inst_list(f->st, &arr, &n, NULL), 0);
	assert_null(arr);
	assert_int_equal(n, 0);
}

static void test_insert_requires_fields(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("", "G", "p", -1);
	struct gv_err err = { 0 };

	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), -EINVAL);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("i-1", "G", "p", -1), b = mk("i-2", "G", "p", -1), got;
	struct gv_err err = { 0 };
	int64_t id = 0;

	assert_int_equal(gv_store_begin(f->st, &err), 0);
	assert_int_equal(gv_store_begin(f->st, &err), -EBUSY);
	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), 0);
	assert_int_equal(gv_store_next_id(f->st, "instance", &id, &err), 0);
	gv_store_rollback(f->st);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), -ENOENT);
	/* the rolled-back counter value comes again */
	assert_int_equal(gv_store_next_id(f->st, "instance", &id, &err), 0);
	assert_int_equal(id, 1);

	assert_int_equal(gv_store_begin(f->st, &err), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &b, &err), 0);
	assert_int_equal(
		gv_store_event_add(f->st, 5, "instance.created", 0, "i-2", "m", NULL, &err), 0);
	assert_int_equal(gv_store_commit(f->st, &err), 0);
	assert_int_equal(gv_store_commit(f->st, &err), -EINVAL);
	reopen(f);
	assert_int_equal(gv_store_inst_get(f->st, "i-2", &got, &err), 0);

	/* gv_store_end: a failure rolls back and is returned; 0 commits */
	assert_int_equal(gv_store_begin(f->st, &err), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), 0);
	assert_int_equal(gv_store_end(f->st, -EIO, &err), -EIO);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), -ENOENT);
	assert_int_equal(gv_store_begin(f->st, &err), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &a, &err), 0);
	assert_int_equal(gv_store_end(f->st, 0, &err), 0);
	reopen(f);
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, &err), 0);
}

static void test_uncommitted_lost_on_close(void **state)
{
	struct fx *f = *state;
	struct gv_store_inst a = mk("i-1", "G", "p", -1), got;

	assert_int_equal(gv_store_begin(f->st, NULL), 0);
	assert_int_equal(gv_store_inst_insert(f->st, &a, NULL), 0);
	reopen(f); /* close with an open transaction = crash before commit */
	assert_int_equal(gv_store_inst_get(f->st, "i-1", &got, NULL), -ENOENT);
}

static void test_counters(void **state)
{
	struct fx *f = *state;
	int64_t v = 0;

	assert_int_equal(gv_store_next_id(f->st, "instance", &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(gv_store_next_id(f->st, "instance", &v, NULL), 0);
	assert_int_equal(v, 2);
	assert_int_equal(gv_store_next_id(f->st, "other", &v, NULL), 0);
	assert_int_equal(v, 1);
	reopen(f);
	assert_int_equal(gv_store_next_id(f->st, "instance", &v, NULL), 0);
	assert_int_equal(v, 3);
}

static void test_gpu_mode(void **state)
{
	struct fx *f = *state;
	enum gv_mode m = GV_MODE_PASSTHROUGH;

	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-a", &m, NULL), -ENOENT);
	assert_int_equal(gv_store_gpu_set_mode(f->st, "GPU-a", GV_MODE_MIG, NULL), 0);
	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-a", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_MIG);
	assert_int_equal(gv_store_gpu_set_mode(f->st, "GPU-a", GV_MODE_TIMESLICE, NULL), 0);
	reopen(f);
	assert_int_equal(gv_store_gpu_get_mode(f->st, "GPU-a", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_TIMESLICE);
	assert_int_equal(gv_store_gpu_set_mode(f->st, "GPU-a", (enum gv_mode)7, NULL), -EINVAL);
}

static void test_events(void **state)
{
	struct fx *f = *state;
	struct gv_store_event *ev = NULL;
	size_t n = 0;
	int64_t s1 = 0, s2 = 0, s3 = 0;

	assert_int_equal(gv_store_event_add(f->st, 10, "gpu.mode", 0, NULL, "a", &s1, NULL), 0);
	assert_int_equal(
		gv_store_event_add(f->st, 11, "instance.created", -1, "i-1", "b", &s2, NULL), 0);
	assert_int_equal(
		gv_store_event_add(f->st, 12, "instance.destroyed", 2, "i-1", "c", &s3, NULL), 0);
	assert_true(s1 < s2 && s2 < s3);

	assert_int_equal(gv_store_event_list(f->st, 0, 100, &ev, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ev[0].seq, s1);
	assert_string_equal(ev[0].kind, "gpu.mode");
	assert_int_equal(ev[0].gpu, 0);
	assert_string_equal(ev[0].instance, "");
	assert_int_equal(ev[1].gpu, -1);
	assert_string_equal(ev[1].instance, "i-1");
	assert_string_equal(ev[2].message, "c");
	assert_int_equal(ev[2].time, 12);
	free(ev);

	assert_int_equal(gv_store_event_list(f->st, s2, 100, &ev, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].seq, s3);
	free(ev);
	assert_int_equal(gv_store_event_list(f->st, 0, 2, &ev, &n, NULL), 0);
	assert_int_equal(n, 2);
	free(ev);
	assert_int_equal(gv_store_event_list(f->st, s3, 100, &ev, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(ev);
}

static void test_event_prune(void **state)
{
	struct fx *f = *state;
	struct gv_store_event *ev = NULL;
	size_t n = 0;
	int64_t seq = 0;
	int i;

	for (i = 0; i < 10; i++)
		assert_int_equal(gv_store_event_add(f->st, i, "k", -1, NULL, "m", &seq, NULL), 0);
	assert_int_equal(gv_store_event_prune(f->st, 3, NULL), 0);
	assert_int_equal(gv_store_event_list(f->st, 0, 100, &ev, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ev[0].seq, seq - 2);
	assert_int_equal(ev[2].seq, seq);
	free(ev);
	/* numbering continues after pruning */
	assert_int_equal(gv_store_event_prune(f->st, 0, NULL), 0);
	assert_int_equal(gv_store_event_add(f->st, 11, "k", -1, NULL, "m", &seq, NULL), 0);
	assert_int_equal(seq, 11);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(gv_inst_state_name(GV_INST_CREATING), "creating");
	assert_string_equal(gv_inst_state_name(GV_INST_READY), "ready");
	assert_string_equal(gv_inst_state_name(GV_INST_DESTROYING), "destroying");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_orders_by_creation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_requires_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted_lost_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_prune, setup, teardown),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_migrate_from_v5_span, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

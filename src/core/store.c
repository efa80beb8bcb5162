/* gv_store_: the daemon's SQLite state (see include/gpuvisor/store.h). */
#include "gpuvisor/store.h"
#include "gpuvisor/nametab.h"
#include "gpuvisor/xfuncs.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gv_store {
	sqlite3 *db;
	bool in_tx;
};

/* migrations[i] brings a database from user_version i to i + 1. Append
 * only: a released step is never edited. */
static const char *const migrations[] = {
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE gpus (uuid TEXT PRIMARY KEY, mode TEXT NOT NULL);"
	"CREATE TABLE instances ("
	" id TEXT PRIMARY KEY, seq INTEGER NOT NULL, gpu_uuid TEXT NOT NULL,"
	" profile TEXT NOT NULL, kind INTEGER NOT NULL, start INTEGER NOT NULL,"
	" fb_mib INTEGER NOT NULL, state INTEGER NOT NULL, device_uuid TEXT NOT NULL,"
	" created INTEGER NOT NULL, wl_pid INTEGER NOT NULL DEFAULT 0,"
	" wl_pgid INTEGER NOT NULL DEFAULT 0, wl_starttime INTEGER NOT NULL DEFAULT 0,"
	" wl_since INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	" kind TEXT NOT NULL, gpu INTEGER, instance TEXT, message TEXT NOT NULL);",
	/* 2: time-slice scheduler settings (NULL policy: the default) */
	"ALTER TABLE gpus ADD COLUMN sched_policy TEXT;"
	"ALTER TABLE gpus ADD COLUMN sched_slice_us INTEGER;"
	"ALTER TABLE instances ADD COLUMN sched_weight INTEGER NOT NULL DEFAULT 1;",
	/* 3: live migrations */
	"CREATE TABLE migrations (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
	" src TEXT NOT NULL, dst TEXT NOT NULL, dst_created INTEGER NOT NULL,"
	" src_device TEXT NOT NULL, dst_device TEXT NOT NULL, mode TEXT NOT NULL,"
	" downtime_limit_ms INTEGER NOT NULL, pid INTEGER NOT NULL, ctl TEXT NOT NULL,"
	" state INTEGER NOT NULL, created INTEGER NOT NULL, finished INTEGER NOT NULL,"
	" error TEXT NOT NULL, report TEXT, progress TEXT);",
	/* 4: suspended workloads (enum gv_wl_state) */
	"ALTER TABLE instances ADD COLUMN wl_state INTEGER NOT NULL DEFAULT 0;",
	/* 5: who asked for the instance (a Slurm job: "slurm:job:42"), "" none */
	"ALTER TABLE instances ADD COLUMN owner TEXT NOT NULL DEFAULT '';",
	/* 6: a workload on several instances: each member names the instance
	 * that owns the registration ('' when the workload has one) and its
	 * place in the span's order */
	"ALTER TABLE instances ADD COLUMN wl_span TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE instances ADD COLUMN wl_span_pos INTEGER NOT NULL DEFAULT 0;"
	/* and the migration of such a workload: its other members' pairs */
	"ALTER TABLE migrations ADD COLUMN more TEXT NOT NULL DEFAULT '';",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(N_MIGRATIONS == GV_STORE_SCHEMA_VERSION, "one migration per schema version");

static int db_fail(struct gv_store *st, struct gv_err *err, int rc, const char *what)
{
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? EBUSY
		   : rc == SQLITE_CONSTRAINT		      ? EEXIST
		   : rc == SQLITE_FULL			      ? ENOSPC
		   : rc == SQLITE_NOMEM			      ? ENOMEM
							      : EIO;

	return gv_err_set(err, code, "state database: %s: %s", what,
			  st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

static int exec_sql(struct gv_store *st, const char *sql, struct gv_err *err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail(st, err, rc, sql);
	return 0;
}

static int prepare(struct gv_store *st, const char *sql, sqlite3_stmt **stmt, struct gv_err *err)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);

	if (rc != SQLITE_OK) {
		*stmt = NULL;
		return db_fail(st, err, rc, "prepare");
	}
	return 0;
}

/* Steps a prepared statement to its end, appending one element of `size`
 * bytes per row to a growing array that fill() writes, then finalizes the
 * statement. On failure *arr still holds the *cnt elements filled so far, so
 * that the caller releases them with its own free function. */
static int collect_rows(struct gv_store *st, sqlite3_stmt *s, size_t size,
			void (*fill)(sqlite3_stmt *s, void *dst), void **arr, size_t *cnt,
			const char *what, struct gv_err *err)
{
	size_t cap = 0;
	int rc, ret = 0;

	*arr = NULL;
	*cnt = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*cnt == cap) {
			void *grown;

			cap = cap ? cap * 2 : 16;
			grown = gv_xrealloc(err, *arr, cap * size);
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			*arr = grown;
		}
		fill(s, (char *)*arr + (*cnt)++ * size);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(st, err, rc, what);
out:
	sqlite3_finalize(s);
	return ret;
}

static int user_version(struct gv_store *st, int *out, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st, "PRAGMA user_version", &s, err);

	if (ret)
		return ret;
	if (sqlite3_step(s) != SQLITE_ROW) {
		ret = db_fail(st, err, sqlite3_errcode(st->db), "read schema version");
		goto out;
	}
	*out = sqlite3_column_int(s, 0);
out:
	sqlite3_finalize(s);
	return ret;
}

static int migrate(struct gv_store *st, struct gv_err *err)
{
	char sql[64];
	int ver = 0;
	int ret;

	ret = exec_sql(st, "BEGIN IMMEDIATE", err);
	if (ret)
		return ret;
	ret = user_version(st, &ver, err);
	if (ret)
		goto out;
	if (ver > GV_STORE_SCHEMA_VERSION) {
		ret = gv_err_set(
			err, EPROTO,
			"state database has schema version %d; this gpuvisor knows up to %d "
			"(written by a newer gpuvisord?)",
			ver, GV_STORE_SCHEMA_VERSION);
		goto out;
	}
	for (; ver < GV_STORE_SCHEMA_VERSION; ver++) {
		ret = exec_sql(st, migrations[ver], err);
		if (ret)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", ver + 1);
		ret = exec_sql(st, sql, err);
		if (ret)
			goto out;
	}
	ret = exec_sql(st, "COMMIT", err);
out:
	if (ret)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int gv_store_open(const char *path, struct gv_store **out, struct gv_err *err)
{
	struct gv_store *st = NULL;
	int rc, ret = 0;

	*out = NULL;
	st = gv_xcalloc(err, 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		ret = gv_err_set(err, EIO, "cannot open state database %s: %s", path,
				 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* WAL + synchronous=FULL: a committed transaction survives kill -9 and
	 * power loss; NORMAL would only guarantee the former. */
	ret = exec_sql(st, "PRAGMA journal_mode=WAL", err);
	if (!ret)
		ret = exec_sql(st, "PRAGMA synchronous=FULL", err);
	if (!ret)
		ret = exec_sql(st, "PRAGMA foreign_keys=ON", err);
	if (!ret)
		ret = migrate(st, err);
	if (ret)
		gv_err_prefix(err, "%s", path);
out:
	if (ret) {
		gv_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void gv_store_close(struct gv_store *st)
{
	if (!st)
		return;
	if (st->in_tx)
		gv_store_rollback(st);
	sqlite3_close(st->db);
	free(st);
}

int gv_store_schema_version(struct gv_store *st)
{
	int v = -1;

	if (user_version(st, &v, NULL))
		return -EIO;
	return v;
}

int gv_store_begin(struct gv_store *st, struct gv_err *err)
{
	int ret;

	if (st->in_tx)
		return gv_err_set(err, EBUSY, "state database: a transaction is already open");
	ret = exec_sql(st, "BEGIN IMMEDIATE", err);
	if (!ret)
		st->in_tx = true;
	return ret;
}

int gv_store_commit(struct gv_store *st, struct gv_err *err)
{
	int ret;

	if (!st->in_tx)
		return gv_err_set(err, EINVAL, "state database: no transaction to commit");
	ret = exec_sql(st, "COMMIT", err);
	if (ret)
		gv_store_rollback(st);
	st->in_tx = false;
	return ret;
}

void gv_store_rollback(struct gv_store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
}

int gv_store_end(struct gv_store *st, int ret, struct gv_err *err)
{
	if (ret) {
		gv_store_rollback(st);
		return ret;
	}
	return gv_store_commit(st, err);
}

/* Runs a write statement that must touch exactly one row when must_change. */
static int step_done(struct gv_store *st, sqlite3_stmt *s, bool must_change, const char *what,
		     const char *id, struct gv_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return db_fail(st, err, rc, what);
	if (must_change && sqlite3_changes(st->db) == 0)
		return gv_err_set(err, ENOENT, "no instance %s", id);
	return 0;
}

int gv_store_next_id(struct gv_store *st, const char *counter, int64_t *out, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st,
			  "INSERT INTO counters(name, value) VALUES(?1, 1) "
			  "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
			  &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, counter, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		ret = db_fail(st, err, sqlite3_errcode(st->db), "next id");
		goto out;
	}
	*out = sqlite3_column_int64(s, 0);
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = db_fail(st, err, sqlite3_errcode(st->db), "next id");
out:
	sqlite3_finalize(s);
	return ret;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

#define INST_COLS                                                                           \
	"id, gpu_uuid, profile, kind, start, fb_mib, state, device_uuid, created, wl_pid, " \
	"wl_pgid, wl_starttime, wl_since, wl_state, owner, wl_span, wl_span_pos"

static void inst_from_row(sqlite3_stmt *s, void *dst)
{
	struct gv_store_inst *o = dst;

	memset(o, 0, sizeof(*o));
	copy_col(o->id, sizeof(o->id), s, 0);
	copy_col(o->gpu_uuid, sizeof(o->gpu_uuid), s, 1);
	copy_col(o->profile, sizeof(o->profile), s, 2);
	o->kind = (enum gv_profile_kind)sqlite3_column_int(s, 3);
	o->start = sqlite3_column_int(s, 4);
	o->fb_mib = (uint64_t)sqlite3_column_int64(s, 5);
	o->state = (enum gv_inst_state)sqlite3_column_int(s, 6);
	copy_col(o->device_uuid, sizeof(o->device_uuid), s, 7);
	o->created = sqlite3_column_int64(s, 8);
	o->wl_pid = (pid_t)sqlite3_column_int(s, 9);
	o->wl_pgid = (pid_t)sqlite3_column_int(s, 10);
	o->wl_starttime = (uint64_t)sqlite3_column_int64(s, 11);
	o->wl_since = sqlite3_column_int64(s, 12);
	o->wl_state = (enum gv_wl_state)sqlite3_column_int(s, 13);
	copy_col(o->owner, sizeof(o->owner), s, 14);
	copy_col(o->wl_span, sizeof(o->wl_span), s, 15);
	o->wl_span_pos = sqlite3_column_int(s, 16);
}

/* The numeric suffix of "i-12" orders instances by creation. */
static int64_t id_seq(const char *id)
{
	const char *dash = strrchr(id, '-');

	return dash ? strtoll(dash + 1, NULL, 10) : 0;
}

int gv_store_inst_insert(struct gv_store *st, const struct gv_store_inst *in, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!in->id[0] || !in->gpu_uuid[0] || !in->profile[0])
		return gv_err_set(err, EINVAL, "instance needs an id, a GPU and a profile");
	ret = prepare(
		st,
		"INSERT INTO instances(seq, " INST_COLS ") "
		"VALUES(?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?16, "
		"?17, ?18)",
		&s, err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->gpu_uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, in->profile, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, (int)in->kind);
	sqlite3_bind_int(s, 5, in->start);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)in->fb_mib);
	sqlite3_bind_int(s, 7, (int)in->state);
	sqlite3_bind_text(s, 8, in->device_uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, in->created);
	sqlite3_bind_int(s, 10, (int)in->wl_pid);
	sqlite3_bind_int(s, 11, (int)in->wl_pgid);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)in->wl_starttime);
	sqlite3_bind_int64(s, 13, in->wl_since);
	sqlite3_bind_int64(s, 14, id_seq(in->id));
	sqlite3_bind_int(s, 15, (int)in->wl_state);
	sqlite3_bind_text(s, 16, in->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 17, in->wl_span, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 18, in->wl_span_pos);
	if (sqlite3_step(s) != SQLITE_DONE) {
		int ext = sqlite3_extended_errcode(st->db);

		if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
			ret = gv_err_set(err, EEXIST, "instance %s already exists", in->id);
		else
			ret = db_fail(st, err, sqlite3_errcode(st->db), "insert instance");
	}
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_get(struct gv_store *st, const char *id, struct gv_store_inst *out,
		      struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(st, "SELECT " INST_COLS " FROM instances WHERE id = ?1", &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		inst_from_row(s, out);
	else if (rc == SQLITE_DONE)
		ret = gv_err_set(err, ENOENT, "no instance %s", id);
	else
		ret = db_fail(st, err, rc, "read instance");
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_list(struct gv_store *st, struct gv_store_inst **out, size_t *n,
		       struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	void *arr;
	int ret;

	*out = NULL;
	*n = 0;
	ret = prepare(st, "SELECT " INST_COLS " FROM instances ORDER BY seq, id", &s, err);
	if (ret)
		return ret;
	ret = collect_rows(st, s, sizeof(**out), inst_from_row, &arr, n, "list instances", err);
	if (ret) {
		free(arr);
		*n = 0;
		return ret;
	}
	*out = arr;
	return 0;
}

int gv_store_inst_set_state(struct gv_store *st, const char *id, enum gv_inst_state state,
			    const char *device_uuid, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret =
		prepare(st,
			"UPDATE instances SET state = ?2, device_uuid = COALESCE(?3, device_uuid) "
			"WHERE id = ?1",
			&s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)state);
	if (device_uuid)
		sqlite3_bind_text(s, 3, device_uuid, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	ret = step_done(st, s, true, "update instance", id, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_set_workload(struct gv_store *st, const char *id, pid_t pid, pid_t pgid,
			       uint64_t starttime, int64_t since, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret =
		prepare(st,
			"UPDATE instances SET wl_pid = ?2, wl_pgid = ?3, wl_starttime = ?4, "
			"wl_since = ?5, wl_state = 0, wl_span = '', wl_span_pos = 0 WHERE id = ?1",
			&s, err);

	if (ret)
		return ret;
	if (pid == 0) {
		pgid = 0;
		starttime = 0;
		since = 0;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)pid);
	sqlite3_bind_int(s, 3, (int)pgid);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)starttime);
	sqlite3_bind_int64(s, 5, since);
	ret = step_done(st, s, true, "update workload", id, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_set_span(struct gv_store *st, const char *id, const char *owner, int pos,
			   struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!owner || !owner[0] || pos < 0)
		return gv_err_set(err, EINVAL, "a span needs its owner and a position");
	ret = prepare(st, "UPDATE instances SET wl_span = ?2, wl_span_pos = ?3 WHERE id = ?1", &s,
		      err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, pos);
	ret = step_done(st, s, true, "update workload span", id, err);
	sqlite3_finalize(s);
	return ret;
}

bool gv_store_mig_state_active(enum gv_store_mig_state s)
{
	return s == GV_MIGST_RUNNING || s == GV_MIGST_SWITCHED;
}

int gv_store_inst_set_wl_state(struct gv_store *st, const char *id, enum gv_wl_state state,
			       struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st, "UPDATE instances SET wl_state = ?2 WHERE id = ?1", &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)state);
	ret = step_done(st, s, true, "update workload state", id, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_delete(struct gv_store *st, const char *id, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st, "DELETE FROM instances WHERE id = ?1", &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	ret = step_done(st, s, true, "delete instance", id, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_gpu_get_mode(struct gv_store *st, const char *uuid, enum gv_mode *out,
			  struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(st, "SELECT mode FROM gpus WHERE uuid = ?1", &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);

		/* the mode's own names (gv_mode_name), as written below */
		if (gv_mode_parse(m, out, NULL) < 0)
			ret = gv_err_set(err, EIO, "state database: GPU %s has unknown mode '%s'",
					 uuid, m ? m : "");
	} else if (rc == SQLITE_DONE) {
		ret = gv_err_set(err, ENOENT, "no settings stored for GPU %s", uuid);
	} else {
		ret = db_fail(st, err, rc, "read GPU mode");
	}
	sqlite3_finalize(s);
	return ret;
}

int gv_store_gpu_set_mode(struct gv_store *st, const char *uuid, enum gv_mode mode,
			  struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if ((int)mode < 0 || (int)mode > 2)
		return gv_err_set(err, EINVAL, "invalid GPU mode %d", (int)mode);
	ret = prepare(st,
		      "INSERT INTO gpus(uuid, mode) VALUES(?1, ?2) "
		      "ON CONFLICT(uuid) DO UPDATE SET mode = excluded.mode",
		      &s, err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, gv_mode_name(mode), -1, SQLITE_STATIC);
	ret = step_done(st, s, false, "store GPU mode", uuid, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_gpu_get_sched(struct gv_store *st, const char *uuid, char *policy, size_t cap,
			   uint32_t *slice_us, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (cap)
		policy[0] = '\0';
	*slice_us = 0;
	ret = prepare(st, "SELECT sched_policy, sched_slice_us FROM gpus WHERE uuid = ?1", &s, err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		int64_t us = sqlite3_column_int64(s, 1);

		copy_col(policy, cap, s, 0);
		if (us <= 0 || us > UINT32_MAX)
			ret = gv_err_set(err, EIO, "state database: GPU %s has slice %lld us", uuid,
					 (long long)us);
		else
			*slice_us = (uint32_t)us;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		ret = gv_err_set(err, ENOENT, "no scheduler settings stored for GPU %s", uuid);
	} else {
		ret = db_fail(st, err, rc, "read GPU scheduler settings");
	}
	sqlite3_finalize(s);
	if (ret && cap)
		policy[0] = '\0';
	return ret;
}

int gv_store_gpu_set_sched(struct gv_store *st, const char *uuid, const char *policy,
			   uint32_t slice_us, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!uuid || !uuid[0] || !policy || !policy[0] || slice_us == 0)
		return gv_err_set(err, EINVAL,
				  "scheduler settings need a GPU, a policy and a slice");
	/* a GPU without a stored mode is in passthrough (gvd_gpu_mode) */
	ret = prepare(
		st,
		"INSERT INTO gpus(uuid, mode, sched_policy, sched_slice_us) "
		"VALUES(?1, 'passthrough', ?2, ?3) ON CONFLICT(uuid) DO UPDATE SET "
		"sched_policy = excluded.sched_policy, sched_slice_us = excluded.sched_slice_us",
		&s, err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, policy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)slice_us);
	ret = step_done(st, s, false, "store GPU scheduler settings", uuid, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_get_weight(struct gv_store *st, const char *id, uint32_t *out, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(st, "SELECT sched_weight FROM instances WHERE id = ?1", &s, err);

	*out = 0;
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t w = sqlite3_column_int64(s, 0);

		if (w < 1 || w > UINT32_MAX)
			ret = gv_err_set(err, EIO, "state database: instance %s has weight %lld",
					 id, (long long)w);
		else
			*out = (uint32_t)w;
	} else if (rc == SQLITE_DONE) {
		ret = gv_err_set(err, ENOENT, "no instance %s", id);
	} else {
		ret = db_fail(st, err, rc, "read instance weight");
	}
	sqlite3_finalize(s);
	return ret;
}

int gv_store_inst_set_weight(struct gv_store *st, const char *id, uint32_t weight,
			     struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (weight == 0)
		return gv_err_set(err, EINVAL, "a weight is 1 or more");
	ret = prepare(st, "UPDATE instances SET sched_weight = ?2 WHERE id = ?1", &s, err);
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)weight);
	ret = step_done(st, s, true, "update instance weight", id, err);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_event_add(struct gv_store *st, int64_t time, const char *kind, int gpu,
		       const char *instance, const char *message, int64_t *seq_out,
		       struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st,
			  "INSERT INTO events(time, kind, gpu, instance, message) "
			  "VALUES(?1, ?2, ?3, ?4, ?5)",
			  &s, err);

	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, time);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	if (gpu >= 0)
		sqlite3_bind_int(s, 3, gpu);
	else
		sqlite3_bind_null(s, 3);
	if (instance && instance[0])
		sqlite3_bind_text(s, 4, instance, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_text(s, 5, message ? message : "", -1, SQLITE_STATIC);
	ret = step_done(st, s, false, "add event", NULL, err);
	if (!ret && seq_out)
		*seq_out = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	return ret;
}

static void event_from_row(sqlite3_stmt *s, void *dst)
{
	struct gv_store_event *e = dst;

	memset(e, 0, sizeof(*e));
	e->seq = sqlite3_column_int64(s, 0);
	e->time = sqlite3_column_int64(s, 1);
	copy_col(e->kind, sizeof(e->kind), s, 2);
	e->gpu = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 3);
	copy_col(e->instance, sizeof(e->instance), s, 4);
	copy_col(e->message, sizeof(e->message), s, 5);
}

int gv_store_event_list(struct gv_store *st, int64_t since, size_t limit,
			struct gv_store_event **out, size_t *n, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	void *arr;
	int ret;

	*out = NULL;
	*n = 0;
	ret = prepare(st,
		      "SELECT seq, time, kind, gpu, instance, message FROM events "
		      "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
		      &s, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	ret = collect_rows(st, s, sizeof(**out), event_from_row, &arr, n, "list events", err);
	if (ret) {
		free(arr);
		*n = 0;
		return ret;
	}
	*out = arr;
	return 0;
}

int gv_store_event_prune(struct gv_store *st, size_t keep, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = prepare(st,
			  "DELETE FROM events WHERE seq <= "
			  "(SELECT COALESCE(MAX(seq), 0) FROM events) - ?1",
			  &s, err);

	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, keep > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)keep);
	ret = step_done(st, s, false, "prune events", NULL, err);
	sqlite3_finalize(s);
	return ret;
}

GV_NAMETAB_NAME(gv_inst_state, enum gv_inst_state, "unknown", { GV_INST_CREATING, "creating" },
		{ GV_INST_READY, "ready" }, { GV_INST_DESTROYING, "destroying" })

#define MIG_COLS                                                                                 \
	"id, src, dst, dst_created, src_device, dst_device, mode, downtime_limit_ms, pid, ctl, " \
	"state, created, finished, error, report, progress, more"

static char *dup_col(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? strdup((const char *)t) : NULL;
}

static void mig_from_row(sqlite3_stmt *s, void *dst)
{
	struct gv_store_mig *o = dst;

	memset(o, 0, sizeof(*o));
	copy_col(o->id, sizeof(o->id), s, 0);
	copy_col(o->src, sizeof(o->src), s, 1);
	copy_col(o->dst, sizeof(o->dst), s, 2);
	o->dst_created = sqlite3_column_int(s, 3) != 0;
	copy_col(o->src_device, sizeof(o->src_device), s, 4);
	copy_col(o->dst_device, sizeof(o->dst_device), s, 5);
	copy_col(o->mode, sizeof(o->mode), s, 6);
	o->downtime_limit_ms = (uint64_t)sqlite3_column_int64(s, 7);
	o->pid = (pid_t)sqlite3_column_int(s, 8);
	copy_col(o->ctl, sizeof(o->ctl), s, 9);
	o->state = (enum gv_store_mig_state)sqlite3_column_int(s, 10);
	o->created = sqlite3_column_int64(s, 11);
	o->finished = sqlite3_column_int64(s, 12);
	copy_col(o->error, sizeof(o->error), s, 13);
	o->report = dup_col(s, 14);
	o->progress = dup_col(s, 15);
	copy_col(o->more, sizeof(o->more), s, 16);
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Binds ?1..?16 and ?18 (more) in MIG_COLS order. */
static void mig_bind(sqlite3_stmt *s, const struct gv_store_mig *m)
{
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->src, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->dst, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, m->dst_created ? 1 : 0);
	sqlite3_bind_text(s, 5, m->src_device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, m->dst_device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, m->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)m->downtime_limit_ms);
	sqlite3_bind_int(s, 9, (int)m->pid);
	sqlite3_bind_text(s, 10, m->ctl, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 11, (int)m->state);
	sqlite3_bind_int64(s, 12, m->created);
	sqlite3_bind_int64(s, 13, m->finished);
	sqlite3_bind_text(s, 14, m->error, -1, SQLITE_STATIC);
	bind_text_or_null(s, 15, m->report);
	bind_text_or_null(s, 16, m->progress);
	sqlite3_bind_text(s, 18, m->more, -1, SQLITE_STATIC);
}

int gv_store_mig_insert(struct gv_store *st, const struct gv_store_mig *m, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!m->id[0] || !m->src[0])
		return gv_err_set(err, EINVAL, "migration needs an id and a source instance");
	ret = prepare(st,
		      "INSERT INTO migrations(seq, " MIG_COLS ") VALUES(?17, ?1, ?2, ?3, ?4, ?5, "
		      "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?18)",
		      &s, err);
	if (ret)
		return ret;
	mig_bind(s, m);
	sqlite3_bind_int64(s, 17, id_seq(m->id));
	if (sqlite3_step(s) != SQLITE_DONE) {
		int ext = sqlite3_extended_errcode(st->db);

		if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
			ret = gv_err_set(err, EEXIST, "migration %s already exists", m->id);
		else
			ret = db_fail(st, err, sqlite3_errcode(st->db), "insert migration");
	}
	sqlite3_finalize(s);
	return ret;
}

int gv_store_mig_update(struct gv_store *st, const struct gv_store_mig *m, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(
			st,
			"UPDATE migrations SET dst = ?3, dst_created = ?4, src_device = ?5, "
			"dst_device = ?6, mode = ?7, downtime_limit_ms = ?8, pid = ?9, ctl = ?10, "
			"state = ?11, finished = ?13, error = ?14, report = ?15, progress = ?16, "
			"more = ?18 "
			"WHERE id = ?1 AND src = ?2 AND created = ?12",
			&s, err);

	if (ret)
		return ret;
	mig_bind(s, m);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		ret = db_fail(st, err, rc, "update migration");
	else if (sqlite3_changes(st->db) == 0)
		ret = gv_err_set(err, ENOENT, "no migration %s", m->id);
	sqlite3_finalize(s);
	return ret;
}

int gv_store_mig_get(struct gv_store *st, const char *id, struct gv_store_mig *out,
		     struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(st, "SELECT " MIG_COLS " FROM migrations WHERE id = ?1", &s, err);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		mig_from_row(s, out);
	else if (rc == SQLITE_DONE)
		ret = gv_err_set(err, ENOENT, "no migration %s", id);
	else
		ret = db_fail(st, err, rc, "read migration");
	sqlite3_finalize(s);
	return ret;
}

int gv_store_mig_list(struct gv_store *st, struct gv_store_mig **out, size_t *n, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	void *arr;
	int ret;

	*out = NULL;
	*n = 0;
	ret = prepare(st, "SELECT " MIG_COLS " FROM migrations ORDER BY seq, id", &s, err);
	if (ret)
		return ret;
	ret = collect_rows(st, s, sizeof(**out), mig_from_row, &arr, n, "list migrations", err);
	if (ret) {
		gv_store_mig_list_free(arr, *n);
		*n = 0;
		return ret;
	}
	*out = arr;
	return 0;
}

int gv_store_mig_delete(struct gv_store *st, const char *id, struct gv_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = prepare(st, "DELETE FROM migrations WHERE id = ?1", &s, err);

	if (ret)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		ret = db_fail(st, err, rc, "delete migration");
	else if (sqlite3_changes(st->db) == 0)
		ret = gv_err_set(err, ENOENT, "no migration %s", id);
	sqlite3_finalize(s);
	return ret;
}

void gv_store_mig_release(struct gv_store_mig *m)
{
	if (!m)
		return;
	free(m->report);
	free(m->progress);
	m->report = NULL;
	m->progress = NULL;
}

void gv_store_mig_list_free(struct gv_store_mig *arr, size_t n)
{
	size_t i;

	for (i = 0; arr && i < n; i++)
		gv_store_mig_release(&arr[i]);
	free(arr);
}

/* a switched migration is still running to its callers */
GV_NAMETAB_NAME(gv_store_mig_state, enum gv_store_mig_state, "unknown",
		{ GV_MIGST_RUNNING, "running" }, { GV_MIGST_SWITCHED, "running" },
		{ GV_MIGST_COMPLETED, "completed" }, { GV_MIGST_FAILED, "failed" },
		{ GV_MIGST_ABORTED, "aborted" })

/* gpuvisor: the daemon's persistent state (SQLite, WAL).
 *
 * One database file per state directory. The schema is versioned with
 * PRAGMA user_version; gv_store_open() applies the migrations a file needs
 * and refuses a file written by a newer schema. Every call is one statement
 * or, between gv_store_begin() and gv_store_commit(), part of one
 * transaction; a process killed at any moment leaves the last committed
 * state. A store handle is not thread-safe: the daemon calls it under its
 * lock.
 */
#ifndef GPUVISOR_STORE_H
#define GPUVISOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"

#define GV_STORE_SCHEMA_VERSION 6
#define GV_STORE_ID_MAX 32
#define GV_STORE_UUID_MAX 48
#define GV_STORE_KIND_MAX 48
#define GV_STORE_MSG_MAX 512
#define GV_STORE_OWNER_MAX 128 /* instance owner tag, NUL included */

enum gv_inst_state {
	GV_INST_CREATING = 0,
	GV_INST_READY = 1,
	GV_INST_DESTROYING = 2,
};

/* Where a workload's GPU state is (schema 4). SUSPENDING and RESUMING are
 * written before the driver is asked and replaced when it has answered, so
 * a daemon restarted in between asks the driver where the workload is. */
enum gv_wl_state {
	GV_WL_RUNNING = 0,
	GV_WL_SUSPENDING = 1,
	GV_WL_SUSPENDED = 2, /* checkpointed: its GPU memory is in host memory */
	GV_WL_RESUMING = 3,
};

struct gv_store_inst {
	char id[GV_STORE_ID_MAX]; /* "i-3" */
	char gpu_uuid[GV_STORE_UUID_MAX];
	char profile[GV_NAME_MAX]; /* catalog name, or "passthrough" */
	enum gv_profile_kind kind;
	int start; /* MIG start slot, -1 otherwise */
	uint64_t fb_mib;
	enum gv_inst_state state;
	char device_uuid[GV_STORE_UUID_MAX]; /* GPU-/MIG- uuid; "" while creating a MIG instance */
	int64_t created;		     /* unix seconds */
	/* workload: pid 0 means none */
	pid_t wl_pid;
	pid_t wl_pgid;
	uint64_t wl_starttime; /* /proc/<pid>/stat field 22, clock ticks */
	int64_t wl_since;      /* unix seconds */
	enum gv_wl_state wl_state;
	char owner[GV_STORE_OWNER_MAX]; /* who asked for it ("slurm:job:42"); "" none */
	/* A workload on several instances (schema 6): every member records the
	 * same workload (pid, group, state) and names the member that owns the
	 * registration (the owner names itself); wl_span_pos is the member's
	 * place in the span's order (0: the owner; the workload's device
	 * index). "" and 0: a workload on one instance. */
	char wl_span[GV_STORE_ID_MAX];
	int wl_span_pos;
};

struct gv_store_event {
	int64_t seq;
	int64_t time;			/* unix seconds */
	char kind[GV_STORE_KIND_MAX];	/* "instance.created" ... */
	int gpu;			/* -1: none */
	char instance[GV_STORE_ID_MAX]; /* "": none */
	char message[GV_STORE_MSG_MAX];
};

struct gv_store;

/* Opens (creating if needed) the database at path and migrates it to
 * GV_STORE_SCHEMA_VERSION. -EPROTO when the file has a newer schema. */
int gv_store_open(const char *path, struct gv_store **out, struct gv_err *err);
void gv_store_close(struct gv_store *st);
int gv_store_schema_version(struct gv_store *st);

/* Transactions (BEGIN IMMEDIATE). Not nestable: -EBUSY when one is open. */
int gv_store_begin(struct gv_store *st, struct gv_err *err);
int gv_store_commit(struct gv_store *st, struct gv_err *err);
void gv_store_rollback(struct gv_store *st);
/* Ends the open transaction: commits when ret is 0, else rolls back.
 * Returns ret, or the commit's error. */
int gv_store_end(struct gv_store *st, int ret, struct gv_err *err);

/* Allocates the next value of a named counter (first value 1); values are
 * never handed out twice, even after the rows using them are deleted. */
int gv_store_next_id(struct gv_store *st, const char *counter, int64_t *out, struct gv_err *err);

/* Instances. -EEXIST when the id is taken, -ENOENT when it is unknown. */
int gv_store_inst_insert(struct gv_store *st, const struct gv_store_inst *inst, struct gv_err *err);
int gv_store_inst_get(struct gv_store *st, const char *id, struct gv_store_inst *out,
		      struct gv_err *err);
/* All instances ordered by creation (id counter); *out is malloc'd (NULL
 * when there are none), free() it. */
int gv_store_inst_list(struct gv_store *st, struct gv_store_inst **out, size_t *n,
		       struct gv_err *err);
int gv_store_inst_set_state(struct gv_store *st, const char *id, enum gv_inst_state state,
			    const char *device_uuid, struct gv_err *err);
/* pid 0 clears the workload. Either way its state becomes RUNNING and
 * the instance leaves any span (set it again after: gv_store_inst_set_span). */
int gv_store_inst_set_workload(struct gv_store *st, const char *id, pid_t pid, pid_t pgid,
			       uint64_t starttime, int64_t since, struct gv_err *err);
/* Makes id a member of the span owned by owner, at place pos (>= 0). */
int gv_store_inst_set_span(struct gv_store *st, const char *id, const char *owner, int pos,
			   struct gv_err *err);
int gv_store_inst_set_wl_state(struct gv_store *st, const char *id, enum gv_wl_state state,
			       struct gv_err *err);
int gv_store_inst_delete(struct gv_store *st, const char *id, struct gv_err *err);

/* Per-GPU settings, keyed by GPU uuid. -ENOENT when none were stored. */
int gv_store_gpu_get_mode(struct gv_store *st, const char *uuid, enum gv_mode *out,
			  struct gv_err *err);
int gv_store_gpu_set_mode(struct gv_store *st, const char *uuid, enum gv_mode mode,
			  struct gv_err *err);

/* Time-slice scheduler settings of a GPU (schema 2): policy name as
 * gv_sched_policy_name spells it, slice in microseconds. The store only
 * keeps them; the daemon validates. get: -ENOENT when none were stored.
 * set creates the GPU's row (mode passthrough) when it has none. */
int gv_store_gpu_get_sched(struct gv_store *st, const char *uuid, char *policy, size_t cap,
			   uint32_t *slice_us, struct gv_err *err);
int gv_store_gpu_set_sched(struct gv_store *st, const char *uuid, const char *policy,
			   uint32_t slice_us, struct gv_err *err);
/* Scheduler weight of an instance (schema 2; 1 unless set). -ENOENT when
 * the instance is unknown; set refuses 0. */
int gv_store_inst_get_weight(struct gv_store *st, const char *id, uint32_t *out,
			     struct gv_err *err);
int gv_store_inst_set_weight(struct gv_store *st, const char *id, uint32_t weight,
			     struct gv_err *err);

/* Events: seq increases strictly and is never reused. */
int gv_store_event_add(struct gv_store *st, int64_t time, const char *kind, int gpu,
		       const char *instance, const char *message, int64_t *seq_out,
		       struct gv_err *err);
/* Events with seq > since, oldest first, at most limit; *out malloc'd. */
int gv_store_event_list(struct gv_store *st, int64_t since, size_t limit,
			struct gv_store_event **out, size_t *n, struct gv_err *err);

/* Deletes all but the newest keep events (sequence numbers are not reused). */
int gv_store_event_prune(struct gv_store *st, size_t keep, struct gv_err *err);

/* Live migrations (schema 3), one row per `POST /v1/migrations`.
 * running -> switched (the workload is on dst, its registration moved)
 * -> completed; running -> failed | aborted. A row left running or
 * switched by a crash is resolved at start by asking the workload's shim
 * where it runs (daemon/migration.c). */
enum gv_store_mig_state {
	GV_MIGST_RUNNING = 0,
	GV_MIGST_SWITCHED = 1,
	GV_MIGST_COMPLETED = 2,
	GV_MIGST_FAILED = 3,
	GV_MIGST_ABORTED = 4,
};
/* RUNNING and SWITCHED: the migration owns its two instances. */
bool gv_store_mig_state_active(enum gv_store_mig_state s);

#define GV_STORE_CTL_MAX 128 /* AF_UNIX paths are at most 108 bytes */

struct gv_store_mig {
	char id[GV_STORE_ID_MAX];  /* "m-3" */
	char src[GV_STORE_ID_MAX]; /* source instance */
	char dst[GV_STORE_ID_MAX]; /* destination instance; "" until made */
	bool dst_created;	   /* made by the migration (destroyed on failure) */
	char src_device[GV_STORE_UUID_MAX];
	char dst_device[GV_STORE_UUID_MAX];
	char mode[16]; /* precopy | stopcopy */
	uint64_t downtime_limit_ms;
	pid_t pid;		    /* the workload's process */
	char ctl[GV_STORE_CTL_MAX]; /* its shim's control socket */
	enum gv_store_mig_state state;
	int64_t created, finished;    /* unix seconds; finished 0 while running */
	char error[GV_STORE_MSG_MAX]; /* why it failed, or a note */
	char *report;		      /* JSON text or NULL (malloc'd) */
	char *progress;		      /* JSON array of progress objects or NULL */
	/* a workload on several instances (schema 6): the pairs of its members
	 * after src -> dst, "SRC=DST,SRC=DST" in the span's order; "" none */
	char more[GV_STORE_MSG_MAX];
};

/* Insert: -EEXIST when the id is taken. Update writes every field but id,
 * src, created (-ENOENT when unknown). get/list fill malloc'd report and
 * progress: release them with gv_store_mig_release / gv_store_mig_list_free.
 * list: oldest first. */
int gv_store_mig_insert(struct gv_store *st, const struct gv_store_mig *m, struct gv_err *err);
int gv_store_mig_update(struct gv_store *st, const struct gv_store_mig *m, struct gv_err *err);
int gv_store_mig_get(struct gv_store *st, const char *id, struct gv_store_mig *out,
		     struct gv_err *err);
int gv_store_mig_list(struct gv_store *st, struct gv_store_mig **out, size_t *n,
		      struct gv_err *err);
int gv_store_mig_delete(struct gv_store *st, const char *id, struct gv_err *err);
void gv_store_mig_release(struct gv_store_mig *m);
void gv_store_mig_list_free(struct gv_store_mig *arr, size_t n);
const char *gv_store_mig_state_name(enum gv_store_mig_state s);

const char *gv_inst_state_name(enum gv_inst_state s);

#endif

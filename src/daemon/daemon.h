/* gpuvisord internals shared by the daemon's files (not a public header). */
#ifndef GPUVISORD_DAEMON_H
#define GPUVISORD_DAEMON_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/apireq.h"
#include "gpuvisor/backend.h"
#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"
#include "gpuvisor/node.h"
#include "gpuvisor/place.h"
#include "gpuvisor/sched.h"
#include "gpuvisor/store.h"

enum gvd_log_level { GVD_LOG_ERROR = 0, GVD_LOG_WARN, GVD_LOG_INFO, GVD_LOG_DEBUG };

struct gvd_opts {
	const char *socket_path;
	const char *state_dir;
	const char *run_dir;
	const char *catalog_path;
	const char *backend; /* auto | nvml | sim */
	const char *sim_spec;
	const char *sim_file;
	bool mixed_size;
	const char *listen; /* ADDR:PORT or NULL */
	const char *lib_dir;
	enum gvd_log_level log_level;
	/* deadline of one request, from its connection's accept to its answer
	 * queued, and again for sending it (docs/api.md, "Limits") */
	unsigned request_timeout_s;
	/* the group given the socket and the files workloads use; "" none */
	const char *group;
	/* the console's static files (--console-dir; default: installed or
	 * build tree share/gpuvisor/console) */
	const char *console_dir;
};

#define GVD_METRIC_SLOTS 64

struct gvd_metrics {
	pthread_mutex_t lock;
	struct {
		char method[8];
		int code;
		uint64_t count;
	} req[GVD_METRIC_SLOTS];
	int n_req;
	uint64_t errors;
	uint64_t deadline_closed; /* connections shut down by the request deadline */
};

/* The scheduler segment of one timeslice GPU (sched.c). */
struct gvd_sched_gpu {
	char uuid[GV_UUID_MAX];
	struct gv_sched *s; /* NULL: slot free */
};

#define GVD_MAX_CLAIMS 16

struct gvd {
	struct gvd_opts o;
	char db_path[PATH_MAX];
	char sim_node_path[PATH_MAX];
	char acct_dir[PATH_MAX];
	char sched_dir[PATH_MAX];      /* <run-dir>/sched */
	char tenant_dir[PATH_MAX];     /* <run-dir>/tenant: one directory per instance */
	struct gvd_tenants *tenants;   /* tenant.c */
	struct gvd_mig_runs *mig_runs; /* migration.c: the migrations followed now */
	/* instances found over their partition (gvd_partition_check) */
	char over[64][GV_STORE_ID_MAX];
	int n_over;
	struct gvd_sched_gpu sched[GV_NODE_MAX_GPUS];
	char token[80];			 /* TCP bearer token; "" without --listen */
	char listen_addr[80];		 /* the TCP address actually bound (port 0 resolved) */
	struct gv_console_auth *console; /* console sessions and tickets */
	/* the console directory, opened at start (-1: none; /ui answers 404) */
	int console_fd;
	struct gvd_history *history; /* history.c */
	/* Serialises every state change and every backend call. */
	pthread_mutex_t lock;
	/* instances held by an operation in flight (busy.c); "" = free */
	char claims[GVD_MAX_CLAIMS][GV_STORE_ID_MAX];
	/* set by the migration code around its own destroys of the instances
	 * a migration owns (busy.c lets them through) */
	bool mig_finishing;
	struct gv_catalog *cat;
	struct gv_backend *be;
	struct gv_store *st;
	bool sim;
	struct gvd_metrics metrics;
	/* o.group's id when that group exists (gvd_group_resolve) */
	bool has_gid;
	gid_t gid;
	atomic_bool stopping;
	/* test-only crash point (GPUVISORD_CRASH, simulated backend only): the
	 * daemon kills itself with SIGKILL right after a migration created its
	 * destination instance, before it records the instance's device */
	bool crash_mig_dst_created;
};

/* log.c */
/* "error", "warning", "info", "debug"; parse also takes "warn" (-EINVAL
 * with "unknown log level '<s>'" in err for any other word). */
const char *gvd_log_level_name(enum gvd_log_level lvl);
int gvd_log_level_parse(const char *s, enum gvd_log_level *out, struct gv_err *err);
void gvd_log_set_level(enum gvd_log_level lvl);
void gvd_log(enum gvd_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* view.c: one consistent picture of the node (hardware + store), taken under
 * the lock, in the shape placement wants. */
struct gvd_view {
	struct gv_node_desc hw;
	struct gv_store_inst *insts;
	size_t n_insts;
	int *gpu_of; /* per store instance: GPU index, -1 when the GPU is gone */
	enum gv_mode mode[GV_NODE_MAX_GPUS];
	struct gv_place_gpu pg[GV_NODE_MAX_GPUS];
	struct gv_place_inst *pinsts;
	struct gv_place_node node;
};

int gvd_view_load(struct gvd *d, struct gvd_view *v, struct gv_err *err);
void gvd_view_free(struct gvd_view *v);
int gvd_view_gpu_by_uuid(const struct gvd_view *v, const char *uuid);
/* "0" or "GPU-...": index, or -ENOENT with the reason. */
int gvd_view_gpu_ref(const struct gvd_view *v, const char *ref, struct gv_err *err);
/* Effective mode of a GPU: MIG when the hardware is in MIG mode, else the
 * stored mode (default passthrough). */
enum gv_mode gvd_gpu_mode(struct gvd *d, const struct gv_gpu_info *g);

/* json.c */
void gvd_time_str(int64_t t, char out[32]);
json_t *gvd_json_gpu(struct gvd *d, const struct gvd_view *v, int gi);
json_t *gvd_json_instance(struct gvd *d, const struct gvd_view *v, const struct gv_store_inst *in);
void gvd_acct_path(struct gvd *d, const char *id, char out[PATH_MAX]);
/* <run-dir>/limit/<id>.limit: the limit file (acct.h), the daemon's only
 * (a directory of its own: <run-dir>/acct holds accounting files only). */
void gvd_limit_path(struct gvd *d, const char *id, char out[PATH_MAX]);
/* Once a second (liveness thread): a timeslice instance whose use is over
 * its partition gets an instance.over_partition event (once, until it is
 * back under) and gpuvisor_instance_over_partition 1. Caller holds lock. */
void gvd_partition_check(struct gvd *d);
/* Whether id was found over its partition by the last check. */
bool gvd_partition_over(struct gvd *d, const char *id);
/* Bytes charged to a timeslice instance's accounting file; -1 when unknown. */
int64_t gvd_acct_used(struct gvd *d, const struct gv_store_inst *in);
/* The highest use of a timeslice instance's accounting file (its peak
 * GPU memory, bytes); -1 for other kinds or when the file is unreadable. */
int64_t gvd_acct_peak(struct gvd *d, const struct gv_store_inst *in);

/* events */
void gvd_event(struct gvd *d, const char *kind, int gpu, const char *inst, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* instance.c: state changes; the caller holds d->lock. Each returns 0 or a
 * negative errno with err set; *http is the status to answer with. */
int gvd_instance_create(struct gvd *d, const struct gv_apireq_create *req,
			struct gv_store_inst *out, int *http, struct gv_err *err);
/* The same under an id reserved beforehand (gv_store_next_id "instance",
 * "i-N"), which the caller recorded where a restart finds it (a migration
 * row) before the instance exists, so that a crash leaves nothing nobody
 * owns. NULL id: a fresh one, as gvd_instance_create. */
int gvd_instance_create_as(struct gvd *d, const struct gv_apireq_create *req, const char *id,
			   struct gv_store_inst *out, int *http, struct gv_err *err);
int gvd_instance_destroy(struct gvd *d, const char *id, bool force, int *http, struct gv_err *err);
int gvd_gpu_set_mode(struct gvd *d, const char *ref, enum gv_mode mode, int *gpu_out, int *http,
		     struct gv_err *err);

/* migration.c: -EBUSY (with the reason) while a running migration moves
 * instance id, unless the migration itself is finishing. */

/* Who sent a request, as far as the transport tells (api.c). */
struct gvd_peer {
	bool local; /* Unix socket whose SO_PEERCRED answered; false on TCP */
	pid_t pid;  /* the process that connected (local only) */
	uid_t uid;
	uint64_t since; /* when the request arrived, in /proc starttime ticks:
			      * the process that connected started before */
};

/* workload.c */
bool gvd_workload_alive(const struct gv_store_inst *in);
/* Registers pid as id's workload for peer. Refused (403) unless peer is
 * local and pid is peer's own process or one of its descendants, or peer
 * is root in gpuvisord's pid namespace (docs/api.md, "Workloads"); pid
 * must lead its own process group (400). */
int gvd_workload_attach(struct gvd *d, const char *id, const struct gv_apireq_workload *req,
			const struct gvd_peer *peer, int *http, struct gv_err *err);
/* Registers the calling process's group as id's workload, for a request
 * that came on id's tenant endpoint (tenant.c): the group's leader must be
 * peer itself or one of its ancestors (the caller names no pid: it is the
 * kernel's SO_PEERCRED, in gpuvisord's pid namespace). The same group
 * again is a success that changes nothing (every CUDA process of a
 * workload registers); another live workload is 409. *pgid_out: the
 * group registered. */
int gvd_workload_attach_tenant(struct gvd *d, const char *id, const struct gvd_peer *peer,
			       pid_t *pgid_out, int *http, struct gv_err *err);
/* Clears the workload of id and of every member of its span. */
int gvd_workload_detach(struct gvd *d, const char *id, int *http, struct gv_err *err);
/* The instances a workload spans, in its order (out[0]: the owner), read
 * from any member id; a workload on one instance (or none) gives id alone.
 * out has room for GV_APIREQ_SPAN_MAX. Caller holds d->lock. */
int gvd_span_load(struct gvd *d, const char *id, struct gv_store_inst *out, int *n,
		  struct gv_err *err);
/* Clears every workload whose process group is gone (caller holds lock). */
void gvd_workload_sweep(struct gvd *d);
/* Gives back the charges of processes that are gone, in every instance's
 * and (simulated node) every device's accounting file. Under d->lock. */
void gvd_workload_reclaim_charges(struct gvd *d);

/* What holds an instance (busy.c), under d->lock. gvd_busy: -EBUSY with
 * the reason when a running migration owns id or an operation in flight
 * claimed it. gvd_mig_active_for: 1 and the migration's id in mid when a
 * running migration owns inst, 0 when none, or a negative errno.
 * gvd_claim_check: -EBUSY when id is claimed. */
int gvd_busy(struct gvd *d, const char *id, struct gv_err *err);
int gvd_mig_active_for(struct gvd *d, const char *inst, char *mid, size_t cap, struct gv_err *err);
bool gvd_claimed(const struct gvd *d, const char *id);
int gvd_claim(struct gvd *d, const char *id, struct gv_err *err);
void gvd_unclaim(struct gvd *d, const char *id);
int gvd_claim_check(const struct gvd *d, const char *id, struct gv_err *err);

/* Suspend / resume through the driver's checkpoint API (suspend.c). Called
 * with d->lock held (a request handler); they drop it while the driver
 * works and hold it again when they return. On success *report is the
 * helper's JSON (pids, states, phase times). */
int gvd_workload_suspend(struct gvd *d, const char *id, json_t **report, int *http,
			 struct gv_err *err);
/* to: NULL or "" resumes on the workload's own instance; else an empty
 * instance of the same profile (timeslice: on the same GPU; passthrough:
 * a GPU of the same model), which the workload moves to. */
int gvd_workload_resume(struct gvd *d, const char *id, const struct gv_apireq_resume *to,
			json_t **report, int *http, struct gv_err *err);
/* Suspend, then resume on instance to (a migration through the driver's
 * checkpoint: --mode checkpoint). to is checked before the workload stops;
 * a failed resume there resumes it where it was. held: the caller's
 * migration row owns id and to. *report: the four phases' times and
 * "instance". Drops d->lock meanwhile, as above. */
int gvd_workload_move(struct gvd *d, const char *id, const struct gv_apireq_resume *to, bool held,
		      json_t **report, int *http, struct gv_err *err);
/* Pre-copy of a workload that is not --migratable through the driver
 * (docs/migration.md "The daemon's side"): gpuvisor-ckpt precopy moves its
 * bulk with the engine while it runs and the rest with the driver's
 * checkpoint at the stun; then the move is recorded as a resume --to's.
 * A workload on several instances moves each member to its own (to, in
 * the span's order), all in one helper run.
 * For a migration's row, which holds id and to; under d->lock, dropped
 * while the helper runs. 0: it runs on to (*out: the helper's answer plus
 * "pairs"); else the reason, *fail the row's end and *out the helper's
 * answer if any. */
struct gvd_precopy {
	const char *mode; /* "precopy" | "stopcopy" */
	uint64_t downtime_limit_ms;
	unsigned max_rounds;	/* 0: the helper's default */
	uint64_t stun_fixed_ms; /* the stun beyond the bulk, estimated; 0 none */
};
int gvd_workload_precopy(struct gvd *d, const char *id, const struct gv_apireq_resume *to,
			 const struct gvd_precopy *o, json_t **out, enum gv_store_mig_state *fail,
			 int *http, struct gv_err *err);
/* At a restart, for a row of such a pre-copy left running, with its pairs
 * (srcs[i] -> to->to[i], a span's members in its order): whether the
 * workload runs on the row's destinations (the move recorded, or done by
 * the helper: then recorded here, every member); else *msg says where it
 * is. A helper the previous run left is waited for (60 s), then killed; a
 * workload the driver holds is restored where it was; *gone: the workload
 * is, or its bulk memory was lost (the row fails rather than aborts).
 * Without d->lock. */
bool gvd_precopy_found(struct gvd *d, const struct gv_store_mig *m,
		       const char srcs[][GV_STORE_ID_MAX], const struct gv_apireq_resume *to,
		       bool *gone, char *msg, size_t cap);
const char *gvd_wl_state_name(enum gv_wl_state s);
/* At start, after gvd_reconcile: settles workloads left half suspended or
 * half resumed by a daemon that stopped. */
void gvd_suspend_reconcile(struct gvd *d);
/* liveness.c: the liveness thread, about once a second: gvd_workload_sweep,
 * gvd_workload_reclaim_charges, gvd_tenant_sync, gvd_partition_check and
 * gvd_history_sample. */
int gvd_liveness_start(struct gvd *d, pthread_t *th);

/* sched.c: scheduler segments of timeslice GPUs (caller holds d->lock). */
void gvd_sched_path(struct gvd *d, const char *gpu_uuid, char out[PATH_MAX]);
/* The open segment of a GPU, NULL when it has none. */
struct gv_sched *gvd_sched_of(struct gvd *d, const char *gpu_uuid);
/* Stored policy/slice of a GPU, or the defaults. */
int gvd_sched_settings(struct gvd *d, const char *gpu_uuid, enum gv_sched_policy *policy,
		       uint32_t *slice_us);
/* Fixed-share entitlement of a timeslice instance: 1 / max count of its
 * profile (max_mixed on a mixed-size node), else its part of the memory. */
uint32_t gvd_sched_share_ppm(struct gvd *d, const struct gv_gpu_info *g,
			     const struct gv_store_inst *in);
/* Every timeslice GPU gets its segment (created or adopted) with the stored
 * policy and its instances as tenants; a GPU in another mode without
 * instances loses its segment. Errors are logged; the first is returned. */
int gvd_sched_sync(struct gvd *d, struct gv_err *err);
void gvd_sched_close_all(struct gvd *d);
int gvd_sched_tenant_add(struct gvd *d, const struct gv_gpu_info *g, const struct gv_store_inst *in,
			 struct gv_err *err);
/* wait: retry a while when a process is still attached (a killed workload). */
void gvd_sched_tenant_del(struct gvd *d, const char *gpu_uuid, const char *id, bool wait);
/* Prometheus lines for the scheduler figures (malloc'd, NULL on ENOMEM). */
char *gvd_sched_metrics(struct gvd *d, const struct gvd_view *v);

/* tenant.c: the per-instance tenant endpoints (docs/api.md, "Tenants").
 * Each instance has a directory <run-dir>/tenant/<id>/ with a Unix socket
 * tenant.sock that serves that instance only: a container gets the
 * directory (not the socket file, so a daemon restart that makes a new
 * socket is seen through the same mount). */
int gvd_tenant_start(struct gvd *d, struct gv_err *err);
void gvd_tenant_stop(struct gvd *d);
/* Makes the endpoints match the store's instances: new ones get their
 * directory and socket before this returns, gone ones lose them. Caller
 * holds d->lock. */
void gvd_tenant_sync(struct gvd *d);
/* <run-dir>/tenant/<id> and its socket. */
void gvd_tenant_dir(struct gvd *d, const char *id, char out[PATH_MAX]);
void gvd_tenant_sock(struct gvd *d, const char *id, char out[PATH_MAX]);

/* edits.c: what an instance's workload gets (docs/api.md "/env"): one
 * description for gpuvisor run (env) and the CDI spec (env, mounts,
 * device nodes). {"env":{..}, "mounts":[{"host","container","rw"}],
 * "devices":[{"path"}]}; NULL with err set. Caller holds d->lock. */
json_t *gvd_instance_edits(struct gvd *d, const struct gv_store_inst *in, struct gv_err *err);

/* history.c: what the node looked like once a second (GET /v1/history),
 * a ring of GVD_HISTORY_MAX samples in memory. */
#define GVD_HISTORY_MAX 600
struct gvd_history;
int gvd_history_new(struct gvd_history **out, struct gv_err *err);
void gvd_history_free(struct gvd_history *h);
/* Takes one sample now (liveness thread; caller holds d->lock). */
void gvd_history_sample(struct gvd *d);
/* The samples of the last `seconds` (at most that many), oldest first:
 * a new array, NULL on ENOMEM. Caller holds d->lock. */
json_t *gvd_history_json(struct gvd *d, int seconds);

/* reconcile.c: makes the store agree with the hardware at start. */
int gvd_reconcile(struct gvd *d, struct gv_err *err);

/* metrics.c */
void gvd_metrics_init(struct gvd_metrics *m);
void gvd_metrics_count(struct gvd_metrics *m, const char *method, int code);
void gvd_metrics_deadline(struct gvd_metrics *m);
char *gvd_metrics_render(struct gvd *d);

/* api.c */
struct gvd_http;
int gvd_http_start(struct gvd *d, int unix_fd, struct gvd_http **out, struct gv_err *err);
void gvd_http_stop(struct gvd_http *h);

/* listen.c */
int gvd_unix_listen(struct gvd *d, const char *path, int *fd_out, struct gv_err *err);
/* Looks o.group up once: has_gid/gid. */
void gvd_group_resolve(struct gvd *d);
/* Gives path to the group (when it exists) and sets mode: what the daemon
 * shares with the group's members (their workloads use the accounting and
 * scheduler files; the simulated node's description). A chown that fails is
 * logged; a chmod that fails is an error (a mode is a promise). */
int gvd_group_share(struct gvd *d, const char *path, mode_t mode, struct gv_err *err);
/* Refuses to start on a directory whose filesystem cannot take writes,
 * saying why: read-only, no space, no inodes. what names it ("state
 * directory"). */
int gvd_dir_writable(const char *dir, const char *what, struct gv_err *err);
int gvd_state_lock(const char *state_dir, int *fd_out, struct gv_err *err);
int gvd_token_load(const char *state_dir, char *out, size_t cap, struct gv_err *err);
bool gvd_token_equal(const char *expected, const char *given);
int gvd_mkdir_p(const char *path, mode_t mode, struct gv_err *err);

#endif

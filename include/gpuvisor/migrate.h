/* gpuvisor: the live-migration engine (no CUDA, no processes).
 *
 * The engine moves the contents of a set of memory regions from a source to
 * a destination while the owner of the source keeps writing to it, then
 * switches the owner over during a short stop ("stun"). It drives an
 * abstract endpoint through struct gv_mig_ops; the shim (same host), a
 * stream writer (another host, a file) or a test fake implement it.
 *
 * Rules the engine guarantees (docs/migration.md explains them):
 * - Until switch_over() succeeds the source is authoritative: any failure,
 *   cancellation or refusal before that point aborts: every destination
 *   region the engine created is destroyed, a stunned workload is resumed,
 *   the throttle is lifted, and nothing on the source is changed or freed.
 * - After switch_over() succeeds the migration has happened: the engine
 *   resumes the workload and only then asks the endpoint to release the
 *   source (a failure there is a warning in the report, not an abort).
 * - A chunk is skipped in the stun only when the hash of its source bytes
 *   equals the hash of the bytes the destination holds (as returned by the
 *   copy callback), so a chunk written during or after its copy, even back
 *   to an older value, is copied again.
 */
#ifndef GPUVISOR_MIGRATE_H
#define GPUVISOR_MIGRATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/err.h"

#define GV_MIG_CHUNK_MIN (64ull << 10)	  /* 64 KiB */
#define GV_MIG_CHUNK_MAX (64ull << 20)	  /* 64 MiB: also the wire format's limit */
#define GV_MIG_CHUNK_DEFAULT (2ull << 20) /* 2 MiB: the VMM granularity */
#define GV_MIG_ROUNDS_MAX 1000

enum gv_mig_mode {
	GV_MIG_PRECOPY = 0,  /* copy rounds while running, short stun */
	GV_MIG_STOPCOPY = 1, /* baseline: everything copied during the stun */
};

enum gv_mig_result {
	GV_MIG_NONE = 0,    /* not run (a fresh report) */
	GV_MIG_OK = 1,	    /* switched: the destination is live */
	GV_MIG_ABORTED = 2, /* not switched: the source is live, untouched */
};

/* Why pre-copy ended and the stun began. */
enum gv_mig_stop {
	GV_MIG_STOP_NONE = 0,	     /* did not get that far */
	GV_MIG_STOP_CONVERGED = 1,   /* expected downtime <= limit */
	GV_MIG_STOP_ROUND_LIMIT = 2, /* max_rounds pre-copy rounds done */
	GV_MIG_STOP_STALLED = 3,     /* dirty set did not shrink for stall_rounds */
	GV_MIG_STOP_STOPCOPY = 4,    /* mode stopcopy: no pre-copy at all */
};

/* Engine phases, as seen by the progress callback and in abort reasons. */
enum gv_mig_phase {
	GV_MIG_PHASE_SETUP = 0,
	GV_MIG_PHASE_PRECOPY = 1,
	GV_MIG_PHASE_STUN = 2,
	GV_MIG_PHASE_SWITCH = 3,
	GV_MIG_PHASE_DONE = 4,
};

/* One memory region of the source. id is chosen by the endpoint and names
 * the same allocation for the whole migration (an id is never reused for a
 * different allocation while a migration runs). */
struct gv_mig_region {
	uint64_t id;
	uint64_t size; /* bytes, > 0 */
};

/* Progress, reported after each hash pass and each copy round. */
struct gv_mig_progress {
	enum gv_mig_phase phase;
	unsigned round;		       /* 1-based pre-copy round */
	uint64_t bytes_total;	       /* current size of the state */
	uint64_t bytes_copied;	       /* copied so far, all rounds */
	uint64_t bytes_dirty;	       /* found dirty by the latest hash pass */
	uint64_t dirty_rate_bps;       /* bytes dirtied per second, latest pass */
	uint64_t bandwidth_bps;	       /* measured copy bandwidth */
	uint64_t expected_downtime_ns; /* if the stun started now */
	unsigned throttle_pct;	       /* auto-converge throttle in force */
};

/* The endpoint. Every callback gets the ctx given to gv_mig_run. Callbacks
 * return 0 or a negative errno and may explain in err. Required: all but
 * those marked optional. chunk_size is the engine's (cfg->chunk_size); the
 * last chunk of a region is short when the size is not a multiple of it. */
struct gv_mig_ops {
	/* The source's regions now. Writes at most cap entries to out and the
	 * total number to *count; when *count > cap the engine grows its
	 * buffer and calls again. Called before pre-copy, before each
	 * pre-copy round (regions may appear and vanish while the workload
	 * runs) and once after the stun (the authoritative list). */
	int (*list_regions)(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
			    struct gv_err *err);
	/* Creates the destination region for source region id (size bytes).
	 * On failure nothing must remain of it. */
	int (*dst_create)(void *ctx, uint64_t id, uint64_t size, struct gv_err *err);
	/* Destroys a destination region made by dst_create (abort, or a
	 * source region that vanished). Best effort: a failure is recorded
	 * in the report as a warning. */
	int (*dst_destroy)(void *ctx, uint64_t id, struct gv_err *err);
	/* Hashes chunks [first, first + count) of source region id into
	 * out[0..count): XXH3-128 of each chunk's bytes (see chunkhash.h).
	 * May run while the workload writes to the region. -ENOENT during
	 * pre-copy means the workload freed the region since it was listed:
	 * the engine drops it (same for copy); in the stun it is an error. */
	int (*src_hash)(void *ctx, uint64_t id, uint64_t chunk_size, uint64_t first, uint64_t count,
			struct gv_chunk_hash *out, struct gv_err *err);
	/* Copies chunks [first, first + count) of region id from the source
	 * to the destination. When out is not NULL, writes the hash of each
	 * chunk's bytes as the destination now holds them (hash the
	 * destination after the copy, or the staging buffer that was sent):
	 * the engine relies on these for correctness. out is NULL when the
	 * engine does not need them (stop-and-copy). */
	int (*copy)(void *ctx, uint64_t id, uint64_t chunk_size, uint64_t first, uint64_t count,
		    struct gv_chunk_hash *out, struct gv_err *err);
	/* Blocks the workload from writing to any region (block its API
	 * calls, drain its queued work) and returns once it is quiet. On
	 * failure the workload must be running as before. */
	int (*stun)(void *ctx, struct gv_err *err);
	/* Makes the destination live: remap every region to the destination,
	 * rebind every handle. All or nothing: on failure the workload must
	 * still use the source exactly as before (the engine then aborts). */
	int (*switch_over)(void *ctx, struct gv_err *err);
	/* Lets the stunned workload run again (after a switch, or after an
	 * abort during the stun). Cannot fail. */
	void (*resume)(void *ctx);
	/* Frees the source's memory after the switch and the resume. A
	 * failure is a warning (leak) in the report. */
	int (*src_release)(void *ctx, struct gv_err *err);
	/* Optional: notified once after an abort has been carried out
	 * (destination regions destroyed, workload resumed). */
	void (*aborted)(void *ctx, const struct gv_err *why);
	/* Optional: slow the workload down to (100 - pct)% of its speed for
	 * auto-converge; pct 0 lifts the throttle. Failure ignores the
	 * throttle from then on (it is advice, not needed for correctness). */
	int (*throttle)(void *ctx, unsigned pct);
	/* Optional: progress after each hash pass and each copy round. */
	void (*progress)(void *ctx, const struct gv_mig_progress *p);
	/* Optional: monotonic clock in ns (tests use a simulated clock);
	 * CLOCK_MONOTONIC when NULL. */
	uint64_t (*now_ns)(void *ctx);
};

struct gv_mig_config {
	enum gv_mig_mode mode;
	uint64_t chunk_size;	    /* power of two in [GV_MIG_CHUNK_MIN, GV_MIG_CHUNK_MAX] */
	uint64_t downtime_limit_ns; /* convergence target; default 300 ms */
	unsigned max_rounds;	    /* pre-copy rounds at most; default 30 */
	unsigned stall_rounds;	    /* stop when the dirty set has not shrunk
				     * for this many consecutive rounds; 0: never;
				     * default 5 */
	bool auto_converge;	    /* throttle a workload that dirties more
				     * than half of what a round sent */
	unsigned throttle_initial;  /* default 20 (percent) */
	unsigned throttle_step;	    /* default 10 */
	unsigned throttle_max;	    /* default 99 */
	uint64_t max_copy_chunks;   /* chunks per copy call at most; default 32 */
	/* What the stun costs beyond the chunks' final hash and dirty copy
	 * (on the driver path: the driver's lock, checkpoint, restore and
	 * unlock and the shim's stop, release and map), as the caller
	 * estimates it: added to every expected_downtime, so the limit holds
	 * for the whole stun. Default 0. */
	uint64_t stun_fixed_ns;
	const atomic_int *cancel; /* optional: nonzero aborts before the switch */
};

/* One pre-copy round. Round 1 copies everything without a hash pass. */
struct gv_mig_round {
	unsigned round;
	uint64_t bytes_dirty; /* found dirty by this round's hash pass */
	uint64_t chunks_dirty;
	uint64_t bytes_copied; /* 0 for the pass that decided to stun */
	uint64_t chunks_copied;
	uint64_t hash_ns;	 /* time of the hash pass */
	uint64_t copy_ns;	 /* time of the copies */
	uint64_t dirty_rate_bps; /* bytes_dirty / time since the previous pass */
	uint64_t expected_downtime_ns;
	unsigned throttle_pct;
};

/* What happened, for the daemon's store, the CLI and the API. */
struct gv_mig_report {
	enum gv_mig_mode mode;
	enum gv_mig_result result;
	enum gv_mig_stop stop;
	enum gv_mig_phase failed_phase; /* aborted: where */
	int error;			/* aborted: positive errno */
	char reason[GV_ERR_MSG_MAX];	/* aborted: why */
	char warning[GV_ERR_MSG_MAX];	/* cleanup that failed (leak), or empty */

	uint64_t chunk_size;
	uint64_t downtime_limit_ns;
	uint64_t stun_fixed_ns; /* the config's, counted in every estimate */
	uint64_t regions;	/* at the stun (or last listing) */
	uint64_t bytes_total;	/* state size at the stun (or last listing) */

	uint64_t total_ns;	       /* start to end of the engine run */
	uint64_t setup_ns;	       /* listing and creating destination regions */
	uint64_t precopy_ns;	       /* first copy to the stun */
	uint64_t downtime_ns;	       /* stun call to resume return */
	uint64_t expected_downtime_ns; /* estimate when the stun was decided */

	uint64_t bytes_precopy; /* copied before the stun, all rounds */
	uint64_t bytes_stun;	/* copied during the stun */
	uint64_t chunks_stun;
	uint64_t bytes_hashed; /* source bytes hashed, all passes */

	unsigned rounds;	 /* pre-copy rounds that copied */
	uint64_t bandwidth_bps;	 /* copy bandwidth measured over all copies */
	uint64_t dirty_rate_bps; /* at the last hash pass before the stun */
	uint64_t hash_rate_bps;	 /* source hash throughput, all passes */
	unsigned throttle_max_pct;

	bool source_released;
	struct gv_mig_round *round; /* [nround] */
	size_t nround;
};

/* Defaults: pre-copy, 2 MiB chunks, 300 ms, 30 rounds, stall 5, no
 * auto-converge (20/10/99 when enabled), 32 chunks per copy. */
void gv_mig_config_default(struct gv_mig_config *cfg);

/* Checks a configuration; EINVAL with the reason. */
int gv_mig_config_check(const struct gv_mig_config *cfg, struct gv_err *err);

struct gv_mig_report *gv_mig_report_new(void);
void gv_mig_report_free(struct gv_mig_report *r);

/* Runs one migration to its end. Returns 0 when the destination is live
 * (report->result GV_MIG_OK) and a negative errno otherwise: an invalid
 * configuration or ops (nothing called, report->result GV_MIG_NONE), or an
 * abort (report->result GV_MIG_ABORTED, the source untouched and live). The
 * report, which the caller owns (from gv_mig_report_new, or zeroed), is reset
 * and filled in every case; err gets the abort reason. Callbacks run on the
 * calling thread, one at a time; one run per ctx at a time. */
int gv_mig_run(const struct gv_mig_config *cfg, const struct gv_mig_ops *ops, void *ctx,
	       struct gv_mig_report *report, struct gv_err *err);

/* The report as a JSON object (new reference), NULL on allocation failure.
 * Times in ms (double) and ns, bytes and rates as integers, enums as names. */
json_t *gv_mig_report_to_json(const struct gv_mig_report *r);

/* A progress event as a JSON object (new reference; NULL on allocation
 * failure): phase, round, bytes_total, bytes_copied, bytes_dirty,
 * dirty_rate_bps, bandwidth_bps, expected_downtime_ms, throttle_pct. */
json_t *gv_mig_progress_to_json(const struct gv_mig_progress *p);

const char *gv_mig_mode_name(enum gv_mig_mode m);
/* "precopy" | "stopcopy" -> mode; EINVAL otherwise. */
int gv_mig_mode_parse(const char *s, enum gv_mig_mode *out, struct gv_err *err);
const char *gv_mig_result_name(enum gv_mig_result r);
const char *gv_mig_stop_name(enum gv_mig_stop s);
const char *gv_mig_phase_name(enum gv_mig_phase p);

#endif

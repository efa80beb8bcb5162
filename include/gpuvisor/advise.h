/* gpuvisor: advice on how to run a workload on this node (`gpuvisor advise`,
 * POST /v1/advise).
 *
 * A pure function (no I/O, nothing changes) from a description of the
 * workload and a snapshot of the node in placement's shape (the daemon's
 * view) to a recommendation: mode, profile, GPU and MIG start per replica,
 * whether it fits now, the reasons in sentences a user understands, the
 * alternatives when it does not fit now, and the `gpuvisor` commands that
 * apply it. Rules (docs/cli.md, "advise"), the seed's table first:
 *
 *   - one workload that needs a whole GPU (its memory is more than any
 *     shared partition of the GPUs considered) or latency-sensitive
 *     training: passthrough ("one workload at full performance");
 *   - tenants that do not trust each other: MIG (multitenancy; only MIG
 *     isolates faults, memory and bandwidth in hardware);
 *   - inference (production) and latency-sensitive dev/test: MIG;
 *   - training and dev/test: time slicing.
 *
 * Untrusted tenants never get time slicing without the warning that only
 * MIG isolates faults and bandwidth. Replicas go to GPUs with the fewest
 * replicas of the same advice first (spread), and within that the
 * placement code's own choice (pack). Every "what fits" is asked of
 * gv_place() on a copy of the snapshot.
 */
#ifndef GPUVISOR_ADVISE_H
#define GPUVISOR_ADVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/apireq.h"
#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"
#include "gpuvisor/node.h"
#include "gpuvisor/place.h"

#define GV_ADVISE_REPLICAS_MAX 64
#define GV_ADVISE_ALT_MAX 4
#define GV_ADVISE_REASONS_MAX 16
#define GV_ADVISE_REASON_MAX 512
#define GV_ADVISE_COMMANDS_MAX (GV_ADVISE_REPLICAS_MAX + GV_NODE_MAX_GPUS)
#define GV_ADVISE_COMMAND_MAX 160
/* Memory a request may name: 1 MiB .. 1 PiB (the CLI's size parser's range). */
#define GV_ADVISE_MEMORY_MAX_MIB (UINT64_C(1) << 30)

enum gv_advise_workload {
	GV_ADVISE_TRAINING = 0,
	GV_ADVISE_INFERENCE = 1,
	GV_ADVISE_DEV = 2, /* development and test */
};

struct gv_advise_req {
	enum gv_advise_workload workload;
	uint64_t memory_mib; /* GPU memory the workload needs, >= 1 */
	bool trusted;	     /* tenants on the node trust each other */
	bool latency_sensitive;
	int replicas; /* 1..GV_ADVISE_REPLICAS_MAX */
	int gpu;      /* index into the node's GPUs, -1: any */
};

/* One replica's place. */
struct gv_advise_slot {
	int gpu;		   /* index into the node's GPUs */
	char profile[GV_NAME_MAX]; /* "passthrough", "3g.40gb", "h100-8c", "timeslice" */
	enum gv_profile_kind kind;
	int start;	 /* MIG start slot, -1 otherwise */
	uint64_t fb_mib; /* framebuffer the instance gets */
	int free_after;	 /* more of profile that fit on gpu after it; -1: n/a */
};

/* One way to run the workload: the recommendation or an alternative. */
struct gv_advice_opt {
	enum gv_mode mode;
	char profile[GV_NAME_MAX]; /* the first replica's profile ("" when none fits) */
	bool fits_now;		   /* every replica has a place (after the
					mode changes in commands, if any) */
	struct gv_advise_slot slots[GV_ADVISE_REPLICAS_MAX];
	int n_slots;			 /* replicas placed */
	int mode_gpus[GV_NODE_MAX_GPUS]; /* GPUs to set to mode first */
	int n_mode_gpus;
	char reasons[GV_ADVISE_REASONS_MAX][GV_ADVISE_REASON_MAX];
	int n_reasons;
	char commands[GV_ADVISE_COMMANDS_MAX][GV_ADVISE_COMMAND_MAX];
	int n_commands; /* only when fits_now */
};

struct gv_advice {
	struct gv_advice_opt rec; /* the recommendation */
	struct gv_advice_opt alts[GV_ADVISE_ALT_MAX];
	int n_alts; /* when rec does not fit now; or one that
					spreads fitting replicas over more GPUs */
};

/* Fills *out (heap-sized: allocate it). 0 on success, whether or not the
 * advice fits now; -EINVAL for a request out of range or a bad node,
 * -ENOENT for a GPU index not on the node, -EOVERFLOW for a GPU with more
 * than 64 instances, -ENOMEM (reason in err). Deterministic for the same
 * request and snapshot; node is only read. */
int gv_advise(const struct gv_place_node *node, const struct gv_advise_req *req,
	      struct gv_advice *out, struct gv_err *err);

/* "training", "inference" or "dev"; "?" for a value outside the enum. */
const char *gv_advise_workload_name(enum gv_advise_workload w);
/* One of those names (exactly); -EINVAL (the reason in err) else. */
int gv_advise_workload_parse(const char *s, enum gv_advise_workload *out, struct gv_err *err);

/* POST /v1/advise body, parsed strictly (src/core/advisereq.c):
 *   {"workload":"training"|"inference"|"dev",   (required)
 *    "memory_mib":1..2^30,                      (required)
 *    "trusted":bool,                            (default true)
 *    "latency_sensitive":bool,                  (default false)
 *    "replicas":1..64,                          (default 1)
 *    "gpu":INDEX|"GPU-..."|null}                (default any)
 * Unknown fields, wrong types and out-of-range values are refused with the
 * reason: -EINVAL, or -E2BIG for a body over GV_APIREQ_MAX_BODY. out is
 * zeroed on failure. gpu gets "" (any) or the reference as given; the
 * daemon resolves it against its GPUs. */
struct gv_advise_body {
	struct gv_advise_req req; /* req.gpu is -1; see gpu */
	char gpu[GV_APIREQ_GPU_MAX];
};

int gv_advisereq_parse(const char *body, size_t len, struct gv_advise_body *out,
		       struct gv_err *err);

#endif

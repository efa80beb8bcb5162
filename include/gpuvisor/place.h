/* gpuvisor: placement of instances on the GPUs of a node.
 *
 * Pure functions over a snapshot of the node: no I/O, no locking. The daemon
 * takes its lock, builds the snapshot from the store, asks for a placement,
 * and then acts on it. Deterministic: the same snapshot and request always
 * give the same answer.
 */
#ifndef GPUVISOR_PLACE_H
#define GPUVISOR_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"

/* An instance already on a GPU. */
struct gv_place_inst {
	const struct gv_profile *profile; /* NULL for a timeslice instance of an unknown model */
	enum gv_profile_kind kind;
	int start; /* MIG: first memory slice; -1 otherwise */
	uint64_t fb_mib;
};

struct gv_place_gpu {
	int index;
	const char *uuid;
	const struct gv_model *model; /* NULL: not in the catalog */
	uint64_t mem_mib;	      /* as the device reports it */
	uint64_t reserve_mib;	      /* kept back from timeslice partitions */
	enum gv_mode mode;
	const struct gv_place_inst *insts;
	int n_insts;
};

struct gv_place_node {
	const struct gv_place_gpu *gpus;
	int n_gpus;
	bool mixed_size; /* node allows timeslice instances of different sizes on one GPU */
};

enum gv_place_policy {
	GV_PLACE_PACK = 0,   /* fullest GPU that fits first */
	GV_PLACE_SPREAD = 1, /* emptiest GPU that fits first */
};

struct gv_place_req {
	const char *profile; /* profile name, or "passthrough" */
	int gpu;	     /* index into node->gpus, -1: any */
	int start;	     /* MIG start slot, -1: choose */
	uint64_t fb_mib;     /* timeslice on an unknown model: framebuffer (0: none given) */
	enum gv_place_policy policy;
};

/* kind is what the instance is; it may differ from profile->kind: the
 * full-size C profile (h100-80c) on a passthrough-mode GPU is passthrough. */
struct gv_place_result {
	int gpu;			  /* index into node->gpus */
	const struct gv_profile *profile; /* NULL for passthrough/timeslice on an unknown model */
	enum gv_profile_kind kind;
	int start; /* MIG start slot, -1 otherwise */
	uint64_t fb_mib;
};

/* Chooses where a new instance goes, or explains why it cannot go anywhere
 * (err names each GPU considered and why it was refused). -ENOSPC: nothing
 * fits now; -EINVAL: unknown profile or GPU, or a start slot that is never
 * valid for the profile. Rules: docs/catalog.md, "Placement". */
int gv_place(const struct gv_place_node *node, const struct gv_place_req *req,
	     struct gv_place_result *out, struct gv_err *err);

/* How many more instances of profile fit on gpu now (nvidia-smi mig -lgip
 * "free" column); 0 when the GPU's mode does not take that profile. */
int gv_place_free_count(const struct gv_place_gpu *gpu, const struct gv_profile *profile,
			bool mixed_size);

/* Checks one MIG placement against the instances already on a GPU (valid
 * start, no overlap in memory slices, compute slices within the model's
 * limit, per-profile max count). 0 or -EINVAL/-ENOSPC with the reason.
 * The simulated node backend uses this to behave like NVML. */
int gv_place_mig_check(const struct gv_model *model, const struct gv_place_inst *insts, int n_insts,
		       const struct gv_profile *profile, int start, struct gv_err *err);

#endif

/* gpuvisor: inventory backends, the table of operations through which the
 * daemon reads and changes a node's GPUs (the real ones through NVML, or a
 * simulated node); what they report is a node description (node.h). */
#ifndef GPUVISOR_BACKEND_H
#define GPUVISOR_BACKEND_H

#include <stdbool.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"
#include "gpuvisor/node.h"

/* An inventory backend: the real GPUs through NVML, or a simulated node.
 * All calls are made with the daemon's lock held; none blocks for long. */
struct gv_backend;

struct gv_backend_ops {
	const char *name; /* "nvml" or "sim" */
	/* Current view of every GPU, MIG instances included. */
	int (*query)(struct gv_backend *be, struct gv_node_desc *out, struct gv_err *err);
	int (*set_mig_mode)(struct gv_backend *be, int gpu, bool on, struct gv_err *err);
	/* Creates a GPU instance + one full compute instance at start; writes
	 * the MIG device UUID. */
	int (*mig_create)(struct gv_backend *be, int gpu, const struct gv_profile *profile,
			  int start, char uuid_out[GV_UUID_MAX], struct gv_err *err);
	int (*mig_destroy)(struct gv_backend *be, int gpu, const char *mig_uuid,
			   struct gv_err *err);
	void (*free)(struct gv_backend *be);
};

struct gv_backend {
	const struct gv_backend_ops *ops;
	const struct gv_catalog *cat;
};

/* NVML: -ENODEV (with reason) when libnvidia-ml.so.1 cannot be loaded or
 * reports no GPU. Same error classes as the simulated node below, plus:
 * set_mig_mode -> -EAGAIN when the driver accepted the change but it waits
 * for a GPU reset, -EPERM without root; NVML's IN_USE -> -EBUSY. query: model
 * NULL for a GPU the catalog does not match; a GPU instance whose profile the
 * catalog does not know is left out of mig[]; one without a compute instance
 * (made outside gpuvisor) is listed with an empty uuid. */
int gv_backend_nvml_new(const struct gv_catalog *cat, struct gv_backend **out, struct gv_err *err);
/* Simulated node: starts from desc unless state_path already holds a
 * simulated node (the "hardware" survives a daemon restart, as MIG instances
 * do on a real GPU); every change is saved to state_path (gv_node_save)
 * before the call returns. desc may be NULL when state_path exists. When both
 * are given and the state file's GPUs (count, models, UUIDs) differ from
 * desc, it fails with -EEXIST rather than silently pick one. state_path NULL:
 * in memory only.
 *
 * Errors, as NVML gives them: set_mig_mode on a model without MIG ->
 * -EOPNOTSUPP; MIG off while MIG instances exist -> -EBUSY. mig_create on a
 * GPU not in MIG mode -> -EOPNOTSUPP; a profile that is not a MIG profile of
 * the GPU's model or a start that is not one of its start slots -> -EINVAL;
 * overlap, compute slices or per-profile maximum exceeded -> -ENOSPC (the
 * reasons come from gv_place_mig_check). mig_destroy of a UUID not on that
 * GPU -> -ENOENT. A GPU index out of range -> -EINVAL.
 *
 * Fault injection for tests (read when the backend is created):
 *   GPUVISOR_SIM_FAIL="op:N[,op:N...]", op one of mig_create, mig_destroy,
 *     set_mig_mode: the Nth call (1-based, counted per backend) of op fails
 *     with -EIO and changes nothing.
 *   GPUVISOR_SIM_CRASH="mig_create_after": the process kills itself with
 *     SIGKILL right after a MIG instance was created and saved to state_path,
 *     before mig_create returns (daemon crash-consistency tests).
 * A malformed value makes gv_backend_sim_new fail with -EINVAL. */
int gv_backend_sim_new(const struct gv_catalog *cat, const struct gv_node_desc *desc,
		       const char *state_path, struct gv_backend **out, struct gv_err *err);
void gv_backend_free(struct gv_backend *be);

#endif

/* gpuvisor: node descriptions and inventory backends.
 *
 * A node description (JSON) says which GPUs a node has, their MIG mode and
 * MIG instances. It is what `gpuvisord --sim-file` reads, what the simulated
 * backend persists as its "hardware" state, and what libcudasim reads
 * ($GPUVISOR_SIM_NODE) to know which devices exist. `--sim a100-40gb:1,...`
 * builds the same structure from catalog models.
 *
 * Format:
 *   { "version": 1,
 *     "gpus": [ { "model": "h100-80gb",           (catalog id, required)
 *                 "uuid": "GPU-....",             (optional; derived if absent)
 *                 "mem_mib": 81559,               (optional; catalog if absent)
 *                 "mig_mode": true,               (optional, default false)
 *                 "mig_instances": [ { "profile": "3g.40gb", "start": 0,
 *                                      "uuid": "MIG-..." } ] } ] }
 */
#ifndef GPUVISOR_NODE_H
#define GPUVISOR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"

#define GV_UUID_MAX 48	/* "GPU-" / "MIG-" + 36 + NUL */
#define GV_NODE_MAX_GPUS 16
#define GV_NODE_MAX_MIG 8

struct gv_mig_inst {
	char uuid[GV_UUID_MAX];
	const struct gv_profile *profile;
	int start;
};

struct gv_gpu_info {
	int index;
	char uuid[GV_UUID_MAX];
	char name[GV_NAME_MAX];
	uint32_t pci_device_id;
	char pci_bus_id[32];
	uint64_t mem_mib;
	const struct gv_model *model; /* NULL: not in the catalog */
	bool mig_capable;
	bool mig_mode;
	struct gv_mig_inst mig[GV_NODE_MAX_MIG];
	int n_mig;
};

struct gv_node_desc {
	struct gv_gpu_info gpus[GV_NODE_MAX_GPUS];
	int n_gpus;
};

/* Parses a node description; every model must be in cat. Unknown fields are
 * an error (a typo must not silently mean a default). */
int gv_node_parse(const struct gv_catalog *cat, const char *buf, size_t len,
		  struct gv_node_desc *out, struct gv_err *err);
int gv_node_load(const struct gv_catalog *cat, const char *path, struct gv_node_desc *out,
		 struct gv_err *err);
/* "a100-40gb:1,h100-80gb:2" -> GPUs in that order, MIG mode off. */
int gv_node_from_spec(const struct gv_catalog *cat, const char *spec, struct gv_node_desc *out,
		      struct gv_err *err);
/* Writes the description atomically (temp file + rename). */
int gv_node_save(const struct gv_node_desc *node, const char *path, struct gv_err *err);
/* Deterministic UUIDs: GPU-/MIG- followed by a v4-shaped UUID derived from seed. */
void gv_uuid_make(char out[GV_UUID_MAX], const char *prefix, const char *seed);

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
 * reports no GPU. */
int gv_backend_nvml_new(const struct gv_catalog *cat, struct gv_backend **out,
			struct gv_err *err);
/* Simulated node: starts from desc unless state_path already holds a
 * simulated node (the "hardware" survives a daemon restart, as MIG instances
 * do on a real GPU); every change is saved to state_path. */
int gv_backend_sim_new(const struct gv_catalog *cat, const struct gv_node_desc *desc,
		       const char *state_path, struct gv_backend **out, struct gv_err *err);
void gv_backend_free(struct gv_backend *be);

#endif

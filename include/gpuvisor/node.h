/* gpuvisor: node descriptions (the backends that report them: backend.h).
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
 *                                      "uuid": "MIG-..." } ] } ],
 *     "seed": "gpuvisor-sim",                     (optional; UUID seed, see below)
 *     "mig_serial": 3 }                           (optional; MIG creations so far)
 *
 * Rules: unknown keys, wrong types, unknown models or profiles, duplicate
 * UUIDs, mig_instances on a GPU without mig_mode, mig_mode on a model without
 * MIG, and MIG layouts that NVML would refuse (gv_place_mig_check) are errors
 * whose message starts with the JSON path of the bad field, e.g.
 * "gpus[1].mig_instances[0].start: 3g.40gb cannot start at slot 2".
 *
 * Derived values (stable for the same description): a GPU without "uuid"
 * gets gv_uuid_make("GPU-", "<seed>:gpu:<index>"); a MIG instance without
 * "uuid" gets gv_uuid_make("MIG-", "<gpu uuid>:mig:<start>:<profile>:<n>")
 * where n is the node's creation counter (mig_serial, incremented and
 * persisted). name and pci_device_id come from the catalog model, pci_bus_id
 * is "00000000:<0x10 + index, 2 hex digits>:00.0".
 */
#ifndef GPUVISOR_NODE_H
#define GPUVISOR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"

#define GV_UUID_MAX 48 /* "GPU-" / "MIG-" + 36 + NUL */
#define GV_NODE_MAX_GPUS 16
#define GV_NODE_MAX_MIG 8

struct gv_mig_inst {
	char uuid[GV_UUID_MAX];
	const struct gv_profile *profile;
	int start;
	/* NVML's GPU and compute instance ids (nvml backend; -1 when unknown,
	 * e.g. a GPU instance without a compute instance): they name the MIG
	 * capability device nodes a container of this instance needs */
	int gi_id, ci_id;
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

#define GV_NODE_DEFAULT_SEED "gpuvisor-sim"

struct gv_node_desc {
	struct gv_gpu_info gpus[GV_NODE_MAX_GPUS];
	int n_gpus;
	/* Simulated nodes only (empty / 0 for NVML): */
	char seed[GV_NAME_MAX]; /* UUID seed; GV_NODE_DEFAULT_SEED when not given */
	uint64_t mig_serial;	/* MIG instances created so far (MIG UUID derivation) */
};

/* Parses a node description; every model must be in cat. Unknown fields are
 * an error (a typo must not silently mean a default). */
int gv_node_parse(const struct gv_catalog *cat, const char *buf, size_t len,
		  struct gv_node_desc *out, struct gv_err *err);
int gv_node_load(const struct gv_catalog *cat, const char *path, struct gv_node_desc *out,
		 struct gv_err *err);
/* "a100-40gb:1,h100-80gb:2" -> GPUs in that order, MIG mode off. ":N" may be
 * omitted (1); 1..GV_NODE_MAX_GPUS GPUs in total; seed GV_NODE_DEFAULT_SEED,
 * so the UUIDs equal those of the same GPUs written as JSON. */
int gv_node_from_spec(const struct gv_catalog *cat, const char *spec, struct gv_node_desc *out,
		      struct gv_err *err);
/* Writes the description atomically (temp file in the same directory, fsync,
 * rename, fsync of the directory), mode 0640: for root and the directory's
 * group (gpuvisord's state directory is set-group-ID). Every GPU must have a
 * catalog model. */
int gv_node_save(const struct gv_node_desc *node, const char *path, struct gv_err *err);
/* Deterministic UUIDs: prefix ("GPU-"/"MIG-") followed by a v4-shaped UUID
 * (xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx, lowercase hex) taken from the
 * XXH3-128 hash of seed. */
void gv_uuid_make(char out[GV_UUID_MAX], const char *prefix, const char *seed);

#endif

/* gpuvisor: the catalog of GPU models and their profiles.
 *
 * The catalog is a JSON data file (data/catalog.json, installed under
 * GV_DATADIR, overridable with --catalog or $GPUVISOR_CATALOG). It is loaded
 * once and is immutable afterwards; every pointer into it stays valid until
 * gv_catalog_free().
 */
#ifndef GPUVISOR_CATALOG_H
#define GPUVISOR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

#define GV_NAME_MAX 64
#define GV_MIG_MAX_SLOTS 8
#define GV_MODEL_MAX_PCI_IDS 4

enum gv_mode {
	GV_MODE_PASSTHROUGH = 0,
	GV_MODE_TIMESLICE = 1,
	GV_MODE_MIG = 2,
};

enum gv_profile_kind {
	GV_PROFILE_PASSTHROUGH =
		0, /* the whole GPU ("passthrough", <board>-<full>c on a passthrough GPU) */
	GV_PROFILE_TIMESLICE = 1, /* time-sliced C-series vGPU: h100-8c */
	GV_PROFILE_MIG = 2,	  /* a MIG GPU instance: 3g.40gb */
	GV_PROFILE_MIG_VGPU = 3,  /* a C-series vGPU backed by a MIG instance: h100-3-40c */
};

struct gv_profile {
	char name[GV_NAME_MAX];
	enum gv_profile_kind kind;
	uint64_t fb_mib; /* framebuffer the instance gets */
	int max_count;	 /* per GPU; time-sliced: equal-size mode */
	int max_mixed;	 /* time-sliced only: max per GPU in mixed-size mode */
	/* MIG and MIG-backed profiles (0 otherwise) */
	int mig_id;	     /* nvidia-smi GPU instance profile id */
	int mem_slices;	     /* memory slices the instance spans */
	int compute_slices;  /* compute (SM) slices it uses */
	uint32_t start_mask; /* bit s set: s is a valid start slot */
	int sms;	     /* SMs, when published (0 = unknown) */
	bool media_ext;	     /* +me profile */
	/* MIG-backed vGPU: the MIG profile it lives in (NULL otherwise) */
	const struct gv_profile *mig;
	const char *source; /* provenance note from the catalog, NULL if none */
};

struct gv_model {
	char id[GV_NAME_MAX];	 /* catalog key: "h100-80gb", "a100-40gb", "l4" */
	char name[GV_NAME_MAX];	 /* marketing name as NVML reports it: "NVIDIA H100 80GB HBM3" */
	char board[GV_NAME_MAX]; /* C-series prefix: "h100" -> h100-8c, h100-3-40c */
	uint32_t pci_ids[GV_MODEL_MAX_PCI_IDS]; /* PCI device ids (0x2330); 0 terminates */
	uint64_t mem_mib;			/* total framebuffer */
	int sms;
	int mig_mem_slices;		   /* 8, 4 on A30; 0 when the model has no MIG */
	int mig_compute_slices;		   /* 7, 4 on A30 */
	const struct gv_profile *profiles; /* all kinds, catalog order */
	size_t n_profiles;
	/* Added fields (all NUL-free strings owned by the catalog). The first
	 * profile is always the synthetic "passthrough" (whole GPU, max 1). */
	const char *const *aliases; /* other ids accepted by find_model */
	size_t n_aliases;
	const char *const *names; /* every NVML name; names[0] == name */
	size_t n_names;
	const char *const *board_aliases; /* other C-series prefixes ("h100xm") */
	size_t n_board_aliases;
	const char *source; /* provenance note, NULL if none */
};

struct gv_catalog;

/* Loads and validates a catalog file. On failure *out is NULL and err says
 * which model/profile/field is wrong. */
int gv_catalog_load(const char *path, struct gv_catalog **out, struct gv_err *err);
/* Same, from a buffer (used by the fuzz target and tests). */
int gv_catalog_parse(const char *buf, size_t len, struct gv_catalog **out, struct gv_err *err);
void gv_catalog_free(struct gv_catalog *cat);

/* Resolves the default catalog path: $GPUVISOR_CATALOG, else the build tree's
 * data/catalog.json when running from a build, else GV_DATADIR/catalog.json. */
const char *gv_catalog_default_path(void);

size_t gv_catalog_n_models(const struct gv_catalog *cat);
const struct gv_model *gv_catalog_model_at(const struct gv_catalog *cat, size_t i);
/* By id or alias, case-insensitive ("H100-80GB", "a30"). NULL if unknown. */
const struct gv_model *gv_catalog_find_model(const struct gv_catalog *cat, const char *id);
/* Matches what a driver reports: PCI device id first, then the name, then
 * total memory within 3%. NULL when nothing matches (the GPU still works in
 * passthrough and timeslice with an explicit framebuffer). */
const struct gv_model *gv_catalog_match(const struct gv_catalog *cat, uint32_t pci_device_id,
					const char *name, uint64_t mem_mib);
/* Same, and *how (may be NULL) is set to "pci_id", "name" or "memory", or to
 * NULL when nothing matched. pci_device_id 0, name NULL and mem_mib 0 are
 * skipped. A memory match must be unique: two models equally close (A100
 * 80GB and H100 80GB) match nothing. */
const struct gv_model *gv_catalog_match_ex(const struct gv_catalog *cat, uint32_t pci_device_id,
					   const char *name, uint64_t mem_mib, const char **how);

/* A profile of a model by name, case-insensitive; NULL when unknown. Board
 * aliases are accepted for C-series names ("h100xm-8c" on h100-80gb), and
 * so is NVIDIA's "grid_" prefix ("grid_a100-8c"). */
const struct gv_profile *gv_model_find_profile(const struct gv_model *m, const char *name);

/* Names (gpuvisor/nametab.h): "passthrough", "timeslice", "mig"; "unknown"
 * for a value outside the enum. parse takes a name exactly: 0, or -EINVAL
 * with "unknown mode '<s>': passthrough, timeslice or mig" in err. */
const char *gv_mode_name(enum gv_mode mode);
int gv_mode_parse(const char *s, enum gv_mode *out, struct gv_err *err);
/* "passthrough", "timeslice", "mig", "mig-vgpu"; "unknown" otherwise. */
const char *gv_profile_kind_name(enum gv_profile_kind kind);
/* True for the kinds that occupy a hardware MIG instance (GV_PROFILE_MIG and
 * GV_PROFILE_MIG_VGPU). */
bool gv_profile_kind_is_mig(enum gv_profile_kind kind);

#endif

/* The part of NVML's C API that backend_nvml.c uses, written from NVML's
 * documented API (NVML API Reference: Device Queries, Multi Instance GPU
 * Management). libnvidia-ml.so.1 is dlopen'ed, never linked, so only types,
 * constants and function pointer types are needed; the names carry a gv_nvml
 * prefix so they cannot clash with a real nvml.h. Layouts must match the
 * library's exactly: every struct here is checked by size below. */
#ifndef GPUVISOR_NVML_INTERNAL_H
#define GPUVISOR_NVML_INTERNAL_H

#include <stdio.h>

#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"

/* nvmlReturn_t (a C enum: int-sized) */
typedef int gv_nvml_ret;
#define GV_NVML_SUCCESS 0
#define GV_NVML_ERROR_UNINITIALIZED 1
#define GV_NVML_ERROR_INVALID_ARGUMENT 2
#define GV_NVML_ERROR_NOT_SUPPORTED 3
#define GV_NVML_ERROR_NO_PERMISSION 4
#define GV_NVML_ERROR_NOT_FOUND 6
#define GV_NVML_ERROR_INSUFFICIENT_SIZE 7
#define GV_NVML_ERROR_DRIVER_NOT_LOADED 9
#define GV_NVML_ERROR_TIMEOUT 10
#define GV_NVML_ERROR_GPU_IS_LOST 15
#define GV_NVML_ERROR_RESET_REQUIRED 16
#define GV_NVML_ERROR_IN_USE 19
#define GV_NVML_ERROR_MEMORY 20
#define GV_NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define GV_NVML_ERROR_UNKNOWN 999

/* opaque handles: nvmlDevice_t, nvmlGpuInstance_t, nvmlComputeInstance_t */
typedef struct gv_nvml_device_st *gv_nvml_device;
typedef struct gv_nvml_gpu_instance_st *gv_nvml_gpu_instance;
typedef struct gv_nvml_compute_instance_st *gv_nvml_compute_instance;

/* buffer sizes: NVML_DEVICE_UUID_V2_BUFFER_SIZE, NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define GV_NVML_UUID_BUF 96
#define GV_NVML_NAME_BUF 96

/* NVML_DEVICE_MIG_DISABLE / NVML_DEVICE_MIG_ENABLE */
#define GV_NVML_MIG_DISABLE 0u
#define GV_NVML_MIG_ENABLE 1u

/* NVML_GPU_INSTANCE_PROFILE_*: an index to ask profile info for, not the
 * profile id. 0..6: 1,2,3,4,7,8,6 slices; 7: 1 slice REV1 (+me); 8: 2 slice
 * REV1; 9: 1 slice REV2 (double memory); newer drivers add more, so callers
 * probe a wider range and skip what the driver does not know. */
#define GV_NVML_GI_PROFILE_1_SLICE_REV1 7u
#define GV_NVML_GI_PROFILE_PROBE_MAX 24u
/* NVML_COMPUTE_INSTANCE_PROFILE_* likewise, and the shared engine profile */
#define GV_NVML_CI_PROFILE_PROBE_MAX 12u
#define GV_NVML_CI_ENGINE_PROFILE_SHARED 0u

/* nvmlMemory_t */
struct gv_nvml_memory {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
};

/* nvmlPciInfo_t as returned by nvmlDeviceGetPciInfo_v3 */
struct gv_nvml_pci_info {
	char bus_id_legacy[16]; /* NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE */
	unsigned int domain;
	unsigned int bus;
	unsigned int device;
	unsigned int pci_device_id; /* device id << 16 | vendor id */
	unsigned int pci_subsystem_id;
	char bus_id[32]; /* NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE */
};

/* nvmlGpuInstancePlacement_t: memory slices [start, start + size) */
struct gv_nvml_gi_placement {
	unsigned int start;
	unsigned int size;
};

/* nvmlGpuInstanceProfileInfo_v2_t (nvmlDeviceGetGpuInstanceProfileInfoV) */
struct gv_nvml_gi_profile_info_v2 {
	unsigned int version;
	unsigned int id; /* the profile id: nvidia-smi's GPU instance profile id */
	unsigned int is_p2p_supported;
	unsigned int slice_count; /* compute slices */
	unsigned int instance_count;
	unsigned int multiprocessor_count;
	unsigned int copy_engine_count;
	unsigned int decoder_count;
	unsigned int encoder_count;
	unsigned int jpeg_count;
	unsigned int ofa_count;
	unsigned long long memory_size_mb;
	char name[GV_NVML_NAME_BUF];
};

/* nvmlGpuInstanceInfo_t */
struct gv_nvml_gi_info {
	gv_nvml_device device;
	unsigned int id;
	unsigned int profile_id;
	struct gv_nvml_gi_placement placement;
};

/* nvmlComputeInstanceProfileInfo_v2_t */
struct gv_nvml_ci_profile_info_v2 {
	unsigned int version;
	unsigned int id;
	unsigned int slice_count;
	unsigned int instance_count;
	unsigned int multiprocessor_count;
	unsigned int shared_copy_engine_count;
	unsigned int shared_decoder_count;
	unsigned int shared_encoder_count;
	unsigned int shared_jpeg_count;
	unsigned int shared_ofa_count;
	char name[GV_NVML_NAME_BUF];
};

/* NVML_STRUCT_VERSION: the struct's size with the version in the top byte */
#define GV_NVML_STRUCT_VERSION(type, ver) \
	((unsigned int)(sizeof(type) | ((unsigned int)(ver) << 24)))

_Static_assert(sizeof(struct gv_nvml_pci_info) == 68, "nvmlPciInfo_t layout");
_Static_assert(sizeof(struct gv_nvml_gi_profile_info_v2) == 152,
	       "nvmlGpuInstanceProfileInfo_v2_t layout");
_Static_assert(sizeof(struct gv_nvml_gi_info) == 24, "nvmlGpuInstanceInfo_t layout");
_Static_assert(sizeof(struct gv_nvml_ci_profile_info_v2) == 136,
	       "nvmlComputeInstanceProfileInfo_v2_t layout");

/* The entry points, resolved once by name into this table. */
struct gv_nvml_fns {
	gv_nvml_ret (*init_v2)(void);
	gv_nvml_ret (*shutdown)(void);
	const char *(*error_string)(gv_nvml_ret);
	gv_nvml_ret (*device_get_count_v2)(unsigned int *);
	gv_nvml_ret (*device_get_handle_by_index_v2)(unsigned int, gv_nvml_device *);
	gv_nvml_ret (*device_get_uuid)(gv_nvml_device, char *, unsigned int);
	gv_nvml_ret (*device_get_name)(gv_nvml_device, char *, unsigned int);
	gv_nvml_ret (*device_get_memory_info)(gv_nvml_device, struct gv_nvml_memory *);
	gv_nvml_ret (*device_get_pci_info_v3)(gv_nvml_device, struct gv_nvml_pci_info *);
	gv_nvml_ret (*device_get_mig_mode)(gv_nvml_device, unsigned int *, unsigned int *);
	gv_nvml_ret (*device_set_mig_mode)(gv_nvml_device, unsigned int, gv_nvml_ret *);
	gv_nvml_ret (*device_get_gpu_instance_profile_info_v)(gv_nvml_device, unsigned int,
							      struct gv_nvml_gi_profile_info_v2 *);
	gv_nvml_ret (*device_get_gpu_instance_possible_placements_v2)(gv_nvml_device, unsigned int,
								      struct gv_nvml_gi_placement *,
								      unsigned int *);
	gv_nvml_ret (*device_create_gpu_instance_with_placement)(
		gv_nvml_device, unsigned int, const struct gv_nvml_gi_placement *,
		gv_nvml_gpu_instance *);
	gv_nvml_ret (*device_get_gpu_instances)(gv_nvml_device, unsigned int,
						gv_nvml_gpu_instance *, unsigned int *);
	gv_nvml_ret (*device_get_gpu_instance_by_id)(gv_nvml_device, unsigned int,
						     gv_nvml_gpu_instance *);
	gv_nvml_ret (*gpu_instance_get_info)(gv_nvml_gpu_instance, struct gv_nvml_gi_info *);
	gv_nvml_ret (*gpu_instance_get_compute_instance_profile_info_v)(
		gv_nvml_gpu_instance, unsigned int, unsigned int,
		struct gv_nvml_ci_profile_info_v2 *);
	gv_nvml_ret (*gpu_instance_create_compute_instance)(gv_nvml_gpu_instance, unsigned int,
							    gv_nvml_compute_instance *);
	gv_nvml_ret (*gpu_instance_get_compute_instance_by_id)(gv_nvml_gpu_instance, unsigned int,
							       gv_nvml_compute_instance *);
	gv_nvml_ret (*compute_instance_destroy)(gv_nvml_compute_instance);
	gv_nvml_ret (*gpu_instance_destroy)(gv_nvml_gpu_instance);
	gv_nvml_ret (*device_get_max_mig_device_count)(gv_nvml_device, unsigned int *);
	gv_nvml_ret (*device_get_mig_device_handle_by_index)(gv_nvml_device, unsigned int,
							     gv_nvml_device *);
	gv_nvml_ret (*device_get_gpu_instance_id)(gv_nvml_device, unsigned int *);
	gv_nvml_ret (*device_get_compute_instance_id)(gv_nvml_device, unsigned int *);
};

/* The NVML backend over the given entry points instead of libnvidia-ml.so.1
 * (unit tests drive it with an in-process fake; fns is copied). */
int gv_nvml_backend_new_with(const struct gv_catalog *cat, const struct gv_nvml_fns *fns,
			     struct gv_backend **out, struct gv_err *err);

/* For tests/gpu/nvml_probe: prints what NVML says about gpu's MIG profiles
 * (index, id, name, slices, memory, possible placements) and the catalog
 * profile each maps to. Read-only. be must come from gv_backend_nvml_new. */
int gv_nvml_print_profiles(struct gv_backend *be, int gpu, FILE *out, struct gv_err *err);

#endif

/* The NVML entry points that gpuvisor's two NVML libraries define (the
 * interposer, src/nvml, and the simulator's NVML, src/nvmlsim) and that the
 * NVML test programs call, declared with NVML's own names and the gv_nvml_*
 * types of src/core/nvml_internal.h (no nvml.h exists on a build machine;
 * these are written from NVML's documented API, NVML API Reference "Device
 * Queries", "Initialization and Cleanup", "Error reporting"). Both
 * libraries include this header, so a definition that drifts from these
 * prototypes fails to compile. The layouts below must be the library's
 * exactly: each is checked by size. */
#ifndef GPUVISOR_NVML_API_H
#define GPUVISOR_NVML_API_H

#include "nvml_internal.h"

/* nvmlReturn_t values beyond those nvml_internal.h names */
#define GV_NVML_ERROR_ALREADY_INITIALIZED 5
#define GV_NVML_ERROR_LIBRARY_NOT_FOUND 12
#define GV_NVML_ERROR_FUNCTION_NOT_FOUND 13
#define GV_NVML_ERROR_OPERATING_SYSTEM 17
#define GV_NVML_ERROR_NO_DATA 21
#define GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

/* NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE */
#define GV_NVML_PCI_BUS_ID_BUF 32
#define GV_NVML_VERSION_BUF 80

/* nvmlMemory_v2_t: version must be GV_NVML_MEMORY_V2 (nvmlMemory_v2) */
struct gv_nvml_memory_v2 {
	unsigned int version;
	unsigned long long total;
	unsigned long long reserved; /* for the driver or firmware */
	unsigned long long free;
	unsigned long long used; /* allocated, reserved not included */
};
#define GV_NVML_MEMORY_V2 GV_NVML_STRUCT_VERSION(struct gv_nvml_memory_v2, 2)

/* nvmlProcessInfo_v1_t: the unversioned nvmlDeviceGetComputeRunningProcesses */
struct gv_nvml_process_v1 {
	unsigned int pid;
	unsigned long long used_gpu_memory;
};

/* nvmlProcessInfo_t (= nvmlProcessInfo_v2_t): _v2 and _v3. The instance
 * ids are 0xFFFFFFFF outside MIG. */
struct gv_nvml_process {
	unsigned int pid;
	unsigned long long used_gpu_memory;
	unsigned int gpu_instance_id;
	unsigned int compute_instance_id;
};
#define GV_NVML_NO_INSTANCE_ID 0xFFFFFFFFu

_Static_assert(sizeof(struct gv_nvml_memory) == 24, "nvmlMemory_t layout");
_Static_assert(sizeof(struct gv_nvml_memory_v2) == 40, "nvmlMemory_v2_t layout");
_Static_assert(sizeof(struct gv_nvml_process_v1) == 16, "nvmlProcessInfo_v1_t layout");
_Static_assert(sizeof(struct gv_nvml_process) == 24, "nvmlProcessInfo_t layout");

/* nvmlUUID_t (nvmlDeviceGetHandleByUUIDV): passed through, never read */
struct gv_nvml_uuid_v;

gv_nvml_ret nvmlInit(void);
gv_nvml_ret nvmlInit_v2(void);
gv_nvml_ret nvmlInitWithFlags(unsigned int flags);
gv_nvml_ret nvmlShutdown(void);
const char *nvmlErrorString(gv_nvml_ret result);
gv_nvml_ret nvmlSystemGetDriverVersion(char *version, unsigned int length);
gv_nvml_ret nvmlSystemGetNVMLVersion(char *version, unsigned int length);

gv_nvml_ret nvmlDeviceGetCount(unsigned int *count);
gv_nvml_ret nvmlDeviceGetCount_v2(unsigned int *count);
gv_nvml_ret nvmlDeviceGetHandleByIndex(unsigned int index, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleByIndex_v2(unsigned int index, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleByUUID(const char *uuid, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleByUUIDV(const struct gv_nvml_uuid_v *uuid, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleByPciBusId(const char *bus_id, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetHandleBySerial(const char *serial, gv_nvml_device *device);
gv_nvml_ret nvmlDeviceGetIndex(gv_nvml_device device, unsigned int *index);
gv_nvml_ret nvmlDeviceGetName(gv_nvml_device device, char *name, unsigned int length);
gv_nvml_ret nvmlDeviceGetUUID(gv_nvml_device device, char *uuid, unsigned int length);
gv_nvml_ret nvmlDeviceGetPciInfo_v3(gv_nvml_device device, struct gv_nvml_pci_info *pci);
gv_nvml_ret nvmlDeviceGetMemoryInfo(gv_nvml_device device, struct gv_nvml_memory *memory);
gv_nvml_ret nvmlDeviceGetMemoryInfo_v2(gv_nvml_device device, struct gv_nvml_memory_v2 *memory);
gv_nvml_ret nvmlDeviceGetComputeRunningProcesses(gv_nvml_device device, unsigned int *count,
						 struct gv_nvml_process_v1 *infos);
gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v2(gv_nvml_device device, unsigned int *count,
						    struct gv_nvml_process *infos);
gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v3(gv_nvml_device device, unsigned int *count,
						    struct gv_nvml_process *infos);
gv_nvml_ret nvmlDeviceGetMigMode(gv_nvml_device device, unsigned int *current,
				 unsigned int *pending);
gv_nvml_ret nvmlDeviceIsMigDeviceHandle(gv_nvml_device device, unsigned int *is_mig);
gv_nvml_ret nvmlDeviceGetDeviceHandleFromMigDeviceHandle(gv_nvml_device mig,
							 gv_nvml_device *device);

#endif

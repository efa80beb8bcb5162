/* gpuvisor-ckpt: the driver table and the checkpoint steps its verbs share
 * (drv.c), the bulk control client (bulkc.c) and the pre-copy verb
 * (precopy.c). Private to the helper. */
#ifndef GV_CKPT_H
#define GV_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cuda.h>

#define CKPT_MAX_PIDS 256
#define CKPT_MAX_PAIRS 16

/* Every driver entry point the helper calls, resolved in one place
 * (ckpt_drv_load). X(field, symbol, type of the function). */
#define CKPT_DRV_SYMS(X)                                                                       \
	X(init, "cuInit", CUresult (*)(unsigned int))                                          \
	X(error_name, "cuGetErrorName", CUresult (*)(CUresult, const char **))                 \
	X(get_state, "cuCheckpointProcessGetState", CUresult (*)(int, CUprocessState *))       \
	X(lock, "cuCheckpointProcessLock", CUresult (*)(int, CUcheckpointLockArgs *))          \
	X(checkpoint, "cuCheckpointProcessCheckpoint",                                         \
	  CUresult (*)(int, CUcheckpointCheckpointArgs *))                                     \
	X(restore, "cuCheckpointProcessRestore", CUresult (*)(int, CUcheckpointRestoreArgs *)) \
	X(unlock, "cuCheckpointProcessUnlock", CUresult (*)(int, CUcheckpointUnlockArgs *))

/* What the pre-copy verb needs besides: resolved only when it runs, so
 * that suspend and resume work with any driver that has the checkpoint
 * API. */
#define CKPT_MEM_SYMS(X)                                                                         \
	X(device_get_count, "cuDeviceGetCount", CUresult (*)(int *))                             \
	X(device_get, "cuDeviceGet", CUresult (*)(CUdevice *, int))                              \
	X(device_get_uuid, "cuDeviceGetUuid_v2", CUresult (*)(CUuuid *, CUdevice))               \
	X(primary_retain, "cuDevicePrimaryCtxRetain", CUresult (*)(CUcontext *, CUdevice))       \
	X(primary_release, "cuDevicePrimaryCtxRelease_v2", CUresult (*)(CUdevice))               \
	X(ctx_set_current, "cuCtxSetCurrent", CUresult (*)(CUcontext))                           \
	X(granularity, "cuMemGetAllocationGranularity",                                          \
	  CUresult (*)(size_t *, const CUmemAllocationProp *, CUmemAllocationGranularity_flags)) \
	X(mem_create, "cuMemCreate",                                                             \
	  CUresult (*)(CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *,      \
		       unsigned long long))                                                      \
	X(mem_release, "cuMemRelease", CUresult (*)(CUmemGenericAllocationHandle))               \
	X(addr_reserve, "cuMemAddressReserve",                                                   \
	  CUresult (*)(CUdeviceptr *, size_t, size_t, CUdeviceptr, unsigned long long))          \
	X(addr_free, "cuMemAddressFree", CUresult (*)(CUdeviceptr, size_t))                      \
	X(mem_map, "cuMemMap",                                                                   \
	  CUresult (*)(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle,                \
		       unsigned long long))                                                      \
	X(mem_unmap, "cuMemUnmap", CUresult (*)(CUdeviceptr, size_t))                            \
	X(set_access, "cuMemSetAccess",                                                          \
	  CUresult (*)(CUdeviceptr, size_t, const CUmemAccessDesc *, size_t))                    \
	X(mem_export, "cuMemExportToShareableHandle",                                            \
	  CUresult (*)(void *, CUmemGenericAllocationHandle, CUmemAllocationHandleType,          \
		       unsigned long long))                                                      \
	X(mem_import, "cuMemImportFromShareableHandle",                                          \
	  CUresult (*)(CUmemGenericAllocationHandle *, void *, CUmemAllocationHandleType))       \
	X(stream_create, "cuStreamCreate", CUresult (*)(CUstream *, unsigned int))               \
	X(stream_destroy, "cuStreamDestroy_v2", CUresult (*)(CUstream))                          \
	X(stream_sync, "cuStreamSynchronize", CUresult (*)(CUstream))                            \
	X(memcpy_dtod_async, "cuMemcpyDtoDAsync_v2",                                             \
	  CUresult (*)(CUdeviceptr, CUdeviceptr, size_t, CUstream))                              \
	X(memcpy_dtoh_async, "cuMemcpyDtoHAsync_v2",                                             \
	  CUresult (*)(void *, CUdeviceptr, size_t, CUstream))                                   \
	X(memcpy_htod_async, "cuMemcpyHtoDAsync_v2",                                             \
	  CUresult (*)(CUdeviceptr, const void *, size_t, CUstream))                             \
	X(memset_d8_async, "cuMemsetD8Async",                                                    \
	  CUresult (*)(CUdeviceptr, unsigned char, size_t, CUstream))                            \
	X(module_load_data, "cuModuleLoadData", CUresult (*)(CUmodule *, const void *))          \
	X(module_get_function, "cuModuleGetFunction",                                            \
	  CUresult (*)(CUfunction *, CUmodule, const char *))                                    \
	X(module_unload, "cuModuleUnload", CUresult (*)(CUmodule))                               \
	X(launch_kernel, "cuLaunchKernel",                                                       \
	  CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
		       unsigned, CUstream, void **, void **))                                    \
	X(mem_alloc, "cuMemAlloc_v2", CUresult (*)(CUdeviceptr *, size_t))                       \
	X(mem_free, "cuMemFree_v2", CUresult (*)(CUdeviceptr))

struct ckpt_drv {
	void *lib;
#define CKPT_FIELD(field, sym, type) __typeof__(type) field;
	CKPT_DRV_SYMS(CKPT_FIELD)
	CKPT_MEM_SYMS(CKPT_FIELD)
#undef CKPT_FIELD
};

/* The process-wide message of the last failure (one helper run, one
 * answer): set where the failure happened, printed in the answer. */
extern char ckpt_err[512];
int ckpt_fail(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dlopen's $GPUVISOR_REAL_LIBCUDA (else libcuda.so.1), resolves the
 * checkpoint API (and with mem, CKPT_MEM_SYMS) and runs cuInit. A driver
 * without the checkpoint API (before R550) is named as such. */
int ckpt_drv_load(struct ckpt_drv *d, bool mem);
const char *ckpt_ename(const struct ckpt_drv *d, CUresult r);

/* Members of process group pgid the driver knows as CUDA processes
 * (GetState succeeds), with their states; never the helper itself. */
int ckpt_group_pids(const struct ckpt_drv *d, int pgid, int *pids, CUprocessState *st, int *n_out);
const char *ckpt_state_name(CUprocessState s);
double ckpt_now_ms(void);

/* Test faults: GPUVISOR_TEST_FAULTS=1 and GPUVISOR_CKPT_FAULT=where kill
 * the helper at that point, as an OOM killer or an operator would. */
void ckpt_fault_point(const char *where);

/* Lock then checkpoint every process (all running); on failure those done
 * are restored and unlocked and the workload runs on. ms[0] lock, ms[1]
 * checkpoint. */
int ckpt_suspend(const struct ckpt_drv *d, const int *pids, const CUprocessState *st, int n,
		 unsigned timeout_ms, double ms[4]);
/* Restores every checkpointed process (onto other GPUs with pairs), then
 * unlocks every locked one. A failed restore leaves the process
 * checkpointed (the driver has no rollback). ms[2] restore, ms[3] unlock. */
int ckpt_resume(const struct ckpt_drv *d, const int *pids, int n, const CUcheckpointGpuPair *pairs,
		unsigned n_pairs, double ms[4]);

/* "GPU-OLD=GPU-NEW" into a pair; "GPU-..." into the driver's bytes. */
int ckpt_parse_pair(const char *arg, CUcheckpointGpuPair *p);
int ckpt_parse_uuid(const char *s, CUuuid *out);

/* The bulk control socket of a workload's shim (docs/shim.md "The bulk
 * control socket"). One connection, requests answered in order. */
struct bulkc;

/* Connects to path and checks that the process serving it belongs to
 * process group pgid (a socket of anyone else is refused). */
int bulkc_open(const char *path, int pgid, struct bulkc **out);
void bulkc_close(struct bulkc *c);
/* Sends one request line (req, a JSON text without newline) with fds
 * attached (n_fds may be 0) and reads its answer: *ans gets the parsed
 * object (the caller json_decref's it) when "ok" is true; fds received
 * with the answer go to fds_out (up to cap; *n_out how many). An answer
 * with "ok":false is -EIO with its error in ckpt_err. */
struct json_t;
int bulkc_call(struct bulkc *c, const char *req, const int *fds, size_t n_fds, struct json_t **ans,
	       int *fds_out, size_t cap, size_t *n_out);

/* The pre-copy verb (precopy.c); argv after "precopy PGID". Prints the
 * answer itself; returns the exit code. */
int ckpt_precopy_main(int pgid, int argc, char **argv);
/* suspend's first step for a workload whose bulk came from a pre-copy: its
 * shim makes the imported bulk its own again (the driver does not
 * checkpoint a process holding imported memory). No socket: nothing to do. */
int ckpt_bulk_own(const char *path, int pgid, unsigned timeout_ms, double *ms);

#endif

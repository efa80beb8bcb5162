/* libgpuvisor-cuda: the bulk, large linear allocations backed by
 * exportable VMM memory (bulk.c). Private to the shim. */
#ifndef GV_SHIM_BULK_H
#define GV_SHIM_BULK_H

#include "shim_internal.h"

/* Reads $GPUVISOR_BULK_MIN (bytes; 0 turns the bulk off; default 2 MiB);
 * off in migration mode and outside gpuvisor ($GPUVISOR_INSTANCE unset).
 * Called once by gv_shim_init after gv_mig_init. */
void gv_bulk_init(void);
/* True when an allocation of bytes is made as bulk. */
bool gv_bulk_wanted(uint64_t bytes);
/* Makes bytes of bulk on the device of ctx (the current context) and
 * writes its address to *dptr; charges nothing (the caller does). On
 * failure nothing is held and *dptr is untouched. */
CUresult gv_bulk_alloc(CUdeviceptr *dptr, uint64_t bytes, CUcontext ctx);
/* True when ptr is the base of a bulk allocation. */
bool gv_bulk_owns(CUdeviceptr ptr);
/* Unmaps, releases and unreserves the bulk allocation at ptr;
 * CUDA_ERROR_INVALID_VALUE when ptr is no bulk base. */
CUresult gv_bulk_free(CUdeviceptr ptr);
/* The allocation holding ptr (base <= ptr < base + bytes asked for):
 * true with its base, size and context (each out-param may be NULL). */
bool gv_bulk_range(CUdeviceptr ptr, CUdeviceptr *base, uint64_t *bytes, CUcontext *ctx);
/* True when ptr lies in a bulk allocation's rounding, past the bytes
 * asked for: no allocation, as far as the workload is told. */
bool gv_bulk_in_tail(CUdeviceptr ptr);
/* ctx was destroyed: its bulk goes with it, as its linear memory would. */
void gv_bulk_ctx_gone(CUcontext ctx);
/* dev's primary context was released (reset=false: gone only when no
 * longer active) or reset: the bulk made in it goes. */
void gv_bulk_prim_gone(CUdevice dev, bool reset);

#endif

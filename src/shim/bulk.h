/* libgpuvisor-cuda: the bulk, large linear allocations backed by
 * exportable VMM memory (bulk.c). Private to the shim. */
#ifndef GV_SHIM_BULK_H
#define GV_SHIM_BULK_H

#include "shim_internal.h"

#include <sys/types.h>

/* Reads $GPUVISOR_BULK_MIN (bytes; 0 turns the bulk off; default 2 MiB);
 * off in migration mode and outside gpuvisor ($GPUVISOR_INSTANCE unset).
 * Called once by gv_shim_init after gv_mig_init. */
void gv_bulk_init(void);
/* True when an allocation of bytes is made as bulk. */
bool gv_bulk_wanted(uint64_t bytes);
/* Whether this process makes bulk at all (set once by gv_bulk_init). */
bool gv_bulk_on(void);
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

/* --- the bulk control socket (bulkctl.c) */

/* The table's operations are bulk.c's; the socket (bulkctl.c) calls them
 * and bulk.c calls nothing of it: the shim's start-up (init.c) and the
 * allocation path (alloc.c) start the socket. */

/* Binds $GPUVISOR_BULK_CTL at the first bulk allocation of the process
 * (cheap once done; nothing when the socket is off). alloc.c. */
void gv_bulkctl_start(void);
/* Reads $GPUVISOR_BULK_CTL and turns the hold on when it is set; called
 * by gv_shim_init when the bulk is on. */
void gv_bulkctl_init(void);

#define GV_BULK_MAP_MAX 64

struct gv_bulk_info {
	uint64_t id; /* from 1, never reused in the process */
	CUdeviceptr base;
	uint64_t size;	/* reserved and mapped: rounded to the granularity */
	uint64_t bytes; /* asked for */
	CUdevice dev;	/* the memory's device */
	bool foreign;	/* memory another process made, mapped by gv_bulk_map */
	bool mapped;	/* false: released */
};

/* A copy of the table in *out (the caller frees it; NULL when empty):
 * the number of entries, or -ENOMEM. */
ssize_t gv_bulk_list(struct gv_bulk_info **out);
/* A POSIX fd of each id's memory into fds[0..n) (a foreign entry: a dup of
 * the fd it keeps); the caller closes them. All or nothing: an unknown id
 * (-ENOENT) or a released entry (-EBUSY) gives no fds. */
int gv_bulk_export(const uint64_t *ids, size_t n, int *fds, struct gv_err *err);
/* The workload stopped (hold.c): unmaps and releases every mapped entry
 * and closes the fds it keeps; the reservations stay. The number
 * released. */
unsigned gv_bulk_release(void);
/* Entries released and not mapped again. */
unsigned gv_bulk_unmapped(void);
/* The workload stopped: imports fds[k] and maps it at the base of entry
 * ids[k] (released), read-write for its device and that device's peers;
 * the entries become foreign and keep the fds. All or nothing: on failure
 * nothing changed and the fds stay the caller's. *left: entries still
 * unmapped after it. */
int gv_bulk_map(const uint64_t *ids, const int *fds, size_t n, unsigned *left, struct gv_err *err);
/* The workload stopped, nothing unmapped: every foreign entry gets memory
 * of this process's own at its base with the same contents, and the import
 * and its fd go. *owned counts those moved; on failure the entry that
 * failed stays foreign (and mapped) and the rest are not tried. */
int gv_bulk_own(unsigned *owned, struct gv_err *err);

#endif

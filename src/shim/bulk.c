/* The bulk: a workload's large linear allocations, backed by exportable VMM
 * memory at addresses the shim reserves (docs/shim.md "Bulk memory",
 * docs/migration.md "The pre-copy design that follows").
 *
 * Why: the driver's checkpoint copies device memory at about 1.7 GB/s; a
 * migration that pre-copies the large allocations while the workload runs
 * needs another process to read them, which only exportable VMM memory
 * allows (cuMemExportToShareableHandle with a POSIX fd). So cuMemAlloc_v2
 * of at least $GPUVISOR_BULK_MIN bytes (default 2 MiB) becomes: a range
 * reserved at the allocation granularity, one exportable allocation of
 * the rounded size on the current context's device, mapped read-write for
 * that device (and every device that can reach it as a peer, as plain
 * device memory is once peer access is enabled).
 *
 * What the workload sees stays that of cuMemAlloc: the pointer, the charge
 * (the bytes asked for, exactly, as alloc.c charges linear memory),
 * cuMemGetAddressRange and the range/context pointer attributes (the
 * bytes asked for, not the rounded reservation), cuMemFree /
 * cuMemFreeAsync, and the end of the memory with its context (the driver
 * frees linear memory with its context; VMM memory would outlive it).
 *
 * On for a process run by gpuvisor ($GPUVISOR_INSTANCE set: every kind of
 * instance; the charge is alloc.c's where a partition is on). Off in
 * migration mode (--migratable: the handle-virtualising layer owns every
 * allocation there), for nested calls, for the legacy 32-bit
 * cuMemAlloc (a VMM address does not fit), and when $GPUVISOR_BULK_MIN is
 * 0. No export descriptor is kept open: the driver would hold the memory
 * twice across a checkpoint (docs/migration.md, "What does not hold").
 *
 * The table is a small array under one mutex: the bulk is a few large
 * allocations (weights, activations, an allocator's segments), not many.
 */
#include "bulk.h"
#include "mig_internal.h" /* gv_mig_on */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define GV_BULK_DEFAULT_MIN (2ull << 20)
#define GV_BULK_MAX_PEERS 64

struct gv_bulk_ent {
	CUdeviceptr base;
	uint64_t bytes;	  /* asked for: what the workload is told and charged */
	uint64_t rsize;	  /* reserved and mapped: bytes rounded to the granularity */
	CUmemGenericAllocationHandle handle;
	CUdevice dev;
	CUcontext ctx;	  /* current at the allocation: the memory ends with it */
	bool prim;	  /* ctx is dev's primary context */
};

static pthread_mutex_t gv_bulk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gv_bulk_ent *gv_bulk_tab;
static size_t gv_bulk_n, gv_bulk_cap;
static uint64_t gv_bulk_min = GV_BULK_DEFAULT_MIN;

void gv_bulk_init(void)
{
	const char *s = getenv("GPUVISOR_BULK_MIN");
	const char *inst = getenv("GPUVISOR_INSTANCE");
	unsigned long long v;
	char *end;

	if (gv_mig_on() || !inst || !*inst) {
		gv_bulk_min = 0;
		return;
	}
	if (!s || !*s)
		return;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-' || s[0] == '+') {
		gv_shim_log(false,
			    "GPUVISOR_BULK_MIN=%s is not a number of bytes; the default %llu is used",
			    s, GV_BULK_DEFAULT_MIN);
		return;
	}
	gv_bulk_min = v;
	gv_shim_log(true, "bulk memory: allocations of %llu bytes and more%s", v,
		    v ? "" : " (off)");
}

bool gv_bulk_wanted(uint64_t bytes)
{
	return gv_bulk_min && bytes >= gv_bulk_min;
}

static CUmemAllocationProp gv_bulk_prop(CUdevice dev)
{
	CUmemAllocationProp prop;

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return prop;
}

/* Read-write for dev, and for every other device that can reach dev as a
 * peer (best effort: a peer the driver refuses keeps no access). */
static CUresult gv_bulk_access(CUdeviceptr base, uint64_t rsize, CUdevice dev)
{
	CUmemAccessDesc d = { .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE, .id = dev },
			      .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	int count = 0;
	CUresult r;

	r = GV_REAL(cuMemSetAccess)(base, rsize, &d, 1);
	if (r != CUDA_SUCCESS)
		return r;
	if (GV_REAL(cuDeviceGetCount)(&count) != CUDA_SUCCESS)
		return CUDA_SUCCESS;
	for (int i = 0; i < count && i < GV_BULK_MAX_PEERS; i++) {
		int can = 0;

		if (i == dev || GV_REAL(cuDeviceCanAccessPeer)(&can, i, dev) != CUDA_SUCCESS ||
		    !can)
			continue;
		d.location.id = i;
		(void)GV_REAL(cuMemSetAccess)(base, rsize, &d, 1);
	}
	return CUDA_SUCCESS;
}

/* Gives back what gv_bulk_make made; every step tolerates a part not made. */
static void gv_bulk_unmake(const struct gv_bulk_ent *e, bool mapped)
{
	if (mapped)
		(void)GV_REAL(cuMemUnmap)(e->base, e->rsize);
	if (e->handle)
		(void)GV_REAL(cuMemRelease)(e->handle);
	if (e->base)
		(void)GV_REAL(cuMemAddressFree)(e->base, e->rsize);
}

static CUresult gv_bulk_make(struct gv_bulk_ent *e)
{
	CUmemAllocationProp prop = gv_bulk_prop(e->dev);
	size_t gran = 0;
	bool mapped = false;
	CUresult r;

	r = GV_REAL(cuMemGetAllocationGranularity)(&gran, &prop,
						   CU_MEM_ALLOC_GRANULARITY_RECOMMENDED);
	if (r != CUDA_SUCCESS)
		return r;
	if (!gran || e->bytes > UINT64_MAX - gran)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e->rsize = (e->bytes + gran - 1) / gran * gran;
	if ((r = GV_REAL(cuMemAddressReserve)(&e->base, e->rsize, gran, 0, 0)) != CUDA_SUCCESS) {
		e->base = 0;
		goto out;
	}
	if ((r = GV_REAL(cuMemCreate)(&e->handle, e->rsize, &prop, 0)) != CUDA_SUCCESS) {
		e->handle = 0;
		goto out;
	}
	if ((r = GV_REAL(cuMemMap)(e->base, e->rsize, 0, e->handle, 0)) != CUDA_SUCCESS)
		goto out;
	mapped = true;
	r = gv_bulk_access(e->base, e->rsize, e->dev);
out:
	if (r != CUDA_SUCCESS) {
		gv_bulk_unmake(e, mapped);
		e->base = 0;
		e->handle = 0;
	}
	return r;
}

static int gv_bulk_insert(const struct gv_bulk_ent *e)
{
	int rc = 0;

	pthread_mutex_lock(&gv_bulk_lock);
	if (gv_bulk_n == gv_bulk_cap) {
		size_t cap = gv_bulk_cap ? gv_bulk_cap * 2 : 64;
		struct gv_bulk_ent *t = realloc(gv_bulk_tab, cap * sizeof(*t));

		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		gv_bulk_tab = t;
		gv_bulk_cap = cap;
	}
	gv_bulk_tab[gv_bulk_n++] = *e;
out:
	pthread_mutex_unlock(&gv_bulk_lock);
	return rc;
}

/* Index of the entry holding ptr (within the bytes asked for when inside
 * is set, else its base only), -1 when none. gv_bulk_lock held. */
static ssize_t gv_bulk_find_locked(CUdeviceptr ptr, bool inside)
{
	for (size_t i = 0; i < gv_bulk_n; i++) {
		const struct gv_bulk_ent *e = &gv_bulk_tab[i];

		if (ptr == e->base || (inside && ptr > e->base && ptr - e->base < e->bytes))
			return (ssize_t)i;
	}
	return -1;
}

/* Whether ctx is dev's primary context: only an active one can be, and
 * retaining an active one and releasing it again changes nothing. */
static bool gv_bulk_is_primary(CUcontext ctx, CUdevice dev)
{
	CUcontext pc = NULL;
	unsigned flags = 0;
	int active = 0;

	if (GV_REAL(cuDevicePrimaryCtxGetState)(dev, &flags, &active) != CUDA_SUCCESS || !active)
		return false;
	if (GV_REAL(cuDevicePrimaryCtxRetain)(&pc, dev) != CUDA_SUCCESS)
		return false;
	(void)GV_REAL(cuDevicePrimaryCtxRelease_v2)(dev);
	return pc == ctx;
}

CUresult gv_bulk_alloc(CUdeviceptr *dptr, uint64_t bytes, CUcontext ctx)
{
	struct gv_bulk_ent e = { .bytes = bytes, .ctx = ctx };
	CUresult r;

	if (!ctx)
		return CUDA_ERROR_INVALID_CONTEXT;
	if ((r = GV_REAL(cuCtxGetDevice)(&e.dev)) != CUDA_SUCCESS)
		return r;
	e.prim = gv_bulk_is_primary(ctx, e.dev);
	if ((r = gv_bulk_make(&e)) != CUDA_SUCCESS) {
		gv_shim_log(true, "bulk of %llu bytes on device %d not made (CUresult %d)",
			    (unsigned long long)bytes, (int)e.dev, (int)r);
		return r;
	}
	if (gv_bulk_insert(&e) < 0) {
		gv_bulk_unmake(&e, true);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*dptr = e.base;
	return CUDA_SUCCESS;
}

bool gv_bulk_owns(CUdeviceptr ptr)
{
	bool owns;

	if (!gv_bulk_min) /* set once at start-up: off costs no lock */
		return false;
	pthread_mutex_lock(&gv_bulk_lock);
	owns = gv_bulk_n && gv_bulk_find_locked(ptr, false) >= 0;
	pthread_mutex_unlock(&gv_bulk_lock);
	return owns;
}

CUresult gv_bulk_free(CUdeviceptr ptr)
{
	struct gv_bulk_ent e;
	ssize_t i;

	pthread_mutex_lock(&gv_bulk_lock);
	i = gv_bulk_find_locked(ptr, false);
	if (i >= 0) {
		e = gv_bulk_tab[i];
		gv_bulk_tab[i] = gv_bulk_tab[--gv_bulk_n];
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	if (i < 0)
		return CUDA_ERROR_INVALID_VALUE;
	gv_bulk_unmake(&e, true);
	return CUDA_SUCCESS;
}

bool gv_bulk_range(CUdeviceptr ptr, CUdeviceptr *base, uint64_t *bytes, CUcontext *ctx)
{
	ssize_t i;

	if (!gv_bulk_min)
		return false;
	pthread_mutex_lock(&gv_bulk_lock);
	i = gv_bulk_n ? gv_bulk_find_locked(ptr, true) : -1;
	if (i >= 0) {
		if (base)
			*base = gv_bulk_tab[i].base;
		if (bytes)
			*bytes = gv_bulk_tab[i].bytes;
		if (ctx)
			*ctx = gv_bulk_tab[i].ctx;
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	return i >= 0;
}

bool gv_bulk_in_tail(CUdeviceptr ptr)
{
	bool tail = false;

	if (!gv_bulk_min)
		return false;
	pthread_mutex_lock(&gv_bulk_lock);
	for (size_t i = 0; i < gv_bulk_n && !tail; i++) {
		const struct gv_bulk_ent *e = &gv_bulk_tab[i];

		tail = ptr >= e->base + e->bytes && ptr < e->base + e->rsize;
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	return tail;
}

/* Releases every entry of ctx, or (ctx NULL) every entry made in dev's
 * primary context. */
static void gv_bulk_drop(CUcontext ctx, CUdevice dev)
{
	for (;;) {
		struct gv_bulk_ent e;
		bool found = false;

		pthread_mutex_lock(&gv_bulk_lock);
		for (size_t i = 0; i < gv_bulk_n; i++)
			if (ctx ? gv_bulk_tab[i].ctx == ctx
				: gv_bulk_tab[i].prim && gv_bulk_tab[i].dev == dev) {
				e = gv_bulk_tab[i];
				gv_bulk_tab[i] = gv_bulk_tab[--gv_bulk_n];
				found = true;
				break;
			}
		pthread_mutex_unlock(&gv_bulk_lock);
		if (!found)
			return;
		gv_bulk_unmake(&e, true);
	}
}

void gv_bulk_ctx_gone(CUcontext ctx)
{
	if (ctx)
		gv_bulk_drop(ctx, 0);
}

void gv_bulk_prim_gone(CUdevice dev, bool reset)
{
	unsigned flags = 0;
	int active = 0;

	if (!gv_bulk_min)
		return;
	if (!reset &&
	    (GV_REAL(cuDevicePrimaryCtxGetState)(dev, &flags, &active) != CUDA_SUCCESS || active))
		return;
	gv_bulk_drop(NULL, dev);
}

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
 *
 * The bulk control socket (bulkctl.c, docs/shim.md "The bulk control
 * socket") reads and changes the table through the functions at the end:
 * each entry has an id (from 1, never reused in the process), and may be
 * released (unmapped, no handle, its reservation kept) and mapped again
 * with memory another process made ("foreign": an imported handle, and
 * the descriptor it came from kept). The driver checkpoints no process
 * holding an imported handle (docs/migration.md, "What does not hold"), so
 * "own" copies foreign memory into memory of the process's own before
 * one. Allocation and free are counted by the hold
 * (hold.c) so that nothing changes the table while the control has the
 * workload stopped; release, map and own run only then and hold the
 * table's mutex throughout.
 */
#include "bulk.h"
#include "mig_internal.h" /* gv_mig_on */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define GV_BULK_DEFAULT_MIN (2ull << 20)
#define GV_BULK_MAX_PEERS 64

struct gv_bulk_ent {
	uint64_t id;
	CUdeviceptr base;
	uint64_t bytes; /* asked for: what the workload is told and charged */
	uint64_t rsize; /* reserved and mapped: bytes rounded to the granularity */
	CUmemGenericAllocationHandle handle;
	CUdevice dev;
	CUcontext ctx; /* current at the allocation: the memory ends with it */
	bool prim;     /* ctx is dev's primary context */
	bool mapped;   /* false once released by the control, until mapped again */
	bool foreign;  /* handle imported from fd, memory another process made */
	int fd;	       /* foreign: the descriptor it came from, kept; else -1 */
};

static pthread_mutex_t gv_bulk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gv_bulk_ent *gv_bulk_tab;
static size_t gv_bulk_n, gv_bulk_cap;
static uint64_t gv_bulk_next_id = 1;
static uint64_t gv_bulk_min = GV_BULK_DEFAULT_MIN;

static void gv_bulk_read_min(void)
{
	const char *s = getenv("GPUVISOR_BULK_MIN");
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-' || s[0] == '+') {
		gv_shim_log(
			false,
			"GPUVISOR_BULK_MIN=%s is not a number of bytes; the default %llu is used",
			s, GV_BULK_DEFAULT_MIN);
		return;
	}
	gv_bulk_min = v;
	gv_shim_log(true, "bulk memory: allocations of %llu bytes and more%s", v,
		    v ? "" : " (off)");
}

void gv_bulk_init(void)
{
	const char *inst = getenv("GPUVISOR_INSTANCE");

	if (gv_mig_on() || !inst || !*inst) {
		gv_bulk_min = 0;
		return;
	}
	gv_bulk_read_min();
}

bool gv_bulk_on(void)
{
	return gv_bulk_min != 0;
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
	if (e->fd >= 0)
		close(e->fd);
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
	gv_bulk_tab[gv_bulk_n] = *e;
	gv_bulk_tab[gv_bulk_n].id = gv_bulk_next_id++;
	gv_bulk_n++;
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
	struct gv_bulk_ent e = { .bytes = bytes, .ctx = ctx, .mapped = true, .fd = -1 };
	bool held;
	CUresult r;

	if (!ctx)
		return CUDA_ERROR_INVALID_CONTEXT;
	held = gv_hold_enter();
	if ((r = GV_REAL(cuCtxGetDevice)(&e.dev)) != CUDA_SUCCESS)
		goto out;
	e.prim = gv_bulk_is_primary(ctx, e.dev);
	if ((r = gv_bulk_make(&e)) != CUDA_SUCCESS) {
		gv_shim_log(true, "bulk of %llu bytes on device %d not made (CUresult %d)",
			    (unsigned long long)bytes, (int)e.dev, (int)r);
		goto out;
	}
	if (gv_bulk_insert(&e) < 0) {
		gv_bulk_unmake(&e, true);
		r = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	*dptr = e.base;
out:
	if (held)
		gv_hold_leave();
	return r;
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
	bool held = gv_hold_enter();
	ssize_t i;

	pthread_mutex_lock(&gv_bulk_lock);
	i = gv_bulk_find_locked(ptr, false);
	if (i >= 0) {
		e = gv_bulk_tab[i];
		gv_bulk_tab[i] = gv_bulk_tab[--gv_bulk_n];
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	if (i >= 0)
		gv_bulk_unmake(&e, e.mapped);
	if (held)
		gv_hold_leave();
	return i < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
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
	bool held = gv_hold_enter();

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
			break;
		gv_bulk_unmake(&e, e.mapped);
	}
	if (held)
		gv_hold_leave();
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

/* ----------------------------------------------- the bulk control socket */

static ssize_t gv_bulk_find_id_locked(uint64_t id)
{
	for (size_t i = 0; i < gv_bulk_n; i++)
		if (gv_bulk_tab[i].id == id)
			return (ssize_t)i;
	return -1;
}

ssize_t gv_bulk_list(struct gv_bulk_info **out)
{
	struct gv_bulk_info *v = NULL;
	ssize_t n;

	pthread_mutex_lock(&gv_bulk_lock);
	n = (ssize_t)gv_bulk_n;
	if (n && !(v = calloc((size_t)n, sizeof(*v))))
		n = -ENOMEM;
	for (ssize_t i = 0; i < n; i++) {
		const struct gv_bulk_ent *e = &gv_bulk_tab[i];

		v[i] = (struct gv_bulk_info){ .id = e->id,
					      .base = e->base,
					      .size = e->rsize,
					      .bytes = e->bytes,
					      .dev = e->dev,
					      .foreign = e->foreign,
					      .mapped = e->mapped };
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	*out = v;
	return n;
}

int gv_bulk_export(const uint64_t *ids, size_t n, int *fds, struct gv_err *err)
{
	size_t done = 0;
	int ret = 0;

	/* under the mutex: a free takes the entry out before it releases the
	 * handle, so a handle found here is live until the mutex is let go */
	pthread_mutex_lock(&gv_bulk_lock);
	for (; done < n; done++) {
		ssize_t i = gv_bulk_find_id_locked(ids[done]);
		const struct gv_bulk_ent *e;
		CUresult r;

		if (i < 0) {
			ret = gv_err_set(err, ENOENT, "no bulk allocation has id %llu",
					 (unsigned long long)ids[done]);
			break;
		}
		e = &gv_bulk_tab[i];
		if (!e->mapped) {
			ret = gv_err_set(err, EBUSY, "bulk allocation %llu is released",
					 (unsigned long long)e->id);
			break;
		}
		if (e->foreign) {
			fds[done] = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
			if (fds[done] < 0) {
				ret = gv_err_sys(err, "bulk allocation %llu: dup",
						 (unsigned long long)e->id);
				break;
			}
			continue;
		}
		r = GV_REAL(cuMemExportToShareableHandle)(
			&fds[done], e->handle, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0);
		if (r != CUDA_SUCCESS) {
			ret = gv_err_set(err, EIO,
					 "bulk allocation %llu: "
					 "cuMemExportToShareableHandle: CUresult %d",
					 (unsigned long long)e->id, (int)r);
			break;
		}
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	if (ret)
		while (done > 0)
			close(fds[--done]);
	return ret;
}

unsigned gv_bulk_release(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&gv_bulk_lock);
	for (size_t i = 0; i < gv_bulk_n; i++) {
		struct gv_bulk_ent *e = &gv_bulk_tab[i];

		if (!e->mapped)
			continue;
		(void)GV_REAL(cuMemUnmap)(e->base, e->rsize);
		(void)GV_REAL(cuMemRelease)(e->handle);
		if (e->fd >= 0)
			close(e->fd);
		e->handle = 0;
		e->fd = -1;
		e->mapped = false;
		n++;
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	return n;
}

static unsigned gv_bulk_unmapped_locked(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < gv_bulk_n; i++)
		n += !gv_bulk_tab[i].mapped;
	return n;
}

unsigned gv_bulk_unmapped(void)
{
	unsigned n;

	pthread_mutex_lock(&gv_bulk_lock);
	n = gv_bulk_unmapped_locked();
	pthread_mutex_unlock(&gv_bulk_lock);
	return n;
}

/* Imports fd and maps it over e's reservation: 0 with the handle and its
 * device, or the driver's error with nothing held. */
static CUresult gv_bulk_map_one(const struct gv_bulk_ent *e, int fd,
				CUmemGenericAllocationHandle *h, CUdevice *dev)
{
	CUmemAllocationProp prop;
	bool mapped = false;
	CUresult r;

	r = GV_REAL(cuMemImportFromShareableHandle)(h, (void *)(uintptr_t)fd,
						    CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	if (r != CUDA_SUCCESS)
		return r;
	memset(&prop, 0, sizeof(prop));
	r = GV_REAL(cuMemGetAllocationPropertiesFromHandle)(&prop, *h);
	if (r == CUDA_SUCCESS && prop.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
		r = CUDA_ERROR_INVALID_VALUE;
	if (r == CUDA_SUCCESS)
		r = GV_REAL(cuMemMap)(e->base, e->rsize, 0, *h, 0);
	mapped = r == CUDA_SUCCESS;
	if (r == CUDA_SUCCESS)
		r = gv_bulk_access(e->base, e->rsize, prop.location.id);
	if (r != CUDA_SUCCESS) {
		if (mapped)
			(void)GV_REAL(cuMemUnmap)(e->base, e->rsize);
		(void)GV_REAL(cuMemRelease)(*h);
		*h = 0;
		return r;
	}
	*dev = prop.location.id;
	return CUDA_SUCCESS;
}

int gv_bulk_map(const uint64_t *ids, const int *fds, size_t n, unsigned *left, struct gv_err *err)
{
	CUmemGenericAllocationHandle h[GV_BULK_MAP_MAX];
	ssize_t at[GV_BULK_MAP_MAX];
	CUdevice dev[GV_BULK_MAP_MAX];
	size_t done = 0;
	int ret = 0;

	if (n > GV_BULK_MAP_MAX)
		return gv_err_set(err, E2BIG, "at most %d allocations per map", GV_BULK_MAP_MAX);
	pthread_mutex_lock(&gv_bulk_lock);
	for (size_t k = 0; k < n; k++) {
		at[k] = gv_bulk_find_id_locked(ids[k]);
		if (at[k] < 0) {
			ret = gv_err_set(err, ENOENT, "no bulk allocation has id %llu",
					 (unsigned long long)ids[k]);
			goto out;
		}
		if (gv_bulk_tab[at[k]].mapped) {
			ret = gv_err_set(err, EBUSY, "bulk allocation %llu is mapped",
					 (unsigned long long)ids[k]);
			goto out;
		}
	}
	for (; done < n; done++) {
		CUresult r =
			gv_bulk_map_one(&gv_bulk_tab[at[done]], fds[done], &h[done], &dev[done]);

		if (r != CUDA_SUCCESS) {
			ret = gv_err_set(err, EIO,
					 "bulk allocation %llu: the descriptor does not "
					 "import and map at its base (CUresult %d)",
					 (unsigned long long)ids[done], (int)r);
			goto out;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct gv_bulk_ent *e = &gv_bulk_tab[at[k]];

		e->handle = h[k];
		e->dev = dev[k];
		e->fd = fds[k];
		e->mapped = true;
		e->foreign = true;
	}
out:
	if (ret)
		while (done > 0) {
			const struct gv_bulk_ent *e = &gv_bulk_tab[at[--done]];

			(void)GV_REAL(cuMemUnmap)(e->base, e->rsize);
			(void)GV_REAL(cuMemRelease)(h[done]);
		}
	if (left)
		*left = gv_bulk_unmapped_locked();
	pthread_mutex_unlock(&gv_bulk_lock);
	return ret;
}

/* Moves one foreign entry onto memory of this process's own (e->ctx
 * current): new memory at a spare range, a copy, then the new memory at
 * the base. On failure the entry is as it was. */
static CUresult gv_bulk_own_one(struct gv_bulk_ent *e)
{
	CUmemAllocationProp prop = gv_bulk_prop(e->dev);
	CUmemGenericAllocationHandle nh = 0;
	CUdeviceptr tmp = 0;
	bool tmp_mapped = false, base_unmapped = false;
	CUresult r;

	if ((r = GV_REAL(cuMemCreate)(&nh, e->rsize, &prop, 0)) != CUDA_SUCCESS) {
		nh = 0;
		goto out;
	}
	if ((r = GV_REAL(cuMemAddressReserve)(&tmp, e->rsize, 0, 0, 0)) != CUDA_SUCCESS) {
		tmp = 0;
		goto out;
	}
	if ((r = GV_REAL(cuMemMap)(tmp, e->rsize, 0, nh, 0)) != CUDA_SUCCESS)
		goto out;
	tmp_mapped = true;
	if ((r = gv_bulk_access(tmp, e->rsize, e->dev)) != CUDA_SUCCESS)
		goto out;
	if ((r = GV_REAL(cuMemcpyDtoD_v2)(tmp, e->base, e->rsize)) != CUDA_SUCCESS ||
	    (r = GV_REAL(cuCtxSynchronize)()) != CUDA_SUCCESS)
		goto out;
	(void)GV_REAL(cuMemUnmap)(tmp, e->rsize);
	tmp_mapped = false;
	if ((r = GV_REAL(cuMemUnmap)(e->base, e->rsize)) != CUDA_SUCCESS)
		goto out;
	base_unmapped = true;
	if ((r = GV_REAL(cuMemMap)(e->base, e->rsize, 0, nh, 0)) != CUDA_SUCCESS)
		goto out;
	if ((r = gv_bulk_access(e->base, e->rsize, e->dev)) != CUDA_SUCCESS) {
		(void)GV_REAL(cuMemUnmap)(e->base, e->rsize);
		goto out;
	}
	base_unmapped = false;
	(void)GV_REAL(cuMemRelease)(e->handle);
	close(e->fd);
	e->handle = nh;
	e->fd = -1;
	e->foreign = false;
	nh = 0;
out:
	if (base_unmapped &&
	    (GV_REAL(cuMemMap)(e->base, e->rsize, 0, e->handle, 0) != CUDA_SUCCESS ||
	     gv_bulk_access(e->base, e->rsize, e->dev) != CUDA_SUCCESS))
		gv_shim_log(false, "bulk allocation %llu could not be mapped back at 0x%llx",
			    (unsigned long long)e->id, (unsigned long long)e->base);
	if (tmp_mapped)
		(void)GV_REAL(cuMemUnmap)(tmp, e->rsize);
	if (tmp)
		(void)GV_REAL(cuMemAddressFree)(tmp, e->rsize);
	if (nh)
		(void)GV_REAL(cuMemRelease)(nh);
	return r;
}

int gv_bulk_own(unsigned *owned, struct gv_err *err)
{
	int ret = 0;

	*owned = 0;
	pthread_mutex_lock(&gv_bulk_lock);
	for (size_t i = 0; i < gv_bulk_n && !ret; i++) {
		struct gv_bulk_ent *e = &gv_bulk_tab[i];
		CUcontext popped = NULL;
		CUresult r;

		if (!e->foreign || !e->mapped)
			continue;
		if ((r = GV_REAL(cuCtxPushCurrent_v2)(e->ctx)) != CUDA_SUCCESS) {
			ret = gv_err_set(err, EIO,
					 "bulk allocation %llu: its context cannot "
					 "be made current (CUresult %d)",
					 (unsigned long long)e->id, (int)r);
			break;
		}
		r = gv_bulk_own_one(e);
		(void)GV_REAL(cuCtxPopCurrent_v2)(&popped);
		if (r != CUDA_SUCCESS)
			ret = gv_err_set(err, EIO,
					 "bulk allocation %llu: not copied into memory "
					 "of the workload's own (CUresult %d)",
					 (unsigned long long)e->id, (int)r);
		else
			(*owned)++;
	}
	pthread_mutex_unlock(&gv_bulk_lock);
	return ret;
}

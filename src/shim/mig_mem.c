/* Migration mode: the application's device memory through the VMM API.
 *
 * Every allocation lives in a region: a reserved virtual range with
 * physical memory (cuMemCreate) mapped there and read-write access for the
 * device in use. A region's physical memory can be replaced at the switch
 * while its addresses stay the same, so pointers stored in device memory
 * stay valid. Regions are multiples of 2 MiB (the VMM granularity):
 *
 * - an allocation over 1 MiB gets a region of its own, rounded up to 2 MiB;
 * - smaller ones are sub-allocated from 2 MiB "slab" regions in 256-byte
 *   units (first fit over a bitmap; the alignment cuMemAlloc guarantees),
 *   so a 256-byte cuMemAlloc does not cost 2 MiB. A slab is given back when
 *   its last allocation is freed.
 *
 * Each region has an id that is never reused (the engine's region id).
 * One mutex covers the regions and the allocation tree; the endpoint holds
 * it for the duration of one callback so a free cannot pull memory out from
 * under a hash or a copy.
 */
#include "mig_internal.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#define UNIT 256u
#define UNITS (GV_MIG_GRAN / UNIT)
#define SMALL_MAX (1ull << 20)

pthread_mutex_t gv_mreg_lock = PTHREAD_MUTEX_INITIALIZER;
struct gv_mreg *gv_mreg_head;
static uint64_t next_id = 1;
static void *allocs; /* struct alloc, keyed by address */

struct alloc {
	CUdeviceptr p;
	size_t size;
	struct gv_mreg *r;
};

static int cmp(const void *a, const void *b)
{
	const struct alloc *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

struct gv_mreg *gv_mreg_find_locked(uint64_t id)
{
	for (struct gv_mreg *r = gv_mreg_head; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

size_t gv_mreg_count_locked(uint64_t *bytes)
{
	size_t n = 0;

	*bytes = 0;
	for (struct gv_mreg *r = gv_mreg_head; r; r = r->next, n++)
		*bytes += r->size;
	return n;
}

CUresult gv_mig_map(CUdeviceptr va, uint64_t size, CUmemGenericAllocationHandle h, int dev)
{
	CUmemAccessDesc acc = { { CU_MEM_LOCATION_TYPE_DEVICE, dev },
				CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUresult r = MREAL(cuMemMap)(va, size, 0, h, 0);

	if (r != CUDA_SUCCESS)
		return r;
	r = MREAL(cuMemSetAccess)(va, size, &acc, 1);
	if (r != CUDA_SUCCESS)
		MREAL(cuMemUnmap)(va, size);
	return r;
}

CUresult gv_mig_phys_new(int dev, uint64_t size, CUmemGenericAllocationHandle *h, CUdeviceptr *va)
{
	CUmemAllocationProp prop = { 0 };
	CUresult r;

	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	*h = 0;
	*va = 0;
	r = MREAL(cuMemCreate)(h, size, &prop, 0);
	if (r != CUDA_SUCCESS)
		return r;
	r = MREAL(cuMemAddressReserve)(va, size, GV_MIG_GRAN, 0, 0);
	if (r != CUDA_SUCCESS)
		goto out;
	r = gv_mig_map(*va, size, *h, dev);
	if (r != CUDA_SUCCESS)
		MREAL(cuMemAddressFree)(*va, size);
out:
	if (r != CUDA_SUCCESS) {
		MREAL(cuMemRelease)(*h);
		*h = 0;
		*va = 0;
	}
	return r;
}

static CUresult region_new_locked(uint64_t size, bool slab, struct gv_mreg **out)
{
	struct gv_mreg *r = calloc(1, sizeof(*r));
	CUresult rc;

	if (!r)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = gv_mig_phys_new(atomic_load(&gv_mig_dev), size, &r->h, &r->va);
	if (rc != CUDA_SUCCESS) {
		free(r);
		return rc;
	}
	r->id = next_id++;
	r->size = size;
	r->slab = slab;
	r->next = gv_mreg_head;
	if (gv_mreg_head)
		gv_mreg_head->prev = r;
	gv_mreg_head = r;
	*out = r;
	return CUDA_SUCCESS;
}

static void region_free_locked(struct gv_mreg *r)
{
	/* work queued on the device may still use the range */
	MREAL(cuCtxSynchronize)();
	MREAL(cuMemUnmap)(r->va, r->size);
	MREAL(cuMemRelease)(r->h);
	MREAL(cuMemAddressFree)(r->va, r->size);
	if (r->dh) {
		/* freed during a migration: its destination goes too (the engine
		 * then gets -ENOENT and drops the region) */
		MREAL(cuMemUnmap)(r->dva, r->size);
		MREAL(cuMemRelease)(r->dh);
		MREAL(cuMemAddressFree)(r->dva, r->size);
	}
	if (r->oh)
		MREAL(cuMemRelease)(r->oh);
	if (r->odva)
		MREAL(cuMemAddressFree)(r->odva, r->size);
	if (r->prev)
		r->prev->next = r->next;
	else
		gv_mreg_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

static bool bit(const struct gv_mreg *r, uint64_t i)
{
	return r->bits[i / 64] >> (i % 64) & 1;
}

static void set_bits(struct gv_mreg *r, uint64_t first, uint64_t n, bool on)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (on)
			r->bits[i / 64] |= 1ull << (i % 64);
		else
			r->bits[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First fit of n free units in slab r; UNITS when none. */
static uint64_t slab_fit(const struct gv_mreg *r, uint64_t n)
{
	uint64_t run = 0;

	for (uint64_t i = 0; i < UNITS; i++) {
		if (bit(r, i)) {
			run = 0;
			continue;
		}
		if (++run == n)
			return i + 1 - n;
	}
	return UNITS;
}

CUresult gv_mig_alloc(CUdeviceptr *dptr, size_t bytes)
{
	struct alloc *a;
	struct gv_mreg *r = NULL;
	CUresult rc = CUDA_SUCCESS;
	uint64_t units, at = 0;

	if (!dptr)
		return CUDA_ERROR_INVALID_VALUE;
	if (!bytes)
		return CUDA_ERROR_INVALID_VALUE;
	a = calloc(1, sizeof(*a));
	if (!a)
		return CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&gv_mreg_lock);
	if (bytes > SMALL_MAX) {
		uint64_t size = (bytes + GV_MIG_GRAN - 1) / GV_MIG_GRAN * GV_MIG_GRAN;

		rc = region_new_locked(size, false, &r);
		if (rc != CUDA_SUCCESS)
			goto out;
		a->p = r->va;
	} else {
		units = (bytes + UNIT - 1) / UNIT;
		for (r = gv_mreg_head; r; r = r->next)
			if (r->slab && (at = slab_fit(r, units)) < UNITS)
				break;
		if (!r) {
			rc = region_new_locked(GV_MIG_GRAN, true, &r);
			if (rc != CUDA_SUCCESS)
				goto out;
			at = 0;
		}
		set_bits(r, at, units, true);
		a->p = r->va + at * UNIT;
	}
	r->live++;
	a->size = bytes;
	a->r = r;
	if (!tsearch(a, &allocs, cmp)) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		if (r->slab)
			set_bits(r, at, (bytes + UNIT - 1) / UNIT, false);
		if (--r->live == 0)
			region_free_locked(r);
		goto out;
	}
	*dptr = a->p;
	a = NULL;
out:
	pthread_mutex_unlock(&gv_mreg_lock);
	free(a);
	return rc;
}

CUresult gv_mig_free(CUdeviceptr dptr)
{
	struct alloc key = { .p = dptr }, *a;
	void **n;

	pthread_mutex_lock(&gv_mreg_lock);
	n = tfind(&key, &allocs, cmp);
	if (!n) {
		pthread_mutex_unlock(&gv_mreg_lock);
		return CUDA_ERROR_INVALID_VALUE;
	}
	a = *n;
	tdelete(a, &allocs, cmp);
	if (a->r->slab)
		set_bits(a->r, (a->p - a->r->va) / UNIT, (a->size + UNIT - 1) / UNIT, false);
	if (--a->r->live == 0)
		region_free_locked(a->r);
	pthread_mutex_unlock(&gv_mreg_lock);
	free(a);
	return CUDA_SUCCESS;
}

CUresult gv_mig_range(CUdeviceptr p, CUdeviceptr *base, size_t *size)
{
	CUresult rc = CUDA_ERROR_NOT_FOUND;

	pthread_mutex_lock(&gv_mreg_lock);
	/* few allocations per slab and few regions: a walk is enough here */
	for (struct gv_mreg *r = gv_mreg_head; r; r = r->next) {
		struct alloc key, *a;
		void **n;

		if (p < r->va || p - r->va >= r->size)
			continue;
		if (!r->slab) {
			key.p = r->va;
		} else {
			uint64_t u = (p - r->va) / UNIT;

			/* walk back to the first unit of the allocation */
			for (;;) {
				key.p = r->va + u * UNIT;
				if (tfind(&key, &allocs, cmp) || u == 0)
					break;
				u--;
			}
		}
		n = tfind(&key, &allocs, cmp);
		if (n) {
			a = *n;
			if (p - a->p < a->size) {
				if (base)
					*base = a->p;
				if (size)
					*size = a->size;
				rc = CUDA_SUCCESS;
			}
		}
		break;
	}
	pthread_mutex_unlock(&gv_mreg_lock);
	return rc;
}

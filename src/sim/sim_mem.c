/* Memory: device, managed, stream-ordered and host allocations, and the
 * registry of every range the simulator handed out (pointer attributes,
 * address ranges, copy validation).
 *
 * Device memory comes from the device's reservation (first fit, 256-byte
 * alignment) and is charged to the device's cross-process account at the
 * allocated (aligned) size, so cuMemGetInfo shows exactly what is in use.
 * Freed memory is scrubbed (madvise MADV_DONTNEED on whole pages, zeroed
 * edges) before anyone can get it again. Host memory is not device memory
 * and is not charged.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_alloc *mem_reg;
static atomic_ullong mem_ids;

void sim_mem_register(const struct sim_alloc *a)
{
	struct sim_alloc *n = malloc(sizeof(*n));

	if (!n)
		return;
	*n = *a;
	n->id = atomic_fetch_add(&mem_ids, 1) + 1;
	pthread_mutex_lock(&mem_lock);
	n->next = mem_reg;
	mem_reg = n;
	pthread_mutex_unlock(&mem_lock);
}

bool sim_mem_unregister(uintptr_t start, enum sim_mem_kind kind, struct sim_alloc *out)
{
	bool found = false;

	pthread_mutex_lock(&mem_lock);
	for (struct sim_alloc **pp = &mem_reg; *pp; pp = &(*pp)->next) {
		struct sim_alloc *a = *pp;

		if (a->start != start || (kind && a->kind != kind))
			continue;
		*pp = a->next;
		if (out)
			*out = *a;
		free(a);
		found = true;
		break;
	}
	pthread_mutex_unlock(&mem_lock);
	return found;
}

bool sim_mem_set_flags(uintptr_t start, enum sim_mem_kind kind, unsigned flags)
{
	bool found = false;

	pthread_mutex_lock(&mem_lock);
	for (struct sim_alloc *a = mem_reg; a; a = a->next)
		if (a->start == start && a->kind == kind) {
			a->flags = flags;
			found = true;
			break;
		}
	pthread_mutex_unlock(&mem_lock);
	return found;
}

int sim_mem_foreach(int (*fn)(const struct sim_alloc *a, void *arg), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&mem_lock);
	for (struct sim_alloc *a = mem_reg; a && !rc; a = a->next)
		rc = fn(a, arg);
	pthread_mutex_unlock(&mem_lock);
	return rc;
}

bool sim_mem_find(uintptr_t p, size_t n, struct sim_alloc *out)
{
	bool found = false;

	pthread_mutex_lock(&mem_lock);
	for (struct sim_alloc *a = mem_reg; a; a = a->next) {
		size_t sz = a->size ? a->size : 1;

		if (p < a->start || p - a->start >= sz)
			continue;
		if (n > sz - (p - a->start))
			break; /* runs past the end */
		if (out)
			*out = *a;
		found = true;
		break;
	}
	pthread_mutex_unlock(&mem_lock);
	return found;
}

/* VMM ranges are only accessible once cuMemSetAccess granted it. */
static bool accessible(const struct sim_alloc *a)
{
	return a->kind != SIM_MEM_VMM || (a->flags & CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
}

CUresult sim_mem_check_dev(CUdeviceptr p, size_t n)
{
	struct sim_alloc a;

	if (!n)
		return CUDA_SUCCESS;
	if (!p || !sim_mem_find((uintptr_t)p, n, &a) || !accessible(&a))
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

/* Zeroes [p, p + n): whole pages go back to the kernel. */
static void scrub(uintptr_t p, size_t n)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (p + pg - 1) & ~(pg - 1), hi = (p + n) & ~(pg - 1);

	if (lo >= hi) {
		memset((void *)p, 0, n);
		return;
	}
	memset((void *)p, 0, lo - p);
	madvise((void *)lo, hi - lo, MADV_DONTNEED);
	memset((void *)hi, 0, p + n - hi);
}

/* Allocates and charges device memory; *charged is what to uncharge. */
static CUresult dev_alloc(struct sim_dev *d, size_t size, uintptr_t *out, size_t *charged)
{
	size_t sz = (size + SIM_ALLOC_ALIGN - 1) & ~(size_t)(SIM_ALLOC_ALIGN - 1);
	uintptr_t p;

	if (!size || sz < size)
		return CUDA_ERROR_INVALID_VALUE;
	if (sz > d->total)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (sim_dev_charge(d, sz) != CUDA_SUCCESS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	p = sim_heap_alloc(&d->heap, sz, SIM_ALLOC_ALIGN);
	if (!p) {
		sim_dev_uncharge(d, sz);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*out = p;
	*charged = sz;
	return CUDA_SUCCESS;
}

void sim_mem_dev_release(struct sim_dev *d, uintptr_t p, size_t charged)
{
	size_t sz = sim_heap_free(&d->heap, p);

	if (sz)
		scrub(p, sz);
	sim_dev_uncharge(d, charged);
}

static CUresult alloc_kind(CUdeviceptr *dptr, size_t size, enum sim_mem_kind kind, unsigned flags)
{
	SIM_GATE_SECTION();
	struct sim_ctx *c;
	struct sim_alloc a = { 0 };
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!dptr)
		return CUDA_ERROR_INVALID_VALUE;
	*dptr = 0;
	rc = dev_alloc(c->dev, size, &a.start, &a.charged);
	if (rc != CUDA_SUCCESS)
		return rc;
	a.size = size;
	a.kind = kind;
	a.ctx = c;
	a.dev = c->dev;
	a.flags = flags;
	sim_mem_register(&a);
	*dptr = (CUdeviceptr)a.start;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
	return alloc_kind(dptr, bytesize, SIM_MEM_DEVICE, 0);
}

SIM_API CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
	if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST) {
		CUresult rc = sim_check_init();

		return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_INVALID_VALUE;
	}
	return alloc_kind(dptr, bytesize, SIM_MEM_MANAGED, flags);
}

SIM_API CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pPitch, size_t WidthInBytes,
				    size_t Height, unsigned int ElementSizeBytes)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require(&c);
	size_t pitch;

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!dptr || !pPitch || !WidthInBytes || !Height ||
	    (ElementSizeBytes != 4 && ElementSizeBytes != 8 && ElementSizeBytes != 16))
		return CUDA_ERROR_INVALID_VALUE;
	pitch = (WidthInBytes + SIM_PITCH_ALIGN - 1) & ~(size_t)(SIM_PITCH_ALIGN - 1);
	if (pitch < WidthInBytes || Height > SIZE_MAX / pitch)
		return CUDA_ERROR_INVALID_VALUE;
	rc = alloc_kind(dptr, pitch * Height, SIM_MEM_DEVICE, 0);
	if (rc == CUDA_SUCCESS)
		*pPitch = pitch;
	return rc;
}

SIM_API CUresult cuMemFree_v2(CUdeviceptr dptr)
{
	SIM_GATE_SECTION();
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!dptr)
		return CUDA_SUCCESS; /* freeing NULL is a no-op, as in the driver */
	if (!sim_mem_find((uintptr_t)dptr, 1, &a) || a.start != (uintptr_t)dptr ||
	    (a.kind != SIM_MEM_DEVICE && a.kind != SIM_MEM_MANAGED && a.kind != SIM_MEM_ASYNC))
		return CUDA_ERROR_INVALID_VALUE;
	/* cuMemFree waits for work that may still use the memory */
	if (a.ctx && sim_ctx_valid(a.ctx))
		sim_ctx_sync(a.ctx);
	else if (sim_ctx_current())
		sim_ctx_sync(sim_ctx_current());
	if (!sim_mem_unregister(a.start, a.kind, &a))
		return CUDA_ERROR_INVALID_VALUE;
	if (a.kind == SIM_MEM_ASYNC)
		a.dev->pool.used -= a.charged;
	sim_mem_dev_release(a.dev, a.start, a.charged);
	return CUDA_SUCCESS;
}

void sim_mem_ctx_teardown(struct sim_ctx *c)
{
	for (;;) {
		struct sim_alloc a;
		bool found = false;

		pthread_mutex_lock(&mem_lock);
		for (struct sim_alloc *p = mem_reg; p; p = p->next)
			if (p->ctx == c &&
			    (p->kind == SIM_MEM_DEVICE || p->kind == SIM_MEM_MANAGED)) {
				a = *p;
				found = true;
				break;
			}
		pthread_mutex_unlock(&mem_lock);
		if (!found)
			break;
		if (sim_mem_unregister(a.start, a.kind, &a))
			sim_mem_dev_release(a.dev, a.start, a.charged);
	}
}

SIM_API CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require(&c);
	uint64_t used;

	if (rc != CUDA_SUCCESS)
		return rc;
	/* One pointer may be NULL: the driver (580.159.04 on an H200) fills in
	 * the other. It also returns CUDA_SUCCESS for both NULL; here that is
	 * refused, which the shim's bad-argument test relies on (to revisit
	 * with its owner). */
	if (!free_bytes && !total)
		return CUDA_ERROR_INVALID_VALUE;
	sim_vmm_reap(); /* exportable memory whose last other holder is gone */
	used = gv_acct_used(c->dev->acct);
	if (total)
		*total = c->dev->total;
	if (free_bytes)
		*free_bytes = used >= c->dev->total ? 0 : c->dev->total - used;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr)
{
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!sim_mem_find((uintptr_t)dptr, 1, &a) || a.kind == SIM_MEM_HOST ||
	    a.kind == SIM_MEM_HOST_REG)
		return CUDA_ERROR_NOT_FOUND;
	if (pbase)
		*pbase = (CUdeviceptr)a.start;
	if (psize)
		*psize = a.size;
	return CUDA_SUCCESS;
}

/* ---- host memory ---- */

static CUresult host_alloc(void **pp, size_t size, unsigned flags)
{
	struct sim_ctx *c;
	struct sim_alloc a = { 0 };
	CUresult rc = sim_ctx_require(&c);
	void *p;

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pp || (flags & ~0x7u))
		return CUDA_ERROR_INVALID_VALUE;
	*pp = NULL;
	if (!size)
		return CUDA_ERROR_INVALID_VALUE;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return CUDA_ERROR_OUT_OF_MEMORY;
	a.start = (uintptr_t)p;
	a.size = size;
	a.kind = SIM_MEM_HOST;
	a.ctx = c;
	a.dev = c->dev;
	a.flags = flags;
	sim_mem_register(&a);
	*pp = p;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
	return host_alloc(pp, bytesize, 0);
}

SIM_API CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
	return host_alloc(pp, bytesize, Flags);
}

SIM_API CUresult cuMemFreeHost(void *p)
{
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!p || !sim_mem_unregister((uintptr_t)p, SIM_MEM_HOST, &a))
		return CUDA_ERROR_INVALID_VALUE;
	munmap(p, a.size);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int Flags)
{
	struct sim_ctx *c;
	struct sim_alloc a = { 0 };
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!p || !bytesize || (Flags & ~0xfu))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&mem_lock);
	for (struct sim_alloc *o = mem_reg; o; o = o->next)
		if ((o->kind == SIM_MEM_HOST || o->kind == SIM_MEM_HOST_REG) &&
		    (uintptr_t)p < o->start + o->size && o->start < (uintptr_t)p + bytesize) {
			pthread_mutex_unlock(&mem_lock);
			return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
		}
	pthread_mutex_unlock(&mem_lock);
	a.start = (uintptr_t)p;
	a.size = bytesize;
	a.kind = SIM_MEM_HOST_REG;
	a.ctx = c;
	a.dev = c->dev;
	a.flags = Flags;
	sim_mem_register(&a);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
{
	return cuMemHostRegister_v2(p, bytesize, Flags);
}

SIM_API CUresult cuMemHostUnregister(void *p)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	return sim_mem_unregister((uintptr_t)p, SIM_MEM_HOST_REG, NULL)
		       ? CUDA_SUCCESS
		       : CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
}

SIM_API CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pdptr || !p || Flags)
		return CUDA_ERROR_INVALID_VALUE;
	if (!sim_mem_find((uintptr_t)p, 1, &a) ||
	    (a.kind != SIM_MEM_HOST && a.kind != SIM_MEM_HOST_REG))
		return CUDA_ERROR_INVALID_VALUE;
	*pdptr = (CUdeviceptr)(uintptr_t)p; /* unified addressing */
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemHostGetFlags(unsigned int *pFlags, void *p)
{
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pFlags || !p || !sim_mem_find((uintptr_t)p, 1, &a) || a.kind != SIM_MEM_HOST)
		return CUDA_ERROR_INVALID_VALUE;
	*pFlags = a.flags;
	return CUDA_SUCCESS;
}

/* ---- stream-ordered allocation ---- */

static bool pool_valid(struct sim_pool *p)
{
	for (int i = 0; i < sim_g.n_dev; i++)
		if (p == &sim_g.devs[i].pool)
			return true;
	return false;
}

static CUresult alloc_async(CUdeviceptr *dptr, size_t size, struct sim_pool *pool, CUstream h,
			    bool pt)
{
	SIM_GATE_SECTION();
	struct sim_stream *s;
	struct sim_alloc a = { 0 };
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!dptr)
		return CUDA_ERROR_INVALID_VALUE;
	*dptr = 0;
	rc = sim_stream_resolve(h, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pool)
		pool = &s->ctx->dev->pool;
	else if (!pool_valid(pool))
		return CUDA_ERROR_INVALID_VALUE;
	/* memory is ready at once: the stream order is kept trivially */
	rc = dev_alloc(pool->dev, size, &a.start, &a.charged);
	if (rc != CUDA_SUCCESS)
		return rc;
	a.size = size;
	a.kind = SIM_MEM_ASYNC;
	a.dev = pool->dev;
	sim_mem_register(&a);
	pool->used += a.charged;
	if (pool->used > pool->used_high)
		pool->used_high = pool->used;
	*dptr = (CUdeviceptr)a.start;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream hStream)
{
	return alloc_async(dptr, bytesize, NULL, hStream, false);
}

SIM_API CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream hStream)
{
	return alloc_async(dptr, bytesize, NULL, hStream, true);
}

SIM_API CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
					 CUstream hStream)
{
	if (!pool)
		return sim_check_init() != CUDA_SUCCESS ? sim_check_init()
							: CUDA_ERROR_INVALID_VALUE;
	return alloc_async(dptr, bytesize, (struct sim_pool *)pool, hStream, false);
}

SIM_API CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
					      CUstream hStream)
{
	if (!pool)
		return sim_check_init() != CUDA_SUCCESS ? sim_check_init()
							: CUDA_ERROR_INVALID_VALUE;
	return alloc_async(dptr, bytesize, (struct sim_pool *)pool, hStream, true);
}

static void run_free(struct sim_op *op)
{
	sim_mem_dev_release(op->u.free.dev, op->u.free.ptr, op->u.free.charged);
}

static CUresult free_async(CUdeviceptr dptr, CUstream h, bool pt)
{
	SIM_GATE_SECTION();
	struct sim_stream *s;
	struct sim_alloc a;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_stream_resolve(h, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!dptr || !sim_mem_find((uintptr_t)dptr, 1, &a) || a.start != (uintptr_t)dptr ||
	    (a.kind != SIM_MEM_ASYNC && a.kind != SIM_MEM_DEVICE))
		return CUDA_ERROR_INVALID_VALUE;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (!sim_mem_unregister(a.start, a.kind, &a)) {
		free(op);
		return CUDA_ERROR_INVALID_VALUE;
	}
	if (a.kind == SIM_MEM_ASYNC)
		a.dev->pool.used -= a.charged;
	op->run = run_free;
	op->always = true; /* memory goes back even after a fault */
	op->u.free.dev = a.dev;
	op->u.free.ptr = a.start;
	op->u.free.charged = a.charged;
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream)
{
	return free_async(dptr, hStream, false);
}

SIM_API CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream hStream)
{
	return free_async(dptr, hStream, true);
}

SIM_API CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t minBytesToKeep)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	/* freed pool memory goes back at once: nothing is ever cached */
	(void)minBytesToKeep;
	return pool && pool_valid((struct sim_pool *)pool) ? CUDA_SUCCESS
							   : CUDA_ERROR_INVALID_VALUE;
}

SIM_API CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
	struct sim_pool *p = (struct sim_pool *)pool;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!p || !pool_valid(p) || !value)
		return CUDA_ERROR_INVALID_VALUE;
	switch (attr) {
	case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
		p->release_threshold = *(cuuint64_t *)value;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
	case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
		if (*(cuuint64_t *)value != 0)
			return CUDA_ERROR_INVALID_VALUE;
		p->used_high = p->used;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

SIM_API CUresult cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
	struct sim_pool *p = (struct sim_pool *)pool;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!p || !pool_valid(p) || !value)
		return CUDA_ERROR_INVALID_VALUE;
	switch (attr) {
	case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
		*(cuuint64_t *)value = p->release_threshold;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
		*(int *)value = 1;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
	case CU_MEMPOOL_ATTR_USED_MEM_CURRENT:
		*(cuuint64_t *)value = p->used;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
	case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
		*(cuuint64_t *)value = p->used_high;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

/* ---- pointer attributes ---- */

static CUresult ptr_attr(CUpointer_attribute attr, void *data, const struct sim_alloc *a,
			 bool known)
{
	if (!data)
		return CUDA_ERROR_INVALID_VALUE;
	switch (attr) {
	case CU_POINTER_ATTRIBUTE_CONTEXT:
		*(CUcontext *)data =
			known && a->ctx && sim_ctx_valid(a->ctx) ? (CUcontext)a->ctx : NULL;
		break;
	case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
		*(unsigned *)data = !known ? 0
				    : (a->kind == SIM_MEM_HOST || a->kind == SIM_MEM_HOST_REG)
					    ? CU_MEMORYTYPE_HOST
					    : CU_MEMORYTYPE_DEVICE;
		break;
	case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
		*(CUdeviceptr *)data = known ? (CUdeviceptr)a->start : 0;
		break;
	case CU_POINTER_ATTRIBUTE_HOST_POINTER:
		*(void **)data = known && (a->kind == SIM_MEM_HOST || a->kind == SIM_MEM_HOST_REG ||
					   a->kind == SIM_MEM_MANAGED)
					 ? (void *)a->start
					 : NULL;
		break;
	case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
		*(int *)data = 1;
		break;
	case CU_POINTER_ATTRIBUTE_BUFFER_ID:
		*(unsigned long long *)data = known ? a->id : 0;
		break;
	case CU_POINTER_ATTRIBUTE_IS_MANAGED:
		*(int *)data = known && a->kind == SIM_MEM_MANAGED;
		break;
	case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
		*(int *)data = known && a->dev ? a->dev->ordinal : -2;
		break;
	case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
		*(int *)data = known && a->kind == SIM_MEM_DEVICE;
		break;
	/* cuda.h tells the range (RANGE_START_ADDR, RANGE_SIZE: "the address
	 * range for this requested pointer") from the mapping (MAPPING_BASE_ADDR,
	 * MAPPING_SIZE: "the actual underlying mapping that the pointer belongs
	 * to"): for VMM memory the range is the cuMemAddressReserve reservation */
	case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: {
		uintptr_t start = known ? a->start : 0;
		size_t size;

		if (known && a->kind == SIM_MEM_VMM)
			sim_vmm_resv_find(a->start, &start, &size);
		*(CUdeviceptr *)data = (CUdeviceptr)start;
		break;
	}
	case CU_POINTER_ATTRIBUTE_RANGE_SIZE: {
		uintptr_t start;
		size_t size = known ? a->size : 0;

		if (known && a->kind == SIM_MEM_VMM)
			sim_vmm_resv_find(a->start, &start, &size);
		*(size_t *)data = size;
		break;
	}
	case CU_POINTER_ATTRIBUTE_MAPPED:
		*(int *)data = known && accessible(a);
		break;
	case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS:
		*(unsigned *)data = known && accessible(a)
					    ? CU_POINTER_ATTRIBUTE_ACCESS_FLAG_READWRITE
					    : CU_POINTER_ATTRIBUTE_ACCESS_FLAG_NONE;
		break;
	case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE:
		*(CUmemoryPool *)data =
			known && a->kind == SIM_MEM_ASYNC ? (CUmemoryPool)&a->dev->pool : NULL;
		break;
	case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES:
		*(unsigned long long *)data = 0;
		break;
	case CU_POINTER_ATTRIBUTE_IS_GPU_DIRECT_RDMA_CAPABLE:
		*(int *)data = 0;
		break;
	case CU_POINTER_ATTRIBUTE_MAPPING_SIZE:
		*(size_t *)data = known ? a->size : 0;
		break;
	case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR:
		*(void **)data = known ? (void *)a->start : NULL;
		break;
	case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID:
		*(unsigned long long *)data = known ? a->id : 0;
		break;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

SIM_API CUresult cuPointerGetAttribute(void *data, CUpointer_attribute attribute, CUdeviceptr ptr)
{
	struct sim_alloc a;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!data)
		return CUDA_ERROR_INVALID_VALUE;
	if (!sim_mem_find((uintptr_t)ptr, 1, &a))
		return CUDA_ERROR_INVALID_VALUE;
	if (attribute == CU_POINTER_ATTRIBUTE_DEVICE_POINTER ||
	    attribute == CU_POINTER_ATTRIBUTE_HOST_POINTER) {
		/* the address asked about, not the start of its range */
		a.start = (uintptr_t)ptr;
	}
	return ptr_attr(attribute, data, &a, true);
}

SIM_API CUresult cuPointerGetAttributes(unsigned int numAttributes, CUpointer_attribute *attributes,
					void **data, CUdeviceptr ptr)
{
	struct sim_alloc a = { 0 };
	CUresult rc = sim_check_init();
	bool known;

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!numAttributes || !attributes || !data)
		return CUDA_ERROR_INVALID_VALUE;
	/* unlike cuPointerGetAttribute, an unknown pointer is not an error */
	known = sim_mem_find((uintptr_t)ptr, 1, &a);
	for (unsigned i = 0; i < numAttributes; i++) {
		struct sim_alloc b = a;

		if (known && (attributes[i] == CU_POINTER_ATTRIBUTE_DEVICE_POINTER ||
			      attributes[i] == CU_POINTER_ATTRIBUTE_HOST_POINTER))
			b.start = (uintptr_t)ptr;
		if (!data[i])
			return CUDA_ERROR_INVALID_VALUE;
		rc = ptr_attr(attributes[i], data[i], &b, known);
		if (rc != CUDA_SUCCESS)
			return rc;
	}
	return CUDA_SUCCESS;
}

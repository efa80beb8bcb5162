/* Virtual memory management (cuMemAddressReserve / cuMemCreate / cuMemMap /
 * cuMemSetAccess ...), with the driver's rules: 2 MiB granularity for
 * sizes, offsets and addresses; a mapping is inaccessible until
 * cuMemSetAccess; physical memory lives until it is both released and
 * unmapped everywhere.
 *
 * Physical memory is a memfd per cuMemCreate (so it can be mapped at
 * several addresses and is zero when created), charged to the device's
 * account. Reserved addresses come from one PROT_NONE MAP_NORESERVE range
 * (SIM_VA_BASE, SIM_VA_SIZE) managed by the first-fit allocator; mapping
 * places the memfd there with MAP_FIXED and unmapping puts PROT_NONE
 * anonymous memory back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <unistd.h>

#include "sim_internal.h"

#define SIM_VA_BASE 0x300000000000ull
#define SIM_VA_SIZE (SIM_FIXED_ADDRESSES ? 4ull << 40 : 256ull << 30)
#define HANDLE_MAGIC 0x564d4d48u

struct vmm_handle {
	uint32_t magic;
	struct sim_dev *dev;
	size_t size;
	int fd;
	int refs;  /* handle references + 1 per mapping */
	int urefs; /* handle references: cuMemCreate, cuMemRetainAllocationHandle */
	CUmemAllocationProp prop;
	bool shareable; /* created with a POSIX fd handle type: can be exported */
	bool imported;	/* from cuMemImportFromShareableHandle */
	void *saved;	/* contents while checkpointed */
	struct vmm_handle *next;
};

struct vmm_resv {
	uintptr_t start;
	size_t size;
	struct vmm_resv *next;
};

struct vmm_map {
	uintptr_t start;
	size_t size;
	struct vmm_handle *h;
	unsigned access;
	struct vmm_map *next;
};

static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t va_once = PTHREAD_ONCE_INIT;
static struct sim_heap va_heap;
static bool va_ok;
static struct vmm_handle *handles;
static struct vmm_resv *resvs;
static struct vmm_map *maps;

static void va_init(void)
{
	void *p = MAP_FAILED;

	if (SIM_FIXED_ADDRESSES)
		p = mmap((void *)(uintptr_t)SIM_VA_BASE, SIM_VA_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		p = mmap(NULL, SIM_VA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);
	if (p == MAP_FAILED)
		return;
	va_ok = sim_heap_init(&va_heap, (uintptr_t)p, SIM_VA_SIZE) == 0;
}

bool sim_addr_in_device_space(uintptr_t p)
{
	for (int i = 0; i < sim_g.n_dev; i++) {
		uintptr_t b = (uintptr_t)sim_g.devs[i].mem;

		if (b && p >= b && p - b < sim_g.devs[i].total)
			return true;
	}
	return va_ok && p >= va_heap.base && p - va_heap.base < va_heap.size;
}

static bool gran_ok(size_t v)
{
	return v % SIM_VMM_GRANULARITY == 0;
}

static CUresult check_prop(const CUmemAllocationProp *prop, struct sim_dev **dev)
{
	if (!prop || prop->type != CU_MEM_ALLOCATION_TYPE_PINNED)
		return CUDA_ERROR_INVALID_VALUE;
	if (prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
		return CUDA_ERROR_NOT_SUPPORTED;
	*dev = sim_dev_get(prop->location.id);
	return *dev ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

SIM_API CUresult cuMemGetAllocationGranularity(size_t *granularity,
					       const CUmemAllocationProp *prop,
					       CUmemAllocationGranularity_flags option)
{
	struct sim_dev *d;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!granularity || (option != CU_MEM_ALLOC_GRANULARITY_MINIMUM &&
			     option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED))
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_prop(prop, &d);
	if (rc != CUDA_SUCCESS)
		return rc;
	*granularity = SIM_VMM_GRANULARITY;
	return CUDA_SUCCESS;
}

/* Drops one reference; the last gives the memory back. vmm_lock held. */
static void handle_unref_locked(struct vmm_handle *h)
{
	if (--h->refs > 0)
		return;
	for (struct vmm_handle **pp = &handles; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	close(h->fd);
	sim_dev_uncharge(h->dev, h->size);
	free(h);
}

static struct vmm_handle *handle_find_locked(CUmemGenericAllocationHandle v)
{
	for (struct vmm_handle *h = handles; h; h = h->next)
		if ((CUmemGenericAllocationHandle)(uintptr_t)h == v)
			return h;
	return NULL;
}

SIM_API CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			     const CUmemAllocationProp *prop, unsigned long long flags)
{
	SIM_GATE_SECTION();
	struct vmm_handle *h;
	struct sim_dev *d;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!handle || !prop || flags || !size || !gran_ok(size))
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_prop(prop, &d);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (prop->requestedHandleTypes != CU_MEM_HANDLE_TYPE_NONE)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (size > d->total || sim_dev_charge(d, size) != CUDA_SUCCESS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	h = calloc(1, sizeof(*h));
	if (!h) {
		sim_dev_uncharge(d, size);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	h->fd = memfd_create("gpuvisor-sim-vmm", MFD_CLOEXEC);
	if (h->fd < 0 || ftruncate(h->fd, (off_t)size) < 0) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		sim_dev_uncharge(d, size);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	h->magic = HANDLE_MAGIC;
	h->dev = d;
	h->size = size;
	h->refs = 1;
	h->urefs = 1;
	h->prop = *prop;
	pthread_mutex_lock(&vmm_lock);
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&vmm_lock);
	*handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	SIM_GATE_SECTION();
	struct vmm_handle *h;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	pthread_mutex_lock(&vmm_lock);
	h = handle_find_locked(handle);
	if (!h || h->urefs == 0) {
		rc = CUDA_ERROR_INVALID_VALUE;
	} else {
		h->urefs--;
		handle_unref_locked(h);
	}
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop,
							CUmemGenericAllocationHandle handle)
{
	struct vmm_handle *h;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!prop)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	h = handle_find_locked(handle);
	if (h && h->urefs > 0)
		*prop = h->prop;
	else
		rc = CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
	SIM_GATE_SECTION();
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!handle || !addr)
		return CUDA_ERROR_INVALID_VALUE;
	rc = CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_map *m = maps; m; m = m->next)
		if ((uintptr_t)addr >= m->start && (uintptr_t)addr - m->start < m->size) {
			/* a retained handle is released again with cuMemRelease */
			m->h->urefs++;
			m->h->refs++;
			*handle = (CUmemGenericAllocationHandle)(uintptr_t)m->h;
			rc = CUDA_SUCCESS;
			break;
		}
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment,
				     CUdeviceptr addr, unsigned long long flags)
{
	SIM_GATE_SECTION();
	struct vmm_resv *r;
	uintptr_t p = 0;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ptr || !size || !gran_ok(size) || flags || (alignment & (alignment - 1)))
		return CUDA_ERROR_INVALID_VALUE;
	*ptr = 0;
	pthread_once(&va_once, va_init);
	if (!va_ok)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (alignment < SIM_VMM_GRANULARITY)
		alignment = SIM_VMM_GRANULARITY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CUDA_ERROR_OUT_OF_MEMORY;
	/* addr is a hint: used when free and aligned, else anywhere */
	if (addr && addr % alignment == 0 && sim_heap_alloc_at(&va_heap, (uintptr_t)addr, size))
		p = (uintptr_t)addr;
	if (!p)
		p = sim_heap_alloc(&va_heap, size, alignment);
	if (!p) {
		free(r);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	r->start = p;
	r->size = size;
	pthread_mutex_lock(&vmm_lock);
	r->next = resvs;
	resvs = r;
	pthread_mutex_unlock(&vmm_lock);
	*ptr = (CUdeviceptr)p;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
	SIM_GATE_SECTION();
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_resv **pp = &resvs; *pp; pp = &(*pp)->next) {
		struct vmm_resv *r = *pp;
		bool mapped = false;

		if (r->start != (uintptr_t)ptr || r->size != size)
			continue;
		for (struct vmm_map *m = maps; m; m = m->next)
			mapped |= m->start >= r->start && m->start - r->start < r->size;
		if (mapped)
			break; /* unmap first */
		*pp = r->next;
		sim_heap_free(&va_heap, r->start);
		free(r);
		rc = CUDA_SUCCESS;
		break;
	}
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

bool sim_vmm_resv_find(uintptr_t p, uintptr_t *start, size_t *size)
{
	bool found = false;

	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_resv *r = resvs; r && !found; r = r->next)
		if (p >= r->start && p - r->start < r->size) {
			*start = r->start;
			*size = r->size;
			found = true;
		}
	pthread_mutex_unlock(&vmm_lock);
	return found;
}

static bool in_reservation_locked(uintptr_t p, size_t size)
{
	for (struct vmm_resv *r = resvs; r; r = r->next)
		if (p >= r->start && p - r->start < r->size && size <= r->size - (p - r->start))
			return true;
	return false;
}

SIM_API CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
			  CUmemGenericAllocationHandle handle, unsigned long long flags)
{
	SIM_GATE_SECTION();
	struct vmm_handle *h;
	struct vmm_map *m = NULL;
	struct sim_alloc a = { 0 };
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ptr || !size || flags || !gran_ok(ptr) || !gran_ok(size) || !gran_ok(offset))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	h = handle_find_locked(handle);
	if (!h || h->urefs == 0 || offset >= h->size ||
	    !in_reservation_locked((uintptr_t)ptr, size)) {
		rc = CUDA_ERROR_INVALID_VALUE;
		goto out;
	}
	/* what NVIDIA's driver (R580) refuses as not supported: an offset
	 * into the handle, a range past its end, a range already mapped */
	if (offset || size > h->size) {
		rc = CUDA_ERROR_NOT_SUPPORTED;
		goto out;
	}
	for (struct vmm_map *o = maps; o; o = o->next)
		if (o->start < (uintptr_t)ptr + size && (uintptr_t)ptr < o->start + o->size) {
			rc = CUDA_ERROR_NOT_SUPPORTED;
			goto out;
		}
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	if (mmap((void *)(uintptr_t)ptr, size, PROT_NONE, MAP_SHARED | MAP_FIXED, h->fd,
		 (off_t)offset) == MAP_FAILED) {
		free(m);
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	m->start = (uintptr_t)ptr;
	m->size = size;
	m->h = h;
	m->next = maps;
	maps = m;
	h->refs++;
	a.start = m->start;
	a.size = size;
	a.kind = SIM_MEM_VMM;
	a.dev = h->dev;
	sim_mem_register(&a);
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

/* Mappings inside [p, p + size), which they must cover exactly, or none
 * at all inside a reservation (unmapping that is a no-op for the driver). */
static bool covered_locked(uintptr_t p, size_t size, bool allow_empty)
{
	size_t sum = 0;

	for (struct vmm_map *m = maps; m; m = m->next) {
		bool inside = m->start >= p && m->start - p < size;
		bool overlaps = m->start < p + size && p < m->start + m->size;

		if (overlaps && (!inside || m->size > size - (m->start - p)))
			return false; /* a mapping sticks out of the range */
		if (inside)
			sum += m->size;
	}
	return sum == size || (allow_empty && sum == 0 && in_reservation_locked(p, size));
}

SIM_API CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	SIM_GATE_SECTION();
	uintptr_t p = (uintptr_t)ptr;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ptr || !size || !gran_ok(ptr) || !gran_ok(size))
		return CUDA_ERROR_INVALID_VALUE;
	/* work queued on the device may still use the range */
	if (sim_ctx_current())
		sim_ctx_sync(sim_ctx_current());
	pthread_mutex_lock(&vmm_lock);
	if (!covered_locked(p, size, true)) {
		rc = CUDA_ERROR_INVALID_VALUE;
		goto out;
	}
	for (struct vmm_map **pp = &maps; *pp;) {
		struct vmm_map *m = *pp;

		if (!(m->start >= p && m->start - p < size)) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		mmap((void *)m->start, m->size, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		sim_mem_unregister(m->start, SIM_MEM_VMM, NULL);
		handle_unref_locked(m->h);
		free(m);
	}
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc *desc,
				size_t count)
{
	SIM_GATE_SECTION();
	uintptr_t p = (uintptr_t)ptr;
	unsigned access = CU_MEM_ACCESS_FLAGS_PROT_NONE;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ptr || !size || !desc || !count || !gran_ok(ptr) || !gran_ok(size))
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < count; i++) {
		if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE)
			return CUDA_ERROR_INVALID_VALUE;
		if (!sim_dev_get(desc[i].location.id))
			return CUDA_ERROR_INVALID_DEVICE;
		if (desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_NONE &&
		    desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READ &&
		    desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
			return CUDA_ERROR_INVALID_VALUE;
		/* one host address space: the widest access granted applies */
		if (desc[i].flags > access)
			access = desc[i].flags;
	}
	pthread_mutex_lock(&vmm_lock);
	if (!covered_locked(p, size, false)) {
		rc = CUDA_ERROR_INVALID_VALUE;
		goto out;
	}
	for (struct vmm_map *m = maps; m; m = m->next) {
		int prot = access == CU_MEM_ACCESS_FLAGS_PROT_READWRITE ? PROT_READ | PROT_WRITE
			   : access == CU_MEM_ACCESS_FLAGS_PROT_READ	    ? PROT_READ
									    : PROT_NONE;

		if (!(m->start >= p && m->start - p < size))
			continue;
		mprotect((void *)m->start, m->size, prot);
		m->access = access;
		sim_mem_set_flags(m->start, SIM_MEM_VMM, access);
	}
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemGetAccess(unsigned long long *flags, const CUmemLocation *location,
				CUdeviceptr ptr)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!flags || !location || location->type != CU_MEM_LOCATION_TYPE_DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	rc = CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_map *m = maps; m; m = m->next)
		if ((uintptr_t)ptr >= m->start && (uintptr_t)ptr - m->start < m->size) {
			*flags = m->access;
			rc = CUDA_SUCCESS;
			break;
		}
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

/* ==== Checkpoint of VMM memory: THE policy table ====
 *
 * What cuCheckpointProcessCheckpoint does with each kind of VMM physical
 * allocation. NVIDIA documents none of it, and what the R580 driver really
 * does is being probed on a GPU; change a row here, and only here, when the
 * probe says otherwise (and docs/simulator.md, "Checkpoint"). Reserved
 * address ranges are not in the table: a reservation always stays reserved
 * (PROT_NONE, nothing else can be mapped there) across checkpoint and
 * restore, mapped or not. */
enum vmm_ckpt_action {
	/* contents to host memory, device memory given back, mappings kept
	 * reserved but inaccessible; restore refills and re-opens them at the
	 * same addresses with the same handle */
	VMM_CKPT_CARRY,
	/* the checkpoint fails with CUDA_ERROR_NOT_SUPPORTED and the process
	 * stays LOCKED, nothing changed */
	VMM_CKPT_REFUSE,
};

static const struct vmm_ckpt_rule {
	bool shareable; /* created exportable (POSIX fd) in this process */
	bool imported;	/* imported from a shareable handle */
	bool mapped;	/* mapped somewhere in this process */
	enum vmm_ckpt_action action;
} vmm_ckpt_policy[] = {
	{ false, false, true, VMM_CKPT_CARRY },	  /* private, mapped: like any memory */
	{ false, false, false, VMM_CKPT_CARRY },  /* private, handle only */
	{ true, false, true, VMM_CKPT_REFUSE },	  /* exportable: others may hold it */
	{ true, false, false, VMM_CKPT_REFUSE },
	{ true, true, true, VMM_CKPT_REFUSE },	  /* imported: another process owns it */
	{ true, true, false, VMM_CKPT_REFUSE },
};

static enum vmm_ckpt_action vmm_ckpt_action(const struct vmm_handle *h)
{
	bool mapped = h->refs > h->urefs; /* refs: handle references + mappings */
	bool shareable = h->shareable || h->imported;

	for (size_t i = 0; i < sizeof(vmm_ckpt_policy) / sizeof(vmm_ckpt_policy[0]); i++) {
		const struct vmm_ckpt_rule *r = &vmm_ckpt_policy[i];

		if (r->shareable == shareable && r->imported == h->imported && r->mapped == mapped)
			return r->action;
	}
	return VMM_CKPT_REFUSE;
}
/* ==== end of the policy ==== */

CUresult sim_vmm_ckpt_check(void)
{
	CUresult rc = CUDA_SUCCESS;

	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_handle *h = handles; h && rc == CUDA_SUCCESS; h = h->next)
		if (vmm_ckpt_action(h) == VMM_CKPT_REFUSE)
			rc = CUDA_ERROR_NOT_SUPPORTED;
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

static int fd_read_all(int fd, void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

static int fd_write_all(int fd, const void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

static int access_prot(unsigned access)
{
	return access == CU_MEM_ACCESS_FLAGS_PROT_READWRITE ? PROT_READ | PROT_WRITE
	       : access == CU_MEM_ACCESS_FLAGS_PROT_READ    ? PROT_READ
							    : PROT_NONE;
}

int sim_vmm_ckpt_save(void)
{
	int rc = 0;

	pthread_mutex_lock(&vmm_lock);
	/* copy everything first: a failure changes nothing */
	for (struct vmm_handle *h = handles; h && !rc; h = h->next) {
		if (vmm_ckpt_action(h) != VMM_CKPT_CARRY)
			continue;
		h->saved = malloc(h->size);
		if (!h->saved)
			rc = -ENOMEM;
		else
			rc = fd_read_all(h->fd, h->saved, h->size);
	}
	if (rc) {
		for (struct vmm_handle *h = handles; h; h = h->next) {
			free(h->saved);
			h->saved = NULL;
		}
		goto out;
	}
	/* the mappings stay (the addresses stay taken) but cannot be used;
	 * the memfd's pages go back */
	for (struct vmm_map *m = maps; m; m = m->next)
		if (m->h->saved)
			mprotect((void *)m->start, m->size, PROT_NONE);
	for (struct vmm_handle *h = handles; h; h = h->next)
		if (h->saved)
			fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				  (off_t)h->size);
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

void sim_vmm_ckpt_restore(void)
{
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_handle *h = handles; h; h = h->next) {
		if (!h->saved)
			continue;
		/* a memfd hole is refilled by the write: it cannot fail for want
		 * of device memory, only of host memory (then the pages read 0) */
		if (fd_write_all(h->fd, h->saved, h->size) < 0)
			fprintf(stderr, "libcudasim: restore of a VMM allocation failed\n");
	}
	for (struct vmm_map *m = maps; m; m = m->next)
		if (m->h->saved)
			mprotect((void *)m->start, m->size, access_prot(m->access));
	for (struct vmm_handle *h = handles; h; h = h->next) {
		free(h->saved);
		h->saved = NULL;
	}
	pthread_mutex_unlock(&vmm_lock);
}

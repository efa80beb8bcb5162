/* Virtual memory management (cuMemAddressReserve / cuMemCreate / cuMemMap /
 * cuMemSetAccess ...), with the driver's rules: 2 MiB granularity for
 * sizes, offsets and addresses; a mapping is inaccessible until
 * cuMemSetAccess; physical memory lives until it is both released and
 * unmapped everywhere.
 *
 * Physical memory is a memfd per cuMemCreate (so it can be mapped at
 * several addresses and is zero when created), charged to the device's
 * account. Exportable memory (requestedHandleTypes with the POSIX fd) has
 * a header page in front of its contents (sim_export.h): its descriptor is
 * what cuMemExportToShareableHandle hands out and what another process
 * imports, so both map the same pages. It is charged once, to the process
 * that created it, for as long as anything holds it: a handle or mapping
 * here, or (told by sim_export_held_elsewhere) an exported descriptor
 * still open anywhere or an imported handle in another process. When the
 * creator lets go first, the allocation "lingers" here, still charged,
 * until the others are gone too: reaped at this process's next VMM call or
 * cuMemGetInfo (the simulator has no way to hear a close elsewhere).
 * Imported handles charge nothing. Reserved addresses come from one PROT_NONE MAP_NORESERVE range
 * (SIM_VA_BASE, SIM_VA_SIZE) managed by the first-fit allocator; mapping
 * places the memfd there with MAP_FIXED and unmapping puts PROT_NONE
 * anonymous memory back.
 *
 * With sim_mem.c, calls go both ways: a mapping is registered in its
 * address registry (sim_mem_register), and the registry, when it frees or
 * looks up an address, asks this file about reservations (sim_vmm_reap,
 * sim_vmm_resv_find). One address space, two kinds of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "sim_export.h"
#include "sim_internal.h"

_Static_assert(SIM_EXPORT_POSIX_FD == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
	       "the export header names the POSIX fd handle type");
_Static_assert(SIM_EXPORT_GRANULARITY == SIM_VMM_GRANULARITY, "one granularity");

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
	bool shareable;		 /* created here with a POSIX fd handle type: can be exported */
	bool imported;		 /* from cuMemImportFromShareableHandle */
	bool charged;		 /* size is charged to dev by this process (not imported) */
	off_t data_off;		 /* where the contents start in fd (the export header) */
	void *saved;		 /* contents while checkpointed */
	int ck_action;		 /* enum vmm_ckpt_action decided at the checkpoint */
	int ck_newfd;		 /* restore: the fresh copy's memfd (VMM_CKPT_COPY), or -1 */
	struct gv_acct *ck_acct; /* restore: where the original stays charged */
	struct vmm_handle *next;
};

/* Exportable memory this process created and let go of while other
 * holders remain: still charged here until they are gone, to the
 * accounting of the GPU it was made on (acct), which is no longer dev's
 * after a restore onto another GPU (then this file keeps that handle open:
 * sim_vmm_keep_acct). */
struct vmm_linger {
	struct sim_dev *dev;
	struct gv_acct *acct;
	size_t size;
	int fd;
	struct vmm_linger *next;
};

/* Accounting handles of GPUs this process left at a restore onto others,
 * kept for the lingering memory charged there; closed with the last of it. */
struct vmm_kept_acct {
	struct gv_acct *acct;
	struct vmm_kept_acct *next;
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
static struct vmm_linger *lingers;
static struct vmm_kept_acct *kept_accts;

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

SIM_API CUresult cuMemGetAllocationGranularity(size_t *granularity, const CUmemAllocationProp *prop,
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

/* Keeps h's memory (its fd, its charge to acct) on the lingers list, for
 * the other holders of an exported allocation. -ENOMEM when no list entry
 * could be made: the caller then lets the memory go. vmm_lock held. */
static int linger_add(const struct vmm_handle *h, struct gv_acct *acct)
{
	struct vmm_linger *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->dev = h->dev;
	l->acct = acct;
	l->size = h->size;
	l->fd = h->fd;
	l->next = lingers;
	lingers = l;
	return 0;
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
	/* no memory to remember a lingering one: its charge goes back now */
	if (h->charged && h->shareable && sim_export_held_elsewhere(h->fd) &&
	    linger_add(h, h->dev->acct) == 0) {
		free(h);
		return;
	}
	close(h->fd);
	if (h->charged)
		sim_dev_uncharge(h->dev, h->size);
	free(h);
}

static bool acct_lingers(const struct gv_acct *acct)
{
	for (const struct vmm_linger *l = lingers; l; l = l->next)
		if (l->acct == acct)
			return true;
	return false;
}

/* Uncharges the lingering allocations nothing holds any more, and closes
 * the kept accounting handles none of them needs now. vmm_lock held. */
static void reap_locked(void)
{
	for (struct vmm_linger **pp = &lingers; *pp;) {
		struct vmm_linger *l = *pp;

		if (sim_export_held_elsewhere(l->fd)) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		close(l->fd);
		gv_acct_uncharge(l->acct, l->size);
		free(l);
	}
	for (struct vmm_kept_acct **pp = &kept_accts; *pp;) {
		struct vmm_kept_acct *k = *pp;

		if (acct_lingers(k->acct)) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		gv_acct_close(k->acct);
		free(k);
	}
}

bool sim_vmm_keep_acct(struct gv_acct *acct)
{
	struct vmm_kept_acct *k;
	bool kept = false;

	pthread_mutex_lock(&vmm_lock);
	if (acct_lingers(acct) && (k = calloc(1, sizeof(*k)))) {
		k->acct = acct;
		k->next = kept_accts;
		kept_accts = k;
		kept = true;
	}
	pthread_mutex_unlock(&vmm_lock);
	return kept;
}

void sim_vmm_reap(void)
{
	pthread_mutex_lock(&vmm_lock);
	reap_locked();
	pthread_mutex_unlock(&vmm_lock);
}

static struct vmm_handle *handle_find_locked(CUmemGenericAllocationHandle v)
{
	for (struct vmm_handle *h = handles; h; h = h->next)
		if ((CUmemGenericAllocationHandle)(uintptr_t)h == v)
			return h;
	return NULL;
}

/* A memfd for size bytes of physical memory on d, zero-filled; exportable:
 * with the export header in front. The fd, or -1. */
static int memfd_new(struct sim_dev *d, size_t size, bool exportable)
{
	struct sim_export_hdr hdr = { 0 };
	off_t off = exportable ? SIM_EXPORT_HDR_SIZE : 0;
	int fd = memfd_create("gpuvisor-sim-vmm", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size + off) < 0)
		goto fail;
	if (exportable) {
		hdr.magic = SIM_EXPORT_MAGIC;
		hdr.version = SIM_EXPORT_VERSION;
		hdr.size = size;
		memcpy(hdr.dev_uuid, d->uuid_bytes.bytes, sizeof(hdr.dev_uuid));
		hdr.handle_types = SIM_EXPORT_POSIX_FD;
		hdr.creator_pid = (uint32_t)getpid();
		if (pwrite(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* requestedHandleTypes: the POSIX fd is what Linux offers; Win32 handles
 * are for Windows and fabric handles need an IMEX fabric, which no
 * simulated node has: CUDA_ERROR_NOT_SUPPORTED, as the driver answers for a
 * handle type the platform lacks. Bits outside the enum are invalid. */
static CUresult check_handle_types(unsigned long long t)
{
	const unsigned long long known = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR |
					 CU_MEM_HANDLE_TYPE_WIN32 | CU_MEM_HANDLE_TYPE_WIN32_KMT |
					 CU_MEM_HANDLE_TYPE_FABRIC;

	if (t & ~known)
		return CUDA_ERROR_INVALID_VALUE;
	if (t & ~(unsigned long long)CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
		return CUDA_ERROR_NOT_SUPPORTED;
	return CUDA_SUCCESS;
}

static void handle_add(struct vmm_handle *h)
{
	pthread_mutex_lock(&vmm_lock);
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&vmm_lock);
}

SIM_API CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			     const CUmemAllocationProp *prop, unsigned long long flags)
{
	SIM_GATE_SECTION();
	struct vmm_handle *h;
	struct sim_dev *d;
	bool exportable;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!handle || !prop || flags || !size || !gran_ok(size))
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_prop(prop, &d);
	if (rc == CUDA_SUCCESS)
		rc = check_handle_types(prop->requestedHandleTypes);
	if (rc != CUDA_SUCCESS)
		return rc;
	exportable = prop->requestedHandleTypes & CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	sim_vmm_reap();
	if (size > d->total || sim_dev_charge(d, size) != CUDA_SUCCESS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	h = calloc(1, sizeof(*h));
	if (!h) {
		sim_dev_uncharge(d, size);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	h->fd = memfd_new(d, size, exportable);
	if (h->fd < 0) {
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
	h->shareable = exportable;
	h->charged = true;
	h->data_off = exportable ? SIM_EXPORT_HDR_SIZE : 0;
	h->ck_newfd = -1;
	handle_add(h);
	*handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuMemExportToShareableHandle(void *shareableHandle,
					      CUmemGenericAllocationHandle handle,
					      CUmemAllocationHandleType handleType,
					      unsigned long long flags)
{
	struct vmm_handle *h;
	int fd = -1;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!shareableHandle || flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&vmm_lock);
	reap_locked();
	h = handle_find_locked(handle);
	/* only a type the allocation was created (or imported) with */
	if (!h || h->urefs == 0 || handleType != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR ||
	    !(h->shareable || h->imported)) {
		rc = CUDA_ERROR_INVALID_VALUE;
		goto out;
	}
	/* a description of its own, so that its holders can be told apart */
	fd = sim_export_reopen(h->fd);
	if (fd < 0 || sim_export_mark(fd, SIM_EXPORT_LOCK_FD) < 0) {
		rc = fd == -EMFILE || fd == -ENFILE ? CUDA_ERROR_OUT_OF_MEMORY
						    : CUDA_ERROR_OPERATING_SYSTEM;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	*(int *)shareableHandle = fd;
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

SIM_API CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle,
						void *osHandle,
						CUmemAllocationHandleType shHandleType)
{
	SIM_GATE_SECTION();
	struct sim_export_hdr hdr;
	char buf[sizeof(hdr)];
	struct vmm_handle *h = NULL;
	struct sim_dev *d = NULL;
	struct stat st;
	int ufd = (int)(intptr_t)osHandle, fd = -1;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!handle)
		return CUDA_ERROR_INVALID_VALUE;
	if (shHandleType != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
		return check_handle_types(shHandleType) != CUDA_SUCCESS || !shHandleType
			       ? CUDA_ERROR_INVALID_VALUE
			       : CUDA_ERROR_NOT_SUPPORTED;
	/* an fd that is not open, or not an export of this simulator */
	if (ufd < 0 || (intptr_t)osHandle != (intptr_t)ufd || fstat(ufd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || pread(ufd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    sim_export_hdr_parse(buf, sizeof(buf), (uint64_t)st.st_size, &hdr) < 0)
		return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < sim_g.n_dev && !d; i++)
		if (!memcmp(sim_g.devs[i].uuid_bytes.bytes, hdr.dev_uuid, sizeof(hdr.dev_uuid)))
			d = &sim_g.devs[i];
	if (!d)
		return CUDA_ERROR_NOT_SUPPORTED; /* a GPU this process does not see: cuda.h
						  * "cannot support the memory" */
	fd = sim_export_reopen(ufd);
	if (fd < 0 || sim_export_mark(fd, SIM_EXPORT_LOCK_IMPORT) < 0)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto fail;
	h->magic = HANDLE_MAGIC;
	h->dev = d;
	h->size = hdr.size;
	h->fd = fd;
	h->refs = 1;
	h->urefs = 1;
	h->prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	h->prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	h->prop.location.id = d->ordinal;
	h->prop.requestedHandleTypes = (CUmemAllocationHandleType)hdr.handle_types;
	h->imported = true;
	h->data_off = SIM_EXPORT_HDR_SIZE;
	h->ck_newfd = -1;
	handle_add(h);
	*handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
	return CUDA_SUCCESS;
fail:
	if (fd >= 0)
		close(fd);
	return CUDA_ERROR_OUT_OF_MEMORY;
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
	reap_locked();
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
		 h->data_off + (off_t)offset) == MAP_FAILED) {
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
			   : access == CU_MEM_ACCESS_FLAGS_PROT_READ	? PROT_READ
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
 * What cuCheckpointProcessCheckpoint does with each VMM allocation the
 * process holds, by where it came from, whether it is mapped here, and
 * whether anything outside this process's own handles holds it (an
 * exported descriptor still open anywhere, another process's import:
 * sim_export_held_elsewhere). NVIDIA documents none of it; the rows follow
 * what driver 580.159.04 did on an H200 (tests/gpu/ckpt-check.h200-
 * 580.159.04.txt, docs/migration.md "What held" / "What does not hold"),
 * named in each row's comment. Change a row here, and only here, when a
 * probe says otherwise (and docs/simulator.md, "Checkpoint"). Reserved
 * address ranges are not in the table: a reservation always stays reserved
 * (PROT_NONE, nothing else can be mapped there) across checkpoint and
 * restore, mapped or not ("vmm-unmapped"). A descriptor the process holds
 * as a plain fd without importing it is no handle and not in the table
 * either: it stays open, and imports after the restore ("design"). */
enum vmm_ckpt_action {
	/* contents to host memory, device memory given back, mappings kept
	 * reserved but inaccessible; restore refills and re-opens them at the
	 * same addresses with the same handle */
	VMM_CKPT_CARRY,
	/* the contents are carried as CARRY's, but the memory is not freed
	 * while checkpointed (others hold it; it stays charged) and the
	 * restore gives the handle a fresh copy, charged again: held twice
	 * until the others let go of the original */
	VMM_CKPT_COPY,
	/* the checkpoint succeeds without touching it; the restore fails with
	 * CUDA_ERROR_NOT_SUPPORTED and the process stays CHECKPOINTED for
	 * good (unlock: CUDA_ERROR_ILLEGAL_STATE) */
	VMM_CKPT_BREAK_RESTORE,
	/* the checkpoint fails with CUDA_ERROR_NOT_SUPPORTED and the process
	 * stays LOCKED, nothing changed */
	VMM_CKPT_REFUSE,
};

enum vmm_origin {
	VMM_PRIVATE,	/* cuMemCreate without handle types */
	VMM_EXPORTABLE, /* cuMemCreate with the POSIX fd, in this process */
	VMM_IMPORTED,	/* cuMemImportFromShareableHandle */
};

#define ANY (-1)
static const struct vmm_ckpt_rule {
	enum vmm_origin origin;
	int mapped;	    /* 0, 1 or ANY */
	int held_elsewhere; /* 0, 1 or ANY */
	enum vmm_ckpt_action action;
} vmm_ckpt_policy[] = {
	/* "vmm-private": carried like any memory */
	{ VMM_PRIVATE, ANY, ANY, VMM_CKPT_CARRY },
	/* nothing else holds it: it is private memory (the design's stun
	 * closes its descriptors before the checkpoint) */
	{ VMM_EXPORTABLE, ANY, 0, VMM_CKPT_CARRY },
	/* "vmm-export-mapped": an exported fd kept open; not freed while
	 * checkpointed, held twice after the restore (the unmapped case was
	 * not probed: taken to be the same) */
	{ VMM_EXPORTABLE, ANY, 1, VMM_CKPT_COPY },
	/* "import-held": checkpoint OK, restore NOT_SUPPORTED, CHECKPOINTED */
	{ VMM_IMPORTED, 0, ANY, VMM_CKPT_BREAK_RESTORE },
	/* "import-mapped": the driver hung (the probe was killed at its time
	 * limit); the simulator refuses instead of hanging (docs/simulator.md) */
	{ VMM_IMPORTED, 1, ANY, VMM_CKPT_REFUSE },
};
#undef ANY

static enum vmm_ckpt_action vmm_ckpt_action(const struct vmm_handle *h)
{
	enum vmm_origin o = h->imported	   ? VMM_IMPORTED
			    : h->shareable ? VMM_EXPORTABLE
					   : VMM_PRIVATE;
	int mapped = h->refs > h->urefs; /* refs: handle references + mappings */
	int elsewhere = (h->shareable || h->imported) && sim_export_held_elsewhere(h->fd);

	for (size_t i = 0; i < sizeof(vmm_ckpt_policy) / sizeof(vmm_ckpt_policy[0]); i++) {
		const struct vmm_ckpt_rule *r = &vmm_ckpt_policy[i];

		if (r->origin == o && (r->mapped < 0 || r->mapped == mapped) &&
		    (r->held_elsewhere < 0 || r->held_elsewhere == elsewhere))
			return r->action;
	}
	return VMM_CKPT_REFUSE;
}
/* ==== end of the policy ==== */

/* Set by sim_vmm_ckpt_save when a BREAK_RESTORE handle was there. */
static bool ck_broken;

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

static int fd_read_all(int fd, off_t off, void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

static int fd_write_all(int fd, off_t off, const void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);

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

int sim_vmm_ckpt_save(uint64_t *kept)
{
	int rc = 0;

	pthread_mutex_lock(&vmm_lock);
	ck_broken = false;
	/* decide and copy everything first: a failure changes nothing */
	for (struct vmm_handle *h = handles; h && !rc; h = h->next) {
		h->ck_action = vmm_ckpt_action(h);
		ck_broken |= h->ck_action == VMM_CKPT_BREAK_RESTORE;
		if (h->ck_action != VMM_CKPT_CARRY && h->ck_action != VMM_CKPT_COPY)
			continue;
		h->saved = malloc(h->size);
		if (!h->saved)
			rc = -ENOMEM;
		else
			rc = fd_read_all(h->fd, h->data_off, h->saved, h->size);
	}
	if (rc) {
		for (struct vmm_handle *h = handles; h; h = h->next) {
			free(h->saved);
			h->saved = NULL;
		}
		goto out;
	}
	/* the mappings stay (the addresses stay taken) but cannot be used;
	 * the pages of what nothing else holds go back */
	for (struct vmm_map *m = maps; m; m = m->next)
		if (m->h->saved)
			mprotect((void *)m->start, m->size, PROT_NONE);
	for (struct vmm_handle *h = handles; h; h = h->next) {
		if (h->ck_action == VMM_CKPT_CARRY)
			fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, h->data_off,
				  (off_t)h->size);
		else if (h->ck_action == VMM_CKPT_COPY)
			kept[h->dev->ordinal] += h->size;
	}
	/* memory lingering here for others stays held, and charged (what
	 * lingers on a GPU the process left is not in its device's charge) */
	for (struct vmm_linger *l = lingers; l; l = l->next)
		if (l->acct == l->dev->acct)
			kept[l->dev->ordinal] += l->size;
out:
	pthread_mutex_unlock(&vmm_lock);
	return rc;
}

CUresult sim_vmm_ckpt_restore_prepare(uint64_t *again)
{
	CUresult rc = CUDA_SUCCESS;

	if (ck_broken)
		return CUDA_ERROR_NOT_SUPPORTED;
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_handle *h = handles; h && rc == CUDA_SUCCESS; h = h->next) {
		if (h->ck_action != VMM_CKPT_COPY || !h->saved)
			continue;
		h->ck_newfd = memfd_new(h->dev, h->size, true);
		h->ck_acct = h->dev->acct; /* before the devices may change */
		if (h->ck_newfd < 0)
			rc = CUDA_ERROR_OUT_OF_MEMORY;
		else
			again[h->dev->ordinal] += h->size;
	}
	pthread_mutex_unlock(&vmm_lock);
	if (rc != CUDA_SUCCESS)
		sim_vmm_ckpt_restore_cancel();
	return rc;
}

void sim_vmm_ckpt_restore_cancel(void)
{
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_handle *h = handles; h; h = h->next)
		if (h->ck_newfd >= 0) {
			close(h->ck_newfd);
			h->ck_newfd = -1;
		}
	pthread_mutex_unlock(&vmm_lock);
}

void sim_vmm_ckpt_restore(void)
{
	pthread_mutex_lock(&vmm_lock);
	for (struct vmm_handle *h = handles; h; h = h->next) {
		if (h->ck_newfd < 0)
			continue;
		/* the original stays with its other holders, charged where it
		 * was made as memory this process let go of; the handle owns
		 * the copy */
		if (linger_add(h, h->ck_acct) < 0) {
			close(h->fd);
			gv_acct_uncharge(h->ck_acct, h->size);
		}
		h->fd = h->ck_newfd;
		h->ck_newfd = -1;
		for (struct vmm_map *m = maps; m; m = m->next)
			if (m->h == h)
				mmap((void *)m->start, m->size, PROT_NONE, MAP_SHARED | MAP_FIXED,
				     h->fd, h->data_off);
	}
	for (struct vmm_handle *h = handles; h; h = h->next) {
		if (!h->saved)
			continue;
		/* a memfd hole is refilled by the write: it cannot fail for want
		 * of device memory, only of host memory (then the pages read 0) */
		if (fd_write_all(h->fd, h->data_off, h->saved, h->size) < 0)
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

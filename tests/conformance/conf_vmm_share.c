/* Exportable VMM memory: cuMemCreate with requestedHandleTypes =
 * CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, cuMemExportToShareableHandle,
 * cuMemImportFromShareableHandle (here into the exporting process itself:
 * the cross-process cases are tests/sim/test_vmm_share.c), and how long the
 * memory lives ("Once all shareable handles are closed and the allocation
 * is released, the allocated memory referenced will be released").
 * cuMemGetInfo comparisons leave 1% of slack for what a real driver
 * allocates on its own, as vmm_memgetinfo does. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

#define N_MAPPINGS 32 /* allocations of this many granules: well above the slack */

static CUmemAllocationProp sprop(bool exportable)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = (int)conf.dev;
	if (exportable)
		p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return p;
}

static size_t sgran(void)
{
	CUmemAllocationProp p = sprop(true);
	size_t g = 0;

	cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM);
	return g;
}

static void *fd_arg(int fd)
{
	return (void *)(uintptr_t)fd;
}

/* Reserves and maps n bytes of h read-write: the address, or 0. */
static CUdeviceptr map_rw(CUmemGenericAllocationHandle h, size_t n)
{
	CUmemAccessDesc d;
	CUdeviceptr va = 0;

	memset(&d, 0, sizeof(d));
	d.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	d.location.id = (int)conf.dev;
	d.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	if (cuMemAddressReserve(&va, n, 0, 0, 0) != CUDA_SUCCESS)
		return 0;
	if (cuMemMap(va, n, 0, h, 0) != CUDA_SUCCESS ||
	    cuMemSetAccess(va, n, &d, 1) != CUDA_SUCCESS) {
		cuMemUnmap(va, n);
		cuMemAddressFree(va, n);
		return 0;
	}
	return va;
}

static void unmap(CUdeviceptr va, size_t n)
{
	cuMemUnmap(va, n);
	cuMemAddressFree(va, n);
}

static size_t free_now(void)
{
	size_t f = 0, t;

	cuMemGetInfo(&f, &t);
	return f;
}

CASE(vmm_share_attr_posix_fd,
     "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED: \"Device supports exporting memory to a posix file descriptor with cuMemExportToShareableHandle, if requested via cuMemCreate\" (1 on Linux)")
{
	int v = -1;

	OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
				conf.dev));
	EXPECT(v == 1);
}

CASE(vmm_share_roundtrip,
     "cuMemExportToShareableHandle + cuMemImportFromShareableHandle: the imported handle maps the same memory (a write through either mapping is read through the other)")
{
	CUmemAllocationProp p = sprop(true);
	CUmemGenericAllocationHandle h, h2;
	CUdeviceptr a, b;
	size_t g = sgran();
	unsigned v[4] = { 7, 8, 9, 10 }, r[4] = { 0 };
	int fd = -1;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	EXPECT(fd >= 0);
	OK(cuMemImportFromShareableHandle(&h2, fd_arg(fd),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	a = map_rw(h, g);
	b = map_rw(h2, g);
	REQUIRE(a && b && a != b);
	OK(cuMemcpyHtoD(a, v, sizeof(v)));
	OK(cuMemcpyDtoH(r, b, sizeof(r)));
	EXPECT(!memcmp(r, v, sizeof(v)));
	OK(cuMemsetD32(b + 4, 0x55, 1));
	OK(cuMemcpyDtoH(r, a, sizeof(r)));
	EXPECT(r[0] == 7 && r[1] == 0x55 && r[2] == 9);
	unmap(a, g);
	unmap(b, g);
	OK(cuMemRelease(h2));
	OK(cuMemRelease(h));
	close(fd);
}

CASE(vmm_share_import_props,
     "cuMemGetAllocationPropertiesFromHandle on an imported handle: a pinned allocation on the exporting device that allows POSIX fd export")
{
	CUmemAllocationProp p = sprop(true), q;
	CUmemGenericAllocationHandle h, h2;
	size_t g = sgran();
	int fd = -1;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	OK(cuMemImportFromShareableHandle(&h2, fd_arg(fd),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	memset(&q, 0, sizeof(q));
	OK(cuMemGetAllocationPropertiesFromHandle(&q, h2));
	EXPECT(q.type == CU_MEM_ALLOCATION_TYPE_PINNED);
	EXPECT(q.location.type == CU_MEM_LOCATION_TYPE_DEVICE && q.location.id == (int)conf.dev);
	EXPECT(q.requestedHandleTypes & CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	OK(cuMemRelease(h2));
	OK(cuMemRelease(h));
	close(fd);
}

CASE(vmm_share_charged_once,
     "an imported and mapped allocation is the same memory: cuMemGetInfo's free drops once, by its size, not again per import or mapping")
{
	CUmemAllocationProp p = sprop(true);
	CUmemGenericAllocationHandle h, h2;
	CUdeviceptr a, b;
	size_t g = sgran(), n = N_MAPPINGS * g, f0, f1, f2, f3;
	int fd = -1;

	f0 = free_now();
	OK(cuMemCreate(&h, n, &p, 0));
	f1 = free_now();
	EXPECT(f1 + n <= f0 + f0 / 100);
	OK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	OK(cuMemImportFromShareableHandle(&h2, fd_arg(fd),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	a = map_rw(h, n);
	b = map_rw(h2, n);
	REQUIRE(a && b);
	f2 = free_now();
	if (!EXPECT(f2 + n / 2 > f1))
		conf_note("free %zu after create, %zu after import and two mappings", f1, f2);
	unmap(a, n);
	unmap(b, n);
	OK(cuMemRelease(h2));
	OK(cuMemRelease(h));
	close(fd);
	f3 = free_now();
	EXPECT(f3 >= f1 + n - g);
}

CASE(vmm_share_fd_keeps_memory,
     "\"Once all shareable handles are closed and the allocation is released, the allocated memory referenced will be released\": released with its fd open, the memory stays (and imports with its contents); closing the fd frees it")
{
	CUmemAllocationProp p = sprop(true);
	CUmemGenericAllocationHandle h, h2;
	CUdeviceptr a;
	size_t g = sgran(), n = N_MAPPINGS * g, f0, f1, f2;
	unsigned v = 0x12345678, r = 0;
	int fd = -1;

	f0 = free_now();
	OK(cuMemCreate(&h, n, &p, 0));
	a = map_rw(h, n);
	REQUIRE(a);
	OK(cuMemcpyHtoD(a + n - 64, &v, sizeof(v)));
	OK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	unmap(a, n);
	OK(cuMemRelease(h));
	f1 = free_now();
	if (!EXPECT(f1 + n <= f0 + f0 / 100))
		conf_note("free %zu before, %zu released with the fd open", f0, f1);
	OK(cuMemImportFromShareableHandle(&h2, fd_arg(fd),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	a = map_rw(h2, n);
	REQUIRE(a);
	OK(cuMemcpyDtoH(&r, a + n - 64, sizeof(r)));
	EXPECT(r == v);
	unmap(a, n);
	OK(cuMemRelease(h2));
	close(fd);
	f2 = free_now();
	EXPECT(f2 >= f1 + n - g);
}

CASE(vmm_share_export_twice,
     "cuMemExportToShareableHandle: every call gives a descriptor of its own; each imports the allocation")
{
	CUmemAllocationProp p = sprop(true);
	CUmemGenericAllocationHandle h, h2, h3;
	size_t g = sgran();
	int fd1 = -1, fd2 = -1;

	OK(cuMemCreate(&h, g, &p, 0));
	OK(cuMemExportToShareableHandle(&fd1, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	OK(cuMemExportToShareableHandle(&fd2, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	EXPECT(fd1 >= 0 && fd2 >= 0 && fd1 != fd2);
	OK(cuMemImportFromShareableHandle(&h2, fd_arg(fd1),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	OK(cuMemImportFromShareableHandle(&h3, fd_arg(fd2),
					  CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	OK(cuMemRelease(h3));
	OK(cuMemRelease(h2));
	OK(cuMemRelease(h));
	close(fd1);
	close(fd2);
}

CASE(vmm_share_export_not_requested,
     "cuMemExportToShareableHandle: a handle type not requested at cuMemCreate cannot be exported (CUDA_ERROR_INVALID_VALUE)")
{
	CUmemAllocationProp p = sprop(false);
	CUmemGenericAllocationHandle h;
	int fd = -1;

	OK(cuMemCreate(&h, sgran(), &p, 0));
	EXPECT_RC(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0),
		  CUDA_ERROR_INVALID_VALUE);
	OK(cuMemRelease(h));
}

CASE(vmm_share_export_flags,
     "cuMemExportToShareableHandle: \"flags - Reserved, must be zero\" (CUDA_ERROR_INVALID_VALUE otherwise)")
{
	CUmemAllocationProp p = sprop(true);
	CUmemGenericAllocationHandle h;
	int fd = -1;

	OK(cuMemCreate(&h, sgran(), &p, 0));
	EXPECT_RC(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 1),
		  CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(
		cuMemExportToShareableHandle(NULL, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0),
		CUDA_ERROR_INVALID_VALUE);
	OK(cuMemRelease(h));
}

CASE(vmm_share_import_bad_fd,
     "cuMemImportFromShareableHandle: a descriptor that is not open, or open on something that is no exported allocation, imports nothing (an error, not CUDA_SUCCESS)")
{
	CUmemGenericAllocationHandle h = 0;
	int pfd[2] = { -1, -1 }, mfd;
	CUresult r;

	r = cuMemImportFromShareableHandle(&h, fd_arg(1000000),
					   CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	if (!EXPECT(r != CUDA_SUCCESS))
		cuMemRelease(h);
	REQUIRE(pipe(pfd) == 0);
	r = cuMemImportFromShareableHandle(&h, fd_arg(pfd[0]),
					   CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	if (!EXPECT(r != CUDA_SUCCESS))
		cuMemRelease(h);
	close(pfd[0]);
	close(pfd[1]);
	/* a file of the right kind and size, but no driver allocation */
	mfd = memfd_create("not-an-export", MFD_CLOEXEC);
	REQUIRE(mfd >= 0);
	REQUIRE(ftruncate(mfd, (off_t)(sgran() + 4096)) == 0);
	r = cuMemImportFromShareableHandle(&h, fd_arg(mfd),
					   CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	if (!EXPECT(r != CUDA_SUCCESS))
		cuMemRelease(h);
	close(mfd);
}

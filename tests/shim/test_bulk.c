/* Bulk memory (src/shim/bulk.c): cuMemAlloc of GPUVISOR_BULK_MIN bytes and
 * more is exportable VMM memory, while the workload sees cuMemAlloc.
 *
 *   test_shim_bulk        (default threshold, 2 MiB) a large allocation is
 *                         VMM-backed with the POSIX fd handle type, another
 *                         process imports its export (an inherited fd) and
 *                         reads the same bytes; 2 MiB - 1 is plain memory; the charge is the
 *                         bytes asked for; cuMemGetAddressRange and the
 *                         range/context attributes give the allocation, an
 *                         address in the rounding is none; cuMemFree,
 *                         cuMemFreeAsync and cuCtxDestroy give the device
 *                         memory and the charge back; a process with bulk
 *                         is checkpointed (its device memory freed) and
 *                         restored by another, its bulk intact.
 *                         The same without an accounting file (a
 *                         passthrough instance has none): nothing charged,
 *                         the same bulk. A primary context's release frees
 *                         the bulk made in it.
 *   test_shim_bulk off    (GPUVISOR_BULK_MIN=0, or GPUVISOR_INSTANCE unset:
 *                         not run by gpuvisor) no allocation is bulk.
 * Run with GPUVISOR_INSTANCE set, as gpuvisor does.
 */
#include "shim_test.h"

#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MIB (1ull << 20)
#define BIG (5 * MIB + 3) /* not a multiple of the granularity */

/* With an accounting file (timeslice) the bulk is charged; without one
 * (passthrough) nothing is. */
static bool has_acct;
#define CHG(x) (has_acct ? (uint64_t)(x) : 0)

static uint64_t used(void)
{
	return has_acct ? gvt_used() : 0;
}

static uint64_t real_dev_used(void)
{
	CUresult (*info)(size_t *, size_t *) = gvt_real("cuMemGetInfo_v2");
	size_t f = 0, t = 0;

	CHECK_OK(info(&f, &t));
	return t - f;
}

static bool is_vmm(CUdeviceptr p)
{
	CUmemGenericAllocationHandle h;
	CUmemAllocationProp prop;

	if (cuMemRetainAllocationHandle(&h, (void *)(uintptr_t)p) != CUDA_SUCCESS)
		return false;
	memset(&prop, 0, sizeof(prop));
	CHECK_OK(cuMemGetAllocationPropertiesFromHandle(&prop, h));
	CHECK(prop.requestedHandleTypes & CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
	CHECK_OK(cuMemRelease(h));
	return true;
}

/* A checksum that fits the test helpers' number lines (below 2^63). */
static uint64_t sum_of(const unsigned char *b, size_t n)
{
	uint64_t s = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		s = (s ^ b[i]) * 1099511628211ull;
	return s >> 1;
}

static void fill(CUdeviceptr p, size_t n, unsigned seed)
{
	unsigned char *h = malloc(n);

	CHECK(h);
	for (size_t i = 0; i < n; i++)
		h[i] = (unsigned char)(i * 31 + seed + i / 4096);
	CHECK_OK(cuMemcpyHtoD(p, h, n));
	free(h);
}

static uint64_t dev_sum(CUdeviceptr p, size_t n)
{
	unsigned char *h = malloc(n);
	uint64_t s;

	CHECK(h);
	CHECK_OK(cuMemcpyDtoH(h, p, n));
	s = sum_of(h, n);
	free(h);
	return s;
}

/* Another process: imports the descriptor fd it inherited (the same open
 * file, as SCM_RIGHTS would pass it), maps it and prints the checksum of
 * its first n bytes. */
static int importer(const char *fd, size_t n)
{
	CUmemAllocationProp prop;
	CUmemGenericAllocationHandle h;
	CUmemAccessDesc acc = { .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0 },
				.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUdeviceptr va;
	size_t gran = 0, rs;
	int f = atoi(fd);

	gvt_ctx();
	CHECK(fcntl(f, F_GETFD) >= 0);
	CHECK_OK(cuMemImportFromShareableHandle(&h, (void *)(uintptr_t)f,
						CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	close(f); /* the import holds the memory, not the descriptor */
	memset(&prop, 0, sizeof(prop));
	CHECK_OK(cuMemGetAllocationPropertiesFromHandle(&prop, h));
	CHECK_OK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	rs = (n + gran - 1) / gran * gran;
	CHECK_OK(cuMemAddressReserve(&va, rs, gran, 0, 0));
	CHECK_OK(cuMemMap(va, rs, 0, h, 0));
	CHECK_OK(cuMemSetAccess(va, rs, &acc, 1));
	printf("%llu\n", (unsigned long long)dev_sum(va, n));
	CHECK_OK(cuMemUnmap(va, rs));
	CHECK_OK(cuMemRelease(h));
	CHECK_OK(cuMemAddressFree(va, rs));
	return 0;
}

/* The checkpoint target: bulk with a pattern, then waits for the
 * controller (a byte on fd go) and checks the bulk is intact. */
static int target(const char *go)
{
	CUdeviceptr p;
	uint64_t before, used0;
	char c;

	gvt_ctx();
	used0 = used();
	CHECK_OK(cuMemAlloc(&p, BIG));
	CHECK(is_vmm(p));
	fill(p, BIG, 7);
	before = dev_sum(p, BIG);
	printf("%llu\n", (unsigned long long)BIG);
	fflush(stdout);
	CHECK(read(atoi(go), &c, 1) == 1);
	CHECK_EQ_U64(dev_sum(p, BIG), before);
	fill(p, BIG, 8); /* still mapped read-write after the restore */
	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(used(), used0);
	printf("1\n");
	return 0;
}

static void checkpoint_case(char *self)
{
	CUresult (*lock)(int, CUcheckpointLockArgs *) = gvt_real("cuCheckpointProcessLock");
	CUresult (*ckpt)(int, CUcheckpointCheckpointArgs *) =
		gvt_real("cuCheckpointProcessCheckpoint");
	CUresult (*restore)(int, CUcheckpointRestoreArgs *) =
		gvt_real("cuCheckpointProcessRestore");
	CUresult (*unlock)(int, CUcheckpointUnlockArgs *) = gvt_real("cuCheckpointProcessUnlock");
	uint64_t used_before, charged;
	char gofd[16];
	int go[2], rd;
	pid_t pid;

	CHECK(pipe(go) == 0); /* inherited by the target across exec */
	snprintf(gofd, sizeof(gofd), "%d", go[0]);
	used_before = real_dev_used();
	pid = gvt_spawn((char *[]){ self, (char[]){ "target" }, gofd, NULL }, NULL, &rd);
	close(go[0]);
	CHECK_EQ_U64(gvt_read_u64(rd), BIG);
	charged = used();
	CHECK(charged >= CHG(BIG));
	CHECK(real_dev_used() >= used_before + BIG);
	CHECK_OK(lock(pid, NULL));
	CHECK_OK(ckpt(pid, NULL));
	/* checkpointed: all of its device memory, the bulk included, is free;
	 * its partition's charge stays (the accounting file is left alone) */
	CHECK_EQ_U64(real_dev_used(), used_before);
	CHECK_EQ_U64(used(), charged);
	CHECK_OK(restore(pid, NULL));
	CHECK_OK(unlock(pid, NULL));
	CHECK(real_dev_used() >= used_before + BIG);
	CHECK(write(go[1], "g", 1) == 1);
	CHECK_EQ_U64(gvt_read_u64(rd), 1);
	CHECK_EQ_U64(gvt_wait(pid), 0);
	close(go[1]);
	close(rd);
}

static void export_case(char *self, CUdeviceptr p)
{
	CUmemGenericAllocationHandle h;
	char fdbuf[16], nbuf[24];
	int fd = -1, inherit, rd;
	pid_t pid;

	CHECK_OK(cuMemRetainAllocationHandle(&h, (void *)(uintptr_t)p));
	CHECK_OK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
	CHECK_OK(cuMemRelease(h));
	inherit = fcntl(fd, F_DUPFD, 3); /* without close-on-exec */
	CHECK(inherit >= 0);
	close(fd);
	snprintf(fdbuf, sizeof(fdbuf), "%d", inherit);
	snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)BIG);
	pid = gvt_spawn((char *[]){ self, (char[]){ "import" }, fdbuf, nbuf, NULL }, NULL, &rd);
	close(inherit);
	CHECK_EQ_U64(gvt_read_u64(rd), dev_sum(p, BIG));
	CHECK_EQ_U64(gvt_wait(pid), 0);
	close(rd);
}

static void ranges_case(CUcontext ctx, CUdeviceptr p)
{
	CUpointer_attribute at[3] = { CU_POINTER_ATTRIBUTE_RANGE_START_ADDR,
				      CU_POINTER_ATTRIBUTE_RANGE_SIZE,
				      CU_POINTER_ATTRIBUTE_CONTEXT };
	CUdeviceptr base = 0, b2 = 0;
	size_t size = 0, s2 = 0;
	CUcontext c = NULL, c2 = NULL;
	unsigned mt = 0;
	void *data[3] = { &b2, &s2, &c2 };

	CHECK_OK(cuMemGetAddressRange(&base, &size, p + 4097));
	CHECK_EQ_U64(base, p);
	CHECK_EQ_U64(size, BIG);
	CHECK_OK(cuMemGetAddressRange(&base, &size, p + BIG - 1));
	CHECK_EQ_U64(base, p);
	/* past the bytes asked for, inside the granularity's rounding */
	CHECK_CU(cuMemGetAddressRange(&base, &size, p + BIG), CUDA_ERROR_NOT_FOUND);
	CHECK_OK(cuPointerGetAttribute(&base, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, p + 10));
	CHECK_EQ_U64(base, p);
	CHECK_OK(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, p + 10));
	CHECK_EQ_U64(size, BIG);
	CHECK_OK(cuPointerGetAttribute(&c, CU_POINTER_ATTRIBUTE_CONTEXT, p));
	CHECK(c == ctx);
	CHECK_OK(cuPointerGetAttribute(&mt, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p));
	CHECK_EQ_U64(mt, CU_MEMORYTYPE_DEVICE);
	CHECK_OK(cuPointerGetAttributes(3, at, data, p + 1));
	CHECK_EQ_U64(b2, p);
	CHECK_EQ_U64(s2, BIG);
	CHECK(c2 == ctx);
}

static int bulk_on(char *self)
{
	CUcontext ctx = gvt_ctx(), ctx2;
	CUdeviceptr p, small, edge, q;
	CUstream st;
	uint64_t dev0, used0;

	used0 = used();
	dev0 = real_dev_used();
	CHECK_OK(cuMemAlloc(&p, BIG));
	CHECK(is_vmm(p));
	CHECK_EQ_U64(used(), used0 + CHG(BIG));
	CHECK(real_dev_used() >= dev0 + BIG);
	CHECK_OK(cuMemAlloc(&small, 2 * MIB - 1));
	CHECK(!is_vmm(small));
	CHECK_OK(cuMemAlloc(&edge, 2 * MIB));
	CHECK(is_vmm(edge));
	CHECK_EQ_U64(used(), used0 + CHG(BIG + 4 * MIB - 1));
	fill(p, BIG, 3);
	CHECK_OK(cuMemsetD8(p + MIB, 0xab, 100));
	ranges_case(ctx, p);
	export_case(self, p);
	CHECK_OK(cuMemFree(edge));
	CHECK_OK(cuMemFree(small));
	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(used(), used0);
	CHECK_EQ_U64(real_dev_used(), dev0);
	/* a bulk base freed twice: the driver's answer for a freed pointer */
	CHECK(cuMemFree(p) != CUDA_SUCCESS);
	CHECK_EQ_U64(used(), used0);

	/* a stream-ordered free */
	CHECK_OK(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));
	CHECK_OK(cuMemAlloc(&q, BIG));
	CHECK_OK(cuMemsetD8Async(q, 1, BIG, st));
	CHECK_OK(cuMemFreeAsync(q, st));
	CHECK_OK(cuStreamSynchronize(st));
	CHECK_OK(cuStreamDestroy(st));
	CHECK_EQ_U64(used(), used0);
	CHECK_EQ_U64(real_dev_used(), dev0);

	/* the bulk ends with its context, as linear memory does */
	CHECK_OK(cuCtxCreate(&ctx2, NULL, 0, 0));
	CHECK_OK(cuMemAlloc(&q, BIG));
	CHECK(is_vmm(q));
	CHECK_OK(cuCtxDestroy(ctx2));
	CHECK_OK(cuCtxSetCurrent(ctx));
	CHECK_EQ_U64(used(), used0);
	CHECK_EQ_U64(real_dev_used(), dev0);
	CHECK_CU(cuMemGetAddressRange(&p, NULL, q + 1), CUDA_ERROR_NOT_FOUND);

	/* and with its primary context's last release */
	{
		CUcontext pc;

		CHECK_OK(cuDevicePrimaryCtxRetain(&pc, 0));
		CHECK_OK(cuCtxSetCurrent(pc));
		CHECK_OK(cuMemAlloc(&q, BIG));
		CHECK(is_vmm(q));
		CHECK_OK(cuCtxSetCurrent(ctx));
		CHECK_OK(cuDevicePrimaryCtxRelease(0));
		CHECK_EQ_U64(used(), used0);
		CHECK_EQ_U64(real_dev_used(), dev0);
		CHECK_CU(cuMemGetAddressRange(&p, NULL, q + 1), CUDA_ERROR_NOT_FOUND);
	}

	checkpoint_case(self);
	printf("bulk: ok\n");
	return 0;
}

static int bulk_off(void)
{
	CUdeviceptr p;
	uint64_t used0;

	gvt_ctx();
	used0 = used();
	CHECK_OK(cuMemAlloc(&p, BIG));
	CHECK(!is_vmm(p));
	CHECK_EQ_U64(used(), used0 + CHG(BIG));
	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(used(), used0);
	printf("bulk off: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	has_acct = getenv("GPUVISOR_ACCT") != NULL;
	if (argc > 3 && !strcmp(argv[1], "import"))
		return importer(argv[2], strtoull(argv[3], NULL, 10));
	if (argc > 2 && !strcmp(argv[1], "target"))
		return target(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "off"))
		return bulk_off();
	if (argc > 1 && !strcmp(argv[1], "on"))
		return bulk_on(argv[0]);
	fprintf(stderr, "usage: %s on|off\n", argv[0]);
	return 2;
}

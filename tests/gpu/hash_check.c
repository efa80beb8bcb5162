/* hash-check [MIB]: the chunk-hash kernel on a real GPU (tests/gpu/run).
 *
 * 1. Correctness: random device memory hashed by the kernel (hashk.h) for
 *    several chunk sizes and range lengths (short last chunks, chunks of
 *    240 bytes or less, which go through the host) must equal
 *    gv_chunkhash_range over a host copy, chunk for chunk.
 * 2. Throughput over MIB MiB (default 4096, at least 64) in 2 MiB chunks:
 *    the kernel (in one call, and in calls of 32 chunks as the engine's
 *    copies make them), a device-to-device copy of the same bytes, and the
 *    CPU path the
 *    simulator uses (device -> host staging, XXH3 on the CPU), in GB/s,
 *    with their ratios. Prints what it measured; exits 1 on a mismatch,
 *    77 where the kernel cannot load (no nvcc at build time, or the
 *    simulator), 2 on a driver failure.
 *
 * It calls the driver it is linked against (libcuda.so.1: the real one on
 * a GPU machine, the build's lib/ has none on the default path).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda.h>

#include "gpuvisor/chunkhash.h"
#include "hashk.h"

#define CHUNK (2ull << 20)
#define REPS 5

#define CK(call)                                                                                   \
	do {                                                                                       \
		CUresult r_ = (call);                                                              \
		if (r_ != CUDA_SUCCESS) {                                                          \
			fprintf(stderr, "hash-check: %s failed: CUDA error %d\n", #call, (int)r_); \
			exit(2);                                                                   \
		}                                                                                  \
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* Every chunk of [dev, dev + len) in chunk_size chunks: kernel vs CPU. */
static int compare(struct gv_hashk *k, CUstream s, CUdeviceptr dev, const uint8_t *host,
		   uint64_t len, uint64_t cs)
{
	uint64_t n = gv_chunkhash_count(len, cs);
	struct gv_chunk_hash *g = calloc(n, sizeof(*g)), *c = calloc(n, sizeof(*c));
	struct gv_err err = { 0 };
	int bad = 0, rc;

	if (!g || !c) {
		fprintf(stderr, "hash-check: out of memory\n");
		exit(2);
	}
	rc = gv_hashk_range(k, s, dev, len, cs, 0, n, g, &err);
	if (rc) {
		printf("FAIL len %llu chunk %llu: %s\n", (unsigned long long)len,
		       (unsigned long long)cs, err.msg);
		bad = 1;
		goto out;
	}
	if (gv_chunkhash_range(host, len, cs, 0, n, c, &err) != 0) {
		fprintf(stderr, "hash-check: %s\n", err.msg);
		exit(2);
	}
	for (uint64_t i = 0; i < n; i++)
		if (!gv_chunkhash_equal(&g[i], &c[i])) {
			if (!bad)
				printf("FAIL len %llu chunk %llu: chunk %llu kernel %016llx%016llx "
				       "cpu %016llx%016llx\n",
				       (unsigned long long)len, (unsigned long long)cs,
				       (unsigned long long)i, (unsigned long long)g[i].hi,
				       (unsigned long long)g[i].lo, (unsigned long long)c[i].hi,
				       (unsigned long long)c[i].lo);
			bad++;
		}
	if (!bad)
		printf("ok   len %10llu chunk %8llu: %llu chunks equal\n", (unsigned long long)len,
		       (unsigned long long)cs, (unsigned long long)n);
out:
	free(g);
	free(c);
	return bad != 0;
}

int main(int argc, char **argv)
{
	static const uint64_t sizes[][2] = {
		{ 64ull << 20, CHUNK },
		{ (64ull << 20) - 1000, CHUNK },
		{ (64ull << 20) + 200, CHUNK },
		{ 64ull << 20, 64 << 10 },
		{ (16ull << 20) + 8, 1 << 20 },
		{ 1 << 20, 4104 },
		{ 100000, 232 },
		{ 1000, 1000 },
		{ 241, 1 << 20 },
		/* more chunks than one launch takes: the output buffer reused */
		{ 64ull << 20, 4104 },
		/* 64 full blocks and a tail slot alone in the next segment */
		{ 65600, 1 << 20 },
		{ 66560, 1 << 20 },
	};
	const struct gv_hashk_drv drv = {
		.module_load_data = cuModuleLoadData,
		.module_get_function = cuModuleGetFunction,
		.module_unload = cuModuleUnload,
		.launch_kernel = cuLaunchKernel,
		.mem_alloc = cuMemAlloc,
		.mem_free = cuMemFree,
		.memcpy_dtoh_async = cuMemcpyDtoHAsync,
		.stream_synchronize = cuStreamSynchronize,
	};
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 4096;
	uint64_t big, nchunks, cpu_len;
	const uint64_t cmp_len = (64ull << 20) + 200;
	struct gv_chunk_hash *hs;
	struct gv_hashk *k = NULL;
	struct gv_err err = { 0 };
	CUdeviceptr a, b, cmp;
	CUcontext ctx;
	CUstream s;
	CUdevice dev;
	char name[128];
	uint8_t *host;
	double t, kern_s = 1e30, small_s = 1e30, copy_s = 1e30, cpu_s;
	int fail = 0;

	if (mib < 64) {
		fprintf(stderr, "usage: hash-check [MIB >= 64]\n");
		return 2;
	}
	big = mib << 20;
	nchunks = gv_chunkhash_count(big, CHUNK);
	cpu_len = big < (512ull << 20) ? big : 512ull << 20;

	CK(cuInit(0));
	CK(cuDeviceGet(&dev, 0));
	CK(cuDeviceGetName(name, sizeof(name), dev));
	CK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CK(cuCtxSetCurrent(ctx));
	CK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	printf("device: %s\n", name);
	if (gv_hashk_new(&drv, &k, &err) != 0) {
		printf("hash kernel unavailable here: %s\n", err.msg);
		return err.code == ENOTSUP ? 77 : 2;
	}

	host = malloc(cmp_len > cpu_len ? cmp_len : cpu_len);
	if (!host) {
		fprintf(stderr, "hash-check: out of memory\n");
		return 2;
	}
	fill_random(host, cmp_len, 42);
	CK(cuMemAlloc(&cmp, cmp_len));
	CK(cuMemcpyHtoD(cmp, host, cmp_len));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		fail |= compare(k, s, cmp, host, sizes[i][0], sizes[i][1]);
	/* a base 8-byte but not 256-byte aligned */
	fail |= compare(k, s, cmp + 8, host + 8, 16ull << 20, CHUNK);
	/* unaligned chunks are refused, so that the caller hashes them on the CPU */
	if (gv_hashk_range(k, s, cmp + 4, 1 << 20, CHUNK, 0, 1, NULL, &err) != -ENOTSUP) {
		printf("FAIL: an unaligned range was not refused\n");
		fail = 1;
	}
	CK(cuMemFree(cmp));

	hs = calloc(nchunks, sizeof(*hs));
	if (!hs) {
		fprintf(stderr, "hash-check: out of memory\n");
		return 2;
	}
	CK(cuMemAlloc(&a, big));
	CK(cuMemAlloc(&b, big));
	CK(cuMemsetD32(a, 0x5eed1234u, big / 4));
	CK(cuCtxSynchronize());
	for (int r = 0; r <= REPS; r++) { /* the first run warms up */
		t = now_s();
		if (gv_hashk_range(k, s, a, big, CHUNK, 0, nchunks, hs, &err) != 0) {
			printf("FAIL: %s\n", err.msg);
			return 1;
		}
		t = now_s() - t;
		if (r && t < kern_s)
			kern_s = t;
		/* the engine's copy calls: 32 chunks at a time */
		t = now_s();
		for (uint64_t c = 0; c < nchunks; c += 32)
			if (gv_hashk_range(k, s, a, big, CHUNK, c,
					   nchunks - c < 32 ? nchunks - c : 32, hs + c,
					   &err) != 0) {
				printf("FAIL: %s\n", err.msg);
				return 1;
			}
		t = now_s() - t;
		if (r && t < small_s)
			small_s = t;
		t = now_s();
		CK(cuMemcpyDtoDAsync(b, a, big, s));
		CK(cuStreamSynchronize(s));
		t = now_s() - t;
		if (r && t < copy_s)
			copy_s = t;
	}
	/* the CPU path: stage each chunk to the host, hash there */
	t = now_s();
	for (uint64_t off = 0; off < cpu_len; off += CHUNK) {
		CK(cuMemcpyDtoHAsync(host, a + off, CHUNK, s));
		CK(cuStreamSynchronize(s));
		hs[off / CHUNK] = gv_chunkhash_one(host, CHUNK);
	}
	cpu_s = now_s() - t;

	printf("hash kernel:   %7.1f GB/s (%llu MiB in 2 MiB chunks, best of %d)\n",
	       (double)big / kern_s / 1e9, (unsigned long long)mib, REPS);
	printf("hash kernel:   %7.1f GB/s (the same in calls of 32 chunks, as copies hash)\n",
	       (double)big / small_s / 1e9);
	printf("device copy:   %7.1f GB/s (cuMemcpyDtoD of the same bytes)\n",
	       (double)big / copy_s / 1e9);
	printf("CPU via host:  %7.1f GB/s (the simulator's path, over %llu MiB)\n",
	       (double)cpu_len / cpu_s / 1e9, (unsigned long long)(cpu_len >> 20));
	printf("ratios: kernel/copy %.2f, kernel/CPU %.1f\n", copy_s / kern_s,
	       cpu_s * (double)big / (double)cpu_len / kern_s);
	CK(cuMemFree(a));
	CK(cuMemFree(b));
	gv_hashk_free(k);
	free(hs);
	free(host);
	printf("hash-check: %s\n", fail ? "FAIL" : "PASS");
	return fail;
}

/* The chunk-hash kernel (nvcc only; built into the shim as a fatbin).
 *
 * One block of GV_HASHK_THREADS threads per chunk. The chunk's 1 KiB
 * blocks ("slots": the scrambled ones, then the tail's whole stripes) are
 * taken a segment of GV_HASHK_SEG at a time: each warp sums whole slots
 * (4 coalesced 256-byte reads per slot, per-lane sums combined by
 * shuffles) into shared memory, then 8 threads run the lanes' sequential
 * add-and-scramble chains over the segment. Thread 0 adds the last stripe
 * and merges. hashk_xxh3.h has the arithmetic and why this order gives
 * XXH3_128bits' result exactly.
 */
#include "hashk_xxh3.h"

#define GV_HASHK_THREADS 256
#define GV_HASHK_WARPS (GV_HASHK_THREADS / GV_XXH3_WARP)
#define GV_HASHK_SEG 64

extern "C" __global__ void __launch_bounds__(GV_HASHK_THREADS)
	gv_hashk_chunks(struct gv_hashk_args a)
{
	__shared__ uint64_t sec[GV_XXH3_SECRET_WORDS];
	__shared__ uint64_t delta[GV_HASHK_SEG][8];
	__shared__ uint64_t acc[8];
	const unsigned tid = threadIdx.x, warp = tid / GV_XXH3_WARP, j = tid % GV_XXH3_WARP;
	const uint64_t off = (a.first + blockIdx.x) * a.chunk;
	const uint64_t len = a.len - off < a.chunk ? a.len - off : a.chunk;
	const uint64_t *p = (const uint64_t *)(a.base + off);
	const uint64_t full = gv_xxh3_full_blocks(len);
	const unsigned tail_words = gv_xxh3_tail_stripes(len) * 8;
	uint64_t keys[GV_XXH3_ROUNDS];

	if (tid < GV_XXH3_SECRET_WORDS)
		sec[tid] = a.secret[tid];
	if (tid == 0)
		gv_xxh3_init(acc);
	__syncthreads();
	gv_xxh3_keys(sec, j, keys);

	for (uint64_t seg = 0; seg <= full; seg += GV_HASHK_SEG) {
		const uint64_t end = seg + GV_HASHK_SEG < full + 1 ? seg + GV_HASHK_SEG : full + 1;

		/* b is the same for the whole warp: the shuffles see all 32 */
		for (uint64_t b = seg + warp; b < end; b += GV_HASHK_WARPS) {
			uint64_t prod, data;

			gv_xxh3_thread_block(p + b * GV_XXH3_BLOCK_WORDS, j,
					     b < full ? GV_XXH3_BLOCK_WORDS : tail_words, keys,
					     &prod, &data);
			prod += __shfl_xor_sync(0xffffffffu, prod, 8);
			prod += __shfl_xor_sync(0xffffffffu, prod, 16);
			data += __shfl_xor_sync(0xffffffffu, data, 8);
			data += __shfl_xor_sync(0xffffffffu, data, 16);
			/* lane l's words add to acc[l ^ 1] */
			data = __shfl_xor_sync(0xffffffffu, data, 1);
			if (j < 8)
				delta[b - seg][j] = prod + data;
		}
		__syncthreads();
		if (tid < 8) {
			uint64_t x = acc[tid];

			for (uint64_t b = seg; b < end; b++) {
				x += delta[b - seg][tid];
				if (b < full)
					x = gv_xxh3_scramble(x, sec[16 + tid]);
			}
			acc[tid] = x;
		}
		__syncthreads();
	}
	if (tid == 0) {
		uint64_t ac[8], lo, hi;

		for (unsigned i = 0; i < 8; i++)
			ac[i] = acc[i];
		gv_xxh3_finish(ac, (const uint8_t *)p + len - GV_XXH3_STRIPE, len,
			       (const uint8_t *)sec, &lo, &hi);
		((uint64_t *)a.out)[2 * blockIdx.x] = lo;
		((uint64_t *)a.out)[2 * blockIdx.x + 1] = hi;
	}
}

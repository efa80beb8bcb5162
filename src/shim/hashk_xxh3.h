/* XXH3-128 (seed 0, default secret) of inputs longer than 240 bytes, cut
 * into the pieces a GPU computes in parallel (docs/migration.md, "Hashing
 * on the GPU"). Host and device code (nvcc) share this header; the unit test
 * test_hashk_xxh3 runs the same pieces on the CPU in the kernel's thread
 * layout and compares with libxxhash's XXH3_128bits.
 *
 * Written from the published XXH3 algorithm (xxhash_spec). The long-input
 * hash keeps 8 64-bit accumulators. Input is consumed in 64-byte stripes;
 * 16 stripes form a 1 KiB block. Within a block every stripe only ADDS to
 * the accumulators (mod 2^64):
 *     lane i of stripe s:  v = word i, k = v ^ secret64[s + i]
 *                          acc[i ^ 1] += v;  acc[i] += lo32(k) * hi32(k)
 * so a block's contribution ("delta") can be summed in any order by many
 * threads. Between blocks each accumulator is scrambled on its own:
 *     acc[i] = (acc[i] ^ (acc[i] >> 47) ^ secret64[16 + i]) * PRIME32_1
 * which is a short sequential chain per lane. The blocks that get
 * scrambled are the (len - 1) / 1024 full ones; the rest (the last, maybe
 * partial, block's whole stripes; then the last 64 bytes of the input with
 * the secret at byte 121) is added without a scramble; two merges of the
 * accumulators give the low and high 64 bits.
 *
 * The secret (192 bytes) is passed in rather than written here: the host
 * takes libxxhash's own default secret, so the two cannot disagree.
 */
#ifndef GV_HASHK_XXH3_H
#define GV_HASHK_XXH3_H

#include <stdint.h>

#ifdef __CUDACC__
#define GV_HD __host__ __device__ __forceinline__
#else
#define GV_HD static inline
#endif

#define GV_XXH3_SECRET_LEN 192
#define GV_XXH3_SECRET_WORDS (GV_XXH3_SECRET_LEN / 8)
#define GV_XXH3_STRIPE 64
#define GV_XXH3_BLOCK 1024			/* 16 stripes */
#define GV_XXH3_BLOCK_WORDS (GV_XXH3_BLOCK / 8) /* 128 */
#define GV_XXH3_MIDSIZE_MAX 240			/* longer inputs take this path */
/* The kernel's layout: a warp of 32 threads reads a block as 4 rounds of 32
 * consecutive words; thread j always holds lane j % 8. */
#define GV_XXH3_WARP 32
#define GV_XXH3_ROUNDS (GV_XXH3_BLOCK_WORDS / GV_XXH3_WARP) /* 4 */

/* The kernel's one argument (hashk.cu), by value; pointers as integers so
 * that host C and device code agree on the layout. The grid has one block
 * per chunk: block i hashes chunk first + i of the range [base, base+len)
 * cut into chunk-byte chunks (each longer than 240 bytes, base and chunk
 * multiples of 8) and writes lo, hi to out[2i], out[2i+1]. */
struct gv_hashk_args {
	uint64_t base;
	uint64_t len;
	uint64_t chunk;
	uint64_t first;
	uint64_t out;
	uint64_t secret[GV_XXH3_SECRET_WORDS];
};

#define GV_XXH3_P32_1 0x9E3779B1u
#define GV_XXH3_P32_2 0x85EBCA77u
#define GV_XXH3_P32_3 0xC2B2AE3Du
#define GV_XXH3_P64_1 0x9E3779B185EBCA87ull
#define GV_XXH3_P64_2 0xC2B2AE3D27D4EB4Full
#define GV_XXH3_P64_3 0x165667B19E3779F9ull
#define GV_XXH3_P64_4 0x85EBCA77C2B2AE63ull
#define GV_XXH3_P64_5 0x27D4EB2F165667C5ull

/* Little-endian read at any alignment. */
GV_HD uint64_t gv_xxh3_rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

GV_HD uint64_t gv_xxh3_mul128_fold64(uint64_t a, uint64_t b)
{
#ifdef __CUDA_ARCH__
	return (a * b) ^ __umul64hi(a, b);
#else
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
#endif
}

GV_HD void gv_xxh3_init(uint64_t acc[8])
{
	acc[0] = GV_XXH3_P32_3;
	acc[1] = GV_XXH3_P64_1;
	acc[2] = GV_XXH3_P64_2;
	acc[3] = GV_XXH3_P64_3;
	acc[4] = GV_XXH3_P64_4;
	acc[5] = GV_XXH3_P32_2;
	acc[6] = GV_XXH3_P64_5;
	acc[7] = GV_XXH3_P32_1;
}

/* Number of blocks that are scrambled, and the whole stripes of the block
 * after them, for an input of len > 240 bytes. */
GV_HD uint64_t gv_xxh3_full_blocks(uint64_t len)
{
	return (len - 1) / GV_XXH3_BLOCK;
}

GV_HD unsigned gv_xxh3_tail_stripes(uint64_t len)
{
	return (unsigned)(((len - 1) - gv_xxh3_full_blocks(len) * GV_XXH3_BLOCK) / GV_XXH3_STRIPE);
}

/* Thread j's secret words for its 4 rounds: word w = r*32 + j is lane
 * j % 8 of stripe w / 8, keyed by secret64[stripe + lane]. */
GV_HD void gv_xxh3_keys(const uint64_t sec[GV_XXH3_SECRET_WORDS], unsigned j, uint64_t keys[4])
{
	for (unsigned r = 0; r < GV_XXH3_ROUNDS; r++)
		keys[r] = sec[(r * GV_XXH3_WARP + j) / 8 + j % 8];
}

/* Thread j's share of one block at blk (8-byte aligned), of which the first
 * nwords words count (128 for a full block, 8 per stripe for the tail):
 * *prod is what it adds to acc[j % 8], *data what it adds to acc[(j%8)^1]. */
GV_HD void gv_xxh3_thread_block(const uint64_t *blk, unsigned j, unsigned nwords,
				const uint64_t keys[4], uint64_t *prod, uint64_t *data)
{
	uint64_t p = 0, d = 0;

	for (unsigned r = 0; r < GV_XXH3_ROUNDS; r++) {
		unsigned w = r * GV_XXH3_WARP + j;

		if (w < nwords) {
			uint64_t v = blk[w], k = v ^ keys[r];

			d += v;
			p += (k & 0xFFFFFFFFull) * (k >> 32);
		}
	}
	*prod = p;
	*data = d;
}

GV_HD uint64_t gv_xxh3_scramble(uint64_t acc, uint64_t key)
{
	acc ^= acc >> 47;
	acc ^= key;
	return acc * GV_XXH3_P32_1;
}

GV_HD uint64_t gv_xxh3_avalanche(uint64_t h)
{
	h ^= h >> 37;
	h *= 0x165667919E3779F9ull;
	return h ^ (h >> 32);
}

GV_HD uint64_t gv_xxh3_merge(const uint64_t acc[8], const uint8_t *secret, uint64_t start)
{
	uint64_t r = start;

	for (unsigned i = 0; i < 4; i++)
		r += gv_xxh3_mul128_fold64(acc[2 * i] ^ gv_xxh3_rd64(secret + 16 * i),
					   acc[2 * i + 1] ^ gv_xxh3_rd64(secret + 16 * i + 8));
	return gv_xxh3_avalanche(r);
}

/* After every block's delta (and the scrambles): adds the last 64 bytes of
 * the input (last64 = input + len - 64, any alignment) and merges. */
GV_HD void gv_xxh3_finish(uint64_t acc[8], const uint8_t *last64, uint64_t len,
			  const uint8_t secret[GV_XXH3_SECRET_LEN], uint64_t *lo, uint64_t *hi)
{
	const uint8_t *key = secret + GV_XXH3_SECRET_LEN - GV_XXH3_STRIPE - 7;

	for (unsigned i = 0; i < 8; i++) {
		uint64_t v = gv_xxh3_rd64(last64 + 8 * i), k = v ^ gv_xxh3_rd64(key + 8 * i);

		acc[i ^ 1] += v;
		acc[i] += (k & 0xFFFFFFFFull) * (k >> 32);
	}
	*lo = gv_xxh3_merge(acc, secret + 11, len * GV_XXH3_P64_1);
	*hi = gv_xxh3_merge(acc, secret + GV_XXH3_SECRET_LEN - 64 - 11, ~(len * GV_XXH3_P64_2));
}

#endif

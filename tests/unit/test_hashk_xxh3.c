/* The GPU chunk hash's arithmetic, on the CPU: src/shim/hashk_xxh3.h's
 * pieces driven in exactly the kernel's layout (32 threads per block, their
 * per-lane sums combined as the warp shuffles combine them, 8 sequential
 * lane chains) must equal libxxhash's XXH3_128bits for every length the
 * kernel takes (> 240 bytes). What only the GPU can show (the shuffles,
 * shared memory, the launch) tests/gpu/hash-check shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hashk_xxh3.h"

/* The kernel, one CUDA block, serially: slot b < full is a scrambled block,
 * slot full is the tail's whole stripes (maybe none). */
static XXH128_hash_t emulate(const uint8_t *in, uint64_t len)
{
	uint64_t sec[GV_XXH3_SECRET_WORDS], acc[8];
	uint64_t full = gv_xxh3_full_blocks(len);
	unsigned tail = gv_xxh3_tail_stripes(len);
	XXH128_hash_t h;

	memcpy(sec, XXH3_kSecret, sizeof(sec));
	gv_xxh3_init(acc);
	for (uint64_t b = 0; b <= full; b++) {
		uint64_t prod[GV_XXH3_WARP], data[GV_XXH3_WARP], P[8] = { 0 }, D[8] = { 0 };
		unsigned nwords = b < full ? GV_XXH3_BLOCK_WORDS : tail * 8;

		for (unsigned j = 0; j < GV_XXH3_WARP; j++) {
			uint64_t keys[GV_XXH3_ROUNDS];

			gv_xxh3_keys(sec, j, keys);
			gv_xxh3_thread_block((const uint64_t *)(in + b * GV_XXH3_BLOCK), j, nwords,
					     keys, &prod[j], &data[j]);
		}
		/* the shuffles: xor 8 and 16 sum the 4 threads of a lane */
		for (unsigned j = 0; j < GV_XXH3_WARP; j++) {
			P[j % 8] += prod[j];
			D[j % 8] += data[j];
		}
		for (unsigned l = 0; l < 8; l++) {
			acc[l] += P[l] + D[l ^ 1];
			if (b < full)
				acc[l] = gv_xxh3_scramble(acc[l], sec[16 + l]);
		}
	}
	gv_xxh3_finish(acc, in + len - GV_XXH3_STRIPE, len, XXH3_kSecret, &h.low64, &h.high64);
	return h;
}

static uint8_t *random_buf(size_t len, unsigned seed)
{
	uint64_t *w = aligned_alloc(64, (len + 63) / 64 * 64);
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	assert_non_null(w);
	for (size_t i = 0; i < (len + 7) / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
	return (uint8_t *)w;
}

static void check(const uint8_t *in, uint64_t len)
{
	XXH128_hash_t want = XXH3_128bits(in, len), got = emulate(in, len);

	if (want.low64 != got.low64 || want.high64 != got.high64)
		fail_msg("length %llu: emulated %016llx%016llx, libxxhash %016llx%016llx",
			 (unsigned long long)len, (unsigned long long)got.high64,
			 (unsigned long long)got.low64, (unsigned long long)want.high64,
			 (unsigned long long)want.low64);
}

/* Every length from the first the kernel takes through three blocks: each
 * tail size, block boundaries and their neighbours. */
static void test_every_short_length(void **state)
{
	uint8_t *buf = random_buf(3 * GV_XXH3_BLOCK + 200, 1);

	(void)state;
	for (uint64_t len = GV_XXH3_MIDSIZE_MAX + 1; len <= 3 * GV_XXH3_BLOCK + 200; len++)
		check(buf, len);
	free(buf);
}

/* Chunk sizes the migration uses (64 KiB .. 2 MiB) and odd ones. */
static void test_chunk_lengths(void **state)
{
	static const uint64_t lens[] = { 64 << 10,	(64 << 10) + 8,	 1 << 20,
					 (1 << 20) - 8, (2 << 20) - 1,	 2 << 20,
					 (2 << 20) + 1, (2 << 20) + 4100 };
	uint8_t *buf = random_buf((2 << 20) + 4100, 2);

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		check(buf, lens[i]);
	free(buf);
}

/* Constant contents (zeros, ones) make the products degenerate. */
static void test_constant_contents(void **state)
{
	uint8_t *buf = random_buf(1 << 20, 3);

	(void)state;
	memset(buf, 0, 1 << 20);
	check(buf, 1 << 20);
	check(buf, 5000);
	memset(buf, 0xff, 1 << 20);
	check(buf, 1 << 20);
	check(buf, 777);
	free(buf);
}

/* The comparison has teeth: a flipped bit anywhere changes the emulation's
 * result, as it does libxxhash's. */
static void test_detects_change(void **state)
{
	const uint64_t len = 10000;
	uint8_t *buf = random_buf(len, 4);
	XXH128_hash_t a = emulate(buf, len), b;

	(void)state;
	for (uint64_t pos = 0; pos < len; pos += 997) {
		buf[pos] ^= 0x10;
		b = emulate(buf, len);
		assert_false(a.low64 == b.low64 && a.high64 == b.high64);
		buf[pos] ^= 0x10;
	}
	b = emulate(buf, len);
	assert_true(a.low64 == b.low64 && a.high64 == b.high64);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_short_length),
		cmocka_unit_test(test_chunk_lengths),
		cmocka_unit_test(test_constant_contents),
		cmocka_unit_test(test_detects_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

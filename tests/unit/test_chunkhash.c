/* Tests of the per-chunk hash: chunk geometry, range checks, and that each
 * chunk's hash is XXH3-128 of exactly its bytes (what a GPU kernel must
 * reproduce bit for bit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "gpuvisor/chunkhash.h"

static void test_geometry(void **state)
{
	(void)state;
	assert_int_equal(gv_chunkhash_count(0, 4096), 0);
	assert_int_equal(gv_chunkhash_count(1, 4096), 1);
	assert_int_equal(gv_chunkhash_count(4096, 4096), 1);
	assert_int_equal(gv_chunkhash_count(4097, 4096), 2);
	assert_int_equal(gv_chunkhash_count(UINT64_MAX, 1ull << 21), (UINT64_MAX >> 21) + 1);
	assert_int_equal(gv_chunkhash_count(10, 0), 0);
	assert_int_equal(gv_chunkhash_chunk_len(4097, 4096, 0), 4096);
	assert_int_equal(gv_chunkhash_chunk_len(4097, 4096, 1), 1);
	assert_int_equal(gv_chunkhash_chunk_len(4097, 4096, 2), 0);
	assert_int_equal(gv_chunkhash_chunk_len(8192, 4096, 1), 4096);
}

static void test_range_matches_xxh3(void **state)
{
	const uint64_t cs = 4096, len = 5 * cs + 123;
	uint8_t *buf = malloc(len);
	struct gv_chunk_hash h[6], one[2];
	struct gv_err err = { 0 };

	(void)state;
	assert_non_null(buf);
	for (uint64_t i = 0, x = 88172645463325252ull; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 0, 6, h, &err), 0);
	for (int i = 0; i < 6; i++) {
		uint64_t n = gv_chunkhash_chunk_len(len, cs, (uint64_t)i);
		XXH128_hash_t x = XXH3_128bits(buf + (uint64_t)i * cs, (size_t)n);

		assert_int_equal(h[i].lo, x.low64);
		assert_int_equal(h[i].hi, x.high64);
	}
	/* a sub-range gives the same hashes */
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 4, 2, one, &err), 0);
	assert_true(gv_chunkhash_equal(&one[0], &h[4]));
	assert_true(gv_chunkhash_equal(&one[1], &h[5]));
	assert_false(gv_chunkhash_equal(&h[0], &h[1]));
	/* one byte changes exactly one chunk's hash */
	buf[3 * cs + 17] ^= 1;
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 2, 2, one, &err), 0);
	assert_true(gv_chunkhash_equal(&one[0], &h[2]));
	assert_false(gv_chunkhash_equal(&one[1], &h[3]));
	/* empty range, and refusals that write nothing */
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 6, 0, NULL, &err), 0);
	memset(one, 0x77, sizeof(one));
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 5, 2, one, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "outside"));
	assert_int_equal(gv_chunkhash_range(buf, len, cs, 7, 0, one, &err), -EINVAL);
	assert_int_equal(gv_chunkhash_range(buf, len, cs, UINT64_MAX, 2, one, &err), -EINVAL);
	assert_int_equal(gv_chunkhash_range(buf, len, 0, 0, 1, one, &err), -EINVAL);
	assert_int_equal(gv_chunkhash_range(NULL, len, cs, 0, 1, one, &err), -EINVAL);
	assert_int_equal(one[0].lo, 0x7777777777777777ull);
	free(buf);
}

static void test_bytes_round_trip(void **state)
{
	struct gv_chunk_hash h = gv_chunkhash_one("gpuvisor", 8), back;
	uint8_t b[16];

	(void)state;
	gv_chunkhash_to_bytes(&h, b);
	/* canonical order: high 64 bits first, big-endian */
	assert_int_equal(b[0], (uint8_t)(h.hi >> 56));
	assert_int_equal(b[15], (uint8_t)h.lo);
	back = gv_chunkhash_from_bytes(b);
	assert_true(gv_chunkhash_equal(&h, &back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_range_matches_xxh3),
		cmocka_unit_test(test_bytes_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

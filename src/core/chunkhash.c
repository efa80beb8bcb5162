#include "gpuvisor/chunkhash.h"

#include <errno.h>
#include <string.h>

#include <xxhash.h>

uint64_t gv_chunkhash_count(uint64_t len, uint64_t chunk_size)
{
	if (chunk_size == 0)
		return 0;
	return len / chunk_size + (len % chunk_size != 0);
}

uint64_t gv_chunkhash_chunk_len(uint64_t len, uint64_t chunk_size, uint64_t index)
{
	uint64_t n = gv_chunkhash_count(len, chunk_size);

	if (index >= n)
		return 0;
	if (index + 1 < n)
		return chunk_size;
	return len - index * chunk_size;
}

struct gv_chunk_hash gv_chunkhash_one(const void *data, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(data, len);
	struct gv_chunk_hash r = { .lo = h.low64, .hi = h.high64 };

	return r;
}

int gv_chunkhash_range(const void *base, uint64_t len, uint64_t chunk_size, uint64_t first,
		       uint64_t count, struct gv_chunk_hash *out, struct gv_err *err)
{
	uint64_t n;

	if (chunk_size == 0)
		return gv_err_set(err, EINVAL, "chunk size must be positive");
	n = gv_chunkhash_count(len, chunk_size);
	if (first > n || count > n - first)
		return gv_err_set(err, EINVAL,
				  "chunks %llu..%llu lie outside a range of %llu chunks",
				  (unsigned long long)first, (unsigned long long)(first + count),
				  (unsigned long long)n);
	if (count > 0 && (!base || !out))
		return gv_err_set(err, EINVAL, "chunk hash needs a buffer and an output");
	for (uint64_t i = 0; i < count; i++) {
		uint64_t idx = first + i;

		out[i] = gv_chunkhash_one((const uint8_t *)base + idx * chunk_size,
					  (size_t)gv_chunkhash_chunk_len(len, chunk_size, idx));
	}
	return 0;
}

bool gv_chunkhash_equal(const struct gv_chunk_hash *a, const struct gv_chunk_hash *b)
{
	return a->lo == b->lo && a->hi == b->hi;
}

void gv_chunkhash_to_bytes(const struct gv_chunk_hash *h, uint8_t out[16])
{
	XXH128_canonical_t c;
	XXH128_hash_t x = { .low64 = h->lo, .high64 = h->hi };

	XXH128_canonicalFromHash(&c, x);
	memcpy(out, c.digest, 16);
}

struct gv_chunk_hash gv_chunkhash_from_bytes(const uint8_t in[16])
{
	XXH128_canonical_t c;
	XXH128_hash_t x;
	struct gv_chunk_hash r;

	memcpy(c.digest, in, 16);
	x = XXH128_hashFromCanonical(&c);
	r.lo = x.low64;
	r.hi = x.high64;
	return r;
}

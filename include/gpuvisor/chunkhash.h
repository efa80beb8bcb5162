/* gpuvisor: per-chunk content hashes of a memory range (CPU implementation).
 *
 * A range of len bytes is cut into chunks of chunk_size bytes; the last chunk
 * is short when len is not a multiple. Each chunk's hash is XXH3 128-bit
 * (seed 0) of exactly its bytes, so a hash computed here, by the simulator
 * or by a GPU kernel that implements XXH3_128bits must be bit-identical:
 * the migration engine compares hashes taken on different sides.
 */
#ifndef GPUVISOR_CHUNKHASH_H
#define GPUVISOR_CHUNKHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

/* XXH3 128-bit value; lo/hi as XXH128_hash_t's low64/high64. */
struct gv_chunk_hash {
	uint64_t lo;
	uint64_t hi;
};

/* Number of chunks covering len bytes (0 for len 0). chunk_size > 0. */
uint64_t gv_chunkhash_count(uint64_t len, uint64_t chunk_size);

/* Length of chunk index of a range of len bytes (0 when past the end). */
uint64_t gv_chunkhash_chunk_len(uint64_t len, uint64_t chunk_size, uint64_t index);

/* Hash of one buffer (one chunk). */
struct gv_chunk_hash gv_chunkhash_one(const void *data, size_t len);

/* Hashes chunks [first, first + count) of the range base[0..len) into
 * out[0..count). Fails with EINVAL (nothing written) when chunk_size is 0 or
 * the chunks lie outside the range. */
int gv_chunkhash_range(const void *base, uint64_t len, uint64_t chunk_size, uint64_t first,
		       uint64_t count, struct gv_chunk_hash *out, struct gv_err *err);

bool gv_chunkhash_equal(const struct gv_chunk_hash *a, const struct gv_chunk_hash *b);

/* 16 bytes, big-endian hi then lo (the canonical XXH128 byte order), for
 * wire frames and reports. */
void gv_chunkhash_to_bytes(const struct gv_chunk_hash *h, uint8_t out[16]);
struct gv_chunk_hash gv_chunkhash_from_bytes(const uint8_t in[16]);

#endif

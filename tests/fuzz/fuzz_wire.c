/* Fuzz target of the migration stream parser: the input is a byte stream of
 * frames. Every frame the parser accepts must encode back to exactly the
 * same bytes (the format has one encoding per frame) and go through the
 * stream order checker; a refusal or an incomplete tail ends the input.
 * Violated properties abort(), which libFuzzer and the replay driver
 * report. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "gpuvisor/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs that start with a 0 byte are "unsealed": the rest is a stream
 * whose frame checksums are recomputed here before parsing, so that the
 * fuzzer reaches the payload rules instead of stopping at the checksum. */
static uint8_t *reseal(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	size_t off = 0;

	if (!b)
		abort();
	memcpy(b, data, size);
	while (size - off >= GV_WIRE_HDR_SIZE) {
		uint8_t *h = b + off;
		uint64_t plen = (uint64_t)h[8] | (uint64_t)h[9] << 8 | (uint64_t)h[10] << 16 |
				(uint64_t)h[11] << 24;
		uint64_t sum;

		if (plen > size - off - GV_WIRE_HDR_SIZE)
			break;
		sum = XXH64(h + GV_WIRE_HDR_SIZE, (size_t)plen, XXH64(h, 24, 0));
		for (int i = 0; i < 8; i++)
			h[24 + i] = (uint8_t)(sum >> (8 * i));
		off += GV_WIRE_HDR_SIZE + (size_t)plen;
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_wire_stream *s = gv_wire_stream_new();
	uint8_t *copy = NULL, *sealed = NULL;
	size_t off = 0;

	if (!s)
		abort();
	if (size > 0 && data[0] == 0) {
		sealed = reseal(data + 1, size - 1);
		data = sealed;
		size--;
	}
	while (off < size) {
		struct gv_wire_frame f;
		struct gv_err err = { 0 };
		size_t used = 0, len = 0;
		int rc = gv_wire_parse_frame(data + off, size - off, &f, &used, &err);

		if (rc == -EAGAIN) {
			if (used <= size - off || used > GV_WIRE_HDR_SIZE + GV_WIRE_MAX_PAYLOAD)
				abort();
			break;
		}
		if (rc < 0) {
			if (err.msg[0] == '\0' || (rc != -EINVAL && rc != -EPROTONOSUPPORT))
				abort();
			break;
		}
		if (used < GV_WIRE_HDR_SIZE || used > size - off || used != gv_wire_frame_size(&f))
			abort();
		free(copy);
		copy = malloc(used);
		if (!copy || gv_wire_encode(&f, copy, used, &len, &err) != 0 || len != used ||
		    memcmp(copy, data + off, used) != 0)
			abort();
		rc = gv_wire_stream_check(s, &f, &err);
		if (rc != 0 && rc != -EPROTO)
			abort();
		off += used;
	}
	free(copy);
	free(sealed);
	gv_wire_stream_free(s);
	return 0;
}

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

#include "gpuvisor/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_wire_stream *s = gv_wire_stream_new();
	uint8_t *copy = NULL;
	size_t off = 0;

	if (!s)
		abort();
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
		if (used < GV_WIRE_HDR_SIZE || used > size - off ||
		    used != gv_wire_frame_size(&f))
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
	gv_wire_stream_free(s);
	return 0;
}

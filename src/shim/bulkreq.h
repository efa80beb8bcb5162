/* libgpuvisor-cuda: the requests of the bulk control socket (bulkctl.c,
 * docs/shim.md "The bulk control socket"). libc only, no CUDA: also built
 * into its fuzz target (tests/fuzz/fuzz_bulkreq.c). */
#ifndef GV_SHIM_BULKREQ_H
#define GV_SHIM_BULKREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

/* At most this many ids in one request, and fds in one message. */
#define GV_BULKREQ_IDS_MAX 64
/* The longest request line, its newline excluded. */
#define GV_BULKREQ_LINE_MAX 4096
/* stop and own without "timeout_ms". */
#define GV_BULKREQ_TIMEOUT_DEFAULT_MS 30000
#define GV_BULKREQ_TIMEOUT_MAX_MS 3600000

enum gv_bulkreq_op {
	GV_BULKREQ_NONE = 0,
	GV_BULKREQ_HELLO,
	GV_BULKREQ_LIST,
	GV_BULKREQ_EXPORT,
	GV_BULKREQ_STOP,
	GV_BULKREQ_RELEASE,
	GV_BULKREQ_MAP,
	GV_BULKREQ_GO,
	GV_BULKREQ_OWN,
};

struct gv_bulkreq {
	enum gv_bulkreq_op op;
	size_t nids;
	uint64_t ids[GV_BULKREQ_IDS_MAX];
	uint64_t timeout_ms;
};

/* Parses one request line (without its newline) of exactly the shape
 * {"op":STR, "ids":[U64,...], "timeout_ms":U64}: one JSON object, members
 * in any order, each at most once, whitespace between tokens; strings
 * without escapes; numbers plain non-negative integers below 2^64.
 * "ids" (1..64 distinct) is required by export and map and refused
 * elsewhere; "timeout_ms" (1..3600000) is taken by stop and own only
 * (default 30000). 0, or -EINVAL with the reason in err and *r zeroed. */
int gv_bulkreq_parse(const char *line, size_t len, struct gv_bulkreq *r, struct gv_err *err);

/* The op's name ("?" for none). */
/* The op's name ("?" for GV_BULKREQ_NONE and any other value), and the
 * op of a name: 0, or -EINVAL with "unknown op '<s>'" in err. */
const char *gv_bulkreq_op_name(enum gv_bulkreq_op op);
int gv_bulkreq_op_parse(const char *s, enum gv_bulkreq_op *out, struct gv_err *err);

#endif

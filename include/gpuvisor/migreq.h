/* gpuvisor: the body of POST /v1/migrations, parsed strictly.
 *
 *   {"instance":"i-3", "to":"1"|"GPU-..."|"i-7"|["i-7","i-8",...],
 *    "mode":"precopy"|"stopcopy"|"checkpoint", (default precopy)
 *    "downtime_limit_ms":1..600000,        (default 300)
 *    "max_rounds":1..1000|null,            (default: the engine's)
 *    "auto_converge":true|false|null,      (default false: no throttle)
 *    "inject":"copy:round1"|...|null}      (test faults; the shim decides)
 *
 * Unknown fields, wrong types, empty strings, out-of-range numbers and
 * text outside printable ASCII are refused with the reason. */
#ifndef GPUVISOR_MIGREQ_H
#define GPUVISOR_MIGREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"
#include "gpuvisor/migrate.h"

#define GV_MIGREQ_ID_MAX 64
#define GV_MIGREQ_INJECT_MAX 64
#define GV_MIGREQ_DOWNTIME_DEFAULT_MS 300
#define GV_MIGREQ_DOWNTIME_MAX_MS 600000

#define GV_MIGREQ_SPAN_MAX 8 /* = GV_APIREQ_SPAN_MAX */

struct gv_migreq {
	char instance[GV_MIGREQ_ID_MAX];
	/* GPU index, GPU uuid or instance id; for a workload on several
	 * instances, "to" is an array of instance ids (1..GV_MIGREQ_SPAN_MAX,
	 * none twice): to is its first, more[] the others (n_more) */
	char to[GV_MIGREQ_ID_MAX];
	int n_more;
	char more[GV_MIGREQ_SPAN_MAX - 1][GV_MIGREQ_ID_MAX];
	enum gv_mig_mode mode; /* the engine's mode, unless checkpoint */
	bool checkpoint;       /* mode "checkpoint": the driver's checkpoint API */
	uint64_t downtime_limit_ms;
	unsigned max_rounds;		   /* 0: the engine's default */
	bool auto_converge;		   /* throttle a workload that outruns pre-copy */
	char inject[GV_MIGREQ_INJECT_MAX]; /* "": none */
};

/* 0, -EINVAL (reason in err) or -E2BIG (body over GV_APIREQ_MAX_BODY). out
 * is zeroed on failure. */
int gv_migreq_parse(const char *body, size_t len, struct gv_migreq *out, struct gv_err *err);

#endif

/* gpuvisor: strict parsers of the daemon's API request bodies and query
 * arguments (docs/api.md). Pure functions: no I/O, no global state.
 *
 * Every parser refuses, with a reason naming the field: a body over
 * GV_APIREQ_MAX_BODY (-E2BIG, HTTP 413), malformed JSON, a top level that is
 * not an object, unknown or duplicate fields, wrong types and out-of-range
 * values (-EINVAL, HTTP 400). On failure *out is zeroed.
 */
#ifndef GPUVISOR_APIREQ_H
#define GPUVISOR_APIREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/err.h"
#include "gpuvisor/sched.h"

#define GV_APIREQ_MAX_BODY (64 * 1024)
#define GV_APIREQ_GPU_MAX 64
#define GV_APIREQ_OWNER_MAX 128 /* = GV_STORE_OWNER_MAX */

/* POST /v1/instances */
struct gv_apireq_create {
	char profile[GV_NAME_MAX];
	char gpu[GV_APIREQ_GPU_MAX]; /* index ("0") or UUID; "" = any */
	int placement;		     /* -1 = choose */
	uint64_t framebuffer_mib;    /* 0 = not given */
	bool spread;		     /* policy "spread" (default "pack") */
	/* "owner": who asks, kept with the instance and shown in its events
	 * (the Slurm plugin's "slurm:job:42"); printable ASCII with spaces,
	 * 1..GV_APIREQ_OWNER_MAX-1 bytes; "" = not given */
	char owner[GV_APIREQ_OWNER_MAX];
};

int gv_apireq_create_parse(const char *body, size_t len, struct gv_apireq_create *out,
			   struct gv_err *err);

/* PUT /v1/gpus/{gpu}/mode */
int gv_apireq_mode_parse(const char *body, size_t len, enum gv_mode *out, struct gv_err *err);

#define GV_APIREQ_ID_MAX 32
/* The most instances one workload may span (one per GPU: the 8-GPU node). */
#define GV_APIREQ_SPAN_MAX 8

/* POST /v1/instances/{id}/workload: {"pid":N} or {"pid":N,"with":[ID,...]}:
 * the workload also spans the instances named in "with" (1 to
 * GV_APIREQ_SPAN_MAX - 1 ids, none twice; null or absent: none), in that
 * order after {id}. Ids are printable ASCII without spaces, shorter than
 * GV_APIREQ_ID_MAX. */
struct gv_apireq_workload {
	pid_t pid; /* >= 2 */
	int n_with;
	char with[GV_APIREQ_SPAN_MAX - 1][GV_APIREQ_ID_MAX];
};

int gv_apireq_workload_parse(const char *body, size_t len, struct gv_apireq_workload *out,
			     struct gv_err *err);

/* POST /v1/instances/{id}/resume: no body, or {"to":"INSTANCE"} or
 * {"to":[ID,...]} (1 to GV_APIREQ_SPAN_MAX ids, none twice: one per member
 * of the workload's span, in its order); null or absent: the workload's
 * own instances (n_to 0). */
struct gv_apireq_resume {
	int n_to;
	char to[GV_APIREQ_SPAN_MAX][GV_APIREQ_ID_MAX];
};

int gv_apireq_resume_parse(const char *body, size_t len, struct gv_apireq_resume *out,
			   struct gv_err *err);

/* PUT /v1/gpus/{gpu}/sched: {"policy":"best-effort|equal-share|fixed-share",
 * "slice_ms":1..30}; at least one of the two. */
struct gv_apireq_sched {
	bool has_policy;
	enum gv_sched_policy policy;
	bool has_slice;
	uint32_t slice_ms; /* GV_SCHED_SLICE_MIN_US / 1000 .. GV_SCHED_SLICE_MAX_US / 1000 */
};

int gv_apireq_sched_parse(const char *body, size_t len, struct gv_apireq_sched *out,
			  struct gv_err *err);

/* PUT /v1/instances/{id}/weight: {"weight":1..100} (GV_SCHED_WEIGHT_MIN..MAX). */
int gv_apireq_weight_parse(const char *body, size_t len, uint32_t *out, struct gv_err *err);

/* Query arguments. The caller says which keys a route takes; any other key,
 * a key given twice, or a bad value is refused. */
enum {
	GV_APIREQ_Q_SINCE = 1u << 0,   /* events: since=SEQ (>= 0) */
	GV_APIREQ_Q_FORCE = 1u << 1,   /* destroy: force=1|0|true|false */
	GV_APIREQ_Q_GPU = 1u << 2,     /* profiles: gpu=INDEX|UUID */
	GV_APIREQ_Q_TICKET = 1u << 3,  /* console login: ticket=HEX (64 lowercase hex) */
	GV_APIREQ_Q_SECONDS = 1u << 4, /* history: seconds=1..GV_APIREQ_SECONDS_MAX */
};

#define GV_APIREQ_SECONDS_MAX 600
#define GV_APIREQ_TICKET_LEN 64

struct gv_apireq_query {
	unsigned allowed; /* GV_APIREQ_Q_* the route takes */
	unsigned seen;	  /* GV_APIREQ_Q_* given */
	int64_t since;	  /* 0 when not given */
	bool force;
	char gpu[GV_APIREQ_GPU_MAX];
	/* "" when not given; a value that is not 64 lowercase hex characters
	 * is kept as "" too and marks bad_ticket (a login link answers the
	 * same for a malformed ticket as for a used one) */
	char ticket[GV_APIREQ_TICKET_LEN + 1];
	bool bad_ticket;
	int seconds; /* 0 when not given */
};

void gv_apireq_query_init(struct gv_apireq_query *q, unsigned allowed);
/* One decoded key/value pair (value NULL: key without '='). */
int gv_apireq_query_add(struct gv_apireq_query *q, const char *key, const char *value,
			struct gv_err *err);

/* A GPU reference as given in a path, body or query: "3" (index, no sign, no
 * leading zeros beyond "0") or a "GPU-..." UUID. Sets *index (-1 for a UUID).
 * -EINVAL for anything else. */
int gv_apireq_gpu_ref(const char *s, int *index, struct gv_err *err);

#endif

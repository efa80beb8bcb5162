/* gpuvisor: requests on a workload's migration control socket, as the shim
 * reads them (docs/migration.md, "Control channel between gpuvisord and a
 * workload's shim"). One line of JSON:
 *
 *   {"op":"hello"}
 *   {"op":"migrate","to":"<device uuid>","acct":"<path>"|null,
 *    "sched":"<path>"|null,"instance":"<instance id>"|null,
 *    "mode":"precopy"|"stopcopy","downtime_ms":1..600000,
 *    "max_rounds":1..1000|null,"auto_converge":true|false|null,
 *    "inject":"<fault>"|null}
 *
 * sched and instance name the destination's time-slice scheduler segment
 * and tenant (docs/scheduler.md): both given, or both null/absent when the
 * destination is not a timeslice instance (the workload then runs ungated
 * after the switch).
 *
 * Unknown ops or fields, wrong types, out-of-range numbers and text outside
 * printable ASCII are refused with the reason. */
#ifndef GPUVISOR_MIGCTL_H
#define GPUVISOR_MIGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"
#include "gpuvisor/migrate.h"

#define GV_MIGCTL_LINE_MAX (64 * 1024)
#define GV_MIGCTL_UUID_MAX 96
#define GV_MIGCTL_PATH_MAX 4096
#define GV_MIGCTL_INJECT_MAX 32
#define GV_MIGCTL_INSTANCE_MAX 64 /* GV_SCHED_INSTANCE_ID_MAX */

enum gv_migctl_op { GV_MIGCTL_HELLO = 1, GV_MIGCTL_MIGRATE = 2 };

struct gv_migctl_req {
	enum gv_migctl_op op;
	char to[GV_MIGCTL_UUID_MAX];
	char acct[GV_MIGCTL_PATH_MAX];	       /* "": none */
	char sched[GV_MIGCTL_PATH_MAX];	       /* "": the destination is not timeslice */
	char instance[GV_MIGCTL_INSTANCE_MAX]; /* "" exactly when sched is "" */
	enum gv_mig_mode mode;		       /* default precopy */
	uint64_t downtime_ms;		       /* default 300 */
	unsigned max_rounds;		       /* 0: the engine's default */
	bool auto_converge;		       /* default false (gv_mig_config.auto_converge) */
	char inject[GV_MIGCTL_INJECT_MAX];     /* "": none */
};

/* Parses one line (without its newline): 0, or -EINVAL with the reason.
 * out is zeroed on failure. */
int gv_migctl_parse(const char *line, size_t len, struct gv_migctl_req *out, struct gv_err *err);

#endif

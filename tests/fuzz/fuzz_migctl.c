/* Fuzz target of gv_migctl_parse (the shim's migration control socket):
 * any input is accepted or refused with a message; an accepted migrate
 * request has a destination and its numbers in range. Violations abort(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/migctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_migctl_req r;
	struct gv_err err = { 0 };
	int ret = gv_migctl_parse((const char *)data, size, &r, &err);

	if (ret == 0) {
		if (r.op == GV_MIGCTL_MIGRATE &&
		    (!r.to[0] || r.downtime_ms < 1 || r.downtime_ms > 600000 ||
		     r.max_rounds > GV_MIG_ROUNDS_MAX ||
		     (r.mode != GV_MIG_PRECOPY && r.mode != GV_MIG_STOPCOPY)))
			abort();
		if (r.op != GV_MIGCTL_MIGRATE && r.op != GV_MIGCTL_HELLO)
			abort();
	} else if (ret != -EINVAL || !err.msg[0] || r.op || r.to[0] || r.auto_converge) {
		abort();
	}
	return 0;
}

/* Fuzz target of gv_migreq_parse (POST /v1/migrations): any input is
 * accepted or refused with a message; an accepted request has its required
 * fields set and its numbers in range. Violations abort(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/migreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_migreq r;
	struct gv_err err = { 0 };
	int ret = gv_migreq_parse((const char *)data, size, &r, &err);

	if (ret == 0) {
		if (!r.instance[0] || !r.to[0] || r.downtime_limit_ms < 1 ||
		    r.downtime_limit_ms > GV_MIGREQ_DOWNTIME_MAX_MS || r.max_rounds > 1000 ||
		    (r.mode != GV_MIG_PRECOPY && r.mode != GV_MIG_STOPCOPY))
			abort();
		if (r.n_more < 0 || r.n_more > GV_MIGREQ_SPAN_MAX - 1)
			abort();
		for (int i = 0; i < r.n_more; i++)
			if (!r.more[i][0] ||
			    strnlen(r.more[i], GV_MIGREQ_ID_MAX) == GV_MIGREQ_ID_MAX)
				abort();
	} else if ((ret != -EINVAL && ret != -E2BIG) || !err.msg[0] || r.instance[0] ||
		   r.auto_converge) {
		abort();
	}
	return 0;
}

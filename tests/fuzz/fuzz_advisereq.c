/* Fuzz target of gv_advisereq_parse (POST /v1/advise): any input is accepted
 * or refused with a message; an accepted request has its numbers in range
 * and a GPU reference that is empty or valid. Violations abort(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/advise.h"
#include "gpuvisor/apireq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_advise_body b;
	struct gv_err err = { 0 };
	int idx, ret = gv_advisereq_parse((const char *)data, size, &b, &err);

	if (ret == 0) {
		if (b.req.memory_mib < 1 || b.req.memory_mib > GV_ADVISE_MEMORY_MAX_MIB ||
		    b.req.replicas < 1 || b.req.replicas > GV_ADVISE_REPLICAS_MAX ||
		    b.req.gpu != -1 ||
		    (b.req.workload != GV_ADVISE_TRAINING &&
		     b.req.workload != GV_ADVISE_INFERENCE && b.req.workload != GV_ADVISE_DEV) ||
		    memchr(b.gpu, '\0', sizeof(b.gpu)) == NULL ||
		    (b.gpu[0] && gv_apireq_gpu_ref(b.gpu, &idx, NULL) != 0))
			abort();
	} else if ((ret != -EINVAL && ret != -E2BIG) || !err.msg[0] || b.req.memory_mib ||
		   b.req.replicas || b.gpu[0]) {
		abort();
	}
	return 0;
}

/* Fuzz target for the /proc/<pid>/stat reader of the scheduler's liveness
 * check (gv_sched_parse_proc_stat). Besides not crashing: success gives a
 * printable state, failure leaves the output zeroed, and the result does
 * not depend on bytes after the first 1023 (the reader's bound). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/sched_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_sched_procinfo a, b;
	int ra = gv_sched_parse_proc_stat((const char *)data, size, &a);

	if (ra == 0) {
		if (a.state <= ' ' || a.state > '~')
			abort();
	} else if (a.state != 0 || a.starttime != 0) {
		abort();
	}
	if (size > 1023) {
		int rb = gv_sched_parse_proc_stat((const char *)data, 1023, &b);

		if (rb != ra || (ra == 0 && memcmp(&a, &b, sizeof(a)) != 0))
			abort();
	}
	return 0;
}

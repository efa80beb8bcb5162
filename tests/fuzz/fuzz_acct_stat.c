/* Fuzz target for gv_acct_parse_proc_stat (the /proc/<pid>/stat reader of
 * the cross-process memory accounting). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/acct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char state;
	uint64_t start;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (gv_acct_parse_proc_stat(text, &state, &start) == 0 && !state)
		abort(); /* a parsed line always has a state letter */
	free(text);
	return 0;
}

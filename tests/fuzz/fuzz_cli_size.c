/* Fuzz target for the CLI's argument parsers (src/cli/fmt.c): sizes
 * ("20g", "512m", "1.5GiB") and plain numbers (--placement, --since).
 * fmt.c is part of the gpuvisor executable, not of gvcore, so it is
 * compiled in here. Besides not crashing, checks the contract: a size is at
 * least 1 MiB and a failure leaves the output untouched; what gv_fmt_mib
 * prints for a parsed size parses back within rounding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/fmt.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t mib = 0xdeadbeef, back = 0;
	int n = -7;
	char text[64], num[64];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gv_parse_size_mib(s, &mib) == 0) {
		if (mib < 1)
			abort();
		gv_fmt_mib(mib, text, sizeof(text));
		/* "40.0 GiB" -> "40.0GiB": one decimal loses at most 0.05 units */
		{
			char *sp = strchr(text, ' ');

			if (!sp)
				abort();
			memmove(sp, sp + 1, strlen(sp));
			if (gv_parse_size_mib(text, &back) != 0)
				abort();
			if ((double)back < (double)mib * 0.95 - 1 ||
			    (double)back > (double)mib * 1.05 + 1)
				abort();
		}
	} else if (mib != 0xdeadbeef) {
		abort();
	}
	if (gv_parse_uint(s, &n) == 0) {
		if (n < 0)
			abort();
		snprintf(num, sizeof(num), "%d", n);
		/* leading zeros aside, the text is the number */
		if (strcmp(num, s + strspn(s, "0")) != 0 && !(n == 0 && s[0] == '0'))
			abort();
	} else if (n != -7) {
		abort();
	}
	free(s);
	return 0;
}

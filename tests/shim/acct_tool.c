/* gv-shim-acct PATH LIMIT_BYTES: creates an accounting file the way the
 * daemon does for a timeslice instance (used by run-test.sh). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpuvisor/acct.h"

int main(int argc, char **argv)
{
	struct gv_err err = { 0 };
	unsigned long long limit;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH LIMIT_BYTES\n", argv[0]);
		return 2;
	}
	errno = 0;
	limit = strtoull(argv[2], &end, 10);
	if (errno || end == argv[2] || *end) {
		fprintf(stderr, "%s: not a byte count: %s\n", argv[0], argv[2]);
		return 2;
	}
	if (gv_acct_create(argv[1], limit, &err) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err.msg);
		return 1;
	}
	return 0;
}

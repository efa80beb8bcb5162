/* Where libcudasim keeps a simulated device's accounting file (see
 * gv_acct_sim_path in include/gpuvisor/acct.h). Kept apart from acct.c,
 * which the CUDA shim compiles in on its own and must not pull xxhash. */
#include "gpuvisor/acct.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int gv_acct_sim_path(const char *node_path, const char *uuid, char *out, size_t len)
{
	char key[PATH_MAX] = "";
	const char *dir = getenv("GPUVISOR_SIM_SHM_DIR");
	XXH64_state_t *st;
	XXH64_hash_t h;
	int n;

	if (!uuid || !out)
		return -EINVAL;
	if (node_path && *node_path && !realpath(node_path, key))
		snprintf(key, sizeof(key), "%s", node_path);
	st = XXH64_createState();
	if (!st)
		return -ENOMEM;
	XXH64_reset(st, 0);
	XXH64_update(st, key, strlen(key));
	XXH64_update(st, "\n", 1);
	XXH64_update(st, uuid, strlen(uuid));
	h = XXH64_digest(st);
	XXH64_freeState(st);
	n = snprintf(out, len, "%s/gpuvisor-sim-%016llx.acct", dir && *dir ? dir : "/dev/shm",
		     (unsigned long long)h);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

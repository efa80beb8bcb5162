/* The instance's memory partition: a gv_acct file shared by every process
 * of the instance ($GPUVISOR_ACCT, created by the daemon with the
 * instance's framebuffer as its limit).
 *
 * The limit comes from $GPUVISOR_LIMIT when set: a file the daemon writes
 * and the shim maps read-only (acct.h), so that writing the accounting
 * file's own limit field raises nothing.
 *
 * Without $GPUVISOR_ACCT the partition is off and the shim only forwards.
 * With it set but unusable (missing, not an accounting file), the shim fails
 * closed: every charge fails with CUDA_ERROR_OUT_OF_MEMORY and cuMemGetInfo
 * reports 0 bytes, because running unpartitioned on a shared GPU would take
 * memory from the other instances.
 */
#include "shim_internal.h"
#include "mig_internal.h" /* gv_part_acct, gv_part_swap */

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "gpuvisor/acct.h"

static struct gv_acct *gv_acct;
static bool gv_part_enabled;
static atomic_bool gv_nospc_logged;

void gv_part_init(void)
{
	const char *path = getenv("GPUVISOR_ACCT"), *limit;
	struct gv_err err = { 0 };

	if (!path || !*path)
		return;
	gv_part_enabled = true;
	if (gv_acct_open(path, &gv_acct, &err) < 0) {
		gv_shim_log(false, "GPUVISOR_ACCT: %s; every device allocation will fail", err.msg);
		return;
	}
	/* the limit the tenant cannot write ($GPUVISOR_LIMIT, acct.h): when
	 * named but unusable, fail closed like an unusable accounting file */
	limit = getenv("GPUVISOR_LIMIT");
	if (limit && *limit && gv_acct_use_limit_file(gv_acct, limit, &err) < 0) {
		gv_shim_log(false, "GPUVISOR_LIMIT: %s; every device allocation will fail",
			    err.msg);
		gv_acct_close(gv_acct);
		gv_acct = NULL;
		return;
	}
	gv_shim_log(true, "partition %s: limit %llu bytes", path,
		    (unsigned long long)gv_acct_limit(gv_acct));
}

bool gv_part_on(void)
{
	return gv_part_enabled;
}

CUresult gv_part_charge(uint64_t bytes)
{
	int rc;

	if (!gv_acct)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = gv_acct_charge(gv_acct, bytes);
	if (rc == 0)
		return CUDA_SUCCESS;
	if (rc == -ENOSPC && !atomic_exchange(&gv_nospc_logged, true))
		gv_shim_log(false, "accounting file has no free process slot");
	return CUDA_ERROR_OUT_OF_MEMORY;
}

void gv_part_uncharge(uint64_t bytes)
{
	/* -EINVAL (more than this process charged) only happens to a child of
	 * fork() freeing its parent's memory: nothing of its own to give back */
	if (gv_acct)
		(void)gv_acct_uncharge(gv_acct, bytes);
}

uint64_t gv_part_limit(void)
{
	return gv_acct ? gv_acct_limit(gv_acct) : 0;
}

void gv_part_info(uint64_t *free_bytes, uint64_t *total_bytes)
{
	uint64_t limit = gv_part_limit();
	uint64_t used = gv_acct ? gv_acct_used(gv_acct) : 0;

	*total_bytes = limit;
	*free_bytes = used >= limit ? 0 : limit - used;
}

/* Migration mode (plugin/mig_ctl.c, declared in mig_internal.h): the accounting
 * file in use, and the switch to the destination instance's file, made
 * while the workload is stunned. */
struct gv_acct *gv_part_acct(void)
{
	return gv_acct;
}

struct gv_acct *gv_part_swap(struct gv_acct *next)
{
	struct gv_acct *old = gv_acct;

	__atomic_store_n(&gv_acct, next, __ATOMIC_RELEASE);
	gv_part_enabled = true;
	return old;
}

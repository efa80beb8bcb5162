/* Instances held by an operation that has dropped the daemon's lock while
 * a helper works (a resume onto another instance): nothing may attach a
 * workload to them, destroy them or migrate onto them meanwhile. In memory
 * only: a restarted daemon has no operation in flight. All under d->lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

bool gvd_claimed(const struct gvd *d, const char *id)
{
	for (int i = 0; i < GVD_MAX_CLAIMS; i++)
		if (d->claims[i][0] && !strcmp(d->claims[i], id))
			return true;
	return false;
}

int gvd_claim(struct gvd *d, const char *id, struct gv_err *err)
{
	int ret = gvd_claim_check(d, id, err);

	if (ret)
		return ret;
	for (int i = 0; i < GVD_MAX_CLAIMS; i++) {
		if (!d->claims[i][0]) {
			snprintf(d->claims[i], sizeof(d->claims[i]), "%s", id);
			return 0;
		}
	}
	return gv_err_set(err, EBUSY, "%d operations are in progress already: try again",
			  GVD_MAX_CLAIMS);
}

void gvd_unclaim(struct gvd *d, const char *id)
{
	for (int i = 0; i < GVD_MAX_CLAIMS; i++)
		if (!strcmp(d->claims[i], id))
			d->claims[i][0] = '\0';
}

int gvd_claim_check(const struct gvd *d, const char *id, struct gv_err *err)
{
	if (gvd_claimed(d, id))
		return gv_err_set(err, EBUSY,
				  "instance %s is the destination of a resume in progress", id);
	return 0;
}

/* What holds an instance: a running migration (its row in the store: it
 * owns its source and destination until it ends, across restarts: with a
 * workload on several instances, every member and its destination), or an
 * operation that has dropped the daemon's lock while a helper works (a
 * resume onto another instance: a claim, in memory only, since a restarted
 * daemon has no such operation in flight). Nothing may attach a workload to
 * a held instance, destroy it or move another workload onto it. All under
 * d->lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

/* Whether a row's "more" ("SRC=DST,SRC=DST": the other members of a
 * workload on several instances) names inst on either side. */
static bool more_names(const char *more, const char *inst)
{
	size_t len = strlen(inst);
	const char *p = more;

	while (*p) {
		size_t n = strcspn(p, "=,");

		if (n == len && !strncmp(p, inst, len))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

int gvd_mig_active_for(struct gvd *d, const char *inst, char *mid, size_t cap, struct gv_err *err)
{
	struct gv_store_mig *arr = NULL;
	size_t n = 0, i;
	int ret = gv_store_mig_list(d->st, &arr, &n, err);

	if (ret)
		return ret;
	ret = 0;
	for (i = 0; i < n; i++) {
		if (gv_store_mig_state_active(arr[i].state) &&
		    (strcmp(arr[i].src, inst) == 0 || strcmp(arr[i].dst, inst) == 0 ||
		     more_names(arr[i].more, inst))) {
			snprintf(mid, cap, "%s", arr[i].id);
			ret = 1;
		}
	}
	gv_store_mig_list_free(arr, n);
	return ret;
}

int gvd_busy(struct gvd *d, const char *id, struct gv_err *err)
{
	char mid[GV_STORE_ID_MAX];
	int ret;

	/* the migration code itself destroys the instances it owns */
	if (d->mig_finishing)
		return 0;
	ret = gvd_mig_active_for(d, id, mid, sizeof(mid), err);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return gv_err_set(err, EBUSY,
				  "instance %s is part of running migration %s (cancel it with "
				  "DELETE /v1/migrations/%s, or wait)",
				  id, mid, mid);
	return gvd_claim_check(d, id, err);
}

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

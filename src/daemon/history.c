/* What the node looked like once a second, for the console's charts
 * (GET /v1/history, docs/api.md): a ring of the last GVD_HISTORY_MAX
 * samples in memory, gone at restart. The liveness thread takes a sample
 * each time round (about once a second) under d->lock.
 *
 * One sample: {"t":UNIX_MS, "gpus":[{"index","allocated_mib","used_mib"}],
 * "instances":[{"id","gpu","mem_used_bytes","share"}]}. used_mib is the
 * sum of what the GPU's instances' accounting files say (timeslice
 * instances; null when none of the GPU's instances has one); share is the
 * time-slice scheduler's measured share of the GPU over its last second
 * (null for instances that are not time-sliced or without a segment). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "gpuvisor/xfuncs.h"

struct gvd_history {
	json_t *ring[GVD_HISTORY_MAX];
	int head; /* where the next sample goes */
	int n;
};

int gvd_history_new(struct gvd_history **out, struct gv_err *err)
{
	*out = gv_xcalloc(err, 1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void gvd_history_free(struct gvd_history *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < GVD_HISTORY_MAX; i++)
		json_decref(h->ring[i]);
	free(h);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The measured shares of one timeslice GPU's tenants (NULL: none known). */
static struct gv_sched_stats *gpu_stats(struct gvd *d, const struct gvd_view *v, int g)
{
	struct gv_sched_stats *st;
	struct gv_sched *s;

	if (v->mode[g] != GV_MODE_TIMESLICE)
		return NULL;
	s = gvd_sched_of(d, v->hw.gpus[g].uuid);
	if (!s)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st && gv_sched_stats(s, st, NULL) != 0) {
		free(st);
		st = NULL;
	}
	return st;
}

static json_t *share_of(struct gv_sched_stats *const *stats, int g, const char *id)
{
	size_t i;

	if (g < 0 || !stats[g])
		return json_null();
	for (i = 0; i < stats[g]->n_tenants; i++)
		if (strcmp(stats[g]->tenants[i].instance_id, id) == 0)
			return json_real(stats[g]->tenants[i].share_1s_ppm / 1e6);
	return json_null();
}

static json_t *sample(struct gvd *d)
{
	struct gv_sched_stats *stats[GV_NODE_MAX_GPUS] = { NULL };
	uint64_t alloc[GV_NODE_MAX_GPUS] = { 0 };
	int64_t used[GV_NODE_MAX_GPUS];
	json_t *gpus = NULL, *insts = NULL, *o = NULL;
	struct gvd_view v;
	size_t i;
	int g;

	if (gvd_view_load(d, &v, NULL) != 0)
		return NULL;
	for (g = 0; g < GV_NODE_MAX_GPUS; g++)
		used[g] = -1;
	gpus = json_array();
	insts = json_array();
	if (!gpus || !insts)
		goto out;
	for (g = 0; g < v.hw.n_gpus; g++)
		stats[g] = gpu_stats(d, &v, g);
	for (i = 0; i < v.n_insts; i++) {
		const struct gv_store_inst *in = &v.insts[i];
		int64_t u = gvd_acct_used(d, in);

		g = v.gpu_of[i];
		if (g >= 0) {
			alloc[g] += in->fb_mib;
			if (u >= 0)
				used[g] = (used[g] < 0 ? 0 : used[g]) + u;
		}
		json_array_append_new(
			insts,
			json_pack("{s:s, s:o, s:o, s:o}", "id", in->id, "gpu",
				  g >= 0 ? json_integer(g) : json_null(), "mem_used_bytes",
				  u >= 0 ? json_integer(u) : json_null(), "share",
				  in->kind == GV_PROFILE_TIMESLICE ? share_of(stats, g, in->id)
								   : json_null()));
	}
	for (g = 0; g < v.hw.n_gpus; g++)
		json_array_append_new(
			gpus, json_pack("{s:i, s:I, s:o}", "index", g, "allocated_mib",
					(json_int_t)alloc[g], "used_mib",
					used[g] >= 0 ? json_integer(used[g] >> 20) : json_null()));
	o = json_pack("{s:I, s:O, s:O}", "t", (json_int_t)now_ms(), "gpus", gpus, "instances",
		      insts);
out:
	for (g = 0; g < GV_NODE_MAX_GPUS; g++)
		free(stats[g]);
	json_decref(gpus);
	json_decref(insts);
	gvd_view_free(&v);
	return o;
}

void gvd_history_sample(struct gvd *d)
{
	struct gvd_history *h = d->history;
	json_t *s;

	if (!h)
		return;
	s = sample(d);
	if (!s)
		return; /* a gap in the series, not a stale copy */
	json_decref(h->ring[h->head]);
	h->ring[h->head] = s;
	h->head = (h->head + 1) % GVD_HISTORY_MAX;
	if (h->n < GVD_HISTORY_MAX)
		h->n++;
}

json_t *gvd_history_json(struct gvd *d, int seconds)
{
	struct gvd_history *h = d->history;
	json_t *arr = json_array();
	int n, k, first;

	if (!arr || !h)
		return arr;
	n = seconds < h->n ? seconds : h->n;
	first = (h->head - n + GVD_HISTORY_MAX) % GVD_HISTORY_MAX;
	for (k = 0; k < n; k++)
		json_array_append(arr, h->ring[(first + k) % GVD_HISTORY_MAX]);
	return arr;
}

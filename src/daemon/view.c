/* A snapshot of the node for one request: hardware from the backend,
 * instances and settings from the store, in placement's shape. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "gpuvisor/xfuncs.h"

/* No framebuffer is held back from timeslice partitions: the catalog's
 * C-series sizes already leave the driver's reserve out. */
#define GVD_RESERVE_MIB 0

enum gv_mode gvd_gpu_mode(struct gvd *d, const struct gv_gpu_info *g)
{
	enum gv_mode m = GV_MODE_PASSTHROUGH;

	if (g->mig_mode)
		return GV_MODE_MIG;
	if (gv_store_gpu_get_mode(d->st, g->uuid, &m, NULL) != 0)
		return GV_MODE_PASSTHROUGH;
	/* MIG turned off behind our back: the GPU is whole again */
	return m == GV_MODE_MIG ? GV_MODE_PASSTHROUGH : m;
}

int gvd_view_gpu_by_uuid(const struct gvd_view *v, const char *uuid)
{
	int i;

	for (i = 0; i < v->hw.n_gpus; i++)
		if (strcmp(v->hw.gpus[i].uuid, uuid) == 0)
			return i;
	return -1;
}

int gvd_view_gpu_ref(const struct gvd_view *v, const char *ref, struct gv_err *err)
{
	int idx, ret;

	ret = gv_apireq_gpu_ref(ref, &idx, err);
	if (ret)
		return ret;
	if (idx < 0)
		idx = gvd_view_gpu_by_uuid(v, ref);
	if (idx < 0 || idx >= v->hw.n_gpus)
		return gv_err_set(err, ENOENT, "no GPU '%.64s' on this node (it has %d: 0-%d)", ref,
				  v->hw.n_gpus, v->hw.n_gpus - 1);
	return idx;
}

int gvd_view_load(struct gvd *d, struct gvd_view *v, struct gv_err *err)
{
	size_t i, k;
	int g, ret;

	memset(v, 0, sizeof(*v));
	ret = d->be->ops->query(d->be, &v->hw, err);
	if (ret)
		goto out;
	ret = gv_store_inst_list(d->st, &v->insts, &v->n_insts, err);
	if (ret)
		goto out;
	v->gpu_of = gv_xcalloc(err, v->n_insts + 1, sizeof(*v->gpu_of));
	v->pinsts = gv_xcalloc(err, v->n_insts + 1, sizeof(*v->pinsts));
	if (!v->gpu_of || !v->pinsts) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < v->n_insts; i++)
		v->gpu_of[i] = gvd_view_gpu_by_uuid(v, v->insts[i].gpu_uuid);
	/* instances grouped per GPU so each GPU points at a contiguous run */
	k = 0;
	for (g = 0; g < v->hw.n_gpus; g++) {
		const struct gv_gpu_info *gi = &v->hw.gpus[g];
		struct gv_place_gpu *pg = &v->pg[g];

		v->mode[g] = gvd_gpu_mode(d, gi);
		pg->index = g;
		pg->uuid = gi->uuid;
		pg->model = gi->model;
		pg->mem_mib = gi->mem_mib;
		pg->reserve_mib = GVD_RESERVE_MIB;
		pg->mode = v->mode[g];
		pg->insts = &v->pinsts[k];
		for (i = 0; i < v->n_insts; i++) {
			const struct gv_store_inst *in = &v->insts[i];
			struct gv_place_inst *pi;

			if (v->gpu_of[i] != g)
				continue;
			pi = &v->pinsts[k++];
			pi->profile =
				gi->model ? gv_model_find_profile(gi->model, in->profile) : NULL;
			pi->kind = in->kind;
			pi->start = in->start;
			pi->fb_mib = in->fb_mib;
			pg->n_insts++;
		}
	}
	v->node.gpus = v->pg;
	v->node.n_gpus = v->hw.n_gpus;
	v->node.mixed_size = d->o.mixed_size;
out:
	if (ret)
		gvd_view_free(v);
	return ret;
}

void gvd_view_free(struct gvd_view *v)
{
	free(v->insts);
	free(v->gpu_of);
	free(v->pinsts);
	v->insts = NULL;
	v->gpu_of = NULL;
	v->pinsts = NULL;
	v->n_insts = 0;
}

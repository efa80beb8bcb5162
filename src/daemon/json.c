/* JSON shapes of the API's resources (docs/api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "gpuvisor/acct.h"
#include "gpuvisor/nametab.h"
#include "gpuvisor/rundir.h"

void gvd_time_str(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void gvd_acct_path(struct gvd *d, const char *id, char out[PATH_MAX])
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_ACCT, id, out, PATH_MAX);
}

void gvd_limit_path(struct gvd *d, const char *id, char out[PATH_MAX])
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_LIMIT, id, out, PATH_MAX);
}

/* The larger of the file's total and the sum of its processes' slots:
 * a tenant that writes the total down to make room for itself still
 * shows what its processes charged. */
int64_t gvd_acct_used(struct gvd *d, const struct gv_store_inst *in)
{
	char path[PATH_MAX];
	struct gv_acct *a = NULL;
	struct gv_acct_usage *u;
	uint64_t used, sum = 0;
	int n, k;

	if (in->kind != GV_PROFILE_TIMESLICE)
		return -1;
	gvd_acct_path(d, in->id, path);
	if (gv_acct_open(path, &a, NULL) != 0)
		return -1;
	used = gv_acct_used(a);
	u = calloc(GV_ACCT_SLOTS, sizeof(*u));
	n = u ? gv_acct_slots(a, u, GV_ACCT_SLOTS) : 0;
	for (k = 0; k < n && k < GV_ACCT_SLOTS; k++)
		sum += u[k].bytes;
	free(u);
	gv_acct_close(a);
	return (int64_t)(sum > used ? sum : used);
}

int64_t gvd_acct_peak(struct gvd *d, const struct gv_store_inst *in)
{
	char path[PATH_MAX];
	struct gv_acct *a = NULL;
	int64_t peak;

	if (in->kind != GV_PROFILE_TIMESLICE)
		return -1;
	gvd_acct_path(d, in->id, path);
	if (gv_acct_open(path, &a, NULL) != 0)
		return -1;
	peak = (int64_t)gv_acct_peak(a);
	gv_acct_close(a);
	return peak;
}

static const char *matched_by(const struct gv_gpu_info *g)
{
	const struct gv_model *m = g->model;
	int i;

	if (!m)
		return NULL;
	for (i = 0; i < GV_MODEL_MAX_PCI_IDS && m->pci_ids[i]; i++)
		if (g->pci_device_id && m->pci_ids[i] == g->pci_device_id)
			return "pci_id";
	if (strcasecmp(m->name, g->name) == 0)
		return "name";
	return "memory";
}

/* "0-3 used, 4-7 free" from the MIG instances the hardware has. */
static void mig_slots_str(const struct gv_gpu_info *g, char *out, size_t cap)
{
	bool used[GV_MIG_MAX_SLOTS] = { false };
	int n = g->model ? g->model->mig_mem_slices : 0, i, s, run;
	size_t len = 0;

	out[0] = '\0';
	if (n <= 0 || n > GV_MIG_MAX_SLOTS)
		return;
	for (i = 0; i < g->n_mig; i++) {
		const struct gv_profile *p = g->mig[i].profile;
		int span = p && p->mem_slices > 0 ? p->mem_slices : 1;

		for (s = g->mig[i].start; s < g->mig[i].start + span && s < n; s++)
			if (s >= 0)
				used[s] = true;
	}
	for (s = 0; s < n; s = run) {
		for (run = s + 1; run < n && used[run] == used[s]; run++)
			;
		if (run - 1 == s)
			len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%d %s",
						s ? ", " : "", s, used[s] ? "used" : "free");
		else
			len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%d-%d %s",
						s ? ", " : "", s, run - 1,
						used[s] ? "used" : "free");
	}
}

json_t *gvd_json_gpu(struct gvd *d, const struct gvd_view *v, int gi)
{
	const struct gv_gpu_info *g = &v->hw.gpus[gi];
	const char *mb = matched_by(g);
	uint64_t alloc = 0;
	char slots[128];
	size_t i;
	int n = 0;

	(void)d;
	for (i = 0; i < v->n_insts; i++) {
		if (v->gpu_of[i] != gi)
			continue;
		n++;
		alloc += v->insts[i].fb_mib;
	}
	mig_slots_str(g, slots, sizeof(slots));
	return json_pack("{s:i, s:s, s:s, s:o, s:o, s:s, s:I, s:s, s:b, s:b, s:i, s:I, s:I, s:o}",
			 "index", g->index, "uuid", g->uuid, "name", g->name, "model",
			 g->model ? json_string(g->model->id) : json_null(), "matched_by",
			 mb ? json_string(mb) : json_null(), "pci_bus_id", g->pci_bus_id, "mem_mib",
			 (json_int_t)g->mem_mib, "mode", gv_mode_name(v->mode[gi]), "mig_capable",
			 g->mig_capable, "mig_mode", g->mig_mode, "instances", n, "allocated_mib",
			 (json_int_t)alloc, "free_mib",
			 (json_int_t)(alloc < g->mem_mib ? g->mem_mib - alloc : 0), "mig_slots",
			 (v->mode[gi] == GV_MODE_MIG && slots[0]) ? json_string(slots)
								  : json_null());
}

/* The instances a workload spans, in its order (the view's members of
 * in's span, by place); null for a workload on one instance. */
static json_t *json_span(const struct gvd_view *v, const struct gv_store_inst *in)
{
	json_t *a;

	if (!in->wl_span[0] || !v)
		return json_null();
	a = json_array();
	for (int pos = 0; a && pos < GV_APIREQ_SPAN_MAX; pos++)
		for (size_t i = 0; i < v->n_insts; i++)
			if (!strcmp(v->insts[i].wl_span, in->wl_span) &&
			    v->insts[i].wl_span_pos == pos && v->insts[i].wl_pid == in->wl_pid)
				json_array_append_new(a, json_string(v->insts[i].id));
	return a ? a : json_null();
}

json_t *gvd_json_instance(struct gvd *d, const struct gvd_view *v, const struct gv_store_inst *in)
{
	char created[32], started[32];
	json_t *wl = json_null(), *o;
	int gpu = v ? gvd_view_gpu_by_uuid(v, in->gpu_uuid) : -1;
	int64_t used = gvd_acct_used(d, in), peak = gvd_acct_peak(d, in);

	gvd_time_str(in->created, created);
	if (in->wl_pid > 0) {
		gvd_time_str(in->wl_since, started);
		/* a suspended workload keeps its partition (its charges stay in
		 * mem_used_bytes) while its GPU memory is in host memory */
		wl = json_pack("{s:i, s:i, s:s, s:o, s:s, s:o}", "pid", (int)in->wl_pid, "pgid",
			       (int)in->wl_pgid, "started", started, "mem_used_bytes",
			       used >= 0 ? json_integer(used) : json_null(), "state",
			       gvd_wl_state_name(in->wl_state), "span", json_span(v, in));
	}
	o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:o, s:o}", "id", in->id,
		      "gpu", gpu >= 0 ? json_integer(gpu) : json_null(), "gpu_uuid", in->gpu_uuid,
		      "profile", in->profile, "kind", gv_profile_kind_name(in->kind), "start",
		      in->start >= 0 ? json_integer(in->start) : json_null(), "fb_mib",
		      (json_int_t)in->fb_mib, "state", gv_inst_state_name(in->state), "device_uuid",
		      in->device_uuid, "created", created, "mem_used_bytes",
		      used >= 0 ? json_integer(used) : json_null(), "workload", wl);
	if (o && (json_object_set_new(o, "mem_peak_bytes",
				      peak >= 0 ? json_integer(peak) : json_null()) < 0 ||
		  json_object_set_new(o, "owner",
				      in->owner[0] ? json_string(in->owner) : json_null()) < 0)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

GV_NAMETAB_NAME(gvd_wl_state, enum gv_wl_state, "unknown", { GV_WL_RUNNING, "running" },
		{ GV_WL_SUSPENDING, "suspending" }, { GV_WL_SUSPENDED, "suspended" },
		{ GV_WL_RESUMING, "resuming" })

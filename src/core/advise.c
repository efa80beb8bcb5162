/* gv_advise: which mode, profile and place suit a workload on this node
 * (rules in include/gpuvisor/advise.h and docs/cli.md, "advise"). Pure:
 * every "what fits" is gv_place() on a private copy of the snapshot, to
 * which each replica placed is added before the next one is asked for. */
#include "gpuvisor/advise.h"
#include "gpuvisor/nametab.h"
#include "gpuvisor/xfuncs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Instances a working copy holds per GPU: the snapshot's and the replicas
 * added (a GPU holds at most a few dozen: 20 x 4c on an H100). */
#define WORK_INSTS_MAX 128

struct work {
	struct gv_place_gpu gpus[GV_NODE_MAX_GPUS];
	struct gv_place_inst insts[GV_NODE_MAX_GPUS][WORK_INSTS_MAX];
	int replicas_on[GV_NODE_MAX_GPUS]; /* replicas of this advice per GPU */
	bool switched[GV_NODE_MAX_GPUS];   /* mode changed by this plan */
	struct gv_place_node node;
};

/* One profile request for one GPU. */
struct pick {
	char name[GV_NAME_MAX];
	uint64_t fb_req; /* framebuffer to ask for (custom timeslice), else 0 */
	uint64_t fb;	 /* what the instance gets */
	bool whole;	 /* a MIG profile spanning the whole GPU (7g.80gb) */
	const struct gv_profile *p;
};

GV_NAMETAB(gv_advise_workload, enum gv_advise_workload, "?",
	   "the workload must be training, inference or dev, not '%s'",
	   { GV_ADVISE_TRAINING, "training" }, { GV_ADVISE_INFERENCE, "inference" },
	   { GV_ADVISE_DEV, "dev" })

static void reason(struct gv_advice_opt *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reason(struct gv_advice_opt *o, const char *fmt, ...)
{
	va_list ap;

	if (o->n_reasons >= GV_ADVISE_REASONS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(o->reasons[o->n_reasons++], GV_ADVISE_REASON_MAX, fmt, ap);
	va_end(ap);
}

static void command(struct gv_advice_opt *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void command(struct gv_advice_opt *o, const char *fmt, ...)
{
	va_list ap;

	if (o->n_commands >= GV_ADVISE_COMMANDS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(o->commands[o->n_commands++], GV_ADVISE_COMMAND_MAX, fmt, ap);
	va_end(ap);
}

/* ---- facts about a GPU ---------------------------------------------------- */

/* The memory a whole GPU gives: what the device reports, or the catalog's
 * nominal size when larger (a user asking "80G" of an 80 GB GPU means it). */
static uint64_t gpu_mem(const struct gv_place_gpu *g)
{
	uint64_t m = g->mem_mib;

	if (g->model && g->model->mem_mib > m)
		m = g->model->mem_mib;
	return m;
}

static bool mig_capable(const struct gv_model *m)
{
	return m && m->mig_mem_slices > 0;
}

static const char *model_name(const struct gv_place_gpu *g)
{
	return g->model ? g->model->id : "unknown model";
}

/* The profile for mem in mode on g: timeslice the smallest C-series vGPU
 * below the whole board (a custom size of at most half an uncatalogued
 * GPU), MIG the smallest GPU-instance profile without media extensions
 * (equal memory: more compute slices when latency matters, else fewer),
 * passthrough the whole GPU. whole: also profiles as large as the GPU
 * (7g.80gb). False when none holds mem. */
static bool pick_profile(const struct gv_place_gpu *g, enum gv_mode mode,
			 const struct gv_advise_req *req, bool whole, struct pick *out)
{
	const struct gv_model *m = g->model;
	const struct gv_profile *best = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (mode == GV_MODE_PASSTHROUGH) {
		if (req->memory_mib > gpu_mem(g))
			return false;
		snprintf(out->name, sizeof(out->name), "passthrough");
		out->fb = g->mem_mib ? g->mem_mib : gpu_mem(g);
		return true;
	}
	if (mode == GV_MODE_TIMESLICE && !m) {
		if (req->memory_mib > g->mem_mib / 2)
			return false;
		snprintf(out->name, sizeof(out->name), "timeslice");
		out->fb_req = out->fb = req->memory_mib;
		return true;
	}
	if (!m || (mode == GV_MODE_MIG && !mig_capable(m)))
		return false;
	for (i = 0; i < m->n_profiles; i++) {
		const struct gv_profile *p = &m->profiles[i];

		if (p->fb_mib < req->memory_mib)
			continue;
		if (mode == GV_MODE_TIMESLICE &&
		    (p->kind != GV_PROFILE_TIMESLICE || p->fb_mib >= m->mem_mib))
			continue;
		if (mode == GV_MODE_MIG && (p->kind != GV_PROFILE_MIG || p->media_ext ||
					    (!whole && p->mem_slices >= m->mig_mem_slices)))
			continue;
		if (!best || p->fb_mib < best->fb_mib ||
		    (p->fb_mib == best->fb_mib && mode == GV_MODE_MIG &&
		     (req->latency_sensitive ? p->compute_slices > best->compute_slices
					     : p->compute_slices < best->compute_slices)))
			best = p;
	}
	if (!best)
		return false;
	snprintf(out->name, sizeof(out->name), "%s", best->name);
	out->fb = best->fb_mib;
	out->whole = best->kind == GV_PROFILE_MIG && best->mem_slices >= m->mig_mem_slices;
	out->p = best;
	return true;
}

/* Equal-size mode: a timeslice GPU that already holds instances of one
 * size takes only that size, so a larger size that holds mem is the pick
 * there (h100-16c beside h100-16c, not h100-8c). */
static void equal_size_pick(const struct gv_place_gpu *g, bool mixed,
			    const struct gv_advise_req *req, struct pick *k)
{
	uint64_t size = 0;
	size_t j;
	int i;

	if (mixed || g->mode != GV_MODE_TIMESLICE)
		return;
	for (i = 0; i < g->n_insts && !size; i++)
		if (g->insts[i].kind == GV_PROFILE_TIMESLICE)
			size = g->insts[i].fb_mib;
	if (size == 0 || size == k->fb || size < req->memory_mib)
		return;
	if (!g->model) {
		k->fb_req = k->fb = size;
		return;
	}
	for (j = 0; j < g->model->n_profiles; j++) {
		const struct gv_profile *p = &g->model->profiles[j];

		if (p->kind == GV_PROFILE_TIMESLICE && p->fb_mib == size) {
			snprintf(k->name, sizeof(k->name), "%s", p->name);
			k->fb = size;
			k->p = p;
			return;
		}
	}
}

/* Whether g can be shared with other tenants and still give mem: a
 * timeslice or MIG partition smaller than the whole GPU holds it. */
static bool shareable(const struct gv_place_gpu *g, const struct gv_advise_req *req)
{
	struct pick k;

	return pick_profile(g, GV_MODE_TIMESLICE, req, false, &k) ||
	       pick_profile(g, GV_MODE_MIG, req, false, &k);
}

/* ---- the working copy --------------------------------------------------- */

static int work_init(struct work *w, const struct gv_place_node *node, struct gv_err *err)
{
	int g, i;

	memset(w, 0, sizeof(*w));
	for (g = 0; g < node->n_gpus; g++) {
		const struct gv_place_gpu *src = &node->gpus[g];

		if (src->n_insts < 0 || src->n_insts > WORK_INSTS_MAX - GV_ADVISE_REPLICAS_MAX ||
		    (src->n_insts > 0 && !src->insts))
			return gv_err_set(err, EOVERFLOW,
					  "gpu %d: %d instances, advise takes at most %d", g,
					  src->n_insts, WORK_INSTS_MAX - GV_ADVISE_REPLICAS_MAX);
		w->gpus[g] = *src;
		w->gpus[g].index = g;
		for (i = 0; i < src->n_insts; i++)
			w->insts[g][i] = src->insts[i];
		w->gpus[g].insts = w->insts[g];
	}
	w->node.gpus = w->gpus;
	w->node.n_gpus = node->n_gpus;
	w->node.mixed_size = node->mixed_size;
	return 0;
}

static void work_add(struct work *w, const struct gv_place_result *r)
{
	struct gv_place_gpu *g = &w->gpus[r->gpu];
	struct gv_place_inst *in = &w->insts[r->gpu][g->n_insts++];

	in->profile = r->profile;
	in->kind = r->kind;
	in->start = r->start;
	in->fb_mib = r->fb_mib;
	w->replicas_on[r->gpu]++;
}

/* ---- one plan: every replica in one mode ---------------------------------- */

static bool allowed(const struct gv_advise_req *req, int g)
{
	return req->gpu < 0 || req->gpu == g;
}

static bool mode_fits_gpu(const struct gv_place_gpu *g, enum gv_mode mode,
			  const struct gv_advise_req *req)
{
	struct pick k;

	return pick_profile(g, mode, req, true, &k);
}

/* Whether pick a is a better use of its GPU than b: a MIG share before a
 * whole-GPU MIG instance, then the smaller framebuffer. */
static bool better_pick(const struct pick *a, const struct pick *b)
{
	if (a->whole != b->whole)
		return !a->whole;
	return a->fb < b->fb;
}

/* Places one replica: among the GPUs that can take it, those with the
 * fewest replicas of this plan, then the better pick (better_pick), then
 * the placement code's own choice (pack) among the GPUs left. -ENOSPC with
 * every GPU's refusal in err. */
static int place_replica(struct work *w, enum gv_mode mode, const struct gv_advise_req *req,
			 struct gv_place_result *res, struct pick *used, struct gv_err *err)
{
	struct pick picks[GV_NODE_MAX_GPUS];
	bool ok[GV_NODE_MAX_GPUS] = { false };
	struct gv_place_gpu sub[GV_NODE_MAX_GPUS];
	struct gv_place_node sn = { .gpus = sub, .mixed_size = w->node.mixed_size };
	struct gv_place_req pr = { .start = -1, .policy = GV_PLACE_PACK };
	char why[GV_ERR_MSG_MAX];
	size_t off = 0;
	int g, min_count = -1, best = -1, ret;

	why[0] = '\0';
	for (g = 0; g < w->node.n_gpus; g++) {
		struct gv_err e = { 0 };

		if (!allowed(req, g))
			continue;
		if (!pick_profile(&w->gpus[g], mode, req, true, &picks[g])) {
			if (off < sizeof(why) && mode == GV_MODE_PASSTHROUGH)
				off += (size_t)snprintf(why + off, sizeof(why) - off,
							"%sgpu %d (%s) has %llu MiB in all",
							off ? "; " : "", g, model_name(&w->gpus[g]),
							(unsigned long long)gpu_mem(&w->gpus[g]));
			else if (off < sizeof(why) && mode == GV_MODE_MIG &&
				 !mig_capable(w->gpus[g].model))
				off += (size_t)snprintf(why + off, sizeof(why) - off,
							"%sgpu %d (%s) has no MIG", off ? "; " : "",
							g, model_name(&w->gpus[g]));
			else if (off < sizeof(why))
				off += (size_t)snprintf(
					why + off, sizeof(why) - off,
					"%sgpu %d (%s): no %s profile holds %llu MiB",
					off ? "; " : "", g, model_name(&w->gpus[g]),
					gv_mode_name(mode), (unsigned long long)req->memory_mib);
			continue;
		}
		if (mode == GV_MODE_TIMESLICE)
			equal_size_pick(&w->gpus[g], w->node.mixed_size, req, &picks[g]);
		pr.profile = picks[g].name;
		pr.gpu = g;
		pr.fb_mib = picks[g].fb_req;
		if (gv_place(&w->node, &pr, res, &e) == 0) {
			ok[g] = true;
			if (min_count < 0 || w->replicas_on[g] < min_count)
				min_count = w->replicas_on[g];
		} else if (off < sizeof(why)) {
			off += (size_t)snprintf(why + off, sizeof(why) - off, "%s%s",
						off ? "; " : "", e.msg);
		}
	}
	if (min_count < 0)
		return gv_err_set(err, ENOSPC, "%s", why[0] ? why : "no GPU to consider");
	/* fewest replicas first, then the better pick */
	for (g = 0; g < w->node.n_gpus; g++)
		if (ok[g] && w->replicas_on[g] == min_count &&
		    (best < 0 || better_pick(&picks[g], &picks[best])))
			best = g;
	for (g = 0; g < w->node.n_gpus; g++)
		if (ok[g] && w->replicas_on[g] == min_count && picks[g].fb == picks[best].fb &&
		    strcasecmp(picks[g].name, picks[best].name) == 0)
			sub[sn.n_gpus++] = w->gpus[g];
	pr.profile = picks[best].name;
	pr.gpu = -1;
	pr.fb_mib = picks[best].fb_req;
	ret = gv_place(&sn, &pr, res, err);
	if (ret)
		return ret;
	res->gpu = sub[res->gpu].index;
	*used = picks[res->gpu];
	return 0;
}

static void slot_command(struct gv_advice_opt *o, const struct gv_advise_slot *s)
{
	if (s->kind == GV_PROFILE_TIMESLICE && !strcmp(s->profile, "timeslice")) {
		if (s->fb_mib % 1024 == 0)
			command(o, "gpuvisor create --framebuffer %llug --gpu %d",
				(unsigned long long)(s->fb_mib / 1024), s->gpu);
		else
			command(o, "gpuvisor create --framebuffer %llum --gpu %d",
				(unsigned long long)s->fb_mib, s->gpu);
	} else if (s->start >= 0) {
		command(o, "gpuvisor create --profile %s --gpu %d --placement %d", s->profile,
			s->gpu, s->start);
	} else {
		command(o, "gpuvisor create --profile %s --gpu %d", s->profile, s->gpu);
	}
}

/* The node facts of one placed replica. */
static void slot_reason(struct gv_advice_opt *o, const struct work *w, int r,
			const struct gv_advise_slot *s, const struct gv_advise_req *req)
{
	const struct gv_place_gpu *g = &w->gpus[s->gpu];
	char where[32] = "";
	char more[GV_NAME_MAX + 64] = "";

	if (s->start >= 0)
		snprintf(where, sizeof(where), " at slot %d", s->start);
	if (s->free_after >= 0)
		snprintf(more, sizeof(more), "; %d more %s fit%s there after %s", s->free_after,
			 s->profile, s->free_after == 1 ? "s" : "",
			 req->replicas > 1 ? "this" : "it");
	if (req->replicas > 1)
		reason(o, "Replica %d: gpu %d (%s, %s mode) takes %s%s (%llu MiB)%s.", r + 1,
		       s->gpu, model_name(g), gv_mode_name(g->mode), s->profile, where,
		       (unsigned long long)s->fb_mib, more);
	else
		reason(o, "gpu %d (%s, %s mode) takes %s%s (%llu MiB)%s.", s->gpu, model_name(g),
		       gv_mode_name(g->mode), s->profile, where, (unsigned long long)s->fb_mib,
		       more);
}

/* Plans every replica in mode. switch_empty: GPUs without instances whose
 * model can take the workload in mode are set to it first (a plan that
 * switches nothing is not made: false). */
static bool plan(const struct work *base, enum gv_mode mode, bool switch_empty,
		 const struct gv_advise_req *req, struct gv_advice_opt *o)
{
	struct work *w = malloc(sizeof(*w));
	struct gv_err e = { 0 };
	bool any = false;
	int g, r, k;

	memset(o, 0, sizeof(*o));
	o->mode = mode;
	if (!w) {
		reason(o, "out of memory while planning");
		return true;
	}
	memcpy(w, base, sizeof(*w));
	for (g = 0; g < w->node.n_gpus; g++) {
		w->gpus[g].insts = w->insts[g];
		if (switch_empty && allowed(req, g) && w->gpus[g].n_insts == 0 &&
		    w->gpus[g].mode != mode && mode_fits_gpu(&w->gpus[g], mode, req)) {
			w->gpus[g].mode = mode;
			w->switched[g] = true;
			any = true;
		}
	}
	w->node.gpus = w->gpus;
	if (switch_empty && !any) {
		free(w);
		return false;
	}
	for (r = 0; r < req->replicas; r++) {
		struct gv_place_result res;
		struct gv_advise_slot *s = &o->slots[o->n_slots];
		struct pick used;

		if (place_replica(w, mode, req, &res, &used, &e)) {
			if (req->replicas > 1)
				reason(o, "replica %d of %d has no place%s: %s", r + 1,
				       req->replicas, switch_empty ? " even so" : " now", e.msg);
			else
				reason(o, "It has no place%s: %s",
				       switch_empty ? " even so" : " now", e.msg);
			break;
		}
		work_add(w, &res);
		s->free_after = -1;
		if (res.profile && res.kind != GV_PROFILE_PASSTHROUGH)
			s->free_after = gv_place_free_count(&w->gpus[res.gpu], res.profile,
							    w->node.mixed_size);
		s->gpu = res.gpu;
		snprintf(s->profile, sizeof(s->profile), "%s", used.name);
		s->kind = res.kind;
		s->start = res.start;
		s->fb_mib = res.fb_mib;
		o->n_slots++;
	}
	o->fits_now = o->n_slots == req->replicas;
	if (o->n_slots > 0)
		snprintf(o->profile, sizeof(o->profile), "%s", o->slots[0].profile);
	/* none placed: the profile it would take, the best pick of any GPU */
	if (o->n_slots == 0) {
		struct pick pk, best_pk;
		bool have = false;

		for (g = 0; g < w->node.n_gpus; g++)
			if (allowed(req, g) && pick_profile(&w->gpus[g], mode, req, true, &pk) &&
			    (!have || better_pick(&pk, &best_pk))) {
				best_pk = pk;
				have = true;
			}
		if (have)
			snprintf(o->profile, sizeof(o->profile), "%s", best_pk.name);
	}
	for (g = 0; g < w->node.n_gpus; g++)
		if (w->switched[g] && w->replicas_on[g] > 0)
			o->mode_gpus[o->n_mode_gpus++] = g;
	/* facts: the first few replicas one by one, the rest counted */
	for (r = 0; r < o->n_slots && r < 4; r++)
		slot_reason(o, w, r, &o->slots[r], req);
	if (o->n_slots > 4)
		reason(o, "Replicas 5-%d: see the placement.", o->n_slots);
	if (req->replicas > 1 && o->n_slots > 1) {
		char gl[96] = "";
		size_t off = 0;
		int n = 0;

		for (g = 0; g < w->node.n_gpus; g++)
			if (w->replicas_on[g] > 0 && off < sizeof(gl)) {
				off += (size_t)snprintf(gl + off, sizeof(gl) - off, "%s%d",
							n ? ", " : "", g);
				n++;
			}
		if (n == 1)
			reason(o,
			       "All %d replicas are on gpu %s: a failure or reset of that GPU "
			       "takes them all down.",
			       o->n_slots, gl);
		else
			reason(o,
			       "%d replicas spread over %d GPUs (%s): a GPU's failure or reset "
			       "takes down only the replicas on it.",
			       o->n_slots, n, gl);
	}
	for (k = 0; k < o->n_mode_gpus; k++) {
		const struct gv_place_gpu *src = &base->gpus[o->mode_gpus[k]];

		reason(o, "set gpu %d to %s mode (it has no instances; it is in %s mode now).",
		       o->mode_gpus[k], gv_mode_name(mode), gv_mode_name(src->mode));
	}
	if (o->fits_now) {
		for (k = 0; k < o->n_mode_gpus; k++)
			command(o, "gpuvisor mode %d %s", o->mode_gpus[k], gv_mode_name(mode));
		for (r = 0; r < o->n_slots; r++)
			slot_command(o, &o->slots[r]);
	}
	free(w);
	return true;
}

/* How many GPUs an option's replicas are on. */
static int n_gpus_used(const struct gv_advice_opt *o)
{
	bool on[GV_NODE_MAX_GPUS] = { false };
	int i, n = 0;

	for (i = 0; i < o->n_slots; i++)
		if (!on[o->slots[i].gpu]) {
			on[o->slots[i].gpu] = true;
			n++;
		}
	return n;
}

/* ---- the rules ------------------------------------------------------------ */

static const char *const TS_HONEST =
	"A timeslice partition is enforced by gpuvisor's shim inside the workload's "
	"process: it stops accidents and greedy frameworks, not a tenant that loads the "
	"real driver on purpose.";
static const char *const UNTRUSTED_WARN =
	"WARNING: the tenants do not trust each other, and only MIG isolates faults, "
	"memory and memory bandwidth in hardware: under time slicing one tenant's fault "
	"or memory traffic reaches the others.";

/* Notes on an option in a mode the table does not name for this request. */
static void tradeoffs(struct gv_advice_opt *o, const struct gv_advise_req *req)
{
	switch (o->mode) {
	case GV_MODE_TIMESLICE:
		if (!req->trusted)
			reason(o, "%s", UNTRUSTED_WARN);
		if (req->latency_sensitive || req->workload == GV_ADVISE_INFERENCE)
			reason(o, "Under time slicing the workload waits for the other tenants' "
				  "slices (1-30 ms each), so its latency varies with their load.");
		reason(o, "%s", TS_HONEST);
		break;
	case GV_MODE_MIG:
		if (req->workload == GV_ADVISE_TRAINING)
			reason(o, "A MIG instance has a fraction of the GPU's SMs: training runs "
				  "slower than on a whole GPU.");
		break;
	case GV_MODE_PASSTHROUGH:
		reason(o, "Passthrough gives each replica a whole GPU, isolated by exclusivity; "
			  "nothing else can use that GPU meanwhile.");
		break;
	}
}

/* Largest shared partition on the GPUs considered, for the reason of a
 * passthrough chosen by size: "h100-40c (40960 MiB) on gpu 0". */
static void largest_share(const struct work *w, const struct gv_advise_req *req, char *buf,
			  size_t len)
{
	uint64_t best = 0;
	int g;
	size_t i;

	snprintf(buf, len, "none");
	for (g = 0; g < w->node.n_gpus; g++) {
		const struct gv_place_gpu *pg = &w->gpus[g];
		const struct gv_model *m = pg->model;

		if (!allowed(req, g))
			continue;
		if (!m) {
			if (pg->mem_mib / 2 > best) {
				best = pg->mem_mib / 2;
				snprintf(buf, len, "a %llu MiB timeslice partition on gpu %d",
					 (unsigned long long)best, g);
			}
			continue;
		}
		for (i = 0; i < m->n_profiles; i++) {
			const struct gv_profile *p = &m->profiles[i];
			bool share =
				(p->kind == GV_PROFILE_TIMESLICE && p->fb_mib < m->mem_mib) ||
				(p->kind == GV_PROFILE_MIG && p->mem_slices < m->mig_mem_slices);

			if (share && p->fb_mib > best) {
				best = p->fb_mib;
				snprintf(buf, len, "%s with %llu MiB on gpu %d", p->name,
					 (unsigned long long)best, g);
			}
		}
	}
}

/* The table's choice, with its rule in words in *why. */
static enum gv_mode choose_mode(const struct work *w, const struct gv_advise_req *req, char *why,
				size_t len)
{
	bool any_share = false, any_mig = false;
	char big[128];
	int g;

	for (g = 0; g < w->node.n_gpus; g++) {
		struct pick k;

		if (!allowed(req, g))
			continue;
		any_share |= shareable(&w->gpus[g], req);
		any_mig |= pick_profile(&w->gpus[g], GV_MODE_MIG, req, false, &k);
	}
	if (!any_share) {
		largest_share(w, req, big, sizeof(big));
		snprintf(why, len,
			 "Passthrough: the rule for one workload at full performance. %llu MiB is "
			 "more than any shared partition of the GPUs considered (the largest: %s), "
			 "so the workload needs a whole GPU.",
			 (unsigned long long)req->memory_mib, big);
		return GV_MODE_PASSTHROUGH;
	}
	if (req->workload == GV_ADVISE_TRAINING && req->latency_sensitive) {
		snprintf(why, len,
			 "Passthrough: the rule for one workload at full performance. Latency-"
			 "sensitive training gets all the GPU's SMs and no time slices shared with "
			 "others.");
		return GV_MODE_PASSTHROUGH;
	}
	if (!req->trusted || req->workload == GV_ADVISE_INFERENCE || req->latency_sensitive) {
		const char *rule =
			!req->trusted ? "the rule for multitenancy: the tenants do not trust each "
					"other, and only MIG isolates faults, memory and memory "
					"bandwidth in hardware"
			: req->workload == GV_ADVISE_INFERENCE
				? "the rule for production inference: dedicated compute and "
				  "memory slices give steady latency, unaffected by other tenants"
				: "latency-sensitive dev/test: dedicated slices, no waiting for "
				  "other tenants' time slices";

		if (any_mig) {
			snprintf(why, len, "MIG: %s.", rule);
			return GV_MODE_MIG;
		}
		if (!req->trusted || req->latency_sensitive) {
			snprintf(why, len,
				 "Passthrough: MIG would be the choice (%s), but no GPU considered "
				 "has a MIG profile with %llu MiB; a whole GPU isolates by "
				 "exclusivity and has no other tenant's slices to wait for.",
				 rule, (unsigned long long)req->memory_mib);
			return GV_MODE_PASSTHROUGH;
		}
		snprintf(why, len,
			 "Time slicing: MIG would be the choice (%s), but no GPU considered has a "
			 "MIG profile with %llu MiB.",
			 rule, (unsigned long long)req->memory_mib);
		return GV_MODE_TIMESLICE;
	}
	snprintf(why, len,
		 "Time slicing: the rule for %s: the GPU is shared in time, each tenant gets a "
		 "fixed memory partition and all the cores during its slices.",
		 req->workload == GV_ADVISE_TRAINING ? "training" : "dev/test");
	return GV_MODE_TIMESLICE;
}

/* "h100-8c is the smallest timeslice profile of the h100-80gb with at
 * least 6144 MiB" for the first replica's choice. */
static void profile_reason(struct gv_advice_opt *o, const struct work *w,
			   const struct gv_advise_req *req)
{
	const struct gv_advise_slot *s = &o->slots[0];
	const struct gv_place_gpu *g = &w->gpus[s->gpu];
	struct pick k;

	if (o->n_slots == 0 || s->kind == GV_PROFILE_PASSTHROUGH)
		return;
	if (pick_profile(g, o->mode, req, true, &k) && k.fb != s->fb_mib)
		reason(o,
		       "gpu %d shares its memory in equal sizes and already holds %llu MiB "
		       "instances, so %s rather than %s.",
		       s->gpu, (unsigned long long)s->fb_mib, s->profile, k.name);
	else if (!g->model)
		reason(o,
		       "gpu %d's model is not in the catalog: it has no MIG, and time slicing "
		       "there takes a partition of exactly %llu MiB.",
		       s->gpu, (unsigned long long)s->fb_mib);
	else
		reason(o, "%s is the smallest %s profile of the %s with at least %llu MiB%s.",
		       s->profile, gv_mode_name(o->mode), g->model->id,
		       (unsigned long long)req->memory_mib,
		       o->mode == GV_MODE_MIG && req->latency_sensitive
			       ? " (of those with equal memory, the one with the most compute "
				 "slices, as latency matters)"
			       : "");
}

static int check(const struct gv_place_node *node, const struct gv_advise_req *req,
		 struct gv_err *err)
{
	if (!node || !req || node->n_gpus < 0 || node->n_gpus > GV_NODE_MAX_GPUS ||
	    (node->n_gpus > 0 && !node->gpus))
		return gv_err_set(err, EINVAL, "advise: bad node");
	if (req->workload != GV_ADVISE_TRAINING && req->workload != GV_ADVISE_INFERENCE &&
	    req->workload != GV_ADVISE_DEV)
		return gv_err_set(err, EINVAL, "workload must be training, inference or dev");
	if (req->memory_mib < 1 || req->memory_mib > GV_ADVISE_MEMORY_MAX_MIB)
		return gv_err_set(err, EINVAL, "memory must be between 1 MiB and 1 PiB");
	if (req->replicas < 1 || req->replicas > GV_ADVISE_REPLICAS_MAX)
		return gv_err_set(err, EINVAL, "replicas must be between 1 and %d",
				  GV_ADVISE_REPLICAS_MAX);
	if (req->gpu < -1 || req->gpu >= node->n_gpus)
		return gv_err_set(err, ENOENT, "no GPU %d on this node (it has %d)", req->gpu,
				  node->n_gpus);
	return 0;
}

int gv_advise(const struct gv_place_node *node, const struct gv_advise_req *req,
	      struct gv_advice *out, struct gv_err *err)
{
	static const enum gv_mode others[3][2] = {
		[GV_MODE_PASSTHROUGH] = { GV_MODE_MIG, GV_MODE_TIMESLICE },
		[GV_MODE_TIMESLICE] = { GV_MODE_MIG, GV_MODE_PASSTHROUGH },
		[GV_MODE_MIG] = { GV_MODE_PASSTHROUGH, GV_MODE_TIMESLICE },
	};
	char why[GV_ADVISE_REASON_MAX];
	struct gv_advice_opt *o;
	struct work *w = NULL;
	uint64_t biggest = 0;
	bool fits_as_is[2] = { false, false };
	enum gv_mode mode;
	int g, i, ret;

	if (out)
		memset(out, 0, sizeof(*out));
	ret = check(node, req, err);
	if (ret || !out)
		return ret ? ret : gv_err_set(err, EINVAL, "advise: no output");
	w = gv_xmalloc(err, sizeof(*w));
	if (!w)
		return -ENOMEM;
	ret = work_init(w, node, err);
	if (ret)
		goto out;
	for (g = 0; g < node->n_gpus; g++)
		if (allowed(req, g) && gpu_mem(&node->gpus[g]) > biggest)
			biggest = gpu_mem(&node->gpus[g]);

	mode = choose_mode(w, req, why, sizeof(why));
	o = &out->rec;
	if (node->n_gpus == 0 || req->memory_mib > biggest) {
		o->mode = mode;
		if (mode == GV_MODE_PASSTHROUGH)
			snprintf(o->profile, sizeof(o->profile), "passthrough");
		reason(o, "%s", why);
		if (node->n_gpus == 0)
			reason(o, "This node has no GPUs: nothing can run here.");
		else
			reason(o,
			       "%llu MiB is more than the whole of any GPU considered (the "
			       "largest has %llu MiB): no mode can give it; split the workload "
			       "over several GPUs or run it on a node with larger ones.",
			       (unsigned long long)req->memory_mib, (unsigned long long)biggest);
		goto out;
	}
	plan(w, mode, false, req, o);
	/* the rule first, then the facts plan() found */
	memmove(o->reasons[1], o->reasons[0],
		sizeof(o->reasons[0]) * (size_t)(o->n_reasons < GV_ADVISE_REASONS_MAX - 1
							 ? o->n_reasons
							 : GV_ADVISE_REASONS_MAX - 1));
	snprintf(o->reasons[0], sizeof(o->reasons[0]), "%s", why);
	if (o->n_reasons < GV_ADVISE_REASONS_MAX)
		o->n_reasons++;
	profile_reason(o, w, req);
	if (mode == GV_MODE_TIMESLICE) {
		if (req->latency_sensitive)
			reason(o, "Under time slicing the workload waits for the other tenants' "
				  "slices (1-30 ms each), so its latency varies with their load.");
		reason(o, "%s", TS_HONEST);
	}
	if (o->fits_now && req->replicas > 1) {
		/* replicas that fit on fewer GPUs than a mode switch would spread
		 * them over: that spread is an alternative */
		struct gv_advice_opt *a = &out->alts[0];

		if (plan(w, mode, true, req, a) && a->fits_now && n_gpus_used(a) > n_gpus_used(o)) {
			reason(a, "This spreads the replicas over %d GPUs instead of %d.",
			       n_gpus_used(a), n_gpus_used(o));
			out->n_alts = 1;
			reason(o, "A mode change would spread the replicas over more GPUs; see "
				  "the alternative.");
		}
	}
	if (o->fits_now)
		goto out;
	reason(o, "It does not fit now with the GPUs' current modes; see the alternatives.");

	/* alternatives: the same mode after switching empty GPUs, then the
	 * other modes as the GPUs are, then the other modes after switching
	 * (a change of mode disturbs more than a second choice of mode) */
	for (i = 0; i < 5 && out->n_alts < GV_ADVISE_ALT_MAX; i++) {
		enum gv_mode m = i == 0 ? mode : others[mode][(i - 1) % 2];
		bool sw = i == 0 || i >= 3;
		struct gv_advice_opt *a = &out->alts[out->n_alts];

		/* a mode that fits as the GPUs are needs no switch */
		if (i >= 3 && fits_as_is[(i - 1) % 2])
			continue;
		if (!plan(w, m, sw, req, a) || !a->fits_now)
			continue;
		if (i >= 1 && i <= 2)
			fits_as_is[i - 1] = true;
		if (m != mode)
			tradeoffs(a, req);
		out->n_alts++;
	}
	if (out->n_alts == 0)
		reason(o, "No mode fits now, even after switching the GPUs without instances: "
			  "free room first (gpuvisor list, gpuvisor destroy) or ask for less "
			  "memory or fewer replicas.");
out:
	free(w);
	if (ret && out)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* Placement of instances on a node's GPUs (rules in docs/catalog.md,
 * "Placement"). Pure functions over a snapshot; deterministic. */
#include "gpuvisor/place.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- MIG state ----------------------------------------------------------- */

#define MIG_EXTRA_MAX 16

/* What is on a MIG GPU: the snapshot's instances plus instances placed
 * hypothetically while searching (extras). */
struct mig_state {
	const struct gv_model *model;
	const struct gv_place_inst *insts;
	int n_insts;
	const struct gv_profile *xp[MIG_EXTRA_MAX];
	int n_x;
	uint32_t used; /* memory slices in use */
	int compute;   /* compute slices in use */
	int media;     /* +me instances */
};

enum mig_fit {
	FIT_OK = 0,
	FIT_BAD_START,
	FIT_MAX,
	FIT_BASE_MAX,
	FIT_MEDIA,
	FIT_OVERLAP,
	FIT_COMPUTE,
};

/* The MIG profile an instance physically occupies. */
static const struct gv_profile *mig_base(const struct gv_profile *p)
{
	return p && p->kind == GV_PROFILE_MIG_VGPU && p->mig ? p->mig : p;
}

static bool same_profile(const struct gv_profile *a, const struct gv_profile *b)
{
	return a == b || (a && b && a->kind == b->kind && strcasecmp(a->name, b->name) == 0);
}

static uint32_t slice_mask(int start, int n)
{
	uint32_t m = 0;
	int i;

	for (i = start; i < start + n && i < 32; i++)
		if (i >= 0)
			m |= 1u << i;
	return m;
}

static void mig_state_init(struct mig_state *st, const struct gv_model *model,
			   const struct gv_place_inst *insts, int n_insts)
{
	int i;

	memset(st, 0, sizeof(*st));
	st->model = model;
	st->insts = insts;
	st->n_insts = n_insts;
	for (i = 0; i < n_insts; i++) {
		const struct gv_profile *p = insts[i].profile;

		if (!p || !gv_profile_kind_is_mig(insts[i].kind))
			continue;
		st->used |= slice_mask(insts[i].start, p->mem_slices);
		st->compute += p->compute_slices;
		if (p->media_ext)
			st->media++;
	}
}

static void mig_state_push(struct mig_state *st, const struct gv_profile *p, int start)
{
	st->xp[st->n_x++] = p;
	st->used |= slice_mask(start, p->mem_slices);
	st->compute += p->compute_slices;
	if (p->media_ext)
		st->media++;
}

/* Instances of exactly p, and instances living in p's MIG profile. */
static void mig_counts(const struct mig_state *st, const struct gv_profile *p, int *exact,
		       int *base)
{
	const struct gv_profile *b = mig_base(p);
	int i;

	*exact = *base = 0;
	for (i = 0; i < st->n_insts; i++) {
		const struct gv_profile *q = st->insts[i].profile;

		if (!q || !gv_profile_kind_is_mig(st->insts[i].kind))
			continue;
		*exact += same_profile(q, p);
		*base += same_profile(mig_base(q), b);
	}
	for (i = 0; i < st->n_x; i++) {
		*exact += same_profile(st->xp[i], p);
		*base += same_profile(mig_base(st->xp[i]), b);
	}
}

static enum mig_fit mig_fit(const struct mig_state *st, const struct gv_profile *p, int start)
{
	const struct gv_profile *b = mig_base(p);
	int exact, base;

	if (start < 0 || start >= GV_MIG_MAX_SLOTS || !(p->start_mask & (1u << start)) ||
	    start + p->mem_slices > st->model->mig_mem_slices)
		return FIT_BAD_START;
	mig_counts(st, p, &exact, &base);
	if (exact >= p->max_count)
		return FIT_MAX;
	/* MIG-backed vGPUs occupy an instance of their MIG profile */
	if (base >= b->max_count)
		return FIT_BASE_MAX;
	if (p->media_ext && st->media >= 1)
		return FIT_MEDIA;
	if (st->used & slice_mask(start, p->mem_slices))
		return FIT_OVERLAP;
	if (st->compute + p->compute_slices > st->model->mig_compute_slices)
		return FIT_COMPUTE;
	return FIT_OK;
}

/* Most instances of p that can be added together, starts ascending. */
static int mig_free_dfs(struct mig_state *st, const struct gv_profile *p, int from)
{
	int best = 0, s;

	if (st->n_x >= MIG_EXTRA_MAX)
		return 0;
	for (s = from; s < st->model->mig_mem_slices; s++) {
		struct mig_state next;
		int got;

		if (mig_fit(st, p, s) != FIT_OK)
			continue;
		next = *st;
		mig_state_push(&next, p, s);
		got = 1 + mig_free_dfs(&next, p, s + p->mem_slices);
		if (got > best)
			best = got;
	}
	return best;
}

static bool mig_capable(const struct gv_model *m)
{
	return m && m->mig_mem_slices > 0 && m->mig_mem_slices <= GV_MIG_MAX_SLOTS;
}

/* "0-3, 6" */
static void fmt_slots(char *buf, size_t len, uint32_t mask, int n)
{
	size_t off = 0;
	int s = 0;

	buf[0] = '\0';
	while (s < n) {
		int e;

		if (!(mask & (1u << s))) {
			s++;
			continue;
		}
		for (e = s; e + 1 < n && (mask & (1u << (e + 1))); e++)
			;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%d", off ? ", " : "", s);
		if (e > s && off < len)
			off += (size_t)snprintf(buf + off, len - off, "-%d", e);
		s = e + 1;
	}
}

/* "0, 4" / "0 or 4" */
static void fmt_starts(char *buf, size_t len, uint32_t mask, const char *last_sep)
{
	size_t off = 0;
	int s, n = 0, total = 0;

	buf[0] = '\0';
	for (s = 0; s < GV_MIG_MAX_SLOTS; s++)
		total += !!(mask & (1u << s));
	for (s = 0; s < GV_MIG_MAX_SLOTS; s++) {
		if (!(mask & (1u << s)))
			continue;
		n++;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%d",
						n == 1 ? "" : (n == total ? last_sep : ", "), s);
	}
}

/* Names the instance (snapshot or hypothetical) using the given slices. */
static void fmt_overlap(char *buf, size_t len, const struct mig_state *st, uint32_t mask)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < st->n_insts; i++) {
		const struct gv_profile *q = st->insts[i].profile;
		uint32_t qm;

		if (!q || !gv_profile_kind_is_mig(st->insts[i].kind))
			continue;
		qm = slice_mask(st->insts[i].start, q->mem_slices);
		if (!(qm & mask) || off >= len)
			continue;
		if (q->mem_slices > 1)
			off += (size_t)snprintf(buf + off, len - off, "%s%s at slots %d-%d",
						off ? ", " : "", q->name, st->insts[i].start,
						st->insts[i].start + q->mem_slices - 1);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%s at slot %d",
						off ? ", " : "", q->name, st->insts[i].start);
	}
}

static int mig_explain(const struct mig_state *st, const struct gv_profile *p, int start,
		       enum mig_fit fit, struct gv_err *err)
{
	char a[128], b[256];
	int exact, base;

	mig_counts(st, p, &exact, &base);
	switch (fit) {
	case FIT_OK:
		return 0;
	case FIT_BAD_START:
		fmt_starts(a, sizeof(a), p->start_mask, ", ");
		return gv_err_set(err, EINVAL, "%s cannot start at slot %d (valid starts: %s)",
				  p->name, start, a);
	case FIT_MAX:
		return gv_err_set(err, ENOSPC, "%d %s already, the most a GPU takes is %d", exact,
				  p->name, p->max_count);
	case FIT_BASE_MAX:
		return gv_err_set(err, ENOSPC,
				  "%d %s instances already, the most a GPU takes is %d", base,
				  mig_base(p)->name, mig_base(p)->max_count);
	case FIT_MEDIA:
		return gv_err_set(err, ENOSPC,
				  "%s needs the media extensions and another +me instance has them",
				  p->name);
	case FIT_OVERLAP:
		fmt_overlap(b, sizeof(b), st, slice_mask(start, p->mem_slices));
		if (!b[0])
			fmt_slots(b, sizeof(b), st->used & slice_mask(start, p->mem_slices),
				  st->model->mig_mem_slices);
		return gv_err_set(err, ENOSPC, "%s at slot %d (slots %d-%d) overlaps %s", p->name,
				  start, start, start + p->mem_slices - 1, b);
	case FIT_COMPUTE:
		return gv_err_set(err, ENOSPC, "%d of %d compute slices used, %s needs %d",
				  st->compute, st->model->mig_compute_slices, p->name,
				  p->compute_slices);
	}
	return gv_err_set(err, EINVAL, "internal: unknown MIG fit %d", (int)fit);
}

int gv_place_mig_check(const struct gv_model *model, const struct gv_place_inst *insts, int n_insts,
		       const struct gv_profile *profile, int start, struct gv_err *err)
{
	struct mig_state st;

	if (!profile || !gv_profile_kind_is_mig(profile->kind))
		return gv_err_set(err, EINVAL, "%s is not a MIG profile",
				  profile ? profile->name : "(null)");
	if (!mig_capable(model))
		return gv_err_set(err, EINVAL, "%s has no MIG",
				  model ? model->id : "unknown model");
	if (n_insts < 0 || (n_insts > 0 && !insts))
		return gv_err_set(err, EINVAL, "bad instance list");
	mig_state_init(&st, model, insts, n_insts);
	return mig_explain(&st, profile, start, mig_fit(&st, profile, start), err);
}

/* Profiles used to score an automatic start: every MIG GPU-instance
 * profile of the model, largest first (memory slices, then compute slices,
 * then catalog order). */
static int mig_score_order(const struct gv_model *m, const struct gv_profile **out, int max)
{
	int n = 0, i, j;
	size_t k;

	for (k = 0; k < m->n_profiles && n < max; k++)
		if (m->profiles[k].kind == GV_PROFILE_MIG)
			out[n++] = &m->profiles[k];
	for (i = 1; i < n; i++) {
		const struct gv_profile *p = out[i];

		for (j = i; j > 0; j--) {
			const struct gv_profile *q = out[j - 1];

			if (q->mem_slices > p->mem_slices ||
			    (q->mem_slices == p->mem_slices &&
			     q->compute_slices >= p->compute_slices))
				break;
			out[j] = q;
		}
		out[j] = p;
	}
	return n;
}

/* Chooses the start that keeps the most of the largest profiles placeable:
 * after placing, the free counts of the model's MIG profiles (largest first)
 * are compared lexicographically; ties go to the highest start, which keeps
 * the low slots where large profiles must start free (nvidia-smi puts a
 * first 1g on an empty A100 at slot 6 too). -ENOSPC when no start fits. */
static int mig_choose_start(const struct mig_state *st, const struct gv_profile *p, int *out)
{
	const struct gv_profile *order[64];
	int best_score[64] = { 0 };
	int n = mig_score_order(st->model, order, 64);
	int s, best = -1, i;

	for (s = 0; s < st->model->mig_mem_slices; s++) {
		struct mig_state next;
		int score[64];
		bool better = best < 0;

		if (mig_fit(st, p, s) != FIT_OK)
			continue;
		next = *st;
		mig_state_push(&next, p, s);
		for (i = 0; i < n; i++) {
			struct mig_state tmp = next;

			score[i] = mig_free_dfs(&tmp, order[i], 0);
		}
		for (i = 0; i < n && !better; i++) {
			if (score[i] != best_score[i]) {
				better = score[i] > best_score[i];
				break;
			}
			if (i == n - 1)
				better = true; /* equal: the higher start wins */
		}
		if (n == 0)
			better = true;
		if (better) {
			best = s;
			memcpy(best_score, score, sizeof(int) * (size_t)n);
		}
	}
	if (best < 0)
		return -ENOSPC;
	*out = best;
	return 0;
}

/* Why no start fits: the first rule that blocks every start. */
static void mig_explain_full(const struct mig_state *st, const struct gv_profile *p, char *buf,
			     size_t len)
{
	struct gv_err e = { 0 };
	char used[64], starts[64];
	enum mig_fit f = FIT_OVERLAP;
	int s;

	for (s = 0; s < GV_MIG_MAX_SLOTS; s++) {
		enum mig_fit g;

		if (!(p->start_mask & (1u << s)))
			continue;
		g = mig_fit(st, p, s);
		if (g != FIT_OVERLAP) {
			f = g;
			break;
		}
	}
	if (f != FIT_OVERLAP) {
		mig_explain(st, p, s, f, &e);
		snprintf(buf, len, "%s", e.msg);
		return;
	}
	fmt_slots(used, sizeof(used), st->used, st->model->mig_mem_slices);
	fmt_starts(starts, sizeof(starts), p->start_mask, " or ");
	snprintf(buf, len, "slots %s used, %s starts at %s and needs %d slice%s", used, p->name,
		 starts, p->mem_slices, p->mem_slices == 1 ? "" : "s");
}

/* ---- timeslice ---------------------------------------------------------- */

struct ts_state {
	uint64_t cap;	  /* memory timeslice instances may use */
	uint64_t used;	  /* framebuffer already given out */
	int n;		  /* timeslice instances */
	uint64_t size;	  /* framebuffer of the first one (equal-size mode) */
	bool mixed_sizes; /* instances of different sizes present */
};

/* Known models are sized against the catalog's framebuffer (the profiles'
 * published sizes assume it); unknown ones against what the device reports. */
static void ts_state_init(struct ts_state *t, const struct gv_place_gpu *g)
{
	uint64_t total = g->model ? g->model->mem_mib : g->mem_mib;
	int i;

	memset(t, 0, sizeof(*t));
	t->cap = total > g->reserve_mib ? total - g->reserve_mib : 0;
	for (i = 0; i < g->n_insts; i++) {
		if (g->insts[i].kind != GV_PROFILE_TIMESLICE)
			continue;
		if (t->n == 0)
			t->size = g->insts[i].fb_mib;
		else if (g->insts[i].fb_mib != t->size)
			t->mixed_sizes = true;
		t->n++;
		t->used += g->insts[i].fb_mib;
	}
}

/* Instances of the same framebuffer size (what a per-profile max counts). */
static int ts_count_size(const struct gv_place_gpu *g, uint64_t fb)
{
	int i, n = 0;

	for (i = 0; i < g->n_insts; i++)
		n += g->insts[i].kind == GV_PROFILE_TIMESLICE && g->insts[i].fb_mib == fb;
	return n;
}

/* How many more instances of fb (profile p, may be NULL) fit; why says what
 * blocks when 0. */
static int ts_free(const struct gv_place_gpu *g, const struct gv_profile *p, uint64_t fb,
		   bool mixed, char *why, size_t len)
{
	struct ts_state t;
	int max = 0, have, n_max, n_mem;
	const char *name = p ? p->name : "the instance";

	ts_state_init(&t, g);
	if (fb == 0) {
		snprintf(why, len, "no framebuffer size");
		return 0;
	}
	if (!mixed && t.n > 0 && t.size != fb) {
		snprintf(why, len, "equal-size mode: it has %llu MiB instances, %s is %llu MiB",
			 (unsigned long long)t.size, name, (unsigned long long)fb);
		return 0;
	}
	if (p)
		max = mixed ? p->max_mixed : p->max_count;
	have = mixed ? ts_count_size(g, fb) : t.n;
	n_max = p ? (have >= max ? 0 : max - have) : 1 << 30;
	n_mem = t.used + fb <= t.cap ? (int)((t.cap - t.used) / fb) : 0;
	if (n_max == 0) {
		snprintf(why, len, "%d %s already, the most a GPU takes%s is %d", have, name,
			 mixed ? " in mixed-size mode" : "", max);
		return 0;
	}
	if (n_mem == 0) {
		snprintf(why, len, "%llu of %llu MiB given out%s, %s needs %llu MiB",
			 (unsigned long long)t.used, (unsigned long long)t.cap,
			 g->reserve_mib ? " (after the reserve)" : "", name,
			 (unsigned long long)fb);
		return 0;
	}
	return n_max < n_mem ? n_max : n_mem;
}

/* ---- free counts ---------------------------------------------------------- */

/* A C-series profile that is the whole board (h100-80c): on a passthrough
 * GPU it means passthrough. */
static bool is_full_size(const struct gv_model *m, const struct gv_profile *p)
{
	return p && m && p->kind == GV_PROFILE_TIMESLICE && p->fb_mib >= m->mem_mib;
}

int gv_place_free_count(const struct gv_place_gpu *gpu, const struct gv_profile *profile,
			bool mixed_size)
{
	char why[GV_ERR_MSG_MAX];

	if (!gpu || !profile)
		return 0;
	switch (gpu->mode) {
	case GV_MODE_PASSTHROUGH:
		if (profile->kind == GV_PROFILE_PASSTHROUGH || is_full_size(gpu->model, profile))
			return gpu->n_insts == 0 ? 1 : 0;
		return 0;
	case GV_MODE_TIMESLICE:
		if (profile->kind != GV_PROFILE_TIMESLICE)
			return 0;
		return ts_free(gpu, profile, profile->fb_mib, mixed_size, why, sizeof(why));
	case GV_MODE_MIG: {
		struct mig_state st;

		if (!gv_profile_kind_is_mig(profile->kind) || !mig_capable(gpu->model) ||
		    profile->mem_slices > gpu->model->mig_mem_slices)
			return 0;
		mig_state_init(&st, gpu->model, gpu->insts, gpu->n_insts);
		return mig_free_dfs(&st, profile, 0);
	}
	}
	return 0;
}

/* ---- one GPU ---------------------------------------------------------------- */

enum try_rc {
	TRY_OK = 0,
	TRY_FULL,    /* the profile exists here but does not fit now */
	TRY_UNKNOWN, /* the profile does not exist on this GPU's model */
	TRY_NEVER,   /* explicit start never valid for the profile */
};

struct fill {
	uint64_t num, den; /* how full the GPU is, as a fraction */
};

/* Framebuffer a request names on an unknown model: req->fb_mib, else the
 * "<N>c" suffix of a C-series name (8c: 8 GiB). */
static uint64_t req_fb(const struct gv_place_req *req)
{
	const char *s = req->profile;
	size_t n = strlen(s);
	unsigned long long gb = 0, mul = 1;

	if (req->fb_mib)
		return req->fb_mib;
	if (n < 3 || (s[n - 1] != 'c' && s[n - 1] != 'C'))
		return 0;
	for (n--; n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9' && mul <= 100000; n--) {
		gb += (unsigned long long)(s[n - 1] - '0') * mul;
		mul *= 10;
	}
	if (mul == 1 || n == 0 || s[n - 1] != '-')
		return 0;
	return (uint64_t)gb * 1024;
}

static struct fill gpu_fill(const struct gv_place_gpu *g)
{
	struct fill f = { 0, 1 };

	if (g->mode == GV_MODE_MIG && mig_capable(g->model)) {
		struct mig_state st;
		int i, n = 0;

		mig_state_init(&st, g->model, g->insts, g->n_insts);
		for (i = 0; i < g->model->mig_mem_slices; i++)
			n += !!(st.used & (1u << i));
		f.num = (uint64_t)n;
		f.den = (uint64_t)g->model->mig_mem_slices;
	} else if (g->mode == GV_MODE_TIMESLICE) {
		struct ts_state t;

		ts_state_init(&t, g);
		f.num = t.used;
		f.den = t.cap ? t.cap : 1;
	} else {
		f.num = g->n_insts > 0;
	}
	return f;
}

static int try_gpu(const struct gv_place_gpu *g, const struct gv_place_req *req, bool mixed,
		   struct gv_place_result *res, char *why, size_t len)
{
	const struct gv_model *m = g->model;
	const struct gv_profile *p = m ? gv_model_find_profile(m, req->profile) : NULL;
	bool want_pt = strcasecmp(req->profile, "passthrough") == 0 ||
		       (p && p->kind == GV_PROFILE_PASSTHROUGH);
	bool want_ts = !want_pt && (strcasecmp(req->profile, "timeslice") == 0 || !p);

	memset(res, 0, sizeof(*res));
	res->gpu = -1;
	res->start = -1;
	/* On a known model only "timeslice" with a size may bypass the catalog. */
	if (!p && !want_pt && m &&
	    !(want_ts && req->fb_mib && strcasecmp(req->profile, "timeslice") == 0)) {
		snprintf(why, len, "%s has no profile %s", m->id, req->profile);
		return TRY_UNKNOWN;
	}
	if (req->start >= 0 && !(p && gv_profile_kind_is_mig(p->kind))) {
		snprintf(why, len, "a start slot applies only to MIG profiles, %s is not one",
			 req->profile);
		return TRY_NEVER;
	}
	/* never valid whatever the GPU's state: 400, not 409 */
	if (req->start >= 0 && !(p->start_mask & (1u << req->start))) {
		char starts[64];

		fmt_starts(starts, sizeof(starts), p->start_mask, ", ");
		snprintf(why, len, "%s cannot start at slot %d (valid starts: %s)", p->name,
			 req->start, starts);
		return TRY_NEVER;
	}

	switch (g->mode) {
	case GV_MODE_PASSTHROUGH:
		if (!want_pt && !is_full_size(m, p)) {
			snprintf(why, len, "mode is passthrough");
			return TRY_FULL;
		}
		if (g->n_insts > 0) {
			snprintf(why, len,
				 "passthrough needs the whole GPU and it has %d instance%s",
				 g->n_insts, g->n_insts == 1 ? "" : "s");
			return TRY_FULL;
		}
		res->kind = GV_PROFILE_PASSTHROUGH;
		res->profile = p;
		res->fb_mib = g->mem_mib ? g->mem_mib : (m ? m->mem_mib : 0);
		return TRY_OK;
	case GV_MODE_TIMESLICE: {
		uint64_t fb;

		if (want_pt || (p && p->kind != GV_PROFILE_TIMESLICE)) {
			snprintf(why, len, "mode is timeslice");
			return TRY_FULL;
		}
		fb = p ? p->fb_mib : req_fb(req);
		if (!p && fb == 0) {
			snprintf(why, len, "model not in the catalog: give a framebuffer size");
			return TRY_UNKNOWN;
		}
		if (ts_free(g, p, fb, mixed, why, len) == 0)
			return TRY_FULL;
		res->kind = GV_PROFILE_TIMESLICE;
		res->profile = p;
		res->fb_mib = fb;
		return TRY_OK;
	}
	case GV_MODE_MIG: {
		struct mig_state st;
		enum mig_fit f;
		int start;

		if (!m) {
			snprintf(why, len, "model not in the catalog, so no MIG profiles");
			return TRY_FULL;
		}
		if (!p || !gv_profile_kind_is_mig(p->kind)) {
			snprintf(why, len, "mode is mig");
			return TRY_FULL;
		}
		if (!mig_capable(m)) {
			snprintf(why, len, "%s has no MIG", m->id);
			return TRY_FULL;
		}
		mig_state_init(&st, m, g->insts, g->n_insts);
		if (req->start >= 0) {
			struct gv_err e = { 0 };

			f = mig_fit(&st, p, req->start);
			if (f != FIT_OK) {
				mig_explain(&st, p, req->start, f, &e);
				snprintf(why, len, "%s", e.msg);
				return f == FIT_BAD_START ? TRY_NEVER : TRY_FULL;
			}
			start = req->start;
		} else if (mig_choose_start(&st, p, &start) < 0) {
			mig_explain_full(&st, p, why, len);
			return TRY_FULL;
		}
		res->kind = p->kind;
		res->profile = p;
		res->start = start;
		res->fb_mib = p->fb_mib;
		return TRY_OK;
	}
	}
	snprintf(why, len, "mode %d is unknown", (int)g->mode);
	return TRY_FULL;
}

/* pack: fuller first; spread: emptier first; equal: lower index. */
static bool better_gpu(enum gv_place_policy pol, struct fill a, struct fill b)
{
	uint64_t l = a.num * b.den, r = b.num * a.den;

	return pol == GV_PLACE_SPREAD ? l < r : l > r;
}

int gv_place(const struct gv_place_node *node, const struct gv_place_req *req,
	     struct gv_place_result *out, struct gv_err *err)
{
	char msg[GV_ERR_MSG_MAX], why[GV_ERR_MSG_MAX];
	struct gv_place_result best = { .gpu = -1, .start = -1 };
	struct fill best_fill = { 0, 1 };
	size_t off = 0;
	int i, n_known = 0, n_never = 0;
	int lo, hi;

	if (out) {
		memset(out, 0, sizeof(*out));
		out->gpu = -1;
		out->start = -1;
	}
	if (!node || !req || !out || !req->profile || !req->profile[0])
		return gv_err_set(err, EINVAL, "placement: no profile");
	if (node->n_gpus < 0 || (node->n_gpus > 0 && !node->gpus))
		return gv_err_set(err, EINVAL, "placement: bad node");
	if (req->gpu >= node->n_gpus || req->gpu < -1)
		return gv_err_set(err, EINVAL, "no gpu %d (the node has %d)", req->gpu,
				  node->n_gpus);
	if (req->start < -1 || req->start >= GV_MIG_MAX_SLOTS)
		return gv_err_set(err, EINVAL, "start slot %d is out of range 0-%d", req->start,
				  GV_MIG_MAX_SLOTS - 1);
	if (req->policy != GV_PLACE_PACK && req->policy != GV_PLACE_SPREAD)
		return gv_err_set(err, EINVAL, "unknown placement policy %d", (int)req->policy);
	if (node->n_gpus == 0)
		return gv_err_set(err, ENOSPC, "no GPU can take %s: the node has no GPUs",
				  req->profile);
	lo = req->gpu >= 0 ? req->gpu : 0;
	hi = req->gpu >= 0 ? req->gpu + 1 : node->n_gpus;

	msg[0] = '\0';
	for (i = lo; i < hi; i++) {
		const struct gv_place_gpu *g = &node->gpus[i];
		struct gv_place_result r;
		int rc;

		why[0] = '\0';
		rc = try_gpu(g, req, node->mixed_size, &r, why, sizeof(why));
		if (rc != TRY_UNKNOWN)
			n_known++;
		if (rc == TRY_NEVER)
			n_never++;
		if (rc == TRY_OK) {
			struct fill f = gpu_fill(g);

			r.gpu = i;
			if (best.gpu < 0 || better_gpu(req->policy, f, best_fill)) {
				best = r;
				best_fill = f;
			}
			continue;
		}
		if (off < sizeof(msg))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%sgpu %d (%s): %s",
						off ? "; " : "", g->index, gv_mode_name(g->mode),
						why);
	}
	if (best.gpu >= 0) {
		*out = best;
		gv_err_clear(err);
		return 0;
	}
	if (n_known == 0)
		return gv_err_set(err, EINVAL, "unknown profile %s: %s", req->profile, msg);
	if (n_never == n_known)
		return gv_err_set(err, EINVAL, "%s", req->gpu >= 0 ? why : msg);
	if (req->gpu >= 0)
		return gv_err_set(err, ENOSPC, "gpu %d cannot take %s: %s",
				  node->gpus[req->gpu].index, req->profile, why);
	return gv_err_set(err, ENOSPC, "no GPU can take %s: %s", req->profile, msg);
}

/* Placement: checked against an independent model of the published MIG
 * rules (shared/reference/mig.md) written here from first principles, plus
 * NVIDIA's documented layouts, timeslice rules, passthrough exclusivity,
 * GPU choice policies and refusal messages. Uses the real data/catalog.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/place.h"

static struct gv_catalog *cat;

static int setup(void **state)
{
	const char *dir = getenv("GV_TEST_SOURCE_DIR");
	char path[4096];
	struct gv_err err = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/data/catalog.json", dir ? dir : GV_SOURCE_DIR);
	if (gv_catalog_load(path, &cat, &err) != 0) {
		fprintf(stderr, "loading %s: %s\n", path, err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gv_catalog_free(cat);
	return 0;
}

static const struct gv_model *model(const char *id)
{
	const struct gv_model *m = gv_catalog_find_model(cat, id);

	if (!m)
		fail_msg("no model %s", id);
	return m;
}

static const struct gv_profile *prof(const struct gv_model *m, const char *name)
{
	const struct gv_profile *p = gv_model_find_profile(m, name);

	if (!p)
		fail_msg("model %s has no profile %s", m->id, name);
	return p;
}

/* ---- the independent reference -------------------------------------------- */

/* One row of mig.md's placement tables. */
struct ref_prof {
	const char *name;
	int mem_slices, compute_slices;
	const int *starts;
	int n_starts;
	int max;
	int me;
};

/* A GPU's geometry (memory slices, compute slices) and its profiles. */
struct ref_gpu {
	const struct ref_prof *p;
	int n;
	int slices, compute;
};

static const int st_1g[] = { 0, 1, 2, 3, 4, 5, 6 }, st_1gd[] = { 0, 2, 4, 6 },
		 st_2g[] = { 0, 2, 4 }, st_3g[] = { 0, 4 }, st_0[] = { 0 },
		 st_a30_1g[] = { 0, 1, 2, 3 }, st_a30_2g[] = { 0, 2 };

#define REF_MAX 8
static const struct ref_prof ref_a100[] = {
	{ "1g.5gb", 1, 1, st_1g, 7, 7, 0 },   { "1g.5gb+me", 1, 1, st_1g, 7, 1, 1 },
	{ "1g.10gb", 2, 1, st_1gd, 4, 4, 0 }, { "2g.10gb", 2, 2, st_2g, 3, 3, 0 },
	{ "3g.20gb", 4, 3, st_3g, 2, 2, 0 },  { "4g.20gb", 4, 4, st_0, 1, 1, 0 },
	{ "7g.40gb", 8, 7, st_0, 1, 1, 0 },
};
static const struct ref_prof ref_h100[] = {
	{ "1g.10gb", 1, 1, st_1g, 7, 7, 0 },  { "1g.10gb+me", 1, 1, st_1g, 7, 1, 1 },
	{ "1g.20gb", 2, 1, st_1gd, 4, 4, 0 }, { "2g.20gb", 2, 2, st_2g, 3, 3, 0 },
	{ "3g.40gb", 4, 3, st_3g, 2, 2, 0 },  { "4g.40gb", 4, 4, st_0, 1, 1, 0 },
	{ "7g.80gb", 8, 7, st_0, 1, 1, 0 },
};
static const struct ref_prof ref_a30[] = {
	{ "1g.6gb", 1, 1, st_a30_1g, 4, 4, 0 },	 { "1g.6gb+me", 1, 1, st_a30_1g, 4, 1, 1 },
	{ "2g.12gb", 2, 2, st_a30_2g, 2, 2, 0 }, { "2g.12gb+me", 2, 2, st_a30_2g, 2, 1, 1 },
	{ "4g.24gb", 4, 4, st_0, 1, 1, 0 },
};
#define REF_8SLOT(g1, g2, g4, g8)                                   \
	{                                                           \
		{ "1g." g1 "gb", 1, 1, st_1g, 7, 7, 0 },            \
			{ "1g." g1 "gb+me", 1, 1, st_1g, 7, 1, 1 }, \
			{ "1g." g2 "gb", 2, 1, st_1gd, 4, 4, 0 },   \
			{ "2g." g2 "gb", 2, 2, st_2g, 3, 3, 0 },    \
			{ "3g." g4 "gb", 4, 3, st_3g, 2, 2, 0 },    \
			{ "4g." g4 "gb", 4, 4, st_0, 1, 1, 0 },     \
		{                                                   \
			"7g." g8 "gb", 8, 7, st_0, 1, 1, 0          \
		}                                                   \
	}
/* mig.md: the other 8-slot parts have H100's shapes under their own names */
static const struct ref_prof ref_nvl[] = REF_8SLOT("12", "24", "47", "94");
static const struct ref_prof ref_h200[] = REF_8SLOT("18", "35", "71", "141");
static const struct ref_prof ref_b200[] = REF_8SLOT("23", "45", "90", "180");
static const struct ref_gpu ref_gpu_a100 = { ref_a100, 7, 8, 7 };
static const struct ref_gpu ref_gpu_h100 = { ref_h100, 7, 8, 7 };
static const struct ref_gpu ref_gpu_a30 = { ref_a30, 5, 4, 4 };

struct ref_inst {
	int p; /* index into the ref table */
	int start;
};

static int ref_start_ok(const struct ref_prof *rp, int start)
{
	int i;

	for (i = 0; i < rp->n_starts; i++)
		if (rp->starts[i] == start)
			return 1;
	return 0;
}

/* The published rules, applied to a whole set: documented starts, no shared
 * memory slice, at most the GPU's compute slices (7; 4 on A30), per-profile
 * maxima, one +me instance. */
static int ref_valid(const struct ref_gpu *ref, const struct ref_inst *set, int n)
{
	int slice_owner[8], count[REF_MAX] = { 0 }, compute = 0, me = 0, i, k;

	for (k = 0; k < 8; k++)
		slice_owner[k] = -1;
	for (i = 0; i < n; i++) {
		const struct ref_prof *rp = &ref->p[set[i].p];

		if (!ref_start_ok(rp, set[i].start))
			return 0;
		for (k = set[i].start; k < set[i].start + rp->mem_slices; k++) {
			if (k >= ref->slices || slice_owner[k] >= 0)
				return 0;
			slice_owner[k] = i;
		}
		compute += rp->compute_slices;
		count[set[i].p]++;
		me += rp->me;
	}
	if (compute > ref->compute || me > 1)
		return 0;
	for (i = 0; i < ref->n; i++)
		if (count[i] > ref->p[i].max)
			return 0;
	return 1;
}

/* Most instances of profile p that can be added to set at once. */
static int ref_free(const struct ref_gpu *ref, struct ref_inst *set, int n, int p, int from)
{
	int best = 0, s;

	for (s = from; s < ref->slices; s++) {
		int got;

		set[n].p = p;
		set[n].start = s;
		if (!ref_valid(ref, set, n + 1))
			continue;
		got = 1 + ref_free(ref, set, n + 1, p, s + 1);
		if (got > best)
			best = got;
	}
	return best;
}

/* ---- enumeration ------------------------------------------------------------ */

struct enum_ctx {
	const struct gv_model *m;
	const struct ref_gpu *ref;
	const struct gv_profile *cp[REF_MAX]; /* catalog profile of each ref row */
	struct ref_inst cand[64];
	int n_cand;
	long configs, checks;
	int max_depth;
	int seen_full_layout;
};

static void to_insts(const struct enum_ctx *c, const struct ref_inst *set, int n,
		     struct gv_place_inst *out)
{
	int i;

	for (i = 0; i < n; i++) {
		out[i].profile = c->cp[set[i].p];
		out[i].kind = GV_PROFILE_MIG;
		out[i].start = set[i].start;
		out[i].fb_mib = c->cp[set[i].p]->fb_mib;
	}
}

static void one_gpu(const struct gv_model *m, const struct gv_place_inst *insts, int n,
		    enum gv_mode mode, struct gv_place_gpu *g, struct gv_place_node *node)
{
	memset(g, 0, sizeof(*g));
	g->index = 0;
	g->uuid = "GPU-test";
	g->model = m;
	g->mem_mib = m ? m->mem_mib : 0;
	g->mode = mode;
	g->insts = insts;
	g->n_insts = n;
	memset(node, 0, sizeof(*node));
	node->gpus = g;
	node->n_gpus = 1;
}

/* Every candidate placement is tried on top of every valid configuration,
 * through gv_place_mig_check and the reference; they must agree. Valid ones
 * are then made through gv_place with an explicit start and explored
 * further (in canonical order, so each set is visited once). */
static void enum_dfs(struct enum_ctx *c, struct ref_inst *set, int n, int from)
{
	struct gv_place_inst insts[16];
	struct gv_place_gpu g;
	struct gv_place_node node;
	int i;

	c->configs++;
	if (n > c->max_depth)
		c->max_depth = n;
	to_insts(c, set, n, insts);
	one_gpu(c->m, insts, n, GV_MODE_MIG, &g, &node);

	/* free counts as nvidia-smi mig -lgip, and automatic placement */
	for (i = 0; i < c->ref->n; i++) {
		struct ref_inst tmp[16];
		struct gv_place_req req = { .profile = c->cp[i]->name, .gpu = -1, .start = -1 };
		struct gv_place_result res;
		struct gv_err err = { 0 };
		int want, rc;

		memcpy(tmp, set, sizeof(*set) * (size_t)n);
		want = ref_free(c->ref, tmp, n, i, 0);
		if (gv_place_free_count(&g, c->cp[i], false) != want)
			fail_msg("%s: %d configs in: free count of %s is %d, reference says %d",
				 c->m->id, (int)c->configs, c->cp[i]->name,
				 gv_place_free_count(&g, c->cp[i], false), want);
		rc = gv_place(&node, &req, &res, &err);
		if ((rc == 0) != (want > 0))
			fail_msg("%s: auto placement of %s: rc %d (%s), reference free %d",
				 c->m->id, c->cp[i]->name, rc, err.msg, want);
		if (rc == 0) {
			tmp[n].p = i;
			tmp[n].start = res.start;
			assert_true(ref_valid(c->ref, tmp, n + 1));
			assert_int_equal(res.gpu, 0);
			assert_ptr_equal(res.profile, c->cp[i]);
			assert_int_equal(res.kind, GV_PROFILE_MIG);
		} else {
			assert_int_equal(rc, -ENOSPC);
			assert_non_null(strstr(err.msg, "gpu 0 (mig): "));
		}
	}

	for (i = 0; i < c->n_cand; i++) {
		struct gv_err err = { 0 };
		int ok, rc;

		set[n] = c->cand[i];
		ok = ref_valid(c->ref, set, n + 1);
		rc = gv_place_mig_check(c->m, insts, n, c->cp[set[n].p], set[n].start, &err);
		c->checks++;
		if ((rc == 0) != ok)
			fail_msg(
				"%s: adding %s@%d to a set of %d: gv_place_mig_check %d (%s), reference %s",
				c->m->id, c->cp[set[n].p]->name, set[n].start, n, rc, err.msg,
				ok ? "valid" : "invalid");
		if (!ok) {
			/* documented starts only, so a refusal here is "no room" */
			assert_int_equal(rc, -ENOSPC);
			assert_true(err.msg[0] != '\0');
			continue;
		}
		if (i < from)
			continue;
		{
			struct gv_place_req req = { .profile = c->cp[set[n].p]->name,
						    .gpu = 0,
						    .start = set[n].start };
			struct gv_place_result res;

			rc = gv_place(&node, &req, &res, &err);
			if (rc != 0)
				fail_msg("%s: explicit %s@%d refused: %s", c->m->id, req.profile,
					 req.start, err.msg);
			assert_int_equal(res.start, set[n].start);
			assert_ptr_equal(res.profile, c->cp[set[n].p]);
		}
		enum_dfs(c, set, n + 1, i + 1);
	}
}

static void enumerate_model(const char *id, const struct ref_gpu *ref)
{
	struct enum_ctx c = { 0 };
	struct ref_inst set[16];
	int i, s;

	c.m = model(id);
	c.ref = ref;
	assert_int_equal(c.m->mig_mem_slices, ref->slices);
	assert_int_equal(c.m->mig_compute_slices, ref->compute);
	for (i = 0; i < ref->n; i++) {
		const struct ref_prof *rp = &ref->p[i];
		const struct gv_profile *p = prof(c.m, rp->name);
		uint32_t mask = 0;

		/* the data file says what the reference table says */
		for (s = 0; s < rp->n_starts; s++)
			mask |= 1u << rp->starts[s];
		assert_int_equal(p->kind, GV_PROFILE_MIG);
		assert_int_equal(p->mem_slices, rp->mem_slices);
		assert_int_equal(p->compute_slices, rp->compute_slices);
		assert_int_equal(p->start_mask, mask);
		assert_int_equal(p->max_count, rp->max);
		assert_int_equal(p->media_ext, rp->me);
		c.cp[i] = p;
		for (s = 0; s < rp->n_starts; s++) {
			c.cand[c.n_cand].p = i;
			c.cand[c.n_cand].start = rp->starts[s];
			c.n_cand++;
		}
		/* starts the table does not list are never valid */
		for (s = 0; s < GV_MIG_MAX_SLOTS; s++) {
			struct gv_err err = { 0 };

			if (ref_start_ok(rp, s))
				continue;
			assert_int_equal(gv_place_mig_check(c.m, NULL, 0, p, s, &err), -EINVAL);
			assert_non_null(strstr(err.msg, "cannot start at slot"));
		}
	}
	/* every MIG profile of the model is in the reference */
	for (s = 0, i = 0; s < (int)c.m->n_profiles; s++)
		i += c.m->profiles[s].kind == GV_PROFILE_MIG;
	assert_int_equal(i, ref->n);
	enum_dfs(&c, set, 0, 0);
	/* the first row is the 1-slice profile: as many of it is the deepest
	 * layout, and the walk must have got there */
	assert_int_equal(c.max_depth, ref->p[0].max);
	assert_true(c.configs > 10);
	print_message("%s: %ld valid configurations, %ld checks\n", id, c.configs, c.checks);
}

static void test_enumerate_a100_40gb(void **state)
{
	(void)state;
	enumerate_model("a100-40gb", &ref_gpu_a100);
}

static void test_enumerate_h100_80gb(void **state)
{
	(void)state;
	enumerate_model("h100-80gb", &ref_gpu_h100);
}

static void test_enumerate_other_8slot_models(void **state)
{
	static const struct ref_gpu nvl = { ref_nvl, 7, 8, 7 }, h200 = { ref_h200, 7, 8, 7 },
				    b200 = { ref_b200, 7, 8, 7 };

	(void)state;
	enumerate_model("a100-80gb", &ref_gpu_h100);
	enumerate_model("h100-80gb-pcie", &ref_gpu_h100);
	enumerate_model("h100-nvl", &nvl);
	enumerate_model("h200", &h200);
	enumerate_model("b200", &b200);
}

static void test_enumerate_a30(void **state)
{
	(void)state;
	enumerate_model("a30-24gb", &ref_gpu_a30);
}

/* ---- documented layouts, one by one ---------------------------------------- */

struct step {
	const char *profile;
	int start; /* -1: automatic */
};

/* Creates each step on one MIG GPU, then expects `refused` to be refused. */
static void layout(const char *id, const struct step *steps, int n, const char *refused)
{
	const struct gv_model *m = model(id);
	struct gv_place_inst insts[16];
	struct gv_place_gpu g;
	struct gv_place_node node;
	struct gv_place_req req = { .gpu = -1 };
	struct gv_place_result res;
	struct gv_err err = { 0 };
	int i;

	for (i = 0; i < n; i++) {
		one_gpu(m, insts, i, GV_MODE_MIG, &g, &node);
		req.profile = steps[i].profile;
		req.start = steps[i].start;
		if (gv_place(&node, &req, &res, &err) != 0)
			fail_msg("%s step %d (%s@%d): %s", id, i, steps[i].profile, steps[i].start,
				 err.msg);
		if (steps[i].start >= 0)
			assert_int_equal(res.start, steps[i].start);
		assert_int_equal(gv_place_mig_check(m, insts, i, res.profile, res.start, NULL), 0);
		insts[i].profile = res.profile;
		insts[i].kind = res.kind;
		insts[i].start = res.start;
		insts[i].fb_mib = res.fb_mib;
	}
	one_gpu(m, insts, n, GV_MODE_MIG, &g, &node);
	req.profile = refused;
	req.start = -1;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, refused));
	assert_int_equal(res.gpu, -1);
	assert_int_equal(gv_place_free_count(&g, prof(m, refused), false), 0);
}

static void test_documented_layouts(void **state)
{
	static const struct step seven_1g[] = { { "1g.5gb", -1 }, { "1g.5gb", -1 },
						{ "1g.5gb", -1 }, { "1g.5gb", -1 },
						{ "1g.5gb", -1 }, { "1g.5gb", -1 },
						{ "1g.5gb", -1 } };
	static const struct step g4_g3[] = { { "4g.20gb", 0 }, { "3g.20gb", 4 } };
	static const struct step g3_g2_g1_g1[] = {
		{ "3g.20gb", -1 }, { "2g.10gb", -1 }, { "1g.5gb", -1 }, { "1g.5gb", -1 }
	};
	static const struct step two_3g[] = { { "3g.20gb", 0 }, { "3g.20gb", 4 } };
	static const struct step three_2g_1g[] = {
		{ "2g.10gb", 0 }, { "2g.10gb", 2 }, { "2g.10gb", 4 }, { "1g.5gb", 6 }
	};
	static const struct step four_1gd[] = {
		{ "1g.10gb", 0 }, { "1g.10gb", 2 }, { "1g.10gb", 4 }, { "1g.10gb", 6 }
	};
	static const struct step full[] = { { "7g.40gb", -1 } };
	static const struct step me[] = { { "1g.5gb+me", -1 } };
	static const struct step h_seven[] = { { "1g.10gb", -1 }, { "1g.10gb", -1 },
					       { "1g.10gb", -1 }, { "1g.10gb", -1 },
					       { "1g.10gb", -1 }, { "1g.10gb", -1 },
					       { "1g.10gb", -1 } };
	static const struct step h_g4_g3[] = { { "4g.40gb", 0 }, { "3g.40gb", 4 } };
	static const struct step h_mixed[] = {
		{ "3g.40gb", -1 }, { "2g.20gb", -1 }, { "1g.10gb", -1 }, { "1g.10gb", -1 }
	};
	static const struct step h_vgpu[] = { { "h100-3-40c", 0 }, { "3g.40gb", 4 } };
	static const struct step a30_2x2g[] = { { "2g.12gb", -1 }, { "2g.12gb", -1 } };
	static const struct step a30_4x1g[] = {
		{ "1g.6gb", -1 }, { "1g.6gb", -1 }, { "1g.6gb", -1 }, { "1g.6gb", -1 }
	};

	(void)state;
	layout("a100-40gb", seven_1g, 7, "1g.5gb");
	layout("a100-40gb", g4_g3, 2, "1g.5gb");
	layout("a100-40gb", g3_g2_g1_g1, 4, "1g.5gb");
	layout("a100-40gb", two_3g, 2, "1g.5gb");
	layout("a100-40gb", three_2g_1g, 4, "1g.5gb");
	layout("a100-40gb", four_1gd, 4, "1g.5gb");
	layout("a100-40gb", full, 1, "1g.5gb");
	layout("a100-40gb", me, 1, "1g.5gb+me");
	layout("a100-40gb", me, 1, "a100-1-5cme");
	layout("h100-80gb", h_seven, 7, "1g.10gb");
	layout("h100-80gb", h_g4_g3, 2, "1g.10gb");
	layout("h100-80gb", h_mixed, 4, "1g.10gb");
	layout("h100-80gb", h_vgpu, 2, "3g.40gb");
	layout("a30-24gb", a30_2x2g, 2, "1g.6gb");
	layout("a30-24gb", a30_4x1g, 4, "2g.12gb");
}

static void test_free_counts_like_lgip(void **state)
{
	const struct gv_model *m = model("a100-40gb");
	struct gv_place_inst one = { prof(m, "4g.20gb"), GV_PROFILE_MIG, 0, 19968 };
	struct gv_place_gpu g;
	struct gv_place_node node;

	(void)state;
	one_gpu(m, NULL, 0, GV_MODE_MIG, &g, &node);
	assert_int_equal(gv_place_free_count(&g, prof(m, "1g.5gb"), false), 7);
	assert_int_equal(gv_place_free_count(&g, prof(m, "1g.5gb+me"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "1g.10gb"), false), 4);
	assert_int_equal(gv_place_free_count(&g, prof(m, "2g.10gb"), false), 3);
	assert_int_equal(gv_place_free_count(&g, prof(m, "3g.20gb"), false), 2);
	assert_int_equal(gv_place_free_count(&g, prof(m, "4g.20gb"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "7g.40gb"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "a100-1-5c"), false), 7);
	/* other modes take no MIG profile */
	assert_int_equal(gv_place_free_count(&g, prof(m, "a100-8c"), false), 0);
	g.mode = GV_MODE_TIMESLICE;
	assert_int_equal(gv_place_free_count(&g, prof(m, "3g.20gb"), false), 0);
	assert_int_equal(gv_place_free_count(&g, prof(m, "a100-8c"), false), 5);

	one_gpu(m, &one, 1, GV_MODE_MIG, &g, &node);
	assert_int_equal(gv_place_free_count(&g, prof(m, "3g.20gb"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "7g.40gb"), false), 0);
	assert_int_equal(gv_place_free_count(&g, prof(m, "4g.20gb"), false), 0);
	assert_int_equal(gv_place_free_count(&g, prof(m, "1g.5gb"), false), 3);
	assert_int_equal(gv_place_free_count(&g, prof(m, "2g.10gb"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "1g.10gb"), false), 2);
	assert_int_equal(gv_place_free_count(&g, NULL, false), 0);
}

static void test_automatic_start(void **state)
{
	const struct gv_model *m = model("a100-40gb");
	struct gv_place_inst insts[2];
	struct gv_place_gpu g;
	struct gv_place_node node;
	struct gv_place_req req = { .profile = "1g.5gb", .gpu = -1, .start = -1 };
	struct gv_place_result res, again;
	struct gv_err err = { 0 };

	(void)state;
	/* a lone 1g goes to slot 6, keeping 4g/3g@0 and 2g@0,2,4 possible */
	one_gpu(m, NULL, 0, GV_MODE_MIG, &g, &node);
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 6);
	assert_int_equal(res.kind, GV_PROFILE_MIG);
	assert_int_equal(res.fb_mib, 4864);
	assert_int_equal(gv_place(&node, &req, &again, &err), 0);
	assert_memory_equal(&res, &again, sizeof(res));
	/* a lone 3g goes to slot 4, so that a 4g still fits at 0 */
	req.profile = "3g.20gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 4);
	req.profile = "2g.10gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 4);
	req.profile = "4g.20gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 0);
	/* with 1g@6 present a 3g has only slot 0 left */
	insts[0] = (struct gv_place_inst){ prof(m, "1g.5gb"), GV_PROFILE_MIG, 6, 4864 };
	one_gpu(m, insts, 1, GV_MODE_MIG, &g, &node);
	req.profile = "3g.20gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 0);
	/* MIG-backed vGPU placed like its MIG profile */
	req.profile = "a100-3-20c";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 0);
	assert_int_equal(res.kind, GV_PROFILE_MIG_VGPU);
	assert_ptr_equal(res.profile->mig, prof(m, "3g.20gb"));
}

static void test_explicit_refusals(void **state)
{
	const struct gv_model *m = model("h100-80gb");
	struct gv_place_inst insts[2] = { { prof(m, "1g.10gb"), GV_PROFILE_MIG, 6, 9984 } };
	struct gv_place_gpu g;
	struct gv_place_node node;
	struct gv_place_req req = { .profile = "3g.40gb", .gpu = 0, .start = 2 };
	struct gv_place_result res;
	struct gv_err err = { 0 };

	(void)state;
	one_gpu(m, insts, 1, GV_MODE_MIG, &g, &node);
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	assert_string_equal(err.msg, "3g.40gb cannot start at slot 2 (valid starts: 0, 4)");
	req.gpu = -1;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "3g.40gb cannot start at slot 2 (valid starts: 0, 4)"));
	/* never valid is never valid, whatever the GPU's mode */
	g.mode = GV_MODE_TIMESLICE;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	req.start = 4;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "mode is timeslice"));
	g.mode = GV_MODE_MIG;
	req.start = 4;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "overlaps 1g.10gb at slot 6"));
	req.start = 0;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.start, 0);
	/* no free slices at any start: the refusal lists what is used */
	insts[0] = (struct gv_place_inst){ prof(m, "4g.40gb"), GV_PROFILE_MIG, 0, 40448 };
	insts[1] = (struct gv_place_inst){ prof(m, "2g.20gb"), GV_PROFILE_MIG, 4, 20096 };
	one_gpu(m, insts, 2, GV_MODE_MIG, &g, &node);
	req.profile = "1g.10gb";
	req.start = 6;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	req.profile = "2g.20gb";
	req.start = -1;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_string_equal(err.msg,
			    "no GPU can take 2g.20gb: gpu 0 (mig): slots 0-5 used, 2g.20gb starts "
			    "at 0, 2 or 4 and needs 2 slices");
	/* a MIG-backed vGPU uses up an instance of its MIG profile */
	insts[0] = (struct gv_place_inst){ prof(m, "h100-3-40c"), GV_PROFILE_MIG_VGPU, 0, 40448 };
	one_gpu(m, insts, 1, GV_MODE_MIG, &g, &node);
	assert_int_equal(gv_place_free_count(&g, prof(m, "3g.40gb"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "h100-3-40c"), false), 1);
	assert_int_equal(gv_place_free_count(&g, prof(m, "4g.40gb"), false), 0);
	/* the media extensions exist once */
	insts[0] = (struct gv_place_inst){ prof(m, "h100-1-10cme"), GV_PROFILE_MIG_VGPU, 0, 9984 };
	one_gpu(m, insts, 1, GV_MODE_MIG, &g, &node);
	req.profile = "1g.10gb+me";
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "1 1g.10gb+me instances already"));
	/* A30 has two +me profiles; they share the one set of media engines */
	{
		const struct gv_model *a30 = model("a30");
		struct gv_place_inst me = { prof(a30, "1g.6gb+me"), GV_PROFILE_MIG, 0, 5836 };

		one_gpu(a30, &me, 1, GV_MODE_MIG, &g, &node);
		req.profile = "2g.12gb+me";
		assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
		assert_non_null(strstr(err.msg, "media extensions"));
		assert_int_equal(gv_place_free_count(&g, prof(a30, "2g.12gb+me"), false), 0);
		assert_int_equal(gv_place_free_count(&g, prof(a30, "2g.12gb"), false), 1);
		one_gpu(m, insts, 1, GV_MODE_MIG, &g, &node);
	}
	/* a start for a non-MIG profile, an unknown profile, an unknown GPU */
	req.profile = "h100-8c";
	req.start = 0;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	req.profile = "9g.90gb";
	req.start = -1;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown profile 9g.90gb"));
	req.profile = "1g.10gb";
	req.gpu = 3;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	req.gpu = 0;
	req.start = 9;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
	/* MIG on an unknown model, or a model without MIG */
	assert_int_equal(gv_place_mig_check(model("l4"), NULL, 0, prof(m, "1g.10gb"), 0, &err),
			 -EINVAL);
	assert_int_equal(gv_place_mig_check(m, NULL, 0, prof(m, "h100-8c"), 0, &err), -EINVAL);
}

static void test_refusal_names_every_gpu(void **state)
{
	const struct gv_model *m = model("h100-80gb");
	struct gv_place_inst full[2] = { { prof(m, "4g.40gb"), GV_PROFILE_MIG, 0, 40448 },
					 { prof(m, "3g.40gb"), GV_PROFILE_MIG, 4, 40448 } };
	struct gv_place_inst half[1] = { { prof(m, "3g.40gb"), GV_PROFILE_MIG, 0, 40448 } };
	struct gv_place_gpu gpus[4];
	struct gv_place_node node = { gpus, 4, false };
	struct gv_place_req req = { .profile = "4g.40gb", .gpu = -1, .start = -1 };
	struct gv_place_result res;
	struct gv_err err = { 0 };
	struct gv_place_node tmp;
	int i;

	(void)state;
	one_gpu(m, full, 2, GV_MODE_MIG, &gpus[0], &tmp);
	one_gpu(m, NULL, 0, GV_MODE_TIMESLICE, &gpus[1], &tmp);
	one_gpu(m, half, 1, GV_MODE_MIG, &gpus[2], &tmp);
	one_gpu(NULL, NULL, 0, GV_MODE_MIG, &gpus[3], &tmp);
	gpus[3].mem_mib = 32768;
	for (i = 0; i < 4; i++)
		gpus[i].index = i;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no GPU can take 4g.40gb: "));
	assert_non_null(strstr(err.msg, "gpu 0 (mig): "));
	assert_non_null(strstr(err.msg, "gpu 1 (timeslice): mode is timeslice"));
	assert_non_null(strstr(
		err.msg, "gpu 2 (mig): slots 0-3 used, 4g.40gb starts at 0 and needs 4 slices"));
	assert_non_null(strstr(err.msg, "gpu 3 (mig): "));
	req.profile = "3g.40gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 2);
	assert_int_equal(res.start, 4);
}

/* ---- timeslice -------------------------------------------------------------- */

/* Places profile n times on one timeslice GPU; returns how many succeeded
 * before the first refusal (its message in err). */
static int fill_ts(const struct gv_model *m, uint64_t mem, uint64_t reserve, bool mixed,
		   struct gv_place_inst *insts, int *n_insts, const char *profile, uint64_t fb,
		   int tries, struct gv_err *err)
{
	struct gv_place_gpu g;
	struct gv_place_node node;
	struct gv_place_req req = { .profile = profile, .gpu = -1, .start = -1, .fb_mib = fb };
	struct gv_place_result res;
	int i;

	for (i = 0; i < tries; i++) {
		int before;

		one_gpu(m, insts, *n_insts, GV_MODE_TIMESLICE, &g, &node);
		g.mem_mib = mem;
		g.reserve_mib = reserve;
		node.mixed_size = mixed;
		before = m && gv_model_find_profile(m, profile)
				 ? gv_place_free_count(&g, gv_model_find_profile(m, profile), mixed)
				 : -1;
		if (gv_place(&node, &req, &res, err) != 0) {
			assert_true(before <= 0);
			return i;
		}
		assert_true(before != 0);
		assert_int_equal(res.kind, GV_PROFILE_TIMESLICE);
		assert_int_equal(res.start, -1);
		insts[*n_insts].profile = res.profile;
		insts[*n_insts].kind = res.kind;
		insts[*n_insts].start = -1;
		insts[*n_insts].fb_mib = res.fb_mib;
		(*n_insts)++;
	}
	return i;
}

static void test_timeslice_equal_size(void **state)
{
	const struct gv_model *a = model("a100-40gb"), *h = model("h100-80gb");
	struct gv_place_inst insts[64];
	struct gv_err err = { 0 };
	int n = 0;

	(void)state;
	/* max 5 in equal-size mode */
	assert_int_equal(fill_ts(a, 40960, 0, false, insts, &n, "a100-8c", 0, 10, &err), 5);
	assert_non_null(strstr(err.msg, "the most a GPU takes is 5"));
	/* another size is refused in equal-size mode */
	assert_int_equal(fill_ts(a, 40960, 0, false, insts, &n, "a100-4c", 0, 1, &err), 0);
	assert_non_null(strstr(err.msg, "equal-size mode"));
	/* the reserve comes off the memory: 4 x 8 GiB fit in 40 GiB - 1 GiB */
	n = 0;
	assert_int_equal(fill_ts(a, 40960, 1024, false, insts, &n, "a100-8c", 0, 10, &err), 4);
	assert_non_null(strstr(err.msg, "MiB given out"));
	/* h100-16c: published max 6, but only 5 x 16 GiB fit in 80 GiB */
	n = 0;
	assert_int_equal(fill_ts(h, 81559, 0, false, insts, &n, "h100-16c", 0, 10, &err), 5);
	assert_non_null(strstr(err.msg, "given out"));
	/* the full-size profile on a timeslice GPU is one instance */
	n = 0;
	assert_int_equal(fill_ts(h, 81559, 0, false, insts, &n, "h100-80c", 0, 3, &err), 1);
	n = 0;
	assert_int_equal(fill_ts(h, 81559, 0, false, insts, &n, "h100-4c", 0, 30, &err), 20);
}

static void test_timeslice_mixed_size(void **state)
{
	const struct gv_model *a = model("a100-40gb");
	struct gv_place_inst insts[64];
	struct gv_err err = { 0 };
	int n = 0;

	(void)state;
	assert_int_equal(fill_ts(a, 40960, 0, true, insts, &n, "a100-8c", 0, 2, &err), 2);
	assert_int_equal(fill_ts(a, 40960, 0, true, insts, &n, "a100-4c", 0, 20, &err), 6);
	assert_non_null(strstr(err.msg, "40960 of 40960 MiB given out"));
	/* the mixed-mode maximum counts each size: 8 x 4c, not 10 */
	n = 0;
	assert_int_equal(fill_ts(a, 40960, 0, true, insts, &n, "a100-4c", 0, 20, &err), 8);
	assert_non_null(strstr(err.msg, "mixed-size mode is 8"));
	/* 8c mixed max is 4 although 5 fit in memory */
	n = 0;
	assert_int_equal(fill_ts(a, 40960, 0, true, insts, &n, "a100-8c", 0, 20, &err), 4);
}

static void test_timeslice_unknown_model(void **state)
{
	struct gv_place_inst insts[16];
	struct gv_err err = { 0 };
	int n = 0;

	(void)state;
	assert_int_equal(fill_ts(NULL, 30000, 0, false, insts, &n, "timeslice", 10000, 9, &err), 3);
	assert_null(insts[0].profile);
	assert_int_equal(insts[0].fb_mib, 10000);
	/* a C-series name gives its size: 8c is 8 GiB */
	n = 0;
	assert_int_equal(fill_ts(NULL, 30000, 0, false, insts, &n, "x-8c", 0, 9, &err), 3);
	assert_int_equal(insts[0].fb_mib, 8192);
	/* no size at all */
	n = 0;
	assert_int_equal(fill_ts(NULL, 30000, 0, false, insts, &n, "timeslice", 0, 1, &err), 0);
	assert_int_equal(err.code, EINVAL);
	/* on a known model a size only goes with the name "timeslice" */
	n = 0;
	assert_int_equal(
		fill_ts(model("l4"), 24576, 0, false, insts, &n, "timeslice", 6000, 9, &err), 4);
	n = 0;
	assert_int_equal(fill_ts(model("l4"), 24576, 0, false, insts, &n, "big-7c", 7000, 1, &err),
			 0);
	assert_int_equal(err.code, EINVAL);
}

/* ---- passthrough ------------------------------------------------------------- */

static void test_passthrough(void **state)
{
	const struct gv_model *h = model("h100-80gb");
	struct gv_place_inst pt = { prof(h, "passthrough"), GV_PROFILE_PASSTHROUGH, -1, 81559 };
	struct gv_place_gpu g;
	struct gv_place_node node;
	struct gv_place_req req = { .profile = "passthrough", .gpu = -1, .start = -1 };
	struct gv_place_result res;
	struct gv_err err = { 0 };

	(void)state;
	one_gpu(h, NULL, 0, GV_MODE_PASSTHROUGH, &g, &node);
	g.mem_mib = 81559;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.kind, GV_PROFILE_PASSTHROUGH);
	assert_int_equal(res.fb_mib, 81559);
	assert_int_equal(gv_place_free_count(&g, prof(h, "passthrough"), false), 1);
	/* the full-size C profile means passthrough here */
	req.profile = "h100-80c";
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.kind, GV_PROFILE_PASSTHROUGH);
	assert_ptr_equal(res.profile, prof(h, "h100-80c"));
	req.profile = "h100-8c";
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "mode is passthrough"));
	req.profile = "1g.10gb";
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	/* exclusive: nothing joins an instance */
	one_gpu(h, &pt, 1, GV_MODE_PASSTHROUGH, &g, &node);
	req.profile = "passthrough";
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "whole GPU"));
	assert_int_equal(gv_place_free_count(&g, prof(h, "passthrough"), false), 0);
	/* and it needs a passthrough-mode GPU */
	one_gpu(h, NULL, 0, GV_MODE_TIMESLICE, &g, &node);
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "mode is timeslice"));
	/* any GPU, unknown models included */
	one_gpu(NULL, NULL, 0, GV_MODE_PASSTHROUGH, &g, &node);
	g.mem_mib = 12345;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_null(res.profile);
	assert_int_equal(res.fb_mib, 12345);
}

/* ---- GPU choice -------------------------------------------------------------- */

static void test_pack_and_spread(void **state)
{
	const struct gv_model *a = model("a100-40gb");
	const struct gv_profile *p8 = prof(a, "a100-8c");
	struct gv_place_inst i1[2] = { { p8, GV_PROFILE_TIMESLICE, -1, 8192 },
				       { p8, GV_PROFILE_TIMESLICE, -1, 8192 } };
	struct gv_place_inst i2[5] = { { p8, GV_PROFILE_TIMESLICE, -1, 8192 } };
	struct gv_place_inst mig1[1] = { { prof(a, "1g.5gb"), GV_PROFILE_MIG, 6, 4864 } };
	struct gv_place_gpu gpus[4];
	struct gv_place_node node = { gpus, 4, false }, tmp;
	struct gv_place_req req = { .profile = "a100-8c", .gpu = -1, .start = -1 };
	struct gv_place_result res, again;
	struct gv_err err = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		one_gpu(a, NULL, 0, GV_MODE_TIMESLICE, &gpus[i], &tmp);
		gpus[i].index = i;
	}
	/* all empty: both policies take the lowest index */
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 0);
	req.policy = GV_PLACE_SPREAD;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 0);
	/* gpu 1 has 2 instances, gpu 2 has 1, gpu 3 is full (5) */
	gpus[1].insts = i1;
	gpus[1].n_insts = 2;
	gpus[2].insts = i2;
	gpus[2].n_insts = 1;
	for (i = 0; i < 5; i++)
		i2[i] = i1[0];
	gpus[3].insts = i2;
	gpus[3].n_insts = 5;
	req.policy = GV_PLACE_PACK;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 1);
	assert_int_equal(gv_place(&node, &req, &again, &err), 0);
	assert_memory_equal(&res, &again, sizeof(res));
	req.policy = GV_PLACE_SPREAD;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 0);
	/* an explicit GPU is taken as asked, or refused with its reason */
	req.gpu = 3;
	assert_int_equal(gv_place(&node, &req, &res, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "gpu 3 cannot take a100-8c"));
	req.gpu = 2;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 2);
	/* MIG: pack goes to the GPU that has an instance, spread to an empty one */
	for (i = 0; i < 4; i++) {
		one_gpu(a, NULL, 0, GV_MODE_MIG, &gpus[i], &tmp);
		gpus[i].index = i;
	}
	gpus[2].insts = mig1;
	gpus[2].n_insts = 1;
	req.gpu = -1;
	req.profile = "2g.10gb";
	req.policy = GV_PLACE_PACK;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 2);
	req.policy = GV_PLACE_SPREAD;
	assert_int_equal(gv_place(&node, &req, &res, &err), 0);
	assert_int_equal(res.gpu, 0);
	req.policy = (enum gv_place_policy)7;
	assert_int_equal(gv_place(&node, &req, &res, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enumerate_a100_40gb),
		cmocka_unit_test(test_enumerate_h100_80gb),
		cmocka_unit_test(test_enumerate_a30),
		cmocka_unit_test(test_enumerate_other_8slot_models),
		cmocka_unit_test(test_documented_layouts),
		cmocka_unit_test(test_free_counts_like_lgip),
		cmocka_unit_test(test_automatic_start),
		cmocka_unit_test(test_explicit_refusals),
		cmocka_unit_test(test_refusal_names_every_gpu),
		cmocka_unit_test(test_timeslice_equal_size),
		cmocka_unit_test(test_timeslice_mixed_size),
		cmocka_unit_test(test_timeslice_unknown_model),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_pack_and_spread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

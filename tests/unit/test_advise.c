/* gv_advise: each row of the seed's table gives the mode it names (time
 * slicing for training and dev/test, MIG for production inference and
 * multitenancy, passthrough for one workload at full performance), and the
 * edge cases a demanding admin checks: nothing fits, replicas spread,
 * untrusted tenants never time-sliced without the warning, memory larger
 * than any GPU, a GPU the catalog does not know, mode-switch alternatives.
 * Uses the real data/catalog.json; advised MIG layouts are re-checked with
 * gv_place_mig_check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/advise.h"
#include "gpuvisor/catalog.h"
#include "gpuvisor/place.h"

static struct gv_catalog *cat;

static int setup(void **state)
{
	const char *dir = getenv("GV_TEST_SOURCE_DIR");
	char path[4096];
	struct gv_err err = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/data/catalog.json", dir ? dir : ".");
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

/* ---- a node under test ---------------------------------------------------- */

struct tnode {
	struct gv_place_gpu gpus[GV_NODE_MAX_GPUS];
	struct gv_place_inst insts[GV_NODE_MAX_GPUS][32];
	struct gv_place_node node;
};

static struct tnode *tnode_new(void)
{
	struct tnode *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->node.gpus = t->gpus;
	return t;
}

/* Adds a GPU; model NULL: not in the catalog (mem_mib as the device says). */
static int add_gpu(struct tnode *t, const char *model, enum gv_mode mode, uint64_t mem_mib)
{
	int g = t->node.n_gpus++;
	struct gv_place_gpu *pg = &t->gpus[g];

	pg->index = g;
	pg->uuid = "GPU-test";
	pg->model = model ? gv_catalog_find_model(cat, model) : NULL;
	if (model)
		assert_non_null(pg->model);
	pg->mem_mib = mem_mib ? mem_mib : pg->model->mem_mib;
	pg->mode = mode;
	pg->insts = t->insts[g];
	return g;
}

static void add_inst(struct tnode *t, int g, const char *profile, int start)
{
	struct gv_place_gpu *pg = &t->gpus[g];
	struct gv_place_inst *in = &t->insts[g][pg->n_insts++];

	in->profile = gv_model_find_profile(pg->model, profile);
	assert_non_null(in->profile);
	in->kind = in->profile->kind;
	in->start = start;
	in->fb_mib =
		in->profile->kind == GV_PROFILE_PASSTHROUGH ? pg->mem_mib : in->profile->fb_mib;
}

static struct gv_advise_req req_of(enum gv_advise_workload w, uint64_t gib)
{
	struct gv_advise_req r = {
		.workload = w, .memory_mib = gib * 1024, .trusted = true, .replicas = 1, .gpu = -1
	};
	return r;
}

static struct gv_advice *advise_ok(struct tnode *t, const struct gv_advise_req *r)
{
	struct gv_advice *a = calloc(1, sizeof(*a));
	struct gv_err err = { 0 };
	int ret;

	assert_non_null(a);
	ret = gv_advise(&t->node, r, a, &err);
	if (ret)
		fail_msg("gv_advise: %d %s", ret, err.msg);
	return a;
}

static bool has_reason(const struct gv_advice_opt *o, const char *needle)
{
	int i;

	for (i = 0; i < o->n_reasons; i++)
		if (strstr(o->reasons[i], needle))
			return true;
	return false;
}

static void assert_reason(const struct gv_advice_opt *o, const char *needle)
{
	int i;

	if (has_reason(o, needle))
		return;
	for (i = 0; i < o->n_reasons; i++)
		fprintf(stderr, "  reason: %s\n", o->reasons[i]);
	fail_msg("no reason mentions '%s'", needle);
}

/* The advised MIG slots, applied in order, are each valid on top of the
 * GPU's instances (an independent check through the placement rules). */
static void assert_mig_layout_valid(struct tnode *t, const struct gv_advice_opt *o)
{
	struct gv_place_inst insts[GV_NODE_MAX_GPUS][64];
	int n[GV_NODE_MAX_GPUS] = { 0 };
	int i, g;

	for (g = 0; g < t->node.n_gpus; g++)
		for (i = 0; i < t->gpus[g].n_insts; i++)
			insts[g][n[g]++] = t->insts[g][i];
	for (i = 0; i < o->n_slots; i++) {
		const struct gv_advise_slot *s = &o->slots[i];
		const struct gv_profile *p;
		struct gv_err err = { 0 };

		g = s->gpu;
		if (s->kind != GV_PROFILE_MIG)
			continue;
		p = gv_model_find_profile(t->gpus[g].model, s->profile);
		assert_non_null(p);
		if (gv_place_mig_check(t->gpus[g].model, insts[g], n[g], p, s->start, &err))
			fail_msg("replica %d: %s at %d: %s", i + 1, s->profile, s->start, err.msg);
		insts[g][n[g]++] = (struct gv_place_inst){ p, p->kind, s->start, p->fb_mib };
	}
}

/* ---- the seed's table, row by row ------------------------------------------- */

static void test_row_training_timeslice(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 6);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_TIMESLICE, 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_TIMESLICE);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "h100-8c");
	assert_int_equal(a->rec.n_slots, 1);
	assert_int_equal(a->rec.slots[0].gpu, 0);
	assert_int_equal(a->rec.slots[0].start, -1);
	assert_reason(&a->rec, "rule for training");
	assert_reason(&a->rec, "not a tenant that loads the real driver");
	assert_int_equal(a->rec.n_commands, 1);
	assert_string_equal(a->rec.commands[0], "gpuvisor create --profile h100-8c --gpu 0");
	assert_int_equal(a->n_alts, 0);
	free(a);
	free(t);
}

static void test_row_dev_timeslice(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_DEV, 4);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "a100-40gb", GV_MODE_TIMESLICE, 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_TIMESLICE);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "a100-4c");
	assert_reason(&a->rec, "rule for dev/test");
	free(a);
	free(t);
}

static void test_row_inference_mig(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_INFERENCE, 30);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_MIG, 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_MIG);
	assert_true(a->rec.fits_now);
	/* smallest MIG profile with 30 GiB; of 3g and 4g (same memory) the one
	 * with fewer compute slices, leaving room */
	assert_string_equal(a->rec.profile, "3g.40gb");
	assert_true(a->rec.slots[0].start == 0 || a->rec.slots[0].start == 4);
	assert_reason(&a->rec, "production inference");
	assert_mig_layout_valid(t, &a->rec);
	assert_string_equal(a->rec.commands[0], "gpuvisor create --profile 3g.40gb --gpu 0 "
						"--placement 4");
	free(a);

	/* latency-sensitive: of equal memory, more compute slices */
	r.latency_sensitive = true;
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_MIG);
	assert_string_equal(a->rec.profile, "4g.40gb");
	assert_reason(&a->rec, "most compute slices");
	free(a);
	free(t);
}

static void test_row_multitenancy_mig(void **state)
{
	static const enum gv_advise_workload wl[] = { GV_ADVISE_TRAINING, GV_ADVISE_DEV,
						      GV_ADVISE_INFERENCE };
	struct tnode *t = tnode_new();
	size_t i;

	(void)state;
	add_gpu(t, "a100-40gb", GV_MODE_MIG, 0);
	for (i = 0; i < 3; i++) {
		struct gv_advise_req r = req_of(wl[i], 8);
		struct gv_advice *a;

		r.trusted = false;
		a = advise_ok(t, &r);
		assert_int_equal(a->rec.mode, GV_MODE_MIG);
		assert_true(a->rec.fits_now);
		assert_string_equal(a->rec.profile, "1g.10gb");
		assert_reason(&a->rec, "multitenancy");
		assert_reason(&a->rec, "only MIG isolates faults");
		free(a);
	}
	free(t);
}

static void test_row_full_performance_passthrough(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 60);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_PASSTHROUGH, 0);
	/* 60 GiB: more than any shared partition (h100-40c, 3g/4g.40gb) */
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "passthrough");
	assert_reason(&a->rec, "one workload at full performance");
	assert_reason(&a->rec, "h100-40c");
	assert_string_equal(a->rec.commands[0], "gpuvisor create --profile passthrough --gpu 0");
	free(a);
	/* the same for inference and untrusted tenants: a whole GPU isolates
	 * by exclusivity */
	r.workload = GV_ADVISE_INFERENCE;
	r.trusted = false;
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	free(a);
	/* latency-sensitive training, small: still the whole GPU */
	r = req_of(GV_ADVISE_TRAINING, 8);
	r.latency_sensitive = true;
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	assert_true(a->rec.fits_now);
	assert_reason(&a->rec, "Latency-sensitive training");
	free(a);
	free(t);
}

/* ---- edge cases ----------------------------------------------------------- */

static void test_nothing_fits(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_INFERENCE, 30);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_MIG, 0);
	add_inst(t, 0, "7g.80gb", 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_MIG);
	assert_false(a->rec.fits_now);
	assert_int_equal(a->rec.n_slots, 0);
	assert_int_equal(a->rec.n_commands, 0);
	assert_string_equal(a->rec.profile, "3g.40gb");
	/* the placement code's reason, naming the GPU */
	assert_reason(&a->rec, "gpu 0 cannot take 3g.40gb");
	assert_int_equal(a->n_alts, 0);
	assert_reason(&a->rec, "No mode fits now");
	free(a);
	free(t);
}

static void test_mode_switch_alternative(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_INFERENCE, 16);
	struct gv_advice *a;

	(void)state;
	/* gpu 0 busy in passthrough, gpu 1 empty in timeslice */
	add_gpu(t, "h100-80gb", GV_MODE_PASSTHROUGH, 0);
	add_inst(t, 0, "passthrough", -1);
	add_gpu(t, "a100-80gb", GV_MODE_TIMESLICE, 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_MIG);
	assert_false(a->rec.fits_now);
	assert_reason(&a->rec, "see the alternatives");
	assert_true(a->n_alts >= 1);
	/* first: the table's mode after switching the empty GPU */
	assert_int_equal(a->alts[0].mode, GV_MODE_MIG);
	assert_true(a->alts[0].fits_now);
	assert_int_equal(a->alts[0].n_mode_gpus, 1);
	assert_int_equal(a->alts[0].mode_gpus[0], 1);
	assert_reason(&a->alts[0], "set gpu 1 to mig mode (it has no instances");
	assert_string_equal(a->alts[0].commands[0], "gpuvisor mode 1 mig");
	assert_string_equal(a->alts[0].profile, "1g.20gb");
	assert_int_equal(a->alts[0].slots[0].gpu, 1);
	assert_non_null(strstr(a->alts[0].commands[1], "--profile 1g.20gb --gpu 1 --placement"));
	/* then time slicing as it is, with its latency trade-off */
	assert_int_equal(a->alts[1].mode, GV_MODE_TIMESLICE);
	assert_true(a->alts[1].fits_now);
	assert_int_equal(a->alts[1].n_mode_gpus, 0);
	assert_reason(&a->alts[1], "waits for the other tenants' slices");
	free(a);
	free(t);
}

static void test_replicas_spread(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 16);
	struct gv_advice *a;
	int per[2] = { 0, 0 }, i;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_TIMESLICE, 0);
	add_gpu(t, "h100-80gb", GV_MODE_TIMESLICE, 0);
	add_inst(t, 0, "h100-16c", -1); /* gpu 0 is fuller: pack alone would fill it first */
	r.replicas = 4;
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_TIMESLICE);
	assert_true(a->rec.fits_now);
	assert_int_equal(a->rec.n_slots, 4);
	for (i = 0; i < 4; i++)
		per[a->rec.slots[i].gpu]++;
	assert_int_equal(per[0], 2);
	assert_int_equal(per[1], 2);
	assert_reason(&a->rec, "4 replicas spread over 2 GPUs");
	assert_int_equal(a->rec.n_commands, 4);
	free(a);

	/* more replicas than fit: h100-16c max 5 per GPU (memory), 1 there */
	r.replicas = 10;
	a = advise_ok(t, &r);
	assert_false(a->rec.fits_now);
	assert_int_equal(a->rec.n_slots, 9);
	assert_reason(&a->rec, "replica 10 of 10 has no place now");
	assert_int_equal(a->rec.n_commands, 0);
	free(a);

	/* equal-size mode: beside 16 GiB vGPUs, an 8 GiB workload gets 16c */
	r = req_of(GV_ADVISE_DEV, 8);
	r.gpu = 0;
	a = advise_ok(t, &r);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "h100-16c");
	assert_reason(&a->rec, "equal sizes");
	free(a);
	t->node.mixed_size = true;
	a = advise_ok(t, &r);
	assert_string_equal(a->rec.profile, "h100-8c");
	free(a);
	t->node.mixed_size = false;

	/* MIG replicas on one GPU: every advised start is valid together */
	free(t);
	t = tnode_new();
	add_gpu(t, "h100-80gb", GV_MODE_MIG, 0);
	add_inst(t, 0, "2g.20gb", 0);
	r = req_of(GV_ADVISE_INFERENCE, 9);
	r.replicas = 5;
	a = advise_ok(t, &r);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "1g.10gb");
	assert_mig_layout_valid(t, &a->rec);
	assert_reason(&a->rec, "All 5 replicas are on gpu 0");
	assert_int_equal(a->n_alts, 0);
	free(a);
	/* an empty GPU beside it: switching it to MIG would spread them */
	add_gpu(t, "a100-80gb", GV_MODE_TIMESLICE, 0);
	r = req_of(GV_ADVISE_INFERENCE, 9);
	r.replicas = 4;
	a = advise_ok(t, &r);
	assert_true(a->rec.fits_now);
	assert_int_equal(a->rec.slots[3].gpu, 0);
	assert_reason(&a->rec, "would spread the replicas over more GPUs");
	assert_int_equal(a->n_alts, 1);
	assert_int_equal(a->alts[0].mode, GV_MODE_MIG);
	assert_true(a->alts[0].fits_now);
	assert_string_equal(a->alts[0].commands[0], "gpuvisor mode 1 mig");
	assert_reason(&a->alts[0], "spreads the replicas over 2 GPUs instead of 1");
	assert_mig_layout_valid(t, &a->alts[0]);
	free(a);
	free(t);
}

static void test_untrusted_never_plain_timeslice(void **state)
{
	static const uint64_t gib[] = { 4, 8, 16, 24, 30, 40, 60, 80 };
	struct tnode *t = tnode_new();
	size_t i, w;
	int k;

	(void)state;
	/* no MIG-capable GPU free: MIG cannot be had */
	add_gpu(t, "l40s", GV_MODE_TIMESLICE, 0);
	add_gpu(t, "h100-80gb", GV_MODE_PASSTHROUGH, 0);
	add_inst(t, 1, "passthrough", -1);
	for (w = 0; w < 3; w++)
		for (i = 0; i < sizeof(gib) / sizeof(gib[0]); i++) {
			struct gv_advise_req r = req_of((enum gv_advise_workload)w, gib[i]);
			struct gv_advice *a;

			r.trusted = false;
			a = advise_ok(t, &r);
			assert_int_not_equal(a->rec.mode, GV_MODE_TIMESLICE);
			for (k = 0; k < a->n_alts; k++)
				if (a->alts[k].mode == GV_MODE_TIMESLICE)
					assert_reason(&a->alts[k], "WARNING: the tenants do not "
								   "trust each other");
			free(a);
		}
	/* 8 GiB untrusted here: MIG (the H100 has it, but is taken whole);
	 * the L40S is time-sliced, so time slicing is an alternative, with the
	 * warning, and so is passthrough after switching the L40S */
	{
		struct gv_advise_req r = req_of(GV_ADVISE_INFERENCE, 8);
		struct gv_advice *a;

		r.trusted = false;
		a = advise_ok(t, &r);
		assert_int_equal(a->rec.mode, GV_MODE_MIG);
		assert_false(a->rec.fits_now);
		assert_int_equal(a->n_alts, 2);
		assert_int_equal(a->alts[0].mode, GV_MODE_TIMESLICE);
		assert_reason(&a->alts[0], "only MIG isolates faults");
		assert_int_equal(a->alts[1].mode, GV_MODE_PASSTHROUGH);
		assert_reason(&a->alts[1], "isolated by exclusivity");
		assert_string_equal(a->alts[1].commands[0], "gpuvisor mode 0 passthrough");
		free(a);
	}
	/* with no MIG-capable GPU at all, untrusted tenants get a whole GPU */
	t->node.n_gpus = 1;
	{
		struct gv_advise_req r = req_of(GV_ADVISE_DEV, 8);
		struct gv_advice *a;

		r.trusted = false;
		a = advise_ok(t, &r);
		assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
		assert_reason(&a->rec, "isolates by exclusivity");
		free(a);
	}
	free(t);
}

static void test_memory_bigger_than_gpu(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 200);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_PASSTHROUGH, 0);
	add_gpu(t, "a100-40gb", GV_MODE_MIG, 0);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	assert_false(a->rec.fits_now);
	assert_int_equal(a->rec.n_slots, 0);
	assert_int_equal(a->n_alts, 0);
	assert_string_equal(a->rec.profile, "passthrough");
	assert_reason(&a->rec, "more than the whole of any GPU considered (the largest has "
			       "81920 MiB)");
	free(a);
	/* "80G" of an 80 GB GPU that reports a little less: it fits whole */
	t->gpus[0].mem_mib = 81559;
	r = req_of(GV_ADVISE_TRAINING, 80);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	assert_true(a->rec.fits_now);
	assert_int_equal(a->rec.slots[0].gpu, 0);
	free(a);
	free(t);
}

static void test_uncatalogued_gpu(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 8);
	struct gv_advice *a;

	(void)state;
	add_gpu(t, NULL, GV_MODE_TIMESLICE, 24000);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_TIMESLICE);
	assert_true(a->rec.fits_now);
	assert_string_equal(a->rec.profile, "timeslice");
	assert_int_equal(a->rec.slots[0].fb_mib, 8192);
	assert_string_equal(a->rec.commands[0], "gpuvisor create --framebuffer 8g --gpu 0");
	assert_reason(&a->rec, "not in the catalog");
	free(a);
	/* inference wants MIG; the unknown model has none: time slicing for a
	 * trusted tenant, saying why */
	r = req_of(GV_ADVISE_INFERENCE, 8);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_TIMESLICE);
	assert_reason(&a->rec, "MIG would be the choice");
	free(a);
	/* over half of it: a whole GPU */
	r = req_of(GV_ADVISE_DEV, 16);
	a = advise_ok(t, &r);
	assert_int_equal(a->rec.mode, GV_MODE_PASSTHROUGH);
	assert_false(a->rec.fits_now);
	assert_true(a->n_alts >= 1);
	assert_int_equal(a->alts[0].mode, GV_MODE_PASSTHROUGH);
	assert_string_equal(a->alts[0].commands[0], "gpuvisor mode 0 passthrough");
	free(a);
	free(t);
}

static void test_gpu_restriction_and_bad_requests(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_TRAINING, 8);
	struct gv_advice *a = calloc(1, sizeof(*a));
	struct gv_err err = { 0 };

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_TIMESLICE, 0);
	add_gpu(t, "a100-40gb", GV_MODE_TIMESLICE, 0);
	r.gpu = 1;
	free(a);
	a = advise_ok(t, &r);
	assert_true(a->rec.fits_now);
	assert_int_equal(a->rec.slots[0].gpu, 1);
	assert_string_equal(a->rec.profile, "a100-8c");
	free(a);
	a = calloc(1, sizeof(*a));
	r.gpu = 2;
	assert_int_equal(gv_advise(&t->node, &r, a, &err), -ENOENT);
	r.gpu = -1;
	r.replicas = 0;
	assert_int_equal(gv_advise(&t->node, &r, a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "replicas"));
	r.replicas = 65;
	assert_int_equal(gv_advise(&t->node, &r, a, &err), -EINVAL);
	r.replicas = 1;
	r.memory_mib = 0;
	assert_int_equal(gv_advise(&t->node, &r, a, &err), -EINVAL);
	r.memory_mib = 1024;
	r.workload = (enum gv_advise_workload)7;
	assert_int_equal(gv_advise(&t->node, &r, a, &err), -EINVAL);
	free(a);
	free(t);
}

static void test_deterministic_and_pure(void **state)
{
	struct tnode *t = tnode_new();
	struct tnode *copy;
	struct gv_advise_req r = req_of(GV_ADVISE_INFERENCE, 10);
	struct gv_advice *a, *b;

	(void)state;
	add_gpu(t, "h100-80gb", GV_MODE_MIG, 0);
	add_inst(t, 0, "3g.40gb", 4);
	add_gpu(t, "a100-40gb", GV_MODE_PASSTHROUGH, 0);
	r.replicas = 3;
	copy = malloc(sizeof(*copy));
	assert_non_null(copy);
	memcpy(copy, t, sizeof(*t));
	a = advise_ok(t, &r);
	b = advise_ok(t, &r);
	assert_memory_equal(&a->rec, &b->rec, sizeof(a->rec));
	/* the snapshot is untouched */
	assert_int_equal(t->gpus[0].n_insts, 1);
	assert_memory_equal(t->insts, copy->insts, sizeof(t->insts));
	assert_int_equal(t->gpus[1].mode, GV_MODE_PASSTHROUGH);
	free(a);
	free(b);
	free(copy);
	free(t);
}

static void test_no_gpus(void **state)
{
	struct tnode *t = tnode_new();
	struct gv_advise_req r = req_of(GV_ADVISE_DEV, 1);
	struct gv_advice *a;

	(void)state;
	a = advise_ok(t, &r);
	assert_false(a->rec.fits_now);
	assert_reason(&a->rec, "no GPUs");
	free(a);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_training_timeslice),
		cmocka_unit_test(test_row_dev_timeslice),
		cmocka_unit_test(test_row_inference_mig),
		cmocka_unit_test(test_row_multitenancy_mig),
		cmocka_unit_test(test_row_full_performance_passthrough),
		cmocka_unit_test(test_nothing_fits),
		cmocka_unit_test(test_mode_switch_alternative),
		cmocka_unit_test(test_replicas_spread),
		cmocka_unit_test(test_untrusted_never_plain_timeslice),
		cmocka_unit_test(test_memory_bigger_than_gpu),
		cmocka_unit_test(test_uncatalogued_gpu),
		cmocka_unit_test(test_gpu_restriction_and_bad_requests),
		cmocka_unit_test(test_deterministic_and_pure),
		cmocka_unit_test(test_no_gpus),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

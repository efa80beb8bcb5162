/* Catalog: the real data/catalog.json loads and says what the published
 * tables say; malformed catalogs are refused with a message naming the
 * model/profile/field; matching and look-ups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuvisor/catalog.h"

static struct gv_catalog *load_real(void)
{
	const char *dir = getenv("GV_TEST_SOURCE_DIR");
	char path[4096];
	struct gv_catalog *cat = NULL;
	struct gv_err err = { 0 };
	int rc;

	snprintf(path, sizeof(path), "%s/data/catalog.json", dir ? dir : GV_SOURCE_DIR);
	rc = gv_catalog_load(path, &cat, &err);
	if (rc != 0)
		fail_msg("loading %s: %s", path, err.msg);
	assert_non_null(cat);
	return cat;
}

static const struct gv_profile *prof(const struct gv_model *m, const char *name)
{
	const struct gv_profile *p = gv_model_find_profile(m, name);

	if (!p)
		fail_msg("model %s has no profile %s", m->id, name);
	return p;
}

static uint32_t mask_of(const int *starts, int n)
{
	uint32_t m = 0;
	int i;

	for (i = 0; i < n; i++)
		m |= 1u << starts[i];
	return m;
}

static void test_every_model_loads(void **state)
{
	static const char *const ids[] = { "a100-40gb", "a100-80gb",	  "a30-24gb",
					   "h100-80gb", "h100-80gb-pcie", "h100-nvl",
					   "h200",	"b200",		  "l4",
					   "l40s" };
	struct gv_catalog *cat = load_real();
	size_t i, j;

	(void)state;
	assert_int_equal(gv_catalog_n_models(cat), sizeof(ids) / sizeof(ids[0]));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const struct gv_model *m = gv_catalog_find_model(cat, ids[i]);

		if (!m)
			fail_msg("model %s missing", ids[i]);
		assert_string_equal(m->id, ids[i]);
		assert_true(m->mem_mib > 0);
		assert_true(m->sms > 0);
		assert_true(m->n_profiles > 1);
		assert_non_null(m->names);
		assert_string_equal(m->name, m->names[0]);
		assert_int_equal(m->profiles[0].kind, GV_PROFILE_PASSTHROUGH);
		assert_int_equal(m->profiles[0].fb_mib, m->mem_mib);
		for (j = 0; j < m->n_profiles; j++) {
			const struct gv_profile *p = &m->profiles[j];
			int s;

			assert_true(p->fb_mib > 0 && p->fb_mib <= m->mem_mib);
			assert_true(p->max_count >= 1);
			/* every name resolves back to itself */
			assert_ptr_equal(gv_model_find_profile(m, p->name), p);
			if (p->kind == GV_PROFILE_MIG || p->kind == GV_PROFILE_MIG_VGPU) {
				assert_true(m->mig_mem_slices > 0);
				for (s = 0; s < GV_MIG_MAX_SLOTS; s++)
					if (p->start_mask & (1u << s))
						assert_true(s + p->mem_slices <= m->mig_mem_slices);
				assert_true(p->compute_slices <= m->mig_compute_slices);
			}
			if (p->kind == GV_PROFILE_MIG_VGPU) {
				assert_non_null(p->mig);
				assert_int_equal(p->mig->kind, GV_PROFILE_MIG);
				assert_int_equal(p->fb_mib, p->mig->fb_mib);
				assert_true(p->max_count <= p->mig->max_count);
			}
			if (p->kind == GV_PROFILE_TIMESLICE)
				assert_true(p->max_mixed <= p->max_count);
		}
	}
	assert_null(gv_catalog_model_at(cat, gv_catalog_n_models(cat)));
	gv_catalog_free(cat);
}

static void test_published_values(void **state)
{
	static const int s1g[] = { 0, 1, 2, 3, 4, 5, 6 }, s1gd[] = { 0, 2, 4, 6 },
			 s2g[] = { 0, 2, 4 }, s3g[] = { 0, 4 }, s0[] = { 0 },
			 sa30[] = { 0, 1, 2, 3 }, sa30_2[] = { 0, 2 };
	struct gv_catalog *cat = load_real();
	const struct gv_model *a100 = gv_catalog_find_model(cat, "a100-40gb");
	const struct gv_model *h100 = gv_catalog_find_model(cat, "h100-80gb");
	const struct gv_model *a30 = gv_catalog_find_model(cat, "a30");
	const struct gv_model *l4 = gv_catalog_find_model(cat, "l4");
	const struct gv_profile *p;

	(void)state;
	assert_int_equal(a100->mig_mem_slices, 8);
	assert_int_equal(a100->mig_compute_slices, 7);
	assert_int_equal(a100->pci_ids[0], 0x20b0);
	p = prof(a100, "1g.5gb");
	assert_int_equal(p->mig_id, 19);
	assert_int_equal(p->fb_mib, 4864);
	assert_int_equal(p->start_mask, mask_of(s1g, 7));
	assert_int_equal(p->max_count, 7);
	p = prof(a100, "1g.5gb+me");
	assert_true(p->media_ext);
	assert_int_equal(p->max_count, 1);
	assert_int_equal(p->mig_id, 20);
	p = prof(a100, "1g.10gb");
	assert_int_equal(p->mem_slices, 2);
	assert_int_equal(p->compute_slices, 1);
	assert_int_equal(p->start_mask, mask_of(s1gd, 4));
	assert_int_equal(prof(a100, "2g.10gb")->start_mask, mask_of(s2g, 3));
	assert_int_equal(prof(a100, "3g.20gb")->start_mask, mask_of(s3g, 2));
	assert_int_equal(prof(a100, "3g.20gb")->fb_mib, 19968);
	assert_int_equal(prof(a100, "4g.20gb")->start_mask, mask_of(s0, 1));
	assert_int_equal(prof(a100, "7g.40gb")->mem_slices, 8);
	assert_int_equal(prof(a100, "7g.40gb")->mig_id, 0);
	/* MIG-backed C-series live in their MIG profile */
	p = prof(a100, "a100-3-20c");
	assert_int_equal(p->kind, GV_PROFILE_MIG_VGPU);
	assert_ptr_equal(p->mig, prof(a100, "3g.20gb"));
	assert_int_equal(p->max_count, 2);
	assert_true(prof(a100, "a100-1-5cme")->media_ext);
	/* time-sliced, equal / mixed maxima */
	p = prof(a100, "a100-8c");
	assert_int_equal(p->kind, GV_PROFILE_TIMESLICE);
	assert_int_equal(p->fb_mib, 8192);
	assert_int_equal(p->max_count, 5);
	assert_int_equal(p->max_mixed, 4);
	p = prof(h100, "h100-16c");
	assert_int_equal(p->max_count, 6);
	assert_int_equal(p->max_mixed, 4);
	assert_int_equal(prof(h100, "7g.80gb")->sms, 132);
	assert_int_equal(prof(h100, "3g.40gb")->sms, 60);
	assert_ptr_equal(prof(gv_catalog_find_model(cat, "a100-80gb"), "a100d-3-40c")->mig,
			 prof(gv_catalog_find_model(cat, "a100-80gb"), "3g.40gb"));
	/* A30: 4 and 4 */
	assert_int_equal(a30->mig_mem_slices, 4);
	assert_int_equal(a30->mig_compute_slices, 4);
	assert_int_equal(prof(a30, "1g.6gb")->start_mask, mask_of(sa30, 4));
	assert_int_equal(prof(a30, "2g.12gb+me")->start_mask, mask_of(sa30_2, 2));
	assert_int_equal(prof(a30, "4g.24gb")->mig_id, 0);
	/* no MIG on L4 */
	assert_int_equal(l4->mig_mem_slices, 0);
	assert_null(gv_model_find_profile(l4, "1g.6gb"));
	gv_catalog_free(cat);
}

static void test_find_model_and_profile(void **state)
{
	struct gv_catalog *cat = load_real();
	const struct gv_model *h100 = gv_catalog_find_model(cat, "h100-80gb");

	(void)state;
	assert_ptr_equal(gv_catalog_find_model(cat, "H100-80GB"), h100);
	assert_ptr_equal(gv_catalog_find_model(cat, "h100-sxm"), h100);
	assert_ptr_equal(gv_catalog_find_model(cat, "h100-80gb-sxm"), h100);
	assert_string_equal(gv_catalog_find_model(cat, "h100-pcie")->id, "h100-80gb-pcie");
	assert_string_equal(gv_catalog_find_model(cat, "A30")->id, "a30-24gb");
	assert_null(gv_catalog_find_model(cat, "h100-81gb"));
	assert_null(gv_catalog_find_model(cat, NULL));
	/* board aliases and NVIDIA's grid_ prefix */
	assert_ptr_equal(gv_model_find_profile(h100, "h100xm-8c"),
			 gv_model_find_profile(h100, "h100-8c"));
	assert_non_null(gv_model_find_profile(h100, "H100-8C"));
	assert_ptr_equal(
		gv_model_find_profile(gv_catalog_find_model(cat, "a100-40gb"), "grid_a100-8c"),
		gv_model_find_profile(gv_catalog_find_model(cat, "a100-40gb"), "a100-8c"));
	assert_null(gv_model_find_profile(h100, "h100xm-7c"));
	assert_null(gv_model_find_profile(h100, "a100-8c"));
	assert_string_equal(gv_model_find_profile(h100, "passthrough")->name, "passthrough");
	gv_catalog_free(cat);
}

static void test_match(void **state)
{
	struct gv_catalog *cat = load_real();
	const struct gv_model *m;
	const char *how = "x";

	(void)state;
	m = gv_catalog_match_ex(cat, 0x2330, "something else", 1, &how);
	assert_string_equal(m->id, "h100-80gb");
	assert_string_equal(how, "pci_id");
	/* PCI id wins over the name */
	m = gv_catalog_match_ex(cat, 0x20b7, "NVIDIA L4", 0, &how);
	assert_string_equal(m->id, "a30-24gb");
	assert_string_equal(how, "pci_id");
	m = gv_catalog_match_ex(cat, 0x1234, "NVIDIA L40S", 0, &how);
	assert_string_equal(m->id, "l40s");
	assert_string_equal(how, "name");
	m = gv_catalog_match_ex(cat, 0, "nvidia a100-pcie-40gb", 0, &how);
	assert_string_equal(m->id, "a100-40gb");
	m = gv_catalog_match_ex(cat, 0, "H100 PCIe", 0, &how);
	assert_string_equal(m->id, "h100-80gb-pcie");
	assert_string_equal(how, "name");
	assert_string_equal(gv_catalog_match(cat, 0x233b, NULL, 0)->id, "h200");
	/* memory within 3% */
	m = gv_catalog_match_ex(cat, 0, "Unknown GPU", 40960 - 1200, &how);
	assert_non_null(m);
	assert_string_equal(m->id, "a100-40gb");
	assert_string_equal(how, "memory");
	m = gv_catalog_match_ex(cat, 0, NULL, 40960 + 1300, &how);
	assert_null(m);
	assert_null(how);
	assert_string_equal(gv_catalog_match(cat, 0, NULL, 143771)->id, "h200");
	/* 80 GB: several models equally close, so memory alone decides nothing */
	assert_null(gv_catalog_match_ex(cat, 0, NULL, 81559, &how));
	assert_null(how);
	assert_null(gv_catalog_match(cat, 0, NULL, 0));
	assert_null(gv_catalog_match(NULL, 0x2330, NULL, 0));
	gv_catalog_free(cat);
}

static void test_mode_and_kind_names(void **state)
{
	enum gv_mode m = GV_MODE_MIG;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(gv_mode_parse("passthrough", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_PASSTHROUGH);
	assert_int_equal(gv_mode_parse("timeslice", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_TIMESLICE);
	assert_int_equal(gv_mode_parse("mig", &m, NULL), 0);
	assert_int_equal(m, GV_MODE_MIG);
	m = GV_MODE_TIMESLICE;
	assert_int_equal(gv_mode_parse("vgpu", &m, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown mode 'vgpu': passthrough, timeslice or mig");
	assert_int_equal(m, GV_MODE_TIMESLICE);
	/* exactly as the API, the CLI and the state database spell them */
	assert_int_equal(gv_mode_parse("TimeSlice", &m, NULL), -EINVAL);
	assert_int_equal(gv_mode_parse(NULL, &m, NULL), -EINVAL);
	assert_string_equal(gv_mode_name(GV_MODE_PASSTHROUGH), "passthrough");
	assert_string_equal(gv_mode_name(GV_MODE_TIMESLICE), "timeslice");
	assert_string_equal(gv_mode_name(GV_MODE_MIG), "mig");
	assert_string_equal(gv_profile_kind_name(GV_PROFILE_PASSTHROUGH), "passthrough");
	assert_string_equal(gv_profile_kind_name(GV_PROFILE_TIMESLICE), "timeslice");
	assert_string_equal(gv_profile_kind_name(GV_PROFILE_MIG), "mig");
	assert_string_equal(gv_profile_kind_name(GV_PROFILE_MIG_VGPU), "mig-vgpu");
}

static void test_default_path(void **state)
{
	const char *old = getenv("GPUVISOR_CATALOG");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	setenv("GPUVISOR_CATALOG", "/tmp/some/catalog.json", 1);
	assert_string_equal(gv_catalog_default_path(), "/tmp/some/catalog.json");
	unsetenv("GPUVISOR_CATALOG");
	/* this test runs from the build tree, so the source tree's file wins */
	assert_string_equal(gv_catalog_default_path(), GV_SOURCE_DIR "/data/catalog.json");
	if (saved) {
		setenv("GPUVISOR_CATALOG", saved, 1);
		free(saved);
	}
}

static void test_load_errors(void **state)
{
	struct gv_catalog *cat = (struct gv_catalog *)&cat;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(gv_catalog_load("/nonexistent/catalog.json", &cat, &err), -ENOENT);
	assert_null(cat);
	assert_non_null(strstr(err.msg, "/nonexistent/catalog.json"));
	cat = (struct gv_catalog *)&cat;
	assert_int_equal(gv_catalog_parse("", 0, &cat, &err), -EINVAL);
	assert_null(cat);
}

/* A small valid catalog that each refusal case breaks in one place. */
static const char base_catalog[] =
	"{\"format\":\"gpuvisor-catalog\",\"version\":1,\"models\":["
	"{\"id\":\"x100\",\"aliases\":[\"x\"],\"names\":[\"NVIDIA X100\"],\"board\":\"x100\","
	"\"pci_ids\":[\"0x1111\"],\"memory_mib\":40960,\"sms\":100,"
	"\"mig\":{\"mem_slices\":8,\"compute_slices\":7},"
	"\"mig_profiles\":["
	"{\"name\":\"1g.5gb\",\"id\":19,\"memory_mib\":4864,\"mem_slices\":1,"
	"\"compute_slices\":1,\"starts\":[0,1,2,3,4,5,6],\"max\":7},"
	"{\"name\":\"3g.20gb\",\"id\":9,\"memory_mib\":19968,\"mem_slices\":4,"
	"\"compute_slices\":3,\"starts\":[0,4],\"max\":2}],"
	"\"timeslice_profiles\":[{\"name\":\"x100-8c\",\"fb_mib\":8192,\"max\":5,\"max_mixed\":4}],"
	"\"mig_vgpu_profiles\":[{\"name\":\"x100-3-20c\",\"mig\":\"3g.20gb\"}]},"
	"{\"id\":\"y1\",\"names\":[\"NVIDIA Y1\"],\"board\":\"y1\",\"pci_ids\":[\"0x2222\"],"
	"\"memory_mib\":24576,\"sms\":50,"
	"\"timeslice_profiles\":[{\"name\":\"y1-12c\",\"fb_mib\":12288,\"max\":2,\"max_mixed\":2}]}]}";

typedef void (*mutate_fn)(json_t *root);

static json_t *model0(json_t *r)
{
	return json_array_get(json_object_get(r, "models"), 0);
}

static json_t *mig0(json_t *r, size_t i)
{
	return json_array_get(json_object_get(model0(r), "mig_profiles"), i);
}

static void m_top_key(json_t *r)
{
	json_object_set_new(r, "extra", json_true());
}
static void m_model_key(json_t *r)
{
	json_object_set_new(model0(r), "memory", json_integer(1));
}
static void m_mig_key(json_t *r)
{
	json_object_set_new(mig0(r, 1), "slots", json_integer(1));
}
static void m_mem_type(json_t *r)
{
	json_object_set_new(model0(r), "memory_mib", json_string("40960"));
}
static void m_dup_profile(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(model0(r), "timeslice_profiles"), 0),
			    "name", json_string("3G.20GB"));
}
static void m_dup_model(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(r, "models"), 1), "id",
			    json_string("X"));
}
static void m_dup_pci(json_t *r)
{
	json_array_set_new(
		json_object_get(json_array_get(json_object_get(r, "models"), 1), "pci_ids"), 0,
		json_string("0x1111"));
}
static void m_start_beyond(json_t *r)
{
	json_array_append_new(json_object_get(mig0(r, 0), "starts"), json_integer(8));
}
static void m_start_plus_size(json_t *r)
{
	json_array_set_new(json_object_get(mig0(r, 1), "starts"), 1, json_integer(5));
}
static void m_dup_start(json_t *r)
{
	json_array_set_new(json_object_get(mig0(r, 1), "starts"), 1, json_integer(0));
}
static void m_missing_mig(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(model0(r), "mig_vgpu_profiles"), 0),
			    "mig", json_string("9g.99gb"));
}
static void m_slices_over(json_t *r)
{
	json_object_set_new(mig0(r, 1), "mem_slices", json_integer(9));
}
static void m_compute_over(json_t *r)
{
	json_object_set_new(mig0(r, 1), "compute_slices", json_integer(8));
}
static void m_mixed_over(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(model0(r), "timeslice_profiles"), 0),
			    "max_mixed", json_integer(6));
}
static void m_no_geometry(json_t *r)
{
	json_object_del(model0(r), "mig");
}
static void m_bad_pci(json_t *r)
{
	json_array_set_new(json_object_get(model0(r), "pci_ids"), 0, json_string("2330"));
}
static void m_empty_names(json_t *r)
{
	json_object_set_new(model0(r), "names", json_array());
}
static void m_format(json_t *r)
{
	json_object_set_new(r, "format", json_string("other"));
}
static void m_version(json_t *r)
{
	json_object_set_new(r, "version", json_integer(2));
}
static void m_fb_over(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(model0(r), "timeslice_profiles"), 0),
			    "fb_mib", json_integer(40961));
}
static void m_vgpu_max(json_t *r)
{
	json_object_set_new(json_array_get(json_object_get(model0(r), "mig_vgpu_profiles"), 0),
			    "max", json_integer(3));
}
static void m_media_type(json_t *r)
{
	json_object_set_new(mig0(r, 0), "media_ext", json_integer(1));
}
static void m_dup_mig_id(json_t *r)
{
	json_object_set_new(mig0(r, 1), "id", json_integer(19));
}
static void m_max_over(json_t *r)
{
	json_object_set_new(mig0(r, 1), "max", json_integer(3));
}
static void m_space_name(json_t *r)
{
	json_object_set_new(mig0(r, 0), "name", json_string("1g 5gb"));
}
static void m_no_models(json_t *r)
{
	json_object_set_new(r, "models", json_array());
}
static void m_alias_clash(json_t *r)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string("x100"));
	json_object_set_new(json_array_get(json_object_get(r, "models"), 1), "aliases", a);
}

static void test_strict_validation(void **state)
{
	static const struct {
		mutate_fn fn;
		const char *want[3]; /* substrings of the message */
	} cases[] = {
		{ m_top_key, { "unknown key \"extra\"" } },
		{ m_model_key, { "model x100", "unknown key \"memory\"" } },
		{ m_mig_key, { "model x100", "3g.20gb", "unknown key \"slots\"" } },
		{ m_mem_type, { "model x100", "\"memory_mib\" must be an integer" } },
		{ m_dup_profile, { "model x100", "duplicate profile name \"3G.20GB\"" } },
		{ m_dup_model, { "model X", "already used by model x100" } },
		{ m_dup_pci, { "model y1", "0x1111", "x100" } },
		{ m_start_beyond, { "1g.5gb", "slot 8 is beyond" } },
		{ m_start_plus_size, { "3g.20gb", "slot 5 + 4 memory slices exceeds 8" } },
		{ m_dup_start, { "3g.20gb", "slot 0 twice" } },
		{ m_missing_mig, { "x100-3-20c", "\"9g.99gb\"" } },
		{ m_slices_over, { "3g.20gb", "\"mem_slices\" is 9" } },
		{ m_compute_over, { "3g.20gb", "\"compute_slices\" is 8" } },
		{ m_mixed_over, { "x100-8c", "\"max_mixed\" is 6" } },
		{ m_no_geometry, { "model x100", "no \"mig\" geometry" } },
		{ m_bad_pci, { "model x100", "\"pci_ids\"[0]" } },
		{ m_empty_names, { "model x100", "\"names\" must not be empty" } },
		{ m_format, { "\"format\"" } },
		{ m_version, { "\"version\" is 2" } },
		{ m_fb_over, { "x100-8c", "\"fb_mib\" is 40961" } },
		{ m_vgpu_max, { "x100-3-20c", "\"max\" is 3" } },
		{ m_media_type, { "1g.5gb", "\"media_ext\" must be true or false" } },
		{ m_dup_mig_id, { "3g.20gb", "\"id\" 19" } },
		{ m_max_over, { "3g.20gb", "\"max\"" } },
		{ m_space_name, { "x100", "\"name\" has a space" } },
		{ m_no_models, { "\"models\" is empty" } },
		{ m_alias_clash, { "model y1", "alias \"x100\"" } },
	};
	struct gv_catalog *cat = NULL;
	struct gv_err err = { 0 };
	size_t i, j;

	(void)state;
	/* the base is valid, so each failure below comes from its mutation */
	assert_int_equal(gv_catalog_parse(base_catalog, strlen(base_catalog), &cat, &err), 0);
	assert_int_equal(gv_catalog_n_models(cat), 2);
	assert_int_equal(gv_catalog_find_model(cat, "x")->n_profiles, 5);
	gv_catalog_free(cat);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *root = json_loads(base_catalog, 0, NULL);
		char *text;
		int rc;

		assert_non_null(root);
		cases[i].fn(root);
		text = json_dumps(root, 0);
		json_decref(root);
		assert_non_null(text);
		cat = (struct gv_catalog *)&err;
		gv_err_clear(&err);
		rc = gv_catalog_parse(text, strlen(text), &cat, &err);
		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d (%s) for %s", i, rc, err.msg, text);
		assert_null(cat);
		for (j = 0; j < 3 && cases[i].want[j]; j++)
			if (!strstr(err.msg, cases[i].want[j]))
				fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg,
					 cases[i].want[j]);
		free(text);
	}
}

static void test_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"{\"format\":\"gpuvisor-catalog\",\"format\":\"gpuvisor-catalog\",\"version\":1,\"models\":[]}",
		"{\"format\":\"gpuvisor-catalog\",",
		"[]",
		"null",
		"{\"format\":\"gpuvisor-catalog\",\"version\":1,\"models\":[1]}",
		"{\"format\":\"gpuvisor-catalog\",\"version\":1,\"models\":{}}",
		"{\"format\":\"gpuvisor-catalog\",\"version\":\"1\",\"models\":[]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gv_catalog *cat = NULL;
		struct gv_err err = { 0 };

		assert_int_equal(gv_catalog_parse(bad[i], strlen(bad[i]), &cat, &err), -EINVAL);
		assert_null(cat);
		assert_true(err.msg[0] != '\0');
		assert_non_null(strstr(err.msg, "catalog"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_model_loads),
		cmocka_unit_test(test_published_values),
		cmocka_unit_test(test_find_model_and_profile),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_mode_and_kind_names),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_strict_validation),
		cmocka_unit_test(test_syntax_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

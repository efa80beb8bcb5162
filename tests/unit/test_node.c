#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/node.h"

static struct gv_catalog *cat;
static char tmpdir[256];

static int setup(void **state)
{
	const char *src = getenv("GV_TEST_SOURCE_DIR");
	char path[1024];
	struct gv_err err = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/data/catalog.json", src ? src : GV_SOURCE_DIR);
	if (gv_catalog_load(path, &cat, &err) != 0) {
		fprintf(stderr, "catalog: %s\n", err.msg);
		return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gv-test-node-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	gv_catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int parse(const char *json, struct gv_node_desc *n, struct gv_err *err)
{
	return gv_node_parse(cat, json, strlen(json), n, err);
}

static void assert_uuid_shape(const char *u, const char *prefix)
{
	size_t pl = strlen(prefix);

	assert_int_equal(strncmp(u, prefix, pl), 0);
	assert_int_equal(strlen(u), pl + 36);
	for (size_t i = 0; i < 36; i++) {
		char c = u[pl + i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(c, '-');
		else
			assert_true(isxdigit((unsigned char)c) && !isupper((unsigned char)c));
	}
	assert_int_equal(u[pl + 14], '4');
	assert_int_equal(u[pl + 19], '8');
}

static void test_uuid_make(void **state)
{
	char a[GV_UUID_MAX], b[GV_UUID_MAX], c[GV_UUID_MAX];

	(void)state;
	gv_uuid_make(a, "GPU-", "seed-1");
	gv_uuid_make(b, "GPU-", "seed-1");
	gv_uuid_make(c, "GPU-", "seed-2");
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_uuid_shape(a, "GPU-");
	assert_uuid_shape(c, "GPU-");
	gv_uuid_make(b, "MIG-", "seed-1");
	assert_uuid_shape(b, "MIG-");
	/* same hash, other prefix */
	assert_string_equal(a + 4, b + 4);
}

static void test_parse_minimal_derives(void **state)
{
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	char uuid[GV_UUID_MAX];
	const struct gv_model *m = gv_catalog_find_model(cat, "h100-80gb");

	(void)state;
	assert_non_null(m);
	assert_int_equal(
		parse("{\"gpus\":[{\"model\":\"h100-80gb\"},{\"model\":\"l4\"}]}", &n, &err), 0);
	assert_int_equal(n.n_gpus, 2);
	assert_ptr_equal(n.gpus[0].model, m);
	assert_int_equal(n.gpus[0].index, 0);
	assert_int_equal(n.gpus[1].index, 1);
	assert_int_equal(n.gpus[0].mem_mib, m->mem_mib);
	assert_string_equal(n.gpus[0].name, m->name);
	assert_int_equal(n.gpus[0].pci_device_id, m->pci_ids[0]);
	assert_string_equal(n.gpus[0].pci_bus_id, "00000000:10:00.0");
	assert_string_equal(n.gpus[1].pci_bus_id, "00000000:11:00.0");
	assert_true(n.gpus[0].mig_capable);
	assert_false(n.gpus[1].mig_capable);
	assert_false(n.gpus[0].mig_mode);
	assert_int_equal(n.gpus[0].n_mig, 0);
	assert_string_equal(n.seed, GV_NODE_DEFAULT_SEED);
	gv_uuid_make(uuid, "GPU-", GV_NODE_DEFAULT_SEED ":gpu:0");
	assert_string_equal(n.gpus[0].uuid, uuid);
	assert_string_not_equal(n.gpus[0].uuid, n.gpus[1].uuid);
	assert_uuid_shape(n.gpus[1].uuid, "GPU-");
}

static const char *full_desc =
	"{ \"version\": 1, \"seed\": \"lab-7\",\n"
	"  \"gpus\": [ { \"model\": \"a100-40gb\", \"mem_mib\": 40536 },\n"
	"    { \"model\": \"H100\", \"uuid\": \"GPU-C08D91CB-e324-455c-81ba-7570956445bc\",\n"
	"      \"mig_mode\": true,\n"
	"      \"mig_instances\": [\n"
	"        { \"profile\": \"3g.40gb\", \"start\": 4 },\n"
	"        { \"profile\": \"1g.10gb\", \"start\": 0, \"uuid\": \"MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\" },\n"
	"        { \"profile\": \"2g.20gb\", \"start\": 2 } ] } ] }";

static void test_parse_full(void **state)
{
	struct gv_node_desc n, again;
	struct gv_err err = { 0 };
	const struct gv_gpu_info *g;

	(void)state;
	assert_int_equal(parse(full_desc, &n, &err), 0);
	assert_int_equal(n.n_gpus, 2);
	assert_string_equal(n.seed, "lab-7");
	assert_int_equal(n.gpus[0].mem_mib, 40536);
	g = &n.gpus[1];
	assert_string_equal(g->model->id, "h100-80gb");
	/* normalised to lowercase */
	assert_string_equal(g->uuid, "GPU-c08d91cb-e324-455c-81ba-7570956445bc");
	assert_true(g->mig_mode);
	assert_int_equal(g->n_mig, 3);
	assert_string_equal(g->mig[0].profile->name, "3g.40gb");
	assert_int_equal(g->mig[0].start, 4);
	assert_string_equal(g->mig[1].uuid, "MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb");
	assert_int_equal(g->mig[2].start, 2);
	assert_uuid_shape(g->mig[0].uuid, "MIG-");
	assert_uuid_shape(g->mig[2].uuid, "MIG-");
	assert_string_not_equal(g->mig[0].uuid, g->mig[2].uuid);
	/* two derived MIG UUIDs: the creation counter moved twice */
	assert_int_equal(n.mig_serial, 2);
	/* deterministic */
	assert_int_equal(parse(full_desc, &again, &err), 0);
	assert_string_equal(again.gpus[0].uuid, n.gpus[0].uuid);
	assert_string_equal(again.gpus[1].mig[0].uuid, g->mig[0].uuid);
	assert_string_equal(again.gpus[1].mig[2].uuid, g->mig[2].uuid);
}

struct bad_case {
	const char *json;
	const char *msg; /* expected substring */
};

static void test_parse_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "{\"gpus\": [", "line 1" },
		{ "", "line" },
		{ "[]", "must be a JSON object" },
		{ "{\"gpus\":[{\"model\":\"l4\"}],\"gpu\":1}", "gpu: unknown field" },
		{ "{\"gpus\":[{\"model\":\"l4\"}],\"gpus\":[]}", "duplicate" },
		{ "{\"gpus\":[{\"mdoel\":\"l4\"}]}", "gpus[0].mdoel: unknown field" },
		{ "{}", "gpus: missing" },
		{ "{\"gpus\":{}}", "gpus: must be an array" },
		{ "{\"gpus\":[]}", "gpus: a node has 1..16 GPUs, not 0" },
		{ "{\"version\":2,\"gpus\":[{\"model\":\"l4\"}]}", "version: 2 is out of range" },
		{ "{\"version\":\"1\",\"gpus\":[{\"model\":\"l4\"}]}",
		  "version: must be an integer" },
		{ "{\"seed\":\"\",\"gpus\":[{\"model\":\"l4\"}]}", "seed: must be 1.." },
		{ "{\"seed\":3,\"gpus\":[{\"model\":\"l4\"}]}", "seed: must be a string" },
		{ "{\"mig_serial\":-1,\"gpus\":[{\"model\":\"l4\"}]}",
		  "mig_serial: -1 is out of range" },
		{ "{\"gpus\":[3]}", "gpus[0]: must be an object" },
		{ "{\"gpus\":[{}]}", "gpus[0].model: missing" },
		{ "{\"gpus\":[{\"model\":5}]}", "gpus[0].model: must be a string" },
		{ "{\"gpus\":[{\"model\":\"l4\"},{\"model\":\"h900\"}]}",
		  "gpus[1].model: 'h900' is not in the catalog" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"mem_mib\":\"80\"}]}",
		  "gpus[0].mem_mib: must be an integer" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"mem_mib\":0}]}",
		  "gpus[0].mem_mib: 0 is out of range" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"mem_mib\":1.5}]}",
		  "gpus[0].mem_mib: must be an integer" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"uuid\":\"GPU-1234\"}]}",
		  "gpus[0].uuid: 'GPU-1234' is not a GPU UUID" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"uuid\":\"MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\"}]}",
		  "gpus[0].uuid: 'MIG-c788539f" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"uuid\":\"GPU-c788539f-c1ea-4a36-8b4d-9b07d024b1bbXXXXXXXXXXXXXXXX\"}]}",
		  "gpus[0].uuid: not a GPU UUID" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"uuid\":\"GPU-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\"},"
		  "{\"model\":\"l4\",\"uuid\":\"GPU-C788539F-c1ea-4a36-8b4d-9b07d024b1bb\"}]}",
		  "gpus[1].uuid: GPU-c788539f-c1ea-4a36-8b4d-9b07d024b1bb is used twice" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"mig_mode\":\"yes\"}]}",
		  "gpus[0].mig_mode: must be true or false" },
		{ "{\"gpus\":[{\"model\":\"l4\",\"mig_mode\":true}]}",
		  "gpus[0].mig_mode: l4 has no MIG" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_instances\":[{\"profile\":\"1g.10gb\",\"start\":0}]}]}",
		  "gpus[0].mig_instances: the GPU is not in MIG mode" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":{}}]}",
		  "gpus[0].mig_instances: must be an array" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[7]}]}",
		  "gpus[0].mig_instances[0]: must be an object" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"3g.41gb\",\"start\":0}]}]}",
		  "gpus[0].mig_instances[0].profile: h100-80gb has no MIG profile '3g.41gb'" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"h100-8c\",\"start\":0}]}]}",
		  "gpus[0].mig_instances[0].profile: h100-80gb has no MIG profile 'h100-8c'" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"1g.10gb\"}]}]}",
		  "gpus[0].mig_instances[0].start: missing" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"1g.10gb\",\"start\":8}]}]}",
		  "gpus[0].mig_instances[0].start: 8 is out of range 0..7" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"1g.10gb\",\"start\":0,\"slot\":1}]}]}",
		  "gpus[0].mig_instances[0].slot: unknown field" },
		{ "{\"gpus\":[{\"model\":\"l4\"},{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"3g.40gb\",\"start\":2}]}]}",
		  "gpus[1].mig_instances[0].start: " },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"4g.40gb\",\"start\":0},{\"profile\":\"3g.40gb\",\"start\":0}]}]}",
		  "gpus[0].mig_instances[1]: " },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"1g.10gb+me\",\"start\":0},{\"profile\":\"1g.10gb+me\",\"start\":1}]}]}",
		  "gpus[0].mig_instances[1]: " },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":[{\"profile\":\"1g.10gb\",\"start\":0,\"uuid\":\"MIG-x\"}]}]}",
		  "gpus[0].mig_instances[0].uuid: 'MIG-x' is not a MIG UUID" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"uuid\":\"GPU-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\",\"mig_mode\":true,"
		  "\"mig_instances\":[{\"profile\":\"1g.10gb\",\"start\":0,\"uuid\":\"MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\"},"
		  "{\"profile\":\"1g.10gb\",\"start\":1,\"uuid\":\"MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb\"}]}]}",
		  "gpus[0].mig_instances[1].uuid: MIG-c788539f-c1ea-4a36-8b4d-9b07d024b1bb is used twice" },
		{ "{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":["
		  "{\"profile\":\"1g.10gb\",\"start\":0},{\"profile\":\"1g.10gb\",\"start\":1},"
		  "{\"profile\":\"1g.10gb\",\"start\":2},{\"profile\":\"1g.10gb\",\"start\":3},"
		  "{\"profile\":\"1g.10gb\",\"start\":4},{\"profile\":\"1g.10gb\",\"start\":5},"
		  "{\"profile\":\"1g.10gb\",\"start\":6},{\"profile\":\"1g.10gb\",\"start\":6}]}]}",
		  "gpus[0].mig_instances[7]" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gv_node_desc n;
		struct gv_err err = { 0 };
		int rc;

		memset(&n, 0x5a, sizeof(n));
		rc = parse(cases[i].json, &n, &err);
		if (rc != -EINVAL || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: %s\n  rc %d, message '%s', expected '%s'", i,
				 cases[i].json, rc, err.msg, cases[i].msg);
		assert_int_equal(err.code, EINVAL);
		/* nothing half-parsed is left in the output */
		assert_int_equal(n.n_gpus, 0);
		assert_int_equal(n.gpus[0].uuid[0], '\0');
	}
}

static void test_parse_mig_messages_name_the_profile(void **state)
{
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(
		parse("{\"gpus\":[{\"model\":\"h100-80gb\",\"mig_mode\":true,\"mig_instances\":"
		      "[{\"profile\":\"3g.40gb\",\"start\":2}]}]}",
		      &n, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "3g.40gb"));
	assert_non_null(strstr(err.msg, "2"));
}

static void test_too_many_gpus(void **state)
{
	char json[2048] = "{\"gpus\":[";
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	for (int i = 0; i < 17; i++)
		strcat(json, i ? ",{\"model\":\"l4\"}" : "{\"model\":\"l4\"}");
	strcat(json, "]}");
	assert_int_equal(parse(json, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "gpus: a node has 1..16 GPUs, not 17"));
	/* 16 is fine */
	strcpy(strrchr(json, ','), "]}");
	assert_int_equal(parse(json, &n, &err), 0);
	assert_int_equal(n.n_gpus, 16);
	assert_string_equal(n.gpus[15].pci_bus_id, "00000000:1F:00.0");
}

static void test_spec(void **state)
{
	struct gv_node_desc n, j;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(gv_node_from_spec(cat, "a100-40gb:1,h100-80gb:2", &n, &err), 0);
	assert_int_equal(n.n_gpus, 3);
	assert_string_equal(n.gpus[0].model->id, "a100-40gb");
	assert_string_equal(n.gpus[1].model->id, "h100-80gb");
	assert_string_equal(n.gpus[2].model->id, "h100-80gb");
	assert_int_equal(n.gpus[2].index, 2);
	assert_string_equal(n.gpus[2].pci_bus_id, "00000000:12:00.0");
	assert_false(n.gpus[1].mig_mode);
	/* the same GPUs as JSON get the same UUIDs */
	assert_int_equal(parse("{\"gpus\":[{\"model\":\"a100-40gb\"},{\"model\":\"h100-80gb\"},"
			       "{\"model\":\"h100-80gb\"}]}",
			       &j, &err),
			 0);
	for (int i = 0; i < 3; i++)
		assert_string_equal(n.gpus[i].uuid, j.gpus[i].uuid);
	assert_string_not_equal(n.gpus[1].uuid, n.gpus[2].uuid);

	assert_int_equal(gv_node_from_spec(cat, " H100 , a30-24gb:2 ", &n, &err), 0);
	assert_int_equal(n.n_gpus, 3);
	assert_string_equal(n.gpus[0].model->id, "h100-80gb");
	assert_string_equal(n.gpus[2].model->id, "a30-24gb");
	assert_int_equal(gv_node_from_spec(cat, "l4:16", &n, &err), 0);
	assert_int_equal(n.n_gpus, 16);
}

static void test_spec_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "", "has no model" },
		{ ",", "item 1 has no model" },
		{ "l4,", "item 2 has no model" },
		{ ":2", "has no model" },
		{ "l4:", "count must be 1..16" },
		{ "l4:0", "count must be 1..16" },
		{ "l4:17", "count must be 1..16" },
		{ "l4:x", "count must be 1..16" },
		{ "l4:2x", "count must be 1..16" },
		{ "l4:-1", "count must be 1..16" },
		{ "l4:99999999999999999999", "count must be 1..16" },
		{ "nope:1", "model 'nope' is not in the catalog" },
		{ "l4:9,a100-40gb:8", "more than 16 GPUs" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1",
		  "model name too long" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gv_node_desc n;
		struct gv_err err = { 0 };
		int rc;

		memset(&n, 0x5a, sizeof(n));
		rc = gv_node_from_spec(cat, cases[i].json, &n, &err);
		if (rc != -EINVAL || !strstr(err.msg, cases[i].msg))
			fail_msg("spec case %zu '%s': rc %d, message '%s', expected '%s'", i,
				 cases[i].json, rc, err.msg, cases[i].msg);
		assert_int_equal(n.n_gpus, 0);
	}
}

static int count_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			count++;
	closedir(d);
	return count;
}

static void test_save_load_round_trip(void **state)
{
	struct gv_node_desc n, back;
	struct gv_err err = { 0 };
	char dir[512], path[600];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/rt", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/node.json", dir);
	assert_int_equal(parse(full_desc, &n, &err), 0);
	assert_int_equal(gv_node_save(&n, path, &err), 0);
	/* saving again replaces the file; no temporary file is left */
	assert_int_equal(gv_node_save(&n, path, &err), 0);
	assert_int_equal(count_dir_entries(dir), 1);
	assert_int_equal(stat(path, &st), 0);
	/* the simulated hardware is for root and the daemon's group only */
	assert_int_equal(st.st_mode & 0777, 0640);

	assert_int_equal(gv_node_load(cat, path, &back, &err), 0);
	assert_int_equal(back.n_gpus, n.n_gpus);
	assert_string_equal(back.seed, n.seed);
	assert_int_equal(back.mig_serial, n.mig_serial);
	for (int i = 0; i < n.n_gpus; i++) {
		const struct gv_gpu_info *a = &n.gpus[i], *b = &back.gpus[i];

		assert_string_equal(a->uuid, b->uuid);
		assert_ptr_equal(a->model, b->model);
		assert_int_equal(a->mem_mib, b->mem_mib);
		assert_string_equal(a->pci_bus_id, b->pci_bus_id);
		assert_int_equal(a->mig_mode, b->mig_mode);
		assert_int_equal(a->n_mig, b->n_mig);
		for (int k = 0; k < a->n_mig; k++) {
			assert_string_equal(a->mig[k].uuid, b->mig[k].uuid);
			assert_ptr_equal(a->mig[k].profile, b->mig[k].profile);
			assert_int_equal(a->mig[k].start, b->mig[k].start);
		}
	}
}

static void test_save_errors(void **state)
{
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	char path[600];

	(void)state;
	assert_int_equal(gv_node_from_spec(cat, "l4:1", &n, &err), 0);
	snprintf(path, sizeof(path), "%s/no-such-dir/node.json", tmpdir);
	assert_int_equal(gv_node_save(&n, path, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no-such-dir"));
	/* a GPU the catalog does not know cannot be written as a description */
	n.gpus[0].model = NULL;
	snprintf(path, sizeof(path), "%s/unknown.json", tmpdir);
	assert_int_equal(gv_node_save(&n, path, &err), -EINVAL);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_load_errors(void **state)
{
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	char path[600];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_int_equal(gv_node_load(cat, path, &n, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "missing.json"));

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"gpus\":[{\"model\":\"l4\",\"colour\":1}]}", f);
	fclose(f);
	assert_int_equal(gv_node_load(cat, path, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad.json: gpus[0].colour: unknown field"));

	snprintf(path, sizeof(path), "%s/huge.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 1100 * 1024 / 8; i++)
		fputs("        ", f);
	fclose(f);
	assert_int_equal(gv_node_load(cat, path, &n, &err), -EFBIG);
}

/* The fuzz seeds say what they are: good-* parse, bad-* are refused. */
static void test_fuzz_seeds(void **state)
{
	const char *src = getenv("GV_TEST_SOURCE_DIR");
	char dir[1024], path[2048], buf[65536];
	struct dirent *e;
	int good = 0, bad = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/node", src ? src : GV_SOURCE_DIR);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct gv_node_desc n;
		struct gv_err err = { 0 };
		bool is_good = strncmp(e->d_name, "good-", 5) == 0;
		FILE *f;
		size_t len;
		int rc;

		if (!is_good && strncmp(e->d_name, "bad-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		rc = gv_node_parse(cat, buf, len, &n, &err);
		if (is_good ? rc != 0 : rc != -EINVAL)
			fail_msg("%s: rc %d (%s)", e->d_name, rc, err.msg);
		if (getenv("GV_TEST_VERBOSE") && !is_good)
			printf("%s: %s\n", e->d_name, err.msg);
		is_good ? good++ : bad++;
	}
	closedir(d);
	assert_true(good >= 3);
	assert_true(bad >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_make),
		cmocka_unit_test(test_parse_minimal_derives),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_mig_messages_name_the_profile),
		cmocka_unit_test(test_too_many_gpus),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_save_load_round_trip),
		cmocka_unit_test(test_save_errors),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_fuzz_seeds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

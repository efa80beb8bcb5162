/* Fuzz target for node descriptions (gv_node_parse) against the real
 * catalog. Besides not crashing, checks the parser's contract: success gives
 * a consistent node, failure gives a message and an emptied output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gv_catalog *catalog(void)
{
	static struct gv_catalog *cat;
	char path[4096];
	const char *env, *src;
	struct gv_err err = { 0 };

	if (cat)
		return cat;
	env = getenv("GPUVISOR_CATALOG");
	src = getenv("GV_TEST_SOURCE_DIR");
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/data/catalog.json", src ? src : GV_SOURCE_DIR);
	if (gv_catalog_load(path, &cat, &err) != 0) {
		fprintf(stderr, "fuzz_node: cannot load the catalog %s: %s\n", path, err.msg);
		abort();
	}
	return cat;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gv_node_desc n;
	struct gv_err err = { 0 };
	int rc;

	rc = gv_node_parse(catalog(), (const char *)data, size, &n, &err);
	if (rc < 0) {
		if (err.code != -rc || err.msg[0] == '\0' || n.n_gpus != 0)
			abort();
		return 0;
	}
	if (rc != 0 || n.n_gpus < 1 || n.n_gpus > GV_NODE_MAX_GPUS || n.seed[0] == '\0')
		abort();
	for (int i = 0; i < n.n_gpus; i++) {
		const struct gv_gpu_info *g = &n.gpus[i];

		if (!g->model || g->index != i || strncmp(g->uuid, "GPU-", 4) != 0 ||
		    strlen(g->uuid) != 40 || g->n_mig < 0 || g->n_mig > GV_NODE_MAX_MIG ||
		    (g->n_mig > 0 && !g->mig_mode) || (g->mig_mode && !g->mig_capable))
			abort();
		for (int k = 0; k < g->n_mig; k++)
			if (!g->mig[k].profile || g->mig[k].profile->kind != GV_PROFILE_MIG ||
			    strncmp(g->mig[k].uuid, "MIG-", 4) != 0 ||
			    !(g->mig[k].profile->start_mask & (1u << g->mig[k].start)))
				abort();
	}
	return 0;
}

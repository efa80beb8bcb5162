/* Fuzz target for the catalog parser. Beyond "no crash", it checks what a
 * successful parse promises (every MIG start fits the geometry, MIG-backed
 * profiles point into their model) and drives look-ups and placement over
 * the parsed models, since they trust those promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/place.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_model(const struct gv_model *m)
{
	struct gv_place_gpu g = { 0 };
	struct gv_place_node node = { &g, 1, false };
	size_t i;

	if (m->n_profiles == 0 || m->profiles[0].kind != GV_PROFILE_PASSTHROUGH)
		abort();
	for (i = 0; i < m->n_profiles; i++) {
		const struct gv_profile *p = &m->profiles[i];
		struct gv_place_req req = { .profile = p->name, .gpu = -1, .start = -1 };
		struct gv_place_result res;
		int s;

		if (gv_model_find_profile(m, p->name) == NULL)
			abort();
		if (p->kind == GV_PROFILE_MIG_VGPU &&
		    (!p->mig || p->mig < m->profiles || p->mig >= m->profiles + m->n_profiles))
			abort();
		if (p->kind == GV_PROFILE_MIG || p->kind == GV_PROFILE_MIG_VGPU) {
			for (s = 0; s < 32; s++)
				if ((p->start_mask & (1u << s)) &&
				    (s >= m->mig_mem_slices ||
				     s + p->mem_slices > m->mig_mem_slices))
					abort();
		}
		g.model = m;
		g.mem_mib = m->mem_mib;
		g.mode = p->kind == GV_PROFILE_TIMESLICE     ? GV_MODE_TIMESLICE
			 : p->kind == GV_PROFILE_PASSTHROUGH ? GV_MODE_PASSTHROUGH
							     : GV_MODE_MIG;
		if (gv_place(&node, &req, &res, NULL) == 0 &&
		    (res.gpu != 0 || gv_place_free_count(&g, p, false) < 1))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_catalog *cat = NULL;
	struct gv_err err = { 0 };
	size_t i;

	if (gv_catalog_parse((const char *)data, size, &cat, &err) != 0) {
		if (cat || err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < gv_catalog_n_models(cat); i++) {
		const struct gv_model *m = gv_catalog_model_at(cat, i);

		if (gv_catalog_find_model(cat, m->id) != m)
			abort();
		if (m->pci_ids[0] && gv_catalog_match(cat, m->pci_ids[0], NULL, 0) != m)
			abort();
		(void)gv_catalog_match(cat, 0, m->name, m->mem_mib);
		check_model(m);
	}
	gv_catalog_free(cat);
	return 0;
}

/* nvml_probe: what the NVML inventory backend sees on this machine.
 *
 * Read-only by default: it prints every GPU (UUID, name, PCI, memory, the
 * catalog model it matched, MIG mode and MIG instances) and, for GPUs in MIG
 * mode, NVML's MIG profiles and placements next to the catalog's, then
 * checks what gpuvisor relies on. It changes MIG mode or creates instances
 * only when given one of the explicit flags below.
 *
 *   nvml_probe [--catalog PATH]
 *   nvml_probe [--catalog PATH] --set-mig-mode GPU on|off      (changes the GPU)
 *   nvml_probe [--catalog PATH] --mig-cycle GPU PROFILE START  (creates, lists and
 *                                                               destroys one instance)
 *
 * Exit status: 0 all checks passed, 1 a check or call failed, 2 no NVIDIA GPU
 * (or no libnvidia-ml.so.1), 64 usage.
 *
 * Build (tests/gpu/CMakeLists.txt does this when tests/CMakeLists.txt adds
 * the directory): link gvcore; nothing links libnvidia-ml. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"
#include "nvml_internal.h"

static int failures;

static void check(bool ok, const char *what, int gpu)
{
	printf("CHECK %s gpu %d: %s\n", ok ? "ok  " : "FAIL", gpu, what);
	if (!ok)
		failures++;
}

static void print_node(const struct gv_node_desc *n)
{
	for (int i = 0; i < n->n_gpus; i++) {
		const struct gv_gpu_info *g = &n->gpus[i];

		printf("GPU %d: %s (UUID: %s)\n", g->index, g->name, g->uuid);
		printf("  pci %s device id 0x%04x, %llu MiB, model %s\n", g->pci_bus_id,
		       g->pci_device_id, (unsigned long long)g->mem_mib,
		       g->model ? g->model->id : "(not in the catalog)");
		printf("  MIG: %s, mode %s, %d instance(s)\n",
		       g->mig_capable ? "capable" : "not supported", g->mig_mode ? "on" : "off",
		       g->n_mig);
		for (int k = 0; k < g->n_mig; k++)
			printf("  MIG %-12s start %d (UUID: %s)\n", g->mig[k].profile->name,
			       g->mig[k].start,
			       g->mig[k].uuid[0] ? g->mig[k].uuid : "none: no compute instance");
	}
}

static void check_node(const struct gv_node_desc *n)
{
	for (int i = 0; i < n->n_gpus; i++) {
		const struct gv_gpu_info *g = &n->gpus[i];

		check(strncmp(g->uuid, "GPU-", 4) == 0 && strlen(g->uuid) == 40,
		      "UUID is GPU- and 36 characters", i);
		check(g->pci_bus_id[0] != '\0' && g->pci_device_id != 0,
		      "PCI bus and device id read", i);
		check(g->model != NULL, "matched a catalog model", i);
		if (g->model) {
			bool id_known = false;

			for (int k = 0; k < GV_MODEL_MAX_PCI_IDS && g->model->pci_ids[k]; k++)
				id_known = id_known || g->model->pci_ids[k] == g->pci_device_id;
			check(id_known, "PCI device id is in the catalog model's list", i);
			check(g->mem_mib * 100 >= g->model->mem_mib * 95 &&
				      g->mem_mib * 100 <= g->model->mem_mib * 105,
			      "memory within 5% of the catalog's", i);
			check(g->mig_capable == (g->model->mig_mem_slices > 0),
			      "MIG capability agrees with the catalog", i);
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: nvml_probe [--catalog PATH] [--set-mig-mode GPU on|off | "
			"--mig-cycle GPU PROFILE START]\n");
	return 64;
}

int main(int argc, char **argv)
{
	const char *cat_path = NULL, *mode_arg = NULL, *profile_name = NULL;
	int mode_gpu = -1, cycle_gpu = -1, cycle_start = -1, rc, status = 1;
	struct gv_catalog *cat = NULL;
	struct gv_backend *be = NULL;
	struct gv_node_desc *n = calloc(1, sizeof(*n));
	struct gv_err err = { 0 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--catalog") == 0 && i + 1 < argc) {
			cat_path = argv[++i];
		} else if (strcmp(argv[i], "--set-mig-mode") == 0 && i + 2 < argc) {
			mode_gpu = atoi(argv[++i]);
			mode_arg = argv[++i];
			if (strcmp(mode_arg, "on") != 0 && strcmp(mode_arg, "off") != 0)
				return usage();
		} else if (strcmp(argv[i], "--mig-cycle") == 0 && i + 3 < argc) {
			cycle_gpu = atoi(argv[++i]);
			profile_name = argv[++i];
			cycle_start = atoi(argv[++i]);
		} else {
			return usage();
		}
	}
	if (!n)
		return 1;
	if (!cat_path)
		cat_path = gv_catalog_default_path();
	if (gv_catalog_load(cat_path, &cat, &err) != 0) {
		fprintf(stderr, "nvml_probe: catalog %s: %s\n", cat_path, err.msg);
		goto out;
	}
	rc = gv_backend_nvml_new(cat, &be, &err);
	if (rc != 0) {
		fprintf(stderr, "nvml_probe: %s\n", err.msg);
		status = rc == -ENODEV ? 2 : 1;
		goto out;
	}
	check(strcmp(be->ops->name, "nvml") == 0, "backend is nvml", -1);
	if (be->ops->query(be, n, &err) != 0) {
		fprintf(stderr, "nvml_probe: query: %s\n", err.msg);
		goto out;
	}
	print_node(n);
	for (int i = 0; i < n->n_gpus; i++) {
		printf("GPU %d MIG profiles (NVML vs catalog):\n", i);
		if (gv_nvml_print_profiles(be, i, stdout, &err) != 0) {
			printf("  %s\n", err.msg);
			failures++;
		}
	}
	check_node(n);

	if (mode_arg) {
		rc = be->ops->set_mig_mode(be, mode_gpu, strcmp(mode_arg, "on") == 0, &err);
		printf("set_mig_mode(%d, %s): %d %s\n", mode_gpu, mode_arg, rc, rc ? err.msg : "");
		failures += rc != 0;
	}
	if (profile_name) {
		const struct gv_profile *p = NULL;
		char uuid[GV_UUID_MAX] = "";

		if (cycle_gpu >= 0 && cycle_gpu < n->n_gpus && n->gpus[cycle_gpu].model)
			p = gv_model_find_profile(n->gpus[cycle_gpu].model, profile_name);
		if (!p) {
			fprintf(stderr, "nvml_probe: GPU %d has no profile %s\n", cycle_gpu,
				profile_name);
			goto out;
		}
		rc = be->ops->mig_create(be, cycle_gpu, p, cycle_start, uuid, &err);
		printf("mig_create(%d, %s, %d): %d %s %s\n", cycle_gpu, p->name, cycle_start, rc,
		       uuid, rc ? err.msg : "");
		if (rc == 0) {
			bool listed = false;

			if (be->ops->query(be, n, &err) == 0) {
				print_node(n);
				for (int k = 0; k < n->gpus[cycle_gpu].n_mig; k++)
					listed = listed ||
						 (strcmp(n->gpus[cycle_gpu].mig[k].uuid, uuid) ==
							  0 &&
						  n->gpus[cycle_gpu].mig[k].start == cycle_start &&
						  n->gpus[cycle_gpu].mig[k].profile == p);
			}
			check(listed, "the new MIG instance is listed with its profile and start",
			      cycle_gpu);
			rc = be->ops->mig_destroy(be, cycle_gpu, uuid, &err);
			printf("mig_destroy(%d, %s): %d %s\n", cycle_gpu, uuid, rc,
			       rc ? err.msg : "");
			failures += rc != 0;
		} else {
			failures++;
		}
	}
	printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
	status = failures ? 1 : 0;
out:
	gv_backend_free(be);
	gv_catalog_free(cat);
	free(n);
	return status;
}

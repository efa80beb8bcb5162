/* The NVML backend driven by an in-process fake of NVML's MIG behaviour
 * (placements, overlap refusals, GPU/compute instances, MIG devices), so
 * that its logic is tested without a GPU. The real library is exercised by
 * tests/gpu/nvml_probe on a GPU machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvisor/catalog.h"
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"
#include "../../src/core/nvml_internal.h"

#define GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

enum { H_GPU = 1, H_GI, H_CI, H_MIG };

struct fake_gpu;

struct fake_gi {
	int kind; /* H_GI */
	struct fake_gpu *gpu;
	bool used;
	unsigned int id, profile_id, start, size, slices;
	bool ci_used;
	struct {
		int kind; /* H_CI */
		struct fake_gi *gi;
	} ci;
	struct {
		int kind; /* H_MIG */
		struct fake_gi *gi;
	} mig;
};

struct fake_gpu {
	int kind; /* H_GPU */
	int index;
	const char *name, *uuid, *bus_id;
	unsigned int pci_id;
	unsigned long long mem;
	bool mig_capable;
	unsigned int mode;
	struct fake_gi gis[8];
	unsigned int next_gi_id;
};

/* H100-like GPU instance profiles by NVML index; index 9 carries an id the
 * catalog does not have, so the backend must map it by slices and memory. */
static const struct fake_prof {
	bool ok;
	unsigned int id, slices, mem_mb, size, starts;
} fprofs[GV_NVML_GI_PROFILE_PROBE_MAX] = {
	[0] = { true, 19, 1, 9856, 1, 0x7f },  [1] = { true, 14, 2, 19968, 2, 0x15 },
	[2] = { true, 9, 3, 40192, 4, 0x11 },  [3] = { true, 5, 4, 40192, 4, 0x01 },
	[4] = { true, 0, 7, 80384, 8, 0x01 },  [7] = { true, 20, 1, 9856, 1, 0x7f },
	[9] = { true, 99, 1, 19968, 2, 0x55 },
};

static struct fake_gpu gpus[2];
static unsigned int fake_count;
static int inits, shutdowns;
static bool fail_ci_create, pending_reset, fail_init;

static void fake_reset(void)
{
	memset(gpus, 0, sizeof(gpus));
	gpus[0] = (struct fake_gpu){ .kind = H_GPU,
				     .index = 0,
				     .name = "NVIDIA H100 80GB HBM3",
				     .uuid = "GPU-c08d91cb-e324-455c-81ba-7570956445bc",
				     .bus_id = "00000000:1B:00.0",
				     .pci_id = 0x233010de,
				     .mem = 81559ULL << 20,
				     .mig_capable = true };
	gpus[1] = (struct fake_gpu){ .kind = H_GPU,
				     .index = 1,
				     .name = "NVIDIA L4",
				     .uuid = "GPU-11111111-2222-4333-8444-555555555555",
				     .bus_id = "00000000:3C:00.0",
				     .pci_id = 0x27b810de,
				     .mem = 23034ULL << 20 };
	fake_count = 2;
	inits = shutdowns = 0;
	fail_ci_create = pending_reset = fail_init = false;
}

static const struct fake_prof *prof_by_id(unsigned int id)
{
	for (unsigned int i = 0; i < GV_NVML_GI_PROFILE_PROBE_MAX; i++)
		if (fprofs[i].ok && fprofs[i].id == id)
			return &fprofs[i];
	return NULL;
}

static gv_nvml_ret f_init(void)
{
	inits++;
	return fail_init ? GV_NVML_ERROR_DRIVER_NOT_LOADED : GV_NVML_SUCCESS;
}

static gv_nvml_ret f_shutdown(void)
{
	shutdowns++;
	return GV_NVML_SUCCESS;
}

static const char *f_error_string(gv_nvml_ret r)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "fake error %d", r);
	return buf;
}

static gv_nvml_ret f_count(unsigned int *c)
{
	*c = fake_count;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_handle(unsigned int i, gv_nvml_device *d)
{
	if (i >= fake_count)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*d = (gv_nvml_device)&gpus[i];
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_uuid(gv_nvml_device d, char *buf, unsigned int len)
{
	int kind = *(int *)d;

	if (kind == H_GPU)
		snprintf(buf, len, "%s", ((struct fake_gpu *)d)->uuid);
	else if (kind == H_MIG)
		snprintf(buf, len, "MIG-%08x-0000-4000-8000-%012x",
			 (unsigned)((struct fake_gi *)((char *)d - offsetof(struct fake_gi, mig)))
				 ->id,
			 (unsigned)((struct fake_gi *)((char *)d - offsetof(struct fake_gi, mig)))
				 ->gpu->index);
	else
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	return GV_NVML_SUCCESS;
}

static struct fake_gpu *gpu_of(gv_nvml_device d)
{
	assert_int_equal(*(int *)d, H_GPU);
	return (struct fake_gpu *)d;
}

static struct fake_gi *gi_of_mig(gv_nvml_device d)
{
	assert_int_equal(*(int *)d, H_MIG);
	return (struct fake_gi *)((char *)d - offsetof(struct fake_gi, mig));
}

static struct fake_gi *gi_of(gv_nvml_gpu_instance g)
{
	assert_int_equal(*(int *)g, H_GI);
	return (struct fake_gi *)g;
}

static gv_nvml_ret f_name(gv_nvml_device d, char *buf, unsigned int len)
{
	snprintf(buf, len, "%s", gpu_of(d)->name);
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_mem(gv_nvml_device d, struct gv_nvml_memory *m)
{
	m->total = gpu_of(d)->mem;
	m->free = m->total / 2;
	m->used = m->total - m->free;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_pci(gv_nvml_device d, struct gv_nvml_pci_info *p)
{
	struct fake_gpu *g = gpu_of(d);

	memset(p, 0, sizeof(*p));
	snprintf(p->bus_id, sizeof(p->bus_id), "%s", g->bus_id);
	p->pci_device_id = g->pci_id;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_get_mig(gv_nvml_device d, unsigned int *cur, unsigned int *pending)
{
	struct fake_gpu *g = gpu_of(d);

	if (!g->mig_capable)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	*cur = *pending = g->mode;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_set_mig(gv_nvml_device d, unsigned int mode, gv_nvml_ret *act)
{
	struct fake_gpu *g = gpu_of(d);

	if (!g->mig_capable)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	for (int i = 0; i < 8; i++)
		if (g->gis[i].used)
			return GV_NVML_ERROR_IN_USE;
	if (pending_reset) {
		*act = GV_NVML_ERROR_RESET_REQUIRED;
		return GV_NVML_SUCCESS;
	}
	g->mode = mode;
	*act = GV_NVML_SUCCESS;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_gi_prof(gv_nvml_device d, unsigned int idx,
			     struct gv_nvml_gi_profile_info_v2 *info)
{
	struct fake_gpu *g = gpu_of(d);

	if (info->version != GV_NVML_STRUCT_VERSION(struct gv_nvml_gi_profile_info_v2, 2))
		return GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	if (!g->mig_capable)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	if (idx >= GV_NVML_GI_PROFILE_PROBE_MAX || !fprofs[idx].ok)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	info->id = fprofs[idx].id;
	info->slice_count = fprofs[idx].slices;
	info->memory_size_mb = fprofs[idx].mem_mb;
	info->instance_count = 7;
	snprintf(info->name, sizeof(info->name), "MIG fake %u", idx);
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_placements(gv_nvml_device d, unsigned int id, struct gv_nvml_gi_placement *pl,
				unsigned int *count)
{
	const struct fake_prof *p = prof_by_id(id);
	unsigned int n = 0;

	(void)gpu_of(d);
	if (!p)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	for (unsigned int s = 0; s < 8; s++) {
		if (!(p->starts & (1u << s)))
			continue;
		if (pl) {
			pl[n].start = s;
			pl[n].size = p->size;
		}
		n++;
	}
	*count = n;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_create_gi(gv_nvml_device d, unsigned int id,
			       const struct gv_nvml_gi_placement *pl, gv_nvml_gpu_instance *out)
{
	struct fake_gpu *g = gpu_of(d);
	const struct fake_prof *p = prof_by_id(id);
	struct fake_gi *free_gi = NULL;

	if (g->mode != GV_NVML_MIG_ENABLE)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	if (!p || pl->start >= 8 || !(p->starts & (1u << pl->start)) || pl->size != p->size)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	for (int i = 0; i < 8; i++) {
		struct fake_gi *x = &g->gis[i];

		if (!x->used) {
			free_gi = free_gi ? free_gi : x;
			continue;
		}
		if (pl->start < x->start + x->size && x->start < pl->start + pl->size)
			return GV_NVML_ERROR_INSUFFICIENT_RESOURCES;
	}
	if (!free_gi)
		return GV_NVML_ERROR_INSUFFICIENT_RESOURCES;
	*free_gi = (struct fake_gi){ .kind = H_GI,
				     .gpu = g,
				     .used = true,
				     .id = ++g->next_gi_id,
				     .profile_id = id,
				     .start = pl->start,
				     .size = pl->size,
				     .slices = p->slices };
	free_gi->ci.kind = H_CI;
	free_gi->ci.gi = free_gi;
	free_gi->mig.kind = H_MIG;
	free_gi->mig.gi = free_gi;
	*out = (gv_nvml_gpu_instance)free_gi;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_gis(gv_nvml_device d, unsigned int id, gv_nvml_gpu_instance *out,
			 unsigned int *count)
{
	struct fake_gpu *g = gpu_of(d);
	unsigned int n = 0;

	for (int i = 0; i < 8; i++)
		if (g->gis[i].used && g->gis[i].profile_id == id) {
			if (n >= *count)
				return GV_NVML_ERROR_INSUFFICIENT_SIZE;
			out[n++] = (gv_nvml_gpu_instance)&g->gis[i];
		}
	*count = n;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_gi_by_id(gv_nvml_device d, unsigned int id, gv_nvml_gpu_instance *out)
{
	struct fake_gpu *g = gpu_of(d);

	for (int i = 0; i < 8; i++)
		if (g->gis[i].used && g->gis[i].id == id) {
			*out = (gv_nvml_gpu_instance)&g->gis[i];
			return GV_NVML_SUCCESS;
		}
	return GV_NVML_ERROR_NOT_FOUND;
}

static gv_nvml_ret f_gi_info(gv_nvml_gpu_instance gi, struct gv_nvml_gi_info *info)
{
	struct fake_gi *x = gi_of(gi);

	info->device = (gv_nvml_device)x->gpu;
	info->id = x->id;
	info->profile_id = x->profile_id;
	info->placement.start = x->start;
	info->placement.size = x->size;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_ci_prof(gv_nvml_gpu_instance gi, unsigned int idx, unsigned int eng,
			     struct gv_nvml_ci_profile_info_v2 *info)
{
	static const unsigned int slices[] = { 1, 2, 3, 4, 7, 8, 6 };
	struct fake_gi *x = gi_of(gi);

	if (info->version != GV_NVML_STRUCT_VERSION(struct gv_nvml_ci_profile_info_v2, 2))
		return GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	if (eng != GV_NVML_CI_ENGINE_PROFILE_SHARED || idx >= 7 || slices[idx] > x->slices)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	info->id = idx;
	info->slice_count = slices[idx];
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_create_ci(gv_nvml_gpu_instance gi, unsigned int id,
			       gv_nvml_compute_instance *out)
{
	struct fake_gi *x = gi_of(gi);

	if (fail_ci_create)
		return GV_NVML_ERROR_UNKNOWN;
	/* the backend must ask for the compute instance spanning the whole GI */
	assert_int_equal(id, x->slices == 7 ? 4 : x->slices - 1);
	if (x->ci_used)
		return GV_NVML_ERROR_INSUFFICIENT_RESOURCES;
	x->ci_used = true;
	*out = (gv_nvml_compute_instance)&x->ci;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_ci_by_id(gv_nvml_gpu_instance gi, unsigned int id,
			      gv_nvml_compute_instance *out)
{
	struct fake_gi *x = gi_of(gi);

	if (!x->ci_used || id != 0)
		return GV_NVML_ERROR_NOT_FOUND;
	*out = (gv_nvml_compute_instance)&x->ci;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_ci_destroy(gv_nvml_compute_instance ci)
{
	struct fake_gi *x;

	assert_int_equal(*(int *)ci, H_CI);
	x = (struct fake_gi *)((char *)ci - offsetof(struct fake_gi, ci));
	if (!x->ci_used)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	x->ci_used = false;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_gi_destroy(gv_nvml_gpu_instance gi)
{
	struct fake_gi *x = gi_of(gi);

	if (x->ci_used)
		return GV_NVML_ERROR_IN_USE;
	x->used = false;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_max_mig(gv_nvml_device d, unsigned int *n)
{
	*n = gpu_of(d)->mig_capable ? 7 : 0;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_mig_handle(gv_nvml_device d, unsigned int j, gv_nvml_device *out)
{
	struct fake_gpu *g = gpu_of(d);
	unsigned int n = 0;

	for (int i = 0; i < 8; i++)
		if (g->gis[i].used && g->gis[i].ci_used && n++ == j) {
			*out = (gv_nvml_device)&g->gis[i].mig;
			return GV_NVML_SUCCESS;
		}
	return GV_NVML_ERROR_NOT_FOUND;
}

static gv_nvml_ret f_gi_id(gv_nvml_device d, unsigned int *id)
{
	*id = gi_of_mig(d)->id;
	return GV_NVML_SUCCESS;
}

static gv_nvml_ret f_ci_id(gv_nvml_device d, unsigned int *id)
{
	(void)gi_of_mig(d);
	*id = 0;
	return GV_NVML_SUCCESS;
}

static const struct gv_nvml_fns fake_fns = {
	.init_v2 = f_init,
	.shutdown = f_shutdown,
	.error_string = f_error_string,
	.device_get_count_v2 = f_count,
	.device_get_handle_by_index_v2 = f_handle,
	.device_get_uuid = f_uuid,
	.device_get_name = f_name,
	.device_get_memory_info = f_mem,
	.device_get_pci_info_v3 = f_pci,
	.device_get_mig_mode = f_get_mig,
	.device_set_mig_mode = f_set_mig,
	.device_get_gpu_instance_profile_info_v = f_gi_prof,
	.device_get_gpu_instance_possible_placements_v2 = f_placements,
	.device_create_gpu_instance_with_placement = f_create_gi,
	.device_get_gpu_instances = f_gis,
	.device_get_gpu_instance_by_id = f_gi_by_id,
	.gpu_instance_get_info = f_gi_info,
	.gpu_instance_get_compute_instance_profile_info_v = f_ci_prof,
	.gpu_instance_create_compute_instance = f_create_ci,
	.gpu_instance_get_compute_instance_by_id = f_ci_by_id,
	.compute_instance_destroy = f_ci_destroy,
	.gpu_instance_destroy = f_gi_destroy,
	.device_get_max_mig_device_count = f_max_mig,
	.device_get_mig_device_handle_by_index = f_mig_handle,
	.device_get_gpu_instance_id = f_gi_id,
	.device_get_compute_instance_id = f_ci_id,
};

static struct gv_catalog *cat;

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
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gv_catalog_free(cat);
	return 0;
}

static struct gv_backend *fake_backend(void)
{
	struct gv_backend *be = NULL;
	struct gv_err err = { 0 };

	fake_reset();
	if (gv_nvml_backend_new_with(cat, &fake_fns, &be, &err) != 0)
		fail_msg("nvml backend: %s", err.msg);
	assert_string_equal(be->ops->name, "nvml");
	return be;
}

static const struct gv_profile *prof(const char *name)
{
	const struct gv_profile *p =
		gv_model_find_profile(gv_catalog_find_model(cat, "h100-80gb"), name);

	assert_non_null(p);
	return p;
}

static void test_query(void **state)
{
	struct gv_backend *be = fake_backend();
	struct gv_node_desc n;
	struct gv_err err = { 0 };

	(void)state;
	assert_int_equal(be->ops->query(be, &n, &err), 0);
	assert_int_equal(n.n_gpus, 2);
	assert_string_equal(n.gpus[0].uuid, gpus[0].uuid);
	assert_string_equal(n.gpus[0].name, "NVIDIA H100 80GB HBM3");
	assert_string_equal(n.gpus[0].pci_bus_id, "00000000:1B:00.0");
	assert_int_equal(n.gpus[0].pci_device_id, 0x2330);
	assert_int_equal(n.gpus[0].mem_mib, 81559);
	assert_non_null(n.gpus[0].model);
	assert_string_equal(n.gpus[0].model->id, "h100-80gb");
	assert_true(n.gpus[0].mig_capable);
	assert_false(n.gpus[0].mig_mode);
	assert_non_null(n.gpus[1].model);
	assert_string_equal(n.gpus[1].model->id, "l4");
	assert_false(n.gpus[1].mig_capable);
	assert_int_equal(n.gpus[1].index, 1);
	gv_backend_free(be);
	assert_int_equal(inits, 1);
	assert_int_equal(shutdowns, 1);
}

static void test_mig_lifecycle(void **state)
{
	struct gv_backend *be = fake_backend();
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	char a[GV_UUID_MAX], b[GV_UUID_MAX], c[GV_UUID_MAX];

	(void)state;
	assert_int_equal(be->ops->set_mig_mode(be, 1, true, &err), -EOPNOTSUPP);
	assert_int_equal(be->ops->set_mig_mode(be, 2, true, &err), -EINVAL);
	assert_int_equal(be->ops->mig_create(be, 0, prof("1g.10gb"), 0, a, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "not in MIG mode"));
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	assert_int_equal(gpus[0].mode, GV_NVML_MIG_ENABLE);

	assert_int_equal(be->ops->mig_create(be, 0, prof("3g.40gb"), 2, a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "valid: 0,4"));
	assert_int_equal(be->ops->mig_create(be, 0, prof("h100-8c"), 0, a, &err), -EINVAL);
	assert_int_equal(be->ops->mig_create(be, 0, prof("4g.40gb"), 0, a, &err), 0);
	assert_int_equal(strncmp(a, "MIG-", 4), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("3g.40gb"), 0, b, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "3g.40gb at slot 0"));
	assert_int_equal(be->ops->mig_create(be, 0, prof("1g.20gb"), 6, b, &err), 0);
	assert_int_equal(be->ops->mig_create(be, 0, prof("1g.10gb+me"), 4, c, &err), 0);
	assert_string_not_equal(a, b);

	assert_int_equal(be->ops->query(be, &n, &err), 0);
	assert_true(n.gpus[0].mig_mode);
	assert_int_equal(n.gpus[0].n_mig, 3);
	/* sorted by start; profiles mapped back, the renumbered one by shape */
	assert_string_equal(n.gpus[0].mig[0].profile->name, "4g.40gb");
	assert_int_equal(n.gpus[0].mig[0].start, 0);
	assert_string_equal(n.gpus[0].mig[0].uuid, a);
	assert_string_equal(n.gpus[0].mig[1].profile->name, "1g.10gb+me");
	assert_int_equal(n.gpus[0].mig[1].start, 4);
	assert_string_equal(n.gpus[0].mig[1].uuid, c);
	assert_string_equal(n.gpus[0].mig[2].profile->name, "1g.20gb");
	assert_int_equal(n.gpus[0].mig[2].start, 6);
	assert_string_equal(n.gpus[0].mig[2].uuid, b);

	assert_int_equal(be->ops->set_mig_mode(be, 0, false, &err), -EBUSY);
	assert_int_equal(
		be->ops->mig_destroy(be, 0, "MIG-00000000-0000-4000-8000-000000000000", &err),
		-ENOENT);
	assert_int_equal(be->ops->mig_destroy(be, 1, a, &err), -ENOENT);
	assert_int_equal(be->ops->mig_destroy(be, 0, a, &err), 0);
	assert_int_equal(be->ops->mig_destroy(be, 0, b, &err), 0);
	assert_int_equal(be->ops->mig_destroy(be, 0, c, &err), 0);
	for (int i = 0; i < 8; i++)
		assert_false(gpus[0].gis[i].used);
	assert_int_equal(be->ops->set_mig_mode(be, 0, false, &err), 0);
	assert_int_equal(gpus[0].mode, GV_NVML_MIG_DISABLE);
	gv_backend_free(be);
}

static void test_failed_compute_instance_leaves_nothing(void **state)
{
	struct gv_backend *be = fake_backend();
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	char a[GV_UUID_MAX];

	(void)state;
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), 0);
	fail_ci_create = true;
	assert_int_equal(be->ops->mig_create(be, 0, prof("2g.20gb"), 2, a, &err), -EIO);
	assert_non_null(strstr(err.msg, "nvmlGpuInstanceCreateComputeInstance"));
	assert_string_equal(a, "");
	for (int i = 0; i < 8; i++)
		assert_false(gpus[0].gis[i].used);
	fail_ci_create = false;
	assert_int_equal(be->ops->mig_create(be, 0, prof("2g.20gb"), 2, a, &err), 0);
	assert_int_equal(be->ops->query(be, &n, &err), 0);
	assert_int_equal(n.gpus[0].n_mig, 1);
	gv_backend_free(be);
}

static void test_mode_change_pending_reset(void **state)
{
	struct gv_backend *be = fake_backend();
	struct gv_err err = { 0 };

	(void)state;
	pending_reset = true;
	assert_int_equal(be->ops->set_mig_mode(be, 0, true, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "reset"));
	gv_backend_free(be);
}

static void test_no_gpu_is_enodev(void **state)
{
	struct gv_backend *be = (struct gv_backend *)&be;
	struct gv_err err = { 0 };

	(void)state;
	fake_reset();
	fake_count = 0;
	assert_int_equal(gv_nvml_backend_new_with(cat, &fake_fns, &be, &err), -ENODEV);
	assert_null(be);
	assert_non_null(strstr(err.msg, "no NVIDIA GPU"));
	assert_int_equal(shutdowns, 1);
	fake_reset();
	fail_init = true;
	assert_int_equal(gv_nvml_backend_new_with(cat, &fake_fns, &be, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "nvmlInit_v2"));
}

/* The real library: absent on most build machines, present on GPU ones. */
static void test_real_library(void **state)
{
	struct gv_backend *be = NULL;
	struct gv_node_desc n;
	struct gv_err err = { 0 };
	int rc;

	(void)state;
	rc = gv_backend_nvml_new(cat, &be, &err);
	if (rc == 0) {
		assert_int_equal(be->ops->query(be, &n, &err), 0);
		assert_true(n.n_gpus >= 1);
		gv_backend_free(be);
	} else {
		assert_int_equal(rc, -ENODEV);
		assert_null(be);
		assert_true(strstr(err.msg, "libnvidia-ml.so.1") || strstr(err.msg, "NVML") ||
			    strstr(err.msg, "nvml"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_mig_lifecycle),
		cmocka_unit_test(test_failed_compute_instance_leaves_nothing),
		cmocka_unit_test(test_mode_change_pending_reset),
		cmocka_unit_test(test_no_gpu_is_enodev),
		cmocka_unit_test(test_real_library),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

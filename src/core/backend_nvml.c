/* The NVML inventory backend: the node's real GPUs and MIG instances through
 * libnvidia-ml.so.1, loaded at run time so that gpuvisor builds and runs on
 * machines without the NVIDIA driver. */
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvml_internal.h"

#define NVML_LIB "libnvidia-ml.so.1"
/* MIG devices (compute instances) one GPU can expose; 7 on today's parts */
#define NVML_MIG_DEV_MAX 32
#define NVML_PLACEMENTS_MAX 32

struct nvml_backend {
	struct gv_backend base;
	void *lib;
	bool inited;
	struct gv_nvml_fns fn;
	unsigned int n_dev;
	gv_nvml_device dev[GV_NODE_MAX_GPUS];
};

/* A MIG device of a GPU: its GPU instance id, compute instance id, UUID. */
struct nvml_mig_dev {
	unsigned int gi_id;
	unsigned int ci_id;
	char uuid[GV_NVML_UUID_BUF];
};

static struct nvml_backend *to_nvml(struct gv_backend *be)
{
	return (struct nvml_backend *)be;
}

static const char *nvml_str(const struct nvml_backend *n, gv_nvml_ret r)
{
	const char *s = n->fn.error_string ? n->fn.error_string(r) : NULL;

	return s ? s : "unknown NVML error";
}

static int nvml_errno(gv_nvml_ret r)
{
	switch (r) {
	case GV_NVML_SUCCESS:
		return 0;
	case GV_NVML_ERROR_INVALID_ARGUMENT:
		return EINVAL;
	case GV_NVML_ERROR_NOT_SUPPORTED:
		return EOPNOTSUPP;
	case GV_NVML_ERROR_NO_PERMISSION:
		return EPERM;
	case GV_NVML_ERROR_NOT_FOUND:
		return ENOENT;
	case GV_NVML_ERROR_INSUFFICIENT_RESOURCES:
		return ENOSPC;
	case GV_NVML_ERROR_IN_USE:
		return EBUSY;
	case GV_NVML_ERROR_MEMORY:
		return ENOMEM;
	case GV_NVML_ERROR_TIMEOUT:
		return ETIMEDOUT;
	case GV_NVML_ERROR_RESET_REQUIRED:
		return EAGAIN;
	case GV_NVML_ERROR_DRIVER_NOT_LOADED:
	case GV_NVML_ERROR_GPU_IS_LOST:
		return ENODEV;
	default:
		return EIO;
	}
}

/* Records an NVML failure as "<what>: <NVML's words>" and returns -errno. */
static int nvml_fail(const struct nvml_backend *n, gv_nvml_ret r, struct gv_err *err,
		     const char *what)
{
	return gv_err_set(err, nvml_errno(r), "%s: %s (NVML error %d)", what, nvml_str(n, r), r);
}

/* Resolves every entry point; all are required (R470+ drivers have them). */
static int nvml_resolve(struct nvml_backend *n, struct gv_err *err)
{
	static const struct {
		const char *sym;
		size_t off;
	} syms[] = {
#define SYM(field, name) { name, offsetof(struct gv_nvml_fns, field) }
		SYM(init_v2, "nvmlInit_v2"),
		SYM(shutdown, "nvmlShutdown"),
		SYM(error_string, "nvmlErrorString"),
		SYM(device_get_count_v2, "nvmlDeviceGetCount_v2"),
		SYM(device_get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2"),
		SYM(device_get_uuid, "nvmlDeviceGetUUID"),
		SYM(device_get_name, "nvmlDeviceGetName"),
		SYM(device_get_memory_info, "nvmlDeviceGetMemoryInfo"),
		SYM(device_get_pci_info_v3, "nvmlDeviceGetPciInfo_v3"),
		SYM(device_get_mig_mode, "nvmlDeviceGetMigMode"),
		SYM(device_set_mig_mode, "nvmlDeviceSetMigMode"),
		SYM(device_get_gpu_instance_profile_info_v, "nvmlDeviceGetGpuInstanceProfileInfoV"),
		SYM(device_get_gpu_instance_possible_placements_v2,
		    "nvmlDeviceGetGpuInstancePossiblePlacements_v2"),
		SYM(device_create_gpu_instance_with_placement,
		    "nvmlDeviceCreateGpuInstanceWithPlacement"),
		SYM(device_get_gpu_instances, "nvmlDeviceGetGpuInstances"),
		SYM(device_get_gpu_instance_by_id, "nvmlDeviceGetGpuInstanceById"),
		SYM(gpu_instance_get_info, "nvmlGpuInstanceGetInfo"),
		SYM(gpu_instance_get_compute_instance_profile_info_v,
		    "nvmlGpuInstanceGetComputeInstanceProfileInfoV"),
		SYM(gpu_instance_create_compute_instance, "nvmlGpuInstanceCreateComputeInstance"),
		SYM(gpu_instance_get_compute_instance_by_id,
		    "nvmlGpuInstanceGetComputeInstanceById"),
		SYM(compute_instance_destroy, "nvmlComputeInstanceDestroy"),
		SYM(gpu_instance_destroy, "nvmlGpuInstanceDestroy"),
		SYM(device_get_max_mig_device_count, "nvmlDeviceGetMaxMigDeviceCount"),
		SYM(device_get_mig_device_handle_by_index, "nvmlDeviceGetMigDeviceHandleByIndex"),
		SYM(device_get_gpu_instance_id, "nvmlDeviceGetGpuInstanceId"),
		SYM(device_get_compute_instance_id, "nvmlDeviceGetComputeInstanceId"),
#undef SYM
	};
	_Static_assert(sizeof(void *) == sizeof(n->fn.init_v2), "function pointers fit void *");

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(n->lib, syms[i].sym);

		if (!p)
			return gv_err_set(err, ENODEV,
					  "%s has no %s: the NVIDIA driver is too old for gpuvisor",
					  NVML_LIB, syms[i].sym);
		/* POSIX guarantees a dlsym result converts to a function pointer */
		memcpy((char *)&n->fn + syms[i].off, &p, sizeof(p));
	}
	return 0;
}

static int nvml_dev(struct nvml_backend *n, int gpu, struct gv_err *err)
{
	if (gpu < 0 || (unsigned int)gpu >= n->n_dev)
		return gv_err_set(err, EINVAL, "no GPU %d (the node has %u)", gpu, n->n_dev);
	return 0;
}

/* Lists gpu's MIG devices (one per compute instance). */
static int nvml_mig_devs(struct nvml_backend *n, int gpu, struct nvml_mig_dev *out, int *n_out,
			 struct gv_err *err)
{
	unsigned int max = 0;
	gv_nvml_ret r;

	*n_out = 0;
	r = n->fn.device_get_max_mig_device_count(n->dev[gpu], &max);
	if (r != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetMaxMigDeviceCount");
	for (unsigned int j = 0; j < max && *n_out < NVML_MIG_DEV_MAX; j++) {
		struct nvml_mig_dev *m = &out[*n_out];
		gv_nvml_device md;

		r = n->fn.device_get_mig_device_handle_by_index(n->dev[gpu], j, &md);
		if (r == GV_NVML_ERROR_NOT_FOUND)
			continue; /* an unused index */
		if (r != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetMigDeviceHandleByIndex");
		if ((r = n->fn.device_get_gpu_instance_id(md, &m->gi_id)) != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetGpuInstanceId");
		if ((r = n->fn.device_get_compute_instance_id(md, &m->ci_id)) != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetComputeInstanceId");
		if ((r = n->fn.device_get_uuid(md, m->uuid, sizeof(m->uuid))) != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetUUID (MIG device)");
		(*n_out)++;
	}
	return 0;
}

static bool gi_profile_info(struct nvml_backend *n, int gpu, unsigned int idx,
			    struct gv_nvml_gi_profile_info_v2 *info)
{
	memset(info, 0, sizeof(*info));
	info->version = GV_NVML_STRUCT_VERSION(struct gv_nvml_gi_profile_info_v2, 2);
	return n->fn.device_get_gpu_instance_profile_info_v(n->dev[gpu], idx, info) ==
	       GV_NVML_SUCCESS;
}

/* The catalog MIG profile NVML's profile (index idx, info) is: the one with
 * the same profile id and compute slices, else (for the classic indexes
 * 0..9) the one with the same compute slices and media extensions whose
 * memory is closest, within 1/8. NULL when the catalog has none. */
static const struct gv_profile *map_profile(const struct gv_model *m, unsigned int idx,
					    const struct gv_nvml_gi_profile_info_v2 *info)
{
	const struct gv_profile *best = NULL;
	unsigned long long best_d = 0;

	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_profiles; i++) {
		const struct gv_profile *p = &m->profiles[i];

		if (p->kind == GV_PROFILE_MIG && p->mig_id == (int)info->id &&
		    p->compute_slices == (int)info->slice_count)
			return p;
	}
	if (idx > 9)
		return NULL;
	for (size_t i = 0; i < m->n_profiles; i++) {
		const struct gv_profile *p = &m->profiles[i];
		unsigned long long d;

		if (p->kind != GV_PROFILE_MIG || p->compute_slices != (int)info->slice_count ||
		    p->media_ext != (idx == GV_NVML_GI_PROFILE_1_SLICE_REV1))
			continue;
		d = p->fb_mib > info->memory_size_mb ? p->fb_mib - info->memory_size_mb
						     : info->memory_size_mb - p->fb_mib;
		if (d * 8 <= info->memory_size_mb && (!best || d < best_d)) {
			best = p;
			best_d = d;
		}
	}
	return best;
}

static int cmp_mig(const void *a, const void *b)
{
	const struct gv_mig_inst *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Fills g->mig from the GPU instances NVML reports. A GPU instance whose
 * profile the catalog does not know is left out (nvml_probe shows it); one
 * without a compute instance has an empty uuid. */
static int nvml_mig_list(struct nvml_backend *n, int gpu, struct gv_gpu_info *g, struct gv_err *err)
{
	struct nvml_mig_dev devs[NVML_MIG_DEV_MAX];
	unsigned int seen_ids[GV_NVML_GI_PROFILE_PROBE_MAX];
	int n_devs, n_seen = 0, rc;

	g->n_mig = 0;
	if ((rc = nvml_mig_devs(n, gpu, devs, &n_devs, err)) < 0)
		return rc;
	for (unsigned int idx = 0; idx < GV_NVML_GI_PROFILE_PROBE_MAX; idx++) {
		struct gv_nvml_gi_profile_info_v2 info;
		gv_nvml_gpu_instance gis[GV_NODE_MAX_MIG];
		unsigned int count = GV_NODE_MAX_MIG;
		const struct gv_profile *p;
		bool dup = false;
		gv_nvml_ret r;

		if (!gi_profile_info(n, gpu, idx, &info))
			continue;
		for (int k = 0; k < n_seen; k++)
			dup = dup || seen_ids[k] == info.id;
		if (dup)
			continue;
		seen_ids[n_seen++] = info.id;
		r = n->fn.device_get_gpu_instances(n->dev[gpu], info.id, gis, &count);
		if (r != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetGpuInstances");
		p = map_profile(g->model, idx, &info);
		for (unsigned int k = 0; k < count && k < GV_NODE_MAX_MIG; k++) {
			struct gv_nvml_gi_info gi;
			struct gv_mig_inst *mi;

			if ((r = n->fn.gpu_instance_get_info(gis[k], &gi)) != GV_NVML_SUCCESS)
				return nvml_fail(n, r, err, "nvmlGpuInstanceGetInfo");
			if (!p || g->n_mig >= GV_NODE_MAX_MIG)
				continue;
			mi = &g->mig[g->n_mig++];
			memset(mi, 0, sizeof(*mi));
			mi->profile = p;
			mi->start = (int)gi.placement.start;
			mi->gi_id = (int)gi.id;
			mi->ci_id = -1;
			for (int d = 0; d < n_devs; d++)
				if (devs[d].gi_id == gi.id) {
					mi->ci_id = (int)devs[d].ci_id;
					snprintf(mi->uuid, sizeof(mi->uuid), "%s", devs[d].uuid);
					break;
				}
		}
	}
	qsort(g->mig, (size_t)g->n_mig, sizeof(g->mig[0]), cmp_mig);
	return 0;
}

static int nvml_gpu_info(struct nvml_backend *n, int gpu, struct gv_gpu_info *g, struct gv_err *err)
{
	char buf[GV_NVML_UUID_BUF];
	struct gv_nvml_memory mem;
	struct gv_nvml_pci_info pci;
	unsigned int cur = 0, pending = 0;
	gv_nvml_device d = n->dev[gpu];
	gv_nvml_ret r;
	int rc;

	memset(g, 0, sizeof(*g));
	g->index = gpu;
	if ((r = n->fn.device_get_uuid(d, buf, sizeof(buf))) != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetUUID");
	if (strlen(buf) >= sizeof(g->uuid))
		return gv_err_set(err, EIO, "GPU %d: UUID '%s' is longer than expected", gpu, buf);
	snprintf(g->uuid, sizeof(g->uuid), "%s", buf);
	if ((r = n->fn.device_get_name(d, buf, sizeof(buf))) != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetName");
	snprintf(g->name, sizeof(g->name), "%s", buf);
	if ((r = n->fn.device_get_memory_info(d, &mem)) != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetMemoryInfo");
	g->mem_mib = mem.total >> 20;
	memset(&pci, 0, sizeof(pci));
	if ((r = n->fn.device_get_pci_info_v3(d, &pci)) != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetPciInfo_v3");
	g->pci_device_id = pci.pci_device_id >> 16;
	pci.bus_id[sizeof(pci.bus_id) - 1] = '\0';
	snprintf(g->pci_bus_id, sizeof(g->pci_bus_id), "%s", pci.bus_id);
	g->model = gv_catalog_match(n->base.cat, g->pci_device_id, g->name, g->mem_mib);

	r = n->fn.device_get_mig_mode(d, &cur, &pending);
	if (r == GV_NVML_SUCCESS) {
		g->mig_capable = true;
		g->mig_mode = cur == GV_NVML_MIG_ENABLE;
	} else if (r != GV_NVML_ERROR_NOT_SUPPORTED) {
		return nvml_fail(n, r, err, "nvmlDeviceGetMigMode");
	}
	if (g->mig_mode && (rc = nvml_mig_list(n, gpu, g, err)) < 0)
		return rc;
	return 0;
}

static int nvml_query(struct gv_backend *be, struct gv_node_desc *out, struct gv_err *err)
{
	struct nvml_backend *n = to_nvml(be);
	int rc;

	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < n->n_dev; i++) {
		if ((rc = nvml_gpu_info(n, (int)i, &out->gpus[i], err)) < 0) {
			gv_err_prefix(err, "GPU %u", i);
			memset(out, 0, sizeof(*out));
			return rc;
		}
	}
	out->n_gpus = (int)n->n_dev;
	return 0;
}

static int nvml_set_mig_mode(struct gv_backend *be, int gpu, bool on, struct gv_err *err)
{
	struct nvml_backend *n = to_nvml(be);
	struct gv_gpu_info g;
	unsigned int cur = 0, pending = 0;
	gv_nvml_ret r, activation = GV_NVML_SUCCESS;
	int rc;

	if ((rc = nvml_dev(n, gpu, err)) < 0)
		return rc;
	r = n->fn.device_get_mig_mode(n->dev[gpu], &cur, &pending);
	if (r == GV_NVML_ERROR_NOT_SUPPORTED)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d does not support MIG", gpu);
	if (r != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetMigMode");
	if ((cur == GV_NVML_MIG_ENABLE) == on && (pending == GV_NVML_MIG_ENABLE) == on)
		return 0;
	if (!on && cur == GV_NVML_MIG_ENABLE) {
		if ((rc = nvml_gpu_info(n, gpu, &g, err)) < 0)
			return rc;
		if (g.n_mig > 0)
			return gv_err_set(
				err, EBUSY,
				"GPU %d still has %d MIG instance(s): destroy them before turning MIG mode off",
				gpu, g.n_mig);
	}
	r = n->fn.device_set_mig_mode(n->dev[gpu], on ? GV_NVML_MIG_ENABLE : GV_NVML_MIG_DISABLE,
				      &activation);
	if (r != GV_NVML_SUCCESS) {
		rc = nvml_fail(n, r, err, "nvmlDeviceSetMigMode");
		gv_err_prefix(err, "GPU %d", gpu);
		return rc;
	}
	if (activation != GV_NVML_SUCCESS)
		return gv_err_set(err, EAGAIN,
				  "GPU %d: MIG mode %s is pending until the GPU is reset (%s)", gpu,
				  on ? "on" : "off", nvml_str(n, activation));
	return 0;
}

/* Finds NVML's profile index and info for a catalog MIG profile. */
static int find_gi_profile(struct nvml_backend *n, int gpu, const struct gv_model *m,
			   const struct gv_profile *profile,
			   struct gv_nvml_gi_profile_info_v2 *info, struct gv_err *err)
{
	for (unsigned int idx = 0; idx < GV_NVML_GI_PROFILE_PROBE_MAX; idx++)
		if (gi_profile_info(n, gpu, idx, info) && map_profile(m, idx, info) == profile)
			return 0;
	return gv_err_set(err, EINVAL, "GPU %d: the driver offers no MIG profile matching %s", gpu,
			  profile->name);
}

static int nvml_mig_create(struct gv_backend *be, int gpu, const struct gv_profile *profile,
			   int start, char uuid_out[GV_UUID_MAX], struct gv_err *err)
{
	struct nvml_backend *n = to_nvml(be);
	struct gv_gpu_info g;
	struct gv_nvml_gi_profile_info_v2 info;
	struct gv_nvml_ci_profile_info_v2 ci_info;
	struct gv_nvml_gi_placement pl[NVML_PLACEMENTS_MAX], want = { 0, 0 };
	struct gv_nvml_gi_info gi_info;
	struct nvml_mig_dev devs[NVML_MIG_DEV_MAX];
	gv_nvml_gpu_instance gi = NULL;
	gv_nvml_compute_instance ci = NULL;
	unsigned int count = 0;
	char valid[64] = "";
	bool have_ci = false;
	int rc, n_devs;
	gv_nvml_ret r;

	if (uuid_out)
		uuid_out[0] = '\0';
	if ((rc = nvml_dev(n, gpu, err)) < 0)
		return rc;
	if ((rc = nvml_gpu_info(n, gpu, &g, err)) < 0)
		return rc;
	if (!g.mig_capable)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d (%s) does not support MIG", gpu, g.name);
	if (!g.mig_mode)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d is not in MIG mode", gpu);
	if (!g.model || !profile || profile->kind != GV_PROFILE_MIG)
		return gv_err_set(err, EINVAL, "GPU %d (%s): %s is not one of its MIG profiles",
				  gpu, g.name, profile ? profile->name : "(no profile)");
	if ((rc = find_gi_profile(n, gpu, g.model, profile, &info, err)) < 0)
		return rc;

	r = n->fn.device_get_gpu_instance_possible_placements_v2(n->dev[gpu], info.id, NULL,
								 &count);
	if (r != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
	if (count > NVML_PLACEMENTS_MAX)
		return gv_err_set(err, EIO, "GPU %d: %u placements for %s", gpu, count,
				  profile->name);
	r = n->fn.device_get_gpu_instance_possible_placements_v2(n->dev[gpu], info.id, pl, &count);
	if (r != GV_NVML_SUCCESS)
		return nvml_fail(n, r, err, "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
	for (unsigned int k = 0; k < count; k++) {
		size_t len = strlen(valid);

		snprintf(valid + len, sizeof(valid) - len, "%s%u", k ? "," : "", pl[k].start);
		if ((int)pl[k].start == start)
			want = pl[k];
	}
	if (want.size == 0)
		return gv_err_set(err, EINVAL, "GPU %d: %s cannot start at slot %d (valid: %s)",
				  gpu, profile->name, start, valid);

	r = n->fn.device_create_gpu_instance_with_placement(n->dev[gpu], info.id, &want, &gi);
	if (r != GV_NVML_SUCCESS) {
		rc = nvml_fail(n, r, err, "nvmlDeviceCreateGpuInstanceWithPlacement");
		gv_err_prefix(err, "GPU %d: %s at slot %d", gpu, profile->name, start);
		gi = NULL;
		goto out;
	}
	if ((r = n->fn.gpu_instance_get_info(gi, &gi_info)) != GV_NVML_SUCCESS) {
		rc = nvml_fail(n, r, err, "nvmlGpuInstanceGetInfo");
		goto out;
	}
	/* one compute instance spanning the whole GPU instance */
	for (unsigned int idx = 0; idx < GV_NVML_CI_PROFILE_PROBE_MAX && !have_ci; idx++) {
		memset(&ci_info, 0, sizeof(ci_info));
		ci_info.version = GV_NVML_STRUCT_VERSION(struct gv_nvml_ci_profile_info_v2, 2);
		r = n->fn.gpu_instance_get_compute_instance_profile_info_v(
			gi, idx, GV_NVML_CI_ENGINE_PROFILE_SHARED, &ci_info);
		have_ci = r == GV_NVML_SUCCESS && ci_info.slice_count == info.slice_count;
	}
	if (!have_ci) {
		rc = gv_err_set(err, EIO, "GPU %d: no compute instance profile spans %s", gpu,
				profile->name);
		goto out;
	}
	r = n->fn.gpu_instance_create_compute_instance(gi, ci_info.id, &ci);
	if (r != GV_NVML_SUCCESS) {
		ci = NULL;
		rc = nvml_fail(n, r, err, "nvmlGpuInstanceCreateComputeInstance");
		goto out;
	}
	if ((rc = nvml_mig_devs(n, gpu, devs, &n_devs, err)) < 0)
		goto out;
	rc = gv_err_set(err, EIO, "GPU %d: the new MIG device of GPU instance %u is not listed",
			gpu, gi_info.id);
	for (int d = 0; d < n_devs; d++) {
		if (devs[d].gi_id == gi_info.id && strlen(devs[d].uuid) < GV_UUID_MAX) {
			if (uuid_out)
				snprintf(uuid_out, GV_UUID_MAX, "%s", devs[d].uuid);
			gv_err_clear(err);
			rc = 0;
		}
	}
out:
	/* nothing half-made stays behind */
	if (rc < 0 && ci)
		n->fn.compute_instance_destroy(ci);
	if (rc < 0 && gi)
		n->fn.gpu_instance_destroy(gi);
	return rc;
}

static int nvml_mig_destroy(struct gv_backend *be, int gpu, const char *mig_uuid,
			    struct gv_err *err)
{
	struct nvml_backend *n = to_nvml(be);
	struct nvml_mig_dev devs[NVML_MIG_DEV_MAX];
	gv_nvml_gpu_instance gi;
	gv_nvml_compute_instance ci;
	gv_nvml_ret r;
	int rc, n_devs;

	if ((rc = nvml_dev(n, gpu, err)) < 0)
		return rc;
	if ((rc = nvml_mig_devs(n, gpu, devs, &n_devs, err)) < 0)
		return rc;
	for (int d = 0; mig_uuid && d < n_devs; d++) {
		if (strcasecmp(devs[d].uuid, mig_uuid) != 0)
			continue;
		r = n->fn.device_get_gpu_instance_by_id(n->dev[gpu], devs[d].gi_id, &gi);
		if (r != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlDeviceGetGpuInstanceById");
		r = n->fn.gpu_instance_get_compute_instance_by_id(gi, devs[d].ci_id, &ci);
		if (r != GV_NVML_SUCCESS)
			return nvml_fail(n, r, err, "nvmlGpuInstanceGetComputeInstanceById");
		if ((r = n->fn.compute_instance_destroy(ci)) != GV_NVML_SUCCESS) {
			rc = nvml_fail(n, r, err, "nvmlComputeInstanceDestroy");
			gv_err_prefix(err, "GPU %d: %s", gpu, mig_uuid);
			return rc;
		}
		if ((r = n->fn.gpu_instance_destroy(gi)) != GV_NVML_SUCCESS) {
			rc = nvml_fail(n, r, err, "nvmlGpuInstanceDestroy");
			gv_err_prefix(err, "GPU %d: %s", gpu, mig_uuid);
			return rc;
		}
		return 0;
	}
	return gv_err_set(err, ENOENT, "GPU %d has no MIG instance %s", gpu,
			  mig_uuid ? mig_uuid : "(null)");
}

static void nvml_free(struct gv_backend *be)
{
	struct nvml_backend *n = to_nvml(be);

	if (n->inited)
		n->fn.shutdown();
	if (n->lib)
		dlclose(n->lib);
	free(n);
}

static const struct gv_backend_ops nvml_ops = {
	.name = "nvml",
	.query = nvml_query,
	.set_mig_mode = nvml_set_mig_mode,
	.mig_create = nvml_mig_create,
	.mig_destroy = nvml_mig_destroy,
	.free = nvml_free,
};

/* Initialises NVML through n->fn and takes the device handles. */
static int nvml_start(struct nvml_backend *n, struct gv_err *err)
{
	unsigned int count = 0;
	gv_nvml_ret r;
	int rc;

	if ((r = n->fn.init_v2()) != GV_NVML_SUCCESS)
		return gv_err_set(err, ENODEV, "nvmlInit_v2: %s (NVML error %d)", nvml_str(n, r),
				  r);
	n->inited = true;
	if ((r = n->fn.device_get_count_v2(&count)) != GV_NVML_SUCCESS)
		return gv_err_set(err, ENODEV, "nvmlDeviceGetCount_v2: %s (NVML error %d)",
				  nvml_str(n, r), r);
	if (count == 0)
		return gv_err_set(err, ENODEV, "NVML reports no NVIDIA GPU");
	if (count > GV_NODE_MAX_GPUS)
		return gv_err_set(err, ENODEV, "NVML reports %u GPUs; gpuvisor handles at most %d",
				  count, GV_NODE_MAX_GPUS);
	for (unsigned int i = 0; i < count; i++) {
		r = n->fn.device_get_handle_by_index_v2(i, &n->dev[i]);
		if (r != GV_NVML_SUCCESS) {
			rc = nvml_fail(n, r, err, "nvmlDeviceGetHandleByIndex_v2");
			gv_err_prefix(err, "GPU %u", i);
			return rc;
		}
	}
	n->n_dev = count;
	return 0;
}

static int nvml_new(const struct gv_catalog *cat, const struct gv_nvml_fns *fns,
		    struct gv_backend **out, struct gv_err *err)
{
	struct nvml_backend *n = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!cat || !out) {
		rc = gv_err_set(err, EINVAL, "nvml backend: missing argument");
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = gv_err_set(err, ENOMEM, "nvml backend: out of memory");
		goto out;
	}
	n->base.ops = &nvml_ops;
	n->base.cat = cat;
	if (fns) {
		n->fn = *fns;
	} else {
		n->lib = dlopen(NVML_LIB, RTLD_NOW | RTLD_LOCAL);
		if (!n->lib) {
			const char *why = dlerror();

			rc = gv_err_set(err, ENODEV,
					"cannot load %s (is the NVIDIA driver installed?): %s",
					NVML_LIB, why ? why : "unknown reason");
			goto out;
		}
		if ((rc = nvml_resolve(n, err)) < 0)
			goto out;
	}
	if ((rc = nvml_start(n, err)) < 0)
		goto out;
	*out = &n->base;
	n = NULL;
	rc = 0;
out:
	if (n)
		nvml_free(&n->base);
	return rc;
}

int gv_backend_nvml_new(const struct gv_catalog *cat, struct gv_backend **out, struct gv_err *err)
{
	return nvml_new(cat, NULL, out, err);
}

int gv_nvml_backend_new_with(const struct gv_catalog *cat, const struct gv_nvml_fns *fns,
			     struct gv_backend **out, struct gv_err *err)
{
	if (!fns) {
		if (out)
			*out = NULL;
		return gv_err_set(err, EINVAL, "nvml backend: no entry points");
	}
	return nvml_new(cat, fns, out, err);
}

int gv_nvml_print_profiles(struct gv_backend *be, int gpu, FILE *f, struct gv_err *err)
{
	struct nvml_backend *n = to_nvml(be);
	struct gv_gpu_info g;
	int rc, shown = 0;

	if (!be || be->ops != &nvml_ops)
		return gv_err_set(err, EINVAL, "not an NVML backend");
	if ((rc = nvml_dev(n, gpu, err)) < 0)
		return rc;
	if ((rc = nvml_gpu_info(n, gpu, &g, err)) < 0)
		return rc;
	for (unsigned int idx = 0; idx < GV_NVML_GI_PROFILE_PROBE_MAX; idx++) {
		struct gv_nvml_gi_profile_info_v2 info;
		struct gv_nvml_gi_placement pl[NVML_PLACEMENTS_MAX];
		unsigned int count = 0;
		const struct gv_profile *p;
		gv_nvml_ret r;

		if (!gi_profile_info(n, gpu, idx, &info))
			continue;
		p = map_profile(g.model, idx, &info);
		fprintf(f,
			"  profile index %2u: id %2u %-22s compute slices %u, %llu MB, %u SMs, max %u -> catalog %s\n",
			idx, info.id, info.name, info.slice_count, info.memory_size_mb,
			info.multiprocessor_count, info.instance_count, p ? p->name : "(none)");
		r = n->fn.device_get_gpu_instance_possible_placements_v2(n->dev[gpu], info.id, NULL,
									 &count);
		if (r == GV_NVML_SUCCESS && count <= NVML_PLACEMENTS_MAX)
			r = n->fn.device_get_gpu_instance_possible_placements_v2(
				n->dev[gpu], info.id, pl, &count);
		if (r != GV_NVML_SUCCESS) {
			fprintf(f, "    placements: %s\n", nvml_str(n, r));
		} else {
			fprintf(f, "    placements (start:size):");
			for (unsigned int k = 0; k < count && k < NVML_PLACEMENTS_MAX; k++)
				fprintf(f, " %u:%u", pl[k].start, pl[k].size);
			fprintf(f, "\n");
			if (p) {
				uint32_t mask = 0;
				bool size_ok = true;

				for (unsigned int k = 0; k < count && k < NVML_PLACEMENTS_MAX;
				     k++) {
					mask |= pl[k].start < 32 ? 1u << pl[k].start : 0;
					size_ok = size_ok && (int)pl[k].size == p->mem_slices;
				}
				fprintf(f,
					"    catalog %s: start mask 0x%02x %s, %d memory slices %s, %llu MiB\n",
					p->name, p->start_mask,
					mask == p->start_mask ? "(matches)" : "(DIFFERS)",
					p->mem_slices, size_ok ? "(matches)" : "(DIFFERS)",
					(unsigned long long)p->fb_mib);
			}
		}
		shown++;
	}
	if (shown == 0)
		fprintf(f, "  no MIG profile information (MIG mode off or not supported)\n");
	return 0;
}

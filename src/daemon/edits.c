/* What an instance's workload gets: the one description behind both
 * `gpuvisor run` (which sets the environment) and `gpuvisor cdi` (which
 * turns all of it into a CDI device's containerEdits), so that they cannot
 * drift. Served as GET /v1/instances/ID/env.
 *
 *   env      variables; LD_LIBRARY_PATH_PREPEND is what goes in front of
 *            the workload's LD_LIBRARY_PATH (the shim's directory first)
 *   mounts   {"host","container","rw"}: every host path the environment
 *            names, at the same path, so the description works alone in a
 *            container; read-only but for the accounting file and the
 *            scheduler segment, which the shim writes
 *   devices  {"path"}: device nodes, on a real GPU only: the instance's
 *            GPU (/dev/nvidiaN), nvidiactl, nvidia-uvm, nvidia-uvm-tools
 *            and, for a MIG instance, the /dev/nvidia-caps nodes of its
 *            GPU instance and compute instance. Never another GPU's.
 *
 * GPUVISOR_BULK_CTL: <run-dir>/ctl/<instance>/bulk.sock, the socket the
 * shim serves its bulk memory on (not mounted: see below).
 *
 * Never the admin socket (docs/api.md, "Tenants"): the workload's way to
 * the daemon is its instance's tenant endpoint (tenant.c), mounted as a
 * directory.
 *
 * Real GPU: the driver's user-space libraries are found as the loader
 * finds them, in its cache (/etc/ld.so.cache, ldcache.h), by SONAME. Each
 * is mounted at its own host path, and <run-dir>/driver holds links named
 * by SONAME to them; that directory goes on LD_LIBRARY_PATH after the
 * shim's, so a container finds them whatever its image's /etc/ld.so.cache
 * says (no hook runs in the container). The real libcuda is also named by
 * GPUVISOR_REAL_LIBCUDA for the shim, the real NVML by GPUVISOR_REAL_LIBNVML
 * for the NVML interposer beside it (on a simulated node: libcudasim and
 * the simulator's NVML, libnvmlsim). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "gpuvisor/acct.h"
#include "gpuvisor/ldcache.h"
#include "gpuvisor/rundir.h"
#include "migration.h"

/* The driver libraries a compute workload (and NVML callers) may load,
 * by SONAME: the CUDA driver, NVML, and what libcuda itself dlopens. */
static const char *const driver_sonames[] = {
	"libcuda.so.1",
	"libnvidia-ml.so.1",
	"libnvidia-ptxjitcompiler.so.1",
	"libnvidia-nvvm.so.4",
	"libcudadebugger.so.1",
	"libnvidia-cfg.so.1",
	"libnvidia-allocator.so.1",
	"libnvidia-opencl.so.1",
};

static int add_mount(json_t *mounts, const char *host, bool rw)
{
	size_t i;
	json_t *m;

	json_array_foreach(mounts, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "host")), host) == 0) {
			if (rw)
				json_object_set_new(m, "rw", json_true());
			return 0;
		}
	}
	return json_array_append_new(
		mounts, json_pack("{s:s, s:s, s:b}", "host", host, "container", host, "rw", rw));
}

/* env[key] = path, and path mounted at the same place. */
static int set_path(json_t *env, json_t *mounts, const char *key, const char *path, bool rw)
{
	if (json_object_set_new(env, key, json_string(path)) < 0)
		return -ENOMEM;
	return add_mount(mounts, path, rw);
}

static int add_dev(json_t *devs, const char *path)
{
	return json_array_append_new(devs, json_pack("{s:s}", "path", path));
}

/* The device minor of the GPU at PCI bus id bus ("00000000:17:00.0" from
 * NVML), from /proc/driver/nvidia/gpus/<0000:17:00.0>/information, or -1. */
static int gpu_minor(const char *bus)
{
	char path[128], line[256], id[32];
	const char *p = strchr(bus, ':');
	int minor = -1;
	FILE *f;
	size_t i;

	if (!p || p - bus < 4)
		return -1;
	/* the proc directory uses a 4-digit domain, in lower case */
	snprintf(id, sizeof(id), "%.4s%s", p - 4, p);
	for (i = 0; id[i]; i++)
		if (id[i] >= 'A' && id[i] <= 'F')
			id[i] = (char)(id[i] - 'A' + 'a');
	snprintf(path, sizeof(path), "/proc/driver/nvidia/gpus/%s/information", id);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Device Minor: %d", &minor) == 1)
			break;
	fclose(f);
	return minor;
}

/* The /dev/nvidia-caps minor of capability cap ("gpu0/gi1/access"), from
 * the driver's table /proc/driver/nvidia-caps/mig-minors, or -1. */
static int cap_minor(const char *cap)
{
	char name[128], line[256];
	int minor = -1, m;
	FILE *f = fopen("/proc/driver/nvidia-caps/mig-minors", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %d", name, &m) == 2 && strcmp(name, cap) == 0) {
			minor = m;
			break;
		}
	fclose(f);
	return minor;
}

/* Device nodes of a real GPU instance. */
static int real_devices(struct gvd *d, const struct gv_store_inst *in, json_t *devs,
			struct gv_err *err)
{
	static const char *const common[] = { "/dev/nvidiactl", "/dev/nvidia-uvm",
					      "/dev/nvidia-uvm-tools" };
	struct gv_node_desc hw;
	const struct gv_gpu_info *g = NULL;
	char path[64], cap[96];
	int ret, minor, k, gi_minor, ci_minor;
	size_t i;

	ret = d->be->ops->query(d->be, &hw, err);
	if (ret)
		return ret;
	for (k = 0; k < hw.n_gpus && !g; k++)
		if (strcmp(hw.gpus[k].uuid, in->gpu_uuid) == 0)
			g = &hw.gpus[k];
	if (!g)
		return gv_err_set(err, ENOENT, "%s: its GPU %s is not on this node", in->id,
				  in->gpu_uuid);
	minor = gpu_minor(g->pci_bus_id);
	if (minor < 0)
		return gv_err_set(err, ENOENT,
				  "%s: no device minor for GPU %s in /proc/driver/nvidia/gpus",
				  in->id, g->pci_bus_id);
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (access(common[i], F_OK) == 0 && add_dev(devs, common[i]) < 0)
			return gv_err_nomem(err);
	snprintf(path, sizeof(path), "/dev/nvidia%d", minor);
	if (add_dev(devs, path) < 0)
		return gv_err_nomem(err);
	if (in->kind != GV_PROFILE_MIG && in->kind != GV_PROFILE_MIG_VGPU)
		return 0;
	for (k = 0; k < g->n_mig; k++) {
		const struct gv_mig_inst *mi = &g->mig[k];

		if (strcmp(mi->uuid, in->device_uuid) != 0)
			continue;
		if (mi->gi_id < 0 || mi->ci_id < 0)
			break;
		snprintf(cap, sizeof(cap), "gpu%d/gi%d/access", minor, mi->gi_id);
		gi_minor = cap_minor(cap);
		snprintf(cap, sizeof(cap), "gpu%d/gi%d/ci%d/access", minor, mi->gi_id, mi->ci_id);
		ci_minor = cap_minor(cap);
		if (gi_minor < 0 || ci_minor < 0)
			break;
		snprintf(path, sizeof(path), "/dev/nvidia-caps/nvidia-cap%d", gi_minor);
		if (add_dev(devs, path) < 0)
			return gv_err_nomem(err);
		snprintf(path, sizeof(path), "/dev/nvidia-caps/nvidia-cap%d", ci_minor);
		if (add_dev(devs, path) < 0)
			return gv_err_nomem(err);
		return 0;
	}
	return gv_err_set(
		err, ENOENT,
		"%s: no MIG capability nodes for %s (/proc/driver/nvidia-caps/mig-minors)", in->id,
		in->device_uuid);
}

/* Driver libraries from the loader cache: mounted at their host paths,
 * linked by SONAME from <run-dir>/driver. Sets GPUVISOR_REAL_LIBCUDA and
 * GPUVISOR_REAL_LIBNVML; *linkdir is "" when nothing was found. */
static int real_libraries(struct gvd *d, json_t *env, json_t *mounts, char linkdir[PATH_MAX],
			  struct gv_err *err)
{
	char found[PATH_MAX], real[PATH_MAX], link[PATH_MAX + 64], cur[PATH_MAX];
	size_t i;
	int ret;

	linkdir[0] = '\0';
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_DRIVER, NULL, link, sizeof(link));
	ret = gvd_mkdir_p(link, 0755, err);
	if (ret)
		return ret;
	for (i = 0; i < sizeof(driver_sonames) / sizeof(driver_sonames[0]); i++) {
		const char *so = driver_sonames[i];
		ssize_t n;

		if (gv_ldcache_lookup(NULL, so, found, sizeof(found), NULL) != 0 ||
		    !realpath(found, real))
			continue;
		if (add_mount(mounts, real, false) < 0)
			return gv_err_nomem(err);
		if (strcmp(so, "libcuda.so.1") == 0)
			json_object_set_new(env, "GPUVISOR_REAL_LIBCUDA", json_string(real));
		if (strcmp(so, "libnvidia-ml.so.1") == 0)
			json_object_set_new(env, "GPUVISOR_REAL_LIBNVML", json_string(real));
		/* the link dir never shadows the shim's libcuda.so.1 */
		if (strcmp(so, "libcuda.so.1") == 0)
			continue;
		gv_rundir_path(d->o.run_dir, GV_RUNDIR_DRIVER, so, link, sizeof(link));
		n = readlink(link, cur, sizeof(cur) - 1);
		if (n < 0 || (size_t)n != strlen(real) || memcmp(cur, real, (size_t)n) != 0) {
			unlink(link);
			if (symlink(real, link) < 0)
				return gv_err_sys(err, "%s", link);
		}
		gv_rundir_path(d->o.run_dir, GV_RUNDIR_DRIVER, NULL, linkdir, PATH_MAX);
	}
	return 0;
}

json_t *gvd_instance_edits(struct gvd *d, const struct gv_store_inst *in, struct gv_err *err)
{
	json_t *env = json_object(), *mounts = json_array(), *devs = json_array(), *out = NULL;
	char path[PATH_MAX], shim[PATH_MAX], linkdir[PATH_MAX] = "";
	int ret;

	if (!env || !mounts || !devs) {
		gv_err_nomem(err);
		goto out;
	}
	json_object_set_new(env, "CUDA_VISIBLE_DEVICES", json_string(in->device_uuid));
	json_object_set_new(env, "GPUVISOR_INSTANCE", json_string(in->id));
	/* every kind gets the shim: it enforces a timeslice partition, and it
	 * is what migrates and registers MIG and passthrough workloads too */
	snprintf(shim, sizeof(shim), "%s/shim", d->o.lib_dir);
	if (add_mount(mounts, shim, false) < 0)
		goto oom;
	if (in->kind == GV_PROFILE_TIMESLICE) {
		gvd_acct_path(d, in->id, path);
		if (set_path(env, mounts, "GPUVISOR_ACCT", path, true) < 0)
			goto oom;
		/* the limit, read-only (acct.h); made here too for an instance
		 * created before limit files existed */
		gvd_limit_path(d, in->id, path);
		if (access(path, F_OK) != 0 &&
		    gv_acct_limit_create(path, in->fb_mib * 1024 * 1024, err) < 0)
			goto out;
		if (set_path(env, mounts, "GPUVISOR_LIMIT", path, false) < 0)
			goto oom;
		/* the scheduler segment: the shim writes its own record there */
		if (gvd_sched_of(d, in->gpu_uuid)) {
			gvd_sched_path(d, in->gpu_uuid, path);
			if (set_path(env, mounts, "GPUVISOR_SCHED", path, true) < 0)
				goto oom;
		}
	}
	/* the tenant endpoint: the directory, so a restarted daemon's new
	 * socket is seen through the same mount */
	gvd_tenant_dir(d, in->id, path);
	if (add_mount(mounts, path, false) < 0)
		goto oom;
	gvd_tenant_sock(d, in->id, path);
	json_object_set_new(env, "GPUVISOR_TENANT", json_string(path));
	/* where the shim serves its bulk memory to the pre-copy helper
	 * (docs/migration.md "The pre-copy design"). The directory is made
	 * afresh for the workload's user at its registration (gvd_ctl_prepare)
	 * and follows it on a move through the driver, so it is not mounted:
	 * a container's shim, which finds no directory there, asks its tenant
	 * endpoint for a socket gpuvisord binds at this path ("bulk"). */
	if (gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL_BULK, in->id, path, sizeof(path)) != 0) {
		gv_err_set(err, ENAMETOOLONG,
			   "the run directory's path is too long for %s's "
			   "bulk control socket",
			   in->id);
		goto out;
	}
	json_object_set_new(env, "GPUVISOR_BULK_CTL", json_string(path));
	if (d->sim) {
		snprintf(path, sizeof(path), "%s/libcudasim.so", d->o.lib_dir);
		if (set_path(env, mounts, "GPUVISOR_REAL_LIBCUDA", path, false) < 0 ||
		    set_path(env, mounts, "GPUVISOR_SIM_NODE", d->sim_node_path, false) < 0)
			goto oom;
		/* the NVML interposer (lib/shim/libnvidia-ml.so.1) forwards to
		 * the simulator's NVML, which describes the same node */
		snprintf(path, sizeof(path), "%s/libnvmlsim.so", d->o.lib_dir);
		if (set_path(env, mounts, "GPUVISOR_REAL_LIBNVML", path, false) < 0)
			goto oom;
		/* libcudasim reads the catalog to know the devices' models: the
		 * daemon's own */
		if (realpath(d->o.catalog_path, path) &&
		    set_path(env, mounts, "GPUVISOR_CATALOG", path, false) < 0)
			goto oom;
	} else {
		ret = real_devices(d, in, devs, err);
		if (!ret)
			ret = real_libraries(d, env, mounts, linkdir, err);
		if (ret)
			goto out;
		if (linkdir[0] && add_mount(mounts, linkdir, false) < 0)
			goto oom;
	}
	if (linkdir[0]) {
		char *both = NULL;

		if (asprintf(&both, "%s:%s", shim, linkdir) < 0)
			goto oom;
		json_object_set_new(env, "LD_LIBRARY_PATH_PREPEND", json_string(both));
		free(both);
	} else {
		json_object_set_new(env, "LD_LIBRARY_PATH_PREPEND", json_string(shim));
	}
	out = json_pack("{s:O, s:O, s:O}", "env", env, "mounts", mounts, "devices", devs);
	if (!out)
		gv_err_nomem(err);
	goto out;
oom:
	gv_err_nomem(err);
out:
	json_decref(env);
	json_decref(mounts);
	json_decref(devs);
	return out;
}

/* libnvmlsim: the simulator's NVML (docs/simulator.md, "NVML").
 *
 * A small libnvidia-ml.so.1 for simulated nodes: it describes the devices
 * libcudasim simulates, read the way libcudasim reads them (the node
 * description at $GPUVISOR_SIM_NODE, else the $GPUVISOR_SIM_MODELS spec,
 * else one h100-80gb; models from the catalog, gv_catalog_default_path),
 * and their memory use from the accounting files libcudasim charges
 * (gv_acct_sim_path: device-wide, every process simulating the device).
 * It implements what the NVML interposer (src/nvml) and a typical caller
 * need, with NVML's documented semantics:
 *
 *   nvmlInit, nvmlInit_v2, nvmlInitWithFlags, nvmlShutdown  reference
 *       counted; the node is read at the first init (after a full
 *       shutdown, again); a node that cannot be read -> DRIVER_NOT_LOADED
 *   nvmlErrorString, nvmlSystemGetDriverVersion/NVMLVersion ("gpuvisor-sim")
 *   nvmlDeviceGetCount(_v2), GetHandleByIndex(_v2)  physical GPUs in node
 *       order (MIG devices are not counted, as in NVML)
 *   GetHandleByUUID (GPU- or MIG- UUID), GetHandleByPciBusId(_v2)
 *   GetName, GetUUID, GetIndex, GetPciInfo_v3
 *   GetMemoryInfo(_v2)  total = the device's memory; used = what every
 *       process simulating it holds (a GPU in MIG mode: the sum over its
 *       MIG devices); free = total - used; reserved = 0
 *   GetComputeRunningProcesses (v1, _v2, _v3)  the processes holding
 *       memory in the device's accounting file(s), with their bytes
 *   GetMigMode, IsMigDeviceHandle, GetDeviceHandleFromMigDeviceHandle
 *
 * Every call but init, shutdown and nvmlErrorString returns
 * NVML_ERROR_UNINITIALIZED before nvmlInit; a handle this library did not
 * give out (or one from before the last full shutdown) is
 * NVML_ERROR_INVALID_ARGUMENT. Any other NVML function is absent: a caller
 * that dlsyms it gets NULL, and the interposer turns that into
 * NVML_ERROR_FUNCTION_NOT_FOUND.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpuvisor/acct.h"
#include "gpuvisor/catalog.h"
#include "gpuvisor/nametab.h"
#include "gpuvisor/node.h"
#include "nvml_api.h"

#define NSIM_API __attribute__((visibility("default")))
#define NSIM_MIB (1024ull * 1024ull)
#define NSIM_MAX_DEVS (GV_NODE_MAX_GPUS * (1 + GV_NODE_MAX_MIG))
#define NSIM_VERSION "gpuvisor-sim"

struct nsim_dev {
	char uuid[GV_UUID_MAX];
	char name[GV_NVML_NAME_BUF];
	struct gv_nvml_pci_info pci;
	unsigned long long total;
	int index; /* NVML index of a GPU; -1 for a MIG device */
	bool mig_capable, mig_mode;
	struct nsim_dev *parent;   /* a MIG device's GPU; NULL for a GPU */
	unsigned int gi_id, ci_id; /* MIG: NVML's ids when known */
	char acct[PATH_MAX + 64];  /* libcudasim's accounting file for it */
};

static pthread_mutex_t nsim_lock = PTHREAD_MUTEX_INITIALIZER;
static int nsim_refs;
static struct nsim_dev nsim_devs[NSIM_MAX_DEVS];
static int nsim_n_devs, nsim_n_gpus;

static void nsim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nsim_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "libnvmlsim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void nsim_pci(struct nsim_dev *d, const struct gv_gpu_info *g)
{
	unsigned int dom = 0, bus = 0, dev = 0;

	memset(&d->pci, 0, sizeof(d->pci));
	(void)sscanf(g->pci_bus_id, "%x:%x:%x", &dom, &bus, &dev);
	d->pci.domain = dom;
	d->pci.bus = bus;
	d->pci.device = dev;
	d->pci.pci_device_id = (unsigned int)g->pci_device_id << 16 | 0x10deu;
	snprintf(d->pci.bus_id, sizeof(d->pci.bus_id), "%08X:%02X:%02X.0", dom, bus, dev);
	snprintf(d->pci.bus_id_legacy, sizeof(d->pci.bus_id_legacy), "%04X:%02X:%02X.0",
		 dom & 0xffffu, bus & 0xffu, dev & 0xffu);
}

/* Reads the node as libcudasim does (sim_init.c) into the device table.
 * 0, or a negative errno with the reason logged. */
static int nsim_load(void)
{
	const char *node_path = getenv("GPUVISOR_SIM_NODE");
	const char *models = getenv("GPUVISOR_SIM_MODELS");
	struct gv_node_desc *node = calloc(1, sizeof(*node));
	struct gv_catalog *cat = NULL;
	struct gv_err err = { 0 };
	int rc = 0, n = 0;

	if (!node)
		return -ENOMEM;
	if (!node_path || !*node_path)
		node_path = NULL;
	if (gv_catalog_load(gv_catalog_default_path(), &cat, &err) < 0) {
		nsim_log("catalog: %s", err.msg);
		rc = -EIO;
		goto out;
	}
	if (node_path ? gv_node_load(cat, node_path, node, &err) < 0
		      : gv_node_from_spec(cat, models && *models ? models : "h100-80gb", node,
					  &err) < 0) {
		nsim_log("%s: %s", node_path ? "GPUVISOR_SIM_NODE" : "GPUVISOR_SIM_MODELS",
			 err.msg);
		rc = -EIO;
		goto out;
	}
	memset(nsim_devs, 0, sizeof(nsim_devs));
	nsim_n_gpus = node->n_gpus;
	/* GPUs first, at their NVML index; MIG devices after them */
	for (int i = 0; i < node->n_gpus; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];
		struct nsim_dev *d = &nsim_devs[n++];

		snprintf(d->uuid, sizeof(d->uuid), "%s", g->uuid);
		snprintf(d->name, sizeof(d->name), "%s", g->name);
		nsim_pci(d, g);
		d->total = g->mem_mib * NSIM_MIB;
		d->index = i;
		d->mig_capable = g->mig_capable;
		d->mig_mode = g->mig_mode;
		if (gv_acct_sim_path(node_path, g->uuid, d->acct, sizeof(d->acct)) < 0) {
			nsim_log("%s: accounting file path too long", g->uuid);
			rc = -ENAMETOOLONG;
			goto out;
		}
	}
	for (int i = 0; i < node->n_gpus; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];

		for (int j = 0; g->mig_mode && j < g->n_mig; j++) {
			const struct gv_mig_inst *mi = &g->mig[j];
			struct nsim_dev *d = &nsim_devs[n++];

			snprintf(d->uuid, sizeof(d->uuid), "%s", mi->uuid);
			snprintf(d->name, sizeof(d->name), "%s MIG %s", g->name, mi->profile->name);
			nsim_pci(d, g);
			d->total = mi->profile->fb_mib * NSIM_MIB;
			d->index = -1;
			d->parent = &nsim_devs[i];
			d->gi_id =
				mi->gi_id >= 0 ? (unsigned int)mi->gi_id : GV_NVML_NO_INSTANCE_ID;
			d->ci_id =
				mi->ci_id >= 0 ? (unsigned int)mi->ci_id : GV_NVML_NO_INSTANCE_ID;
			if (gv_acct_sim_path(node_path, mi->uuid, d->acct, sizeof(d->acct)) < 0) {
				nsim_log("%s: accounting file path too long", mi->uuid);
				rc = -ENAMETOOLONG;
				goto out;
			}
		}
	}
	nsim_n_devs = n;
out:
	if (rc < 0)
		nsim_n_devs = nsim_n_gpus = 0;
	free(node);
	gv_catalog_free(cat);
	return rc;
}

static gv_nvml_ret nsim_init(void)
{
	gv_nvml_ret r = GV_NVML_SUCCESS;

	pthread_mutex_lock(&nsim_lock);
	if (nsim_refs == 0 && nsim_load() < 0)
		r = GV_NVML_ERROR_DRIVER_NOT_LOADED;
	else
		nsim_refs++;
	pthread_mutex_unlock(&nsim_lock);
	return r;
}

NSIM_API gv_nvml_ret nvmlInit_v2(void)
{
	return nsim_init();
}

NSIM_API gv_nvml_ret nvmlInit(void)
{
	return nsim_init();
}

/* flags (NVML_INIT_FLAG_NO_GPUS, _NO_ATTACH) change nothing here: there is
 * nothing to attach, and a node always has a GPU. */
NSIM_API gv_nvml_ret nvmlInitWithFlags(unsigned int flags)
{
	(void)flags;
	return nsim_init();
}

NSIM_API gv_nvml_ret nvmlShutdown(void)
{
	gv_nvml_ret r = GV_NVML_SUCCESS;

	pthread_mutex_lock(&nsim_lock);
	if (nsim_refs == 0)
		r = GV_NVML_ERROR_UNINITIALIZED;
	else
		nsim_refs--;
	pthread_mutex_unlock(&nsim_lock);
	return r;
}

static bool nsim_ready(void)
{
	return __atomic_load_n(&nsim_refs, __ATOMIC_ACQUIRE) > 0;
}

/* The device behind a handle this library gave out, or NULL. */
static struct nsim_dev *nsim_dev_of(gv_nvml_device h)
{
	uintptr_t p = (uintptr_t)h, lo = (uintptr_t)&nsim_devs[0];

	if (p < lo || p >= (uintptr_t)&nsim_devs[nsim_n_devs] ||
	    (p - lo) % sizeof(struct nsim_dev) != 0)
		return NULL;
	return (struct nsim_dev *)h;
}

/* The common prologue: NVML initialised and a valid handle. */
#define NSIM_DEV(h, d)                                         \
	do {                                                   \
		if (!nsim_ready())                             \
			return GV_NVML_ERROR_UNINITIALIZED;    \
		(d) = nsim_dev_of(h);                          \
		if (!(d))                                      \
			return GV_NVML_ERROR_INVALID_ARGUMENT; \
	} while (0)

static gv_nvml_ret nsim_str(const char *s, char *out, unsigned int length)
{
	if (!out)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	if (strlen(s) + 1 > length)
		return GV_NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(out, s, strlen(s) + 1);
	return GV_NVML_SUCCESS;
}

/* NVML's own words for its return codes; "Unknown Error" for any other. */
static const struct gv_nametab nvml_error_strings[] = {
	{ GV_NVML_SUCCESS, "Success" },
	{ GV_NVML_ERROR_UNINITIALIZED, "Uninitialized" },
	{ GV_NVML_ERROR_INVALID_ARGUMENT, "Invalid Argument" },
	{ GV_NVML_ERROR_NOT_SUPPORTED, "Not Supported" },
	{ GV_NVML_ERROR_NO_PERMISSION, "Insufficient Permissions" },
	{ GV_NVML_ERROR_ALREADY_INITIALIZED, "Already Initialized" },
	{ GV_NVML_ERROR_NOT_FOUND, "Not Found" },
	{ GV_NVML_ERROR_INSUFFICIENT_SIZE, "Insufficient Size" },
	{ GV_NVML_ERROR_DRIVER_NOT_LOADED, "Driver Not Loaded" },
	{ GV_NVML_ERROR_TIMEOUT, "Timeout" },
	{ GV_NVML_ERROR_LIBRARY_NOT_FOUND, "NVML Shared Library Not Found" },
	{ GV_NVML_ERROR_FUNCTION_NOT_FOUND, "Function Not Found" },
	{ GV_NVML_ERROR_GPU_IS_LOST, "GPU is lost" },
	{ GV_NVML_ERROR_OPERATING_SYSTEM, "The operating system has blocked the request" },
	{ GV_NVML_ERROR_IN_USE, "In use by another client" },
	{ GV_NVML_ERROR_MEMORY, "Insufficient Memory" },
	{ GV_NVML_ERROR_NO_DATA, "No data" },
	{ GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH, "Argument version mismatch" },
};

NSIM_API const char *nvmlErrorString(gv_nvml_ret result)
{
	return gv_nametab_name(nvml_error_strings, GV_NAMETAB_N(nvml_error_strings), (int)result,
			       "Unknown Error");
}

NSIM_API gv_nvml_ret nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	return nsim_str(NSIM_VERSION, version, length);
}

NSIM_API gv_nvml_ret nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	return nsim_str(NSIM_VERSION, version, length);
}

NSIM_API gv_nvml_ret nvmlDeviceGetCount_v2(unsigned int *count)
{
	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	if (!count)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*count = (unsigned int)nsim_n_gpus;
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceGetCount(unsigned int *count)
{
	return nvmlDeviceGetCount_v2(count);
}

NSIM_API gv_nvml_ret nvmlDeviceGetHandleByIndex_v2(unsigned int index, gv_nvml_device *device)
{
	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	if (!device || index >= (unsigned int)nsim_n_gpus)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*device = (gv_nvml_device)&nsim_devs[index];
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceGetHandleByIndex(unsigned int index, gv_nvml_device *device)
{
	return nvmlDeviceGetHandleByIndex_v2(index, device);
}

NSIM_API gv_nvml_ret nvmlDeviceGetHandleByUUID(const char *uuid, gv_nvml_device *device)
{
	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	if (!uuid || !device)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	for (int i = 0; i < nsim_n_devs; i++)
		if (!strcasecmp(nsim_devs[i].uuid, uuid)) {
			*device = (gv_nvml_device)&nsim_devs[i];
			return GV_NVML_SUCCESS;
		}
	return GV_NVML_ERROR_NOT_FOUND;
}

/* "domain:bus:device.function" in any of NVML's spellings
 * ("00000000:10:00.0", "0000:10:00.0", "10:00.0" with domain 0). */
static int nsim_parse_bus(const char *s, unsigned int *dom, unsigned int *bus, unsigned int *dev)
{
	unsigned int fn = 0;

	*dom = 0;
	if (sscanf(s, "%x:%x:%x.%x", dom, bus, dev, &fn) == 4)
		return 0;
	*dom = 0;
	return sscanf(s, "%x:%x.%x", bus, dev, &fn) == 3 ? 0 : -EINVAL;
}

NSIM_API gv_nvml_ret nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, gv_nvml_device *device)
{
	unsigned int dom, bus, dev;

	if (!nsim_ready())
		return GV_NVML_ERROR_UNINITIALIZED;
	if (!bus_id || !device || nsim_parse_bus(bus_id, &dom, &bus, &dev) < 0)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	for (int i = 0; i < nsim_n_gpus; i++) {
		const struct gv_nvml_pci_info *p = &nsim_devs[i].pci;

		if (p->domain == dom && p->bus == bus && p->device == dev) {
			*device = (gv_nvml_device)&nsim_devs[i];
			return GV_NVML_SUCCESS;
		}
	}
	return GV_NVML_ERROR_NOT_FOUND;
}

NSIM_API gv_nvml_ret nvmlDeviceGetHandleByPciBusId(const char *bus_id, gv_nvml_device *device)
{
	return nvmlDeviceGetHandleByPciBusId_v2(bus_id, device);
}

NSIM_API gv_nvml_ret nvmlDeviceGetName(gv_nvml_device device, char *name, unsigned int length)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	return nsim_str(d->name, name, length);
}

NSIM_API gv_nvml_ret nvmlDeviceGetUUID(gv_nvml_device device, char *uuid, unsigned int length)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	return nsim_str(d->uuid, uuid, length);
}

/* A MIG device has no index of its own among the GPUs. */
NSIM_API gv_nvml_ret nvmlDeviceGetIndex(gv_nvml_device device, unsigned int *index)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!index)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	if (d->parent)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	*index = (unsigned int)d->index;
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceGetPciInfo_v3(gv_nvml_device device, struct gv_nvml_pci_info *pci)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!pci)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*pci = d->pci;
	return GV_NVML_SUCCESS;
}

/* The accounting files whose use is d's: its own, or for a GPU in MIG mode
 * those of its MIG devices. Returns how many were written to out. */
static int nsim_acct_files(const struct nsim_dev *d, const struct nsim_dev **out, int max)
{
	int n = 0;

	if (!d->mig_mode) {
		out[n++] = d;
		return n;
	}
	for (int i = nsim_n_gpus; i < nsim_n_devs && n < max; i++)
		if (nsim_devs[i].parent == d)
			out[n++] = &nsim_devs[i];
	return n;
}

/* Bytes held in f's accounting file (0 when no process has simulated the
 * device yet: the file does not exist). */
static unsigned long long nsim_used_in(const struct nsim_dev *f)
{
	struct gv_err err = { 0 };
	struct gv_acct *a = NULL;
	unsigned long long used;

	if (gv_acct_open(f->acct, &a, &err) < 0)
		return 0;
	used = gv_acct_used(a);
	gv_acct_close(a);
	return used;
}

static unsigned long long nsim_used(const struct nsim_dev *d)
{
	const struct nsim_dev *files[GV_NODE_MAX_MIG + 1];
	unsigned long long used = 0;
	int n = nsim_acct_files(d, files, GV_NODE_MAX_MIG + 1);

	for (int i = 0; i < n; i++)
		used += nsim_used_in(files[i]);
	return used;
}

NSIM_API gv_nvml_ret nvmlDeviceGetMemoryInfo(gv_nvml_device device, struct gv_nvml_memory *memory)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!memory)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	memory->total = d->total;
	memory->used = nsim_used(d);
	memory->free = memory->used >= d->total ? 0 : d->total - memory->used;
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceGetMemoryInfo_v2(gv_nvml_device device,
						struct gv_nvml_memory_v2 *memory)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!memory)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	if (memory->version != GV_NVML_MEMORY_V2)
		return GV_NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	memory->total = d->total;
	memory->reserved = 0;
	memory->used = nsim_used(d);
	memory->free = memory->used >= d->total ? 0 : d->total - memory->used;
	return GV_NVML_SUCCESS;
}

/* The processes holding memory on d, into out (at most max, NULL when max
 * is 0); returns how many there are. A process on several MIG devices of a
 * GPU appears once per device, as NVML lists it per instance. */
static unsigned int nsim_procs(const struct nsim_dev *d, struct gv_nvml_process *out,
			       unsigned int max)
{
	const struct nsim_dev *files[GV_NODE_MAX_MIG + 1];
	struct gv_acct_usage *u = calloc(GV_ACCT_SLOTS, sizeof(*u));
	int n_files = nsim_acct_files(d, files, GV_NODE_MAX_MIG + 1);
	unsigned int n = 0;

	for (int f = 0; f < n_files && u; f++) {
		struct gv_err err = { 0 };
		struct gv_acct *a = NULL;
		int k;

		if (gv_acct_open(files[f]->acct, &a, &err) < 0)
			continue;
		gv_acct_used(a); /* reclaims dead processes first */
		k = gv_acct_slots(a, u, GV_ACCT_SLOTS);
		gv_acct_close(a);
		for (int i = 0; i < k && i < GV_ACCT_SLOTS; i++) {
			if (!u[i].bytes)
				continue; /* no context, nothing held: not running on it */
			if (n < max) {
				out[n].pid = (unsigned int)u[i].pid;
				out[n].used_gpu_memory = u[i].bytes;
				out[n].gpu_instance_id =
					files[f]->parent ? files[f]->gi_id : GV_NVML_NO_INSTANCE_ID;
				out[n].compute_instance_id =
					files[f]->parent ? files[f]->ci_id : GV_NVML_NO_INSTANCE_ID;
			}
			n++;
		}
	}
	free(u);
	return n;
}

/* NVML's contract: *count in = the room in infos, out = how many there
 * are; INSUFFICIENT_SIZE (with the number needed) when they do not fit;
 * infos may be NULL only with *count 0. elem is the caller's struct size. */
static gv_nvml_ret nsim_running(gv_nvml_device device, unsigned int *count, void *infos,
				size_t elem)
{
	struct gv_nvml_process *all = NULL;
	struct nsim_dev *d;
	unsigned int n;
	gv_nvml_ret r = GV_NVML_SUCCESS;

	NSIM_DEV(device, d);
	if (!count || (*count && !infos))
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	n = nsim_procs(d, NULL, 0);
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return GV_NVML_ERROR_MEMORY;
	n = nsim_procs(d, all, n); /* fewer if some exited since */
	if (*count < n) {
		*count = n;
		r = GV_NVML_ERROR_INSUFFICIENT_SIZE;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned char *e = (unsigned char *)infos + i * elem;

		if (elem == sizeof(struct gv_nvml_process_v1)) {
			struct gv_nvml_process_v1 v1 = { all[i].pid, all[i].used_gpu_memory };

			memcpy(e, &v1, sizeof(v1));
		} else {
			memcpy(e, &all[i], sizeof(all[i]));
		}
	}
	*count = n;
out:
	free(all);
	return r;
}

NSIM_API gv_nvml_ret nvmlDeviceGetComputeRunningProcesses(gv_nvml_device device,
							  unsigned int *count,
							  struct gv_nvml_process_v1 *infos)
{
	return nsim_running(device, count, infos, sizeof(*infos));
}

NSIM_API gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v2(gv_nvml_device device,
							     unsigned int *count,
							     struct gv_nvml_process *infos)
{
	return nsim_running(device, count, infos, sizeof(*infos));
}

NSIM_API gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v3(gv_nvml_device device,
							     unsigned int *count,
							     struct gv_nvml_process *infos)
{
	return nsim_running(device, count, infos, sizeof(*infos));
}

NSIM_API gv_nvml_ret nvmlDeviceGetMigMode(gv_nvml_device device, unsigned int *current,
					  unsigned int *pending)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!current || !pending || d->parent)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	if (!d->mig_capable)
		return GV_NVML_ERROR_NOT_SUPPORTED;
	*current = *pending = d->mig_mode ? GV_NVML_MIG_ENABLE : GV_NVML_MIG_DISABLE;
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceIsMigDeviceHandle(gv_nvml_device device, unsigned int *is_mig)
{
	struct nsim_dev *d;

	NSIM_DEV(device, d);
	if (!is_mig)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*is_mig = d->parent != NULL;
	return GV_NVML_SUCCESS;
}

NSIM_API gv_nvml_ret nvmlDeviceGetDeviceHandleFromMigDeviceHandle(gv_nvml_device mig,
								  gv_nvml_device *device)
{
	struct nsim_dev *d;

	NSIM_DEV(mig, d);
	if (!device || !d->parent)
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	*device = (gv_nvml_device)d->parent;
	return GV_NVML_SUCCESS;
}

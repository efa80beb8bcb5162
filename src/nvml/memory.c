/* The instance's memory, as NVML callers see it.
 *
 * In a timeslice instance ($GPUVISOR_ACCT set, the CUDA shim's accounting
 * file, with the limit from $GPUVISOR_LIMIT: include/gpuvisor/acct.h), for
 * the instance's GPU:
 *
 *   nvmlDeviceGetMemoryInfo(_v2)   total = the partition (the limit the
 *                                  shim enforces), used = what every
 *                                  process of the instance holds (the
 *                                  accounting file's total, dead processes
 *                                  reclaimed first), free = total - used
 *                                  (0 when over); _v2's reserved = 0
 *   nvmlDeviceGetComputeRunningProcesses (v1, _v2, _v3)
 *                                  the real list, keeping only processes
 *                                  whose pids hold slots in the accounting
 *                                  file, each with the bytes it holds there
 *
 * so that the figures agree with each other and with cuMemGetInfo under
 * the shim. The real NVML is always asked first: a bad handle, a NULL or a
 * wrong struct version get its error, and nothing is written unless it
 * succeeded. An accounting or limit file that is named but unusable fails
 * closed, as in the CUDA shim: 0 bytes total, no process. Without
 * $GPUVISOR_ACCT (passthrough, MIG: the device itself is the instance's)
 * and outside an instance everything forwards unchanged.
 */
#include "nvml_shim.h"

#include <stdlib.h>
#include <string.h>

#include "gpuvisor/acct.h"

static bool gv_part_on;		/* $GPUVISOR_ACCT named */
static struct gv_acct *gv_acct; /* NULL when named but unusable */

void gv_nvml_part_init(void)
{
	const char *path = getenv("GPUVISOR_ACCT"), *limit = getenv("GPUVISOR_LIMIT");
	const char *inst = getenv("GPUVISOR_INSTANCE");
	struct gv_err err = { 0 };

	if (!inst || !*inst || !path || !*path)
		return;
	gv_part_on = true;
	if (gv_acct_open(path, &gv_acct, &err) < 0) {
		gv_nvml_log(false, "GPUVISOR_ACCT: %s; NVML reports 0 bytes", err.msg);
		return;
	}
	if (limit && *limit && gv_acct_use_limit_file(gv_acct, limit, &err) < 0) {
		gv_nvml_log(false, "GPUVISOR_LIMIT: %s; NVML reports 0 bytes", err.msg);
		gv_acct_close(gv_acct);
		gv_acct = NULL;
	}
}

/* True when the partition's figures replace the real ones for device. */
static bool gv_partitioned(gv_nvml_device device)
{
	return gv_part_on && gv_nvml_in_instance() && gv_nvml_inst_is(device);
}

static void gv_part_figures(unsigned long long *total, unsigned long long *used,
			    unsigned long long *free_b)
{
	*total = gv_acct ? gv_acct_limit(gv_acct) : 0;
	*used = gv_acct ? gv_acct_used(gv_acct) : 0;
	*free_b = *used >= *total ? 0 : *total - *used;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetMemoryInfo(gv_nvml_device device, struct gv_nvml_memory *memory)
{
	gv_nvml_ret r;

	gv_nvml_init();
	r = GV_NREAL(nvmlDeviceGetMemoryInfo)(device, memory);
	if (r == GV_NVML_SUCCESS && gv_partitioned(device))
		gv_part_figures(&memory->total, &memory->used, &memory->free);
	return r;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetMemoryInfo_v2(gv_nvml_device device,
						 struct gv_nvml_memory_v2 *memory)
{
	gv_nvml_ret r;

	gv_nvml_init();
	r = GV_NREAL(nvmlDeviceGetMemoryInfo_v2)(device, memory);
	if (r == GV_NVML_SUCCESS && gv_partitioned(device)) {
		gv_part_figures(&memory->total, &memory->used, &memory->free);
		memory->reserved = 0;
	}
	return r;
}

/* The bytes pid holds in the accounting file, or -1 when it holds no slot. */
static long long gv_slot_bytes(const struct gv_acct_usage *u, int n, unsigned int pid)
{
	for (int i = 0; i < n; i++)
		if ((unsigned int)u[i].pid == pid)
			return (long long)u[i].bytes;
	return -1;
}

/* The real process list for any struct version: entries of elem bytes,
 * pid at offset 0 and usedGpuMemory at offset 8 in every version. The
 * three entry points differ only in the element type their last argument
 * points to, so one untyped signature calls each (taken from the raw slot,
 * not through a cast of its typed prototype). */
typedef gv_nvml_ret (*gv_procs_fn)(gv_nvml_device, unsigned int *, void *);

static gv_nvml_ret gv_procs(gv_procs_fn real, size_t elem, gv_nvml_device device,
			    unsigned int *count, void *infos)
{
	struct gv_acct_usage *slots = NULL;
	unsigned char *buf = NULL;
	unsigned int cap = 0, n = 0, kept = 0;
	gv_nvml_ret r;
	int n_slots = 0;

	if (!gv_partitioned(device))
		return real(device, count, infos);
	if (!count || (*count && !infos))
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	/* the real list, into a buffer of our own; processes may start
	 * between the calls, so grow and retry a few times */
	for (int tries = 0; tries < 8; tries++) {
		n = cap;
		r = real(device, &n, buf);
		if (r != GV_NVML_ERROR_INSUFFICIENT_SIZE)
			break;
		cap = n + 8;
		free(buf);
		buf = calloc(cap, elem);
		if (!buf) {
			r = GV_NVML_ERROR_MEMORY;
			goto out;
		}
	}
	if (r != GV_NVML_SUCCESS)
		goto out;
	if (gv_acct) {
		slots = calloc(GV_ACCT_SLOTS, sizeof(*slots));
		if (!slots) {
			r = GV_NVML_ERROR_MEMORY;
			goto out;
		}
		gv_acct_used(gv_acct); /* reclaims dead processes first */
		n_slots = gv_acct_slots(gv_acct, slots, GV_ACCT_SLOTS);
		if (n_slots > GV_ACCT_SLOTS)
			n_slots = GV_ACCT_SLOTS;
	}
	/* keep the instance's processes, in place, with their charged bytes */
	for (unsigned int i = 0; i < n && buf; i++) {
		unsigned char *e = buf + (size_t)i * elem;
		unsigned int pid;
		unsigned long long used;
		long long held;

		memcpy(&pid, e, sizeof(pid));
		held = gv_slot_bytes(slots, n_slots, pid);
		if (held < 0)
			continue;
		used = (unsigned long long)held;
		memcpy(e + 8, &used, sizeof(used));
		memmove(buf + (size_t)kept * elem, e, elem);
		kept++;
	}
	if (*count < kept) {
		*count = kept;
		r = GV_NVML_ERROR_INSUFFICIENT_SIZE;
		goto out;
	}
	if (kept)
		memcpy(infos, buf, (size_t)kept * elem);
	*count = kept;
	r = GV_NVML_SUCCESS;
out:
	free(buf);
	free(slots);
	return r;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetComputeRunningProcesses(gv_nvml_device device,
							   unsigned int *count,
							   struct gv_nvml_process_v1 *infos)
{
	gv_nvml_init();
	return gv_procs((gv_procs_fn)gv_nvml_real[GV_NVML_SYM_nvmlDeviceGetComputeRunningProcesses],
			sizeof(*infos), device, count, infos);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v2(gv_nvml_device device,
							      unsigned int *count,
							      struct gv_nvml_process *infos)
{
	gv_nvml_init();
	return gv_procs(
		(gv_procs_fn)gv_nvml_real[GV_NVML_SYM_nvmlDeviceGetComputeRunningProcesses_v2],
		sizeof(*infos), device, count, infos);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetComputeRunningProcesses_v3(gv_nvml_device device,
							      unsigned int *count,
							      struct gv_nvml_process *infos)
{
	gv_nvml_init();
	return gv_procs(
		(gv_procs_fn)gv_nvml_real[GV_NVML_SYM_nvmlDeviceGetComputeRunningProcesses_v3],
		sizeof(*infos), device, count, infos);
}

/* Only the instance's GPU exists.
 *
 * Inside an instance ($GPUVISOR_INSTANCE set, as `gpuvisor run` and a CDI
 * device set it) the instance's GPU is the one the first entry of
 * $CUDA_VISIBLE_DEVICES names: a GPU- UUID (passthrough, timeslice), a
 * MIG- UUID (MIG: the GPU is the MIG device's parent), or an index, read as
 * the real NVML's index (NVML enumerates in PCI order, as CUDA does with
 * CUDA_DEVICE_ORDER=PCI_BUS_ID; the daemon always gives a UUID). Then:
 *
 *   nvmlDeviceGetCount(_v2)         1 (0 when that GPU is not there)
 *   nvmlDeviceGetHandleByIndex(_v2) index 0 is that GPU; any other index
 *                                   is NVML_ERROR_INVALID_ARGUMENT, as NVML
 *                                   documents for an index out of range
 *   ...ByUUID(V), ByPciBusId(_v2),  the real lookup, then any other GPU is
 *   BySerial                        NVML_ERROR_NOT_FOUND ("does not match a
 *                                   valid device on the system")
 *   nvmlDeviceGetIndex              0 for that GPU
 *
 * The real NVML is always asked first, so a NULL argument or a library that
 * was not initialised gets its own error. The GPU is looked up again on
 * every call (one or two real calls), so nvmlShutdown / nvmlInit cycles
 * need nothing here. When the GPU cannot be found the process sees no GPU
 * (fail closed, said once on stderr): a tenant must not see the others.
 * Outside an instance every call forwards unchanged.
 */
#include "nvml_shim.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t gv_env_once = PTHREAD_ONCE_INIT;
static bool gv_inside;
static char gv_gpu_tok[128]; /* first entry of CUDA_VISIBLE_DEVICES */
static atomic_bool gv_missing_logged;

static void gv_env_read(void)
{
	const char *inst = getenv("GPUVISOR_INSTANCE");
	const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
	size_t n;

	gv_inside = inst && *inst;
	if (!gv_inside || !cvd)
		return;
	while (*cvd == ' ')
		cvd++;
	n = strcspn(cvd, ", ");
	if (n < sizeof(gv_gpu_tok)) {
		memcpy(gv_gpu_tok, cvd, n);
		gv_gpu_tok[n] = '\0';
	}
}

bool gv_nvml_in_instance(void)
{
	pthread_once(&gv_env_once, gv_env_read);
	return gv_inside;
}

static gv_nvml_ret gv_not_there(const char *why)
{
	if (!atomic_exchange(&gv_missing_logged, true))
		gv_nvml_log(false, "instance %s: %s; NVML shows no GPU",
			    getenv("GPUVISOR_INSTANCE"), why);
	return GV_NVML_ERROR_NOT_FOUND;
}

gv_nvml_ret gv_nvml_inst_gpu(gv_nvml_device *gpu, gv_nvml_device *mig)
{
	gv_nvml_device h = NULL;
	gv_nvml_ret r;
	char *end;
	unsigned long idx;

	*gpu = NULL;
	*mig = NULL;
	gv_nvml_init();
	if (!gv_nvml_in_instance() || !gv_gpu_tok[0])
		return gv_not_there("CUDA_VISIBLE_DEVICES names no GPU");
	if (!strncasecmp(gv_gpu_tok, "GPU-", 4) || !strncasecmp(gv_gpu_tok, "MIG-", 4)) {
		r = GV_NREAL(nvmlDeviceGetHandleByUUID)(gv_gpu_tok, &h);
		if (r == GV_NVML_SUCCESS && toupper((unsigned char)gv_gpu_tok[0]) == 'M') {
			*mig = h;
			r = GV_NREAL(nvmlDeviceGetDeviceHandleFromMigDeviceHandle)(*mig, &h);
		}
	} else {
		idx = strtoul(gv_gpu_tok, &end, 10);
		if (*end || end == gv_gpu_tok)
			return gv_not_there("CUDA_VISIBLE_DEVICES names no GPU");
		r = GV_NREAL(nvmlDeviceGetHandleByIndex_v2)((unsigned int)idx, &h);
	}
	if (r == GV_NVML_ERROR_NOT_FOUND || r == GV_NVML_ERROR_INVALID_ARGUMENT) {
		*mig = NULL;
		return gv_not_there("the GPU in CUDA_VISIBLE_DEVICES is not on this node");
	}
	if (r != GV_NVML_SUCCESS) {
		*mig = NULL;
		return r;
	}
	*gpu = h;
	return GV_NVML_SUCCESS;
}

bool gv_nvml_inst_is(gv_nvml_device h)
{
	gv_nvml_device gpu, mig;

	if (!h || gv_nvml_inst_gpu(&gpu, &mig) != GV_NVML_SUCCESS)
		return false;
	return h == gpu || (mig && h == mig);
}

static gv_nvml_ret gv_count(gv_nvml_ret (*real)(unsigned int *), unsigned int *count)
{
	gv_nvml_device gpu, mig;
	gv_nvml_ret r = real(count);

	if (r != GV_NVML_SUCCESS || !gv_nvml_in_instance())
		return r;
	r = gv_nvml_inst_gpu(&gpu, &mig);
	if (r == GV_NVML_ERROR_NOT_FOUND) {
		*count = 0;
		return GV_NVML_SUCCESS;
	}
	if (r == GV_NVML_SUCCESS)
		*count = 1;
	return r;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetCount_v2(unsigned int *count)
{
	gv_nvml_init();
	return gv_count(GV_NREAL(nvmlDeviceGetCount_v2), count);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetCount(unsigned int *count)
{
	gv_nvml_init();
	return gv_count(GV_NREAL(nvmlDeviceGetCount), count);
}

static gv_nvml_ret gv_by_index(gv_nvml_ret (*real)(unsigned int, gv_nvml_device *),
			       unsigned int index, gv_nvml_device *device)
{
	gv_nvml_device gpu, mig;
	gv_nvml_ret r;

	if (!gv_nvml_in_instance())
		return real(index, device);
	/* the real call checks the arguments and the library's state; its
	 * answer for the index itself is replaced below */
	r = real(0, device);
	if (r != GV_NVML_SUCCESS)
		return r;
	*device = NULL;
	r = gv_nvml_inst_gpu(&gpu, &mig);
	if (r == GV_NVML_ERROR_NOT_FOUND || (r == GV_NVML_SUCCESS && index != 0))
		return GV_NVML_ERROR_INVALID_ARGUMENT;
	if (r == GV_NVML_SUCCESS)
		*device = gpu;
	return r;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByIndex_v2(unsigned int index, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_by_index(GV_NREAL(nvmlDeviceGetHandleByIndex_v2), index, device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByIndex(unsigned int index, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_by_index(GV_NREAL(nvmlDeviceGetHandleByIndex), index, device);
}

/* A lookup the real NVML answered: inside an instance, another GPU is not
 * there. */
static gv_nvml_ret gv_only_mine(gv_nvml_ret r, gv_nvml_device *device)
{
	if (r != GV_NVML_SUCCESS || !gv_nvml_in_instance() || gv_nvml_inst_is(*device))
		return r;
	*device = NULL;
	return GV_NVML_ERROR_NOT_FOUND;
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByUUID(const char *uuid, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_only_mine(GV_NREAL(nvmlDeviceGetHandleByUUID)(uuid, device), device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByUUIDV(const struct gv_nvml_uuid_v *uuid,
						 gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_only_mine(GV_NREAL(nvmlDeviceGetHandleByUUIDV)(uuid, device), device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_only_mine(GV_NREAL(nvmlDeviceGetHandleByPciBusId_v2)(bus_id, device), device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleByPciBusId(const char *bus_id, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_only_mine(GV_NREAL(nvmlDeviceGetHandleByPciBusId)(bus_id, device), device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetHandleBySerial(const char *serial, gv_nvml_device *device)
{
	gv_nvml_init();
	return gv_only_mine(GV_NREAL(nvmlDeviceGetHandleBySerial)(serial, device), device);
}

GV_EXPORT gv_nvml_ret nvmlDeviceGetIndex(gv_nvml_device device, unsigned int *index)
{
	gv_nvml_device gpu, mig;
	gv_nvml_ret r;

	gv_nvml_init();
	r = GV_NREAL(nvmlDeviceGetIndex)(device, index);
	if (r != GV_NVML_SUCCESS || !gv_nvml_in_instance())
		return r;
	if (gv_nvml_inst_gpu(&gpu, &mig) == GV_NVML_SUCCESS && device == gpu)
		*index = 0;
	return r;
}

/* Migration mode, wrappers: init, devices and the entry point lookup.
 *
 * cuInit picks the device in use ($GPUVISOR_DEVICE, else the first) and
 * starts the control thread; the device queries see one device, ordinal 0,
 * which is the device in use (DEV). cuGetProcAddress hands out the
 * migration layer's replacement for a name the shim does not intercept in
 * C. The contract every wrapper keeps is in mig_wrap_internal.h.
 */
#include "mig_wrap_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* --- init and devices */

static CUresult w_cuInit(unsigned flags)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	CUresult r = MREAL(cuInit)(flags);
	const char *want = getenv("GPUVISOR_DEVICE");

	if (r != CUDA_SUCCESS)
		return r;
	if (!gv_mig_dev_uuid[0]) {
		CUuuid u;
		int d = want && *want ? gv_mig_find_uuid(want) : 0;

		if (d < 0) {
			gv_shim_log(false, "GPUVISOR_DEVICE=%s is not a visible device", want);
			return CUDA_ERROR_NO_DEVICE;
		}
		atomic_store(&gv_mig_dev, d);
		if (want && *want)
			snprintf(gv_mig_dev_uuid, sizeof(gv_mig_dev_uuid), "%s", want);
		else if (MREAL(cuDeviceGetUuid_v2)(&u, d) == CUDA_SUCCESS)
			gv_mig_uuid_str(&u, "GPU-", gv_mig_dev_uuid, sizeof(gv_mig_dev_uuid));
	}
	pthread_once(&once, gv_mig_ctl_start);
	return r;
}

static CUresult w_cuDeviceGetCount(int *count)
{
	CUresult r = MREAL(cuDeviceGetCount)(count);

	if (r == CUDA_SUCCESS && *count > 1)
		*count = 1;
	return r;
}

static CUresult w_cuDeviceGet(CUdevice *dev, int ordinal)
{
	CUdevice d;
	CUresult r;

	if (ordinal != 0)
		return MREAL(cuDeviceGet)(dev, -1); /* the driver's error */
	r = MREAL(cuDeviceGet)(&d, DEV(0));
	if (r == CUDA_SUCCESS && dev)
		*dev = 0;
	else if (r == CUDA_SUCCESS)
		r = CUDA_ERROR_INVALID_VALUE;
	return r;
}

static CUresult w_cuDeviceGetAttribute(int *pi, CUdevice_attribute a, CUdevice d)
{
	return MREAL(cuDeviceGetAttribute)(pi, a, DEV(d));
}

static CUresult w_cuDeviceGetName(char *name, int len, CUdevice d)
{
	return MREAL(cuDeviceGetName)(name, len, DEV(d));
}

static CUresult w_cuDeviceGetUuid(CUuuid *u, CUdevice d)
{
	return MREAL(cuDeviceGetUuid)(u, DEV(d));
}

static CUresult w_cuDeviceGetUuid_v2(CUuuid *u, CUdevice d)
{
	return MREAL(cuDeviceGetUuid_v2)(u, DEV(d));
}

static CUresult w_cuDeviceTotalMem_v2(size_t *b, CUdevice d)
{
	return MREAL(cuDeviceTotalMem_v2)(b, DEV(d));
}

static CUresult w_cuDeviceComputeCapability(int *ma, int *mi, CUdevice d)
{
	return MREAL(cuDeviceComputeCapability)(ma, mi, DEV(d));
}

/* --- entry point lookup: a driver pointer whose slot the migration layer
 * replaced, for a name the shim does not intercept in C, becomes the
 * replacement (procaddr.c maps the intercepted ones to the shim's C
 * function, which reaches the replacement through GV_REAL). */

static void map_pfn(void **pfn)
{
	int i;

	if (!pfn || !*pfn)
		return;
	i = gv_shim_lookup_real(*pfn);
	if (i >= 0 && !gv_shim_hook[i] && gv_shim_real[i] != gv_mig_real[i])
		*pfn = gv_shim_real[i];
}

static CUresult w_cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
				      CUdriverProcAddressQueryResult *st)
{
	CUresult r = MREAL(cuGetProcAddress_v2)(sym, pfn, ver, flags, st);

	if (r == CUDA_SUCCESS)
		map_pfn(pfn);
	return r;
}

static CUresult w_cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags)
{
	CUresult r = MREAL(cuGetProcAddress)(sym, pfn, ver, flags);

	if (r == CUDA_SUCCESS)
		map_pfn(pfn);
	return r;
}

const struct gv_mig_wrap_ent gv_mig_wrap_device[] = {
	W(cuInit),
	W(cuDeviceGetCount),
	W(cuDeviceGet),
	W(cuDeviceGetAttribute),
	W(cuDeviceGetName),
	W(cuDeviceGetUuid),
	W(cuDeviceGetUuid_v2),
	W(cuDeviceTotalMem_v2),
	W(cuDeviceComputeCapability),
	W(cuGetProcAddress_v2),
	W(cuGetProcAddress),
	W_END,
};

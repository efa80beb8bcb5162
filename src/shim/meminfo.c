/* What the workload is told about memory: with the partition on,
 * cuMemGetInfo reports total = the instance's framebuffer and free = total
 * minus what every process of the instance has charged, and
 * cuDeviceTotalMem reports at most the framebuffer (frameworks size caches
 * from either). The real driver is always asked first, so missing
 * arguments, no current context or an invalid device get the driver's own
 * error, and nothing is written unless it succeeded.
 */
#include "shim_internal.h"

#include <limits.h>

GV_EXPORT CUresult CUDAAPI cuMemGetInfo_v2(size_t *free, size_t *total)
{
	uint64_t f, t;
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuMemGetInfo_v2)(free, total);
	if (r != CUDA_SUCCESS || GV_PART_OFF())
		return r;
	gv_part_info(&f, &t);
	if (free)
		*free = f;
	if (total)
		*total = t;
	return r;
}

GV_EXPORT CUresult CUDAAPI cuMemGetInfo(unsigned int *free, unsigned int *total)
{
	uint64_t f, t;
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuMemGetInfo)(free, total);
	if (r != CUDA_SUCCESS || GV_PART_OFF())
		return r;
	gv_part_info(&f, &t);
	if (free)
		*free = f > UINT_MAX ? UINT_MAX : (unsigned int)f;
	if (total)
		*total = t > UINT_MAX ? UINT_MAX : (unsigned int)t;
	return r;
}

GV_EXPORT CUresult CUDAAPI cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuDeviceTotalMem_v2)(bytes, dev);
	if (r == CUDA_SUCCESS && gv_part_on() && bytes && *bytes > gv_part_limit())
		*bytes = gv_part_limit();
	return r;
}

GV_EXPORT CUresult CUDAAPI cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuDeviceTotalMem)(bytes, dev);
	if (r == CUDA_SUCCESS && gv_part_on() && bytes && *bytes > gv_part_limit())
		*bytes = (unsigned int)gv_part_limit();
	return r;
}

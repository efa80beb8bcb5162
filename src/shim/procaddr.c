/* cuGetProcAddress: how the CUDA runtime (and anything else that looks
 * entry points up by name) reaches the driver.
 *
 * The real driver answers first, so the choice among versioned variants
 * (base name + cudaVersion + per-thread-stream flag) is exactly the
 * driver's. The pointer it returns is then mapped back to the exported name
 * it belongs to (gv_shim_lookup_real); when the shim intercepts that name,
 * the caller gets the shim's function instead. A pointer the driver does not
 * also export under some name (an internal-only entry point) is returned
 * as is: such entry points are not intercepted.
 */
#include "shim_internal.h"

static void gv_map_pfn(void **pfn)
{
	int i = gv_shim_lookup_real(*pfn);

	if (i >= 0 && gv_shim_hook[i])
		*pfn = gv_shim_hook[i];
}

GV_EXPORT CUresult CUDAAPI cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
					       cuuint64_t flags,
					       CUdriverProcAddressQueryResult *symbolStatus)
{
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuGetProcAddress_v2)(symbol, pfn, cudaVersion, flags, symbolStatus);
	if (r == CUDA_SUCCESS && pfn && *pfn && !GV_NESTED())
		gv_map_pfn(pfn);
	return r;
}

GV_EXPORT CUresult CUDAAPI cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
					    cuuint64_t flags)
{
	CUresult r;

	GV_ENTER();
	r = GV_REAL(cuGetProcAddress)(symbol, pfn, cudaVersion, flags);
	if (r == CUDA_SUCCESS && pfn && *pfn && !GV_NESTED())
		gv_map_pfn(pfn);
	return r;
}

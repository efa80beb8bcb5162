/* cuGetProcAddress: entry points by base name, CUDA version and stream
 * mode, as the driver answers them. For a base name, the variant chosen is
 * the newest whose version is <= the requested cudaVersion ("cuMemAlloc" at
 * 3020 or later -> cuMemAlloc_v2); with CU_GET_PROC_ADDRESS_PER_THREAD_
 * DEFAULT_STREAM the _ptsz/_ptds variant is preferred where one exists. A
 * known name whose oldest variant is newer than cudaVersion gives
 * CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT, an unknown one
 * CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND, with *pfn NULL. As NVIDIA's driver
 * does (checked with driver 580.159.04 on an H200), cuGetProcAddress_v2 then returns
 * CUDA_SUCCESS (whether or not symbolStatus is given) while the 4-argument
 * cuGetProcAddress returns CUDA_ERROR_NOT_FOUND. It works before cuInit:
 * the CUDA runtime looks up cuInit itself this way.
 *
 * Deviation: variants from before 64-bit device pointers (cuMemAlloc with
 * cudaVersion < 3020 ...) are not implemented, so they are "version not
 * sufficient" here where the driver returns the old entry point. */
#include <string.h>

#include "sim_internal.h"

static const struct proc_entry {
	const char *name;
	int version;
	int per_thread;
	void *fn;
} procs[] = {
#include "sim_proc_table.h"
};

static CUresult lookup(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
		       CUdriverProcAddressQueryResult *status, CUresult not_found)
{
	const struct proc_entry *best = NULL;
	bool known = false, want_pt, has_pt = false;

	if (pfn)
		*pfn = NULL;
	if (!symbol || !pfn ||
	    (flags & ~(cuuint64_t)(CU_GET_PROC_ADDRESS_LEGACY_STREAM |
				   CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)))
		return CUDA_ERROR_INVALID_VALUE;
	want_pt = flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (!strcmp(procs[i].name, symbol) && procs[i].per_thread &&
		    procs[i].version <= cudaVersion)
			has_pt = true;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		const struct proc_entry *p = &procs[i];

		if (strcmp(p->name, symbol))
			continue;
		known = true;
		if (p->version > cudaVersion || p->per_thread != (want_pt && has_pt))
			continue;
		if (!best || p->version > best->version)
			best = p;
	}
	if (!best) {
		if (status)
			*status = known ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
					: CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
		return not_found;
	}
	*pfn = best->fn;
	if (status)
		*status = CU_GET_PROC_ADDRESS_SUCCESS;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
				     cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus)
{
	return lookup(symbol, pfn, cudaVersion, flags, symbolStatus, CUDA_SUCCESS);
}

SIM_API CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
	return lookup(symbol, pfn, cudaVersion, flags, NULL, CUDA_ERROR_NOT_FOUND);
}

SIM_API CUresult cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
	if (ppExportTable)
		*ppExportTable = NULL;
	if (!ppExportTable || !pExportTableId)
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_ERROR_NOT_SUPPORTED; /* no private driver tables here */
}

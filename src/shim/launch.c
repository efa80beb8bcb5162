/* Kernel launches: the time-slice gate of issue 4 goes in
 * gv_shim_submit_gate() (shim_internal.h); these entry points only call it
 * and forward. No locks, no system calls: a launch costs one extra call and
 * an indirect jump over the driver's own. */
#include "shim_internal.h"

GV_EXPORT CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX,
					  unsigned int gridDimY, unsigned int gridDimZ,
					  unsigned int blockDimX, unsigned int blockDimY,
					  unsigned int blockDimZ, unsigned int sharedMemBytes,
					  CUstream hStream, void **kernelParams, void **extra)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchKernel)(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY,
				       blockDimZ, sharedMemBytes, hStream, kernelParams, extra);
}

GV_EXPORT CUresult CUDAAPI cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX,
					       unsigned int gridDimY, unsigned int gridDimZ,
					       unsigned int blockDimX, unsigned int blockDimY,
					       unsigned int blockDimZ, unsigned int sharedMemBytes,
					       CUstream hStream, void **kernelParams, void **extra)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchKernel_ptsz)(f, gridDimX, gridDimY, gridDimZ, blockDimX,
					    blockDimY, blockDimZ, sharedMemBytes, hStream,
					    kernelParams, extra);
}

GV_EXPORT CUresult CUDAAPI cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f,
					    void **kernelParams, void **extra)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchKernelEx)(config, f, kernelParams, extra);
}

GV_EXPORT CUresult CUDAAPI cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f,
						 void **kernelParams, void **extra)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchKernelEx_ptsz)(config, f, kernelParams, extra);
}

GV_EXPORT CUresult CUDAAPI cuLaunchCooperativeKernel(CUfunction f, unsigned int gridDimX,
						     unsigned int gridDimY, unsigned int gridDimZ,
						     unsigned int blockDimX, unsigned int blockDimY,
						     unsigned int blockDimZ,
						     unsigned int sharedMemBytes, CUstream hStream,
						     void **kernelParams)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchCooperativeKernel)(f, gridDimX, gridDimY, gridDimZ, blockDimX,
						  blockDimY, blockDimZ, sharedMemBytes, hStream,
						  kernelParams);
}

GV_EXPORT CUresult CUDAAPI cuLaunchCooperativeKernel_ptsz(
	CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
	unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
	unsigned int sharedMemBytes, CUstream hStream, void **kernelParams)
{
	gv_shim_submit_gate();
	return GV_REAL(cuLaunchCooperativeKernel_ptsz)(f, gridDimX, gridDimY, gridDimZ,
						       blockDimX, blockDimY, blockDimZ,
						       sharedMemBytes, hStream, kernelParams);
}

/* Kernel launches: each passes the time-slice gate (gate.c) and forwards
 * (GV_SUBMIT_FN, shim_internal.h). Without a scheduler segment a launch
 * costs a compare and a branch over the driver's own: no locks, no system
 * calls. The other submissions (copies, memsets, graphs, host functions)
 * are in gated.c. */
#include "shim_internal.h"

GV_SUBMIT_FN(cuLaunchKernel,
	     (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
	      unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
	      unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra),
	     (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes,
	      hStream, kernelParams, extra))

GV_SUBMIT_FN(cuLaunchKernel_ptsz,
	     (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
	      unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
	      unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra),
	     (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes,
	      hStream, kernelParams, extra))

GV_SUBMIT_FN(cuLaunchKernelEx,
	     (const CUlaunchConfig *config, CUfunction f, void **kernelParams, void **extra),
	     (config, f, kernelParams, extra))

GV_SUBMIT_FN(cuLaunchKernelEx_ptsz,
	     (const CUlaunchConfig *config, CUfunction f, void **kernelParams, void **extra),
	     (config, f, kernelParams, extra))

GV_SUBMIT_FN(cuLaunchCooperativeKernel,
	     (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
	      unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
	      unsigned int sharedMemBytes, CUstream hStream, void **kernelParams),
	     (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes,
	      hStream, kernelParams))

GV_SUBMIT_FN(cuLaunchCooperativeKernel_ptsz,
	     (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
	      unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
	      unsigned int sharedMemBytes, CUstream hStream, void **kernelParams),
	     (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes,
	      hStream, kernelParams))

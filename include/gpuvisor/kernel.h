/* gpuvisor kernels from one source: CUDA with nvcc, C for libcudasim.
 *
 * A kernel takes exactly one argument, a struct passed by value:
 *
 *   struct scale_args { float *x; float k; unsigned n; };
 *   GV_KERNEL(scale, struct scale_args, a)
 *   {
 *           unsigned i = GV_GLOBAL_X;
 *           if (i < a.n)
 *                   a.x[i] *= a.k;
 *   }
 *   GV_MODULE_ABI   (once per module)
 *
 * nvcc (-x cu) sees `extern "C" __global__ void scale(struct scale_args a)`.
 * The C compiler produces, in a shared object loaded by cuModuleLoad:
 *   void scale(void **params, const struct gv_sim_thread *t);
 *       params[0] points at the argument struct, as in cuLaunchKernel's
 *       kernelParams; libcudasim calls it once per thread of the grid,
 *       with t's indices set for that thread;
 *   const unsigned long long scale_gv_argsize;
 *       sizeof the argument struct, so that the launch can copy it;
 *   const int gv_sim_module_abi;   (GV_MODULE_ABI) marks a simulator module.
 * Global device variables: GV_DEVICE_VAR(float, name) (cuModuleGetGlobal).
 * What the simulator cannot express is not allowed in sample kernels:
 * shared memory, __syncthreads, warp intrinsics, atomics across threads.
 */
#ifndef GPUVISOR_KERNEL_H
#define GPUVISOR_KERNEL_H

#define GV_SIM_MODULE_ABI 1

struct gv_dim3 {
	unsigned x, y, z;
};

struct gv_sim_thread {
	struct gv_dim3 thread_idx, block_idx, block_dim, grid_dim;
};

#ifdef __CUDACC__

#define GV_KERNEL(name, type, arg) extern "C" __global__ void name(type arg)
#define GV_DEVICE_VAR(type, name) \
	extern "C" {              \
	__device__ type name;     \
	}
#define GV_MODULE_ABI
#define GV_TID_X threadIdx.x
#define GV_TID_Y threadIdx.y
#define GV_TID_Z threadIdx.z
#define GV_BID_X blockIdx.x
#define GV_BID_Y blockIdx.y
#define GV_BID_Z blockIdx.z
#define GV_BDIM_X blockDim.x
#define GV_BDIM_Y blockDim.y
#define GV_BDIM_Z blockDim.z
#define GV_GDIM_X gridDim.x
#define GV_GDIM_Y gridDim.y
#define GV_GDIM_Z gridDim.z

#else

#include <string.h>

#define GV_SIM_EXPORT __attribute__((visibility("default")))

#define GV_KERNEL(name, type, arg)                                                     \
	static void name##_gv_body(type arg, const struct gv_sim_thread *gv_t_);       \
	GV_SIM_EXPORT extern const unsigned long long name##_gv_argsize;               \
	const unsigned long long name##_gv_argsize = sizeof(type);                     \
	GV_SIM_EXPORT void name(void **gv_params_, const struct gv_sim_thread *gv_t_); \
	void name(void **gv_params_, const struct gv_sim_thread *gv_t_)                \
	{                                                                              \
		type gv_a_;                                                            \
		memcpy(&gv_a_, gv_params_[0], sizeof(gv_a_));                          \
		name##_gv_body(gv_a_, gv_t_);                                          \
	}                                                                              \
	static void name##_gv_body(type arg, const struct gv_sim_thread *gv_t_)
#define GV_DEVICE_VAR(type, name)       \
	GV_SIM_EXPORT extern type name; \
	type name
#define GV_MODULE_ABI                                     \
	GV_SIM_EXPORT extern const int gv_sim_module_abi; \
	const int gv_sim_module_abi = GV_SIM_MODULE_ABI;
#define GV_TID_X (gv_t_->thread_idx.x)
#define GV_TID_Y (gv_t_->thread_idx.y)
#define GV_TID_Z (gv_t_->thread_idx.z)
#define GV_BID_X (gv_t_->block_idx.x)
#define GV_BID_Y (gv_t_->block_idx.y)
#define GV_BID_Z (gv_t_->block_idx.z)
#define GV_BDIM_X (gv_t_->block_dim.x)
#define GV_BDIM_Y (gv_t_->block_dim.y)
#define GV_BDIM_Z (gv_t_->block_dim.z)
#define GV_GDIM_X (gv_t_->grid_dim.x)
#define GV_GDIM_Y (gv_t_->grid_dim.y)
#define GV_GDIM_Z (gv_t_->grid_dim.z)

#endif

/* Global linear index along x. */
#define GV_GLOBAL_X (GV_BID_X * GV_BDIM_X + GV_TID_X)

#endif

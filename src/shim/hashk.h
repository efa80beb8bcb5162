/* Chunk hashes computed on the device that holds the memory (the kernel in
 * hashk.cu; docs/migration.md, "Hashing on the GPU").
 *
 * Results are bit-identical to gv_chunkhash_range over the same bytes. The
 * kernel image is built into this library when nvcc was found at build
 * time; without it, or where the driver cannot load it (libcudasim, a GPU
 * older than sm_80 with no PTX JIT), gv_hashk_new fails with -ENOTSUP and
 * the caller hashes on the CPU.
 *
 * The driver is reached only through the table the caller passes, so the
 * shim can give its resolved real entry points and a test program the
 * driver it links. Calls run in the calling thread's current context,
 * which must be the one gv_hashk_new ran in.
 */
#ifndef GV_SHIM_HASHK_H
#define GV_SHIM_HASHK_H

#include <stdint.h>

#include <cuda.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/err.h"

struct gv_hashk_drv {
	CUresult (*module_load_data)(CUmodule *m, const void *image);
	CUresult (*module_get_function)(CUfunction *f, CUmodule m, const char *name);
	CUresult (*module_unload)(CUmodule m);
	CUresult (*launch_kernel)(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
				  unsigned by, unsigned bz, unsigned shmem, CUstream s,
				  void **params, void **extra);
	CUresult (*mem_alloc)(CUdeviceptr *p, size_t n);
	CUresult (*mem_free)(CUdeviceptr p);
	CUresult (*memcpy_dtoh_async)(void *dst, CUdeviceptr src, size_t n, CUstream s);
	CUresult (*stream_synchronize)(CUstream s);
};

struct gv_hashk;

/* Whether this build carries the kernel image. */
int gv_hashk_built_in(void);

/* Loads the kernel into the current context. */
int gv_hashk_new(const struct gv_hashk_drv *drv, struct gv_hashk **out, struct gv_err *err);
/* In the context it was made in. NULL is a no-op. */
void gv_hashk_free(struct gv_hashk *k);

/* Hashes chunks [first, first + count) of the device range [base, base +
 * len) cut into chunk_size-byte chunks, on stream s, into out[0..count)
 * (host memory), and returns when they are there. -ENOTSUP (nothing
 * written) when base or chunk_size is not a multiple of 8: hash those on
 * the CPU. Chunks of 240 bytes or less are hashed on the host after a copy. */
int gv_hashk_range(struct gv_hashk *k, CUstream s, CUdeviceptr base, uint64_t len,
		   uint64_t chunk_size, uint64_t first, uint64_t count, struct gv_chunk_hash *out,
		   struct gv_err *err);

#endif

/* Shared code of the sample workloads (gv-infer, gv-train): driver-API
 * setup, the kernel module, option parsing and result checksums. Only the
 * CUDA driver API is used, so the same binary runs on the simulator, behind
 * the gpuvisor shim, or on the real driver (whichever libcuda.so.1 the
 * library path finds). */
#ifndef GV_WL_COMMON_H
#define GV_WL_COMMON_H

#include <cuda.h>
#include <stddef.h>
#include <stdint.h>

struct wl {
	const char *prog;
	CUdevice dev;
	CUcontext ctx;
	CUmodule mod;
	CUstream stream;
	char module_path[4096];
	int verbose;
};

/* Exits with a message naming the call when r is not CUDA_SUCCESS. */
void wl_check(const struct wl *w, CUresult r, const char *what);
#define WL_CHECK(w, call) wl_check((w), (call), #call)

/* Parses a non-negative integer option value; exits on a bad one. */
unsigned long long wl_parse_u64(const char *prog, const char *opt, const char *val,
				unsigned long long max);

/* cuInit, primary context of device `ordinal`, stream, kernel module
 * ($GV_KERNEL_MODULE, else gv_kernels.fatbin then gv_kernels.so in the lib
 * directory next to the executable's bin directory, else GV_LIBDIR). */
void wl_setup(struct wl *w, int ordinal);
void wl_teardown(struct wl *w);
CUfunction wl_function(const struct wl *w, const char *name);
/* Launches a 1-D grid covering n threads with args as kernelParams[0]. */
void wl_launch_1d(const struct wl *w, CUfunction f, unsigned long long n, void *args);
/* Feeds n bytes of device memory at p (copied back in chunks) into the
 * running hash. */
void wl_hash_device(const struct wl *w, void *state, CUdeviceptr p, size_t n);
void *wl_hash_new(void);
/* Prints "checksum: 0x<16 hex digits>" and frees the state. */
void wl_hash_print(void *state);
void wl_sleep_ms(unsigned long long ms);

#endif

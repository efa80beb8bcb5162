/* Migration mode, wrappers: copies and sets, 1-D, 2-D and 3-D.
 *
 * They take no handle but a stream, yet they write device memory, so each
 * passes the throttle and the gate (SUBMIT) before the driver; a 2-D or
 * 3-D copy from or to a CUDA array is refused (the shim cannot move
 * arrays).
 */
#include "mig_wrap_internal.h"

/* --- copies and sets: no handles, but they write device memory */

SUBMIT_FWD_PT(cuMemcpyHtoD_v2, cuMemcpyHtoD_v2_ptds, (CUdeviceptr d, const void *s, size_t n),
	      (d, s, n))

SUBMIT_FWD_PT(cuMemcpyDtoH_v2, cuMemcpyDtoH_v2_ptds, (void *d, CUdeviceptr s, size_t n), (d, s, n))

SUBMIT_FWD_PT(cuMemcpyDtoD_v2, cuMemcpyDtoD_v2_ptds, (CUdeviceptr d, CUdeviceptr s, size_t n),
	      (d, s, n))

SUBMIT_FWD_PT(cuMemcpy, cuMemcpy_ptds, (CUdeviceptr d, CUdeviceptr s, size_t n), (d, s, n))

SUBMIT_FWD_PT(cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync_v2_ptsz,
	      (CUdeviceptr d, const void *s, size_t n, CUstream st), (d, s, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync_v2_ptsz,
	      (void *d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemcpyDtoDAsync_v2, cuMemcpyDtoDAsync_v2_ptsz,
	      (CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemcpyAsync, cuMemcpyAsync_ptsz,
	      (CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemsetD8_v2, cuMemsetD8_v2_ptds, (CUdeviceptr d, unsigned char v, size_t n),
	      (d, v, n))

SUBMIT_FWD_PT(cuMemsetD16_v2, cuMemsetD16_v2_ptds, (CUdeviceptr d, unsigned short v, size_t n),
	      (d, v, n))

SUBMIT_FWD_PT(cuMemsetD32_v2, cuMemsetD32_v2_ptds, (CUdeviceptr d, unsigned v, size_t n), (d, v, n))

SUBMIT_FWD_PT(cuMemsetD8Async, cuMemsetD8Async_ptsz,
	      (CUdeviceptr d, unsigned char v, size_t n, CUstream st), (d, v, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemsetD16Async, cuMemsetD16Async_ptsz,
	      (CUdeviceptr d, unsigned short v, size_t n, CUstream st), (d, v, n, STREAM(st)))

SUBMIT_FWD_PT(cuMemsetD32Async, cuMemsetD32Async_ptsz,
	      (CUdeviceptr d, unsigned v, size_t n, CUstream st), (d, v, n, STREAM(st)))

/* --- 2-D and 3-D copies and sets of linear memory (device, host, unified).
 * CUDA arrays are refused: the shim cannot move them (cuArrayCreate already
 * makes the workload non-migratable). The legacy cuMemcpy2D / cuMemcpy3D
 * with 32-bit device pointers stay refused (mig-refuse.txt). */

#define ARRAYS(p) \
	((p) &&   \
	 ((p)->srcMemoryType == CU_MEMORYTYPE_ARRAY || (p)->dstMemoryType == CU_MEMORYTYPE_ARRAY))
#define NO_ARRAYS(p, name)                                                                         \
	do {                                                                                       \
		if (ARRAYS(p))                                                                     \
			return gv_mig_refuse_why(GV_SYM_##name, "a copy from or to a CUDA array"); \
	} while (0)

/* A 2-D/3-D copy of linear memory and its per-thread variant (p is the
 * copy's descriptor): arrays refused, otherwise as SUBMIT_FWD_PT. */
#define COPY_FWD(name, params, args)    \
	static CUresult w_##name params \
	{                               \
		NO_ARRAYS(p, name);     \
		SUBMIT();               \
		OUT(MREAL(name) args);  \
	}
#define COPY_PT(name, pt, params, args) \
	COPY_FWD(name, params, args)    \
	COPY_FWD(pt, params, args)

COPY_PT(cuMemcpy2D_v2, cuMemcpy2D_v2_ptds, (const CUDA_MEMCPY2D *p), (p))

COPY_PT(cuMemcpy2DUnaligned_v2, cuMemcpy2DUnaligned_v2_ptds, (const CUDA_MEMCPY2D *p), (p))

COPY_PT(cuMemcpy2DAsync_v2, cuMemcpy2DAsync_v2_ptsz, (const CUDA_MEMCPY2D *p, CUstream s),
	(p, STREAM(s)))

COPY_PT(cuMemcpy3D_v2, cuMemcpy3D_v2_ptds, (const CUDA_MEMCPY3D *p), (p))

COPY_PT(cuMemcpy3DAsync_v2, cuMemcpy3DAsync_v2_ptsz, (const CUDA_MEMCPY3D *p, CUstream s),
	(p, STREAM(s)))

/* One wrapper per 2-D set: (pointer, pitch, value, width, height[, stream]). */
#define SET2D(name, T)                                                                 \
	static CUresult w_##name(CUdeviceptr d, size_t pitch, T v, size_t w, size_t h) \
	{                                                                              \
		SUBMIT();                                                              \
		OUT(MREAL(name)(d, pitch, v, w, h));                                   \
	}
#define SET2D_ASYNC(name, T)                                                                       \
	static CUresult w_##name(CUdeviceptr d, size_t pitch, T v, size_t w, size_t h, CUstream s) \
	{                                                                                          \
		SUBMIT();                                                                          \
		OUT(MREAL(name)(d, pitch, v, w, h, STREAM(s)));                                    \
	}
SET2D(cuMemsetD2D8_v2, unsigned char)
SET2D(cuMemsetD2D8_v2_ptds, unsigned char)
SET2D(cuMemsetD2D16_v2, unsigned short)
SET2D(cuMemsetD2D16_v2_ptds, unsigned short)
SET2D(cuMemsetD2D32_v2, unsigned)
SET2D(cuMemsetD2D32_v2_ptds, unsigned)
SET2D_ASYNC(cuMemsetD2D8Async, unsigned char)
SET2D_ASYNC(cuMemsetD2D8Async_ptsz, unsigned char)
SET2D_ASYNC(cuMemsetD2D16Async, unsigned short)
SET2D_ASYNC(cuMemsetD2D16Async_ptsz, unsigned short)
SET2D_ASYNC(cuMemsetD2D32Async, unsigned)
SET2D_ASYNC(cuMemsetD2D32Async_ptsz, unsigned)

const struct gv_mig_wrap_ent gv_mig_wrap_copy[] = {
	W(cuMemcpyHtoD_v2),
	W(cuMemcpyDtoH_v2),
	W(cuMemcpyDtoD_v2),
	W(cuMemcpy),
	W(cuMemcpyHtoDAsync_v2),
	W(cuMemcpyDtoHAsync_v2),
	W(cuMemcpyDtoDAsync_v2),
	W(cuMemcpyAsync),
	W(cuMemsetD8_v2),
	W(cuMemsetD16_v2),
	W(cuMemsetD32_v2),
	W(cuMemsetD8Async),
	W(cuMemsetD16Async),
	W(cuMemsetD32Async),
	W(cuMemcpyHtoD_v2_ptds),
	W(cuMemcpyDtoH_v2_ptds),
	W(cuMemcpyDtoD_v2_ptds),
	W(cuMemcpy_ptds),
	W(cuMemcpyHtoDAsync_v2_ptsz),
	W(cuMemcpyDtoHAsync_v2_ptsz),
	W(cuMemcpyDtoDAsync_v2_ptsz),
	W(cuMemcpyAsync_ptsz),
	W(cuMemsetD8_v2_ptds),
	W(cuMemsetD16_v2_ptds),
	W(cuMemsetD32_v2_ptds),
	W(cuMemsetD8Async_ptsz),
	W(cuMemsetD16Async_ptsz),
	W(cuMemsetD32Async_ptsz),
	W(cuMemcpy2D_v2),
	W(cuMemcpy2D_v2_ptds),
	W(cuMemcpy2DUnaligned_v2),
	W(cuMemcpy2DUnaligned_v2_ptds),
	W(cuMemcpy2DAsync_v2),
	W(cuMemcpy2DAsync_v2_ptsz),
	W(cuMemcpy3D_v2),
	W(cuMemcpy3D_v2_ptds),
	W(cuMemcpy3DAsync_v2),
	W(cuMemcpy3DAsync_v2_ptsz),
	W(cuMemsetD2D8_v2),
	W(cuMemsetD2D8_v2_ptds),
	W(cuMemsetD2D16_v2),
	W(cuMemsetD2D16_v2_ptds),
	W(cuMemsetD2D32_v2),
	W(cuMemsetD2D32_v2_ptds),
	W(cuMemsetD2D8Async),
	W(cuMemsetD2D8Async_ptsz),
	W(cuMemsetD2D16Async),
	W(cuMemsetD2D16Async_ptsz),
	W(cuMemsetD2D32Async),
	W(cuMemsetD2D32Async_ptsz),
	W_END,
};

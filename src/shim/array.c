/* CUDA arrays and mipmapped arrays: charged by the size their descriptor
 * implies (width x height x depth x bytes per texel; depth counts layers
 * and cubemap faces), before the driver creates them. The driver's own
 * padding/tiling is not visible through the API and is not charged.
 * Sparse and deferred-mapping arrays own no memory (VMM memory mapped into
 * them is charged at cuMemCreate) and are not charged. A format unknown to
 * this shim is charged 16 bytes per channel per texel: more than any known
 * format, so an unknown format cannot be used to exceed the partition.
 */
#include "shim_internal.h"

#include <errno.h>

/* Bytes of a width x height plane of fmt with ch channels (0 = 1). */
static uint64_t gv_plane_bytes(CUarray_format fmt, unsigned int ch, uint64_t w, uint64_t h)
{
	uint64_t px = gv_mul_sat(w, h), per_ch = 0, num = 0, den = 1, block = 0;

	if (!ch)
		ch = 1;
	switch ((int)fmt) {
	case CU_AD_FORMAT_UNSIGNED_INT8:
	case CU_AD_FORMAT_SIGNED_INT8:
	case CU_AD_FORMAT_UNORM_INT8X1:
	case CU_AD_FORMAT_UNORM_INT8X2:
	case CU_AD_FORMAT_UNORM_INT8X4:
	case CU_AD_FORMAT_SNORM_INT8X1:
	case CU_AD_FORMAT_SNORM_INT8X2:
	case CU_AD_FORMAT_SNORM_INT8X4:
		per_ch = 1;
		break;
	case CU_AD_FORMAT_UNSIGNED_INT16:
	case CU_AD_FORMAT_SIGNED_INT16:
	case CU_AD_FORMAT_HALF:
	case CU_AD_FORMAT_UNORM_INT16X1:
	case CU_AD_FORMAT_UNORM_INT16X2:
	case CU_AD_FORMAT_UNORM_INT16X4:
	case CU_AD_FORMAT_SNORM_INT16X1:
	case CU_AD_FORMAT_SNORM_INT16X2:
	case CU_AD_FORMAT_SNORM_INT16X4:
		per_ch = 2;
		break;
	case CU_AD_FORMAT_UNSIGNED_INT32:
	case CU_AD_FORMAT_SIGNED_INT32:
	case CU_AD_FORMAT_FLOAT:
		per_ch = 4;
		break;
	/* block-compressed: bytes per 4x4 block */
	case CU_AD_FORMAT_BC1_UNORM:
	case CU_AD_FORMAT_BC1_UNORM_SRGB:
	case CU_AD_FORMAT_BC4_UNORM:
	case CU_AD_FORMAT_BC4_SNORM:
		block = 8;
		break;
	case CU_AD_FORMAT_BC2_UNORM:
	case CU_AD_FORMAT_BC2_UNORM_SRGB:
	case CU_AD_FORMAT_BC3_UNORM:
	case CU_AD_FORMAT_BC3_UNORM_SRGB:
	case CU_AD_FORMAT_BC5_UNORM:
	case CU_AD_FORMAT_BC5_SNORM:
	case CU_AD_FORMAT_BC6H_UF16:
	case CU_AD_FORMAT_BC6H_SF16:
	case CU_AD_FORMAT_BC7_UNORM:
	case CU_AD_FORMAT_BC7_UNORM_SRGB:
		block = 16;
		break;
	/* video formats: bytes per pixel, all planes together */
	case CU_AD_FORMAT_NV12:
		num = 3, den = 2;
		break;
	case CU_AD_FORMAT_P010:
	case CU_AD_FORMAT_P016:
	case CU_AD_FORMAT_Y444_PLANAR8:
	case CU_AD_FORMAT_YUV444_8bit_SemiPlanar:
		num = 3;
		break;
	case CU_AD_FORMAT_NV16:
	case CU_AD_FORMAT_YUY2:
		num = 2;
		break;
	case CU_AD_FORMAT_P210:
	case CU_AD_FORMAT_P216:
	case CU_AD_FORMAT_Y210:
	case CU_AD_FORMAT_Y216:
	case CU_AD_FORMAT_AYUV:
	case CU_AD_FORMAT_Y410:
	case CU_AD_FORMAT_UNORM_INT_101010_2:
		num = 4;
		break;
	case CU_AD_FORMAT_Y444_PLANAR10:
	case CU_AD_FORMAT_YUV444_16bit_SemiPlanar:
		num = 6;
		break;
	case CU_AD_FORMAT_Y416:
		num = 8;
		break;
	default:
		per_ch = 16;
		break;
	}
	if (per_ch)
		return gv_mul_sat(px, gv_mul_sat(ch, per_ch));
	if (block)
		return gv_mul_sat(gv_mul_sat((w + 3) / 4, (h + 3) / 4), block);
	px = gv_mul_sat(px, num);
	return px == UINT64_MAX ? px : (px + den - 1) / den;
}

static uint64_t gv_array_bytes(CUarray_format fmt, unsigned int ch, uint64_t w, uint64_t h,
			       uint64_t d)
{
	return gv_mul_sat(gv_plane_bytes(fmt, ch, w, h ? h : 1), d ? d : 1);
}

/* Mipmap levels halve width, height and (for true 3D arrays) depth down to
 * 1; layers and cubemap faces stay. */
static uint64_t gv_mipmap_bytes(const CUDA_ARRAY3D_DESCRIPTOR *d, unsigned int levels)
{
	uint64_t w = d->Width, h = d->Height ? d->Height : 1, z = d->Depth ? d->Depth : 1;
	bool layers = d->Flags & (CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_CUBEMAP);
	uint64_t sum = 0;

	for (unsigned int l = 0; l < (levels ? levels : 1); l++) {
		uint64_t b = gv_array_bytes(d->Format, d->NumChannels, w, h, z);

		sum = __builtin_add_overflow(sum, b, &sum) ? UINT64_MAX : sum;
		w = w > 1 ? w / 2 : 1;
		if (d->Height)
			h = h > 1 ? h / 2 : 1;
		if (!layers && d->Depth)
			z = z > 1 ? z / 2 : 1;
	}
	return sum;
}

/* Charges bytes, runs the driver's create (r), and records the handle. */
static CUresult gv_array_done(CUresult r, enum gv_track_kind kind, uint64_t handle, uint64_t bytes,
			      CUcontext ctx)
{
	if (r != CUDA_SUCCESS) {
		gv_part_uncharge(bytes);
		return r;
	}
	if (gv_track_add(kind, handle, bytes, ctx) < 0) {
		if (kind == GV_TRACK_MIPMAP)
			GV_REAL(cuMipmappedArrayDestroy)((CUmipmappedArray)(uintptr_t)handle);
		else
			GV_REAL(cuArrayDestroy)((CUarray)(uintptr_t)handle);
		gv_part_uncharge(bytes);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

#define GV_NO_MEMORY_FLAGS (CUDA_ARRAY3D_SPARSE | CUDA_ARRAY3D_DEFERRED_MAPPING)

#define GV_ARRAY_CREATE(name, desc_t, bytes_expr)                                              \
	GV_EXPORT CUresult CUDAAPI name(CUarray *pHandle, const desc_t *d)                     \
	{                                                                                      \
		uint64_t bytes;                                                                \
		CUcontext ctx;                                                                 \
		CUresult r;                                                                    \
                                                                                               \
		GV_ENTER();                                                                    \
		if (GV_PART_OFF() || !pHandle || !d)                                           \
			return GV_REAL(name)(pHandle, d);                                      \
		bytes = (bytes_expr);                                                          \
		if (!bytes)                                                                    \
			return GV_REAL(name)(pHandle, d);                                      \
		ctx = gv_shim_current_ctx();                                                   \
		if ((r = gv_part_charge(bytes)) != CUDA_SUCCESS)                               \
			return r;                                                              \
		r = GV_REAL(name)(pHandle, d);                                                 \
		return gv_array_done(r, GV_TRACK_ARRAY,                                        \
				     r == CUDA_SUCCESS ? (uintptr_t)*pHandle : 0, bytes, ctx); \
	}

GV_ARRAY_CREATE(cuArrayCreate_v2, CUDA_ARRAY_DESCRIPTOR,
		gv_array_bytes(d->Format, d->NumChannels, d->Width, d->Height, 1))
GV_ARRAY_CREATE(cuArrayCreate, CUDA_ARRAY_DESCRIPTOR_v1,
		gv_array_bytes(d->Format, d->NumChannels, d->Width, d->Height, 1))
GV_ARRAY_CREATE(cuArray3DCreate_v2, CUDA_ARRAY3D_DESCRIPTOR,
		(d->Flags & GV_NO_MEMORY_FLAGS)
			? 0
			: gv_array_bytes(d->Format, d->NumChannels, d->Width, d->Height, d->Depth))
GV_ARRAY_CREATE(cuArray3DCreate, CUDA_ARRAY3D_DESCRIPTOR_v1,
		(d->Flags & GV_NO_MEMORY_FLAGS)
			? 0
			: gv_array_bytes(d->Format, d->NumChannels, d->Width, d->Height, d->Depth))

GV_EXPORT CUresult CUDAAPI cuMipmappedArrayCreate(CUmipmappedArray *pHandle,
						  const CUDA_ARRAY3D_DESCRIPTOR *d,
						  unsigned int numMipmapLevels)
{
	uint64_t bytes;
	CUcontext ctx;
	CUresult r;

	GV_ENTER();
	if (GV_PART_OFF() || !pHandle || !d || (d->Flags & GV_NO_MEMORY_FLAGS))
		return GV_REAL(cuMipmappedArrayCreate)(pHandle, d, numMipmapLevels);
	bytes = gv_mipmap_bytes(d, numMipmapLevels);
	ctx = gv_shim_current_ctx();
	if ((r = gv_part_charge(bytes)) != CUDA_SUCCESS)
		return r;
	r = GV_REAL(cuMipmappedArrayCreate)(pHandle, d, numMipmapLevels);
	return gv_array_done(r, GV_TRACK_MIPMAP, r == CUDA_SUCCESS ? (uintptr_t)*pHandle : 0, bytes,
			     ctx);
}

GV_EXPORT CUresult CUDAAPI cuArrayDestroy(CUarray hArray)
{
	struct gv_untrack u;
	uint64_t key = (uintptr_t)hArray;

	GV_ENTER();
	if (GV_PART_OFF())
		return GV_REAL(cuArrayDestroy)(hArray);
	u = gv_untrack_begin(GV_TRACK_ARRAY, key);
	return gv_untrack_end(GV_REAL(cuArrayDestroy)(hArray), GV_TRACK_ARRAY, key, &u);
}

GV_EXPORT CUresult CUDAAPI cuMipmappedArrayDestroy(CUmipmappedArray hMipmappedArray)
{
	struct gv_untrack u;
	uint64_t key = (uintptr_t)hMipmappedArray;

	GV_ENTER();
	if (GV_PART_OFF())
		return GV_REAL(cuMipmappedArrayDestroy)(hMipmappedArray);
	u = gv_untrack_begin(GV_TRACK_MIPMAP, key);
	return gv_untrack_end(GV_REAL(cuMipmappedArrayDestroy)(hMipmappedArray), GV_TRACK_MIPMAP,
			      key, &u);
}

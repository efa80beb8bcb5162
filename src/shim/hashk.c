#include "hashk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* libxxhash's default secret (XXH3_kSecret), so that the kernel keys its
 * hash with exactly what the CPU side uses. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hashk_xxh3.h"
#include "gpuvisor/xfuncs.h"

/* Generated from the fatbin nvcc made of hashk.cu (embed-fatbin.cmake);
 * length 0 when the build had no nvcc. */
extern const unsigned char gv_hashk_image[];
extern const size_t gv_hashk_image_len;

/* Chunks per launch: the device output buffer holds their hashes. */
#define GV_HASHK_BATCH 8192u
#define GV_HASHK_THREADS 256u /* hashk.cu */

_Static_assert(sizeof(struct gv_chunk_hash) == 16, "two 64-bit words, lo then hi");
_Static_assert(sizeof(XXH3_kSecret) == GV_XXH3_SECRET_LEN, "XXH3's default secret");

struct gv_hashk {
	struct gv_hashk_drv drv;
	CUmodule mod;
	CUfunction fn;
	CUdeviceptr out; /* GV_HASHK_BATCH hashes */
};

int gv_hashk_built_in(void)
{
	return gv_hashk_image_len > 0;
}

int gv_hashk_new(const struct gv_hashk_drv *drv, struct gv_hashk **out, struct gv_err *err)
{
	struct gv_hashk *k = NULL;
	CUresult r;
	int rc = 0;

	*out = NULL;
	if (!gv_hashk_built_in()) {
		rc = gv_err_set(err, ENOTSUP, "built without nvcc: no hash kernel");
		goto out;
	}
	k = gv_xcalloc(err, 1, sizeof(*k));
	if (!k) {
		rc = -ENOMEM;
		goto out;
	}
	k->drv = *drv;
	r = drv->module_load_data(&k->mod, gv_hashk_image);
	if (r != CUDA_SUCCESS) {
		k->mod = NULL;
		rc = gv_err_set(err, ENOTSUP,
				"the driver cannot load the hash kernel (CUDA error %d)", (int)r);
		goto out;
	}
	r = drv->module_get_function(&k->fn, k->mod, "gv_hashk_chunks");
	if (r == CUDA_SUCCESS)
		r = drv->mem_alloc(&k->out, GV_HASHK_BATCH * sizeof(struct gv_chunk_hash));
	if (r != CUDA_SUCCESS) {
		k->out = 0;
		rc = gv_err_set(err, EIO, "setting up the hash kernel failed (CUDA error %d)",
				(int)r);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	gv_hashk_free(k);
	return rc;
}

void gv_hashk_free(struct gv_hashk *k)
{
	if (!k)
		return;
	if (k->out)
		k->drv.mem_free(k->out);
	if (k->mod)
		k->drv.module_unload(k->mod);
	free(k);
}

/* One chunk of at most 240 bytes, through the host. */
static int host_chunk(struct gv_hashk *k, CUstream s, CUdeviceptr p, uint64_t n,
		      struct gv_chunk_hash *out, struct gv_err *err)
{
	uint8_t buf[GV_XXH3_MIDSIZE_MAX];
	CUresult r = k->drv.memcpy_dtoh_async(buf, p, (size_t)n, s);

	if (r == CUDA_SUCCESS)
		r = k->drv.stream_synchronize(s);
	if (r != CUDA_SUCCESS)
		return gv_err_set(err, EIO,
				  "copying a short chunk to the host failed (CUDA error %d)",
				  (int)r);
	*out = gv_chunkhash_one(buf, (size_t)n);
	return 0;
}

int gv_hashk_range(struct gv_hashk *k, CUstream s, CUdeviceptr base, uint64_t len,
		   uint64_t chunk_size, uint64_t first, uint64_t count, struct gv_chunk_hash *out,
		   struct gv_err *err)
{
	struct gv_hashk_args a;
	void *params[] = { &a };
	uint64_t n = gv_chunkhash_count(len, chunk_size), kcount = count;
	CUresult r = CUDA_SUCCESS;

	if (chunk_size == 0 || first > n || count > n - first)
		return gv_err_set(err, EINVAL, "chunks %llu..%llu lie outside the range",
				  (unsigned long long)first, (unsigned long long)(first + count));
	if (base % 8 || chunk_size % 8)
		return gv_err_set(err, ENOTSUP, "the hash kernel needs 8-byte aligned chunks");
	if (count == 0)
		return 0;
	/* only a range's last chunk can be shorter than chunk_size */
	if (gv_chunkhash_chunk_len(len, chunk_size, first + count - 1) <= GV_XXH3_MIDSIZE_MAX)
		kcount = chunk_size <= GV_XXH3_MIDSIZE_MAX ? 0 : count - 1;

	memset(&a, 0, sizeof(a));
	a.base = base;
	a.len = len;
	a.chunk = chunk_size;
	a.out = k->out;
	memcpy(a.secret, XXH3_kSecret, sizeof(a.secret));
	for (uint64_t done = 0; done < kcount && r == CUDA_SUCCESS;) {
		unsigned batch =
			kcount - done < GV_HASHK_BATCH ? (unsigned)(kcount - done) : GV_HASHK_BATCH;

		a.first = first + done;
		/* the stream orders this launch after the previous batch's copy */
		r = k->drv.launch_kernel(k->fn, batch, 1, 1, GV_HASHK_THREADS, 1, 1, 0, s, params,
					 NULL);
		if (r == CUDA_SUCCESS)
			r = k->drv.memcpy_dtoh_async(out + done, k->out,
						     batch * sizeof(struct gv_chunk_hash), s);
		done += batch;
	}
	if (r == CUDA_SUCCESS)
		r = k->drv.stream_synchronize(s);
	if (r != CUDA_SUCCESS)
		return gv_err_set(err, EIO, "the hash kernel failed (CUDA error %d)", (int)r);
	for (uint64_t i = kcount; i < count; i++) {
		uint64_t idx = first + i;
		int rc = host_chunk(k, s, base + idx * chunk_size,
				    gv_chunkhash_chunk_len(len, chunk_size, idx), &out[i], err);

		if (rc)
			return rc;
	}
	return 0;
}

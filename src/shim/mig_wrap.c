/* Migration mode: the entry points the migration layer handles.
 *
 * Each wrapper passes the gate (gv_mig_enter/leave), translates the
 * application's handles (shim objects) to the driver's, and answers device
 * ordinal 0 with the device in use. They sit below the shim's partition
 * accounting (gv_shim_real slots, mig_internal.h), so every wrapper calls
 * the driver through MREAL. What the application can do here is what the
 * sample workloads, the tests and a typical driver-API program do; every
 * other entry point that takes a handle or writes device memory is refused
 * (mig-refuse.txt), and the ones that make a workload unmovable are
 * forwarded after marking it non-migratable with the reason. The macros
 * and the helpers the wrappers share are in mig_wrap_internal.h.
 */
#include "mig_wrap_internal.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- init and devices */

static CUresult w_cuInit(unsigned flags)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	CUresult r = MREAL(cuInit)(flags);
	const char *want = getenv("GPUVISOR_DEVICE");

	if (r != CUDA_SUCCESS)
		return r;
	if (!gv_mig_dev_uuid[0]) {
		CUuuid u;
		int d = want && *want ? gv_mig_find_uuid(want) : 0;

		if (d < 0) {
			gv_shim_log(false, "GPUVISOR_DEVICE=%s is not a visible device", want);
			return CUDA_ERROR_NO_DEVICE;
		}
		atomic_store(&gv_mig_dev, d);
		if (want && *want)
			snprintf(gv_mig_dev_uuid, sizeof(gv_mig_dev_uuid), "%s", want);
		else if (MREAL(cuDeviceGetUuid_v2)(&u, d) == CUDA_SUCCESS)
			gv_mig_uuid_str(&u, "GPU-", gv_mig_dev_uuid, sizeof(gv_mig_dev_uuid));
	}
	pthread_once(&once, gv_mig_ctl_start);
	return r;
}

static CUresult w_cuDeviceGetCount(int *count)
{
	CUresult r = MREAL(cuDeviceGetCount)(count);

	if (r == CUDA_SUCCESS && *count > 1)
		*count = 1;
	return r;
}

static CUresult w_cuDeviceGet(CUdevice *dev, int ordinal)
{
	CUdevice d;
	CUresult r;

	if (ordinal != 0)
		return MREAL(cuDeviceGet)(dev, -1); /* the driver's error */
	r = MREAL(cuDeviceGet)(&d, DEV(0));
	if (r == CUDA_SUCCESS && dev)
		*dev = 0;
	else if (r == CUDA_SUCCESS)
		r = CUDA_ERROR_INVALID_VALUE;
	return r;
}

static CUresult w_cuDeviceGetAttribute(int *pi, CUdevice_attribute a, CUdevice d)
{
	return MREAL(cuDeviceGetAttribute)(pi, a, DEV(d));
}

static CUresult w_cuDeviceGetName(char *name, int len, CUdevice d)
{
	return MREAL(cuDeviceGetName)(name, len, DEV(d));
}

static CUresult w_cuDeviceGetUuid(CUuuid *u, CUdevice d)
{
	return MREAL(cuDeviceGetUuid)(u, DEV(d));
}

static CUresult w_cuDeviceGetUuid_v2(CUuuid *u, CUdevice d)
{
	return MREAL(cuDeviceGetUuid_v2)(u, DEV(d));
}

static CUresult w_cuDeviceTotalMem_v2(size_t *b, CUdevice d)
{
	return MREAL(cuDeviceTotalMem_v2)(b, DEV(d));
}

static CUresult w_cuDeviceComputeCapability(int *ma, int *mi, CUdevice d)
{
	return MREAL(cuDeviceComputeCapability)(ma, mi, DEV(d));
}

static CUresult w_cuDevicePrimaryCtxGetState(CUdevice d, unsigned *flags, int *active)
{
	return MREAL(cuDevicePrimaryCtxGetState)(DEV(d), flags, active);
}

static CUresult w_cuDevicePrimaryCtxSetFlags_v2(CUdevice d, unsigned flags)
{
	return MREAL(cuDevicePrimaryCtxSetFlags_v2)(DEV(d), flags);
}

/* --- contexts */

static struct gv_mobj *primary;

/* The modules, functions, streams and events of context o, which the
 * driver destroyed with it. */
static void free_children(struct gv_mobj *o)
{
	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *x = gv_mobj_head; x;) {
		struct gv_mobj *n = x->next;

		if (x != o && (x->ctx == o || (x->mod && x->mod->ctx == o))) {
			pthread_mutex_unlock(&gv_mobj_lock);
			gv_mobj_free(x);
			pthread_mutex_lock(&gv_mobj_lock);
			n = gv_mobj_head; /* the list changed: start over */
		}
		x = n;
	}
	pthread_mutex_unlock(&gv_mobj_lock);
}

static CUresult w_cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice d)
{
	CUcontext c;
	CUresult r;

	IN();
	if (!pctx || DEV(d) < 0)
		OUT(MREAL(cuDevicePrimaryCtxRetain)(pctx, DEV(d)));
	pthread_mutex_lock(&gv_mobj_lock);
	if (primary && primary->refs) {
		primary->refs++;
		*pctx = (CUcontext)primary;
		pthread_mutex_unlock(&gv_mobj_lock);
		OUT(CUDA_SUCCESS);
	}
	pthread_mutex_unlock(&gv_mobj_lock);
	r = MREAL(cuDevicePrimaryCtxRetain)(&c, DEV(d));
	if (r != CUDA_SUCCESS)
		OUT(r);
	if (!primary) {
		primary = gv_mobj_new(GV_MOBJ_CTX, c);
		if (!primary) {
			MREAL(cuDevicePrimaryCtxRelease_v2)(DEV(d));
			OUT(CUDA_ERROR_OUT_OF_MEMORY);
		}
		primary->primary = true;
	}
	primary->real = c;
	primary->refs = 1;
	*pctx = (CUcontext)primary;
	OUT(CUDA_SUCCESS);
}

static CUresult w_cuDevicePrimaryCtxRelease_v2(CUdevice d)
{
	CUresult r = CUDA_SUCCESS;

	IN();
	if (DEV(d) < 0 || !primary || !primary->refs)
		OUT(MREAL(cuDevicePrimaryCtxRelease_v2)(DEV(d)));
	if (--primary->refs == 0) {
		r = MREAL(cuDevicePrimaryCtxRelease_v2)(DEV(d));
		if (r == CUDA_SUCCESS)
			free_children(primary); /* the driver reset the context */
		else
			primary->refs++;
	}
	OUT(r);
}

static CUresult w_cuDevicePrimaryCtxReset_v2(CUdevice d)
{
	CUresult r;

	IN();
	r = MREAL(cuDevicePrimaryCtxReset_v2)(DEV(d));
	if (r == CUDA_SUCCESS && primary) {
		primary->refs = 0;
		free_children(primary);
	}
	OUT(r);
}

static CUresult ctx_made(CUcontext *pctx, CUcontext c, unsigned flags)
{
	struct gv_mobj *o = gv_mobj_new(GV_MOBJ_CTX, c);

	if (!o) {
		MREAL(cuCtxDestroy_v2)(c);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	o->flags = flags;
	gv_mig_push_ctx(o);
	*pctx = (CUcontext)o;
	return CUDA_SUCCESS;
}

static CUresult w_cuCtxCreate_v2(CUcontext *pctx, unsigned flags, CUdevice d)
{
	CUcontext c;
	CUresult r;

	IN();
	if (!pctx)
		OUT(MREAL(cuCtxCreate_v2)(pctx, flags, DEV(d)));
	r = MREAL(cuCtxCreate_v2)(&c, flags, DEV(d));
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(ctx_made(pctx, c, flags));
}

static CUresult w_cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *p, unsigned flags, CUdevice d)
{
	CUcontext c;
	CUresult r;

	IN();
	if (!pctx)
		OUT(MREAL(cuCtxCreate_v4)(pctx, p, flags, DEV(d)));
	if (p) {
		/* execution affinity and CIG contexts cannot be recreated as is */
		gv_mig_taint("the workload created a context with cuCtxCreate_v4 parameters");
	}
	r = MREAL(cuCtxCreate_v4)(&c, p, flags, DEV(d));
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(ctx_made(pctx, c, flags));
}

static CUresult w_cuCtxDestroy_v2(CUcontext ctx)
{
	struct gv_mobj *o = gv_mobj_find(ctx, GV_MOBJ_CTX);
	CUresult r;

	IN();
	if (!o || o->primary)
		OUT(MREAL(cuCtxDestroy_v2)(o ? (CUcontext)o->real : ctx));
	r = MREAL(cuCtxDestroy_v2)((CUcontext)o->real);
	if (r == CUDA_SUCCESS) {
		free_children(o);
		gv_mig_forget_ctx(o);
		MREAL(cuCtxSetCurrent)(gv_mig_cur_ctx() ? (CUcontext)gv_mig_cur_ctx()->real : NULL);
		gv_mobj_free(o);
	}
	OUT(r);
}

static CUresult w_cuCtxSetCurrent(CUcontext ctx)
{
	struct gv_mobj *o = gv_mobj_find(ctx, GV_MOBJ_CTX);
	CUresult r;

	IN();
	if (ctx && !o)
		OUT(MREAL(cuCtxSetCurrent)(ctx));
	r = MREAL(cuCtxSetCurrent)(o ? (CUcontext)o->real : NULL);
	if (r == CUDA_SUCCESS)
		gv_mig_set_cur_ctx(o);
	OUT(r);
}

static CUresult w_cuCtxGetCurrent(CUcontext *pctx)
{
	IN();
	if (!pctx)
		OUT(MREAL(cuCtxGetCurrent)(pctx));
	*pctx = (CUcontext)gv_mig_cur_ctx();
	OUT(CUDA_SUCCESS);
}

static CUresult w_cuCtxPushCurrent_v2(CUcontext ctx)
{
	struct gv_mobj *o = gv_mobj_find(ctx, GV_MOBJ_CTX);
	CUresult r;

	IN();
	if (!o)
		OUT(MREAL(cuCtxPushCurrent_v2)(ctx));
	r = MREAL(cuCtxPushCurrent_v2)((CUcontext)o->real);
	if (r == CUDA_SUCCESS)
		gv_mig_push_ctx(o);
	OUT(r);
}

static CUresult w_cuCtxPopCurrent_v2(CUcontext *pctx)
{
	CUcontext c;
	CUresult r;

	IN();
	r = MREAL(cuCtxPopCurrent_v2)(&c);
	if (r == CUDA_SUCCESS) {
		struct gv_mobj *o = gv_mig_pop_ctx();

		if (pctx)
			*pctx = (CUcontext)o;
	}
	OUT(r);
}

static CUresult w_cuCtxSynchronize(void)
{
	IN();
	OUT(MREAL(cuCtxSynchronize)());
}

static CUresult w_cuCtxGetDevice(CUdevice *d)
{
	CUresult r;

	IN();
	r = MREAL(cuCtxGetDevice)(d);
	if (r == CUDA_SUCCESS && d)
		*d = 0;
	OUT(r);
}

static CUresult w_cuMemGetInfo_v2(size_t *f, size_t *t)
{
	IN();
	OUT(MREAL(cuMemGetInfo_v2)(f, t));
}

/* --- modules and functions */

/* Bytes of a module image, so it can be kept for the reload at the switch:
 * an ELF object (cubin, or the simulator's shared object) ends with its
 * section or program header table; a fatbin has its size in its header;
 * PTX is text. 0 when unknown. */
static size_t image_len(const void *image)
{
	const unsigned char *b = image;
	const uint32_t fatbin_magic = 0xBA55ED50u, wrapper_magic = 0x466243B1u;
	uint32_t m;

	memcpy(&m, b, sizeof(m));
	if (!memcmp(b, ELFMAG, SELFMAG) && b[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		uint64_t a, c;

		memcpy(&eh, b, sizeof(eh));
		a = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
		c = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
		return a > c ? a : c;
	}
	if (m == fatbin_magic) {
		uint16_t hs;
		uint64_t fs;

		memcpy(&hs, b + 6, sizeof(hs));
		memcpy(&fs, b + 8, sizeof(fs));
		return hs + fs;
	}
	if (m == wrapper_magic)
		return 0; /* the fatbin it points at would have to be kept instead */
	return strnlen((const char *)b, 64u << 20) + 1;
}

static CUresult mod_made(CUmodule *pm, CUmodule m, const char *path, const void *image)
{
	struct gv_mobj *o = gv_mobj_new(GV_MOBJ_MOD, m);

	if (!o)
		goto oom;
	o->ctx = gv_mig_cur_ctx();
	if (path) {
		o->path = strdup(path);
		if (!o->path)
			goto oom;
	} else {
		size_t n = image_len(image);

		if (!n)
			gv_mig_taint("the workload loaded a module image of unknown size");
		else if ((o->image = malloc(n)))
			memcpy(o->image, image, n);
		else
			goto oom;
		o->image_len = n;
	}
	*pm = (CUmodule)o;
	return CUDA_SUCCESS;
oom:
	gv_mobj_free(o);
	MREAL(cuModuleUnload)(m);
	return CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult w_cuModuleLoad(CUmodule *pm, const char *fname)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !fname)
		OUT(MREAL(cuModuleLoad)(pm, fname));
	r = MREAL(cuModuleLoad)(&m, fname);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(mod_made(pm, m, fname, NULL));
}

static CUresult w_cuModuleLoadData(CUmodule *pm, const void *image)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !image)
		OUT(MREAL(cuModuleLoadData)(pm, image));
	r = MREAL(cuModuleLoadData)(&m, image);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(mod_made(pm, m, NULL, image));
}

static CUresult w_cuModuleLoadDataEx(CUmodule *pm, const void *image, unsigned n,
				     CUjit_option *opts, void **vals)
{
	CUmodule m;
	CUresult r;

	IN();
	if (!pm || !image)
		OUT(MREAL(cuModuleLoadDataEx)(pm, image, n, opts, vals));
	r = MREAL(cuModuleLoadDataEx)(&m, image, n, opts, vals);
	if (r != CUDA_SUCCESS)
		OUT(r);
	if (n)
		gv_mig_taint("the workload loaded a module with JIT options");
	OUT(mod_made(pm, m, NULL, image));
}

static CUresult w_cuModuleUnload(CUmodule hm)
{
	struct gv_mobj *o = gv_mobj_find(hm, GV_MOBJ_MOD);
	CUresult r;

	IN();
	if (!o)
		OUT(MREAL(cuModuleUnload)(hm));
	r = MREAL(cuModuleUnload)((CUmodule)o->real);
	if (r == CUDA_SUCCESS) {
		pthread_mutex_lock(&gv_mobj_lock);
		for (struct gv_mobj *x = gv_mobj_head; x;) {
			struct gv_mobj *n = x->next;

			if (x->mod == o) {
				pthread_mutex_unlock(&gv_mobj_lock);
				gv_mobj_free(x);
				pthread_mutex_lock(&gv_mobj_lock);
				n = gv_mobj_head;
			}
			x = n;
		}
		pthread_mutex_unlock(&gv_mobj_lock);
		gv_mobj_free(o);
	}
	OUT(r);
}

static CUresult w_cuModuleGetFunction(CUfunction *pf, CUmodule hm, const char *name)
{
	struct gv_mobj *m = gv_mobj_find(hm, GV_MOBJ_MOD), *o = NULL;
	CUfunction f;
	CUresult r;

	IN();
	if (!m || !pf || !name)
		OUT(MREAL(cuModuleGetFunction)(pf, m ? (CUmodule)m->real : hm, name));
	r = MREAL(cuModuleGetFunction)(&f, (CUmodule)m->real, name);
	if (r != CUDA_SUCCESS)
		OUT(r);
	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *x = gv_mobj_head; x && !o; x = x->next)
		if (x->kind == GV_MOBJ_FUNC && x->mod == m && !strcmp(x->name, name))
			o = x;
	pthread_mutex_unlock(&gv_mobj_lock);
	if (!o) {
		char *nm = strdup(name);

		o = nm ? gv_mobj_new(GV_MOBJ_FUNC, f) : NULL;
		if (!o) {
			free(nm);
			OUT(CUDA_ERROR_OUT_OF_MEMORY);
		}
		o->mod = m;
		o->ctx = m->ctx;
		o->name = nm;
	}
	*pf = (CUfunction)o;
	OUT(CUDA_SUCCESS);
}

static CUresult w_cuModuleGetGlobal_v2(CUdeviceptr *dp, size_t *bytes, CUmodule hm,
				       const char *name)
{
	IN();
	gv_mig_taint("the workload took a module global's address with cuModuleGetGlobal");
	OUT(MREAL(cuModuleGetGlobal_v2)(dp, bytes, (CUmodule)gv_mobj_real(hm, GV_MOBJ_MOD), name));
}

SUBMIT_FWD_PT(cuLaunchKernel, cuLaunchKernel_ptsz,
	      (CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
	       unsigned bz, unsigned shm, CUstream s, void **params, void **extra),
	      (FUNC(f), gx, gy, gz, bx, by, bz, shm, STREAM(s), params, extra))

/* --- streams and events */

static CUresult stream_made(CUstream *ps, CUstream s, unsigned flags, int prio)
{
	struct gv_mobj *o = gv_mobj_new(GV_MOBJ_STREAM, s);

	if (!o) {
		MREAL(cuStreamDestroy_v2)(s);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	o->ctx = gv_mig_cur_ctx();
	o->flags = flags;
	o->priority = prio;
	*ps = (CUstream)o;
	return CUDA_SUCCESS;
}

static CUresult w_cuStreamCreate(CUstream *ps, unsigned flags)
{
	CUstream s;
	CUresult r;

	IN();
	if (!ps)
		OUT(MREAL(cuStreamCreate)(ps, flags));
	r = MREAL(cuStreamCreate)(&s, flags);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(stream_made(ps, s, flags, 0));
}

static CUresult w_cuStreamCreateWithPriority(CUstream *ps, unsigned flags, int prio)
{
	CUstream s;
	CUresult r;

	IN();
	if (!ps)
		OUT(MREAL(cuStreamCreateWithPriority)(ps, flags, prio));
	r = MREAL(cuStreamCreateWithPriority)(&s, flags, prio);
	if (r != CUDA_SUCCESS)
		OUT(r);
	OUT(stream_made(ps, s, flags, prio));
}

static CUresult w_cuStreamDestroy_v2(CUstream s)
{
	struct gv_mobj *o = gv_mobj_find(s, GV_MOBJ_STREAM);
	CUresult r;

	IN();
	r = MREAL(cuStreamDestroy_v2)(o ? (CUstream)o->real : s);
	if (r == CUDA_SUCCESS && o)
		gv_mobj_free(o);
	OUT(r);
}

static CUresult w_cuStreamSynchronize(CUstream s)
{
	IN();
	OUT(MREAL(cuStreamSynchronize)(STREAM(s)));
}

static CUresult w_cuStreamQuery(CUstream s)
{
	IN();
	OUT(MREAL(cuStreamQuery)(STREAM(s)));
}

static CUresult w_cuStreamWaitEvent(CUstream s, CUevent e, unsigned flags)
{
	IN();
	OUT(MREAL(cuStreamWaitEvent)(STREAM(s), EVENT(e), flags));
}

static CUresult w_cuEventCreate(CUevent *pe, unsigned flags)
{
	struct gv_mobj *o;
	CUevent e;
	CUresult r;

	IN();
	if (!pe)
		OUT(MREAL(cuEventCreate)(pe, flags));
	r = MREAL(cuEventCreate)(&e, flags);
	if (r != CUDA_SUCCESS)
		OUT(r);
	o = gv_mobj_new(GV_MOBJ_EVENT, e);
	if (!o) {
		MREAL(cuEventDestroy_v2)(e);
		OUT(CUDA_ERROR_OUT_OF_MEMORY);
	}
	o->ctx = gv_mig_cur_ctx();
	o->flags = flags;
	*pe = (CUevent)o;
	OUT(CUDA_SUCCESS);
}

static CUresult w_cuEventRecord(CUevent e, CUstream s)
{
	struct gv_mobj *o = gv_mobj_find(e, GV_MOBJ_EVENT);
	CUresult r;

	IN();
	r = MREAL(cuEventRecord)(EVENT(e), STREAM(s));
	if (r == CUDA_SUCCESS && o)
		o->recorded = true;
	OUT(r);
}

static CUresult w_cuEventSynchronize(CUevent e)
{
	IN();
	OUT(MREAL(cuEventSynchronize)(EVENT(e)));
}

static CUresult w_cuEventQuery(CUevent e)
{
	IN();
	OUT(MREAL(cuEventQuery)(EVENT(e)));
}

static CUresult w_cuEventElapsedTime(float *ms, CUevent a, CUevent b)
{
	IN();
	OUT(MREAL(cuEventElapsedTime)(ms, EVENT(a), EVENT(b)));
}

static CUresult w_cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b)
{
	IN();
	OUT(MREAL(cuEventElapsedTime_v2)(ms, EVENT(a), EVENT(b)));
}

static CUresult w_cuEventDestroy_v2(CUevent e)
{
	struct gv_mobj *o = gv_mobj_find(e, GV_MOBJ_EVENT);
	CUresult r;

	IN();
	r = MREAL(cuEventDestroy_v2)(o ? (CUevent)o->real : e);
	if (r == CUDA_SUCCESS && o)
		gv_mobj_free(o);
	OUT(r);
}

/* --- memory */

static CUresult w_cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
	IN();
	if (!gv_mig_cur_ctx())
		OUT(MREAL(cuMemAlloc_v2)(p, n)); /* the driver's error */
	OUT(gv_mig_alloc(p, n));
}

static CUresult w_cuMemAllocPitch_v2(CUdeviceptr *p, size_t *pitch, size_t w, size_t h,
				     unsigned elem)
{
	size_t pt;
	CUresult r;

	IN();
	if (!p || !pitch || !w || !h || (elem != 4 && elem != 8 && elem != 16) || !gv_mig_cur_ctx())
		OUT(MREAL(cuMemAllocPitch_v2)(p, pitch, w, h, elem));
	pt = (w + 511) / 512 * 512;
	r = gv_mig_alloc(p, gv_mul_sat(pt, h));
	if (r == CUDA_SUCCESS)
		*pitch = pt;
	OUT(r);
}

static CUresult w_cuMemFree_v2(CUdeviceptr p)
{
	CUresult r;

	IN();
	if (!p)
		OUT(CUDA_SUCCESS);
	r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFree_v2)(p); /* not ours (managed memory): the driver's */
	OUT(r);
}

/* Stream-ordered allocation made at once: memory available before the
 * stream reaches the allocation is allowed by the semantics. The free waits
 * for the stream, then frees. */
static CUresult w_cuMemAllocAsync(CUdeviceptr *p, size_t n, CUstream s)
{
	(void)s;
	return w_cuMemAlloc_v2(p, n);
}

static CUresult w_cuMemFreeAsync(CUdeviceptr p, CUstream s)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamSynchronize)(STREAM(s));
	if (r == CUDA_SUCCESS)
		r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFreeAsync)(p, STREAM(s));
	OUT(r);
}

static CUresult w_cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned flags)
{
	IN();
	gv_mig_taint("the workload allocated managed memory (cuMemAllocManaged)");
	OUT(MREAL(cuMemAllocManaged)(p, n, flags));
}

static CUresult w_cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	CUresult r;

	IN();
	r = gv_mig_range(p, base, size);
	if (r != CUDA_SUCCESS)
		r = MREAL(cuMemGetAddressRange_v2)(base, size, p);
	OUT(r);
}

static CUresult w_cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p)
{
	IN();
	gv_mig_taint("the workload called cuIpcGetMemHandle");
	OUT(MREAL(cuIpcGetMemHandle)(h, p));
}

static CUresult w_cuMemCreate(CUmemGenericAllocationHandle *h, size_t size,
			      const CUmemAllocationProp *prop, unsigned long long flags)
{
	CUmemAllocationProp p2;

	IN();
	gv_mig_taint("the workload uses the VMM API itself (cuMemCreate)");
	if (prop && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE) {
		p2 = *prop;
		p2.location.id = DEV(prop->location.id);
		prop = &p2;
	}
	OUT(MREAL(cuMemCreate)(h, size, prop, flags));
}

/* --- memory the shim cannot move: forwarded, the workload marked */

static CUresult w_cuArrayCreate_v2(CUarray *a, const CUDA_ARRAY_DESCRIPTOR *d)
{
	IN();
	TAINTED("CUDA arrays (cuArrayCreate)");
	OUT(MREAL(cuArrayCreate_v2)(a, d));
}

static CUresult w_cuArray3DCreate_v2(CUarray *a, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
	IN();
	TAINTED("CUDA arrays (cuArray3DCreate)");
	OUT(MREAL(cuArray3DCreate_v2)(a, d));
}

static CUresult w_cuMipmappedArrayCreate(CUmipmappedArray *a, const CUDA_ARRAY3D_DESCRIPTOR *d,
					 unsigned levels)
{
	IN();
	TAINTED("mipmapped arrays (cuMipmappedArrayCreate)");
	OUT(MREAL(cuMipmappedArrayCreate)(a, d, levels));
}

static CUresult w_cuIpcOpenMemHandle_v2(CUdeviceptr *p, CUipcMemHandle h, unsigned flags)
{
	IN();
	TAINTED("another process's memory (cuIpcOpenMemHandle)");
	OUT(MREAL(cuIpcOpenMemHandle_v2)(p, h, flags));
}

static CUresult w_cuImportExternalMemory(CUexternalMemory *m,
					 const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *d)
{
	IN();
	TAINTED("external memory (cuImportExternalMemory)");
	OUT(MREAL(cuImportExternalMemory)(m, d));
}

static CUresult w_cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	IN();
	TAINTED("memory pools (cuMemPoolCreate)");
	OUT(MREAL(cuMemPoolCreate)(pool, props));
}

static CUresult w_cuMemHostGetDevicePointer_v2(CUdeviceptr *p, void *h, unsigned flags)
{
	IN();
	TAINTED("mapped host memory (cuMemHostGetDevicePointer)");
	OUT(MREAL(cuMemHostGetDevicePointer_v2)(p, h, flags));
}

static CUresult w_cuLibraryLoadData(CUlibrary *lib, const void *code, CUjit_option *jo, void **jv,
				    unsigned njo, CUlibraryOption *lo, void **lv, unsigned nlo)
{
	IN();
	TAINTED("the library API (cuLibraryLoadData)");
	OUT(MREAL(cuLibraryLoadData)(lib, code, jo, jv, njo, lo, lv, nlo));
}

static CUresult w_cuLibraryLoadFromFile(CUlibrary *lib, const char *file, CUjit_option *jo,
					void **jv, unsigned njo, CUlibraryOption *lo, void **lv,
					unsigned nlo)
{
	IN();
	TAINTED("the library API (cuLibraryLoadFromFile)");
	OUT(MREAL(cuLibraryLoadFromFile)(lib, file, jo, jv, njo, lo, lv, nlo));
}

/* The pre-3.2 entry points with 32-bit device pointers cannot address VMM
 * ranges: refused like the entry points in mig-refuse.txt. */
static CUresult w_legacy_cuMemAlloc(void)
{
	return gv_mig_refuse(GV_SYM_cuMemAlloc);
}

static CUresult w_legacy_cuMemAllocPitch(void)
{
	return gv_mig_refuse(GV_SYM_cuMemAllocPitch);
}

static CUresult w_legacy_cuMemFree(void)
{
	return gv_mig_refuse(GV_SYM_cuMemFree);
}

static CUresult w_legacy_cuArrayCreate(void)
{
	return gv_mig_refuse(GV_SYM_cuArrayCreate);
}

static CUresult w_legacy_cuArray3DCreate(void)
{
	return gv_mig_refuse(GV_SYM_cuArray3DCreate);
}

static CUresult w_legacy_cuMemHostGetDevicePointer(void)
{
	return gv_mig_refuse(GV_SYM_cuMemHostGetDevicePointer);
}

static CUresult w_legacy_cuMemGetAddressRange(void)
{
	return gv_mig_refuse(GV_SYM_cuMemGetAddressRange);
}

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

/* --- per-thread default stream: the _ptsz/_ptds variants take the same
 * handles as their plain versions, translated the same way, and go to the
 * driver's _ptsz/_ptds entry point (there a NULL stream is the calling
 * thread's default stream, not the legacy one). */

static CUresult w_cuStreamSynchronize_ptsz(CUstream s)
{
	IN();
	OUT(MREAL(cuStreamSynchronize_ptsz)(STREAM(s)));
}

static CUresult w_cuStreamQuery_ptsz(CUstream s)
{
	IN();
	OUT(MREAL(cuStreamQuery_ptsz)(STREAM(s)));
}

static CUresult w_cuStreamWaitEvent_ptsz(CUstream s, CUevent e, unsigned flags)
{
	IN();
	OUT(MREAL(cuStreamWaitEvent_ptsz)(STREAM(s), EVENT(e), flags));
}

/* An event recorded once is recorded again on the destination at the
 * switch, so that it reads as complete there. */
CUresult gv_mig_event_recorded(CUevent e, CUresult r)
{
	struct gv_mobj *o = gv_mobj_find(e, GV_MOBJ_EVENT);

	if (r == CUDA_SUCCESS && o)
		o->recorded = true;
	return r;
}

static CUresult w_cuEventRecord_ptsz(CUevent e, CUstream s)
{
	IN();
	OUT(gv_mig_event_recorded(e, MREAL(cuEventRecord_ptsz)(EVENT(e), STREAM(s))));
}

static CUresult w_cuEventRecordWithFlags(CUevent e, CUstream s, unsigned flags)
{
	IN();
	OUT(gv_mig_event_recorded(e, MREAL(cuEventRecordWithFlags)(EVENT(e), STREAM(s), flags)));
}

static CUresult w_cuEventRecordWithFlags_ptsz(CUevent e, CUstream s, unsigned flags)
{
	IN();
	OUT(gv_mig_event_recorded(e,
				  MREAL(cuEventRecordWithFlags_ptsz)(EVENT(e), STREAM(s), flags)));
}

static CUresult w_cuMemAllocAsync_ptsz(CUdeviceptr *p, size_t n, CUstream s)
{
	(void)s;
	return w_cuMemAlloc_v2(p, n);
}

static CUresult w_cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamSynchronize_ptsz)(STREAM(s));
	if (r == CUDA_SUCCESS)
		r = gv_mig_free(p);
	if (r == CUDA_ERROR_INVALID_VALUE)
		r = MREAL(cuMemFreeAsync_ptsz)(p, STREAM(s));
	OUT(r);
}

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

/* --- cuLaunchKernelEx: the function, the stream and the events of the
 * launch attributes are translated; attributes that carry only values pass
 * as they are; any other (the graph-only device-updatable kernel node, ids
 * newer than this shim) is refused, since it may carry a handle. */

static bool attr_known(CUlaunchAttributeID id)
{
	switch (id) {
	case CU_LAUNCH_ATTRIBUTE_IGNORE:
	case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
	case CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
	case CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY:
	case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
	case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
	case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION:
	case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT:
	case CU_LAUNCH_ATTRIBUTE_PRIORITY:
	case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
	case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN:
	case CU_LAUNCH_ATTRIBUTE_PREFERRED_CLUSTER_DIMENSION:
	case CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT:
	case CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
	case CU_LAUNCH_ATTRIBUTE_NVLINK_UTIL_CENTRIC_SCHEDULING:
		return true;
	default:
		return false;
	}
}

#define LAUNCH_ATTRS_LOCAL 8

/* The event handle of an event attribute (the application's), NULL for
 * other attributes. */
static CUevent *attr_event(CUlaunchAttribute *a)
{
	if (a->id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT)
		return &a->value.programmaticEvent.event;
	if (a->id == CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT)
		return &a->value.launchCompletionEvent.event;
	return NULL;
}

static CUresult launch_ex(const CUlaunchConfig *c, CUfunction f, void **params, void **extra,
			  bool pt)
{
	const int sym = pt ? GV_SYM_cuLaunchKernelEx_ptsz : GV_SYM_cuLaunchKernelEx;
	CUlaunchAttribute local[LAUNCH_ATTRS_LOCAL], *a = local;
	const unsigned n = c && c->attrs ? c->numAttrs : 0;
	CUlaunchConfig cfg;
	CUresult r;

	for (unsigned i = 0; i < n; i++)
		if (!attr_known(c->attrs[i].id))
			return gv_mig_refuse_why(sym,
						 "a launch attribute that is not a plain value");
	if (n > LAUNCH_ATTRS_LOCAL) {
		a = malloc(n * sizeof(*a));
		if (!a)
			return CUDA_ERROR_OUT_OF_MEMORY;
	}
	SUBMIT();
	if (c) {
		cfg = *c;
		cfg.hStream = STREAM(c->hStream);
		for (unsigned i = 0; i < n; i++) {
			CUevent *e;

			a[i] = c->attrs[i];
			if ((e = attr_event(&a[i])))
				*e = EVENT(*e);
		}
		if (n)
			cfg.attrs = a;
	}
	r = pt ? MREAL(cuLaunchKernelEx_ptsz)(c ? &cfg : NULL, FUNC(f), params, extra)
	       : MREAL(cuLaunchKernelEx)(c ? &cfg : NULL, FUNC(f), params, extra);
	/* the launch recorded the attributes' events */
	for (unsigned i = 0; r == CUDA_SUCCESS && i < n; i++) {
		CUevent *e;

		a[i] = c->attrs[i];
		if ((e = attr_event(&a[i])))
			gv_mig_event_recorded(*e, r);
	}
	if (a != local)
		free(a);
	OUT(r);
}

static CUresult w_cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction f, void **params,
				   void **extra)
{
	return launch_ex(c, f, params, extra, false);
}

static CUresult w_cuLaunchKernelEx_ptsz(const CUlaunchConfig *c, CUfunction f, void **params,
					void **extra)
{
	return launch_ex(c, f, params, extra, true);
}

SUBMIT_FWD_PT(cuLaunchHostFunc, cuLaunchHostFunc_ptsz, (CUstream s, CUhostFn fn, void *data),
	      (STREAM(s), fn, data))

/* --- stream queries: answers in the application's terms (its context
 * handle, device 0, the id the stream had when first asked: a stream
 * recreated at a migration keeps it) */

/* The shim context bound to driver context c; NULL if none. */
struct gv_mobj *gv_mig_ctx_of_real(CUcontext c)
{
	struct gv_mobj *o = NULL;

	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *x = gv_mobj_head; x && !o; x = x->next)
		if (x->kind == GV_MOBJ_CTX && x->real == (void *)c)
			o = x;
	pthread_mutex_unlock(&gv_mobj_lock);
	return o;
}

static CUresult stream_ctx(CUstream s, CUcontext *pctx, bool pt)
{
	CUcontext c;
	CUresult r;

	IN();
	if (!pctx)
		OUT(pt ? MREAL(cuStreamGetCtx_ptsz)(STREAM(s), pctx)
		       : MREAL(cuStreamGetCtx)(STREAM(s), pctx));
	r = pt ? MREAL(cuStreamGetCtx_ptsz)(STREAM(s), &c) : MREAL(cuStreamGetCtx)(STREAM(s), &c);
	if (r == CUDA_SUCCESS) {
		struct gv_mobj *o = gv_mig_ctx_of_real(c);

		if (!o)
			gv_mig_taint("cuStreamGetCtx returned a context the shim did not create");
		*pctx = o ? (CUcontext)o : c;
	}
	OUT(r);
}

static CUresult w_cuStreamGetCtx(CUstream s, CUcontext *pctx)
{
	return stream_ctx(s, pctx, false);
}

static CUresult w_cuStreamGetCtx_ptsz(CUstream s, CUcontext *pctx)
{
	return stream_ctx(s, pctx, true);
}

static CUresult w_cuStreamGetFlags(CUstream s, unsigned *flags)
{
	IN();
	OUT(MREAL(cuStreamGetFlags)(STREAM(s), flags));
}

static CUresult w_cuStreamGetFlags_ptsz(CUstream s, unsigned *flags)
{
	IN();
	OUT(MREAL(cuStreamGetFlags_ptsz)(STREAM(s), flags));
}

static CUresult w_cuStreamGetPriority(CUstream s, int *prio)
{
	IN();
	OUT(MREAL(cuStreamGetPriority)(STREAM(s), prio));
}

static CUresult w_cuStreamGetPriority_ptsz(CUstream s, int *prio)
{
	IN();
	OUT(MREAL(cuStreamGetPriority_ptsz)(STREAM(s), prio));
}

static CUresult stream_id(CUstream s, unsigned long long *id, bool pt)
{
	struct gv_mobj *o = gv_mobj_find(s, GV_MOBJ_STREAM);
	CUresult r;

	IN();
	if (o && id && o->stream_id) {
		*id = o->stream_id;
		OUT(CUDA_SUCCESS);
	}
	r = pt ? MREAL(cuStreamGetId_ptsz)(STREAM(s), id) : MREAL(cuStreamGetId)(STREAM(s), id);
	if (r == CUDA_SUCCESS && o)
		o->stream_id = *id;
	OUT(r);
}

static CUresult w_cuStreamGetId(CUstream s, unsigned long long *id)
{
	return stream_id(s, id, false);
}

static CUresult w_cuStreamGetId_ptsz(CUstream s, unsigned long long *id)
{
	return stream_id(s, id, true);
}

static CUresult w_cuStreamGetDevice(CUstream s, CUdevice *d)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamGetDevice)(STREAM(s), d);
	if (r == CUDA_SUCCESS && d)
		*d = 0;
	OUT(r);
}

static CUresult w_cuStreamGetDevice_ptsz(CUstream s, CUdevice *d)
{
	CUresult r;

	IN();
	r = MREAL(cuStreamGetDevice_ptsz)(STREAM(s), d);
	if (r == CUDA_SUCCESS && d)
		*d = 0;
	OUT(r);
}

/* --- pointer attributes: the context and the device ordinal in the
 * application's terms, the rest as the driver answers. */

static void pointer_attr_app(CUpointer_attribute a, void *data)
{
	if (a == CU_POINTER_ATTRIBUTE_CONTEXT && *(CUcontext *)data) {
		struct gv_mobj *o = gv_mig_ctx_of_real(*(CUcontext *)data);

		if (o)
			*(CUcontext *)data = (CUcontext)o;
	} else if (a == CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL &&
		   *(int *)data == atomic_load(&gv_mig_dev)) {
		*(int *)data = 0;
	}
}

static CUresult w_cuPointerGetAttribute(void *data, CUpointer_attribute a, CUdeviceptr p)
{
	CUresult r;

	IN();
	r = MREAL(cuPointerGetAttribute)(data, a, p);
	if (r == CUDA_SUCCESS && data)
		pointer_attr_app(a, data);
	OUT(r);
}

static CUresult w_cuPointerGetAttributes(unsigned n, CUpointer_attribute *a, void **data,
					 CUdeviceptr p)
{
	CUresult r;

	IN();
	r = MREAL(cuPointerGetAttributes)(n, a, data, p);
	if (r == CUDA_SUCCESS && a && data)
		for (unsigned i = 0; i < n; i++)
			if (data[i])
				pointer_attr_app(a[i], data[i]);
	OUT(r);
}

/* --- entry point lookup: a driver pointer whose slot the migration layer
 * replaced, for a name the shim does not intercept in C, becomes the
 * replacement (procaddr.c maps the intercepted ones to the shim's C
 * function, which reaches the replacement through GV_REAL). */

static void map_pfn(void **pfn)
{
	int i;

	if (!pfn || !*pfn)
		return;
	i = gv_shim_lookup_real(*pfn);
	if (i >= 0 && !gv_shim_hook[i] && gv_shim_real[i] != gv_mig_real[i])
		*pfn = gv_shim_real[i];
}

static CUresult w_cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
				      CUdriverProcAddressQueryResult *st)
{
	CUresult r = MREAL(cuGetProcAddress_v2)(sym, pfn, ver, flags, st);

	if (r == CUDA_SUCCESS)
		map_pfn(pfn);
	return r;
}

static CUresult w_cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags)
{
	CUresult r = MREAL(cuGetProcAddress)(sym, pfn, ver, flags);

	if (r == CUDA_SUCCESS)
		map_pfn(pfn);
	return r;
}

struct gv_mig_wrap_ent {
	int sym;
	void *fn;
};

const struct gv_mig_wrap_ent gv_mig_wrap_tab[] = {
	W(cuInit),
	W(cuDeviceGetCount),
	W(cuDeviceGet),
	W(cuDeviceGetAttribute),
	W(cuDeviceGetName),
	W(cuDeviceGetUuid),
	W(cuDeviceGetUuid_v2),
	W(cuDeviceTotalMem_v2),
	W(cuDeviceComputeCapability),
	W(cuDevicePrimaryCtxGetState),
	W(cuDevicePrimaryCtxSetFlags_v2),
	W(cuDevicePrimaryCtxRetain),
	W(cuDevicePrimaryCtxRelease_v2),
	W(cuDevicePrimaryCtxReset_v2),
	W(cuCtxCreate_v2),
	W(cuCtxCreate_v4),
	W(cuCtxDestroy_v2),
	W(cuCtxSetCurrent),
	W(cuCtxGetCurrent),
	W(cuCtxPushCurrent_v2),
	W(cuCtxPopCurrent_v2),
	W(cuCtxSynchronize),
	W(cuCtxGetDevice),
	W(cuMemGetInfo_v2),
	W(cuModuleLoad),
	W(cuModuleLoadData),
	W(cuModuleLoadDataEx),
	W(cuModuleUnload),
	W(cuModuleGetFunction),
	W(cuModuleGetGlobal_v2),
	W(cuLaunchKernel),
	W(cuStreamCreate),
	W(cuStreamCreateWithPriority),
	W(cuStreamDestroy_v2),
	W(cuStreamSynchronize),
	W(cuStreamQuery),
	W(cuStreamWaitEvent),
	W(cuEventCreate),
	W(cuEventRecord),
	W(cuEventSynchronize),
	W(cuEventQuery),
	W(cuEventElapsedTime),
	W(cuEventElapsedTime_v2),
	W(cuEventDestroy_v2),
	W(cuMemAlloc_v2),
	W(cuMemAllocPitch_v2),
	W(cuMemFree_v2),
	W(cuMemAllocAsync),
	W(cuMemFreeAsync),
	W(cuMemAllocManaged),
	W(cuMemGetAddressRange_v2),
	W(cuIpcGetMemHandle),
	W(cuMemCreate),
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
	W(cuGetProcAddress_v2),
	W(cuGetProcAddress),
	W(cuArrayCreate_v2),
	W(cuArray3DCreate_v2),
	W(cuMipmappedArrayCreate),
	W(cuIpcOpenMemHandle_v2),
	W(cuImportExternalMemory),
	W(cuMemPoolCreate),
	W(cuMemHostGetDevicePointer_v2),
	W(cuLibraryLoadData),
	W(cuLibraryLoadFromFile),
	W(cuLaunchKernel_ptsz),
	W(cuStreamSynchronize_ptsz),
	W(cuStreamQuery_ptsz),
	W(cuStreamWaitEvent_ptsz),
	W(cuEventRecord_ptsz),
	W(cuEventRecordWithFlags),
	W(cuEventRecordWithFlags_ptsz),
	W(cuMemAllocAsync_ptsz),
	W(cuMemFreeAsync_ptsz),
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
	W(cuLaunchKernelEx),
	W(cuLaunchKernelEx_ptsz),
	W(cuLaunchHostFunc),
	W(cuLaunchHostFunc_ptsz),
	W(cuStreamGetCtx),
	W(cuStreamGetCtx_ptsz),
	W(cuStreamGetFlags),
	W(cuStreamGetFlags_ptsz),
	W(cuStreamGetPriority),
	W(cuStreamGetPriority_ptsz),
	W(cuStreamGetId),
	W(cuStreamGetId_ptsz),
	W(cuStreamGetDevice),
	W(cuStreamGetDevice_ptsz),
	W(cuPointerGetAttribute),
	W(cuPointerGetAttributes),
	{ GV_SYM_cuMemAlloc, (void *)w_legacy_cuMemAlloc },
	{ GV_SYM_cuMemAllocPitch, (void *)w_legacy_cuMemAllocPitch },
	{ GV_SYM_cuMemFree, (void *)w_legacy_cuMemFree },
	{ GV_SYM_cuArrayCreate, (void *)w_legacy_cuArrayCreate },
	{ GV_SYM_cuArray3DCreate, (void *)w_legacy_cuArray3DCreate },
	{ GV_SYM_cuMemHostGetDevicePointer, (void *)w_legacy_cuMemHostGetDevicePointer },
	{ GV_SYM_cuMemGetAddressRange, (void *)w_legacy_cuMemGetAddressRange },
};
const size_t gv_mig_wrap_n = sizeof(gv_mig_wrap_tab) / sizeof(gv_mig_wrap_tab[0]);

/* Migration mode, wrappers: contexts, the primary context included.
 *
 * The application holds shim context objects (gv_mobj, mig_obj.c) so that
 * the driver contexts behind them can be recreated at the switch; the
 * primary context is one shim object with the application's retain count.
 * A context the driver destroys or resets takes its modules, functions,
 * streams and events with it. cuMemGetInfo is here as a per-context query.
 * gv_mig_ctx_of_real, the driver context back to the shim's, serves the
 * stream and pointer queries (mig_wrap_stream.c, mig_wrap_mem.c).
 */
#include "mig_wrap_internal.h"

/* --- the primary context and contexts */

static CUresult w_cuDevicePrimaryCtxGetState(CUdevice d, unsigned *flags, int *active)
{
	return MREAL(cuDevicePrimaryCtxGetState)(DEV(d), flags, active);
}

static CUresult w_cuDevicePrimaryCtxSetFlags_v2(CUdevice d, unsigned flags)
{
	return MREAL(cuDevicePrimaryCtxSetFlags_v2)(DEV(d), flags);
}

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

/* --- driver context -> shim context, for the stream and pointer queries */

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

const struct gv_mig_wrap_ent gv_mig_wrap_ctx[] = {
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
	W_END,
};

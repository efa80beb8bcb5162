/* Migration mode, wrappers: streams and events, with their per-thread
 * default stream variants and the stream queries.
 *
 * Streams and events are shim objects recreated at the switch with their
 * flags and priority; an event remembers that it was recorded
 * (gv_mig_event_recorded, also used by the launches that record events,
 * mig_wrap_launch.c), and a stream the id the application first read.
 */
#include "mig_wrap_internal.h"

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

/* --- stream queries: answers in the application's terms (its context
 * handle, device 0, the id the stream had when first asked: a stream
 * recreated at a migration keeps it) */

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

const struct gv_mig_wrap_ent gv_mig_wrap_stream[] = {
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
	W(cuStreamSynchronize_ptsz),
	W(cuStreamQuery_ptsz),
	W(cuStreamWaitEvent_ptsz),
	W(cuEventRecord_ptsz),
	W(cuEventRecordWithFlags),
	W(cuEventRecordWithFlags_ptsz),
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
	W_END,
};

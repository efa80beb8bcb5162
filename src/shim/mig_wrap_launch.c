/* Migration mode, wrappers: kernel launches and host functions.
 *
 * A launch passes the throttle and the gate (SUBMIT) with its function and
 * stream translated; cuLaunchKernelEx also translates the events of its
 * launch attributes and marks them recorded (mig_wrap_stream.c), and
 * refuses an attribute that may carry a handle.
 */
#include "mig_wrap_internal.h"

#include <stdlib.h>

/* --- cuLaunchKernel: the function and the stream translated */

SUBMIT_FWD_PT(cuLaunchKernel, cuLaunchKernel_ptsz,
	      (CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
	       unsigned bz, unsigned shm, CUstream s, void **params, void **extra),
	      (FUNC(f), gx, gy, gz, bx, by, bz, shm, STREAM(s), params, extra))

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

const struct gv_mig_wrap_ent gv_mig_wrap_launch[] = {
	W(cuLaunchKernel),
	W(cuLaunchKernel_ptsz),
	W(cuLaunchKernelEx),
	W(cuLaunchKernelEx_ptsz),
	W(cuLaunchHostFunc),
	W(cuLaunchHostFunc_ptsz),
	W_END,
};

/* Migration mode: the entry points the migration layer handles, and what
 * the files of their wrappers (mig_wrap_*.c) share.
 *
 * Each wrapper passes the gate (gv_mig_enter/leave), translates the
 * application's handles (shim objects) to the driver's, and answers device
 * ordinal 0 with the device in use. They sit below the shim's partition
 * accounting (gv_shim_real slots, mig_internal.h), so every wrapper calls
 * the driver through MREAL. What the application can do here is what the
 * sample workloads, the tests and a typical driver-API program do; every
 * other entry point that takes a handle or writes device memory is refused
 * (mig-refuse.txt), and the ones that make a workload unmovable are
 * forwarded after marking it non-migratable with the reason.
 *
 * The wrappers are split by API family, one file each, as the simulator's
 * sim_*.c are: mig_wrap_device.c (init, devices, the entry point lookup),
 * mig_wrap_ctx.c (contexts, the primary context, cuMemGetInfo),
 * mig_wrap_module.c (modules, functions, globals, libraries),
 * mig_wrap_stream.c (streams, events, stream queries), mig_wrap_mem.c
 * (device memory, the kinds the shim cannot move, pointer attributes),
 * mig_wrap_copy.c (copies and sets) and mig_wrap_launch.c (launches). A
 * wrapper w_<name> is static to its family's file, which ends with its
 * table gv_mig_wrap_<family>[] (W(name) rows, W_END last); mig_wrap.c
 * lists the tables for mig_init.c, and update-mig-refuse.py reads the
 * wrapped names from them. This header holds what the families share: the
 * macros, the tables' declarations and the two helpers one family lends
 * another. The families call each other one way only (launch -> stream ->
 * ctx, mem -> ctx); the refusals with a reason are mig_init.c's
 * (gv_mig_refuse_why), beside gv_mig_refuse and gv_mig_taint.
 */
#ifndef GV_MIG_WRAP_INTERNAL_H
#define GV_MIG_WRAP_INTERNAL_H

#include "mig_internal.h"

#define IN() gv_mig_enter()
#define OUT(r)                     \
	do {                       \
		CUresult r_ = (r); \
		gv_mig_leave();    \
		return r_;         \
	} while (0)
#define STREAM(s) ((CUstream)gv_mobj_real((s), GV_MOBJ_STREAM))
#define EVENT(e) ((CUevent)gv_mobj_real((e), GV_MOBJ_EVENT))
#define DEV(d) gv_mig_dev_real(d)
#define FUNC(f) ((CUfunction)gv_mobj_real((f), GV_MOBJ_FUNC))
/* Work submissions (launches, copies, sets) pay the auto-converge throttle
 * first (mig_throttle.c), outside the gate; a time-sliced process paid it
 * already, before its slice was taken (gate.c). */
#define SUBMIT()                                 \
	do {                                     \
		if (!gv_gate_on)                 \
			gv_mig_throttle_point(); \
		gv_mig_enter();                  \
	} while (0)
/* A submission whose wrapper only translates handles: w_name(params)
 * passes the throttle and the gate and forwards args to the driver. */
#define SUBMIT_FWD(name, params, args)  \
	static CUresult w_##name params \
	{                               \
		SUBMIT();               \
		OUT(MREAL(name) args);  \
	}
/* The same for an entry point and its per-thread-default-stream variant
 * pt (_ptsz/_ptds): same handles, translated the same way, each to its own
 * driver entry point (for pt a NULL stream is the calling thread's default
 * stream, not the legacy one). */
#define SUBMIT_FWD_PT(name, pt, params, args) \
	SUBMIT_FWD(name, params, args)        \
	SUBMIT_FWD(pt, params, args)

/* A wrapper that forwards memory the shim cannot move and marks the
 * workload non-migratable. */
#define TAINTED(what) gv_mig_taint("the workload used %s, which the shim cannot move yet", what)

/* One row of a family's table: the wrapper w_name installed for name. */
#define W(name)                                 \
	{                                       \
		GV_SYM_##name, (void *)w_##name \
	}
/* The row that ends a family's table. */
#define W_END            \
	{                \
		-1, NULL \
	}

/* --- the families' tables (mig_wrap.c lists them) */
extern const struct gv_mig_wrap_ent gv_mig_wrap_device[]; /* mig_wrap_device.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_ctx[];	  /* mig_wrap_ctx.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_module[]; /* mig_wrap_module.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_stream[]; /* mig_wrap_stream.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_mem[];	  /* mig_wrap_mem.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_copy[];	  /* mig_wrap_copy.c */
extern const struct gv_mig_wrap_ent gv_mig_wrap_launch[]; /* mig_wrap_launch.c */

/* --- mig_wrap_ctx.c: the shim context bound to driver context c; NULL if
 * none (for the stream and pointer queries). */
struct gv_mobj *gv_mig_ctx_of_real(CUcontext c);

/* --- mig_wrap_stream.c: marks event e recorded when r is CUDA_SUCCESS
 * (the launches' events too); returns r. */
CUresult gv_mig_event_recorded(CUevent e, CUresult r);

#endif

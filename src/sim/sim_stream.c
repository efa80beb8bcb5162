/* Streams and events.
 *
 * Every stream has a worker thread that runs its operations in submission
 * order. The legacy default stream (NULL / CU_STREAM_LEGACY in the
 * non-_ptsz entry points) keeps CUDA's implicit synchronisation: work
 * submitted to it starts after all earlier work of the context's blocking
 * streams, and work submitted to a blocking stream starts after all earlier
 * work of the legacy stream (the host waits for that before queueing, which
 * preserves the order). CU_STREAM_NON_BLOCKING streams are exempt. The
 * per-thread default stream (CU_STREAM_PER_THREAD, or NULL in _ptsz entry
 * points) is one blocking stream per thread and context.
 *
 * An event counts its records: recording queues an operation that marks
 * record number n complete with a timestamp; cuStreamWaitEvent waits for
 * the record current at call time, as CUDA does.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "sim_internal.h"

#define STREAM_MAGIC 0x5354524du
#define EVENT_MAGIC 0x45564e54u

static pthread_mutex_t stream_reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct reg_node {
	void *obj;
	struct reg_node *next;
};
static struct reg_node *stream_reg;
static atomic_ullong stream_ids;

static pthread_mutex_t sim_ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_ev_cond = PTHREAD_COND_INITIALIZER;
static struct sim_event *events; /* live events, guarded by sim_ev_lock */

struct event_priv {
	struct sim_event pub;
	int refs;  /* 1 for the handle + 1 per queued operation */
	bool dead; /* handle destroyed */
};

void sim_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static void reg_add(void *obj)
{
	struct reg_node *n = calloc(1, sizeof(*n));

	if (!n)
		return;
	n->obj = obj;
	pthread_mutex_lock(&stream_reg_lock);
	n->next = stream_reg;
	stream_reg = n;
	pthread_mutex_unlock(&stream_reg_lock);
}

static void reg_del(void *obj)
{
	pthread_mutex_lock(&stream_reg_lock);
	for (struct reg_node **pp = &stream_reg; *pp; pp = &(*pp)->next)
		if ((*pp)->obj == obj) {
			struct reg_node *n = *pp;

			*pp = n->next;
			free(n);
			break;
		}
	pthread_mutex_unlock(&stream_reg_lock);
}

static bool stream_valid(struct sim_stream *s)
{
	bool ok = false;

	pthread_mutex_lock(&stream_reg_lock);
	for (struct reg_node *n = stream_reg; n; n = n->next)
		if (n->obj == s) {
			ok = true;
			break;
		}
	pthread_mutex_unlock(&stream_reg_lock);
	return ok && sim_ctx_valid(s->ctx);
}

static void *stream_worker(void *arg)
{
	struct sim_stream *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct sim_op *op;

		while (!s->head && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->head)
			break;
		op = s->head;
		pthread_mutex_unlock(&s->lock);
		op->run(op);
		if (op->fini)
			op->fini(op);
		pthread_mutex_lock(&s->lock);
		s->head = op->next;
		if (!s->head)
			s->tail = NULL;
		free(op);
		s->completed++;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct sim_stream *sim_stream_new(struct sim_ctx *c, unsigned flags, int priority, bool is_null)
{
	struct sim_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->magic = STREAM_MAGIC;
	s->ctx = c;
	s->flags = flags;
	s->priority = priority;
	s->is_null = is_null;
	s->id = atomic_fetch_add(&stream_ids, 1) + 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, stream_worker, s) != 0) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
		return NULL;
	}
	s->thread_started = true;
	if (!is_null)
		reg_add(s);
	return s;
}

void sim_stream_free(struct sim_stream *s)
{
	if (!s)
		return;
	reg_del(s);
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

void sim_stream_sync(struct sim_stream *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->completed != s->submitted)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

bool sim_stream_sync_until(struct sim_stream *s, const struct timespec *deadline)
{
	bool idle;

	if (!s)
		return true;
	pthread_mutex_lock(&s->lock);
	while (s->completed != s->submitted) {
		if (!deadline)
			pthread_cond_wait(&s->cond, &s->lock);
		else if (pthread_cond_timedwait(&s->cond, &s->lock, deadline) == ETIMEDOUT)
			break;
	}
	idle = s->completed == s->submitted;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

bool sim_stream_idle(struct sim_stream *s)
{
	bool idle;

	pthread_mutex_lock(&s->lock);
	idle = s->completed == s->submitted;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

/* Legacy-stream ordering, applied by the host before queueing. */
static void legacy_order(struct sim_stream *s)
{
	struct sim_ctx *c = s->ctx;

	if (s->is_null) {
		/* held while waiting: no stream of the list goes away meanwhile */
		pthread_mutex_lock(&c->lock);
		for (struct sim_stream *o = c->streams; o; o = o->next)
			if (!(o->flags & CU_STREAM_NON_BLOCKING))
				sim_stream_sync(o);
		pthread_mutex_unlock(&c->lock);
	} else if (!(s->flags & CU_STREAM_NON_BLOCKING) && c->null_stream) {
		sim_stream_sync(c->null_stream);
	}
}

void sim_stream_submit(struct sim_stream *s, struct sim_op *op)
{
	SIM_GATE_SECTION();

	legacy_order(s);
	op->next = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->tail)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	s->submitted++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void sim_stream_run_sync(struct sim_stream *s, struct sim_op *op)
{
	sim_stream_submit(s, op);
	sim_stream_sync(s);
}

/* ---- per-thread default streams ---- */

#define PT_MAX 16
static _Thread_local struct {
	struct sim_ctx *ctx;
	unsigned long long ctx_id;
	struct sim_stream *s;
} pt_streams[PT_MAX];

static struct sim_stream *per_thread_stream(struct sim_ctx *c)
{
	struct sim_stream *s;
	int slot = -1;

	for (int i = 0; i < PT_MAX; i++) {
		if (pt_streams[i].ctx == c && pt_streams[i].ctx_id == c->id && stream_valid(pt_streams[i].s))
			return pt_streams[i].s;
		if (slot < 0 && (!pt_streams[i].ctx || !sim_ctx_valid(pt_streams[i].ctx) ||
				 pt_streams[i].ctx_id != pt_streams[i].ctx->id))
			slot = i;
	}
	s = sim_stream_new(c, 0, 0, false);
	if (!s)
		return NULL;
	s->per_thread = true;
	pthread_mutex_lock(&c->lock);
	s->next = c->streams;
	c->streams = s;
	pthread_mutex_unlock(&c->lock);
	if (slot >= 0) {
		pt_streams[slot].ctx = c;
		pt_streams[slot].ctx_id = c->id;
		pt_streams[slot].s = s;
	}
	return s;
}

CUresult sim_stream_resolve(CUstream h, bool per_thread_default, struct sim_stream **out)
{
	struct sim_ctx *c;
	CUresult rc;

	*out = NULL;
	if (!h)
		h = per_thread_default ? CU_STREAM_PER_THREAD : CU_STREAM_LEGACY;
	if (h == CU_STREAM_LEGACY || h == CU_STREAM_PER_THREAD) {
		rc = sim_ctx_require(&c);
		if (rc != CUDA_SUCCESS)
			return rc;
		*out = h == CU_STREAM_LEGACY ? c->null_stream : per_thread_stream(c);
		return *out ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
	}
	rc = sim_check_init();
	if (rc != CUDA_SUCCESS)
		return rc;
	if (!stream_valid((struct sim_stream *)h))
		return CUDA_ERROR_INVALID_HANDLE;
	*out = (struct sim_stream *)h;
	return CUDA_SUCCESS;
}

/* ---- stream API ---- */

static CUresult stream_create(CUstream *ph, unsigned flags, int priority)
{
	struct sim_ctx *c;
	struct sim_stream *s;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ph || (flags & ~(unsigned)CU_STREAM_NON_BLOCKING))
		return CUDA_ERROR_INVALID_VALUE;
	/* priorities are clamped to the range, as CUDA does */
	if (priority > 0)
		priority = 0;
	if (priority < -5)
		priority = -5;
	s = sim_stream_new(c, flags, priority, false);
	if (!s)
		return CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&c->lock);
	s->next = c->streams;
	c->streams = s;
	pthread_mutex_unlock(&c->lock);
	*ph = (CUstream)s;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags)
{
	return stream_create(phStream, Flags, 0);
}

SIM_API CUresult cuStreamCreateWithPriority(CUstream *phStream, unsigned int flags, int priority)
{
	return stream_create(phStream, flags, priority);
}

SIM_API CUresult cuStreamDestroy_v2(CUstream hStream)
{
	struct sim_stream *s = (struct sim_stream *)hStream;
	struct sim_ctx *c;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!s || hStream == CU_STREAM_LEGACY || hStream == CU_STREAM_PER_THREAD ||
	    !stream_valid(s) || s->per_thread)
		return CUDA_ERROR_INVALID_HANDLE;
	c = s->ctx;
	pthread_mutex_lock(&c->lock);
	for (struct sim_stream **pp = &c->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
	sim_stream_free(s);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamDestroy(CUstream hStream)
{
	return cuStreamDestroy_v2(hStream);
}

static CUresult stream_query(CUstream h, bool pt)
{
	struct sim_stream *s;
	CUresult rc = sim_stream_resolve(h, pt, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	return sim_stream_idle(s) ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

SIM_API CUresult cuStreamQuery(CUstream hStream)
{
	return stream_query(hStream, false);
}

SIM_API CUresult cuStreamQuery_ptsz(CUstream hStream)
{
	return stream_query(hStream, true);
}

static CUresult stream_sync(CUstream h, bool pt)
{
	struct sim_stream *s;
	CUresult rc = sim_stream_resolve(h, pt, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	sim_stream_sync(s);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamSynchronize(CUstream hStream)
{
	return stream_sync(hStream, false);
}

SIM_API CUresult cuStreamSynchronize_ptsz(CUstream hStream)
{
	return stream_sync(hStream, true);
}

static CUresult stream_get(CUstream h, bool pt, struct sim_stream **s)
{
	return sim_stream_resolve(h, pt, s);
}

static CUresult stream_get_flags(CUstream hStream, bool per_thread, unsigned int *flags)
{
	struct sim_stream *s;
	CUresult rc = stream_get(hStream, per_thread, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!flags)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = s->flags;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamGetFlags(CUstream hStream, unsigned int *flags)
{
	return stream_get_flags(hStream, false, flags);
}

SIM_API CUresult cuStreamGetFlags_ptsz(CUstream hStream, unsigned int *flags)
{
	return stream_get_flags(hStream, true, flags);
}

/* The per-stream queries: one body each for the plain entry point and its
 * per-thread variant (where NULL is the per-thread stream). */
static CUresult stream_get_priority(CUstream hStream, bool per_thread, int *priority)
{
	struct sim_stream *s;
	CUresult rc = stream_get(hStream, per_thread, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!priority)
		return CUDA_ERROR_INVALID_VALUE;
	*priority = s->priority;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamGetPriority(CUstream hStream, int *priority)
{
	return stream_get_priority(hStream, false, priority);
}

SIM_API CUresult cuStreamGetPriority_ptsz(CUstream hStream, int *priority)
{
	return stream_get_priority(hStream, true, priority);
}

static CUresult stream_get_ctx(CUstream hStream, bool per_thread, CUcontext *pctx)
{
	struct sim_stream *s;
	CUresult rc = stream_get(hStream, per_thread, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = (CUcontext)s->ctx;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamGetCtx(CUstream hStream, CUcontext *pctx)
{
	return stream_get_ctx(hStream, false, pctx);
}

SIM_API CUresult cuStreamGetCtx_ptsz(CUstream hStream, CUcontext *pctx)
{
	return stream_get_ctx(hStream, true, pctx);
}

static CUresult stream_get_id(CUstream hStream, bool per_thread, unsigned long long *streamId)
{
	struct sim_stream *s;
	CUresult rc = stream_get(hStream, per_thread, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!streamId)
		return CUDA_ERROR_INVALID_VALUE;
	*streamId = s->id;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamGetId(CUstream hStream, unsigned long long *streamId)
{
	return stream_get_id(hStream, false, streamId);
}

SIM_API CUresult cuStreamGetId_ptsz(CUstream hStream, unsigned long long *streamId)
{
	return stream_get_id(hStream, true, streamId);
}

static CUresult stream_get_device(CUstream hStream, bool per_thread, CUdevice *device)
{
	struct sim_stream *s;
	CUresult rc = stream_get(hStream, per_thread, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	*device = s->ctx->dev->ordinal;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamGetDevice(CUstream hStream, CUdevice *device)
{
	return stream_get_device(hStream, false, device);
}

SIM_API CUresult cuStreamGetDevice_ptsz(CUstream hStream, CUdevice *device)
{
	return stream_get_device(hStream, true, device);
}

/* ---- host functions ---- */

static void run_host(struct sim_op *op)
{
	op->u.host.fn(op->u.host.data);
}

static CUresult launch_host(CUstream h, CUhostFn fn, void *data, bool pt)
{
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_stream_resolve(h, pt, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!fn)
		return CUDA_ERROR_INVALID_VALUE;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_host;
	op->u.host.fn = fn;
	op->u.host.data = data;
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuLaunchHostFunc(CUstream hStream, CUhostFn fn, void *userData)
{
	return launch_host(hStream, fn, userData, false);
}

SIM_API CUresult cuLaunchHostFunc_ptsz(CUstream hStream, CUhostFn fn, void *userData)
{
	return launch_host(hStream, fn, userData, true);
}

static void run_callback(struct sim_op *op)
{
	op->u.cb.fn((CUstream)op->u.cb.s, CUDA_SUCCESS, op->u.cb.data);
}

static CUresult add_callback(CUstream h, CUstreamCallback cb, void *data, unsigned flags, bool pt)
{
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_stream_resolve(h, pt, &s);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!cb || flags)
		return CUDA_ERROR_INVALID_VALUE;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_callback;
	op->u.cb.fn = cb;
	op->u.cb.data = data;
	op->u.cb.s = h ? s : NULL;
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamAddCallback(CUstream hStream, CUstreamCallback callback, void *userData,
				     unsigned int flags)
{
	return add_callback(hStream, callback, userData, flags, false);
}

SIM_API CUresult cuStreamAddCallback_ptsz(CUstream hStream, CUstreamCallback callback,
					  void *userData, unsigned int flags)
{
	return add_callback(hStream, callback, userData, flags, true);
}

/* ---- events ---- */

static struct event_priv *event_get(CUevent h)
{
	struct event_priv *e = NULL;

	if (!h)
		return NULL;
	pthread_mutex_lock(&sim_ev_lock);
	for (struct sim_event *p = events; p; p = p->next)
		if ((CUevent)p == h) {
			e = (struct event_priv *)p;
			break;
		}
	pthread_mutex_unlock(&sim_ev_lock);
	return e && sim_ctx_valid(e->pub.ctx) ? e : NULL;
}

static void event_unref_locked(struct event_priv *e)
{
	if (--e->refs == 0)
		free(e);
}

SIM_API CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags)
{
	struct sim_ctx *c;
	struct event_priv *e;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!phEvent || (Flags & ~0x7u))
		return CUDA_ERROR_INVALID_VALUE;
	if ((Flags & CU_EVENT_INTERPROCESS) && !(Flags & CU_EVENT_DISABLE_TIMING))
		return CUDA_ERROR_INVALID_VALUE;
	e = calloc(1, sizeof(*e));
	if (!e)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e->pub.magic = EVENT_MAGIC;
	e->pub.ctx = c;
	e->pub.flags = Flags;
	e->refs = 1;
	pthread_mutex_lock(&sim_ev_lock);
	e->pub.next = events;
	events = &e->pub;
	pthread_mutex_unlock(&sim_ev_lock);
	*phEvent = (CUevent)e;
	return CUDA_SUCCESS;
}

static void event_unlink_locked(struct event_priv *e)
{
	for (struct sim_event **pp = &events; *pp; pp = &(*pp)->next)
		if (*pp == &e->pub) {
			*pp = e->pub.next;
			break;
		}
	e->dead = true;
}

SIM_API CUresult cuEventDestroy_v2(CUevent hEvent)
{
	struct event_priv *e;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(hEvent);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&sim_ev_lock);
	if (!e->dead) {
		event_unlink_locked(e);
		event_unref_locked(e);
	}
	pthread_mutex_unlock(&sim_ev_lock);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuEventDestroy(CUevent hEvent)
{
	return cuEventDestroy_v2(hEvent);
}

void sim_event_ctx_teardown(struct sim_ctx *c)
{
	pthread_mutex_lock(&sim_ev_lock);
	for (struct sim_event *p = events, *n; p; p = n) {
		n = p->next;
		if (p->ctx == c) {
			struct event_priv *e = (struct event_priv *)p;

			event_unlink_locked(e);
			event_unref_locked(e);
		}
	}
	pthread_mutex_unlock(&sim_ev_lock);
}

static void run_record(struct sim_op *op)
{
	struct event_priv *e = (struct event_priv *)op->u.ev.ev;

	pthread_mutex_lock(&sim_ev_lock);
	sim_now(&e->pub.when);
	if (op->u.ev.gen > e->pub.done_gen)
		e->pub.done_gen = op->u.ev.gen;
	pthread_cond_broadcast(&sim_ev_cond);
	pthread_mutex_unlock(&sim_ev_lock);
}

static void run_wait(struct sim_op *op)
{
	struct event_priv *e = (struct event_priv *)op->u.ev.ev;

	pthread_mutex_lock(&sim_ev_lock);
	while (e->pub.done_gen < op->u.ev.gen && !e->dead)
		pthread_cond_wait(&sim_ev_cond, &sim_ev_lock);
	pthread_mutex_unlock(&sim_ev_lock);
}

static void fini_event_op(struct sim_op *op)
{
	pthread_mutex_lock(&sim_ev_lock);
	event_unref_locked((struct event_priv *)op->u.ev.ev);
	pthread_mutex_unlock(&sim_ev_lock);
}

static CUresult event_record(CUevent h, CUstream hs, bool pt)
{
	struct event_priv *e;
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(h);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_record;
	op->fini = fini_event_op;
	op->u.ev.ev = &e->pub;
	pthread_mutex_lock(&sim_ev_lock);
	op->u.ev.gen = ++e->pub.rec_gen;
	e->refs++;
	pthread_mutex_unlock(&sim_ev_lock);
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

bool sim_event_valid(CUevent h)
{
	return event_get(h) != NULL;
}

CUresult sim_event_record(CUevent h, CUstream hs, bool per_thread_default)
{
	return event_record(h, hs, per_thread_default);
}

SIM_API CUresult cuEventRecord(CUevent hEvent, CUstream hStream)
{
	return event_record(hEvent, hStream, false);
}

SIM_API CUresult cuEventRecord_ptsz(CUevent hEvent, CUstream hStream)
{
	return event_record(hEvent, hStream, true);
}

SIM_API CUresult cuEventRecordWithFlags(CUevent hEvent, CUstream hStream, unsigned int flags)
{
	if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	return event_record(hEvent, hStream, false);
}

SIM_API CUresult cuEventRecordWithFlags_ptsz(CUevent hEvent, CUstream hStream, unsigned int flags)
{
	if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	return event_record(hEvent, hStream, true);
}

SIM_API CUresult cuEventQuery(CUevent hEvent)
{
	struct event_priv *e;
	CUresult rc = sim_check_init();
	bool done;

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(hEvent);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&sim_ev_lock);
	done = e->pub.done_gen >= e->pub.rec_gen;
	pthread_mutex_unlock(&sim_ev_lock);
	return done ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

SIM_API CUresult cuEventSynchronize(CUevent hEvent)
{
	struct event_priv *e;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(hEvent);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&sim_ev_lock);
	e->refs++;
	while (e->pub.done_gen < e->pub.rec_gen && !e->dead)
		pthread_cond_wait(&sim_ev_cond, &sim_ev_lock);
	event_unref_locked(e);
	pthread_mutex_unlock(&sim_ev_lock);
	return CUDA_SUCCESS;
}

static CUresult stream_wait_event(CUstream hs, CUevent h, unsigned flags, bool pt)
{
	struct event_priv *e;
	struct sim_stream *s;
	struct sim_op *op;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (flags & ~(unsigned)CU_EVENT_WAIT_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(h);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->run = run_wait;
	op->fini = fini_event_op;
	op->u.ev.ev = &e->pub;
	pthread_mutex_lock(&sim_ev_lock);
	op->u.ev.gen = e->pub.rec_gen;
	e->refs++;
	pthread_mutex_unlock(&sim_ev_lock);
	sim_stream_submit(s, op);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)
{
	return stream_wait_event(hStream, hEvent, Flags, false);
}

SIM_API CUresult cuStreamWaitEvent_ptsz(CUstream hStream, CUevent hEvent, unsigned int Flags)
{
	return stream_wait_event(hStream, hEvent, Flags, true);
}

SIM_API CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
	struct event_priv *a, *b;
	CUresult rc = sim_check_init();
	double ms;

	if (rc != CUDA_SUCCESS)
		return rc;
	/* the driver answers a NULL result pointer with INVALID_HANDLE */
	if (!pMilliseconds)
		return CUDA_ERROR_INVALID_HANDLE;
	a = event_get(hStart);
	b = event_get(hEnd);
	if (!a || !b)
		return CUDA_ERROR_INVALID_HANDLE;
	if ((a->pub.flags | b->pub.flags) & CU_EVENT_DISABLE_TIMING)
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&sim_ev_lock);
	if (!a->pub.rec_gen || !b->pub.rec_gen) {
		rc = CUDA_ERROR_INVALID_HANDLE;
	} else if (a->pub.done_gen < a->pub.rec_gen || b->pub.done_gen < b->pub.rec_gen) {
		rc = CUDA_ERROR_NOT_READY;
	} else {
		ms = (double)(b->pub.when.tv_sec - a->pub.when.tv_sec) * 1e3 +
		     (double)(b->pub.when.tv_nsec - a->pub.when.tv_nsec) / 1e6;
		*pMilliseconds = (float)ms;
	}
	pthread_mutex_unlock(&sim_ev_lock);
	return rc;
}

SIM_API CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
	return cuEventElapsedTime_v2(pMilliseconds, hStart, hEnd);
}

/* Events: records on streams, waits between streams, and timing.
 *
 * An event points at its latest record (struct sim_rec). cuEventRecord
 * makes a new record (cuda.h: "If cuEventRecord() has previously been
 * called on hEvent, then this call will overwrite any existing state in
 * hEvent"); cuStreamWaitEvent, cuEventSynchronize, cuEventQuery and
 * cuEventElapsedTime use the record current when they are called, so a
 * later record neither releases an earlier wait nor lends its time to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "sim_internal.h"

#define EVENT_MAGIC 0x45564e54u

static pthread_mutex_t sim_ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_ev_cond = PTHREAD_COND_INITIALIZER;
static struct sim_event *events; /* live events, guarded by sim_ev_lock */

struct event_priv {
	struct sim_event pub;
};

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

static void rec_unref_locked(struct sim_rec *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* The event's current record with a reference taken, or NULL (never
 * recorded). */
static struct sim_rec *rec_current(struct event_priv *e)
{
	struct sim_rec *r;

	pthread_mutex_lock(&sim_ev_lock);
	r = e->pub.cur;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&sim_ev_lock);
	return r;
}

static void rec_put(struct sim_rec *r)
{
	pthread_mutex_lock(&sim_ev_lock);
	rec_unref_locked(r);
	pthread_mutex_unlock(&sim_ev_lock);
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
	pthread_mutex_lock(&sim_ev_lock);
	e->pub.next = events;
	events = &e->pub;
	pthread_mutex_unlock(&sim_ev_lock);
	*phEvent = (CUevent)e;
	return CUDA_SUCCESS;
}

/* Unlinks and frees e (sim_ev_lock held). Queued records and waits hold
 * their record, not the event, so they complete as if it were alive
 * (cuda.h, cuEventDestroy: "the call will return immediately, and the
 * resources ... will be released automatically once the device has
 * completed hEvent"). */
static void event_free_locked(struct event_priv *e)
{
	for (struct sim_event **pp = &events; *pp; pp = &(*pp)->next)
		if (*pp == &e->pub) {
			*pp = e->pub.next;
			break;
		}
	rec_unref_locked(e->pub.cur);
	free(e);
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
	for (struct sim_event *p = events; p; p = p->next)
		if (p == &e->pub) {
			event_free_locked(e);
			break;
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
		if (p->ctx == c)
			event_free_locked((struct event_priv *)p);
	}
	pthread_mutex_unlock(&sim_ev_lock);
}

static void run_record(struct sim_op *op)
{
	struct sim_rec *r = op->u.ev.rec;

	pthread_mutex_lock(&sim_ev_lock);
	sim_now(&r->when);
	r->done = true;
	pthread_cond_broadcast(&sim_ev_cond);
	pthread_mutex_unlock(&sim_ev_lock);
}

static void run_wait(struct sim_op *op)
{
	struct sim_rec *r = op->u.ev.rec;

	pthread_mutex_lock(&sim_ev_lock);
	while (!r->done)
		pthread_cond_wait(&sim_ev_cond, &sim_ev_lock);
	pthread_mutex_unlock(&sim_ev_lock);
}

static void fini_event_op(struct sim_op *op)
{
	rec_put(op->u.ev.rec);
}

static CUresult event_record(CUevent h, CUstream hs, bool pt)
{
	struct event_priv *e;
	struct sim_stream *s;
	struct sim_op *op;
	struct sim_rec *r;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(h);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = sim_stream_resolve(hs, pt, &s);
	if (rc != CUDA_SUCCESS)
		return rc;
	/* cuda.h, cuEventRecord: "hEvent and hStream must be from the same
	 * context otherwise ::CUDA_ERROR_INVALID_HANDLE is returned." */
	if (e->pub.ctx != s->ctx)
		return CUDA_ERROR_INVALID_HANDLE;
	op = calloc(1, sizeof(*op));
	r = calloc(1, sizeof(*r));
	if (!op || !r) {
		free(op);
		free(r);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	r->refs = 2; /* the event's, the operation's */
	op->run = run_record;
	op->fini = fini_event_op;
	op->always = true;
	op->u.ev.rec = r;
	/* the new record replaces the event's state now: a query, wait or
	 * timing from here on is about it */
	pthread_mutex_lock(&sim_ev_lock);
	rec_unref_locked(e->pub.cur);
	e->pub.cur = r;
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
	rc = sim_ctx_sticky(e->pub.ctx);
	if (rc != CUDA_SUCCESS)
		return rc;
	/* never recorded: complete (cuda.h: "cuEventRecord() has not been
	 * called on this event" gives CUDA_SUCCESS) */
	pthread_mutex_lock(&sim_ev_lock);
	done = !e->pub.cur || e->pub.cur->done;
	pthread_mutex_unlock(&sim_ev_lock);
	return done ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

SIM_API CUresult cuEventSynchronize(CUevent hEvent)
{
	struct event_priv *e;
	struct sim_ctx *c;
	struct sim_rec *r;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	e = event_get(hEvent);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	c = e->pub.ctx;
	r = rec_current(e);
	if (r) {
		pthread_mutex_lock(&sim_ev_lock);
		while (!r->done)
			pthread_cond_wait(&sim_ev_cond, &sim_ev_lock);
		rec_unref_locked(r);
		pthread_mutex_unlock(&sim_ev_lock);
	}
	return sim_ctx_sticky(c);
}

static CUresult stream_wait_event(CUstream hs, CUevent h, unsigned flags, bool pt)
{
	struct event_priv *e;
	struct sim_stream *s;
	struct sim_op *op;
	struct sim_rec *r;
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
	/* cuda.h, cuStreamWaitEvent: work submitted after this call waits for
	 * "the completion of hEvent" as captured by its latest cuEventRecord;
	 * an event never recorded has nothing to wait for */
	r = rec_current(e);
	if (!r) {
		free(op);
		return CUDA_SUCCESS;
	}
	op->run = run_wait;
	op->fini = fini_event_op;
	op->u.ev.rec = r;
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
	const struct sim_rec *ra, *rb;
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
	/* cuda.h: never recorded: INVALID_HANDLE; recorded but not complete
	 * (cuEventQuery would give NOT_READY): NOT_READY. The records are
	 * the current ones: a re-record overwrote the earlier state. */
	pthread_mutex_lock(&sim_ev_lock);
	ra = a->pub.cur;
	rb = b->pub.cur;
	if (!ra || !rb) {
		rc = CUDA_ERROR_INVALID_HANDLE;
	} else if (!ra->done || !rb->done) {
		rc = CUDA_ERROR_NOT_READY;
	} else {
		ms = (double)(rb->when.tv_sec - ra->when.tv_sec) * 1e3 +
		     (double)(rb->when.tv_nsec - ra->when.tv_nsec) / 1e6;
		*pMilliseconds = (float)ms;
	}
	pthread_mutex_unlock(&sim_ev_lock);
	return rc;
}

SIM_API CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
	return cuEventElapsedTime_v2(pMilliseconds, hStart, hEnd);
}

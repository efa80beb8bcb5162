/* Streams (events: sim_event.c).
 *
 * Every stream has a worker thread that runs its operations in submission
 * order. Ordering between streams is kept on the "device side", by the
 * workers, never by making the calling thread wait: an operation carries
 * dependencies (struct sim_dep: "after the first n operations of stream X")
 * and its worker starts it only when they are met. The driver API's
 * "Stream synchronization behavior" page: asynchronous calls return once
 * the work is queued; the legacy default stream (NULL / CU_STREAM_LEGACY
 * in the non-_ptsz entry points) "waits on all blocking streams" and
 * "blocking streams wait on the legacy default stream" (within the
 * context); CU_STREAM_NON_BLOCKING streams are exempt. So work queued on
 * the legacy stream depends on all earlier work of the context's blocking
 * streams, and work queued on a blocking stream on all earlier work of the
 * legacy stream; the capture and the queueing happen under the context's
 * order_lock, so no two such submissions can wait for each other. The
 * per-thread default stream (CU_STREAM_PER_THREAD, or NULL in _ptsz entry
 * points) is one blocking stream per thread and context.
 *
 * cuStreamDestroy returns at once (cuda.h: "In case the device is still
 * doing work in the stream hStream when cuStreamDestroy() is called, the
 * function will return immediately and the resources associated with
 * hStream will be released automatically once the device has completed all
 * work in hStream"): the handle dies, the worker finishes the queue, then
 * unlinks the stream from its context and frees it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "sim_internal.h"

#define STREAM_MAGIC 0x5354524du

static pthread_mutex_t stream_reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct reg_node {
	void *obj;
	struct reg_node *next;
};
static struct reg_node *stream_reg;
static atomic_ullong stream_ids;

/* Progress of every stream (struct sim_seq): one lock and condition for
 * all, as waits between streams are rare next to the work itself. Lock
 * order: a stream's lock, then seq_lock. */
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seq_cond = PTHREAD_COND_INITIALIZER;

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

/* ---- dependencies ---- */

static void seq_unref_locked(struct sim_seq *q)
{
	if (--q->refs == 0)
		free(q);
}

/* One dependency on everything queued on o so far: 1 when o has work left
 * (d filled, a reference taken), 0 when it is idle. */
static unsigned dep_take(struct sim_stream *o, struct sim_dep *d)
{
	unsigned n = 0;

	pthread_mutex_lock(&o->lock);
	if (o->completed != o->submitted) {
		pthread_mutex_lock(&seq_lock);
		o->seq->refs++;
		pthread_mutex_unlock(&seq_lock);
		d->seq = o->seq;
		d->upto = o->submitted;
		n = 1;
	}
	pthread_mutex_unlock(&o->lock);
	return n;
}

/* Waits until every dependency is met, or until the CLOCK_REALTIME deadline
 * (NULL: none): true when met. */
static bool deps_wait(const struct sim_dep *d, unsigned n, const struct timespec *deadline)
{
	bool met = true;

	pthread_mutex_lock(&seq_lock);
	for (unsigned i = 0; i < n && met; i++)
		while (d[i].seq->done < d[i].upto) {
			if (!deadline) {
				pthread_cond_wait(&seq_cond, &seq_lock);
			} else if (pthread_cond_timedwait(&seq_cond, &seq_lock, deadline) ==
				   ETIMEDOUT) {
				met = d[i].seq->done >= d[i].upto;
				break;
			}
		}
	pthread_mutex_unlock(&seq_lock);
	return met;
}

static void deps_release(struct sim_dep *d, unsigned n)
{
	pthread_mutex_lock(&seq_lock);
	for (unsigned i = 0; i < n; i++)
		seq_unref_locked(d[i].seq);
	pthread_mutex_unlock(&seq_lock);
	free(d);
}

/* Dependencies on the work queued so far on every stream of c (the legacy
 * stream and, with blocking_only, only blocking streams): *out (NULL when
 * none) and their number; -ENOMEM when they could not be recorded. */
static int ctx_deps(struct sim_ctx *c, bool null_too, bool blocking_only, struct sim_dep **out,
		    unsigned *n)
{
	struct sim_dep *d;
	unsigned cap = 1;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&c->lock);
	for (struct sim_stream *o = c->streams; o; o = o->next)
		cap++;
	d = calloc(cap, sizeof(*d));
	if (!d) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	if (null_too && c->null_stream)
		*n += dep_take(c->null_stream, &d[*n]);
	for (struct sim_stream *o = c->streams; o; o = o->next)
		if (!blocking_only || !(o->flags & CU_STREAM_NON_BLOCKING))
			*n += dep_take(o, &d[*n]);
	pthread_mutex_unlock(&c->lock);
	if (*n)
		*out = d;
	else
		free(d);
	return 0;
}

bool sim_streams_wait(struct sim_ctx *c, const struct timespec *deadline)
{
	struct sim_dep *d;
	unsigned n;
	bool done;

	if (ctx_deps(c, true, false, &d, &n) < 0) {
		/* no memory for the snapshot: wait stream by stream, list held */
		done = sim_stream_sync_until(c->null_stream, deadline);
		pthread_mutex_lock(&c->lock);
		for (struct sim_stream *s = c->streams; s && done; s = s->next)
			done = sim_stream_sync_until(s, deadline);
		pthread_mutex_unlock(&c->lock);
		return done;
	}
	done = deps_wait(d, n, deadline);
	if (d)
		deps_release(d, n);
	return done;
}

/* ---- streams ---- */

static void stream_release(struct sim_stream *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_lock(&seq_lock);
	seq_unref_locked(s->seq);
	pthread_mutex_unlock(&seq_lock);
	free(s);
}

/* A destroyed stream whose queue is done leaves its context and is freed
 * by its own worker, unless the context's teardown took it first (then the
 * teardown joins the worker and frees it). */
static void stream_reap(struct sim_stream *s)
{
	struct sim_ctx *c = s->ctx;
	bool mine = false;

	pthread_mutex_lock(&c->lock);
	for (struct sim_stream **pp = &c->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			mine = true;
			break;
		}
	pthread_mutex_unlock(&c->lock);
	if (!mine)
		return;
	pthread_detach(pthread_self());
	stream_release(s);
}

static void *stream_worker(void *arg)
{
	struct sim_stream *s = arg;
	bool reap = false;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct sim_op *op;

		while (!s->head && !s->stop && !s->destroyed)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->head) {
			reap = !s->stop;
			break;
		}
		op = s->head;
		pthread_mutex_unlock(&s->lock);
		if (op->ndeps)
			deps_wait(op->deps, op->ndeps, NULL);
		/* a faulted context runs nothing more but its event records and
		 * frees (cuda.h, CUDA_ERROR_ILLEGAL_ADDRESS: "any further CUDA
		 * work will return the same error") */
		if (op->always || !atomic_load(&s->ctx->sticky))
			op->run(op);
		if (op->fini)
			op->fini(op);
		if (op->deps)
			deps_release(op->deps, op->ndeps);
		pthread_mutex_lock(&s->lock);
		s->head = op->next;
		if (!s->head)
			s->tail = NULL;
		free(op);
		s->completed++;
		pthread_mutex_lock(&seq_lock);
		s->seq->done = s->completed;
		pthread_cond_broadcast(&seq_cond);
		pthread_mutex_unlock(&seq_lock);
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	if (reap)
		stream_reap(s);
	return NULL;
}

struct sim_stream *sim_stream_new(struct sim_ctx *c, unsigned flags, int priority, bool is_null)
{
	struct sim_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->seq = calloc(1, sizeof(*s->seq));
	if (!s->seq) {
		free(s);
		return NULL;
	}
	s->seq->refs = 1;
	s->magic = STREAM_MAGIC;
	s->ctx = c;
	s->flags = flags;
	s->priority = priority;
	s->is_null = is_null;
	s->id = atomic_fetch_add(&stream_ids, 1) + 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, stream_worker, s) != 0) {
		stream_release(s);
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
	stream_release(s);
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

/* The legacy stream's implicit dependencies of work queued on s (the
 * context's order_lock held). Without memory to record them the host waits
 * instead: the order is kept, only the asynchrony is lost. */
static void legacy_deps(struct sim_stream *s, struct sim_op *op)
{
	struct sim_ctx *c = s->ctx;
	struct sim_dep *d = NULL;
	unsigned n = 0;

	if (s->is_null) {
		if (ctx_deps(c, false, true, &d, &n) < 0) {
			pthread_mutex_lock(&c->lock);
			for (struct sim_stream *o = c->streams; o; o = o->next)
				if (!(o->flags & CU_STREAM_NON_BLOCKING))
					sim_stream_sync(o);
			pthread_mutex_unlock(&c->lock);
		}
	} else if (c->null_stream) {
		d = calloc(1, sizeof(*d));
		if (d)
			n = dep_take(c->null_stream, d);
		else
			sim_stream_sync(c->null_stream);
		if (!n) {
			free(d);
			d = NULL;
		}
	}
	op->deps = d;
	op->ndeps = n;
}

void sim_stream_submit(struct sim_stream *s, struct sim_op *op)
{
	SIM_GATE_SECTION();
	struct sim_ctx *c = s->ctx;
	bool ordered = s->is_null || !(s->flags & CU_STREAM_NON_BLOCKING);

	if (ordered) {
		pthread_mutex_lock(&c->order_lock);
		legacy_deps(s, op);
	}
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
	if (ordered)
		pthread_mutex_unlock(&c->order_lock);
}

CUresult sim_stream_run_sync(struct sim_stream *s, struct sim_op *op)
{
	sim_stream_submit(s, op);
	sim_stream_sync(s);
	return sim_ctx_sticky(s->ctx);
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
		if (pt_streams[i].ctx == c && pt_streams[i].ctx_id == c->id &&
		    stream_valid(pt_streams[i].s))
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
	return sim_ctx_sticky((*out)->ctx);
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
	/* the handle dies now; the worker finishes the queue and frees the
	 * stream (stream_worker, stream_reap). The context lock orders this
	 * against a teardown taking the stream list. */
	c = s->ctx;
	reg_del(s);
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&s->lock);
	s->destroyed = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&c->lock);
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
	/* a kernel that faulted meanwhile is this call's error */
	return sim_ctx_sticky(s->ctx);
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

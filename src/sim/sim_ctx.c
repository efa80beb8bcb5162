/* Contexts: primary (one per device, reference counted) and created ones,
 * and the per-thread context stack.
 *
 * A context charges SIM_CTX_OVERHEAD bytes to its device while it is alive
 * (a primary context from its first retain to its last release or reset).
 * Context objects are never freed: a destroyed one stays in the registry
 * marked dead, so a stale handle is recognised (CUDA_ERROR_INVALID_CONTEXT)
 * rather than dereferenced after free.
 *
 * A context destroyed while current to other threads stays current there
 * (cuda.h, cuCtxDestroy: "If ctx is current to other threads, then ctx
 * will remain current to those threads, and attempting to access ctx from
 * those threads will result in the error
 * ::CUDA_ERROR_CONTEXT_IS_DESTROYED").
 *
 * Two-way calls by design: streams, events, modules and memory ask this
 * file about their context (valid, current, its sticky error), and at a
 * context's end this file asks each of them to tear down what the context
 * owns (sim_*_ctx_teardown, sim_stream_free). That ownership is the only
 * loop between this file and sim_stream.c, sim_event.c, sim_module.c and
 * sim_mem.c.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "sim_internal.h"

#define CTX_MAGIC 0x43545854u
#define CTX_STACK_MAX 128

struct ctx_node {
	struct sim_ctx *c;
	struct ctx_node *next;
};

static pthread_mutex_t ctx_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_node *ctx_reg;
static atomic_ullong ctx_ids;

static _Thread_local struct sim_ctx *tls_stack[CTX_STACK_MAX];
static _Thread_local int tls_depth;

bool sim_ctx_valid(struct sim_ctx *c)
{
	bool ok = false;

	if (!c)
		return false;
	pthread_mutex_lock(&ctx_reg_lock);
	for (struct ctx_node *n = ctx_reg; n; n = n->next)
		if (n->c == c) {
			ok = c->live;
			break;
		}
	pthread_mutex_unlock(&ctx_reg_lock);
	return ok;
}

/* A context this library created, alive or destroyed. */
static bool ctx_known(const struct sim_ctx *c)
{
	bool found = false;

	pthread_mutex_lock(&ctx_reg_lock);
	for (struct ctx_node *n = ctx_reg; n && !found; n = n->next)
		found = n->c == c;
	pthread_mutex_unlock(&ctx_reg_lock);
	return found;
}

static struct sim_ctx *ctx_alloc(struct sim_dev *dev, bool primary)
{
	struct sim_ctx *c = calloc(1, sizeof(*c));
	struct ctx_node *n = calloc(1, sizeof(*n));

	if (!c || !n) {
		free(c);
		free(n);
		return NULL;
	}
	c->magic = CTX_MAGIC;
	c->dev = dev;
	c->primary = primary;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->order_lock, NULL);
	n->c = c;
	pthread_mutex_lock(&ctx_reg_lock);
	n->next = ctx_reg;
	ctx_reg = n;
	pthread_mutex_unlock(&ctx_reg_lock);
	return c;
}

/* Charges the overhead and creates the null stream: c becomes live. */
static CUresult ctx_activate(struct sim_ctx *c, unsigned flags)
{
	CUresult rc = sim_dev_charge(c->dev, SIM_CTX_OVERHEAD);

	if (rc != CUDA_SUCCESS)
		return rc;
	c->null_stream = sim_stream_new(c, 0, 0, true);
	if (!c->null_stream) {
		sim_dev_uncharge(c->dev, SIM_CTX_OVERHEAD);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	c->flags = flags;
	atomic_store(&c->sticky, 0);
	c->id = atomic_fetch_add(&ctx_ids, 1) + 1;
	c->streams = NULL;
	pthread_mutex_lock(&ctx_reg_lock);
	c->live = true;
	pthread_mutex_unlock(&ctx_reg_lock);
	return CUDA_SUCCESS;
}

void sim_ctx_sync(struct sim_ctx *c)
{
	sim_streams_wait(c, NULL);
}

CUresult sim_ctx_sticky(const struct sim_ctx *c)
{
	return c ? (CUresult)atomic_load(&c->sticky) : CUDA_SUCCESS;
}

void sim_ctx_fault(struct sim_ctx *c, CUresult rc)
{
	int none = 0;

	atomic_compare_exchange_strong(&c->sticky, &none, (int)rc);
}

/* Everything the context owns goes; the object stays (dead). */
static void ctx_teardown(struct sim_ctx *c)
{
	struct sim_stream *s, *next;

	pthread_mutex_lock(&ctx_reg_lock);
	c->live = false;
	pthread_mutex_unlock(&ctx_reg_lock);
	sim_ctx_sync(c);
	pthread_mutex_lock(&c->lock);
	s = c->streams;
	c->streams = NULL;
	pthread_mutex_unlock(&c->lock);
	for (; s; s = next) {
		next = s->next;
		sim_stream_free(s);
	}
	sim_stream_free(c->null_stream);
	c->null_stream = NULL;
	sim_event_ctx_teardown(c);
	sim_module_ctx_teardown(c);
	sim_mem_ctx_teardown(c);
	sim_dev_uncharge(c->dev, SIM_CTX_OVERHEAD);
	/* a destroyed context leaves this thread's stack (other threads see it
	 * dead); a primary context stays bound, usable again once retained */
	for (int i = 0; i < tls_depth && !c->primary; i++)
		if (tls_stack[i] == c) {
			for (int j = i; j + 1 < tls_depth; j++)
				tls_stack[j] = tls_stack[j + 1];
			tls_depth--;
			i--;
		}
}

bool sim_ctx_wait_all_idle(const struct timespec *deadline)
{
	struct sim_ctx **live = NULL;
	size_t n = 0, cap = 0;
	bool idle = true;

	/* contexts are never freed, so the list can be walked unlocked */
	pthread_mutex_lock(&ctx_reg_lock);
	for (struct ctx_node *p = ctx_reg; p; p = p->next) {
		if (!p->c->live)
			continue;
		if (n == cap) {
			struct sim_ctx **m = realloc(live, (cap ? cap * 2 : 8) * sizeof(*m));

			if (!m) {
				idle = false;
				break;
			}
			live = m;
			cap = cap ? cap * 2 : 8;
		}
		live[n++] = p->c;
	}
	pthread_mutex_unlock(&ctx_reg_lock);
	for (size_t i = 0; i < n && idle; i++)
		idle = sim_streams_wait(live[i], deadline);
	free(live);
	return idle;
}

struct sim_ctx *sim_ctx_current(void)
{
	if (tls_depth == 0)
		return NULL;
	return sim_ctx_valid(tls_stack[tls_depth - 1]) ? tls_stack[tls_depth - 1] : NULL;
}

CUresult sim_ctx_require_any(struct sim_ctx **out)
{
	CUresult rc = sim_check_init();

	*out = NULL;
	if (rc != CUDA_SUCCESS)
		return rc;
	*out = sim_ctx_current();
	if (*out)
		return CUDA_SUCCESS;
	/* a created context destroyed by another thread (see the top) */
	if (tls_depth > 0 && !tls_stack[tls_depth - 1]->primary &&
	    ctx_known(tls_stack[tls_depth - 1]))
		return CUDA_ERROR_CONTEXT_IS_DESTROYED;
	return CUDA_ERROR_INVALID_CONTEXT;
}

CUresult sim_ctx_require(struct sim_ctx **out)
{
	CUresult rc = sim_ctx_require_any(out);

	if (rc != CUDA_SUCCESS)
		return rc;
	rc = sim_ctx_sticky(*out);
	if (rc != CUDA_SUCCESS)
		*out = NULL;
	return rc;
}

static CUresult ctx_create(CUcontext *pctx, unsigned flags, CUdevice dev)
{
	SIM_GATE_SECTION();
	struct sim_dev *d;
	struct sim_ctx *c;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = NULL;
	if (flags & ~(unsigned)CU_CTX_FLAGS_MASK)
		return CUDA_ERROR_INVALID_VALUE;
	d = sim_dev_get(dev);
	if (!d)
		return CUDA_ERROR_INVALID_DEVICE;
	if (tls_depth >= CTX_STACK_MAX)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c = ctx_alloc(d, false);
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = ctx_activate(c, flags);
	if (rc != CUDA_SUCCESS)
		return rc; /* c stays registered, dead */
	tls_stack[tls_depth++] = c;
	*pctx = (CUcontext)c;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	return ctx_create(pctx, flags, dev);
}

SIM_API CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	return ctx_create(pctx, flags, dev);
}

SIM_API CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *paramsArray, int numParams,
				unsigned int flags, CUdevice dev)
{
	if (numParams < 0 || (numParams > 0 && !paramsArray))
		return CUDA_ERROR_INVALID_VALUE;
	return ctx_create(pctx, flags, dev);
}

SIM_API CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *ctxCreateParams,
				unsigned int flags, CUdevice dev)
{
	if (ctxCreateParams && ctxCreateParams->numExecAffinityParams < 0)
		return CUDA_ERROR_INVALID_VALUE;
	return ctx_create(pctx, flags, dev);
}

SIM_API CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	SIM_GATE_SECTION();
	struct sim_ctx *c = (struct sim_ctx *)ctx;
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!sim_ctx_valid(c) || c->primary)
		return ctx_known(c) && !c->primary ? CUDA_ERROR_CONTEXT_IS_DESTROYED
						   : CUDA_ERROR_INVALID_CONTEXT;
	ctx_teardown(c);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxDestroy(CUcontext ctx)
{
	return cuCtxDestroy_v2(ctx);
}

SIM_API CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!sim_ctx_valid((struct sim_ctx *)ctx))
		return CUDA_ERROR_INVALID_CONTEXT;
	if (tls_depth >= CTX_STACK_MAX)
		return CUDA_ERROR_OUT_OF_MEMORY;
	tls_stack[tls_depth++] = (struct sim_ctx *)ctx;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxPushCurrent(CUcontext ctx)
{
	return cuCtxPushCurrent_v2(ctx);
}

SIM_API CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (tls_depth == 0)
		return CUDA_ERROR_INVALID_CONTEXT;
	tls_depth--;
	if (pctx)
		*pctx = (CUcontext)tls_stack[tls_depth];
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxPopCurrent(CUcontext *pctx)
{
	return cuCtxPopCurrent_v2(pctx);
}

SIM_API CUresult cuCtxSetCurrent(CUcontext ctx)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!ctx) {
		if (tls_depth > 0)
			tls_depth--;
		return CUDA_SUCCESS;
	}
	if (!sim_ctx_valid((struct sim_ctx *)ctx))
		return CUDA_ERROR_INVALID_CONTEXT;
	if (tls_depth == 0)
		tls_depth = 1;
	tls_stack[tls_depth - 1] = (struct sim_ctx *)ctx;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxGetCurrent(CUcontext *pctx)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = (CUcontext)sim_ctx_current();
	/* a created context destroyed by another thread is still current here */
	if (!*pctx && tls_depth > 0 && !tls_stack[tls_depth - 1]->primary &&
	    ctx_known(tls_stack[tls_depth - 1]))
		*pctx = (CUcontext)tls_stack[tls_depth - 1];
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxGetDevice(CUdevice *device)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require_any(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	*device = c->dev->ordinal;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxGetFlags(unsigned int *flags)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require_any(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!flags)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = c->flags;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxGetId(CUcontext ctx, unsigned long long *ctxId)
{
	struct sim_ctx *c = (struct sim_ctx *)ctx;
	CUresult rc;

	if (!c) {
		rc = sim_ctx_require_any(&c);
		if (rc != CUDA_SUCCESS)
			return rc;
	} else if ((rc = sim_check_init()) != CUDA_SUCCESS) {
		return rc;
	} else if (!sim_ctx_valid(c)) {
		return CUDA_ERROR_INVALID_CONTEXT;
	}
	if (!ctxId)
		return CUDA_ERROR_INVALID_VALUE;
	*ctxId = c->id;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int *version)
{
	struct sim_ctx *c = (struct sim_ctx *)ctx;
	CUresult rc;

	if (!c) {
		rc = sim_ctx_require_any(&c);
		if (rc != CUDA_SUCCESS)
			return rc;
	} else if ((rc = sim_check_init()) != CUDA_SUCCESS) {
		return rc;
	} else if (!sim_ctx_valid(c)) {
		return CUDA_ERROR_INVALID_CONTEXT;
	}
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = 3020;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxSynchronize(void)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	sim_ctx_sync(c);
	/* a kernel that faulted meanwhile is this call's error */
	return sim_ctx_sticky(c);
}

SIM_API CUresult cuCtxGetStreamPriorityRange(int *leastPriority, int *greatestPriority)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require_any(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (leastPriority)
		*leastPriority = 0;
	if (greatestPriority)
		*greatestPriority = -5;
	return CUDA_SUCCESS;
}

SIM_API CUresult cuCtxEnablePeerAccess(CUcontext peerContext, unsigned int Flags)
{
	struct sim_ctx *c;
	CUresult rc = sim_ctx_require(&c);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (Flags)
		return CUDA_ERROR_INVALID_VALUE;
	if (!sim_ctx_valid((struct sim_ctx *)peerContext))
		return CUDA_ERROR_INVALID_HANDLE;
	if (((struct sim_ctx *)peerContext)->dev == c->dev)
		return CUDA_ERROR_INVALID_DEVICE;
	return CUDA_SUCCESS;
}

/* ---- primary contexts ---- */

static CUresult primary_dev(CUdevice dev, struct sim_dev **out)
{
	CUresult rc = sim_check_init();

	if (rc != CUDA_SUCCESS)
		return rc;
	*out = sim_dev_get(dev);
	return *out ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

SIM_API CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	SIM_GATE_SECTION();
	struct sim_dev *d;
	CUresult rc = primary_dev(dev, &d);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&d->lock);
	if (!d->primary)
		d->primary = ctx_alloc(d, true);
	if (!d->primary) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	if (d->primary->refs == 0) {
		rc = ctx_activate(d->primary, d->primary_flags);
		if (rc != CUDA_SUCCESS)
			goto out;
	}
	d->primary->refs++;
	*pctx = (CUcontext)d->primary;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

SIM_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	SIM_GATE_SECTION();
	struct sim_dev *d;
	CUresult rc = primary_dev(dev, &d);

	if (rc != CUDA_SUCCESS)
		return rc;
	pthread_mutex_lock(&d->lock);
	if (!d->primary || d->primary->refs == 0) {
		rc = CUDA_ERROR_INVALID_CONTEXT;
	} else if (--d->primary->refs == 0) {
		ctx_teardown(d->primary);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

SIM_API CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return cuDevicePrimaryCtxRelease_v2(dev);
}

SIM_API CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	SIM_GATE_SECTION();
	struct sim_dev *d;
	CUresult rc = primary_dev(dev, &d);

	if (rc != CUDA_SUCCESS)
		return rc;
	pthread_mutex_lock(&d->lock);
	if (d->primary && d->primary->refs > 0) {
		d->primary->refs = 0;
		ctx_teardown(d->primary);
	}
	d->primary_flags = 0;
	pthread_mutex_unlock(&d->lock);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
	return cuDevicePrimaryCtxReset_v2(dev);
}

SIM_API CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
	struct sim_dev *d;
	CUresult rc = primary_dev(dev, &d);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (flags & ~(unsigned)CU_CTX_FLAGS_MASK)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&d->lock);
	d->primary_flags = flags;
	if (d->primary && d->primary->refs > 0)
		d->primary->flags = flags;
	pthread_mutex_unlock(&d->lock);
	return CUDA_SUCCESS;
}

SIM_API CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags)
{
	return cuDevicePrimaryCtxSetFlags_v2(dev, flags);
}

SIM_API CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
	struct sim_dev *d;
	CUresult rc = primary_dev(dev, &d);

	if (rc != CUDA_SUCCESS)
		return rc;
	if (!flags || !active)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&d->lock);
	*flags = d->primary_flags;
	*active = d->primary && d->primary->refs > 0;
	pthread_mutex_unlock(&d->lock);
	return CUDA_SUCCESS;
}

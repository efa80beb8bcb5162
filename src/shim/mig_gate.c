/* Migration mode: the gate every wrapped entry point passes, and each
 * thread's current context.
 *
 * The gate is a writer-preferring read-write lock: application calls hold
 * it shared (a thread's nested calls only once), stun() takes it exclusive,
 * which waits for the calls inside to return and blocks new ones until
 * resume(). Known limit: a call that blocks inside the driver until another
 * application thread does something (cuEventSynchronize on an event that
 * thread has yet to record) keeps the stun waiting as long.
 *
 * The driver keeps a current context per thread, which the shim cannot
 * change in other threads at the switch. The shim therefore keeps each
 * thread's context stack itself (shim objects) and, at the first wrapped
 * call after a switch, makes the new real context current on that thread.
 */
#include "mig_internal.h"

#define CTX_STACK 16

static pthread_rwlock_t gate;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static __thread unsigned gate_depth;
static __thread struct gv_mobj *ctx_stack[CTX_STACK];
static __thread unsigned ctx_top; /* entries used */
static __thread unsigned ctx_gen;

static void gate_init(void)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&gate, &a);
	pthread_rwlockattr_destroy(&a);
}

void gv_mig_enter(void)
{
	if (gate_depth++ == 0) {
		pthread_once(&gate_once, gate_init);
		pthread_rwlock_rdlock(&gate);
		gv_mig_sync_ctx();
	}
}

void gv_mig_leave(void)
{
	if (--gate_depth == 0)
		pthread_rwlock_unlock(&gate);
}

void gv_mig_gate_close(void)
{
	pthread_once(&gate_once, gate_init);
	pthread_rwlock_wrlock(&gate);
}

void gv_mig_gate_open(void)
{
	pthread_rwlock_unlock(&gate);
}

struct gv_mobj *gv_mig_cur_ctx(void)
{
	return ctx_top ? ctx_stack[ctx_top - 1] : NULL;
}

void gv_mig_sync_ctx(void)
{
	unsigned g = atomic_load(&gv_mig_gen);
	struct gv_mobj *c;

	if (ctx_gen == g)
		return;
	ctx_gen = g;
	c = gv_mig_cur_ctx();
	if (c && !gv_mobj_find(c, GV_MOBJ_CTX)) {
		/* destroyed by another thread meanwhile */
		ctx_top = 0;
		c = NULL;
	}
	MREAL(cuCtxSetCurrent)(c ? (CUcontext)c->real : NULL);
}

/* As cuCtxSetCurrent: replaces the top of the stack; NULL pops it. */
void gv_mig_set_cur_ctx(struct gv_mobj *c)
{
	if (!c) {
		if (ctx_top)
			ctx_top--;
		return;
	}
	if (ctx_top)
		ctx_stack[ctx_top - 1] = c;
	else
		ctx_stack[ctx_top++] = c;
}

void gv_mig_push_ctx(struct gv_mobj *c)
{
	if (ctx_top == CTX_STACK) {
		/* deeper than the shim tracks: drop the bottom */
		for (unsigned i = 1; i < CTX_STACK; i++)
			ctx_stack[i - 1] = ctx_stack[i];
		ctx_top--;
	}
	ctx_stack[ctx_top++] = c;
}

struct gv_mobj *gv_mig_pop_ctx(void)
{
	return ctx_top ? ctx_stack[--ctx_top] : NULL;
}

void gv_mig_forget_ctx(struct gv_mobj *c)
{
	unsigned j = 0;

	for (unsigned i = 0; i < ctx_top; i++)
		if (ctx_stack[i] != c)
			ctx_stack[j++] = ctx_stack[i];
	ctx_top = j;
}

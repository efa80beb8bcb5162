/* Migration mode: the handles given to the application are shim objects
 * (struct gv_mobj) bound to driver objects that switch_over recreates on
 * the destination. All live objects are in one list (creation order: a
 * context before its modules, a module before its functions, which is the
 * order they are recreated in) and in a libc tree keyed by address, so a
 * handle can be checked before it is dereferenced.
 */
#include "mig_internal.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

pthread_mutex_t gv_mobj_lock = PTHREAD_MUTEX_INITIALIZER;
struct gv_mobj *gv_mobj_head;
static struct gv_mobj *tail;
static void *tree;
atomic_uint gv_mig_gen;

static int cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return x < y ? -1 : x > y;
}

struct gv_mobj *gv_mobj_new(enum gv_mobj_kind kind, void *real)
{
	struct gv_mobj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->kind = kind;
	o->real = real;
	pthread_mutex_lock(&gv_mobj_lock);
	if (!tsearch(o, &tree, cmp)) {
		pthread_mutex_unlock(&gv_mobj_lock);
		free(o);
		return NULL;
	}
	o->prev = tail;
	if (tail)
		tail->next = o;
	else
		gv_mobj_head = o;
	tail = o;
	pthread_mutex_unlock(&gv_mobj_lock);
	return o;
}

void gv_mobj_free(struct gv_mobj *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&gv_mobj_lock);
	tdelete(o, &tree, cmp);
	if (o->prev)
		o->prev->next = o->next;
	else
		gv_mobj_head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		tail = o->prev;
	pthread_mutex_unlock(&gv_mobj_lock);
	free(o->path);
	free(o->image);
	free(o->name);
	free(o);
}

struct gv_mobj *gv_mobj_find(const void *h, enum gv_mobj_kind kind)
{
	void **n;
	struct gv_mobj *o = NULL;

	if (!h)
		return NULL;
	pthread_mutex_lock(&gv_mobj_lock);
	n = tfind(h, &tree, cmp);
	if (n && ((struct gv_mobj *)*n)->kind == kind)
		o = *n;
	pthread_mutex_unlock(&gv_mobj_lock);
	return o;
}

void *gv_mobj_real(const void *h, enum gv_mobj_kind kind)
{
	struct gv_mobj *o;

	if (!h || (kind == GV_MOBJ_STREAM && (h == CU_STREAM_LEGACY || h == CU_STREAM_PER_THREAD)))
		return (void *)h;
	o = gv_mobj_find(h, kind);
	if (o)
		return o->real;
	gv_mig_taint("the workload passed a driver handle the shim did not create (from an "
		     "entry point it does not wrap, e.g. cuLibraryGetKernel)");
	return (void *)h;
}

/* What each live allocation charged to the partition, keyed by (kind,
 * handle): device pointers, VMM handles, arrays, mipmapped arrays and
 * contexts live in separate key spaces because their values may coincide.
 *
 * A binary tree from libc (tsearch/tfind/tdelete) under one mutex: the size
 * must be known at free time for every kind of handle, which the driver
 * cannot tell for arrays or VMM handles (cuMemGetAddressRange covers only
 * linear memory), and one structure for all kinds keeps frees uniform.
 */
#include "shim_internal.h"

#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>

struct gv_track_ent {
	uint64_t key;
	uint64_t bytes;
	CUcontext ctx;
	int kind;
};

static void *gv_track_root;
static pthread_mutex_t gv_track_lock = PTHREAD_MUTEX_INITIALIZER;

static int gv_track_cmp(const void *a, const void *b)
{
	const struct gv_track_ent *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

int gv_track_add(enum gv_track_kind kind, uint64_t key, uint64_t bytes, CUcontext ctx)
{
	struct gv_track_ent *e = malloc(sizeof(*e)), **slot;
	int rc = 0;

	if (!e)
		return -ENOMEM;
	e->key = key;
	e->bytes = bytes;
	e->ctx = ctx;
	e->kind = (int)kind;
	pthread_mutex_lock(&gv_track_lock);
	slot = tsearch(e, &gv_track_root, gv_track_cmp);
	if (!slot)
		rc = -ENOMEM;
	else if (*slot != e)
		rc = -EEXIST;
	pthread_mutex_unlock(&gv_track_lock);
	if (rc)
		free(e);
	return rc;
}

int gv_track_remove(enum gv_track_kind kind, uint64_t key, uint64_t *bytes, CUcontext *ctx)
{
	struct gv_track_ent probe = { .key = key, .kind = (int)kind }, *e = NULL, **slot;

	pthread_mutex_lock(&gv_track_lock);
	slot = tfind(&probe, &gv_track_root, gv_track_cmp);
	if (slot) {
		e = *slot;
		tdelete(&probe, &gv_track_root, gv_track_cmp);
	}
	pthread_mutex_unlock(&gv_track_lock);
	if (!e)
		return -ENOENT;
	*bytes = e->bytes;
	if (ctx)
		*ctx = e->ctx;
	free(e);
	return 0;
}

struct gv_ctx_sweep {
	CUcontext ctx;
	struct gv_track_ent **hits;
	size_t n, cap;
	bool oom;
};

static void gv_track_visit(const void *node, VISIT which, void *arg)
{
	struct gv_track_ent *e = *(struct gv_track_ent *const *)node;
	struct gv_ctx_sweep *s = arg;

	if ((which != postorder && which != leaf) || e->ctx != s->ctx || !s->ctx)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct gv_track_ent **h = realloc(s->hits, cap * sizeof(*h));

		if (!h) {
			s->oom = true;
			return;
		}
		s->hits = h;
		s->cap = cap;
	}
	s->hits[s->n++] = e;
}

uint64_t gv_track_remove_ctx(CUcontext ctx)
{
	struct gv_ctx_sweep s = { .ctx = ctx };
	uint64_t bytes = 0;

	if (!ctx)
		return 0;
	pthread_mutex_lock(&gv_track_lock);
	/* twalk_r cannot delete while walking: collect, then delete */
	twalk_r(gv_track_root, gv_track_visit, &s);
	for (size_t i = 0; i < s.n; i++) {
		bytes += s.hits[i]->bytes;
		tdelete(s.hits[i], &gv_track_root, gv_track_cmp);
		free(s.hits[i]);
	}
	pthread_mutex_unlock(&gv_track_lock);
	if (s.oom)
		gv_shim_log(false, "out of memory while releasing a context's allocations; "
				   "some stay charged until the process exits");
	free(s.hits);
	return bytes;
}

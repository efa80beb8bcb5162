/* First-fit allocator with coalescing over one address range. The range is
 * described by a doubly-linked list of extents in address order that covers
 * it exactly; free neighbours are always merged, so two adjacent free
 * extents never exist. Device allocations are few (hundreds), so a linear
 * walk is cheaper than the bookkeeping of anything smarter. */
#include <stdlib.h>

#include "sim_internal.h"

int sim_heap_init(struct sim_heap *h, uintptr_t base, size_t size)
{
	struct sim_extent *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	e->start = base;
	e->size = size;
	h->base = base;
	h->size = size;
	h->head = e;
	pthread_mutex_init(&h->lock, NULL);
	return 0;
}

void sim_heap_fini(struct sim_heap *h)
{
	struct sim_extent *e = h->head, *n;

	for (; e; e = n) {
		n = e->next;
		free(e);
	}
	h->head = NULL;
	pthread_mutex_destroy(&h->lock);
}

/* Marks [at, at + size) of the free extent e used, splitting off the free
 * pieces before and after it. Both pieces are allocated before anything is
 * changed, so a failure leaves the list as it was. Returns the start or 0. */
static uintptr_t heap_take(struct sim_heap *h, struct sim_extent *e, uintptr_t at, size_t size)
{
	struct sim_extent *front = NULL, *back = NULL;
	uintptr_t end = e->start + e->size;

	if (at > e->start && !(front = calloc(1, sizeof(*front))))
		return 0;
	if (at + size < end && !(back = calloc(1, sizeof(*back)))) {
		free(front);
		return 0;
	}
	if (front) {
		/* the front piece keeps e's start; e moves up to at */
		front->start = e->start;
		front->size = at - e->start;
		front->prev = e->prev;
		front->next = e;
		if (e->prev)
			e->prev->next = front;
		else
			h->head = front;
		e->prev = front;
	}
	if (back) {
		back->start = at + size;
		back->size = end - back->start;
		back->prev = e;
		back->next = e->next;
		if (e->next)
			e->next->prev = back;
		e->next = back;
	}
	e->start = at;
	e->size = size;
	e->used = true;
	return at;
}

uintptr_t sim_heap_alloc(struct sim_heap *h, size_t size, size_t align)
{
	uintptr_t r = 0;

	if (!size || !align || (align & (align - 1)))
		return 0;
	pthread_mutex_lock(&h->lock);
	for (struct sim_extent *e = h->head; e; e = e->next) {
		uintptr_t at;

		if (e->used)
			continue;
		at = (e->start + align - 1) & ~(uintptr_t)(align - 1);
		if (at < e->start || at - e->start > e->size || e->size - (at - e->start) < size)
			continue;
		r = heap_take(h, e, at, size);
		break;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

bool sim_heap_alloc_at(struct sim_heap *h, uintptr_t addr, size_t size)
{
	bool ok = false;

	if (!size)
		return false;
	pthread_mutex_lock(&h->lock);
	for (struct sim_extent *e = h->head; e; e = e->next) {
		if (addr < e->start || addr >= e->start + e->size)
			continue;
		if (!e->used && e->start + e->size - addr >= size)
			ok = heap_take(h, e, addr, size) != 0;
		break;
	}
	pthread_mutex_unlock(&h->lock);
	return ok;
}

size_t sim_heap_free(struct sim_heap *h, uintptr_t addr)
{
	struct sim_extent *e;
	size_t size = 0;

	pthread_mutex_lock(&h->lock);
	for (e = h->head; e; e = e->next)
		if (e->start == addr)
			break;
	if (!e || !e->used)
		goto out;
	size = e->size;
	e->used = false;
	if (e->next && !e->next->used) {
		struct sim_extent *n = e->next;

		e->size += n->size;
		e->next = n->next;
		if (n->next)
			n->next->prev = e;
		free(n);
	}
	if (e->prev && !e->prev->used) {
		struct sim_extent *p = e->prev;

		p->size += e->size;
		p->next = e->next;
		if (e->next)
			e->next->prev = p;
		free(e);
	}
out:
	pthread_mutex_unlock(&h->lock);
	return size;
}

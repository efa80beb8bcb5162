/* A store in a fresh temporary directory per test (cmocka setup/teardown),
 * shared by the store's unit tests. Include after <cmocka.h>. */
#ifndef GV_TEST_STORE_FIXTURE_H
#define GV_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpuvisor/store.h"

struct fx {
	char dir[64];
	char path[128];
	struct gv_store *st;
};

/* prefix: a mkdtemp template such as "/tmp/gv-store-XXXXXX". */
static inline int store_fx_setup(void **state, const char *prefix)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gv_err err = { 0 };

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", prefix);
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/gpuvisor.db", f->dir);
	if (gv_store_open(f->path, &f->st, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	gv_store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline void reopen(struct fx *f)
{
	struct gv_err err = { 0 };

	gv_store_close(f->st);
	f->st = NULL;
	assert_int_equal(gv_store_open(f->path, &f->st, &err), 0);
}

#endif

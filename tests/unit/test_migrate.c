/* Tests of the migration engine against an in-memory endpoint: regions are
 * malloc'ed buffers, a simulated workload dirties chosen chunks between
 * rounds (or a real thread writes all the time), and a simulated clock
 * makes bandwidths and therefore convergence deterministic. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/migrate.h"

#define KIB (1024ull)
#define MIB (1024ull * 1024ull)
#define MAXR 100

enum op {
	OP_NONE,
	OP_LIST,
	OP_CREATE,
	OP_HASH,
	OP_COPY,
	OP_STUN,
	OP_SWITCH,
	OP_RELEASE,
	OP_DESTROY
};

struct fregion {
	uint64_t id;
	uint64_t size;
	uint8_t *src;
	uint8_t *shadow;       /* what the workload wrote: the source must equal it */
	uint8_t *dst;	       /* NULL until dst_create */
	bool live;	       /* exists on the source */
	bool on_dst;	       /* after the switch the workload uses dst */
	int appear_pass;       /* appears before this pass (0: from the start) */
	int vanish_pass;       /* vanishes before this pass (0: never) */
	int vanish_after_list; /* freed right after being listed in this pass */
	int vanish_after_hash; /* freed right after being hashed in this pass */
	bool gone_late;	       /* freed while the engine still had it listed */
	int resize_pass;       /* freed and allocated again, same id, new size */
	uint64_t resize_to;
};

struct fake {
	struct fregion r[MAXR];
	int n;
	/* workload */
	const unsigned *sched; /* chunks dirtied before pass p: sched[min(p, nsched)-1] */
	int nsched;
	uint64_t wchunk; /* the workload's notion of a chunk for dirtying */
	uint64_t rng;
	bool aba; /* during copies before the stun: write, copy, write back */
	/* clock */
	bool sim;
	uint64_t now;
	uint64_t copy_bps, hash_bps;
	/* fault injection: op fails when pass and stun state match */
	enum op fail_op;
	int fail_pass;
	bool fail_stunned;
	bool fail_hit;
	int fail_code; /* errno of injected hash/copy failures (EIO if 0) */
	int enoent_hash, enoent_copy;
	bool bad_copy_hash; /* copy reports a wrong destination hash */
	bool fail_release, fail_destroy;
	/* observations */
	int lists, passes;
	bool list_retry;
	bool stunned, switched, released;
	int stuns, resumes, aborted_calls, progress_calls;
	bool identical_at_switch;
	unsigned throttle, throttle_calls;
	uint64_t bytes_copied_seen;
	atomic_int cancel;
	int cancel_after_pass;
	/* a real workload thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool thread_on, thread_stop, thread_paused;
	uint64_t thread_writes;
};

static uint64_t rnd(struct fake *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static struct fregion *find(struct fake *f, uint64_t id)
{
	for (int i = 0; i < f->n; i++)
		if (f->r[i].id == id && f->r[i].live)
			return &f->r[i];
	return NULL;
}

/* A region the engine asks about: live, or freed after it was listed (the
 * endpoint then answers ENOENT); anything else is an engine bug. */
static struct fregion *find_listed(struct fake *f, uint64_t id)
{
	for (int i = 0; i < f->n; i++)
		if (f->r[i].id == id && (f->r[i].live || f->r[i].gone_late))
			return &f->r[i];
	fail_msg("engine asked about region %llu, which it was never given",
		 (unsigned long long)id);
	return NULL;
}

static bool fail_now(struct fake *f, enum op op)
{
	if (f->fail_op != op || f->fail_hit)
		return false;
	if (f->stunned != f->fail_stunned || (!f->stunned && f->passes != f->fail_pass))
		return false;
	f->fail_hit = true;
	return true;
}

static void advance(struct fake *f, uint64_t bytes, uint64_t bps)
{
	if (f->sim && bps)
		f->now += (uint64_t)((double)bytes * 1e9 / (double)bps);
}

/* One workload write: a few bytes somewhere in a chunk of a live region,
 * mirrored into the shadow. */
static void write_chunk(struct fake *f, struct fregion *r, uint64_t chunk)
{
	uint8_t *mem = r->on_dst ? r->dst : r->src;
	uint64_t off = chunk * f->wchunk + rnd(f) % f->wchunk;
	uint64_t v = rnd(f) | 1;

	if (off + sizeof(v) > r->size)
		off = r->size - sizeof(v);
	memcpy(mem + off, &v, sizeof(v));
	memcpy(r->shadow + off, &v, sizeof(v));
}

static void dirty_pass(struct fake *f, int pass)
{
	unsigned want;
	uint64_t total_chunks = 0;

	if (!f->nsched)
		return;
	want = f->sched[(pass < f->nsched ? pass : f->nsched) - 1];
	want = (unsigned)((uint64_t)want * (100 - f->throttle) / 100);
	for (int i = 0; i < f->n; i++)
		if (f->r[i].live)
			total_chunks += f->r[i].size / f->wchunk;
	for (unsigned k = 0; k < want && total_chunks; k++) {
		uint64_t c = rnd(f) % total_chunks;

		for (int i = 0; i < f->n; i++) {
			uint64_t nc;

			if (!f->r[i].live)
				continue;
			nc = f->r[i].size / f->wchunk;
			if (c < nc) {
				write_chunk(f, &f->r[i], c);
				break;
			}
			c -= nc;
		}
	}
}

static void region_alloc(struct fregion *r, uint64_t id, uint64_t size, uint64_t *rng)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->size = size;
	r->src = malloc(size);
	r->shadow = malloc(size);
	assert_non_null(r->src);
	assert_non_null(r->shadow);
	for (uint64_t i = 0; i < size; i += 8) {
		uint64_t v;

		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		v = *rng;
		memcpy(r->src + i, &v, size - i < 8 ? size - i : 8);
	}
	memcpy(r->shadow, r->src, size);
	r->live = true;
}

static void fake_add(struct fake *f, uint64_t id, uint64_t size, int appear, int vanish)
{
	struct fregion *r = &f->r[f->n++];

	region_alloc(r, id, size, &f->rng);
	r->appear_pass = appear;
	r->vanish_pass = vanish;
	r->live = appear == 0;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->rng = 0x9e3779b97f4a7c15ull;
	f->wchunk = 64 * KIB;
	f->copy_bps = 1000ull * 1000 * 1000;	  /* 1 GB/s */
	f->hash_bps = 10ull * 1000 * 1000 * 1000; /* 10 GB/s */
	f->fail_pass = -1;
	f->cancel_after_pass = -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
}

static void fake_fini(struct fake *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->r[i].src);
		free(f->r[i].shadow);
		free(f->r[i].dst);
	}
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
}

/* ---- the endpoint ---- */

static int f_list(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
		  struct gv_err *err)
{
	struct fake *f = ctx;
	size_t n = 0;

	pthread_mutex_lock(&f->mu);
	if (!f->stunned && !f->switched && !f->list_retry) {
		/* the workload ran since the previous listing */
		f->passes = f->lists;
		for (int i = 0; i < f->n; i++) {
			if (f->r[i].appear_pass && f->r[i].appear_pass == f->passes)
				f->r[i].live = true;
			if (f->r[i].vanish_pass && f->r[i].vanish_pass == f->passes)
				f->r[i].live = false;
			if (f->r[i].resize_pass && f->r[i].resize_pass == f->passes) {
				struct fregion *r = &f->r[i];
				uint8_t *dst = r->dst;

				free(r->src);
				free(r->shadow);
				region_alloc(r, r->id, r->resize_to, &f->rng);
				r->dst = dst; /* the engine's to destroy */
			}
		}
		if (f->passes > 0)
			dirty_pass(f, f->passes);
		if (f->cancel_after_pass >= 0 && f->passes > f->cancel_after_pass)
			atomic_store(&f->cancel, 1);
	}
	f->lists++;
	if (fail_now(f, OP_LIST)) {
		pthread_mutex_unlock(&f->mu);
		return gv_err_set(err, EIO, "injected list failure");
	}
	for (int i = 0; i < f->n; i++) {
		if (!f->r[i].live)
			continue;
		if (n < cap) {
			out[n].id = f->r[i].id;
			out[n].size = f->r[i].size;
		}
		n++;
	}
	*count = n;
	for (int i = 0; i < f->n && n <= cap; i++) {
		if (f->r[i].live && f->r[i].vanish_after_list &&
		    f->r[i].vanish_after_list == f->passes && !f->stunned) {
			f->r[i].live = false;
			f->r[i].gone_late = true;
		}
	}
	/* the engine asks again with more room: same listing, same pass */
	f->list_retry = n > cap;
	if (f->list_retry)
		f->lists--;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int f_create(void *ctx, uint64_t id, uint64_t size, struct gv_err *err)
{
	struct fake *f = ctx;
	struct fregion *r = find(f, id);

	assert_non_null(r);
	assert_int_equal(r->size, size);
	assert_null(r->dst);
	if (fail_now(f, OP_CREATE))
		return gv_err_set(err, ENOSPC, "injected: destination full");
	r->dst = malloc(size);
	assert_non_null(r->dst);
	memset(r->dst, 0xAB, size);
	return 0;
}

static int f_destroy(void *ctx, uint64_t id, struct gv_err *err)
{
	struct fake *f = ctx;

	for (int i = 0; i < f->n; i++) {
		if (f->r[i].id == id && f->r[i].dst) {
			assert_false(f->r[i].on_dst);
			if (f->fail_destroy)
				return gv_err_set(err, EBUSY, "injected destroy failure");
			free(f->r[i].dst);
			f->r[i].dst = NULL;
			return 0;
		}
	}
	fail_msg("dst_destroy of unknown region %llu", (unsigned long long)id);
	return -ENOENT;
}

static int f_hash(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		  struct gv_chunk_hash *out, struct gv_err *err)
{
	struct fake *f = ctx;
	struct fregion *r;
	int rc;

	pthread_mutex_lock(&f->mu);
	r = find_listed(f, id);
	assert_false(r->on_dst);
	if (!r->live) {
		f->enoent_hash++;
		pthread_mutex_unlock(&f->mu);
		return gv_err_set(err, ENOENT, "region %llu was freed", (unsigned long long)id);
	}
	if (fail_now(f, OP_HASH)) {
		pthread_mutex_unlock(&f->mu);
		return gv_err_set(err, f->fail_code ? f->fail_code : EIO, "injected hash failure");
	}
	rc = gv_chunkhash_range(r->src, r->size, cs, first, count, out, err);
	advance(f, count * cs, f->hash_bps);
	if (r->vanish_after_hash && r->vanish_after_hash == f->passes && !f->stunned) {
		r->live = false;
		r->gone_late = true;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_copy(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		  struct gv_chunk_hash *out, struct gv_err *err)
{
	struct fake *f = ctx;
	struct fregion *r;
	int rc = 0;

	pthread_mutex_lock(&f->mu);
	r = find_listed(f, id);
	assert_non_null(r->dst);
	if (!r->live) {
		f->enoent_copy++;
		rc = gv_err_set(err, ENOENT, "region %llu was freed", (unsigned long long)id);
		goto out;
	}
	if (fail_now(f, OP_COPY)) {
		/* a failed copy may leave the destination half written */
		r->dst[first * cs] ^= 1;
		rc = gv_err_set(err, f->fail_code ? f->fail_code : EIO, "injected copy failure");
		goto out;
	}
	for (uint64_t c = first; c < first + count; c++) {
		uint64_t off = c * cs, len = gv_chunkhash_chunk_len(r->size, cs, c);
		uint8_t keep = r->src[off];

		assert_true(len > 0);
		/* ABA: the chunk changes while it is copied and changes back
		 * afterwards, so its source hash equals the one of the pass. */
		if (f->aba && !f->stunned)
			r->src[off] = (uint8_t)~keep;
		memcpy(r->dst + off, r->src + off, len);
		if (f->aba && !f->stunned)
			r->src[off] = keep;
		if (out) {
			out[c - first] = gv_chunkhash_one(r->dst + off, len);
			if (f->bad_copy_hash && f->stunned)
				out[c - first].lo ^= 1;
		}
		f->bytes_copied_seen += len;
		advance(f, len, f->copy_bps);
	}
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void *workload(void *arg)
{
	struct fake *f = arg;

	pthread_mutex_lock(&f->mu);
	while (!f->thread_stop) {
		if (f->stunned) {
			f->thread_paused = true;
			pthread_cond_broadcast(&f->cv);
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		f->thread_paused = false;
		for (int i = 0; i < f->n; i++)
			if (f->r[i].live && (rnd(f) & 3) == 0)
				write_chunk(f, &f->r[i], rnd(f) % (f->r[i].size / f->wchunk));
		f->thread_writes++;
		pthread_mutex_unlock(&f->mu);
		sched_yield();
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static int f_stun(void *ctx, struct gv_err *err)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	if (fail_now(f, OP_STUN)) {
		pthread_mutex_unlock(&f->mu);
		return gv_err_set(err, EBUSY, "injected: workload cannot be stopped");
	}
	assert_false(f->stunned);
	f->stunned = true;
	f->stuns++;
	while (f->thread_on && !f->thread_paused)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int f_switch(void *ctx, struct gv_err *err)
{
	struct fake *f = ctx;

	assert_true(f->stunned);
	if (fail_now(f, OP_SWITCH))
		return gv_err_set(err, EIO, "injected: remap failed");
	f->identical_at_switch = true;
	for (int i = 0; i < f->n; i++) {
		if (!f->r[i].live)
			continue;
		if (!f->r[i].dst || memcmp(f->r[i].dst, f->r[i].src, f->r[i].size) != 0)
			f->identical_at_switch = false;
		f->r[i].on_dst = true;
	}
	f->switched = true;
	return 0;
}

static void f_resume(void *ctx)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	assert_true(f->stunned);
	f->stunned = false;
	f->resumes++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int f_release(void *ctx, struct gv_err *err)
{
	struct fake *f = ctx;

	assert_true(f->switched);
	assert_false(f->stunned);
	if (f->fail_release)
		return gv_err_set(err, EBUSY, "injected release failure");
	for (int i = 0; i < f->n; i++) {
		free(f->r[i].src);
		f->r[i].src = NULL;
	}
	f->released = true;
	return 0;
}

static void f_aborted(void *ctx, const struct gv_err *why)
{
	struct fake *f = ctx;

	assert_true(why->code > 0);
	assert_true(why->msg[0] != '\0');
	f->aborted_calls++;
}

static int f_throttle(void *ctx, unsigned pct)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	f->throttle = pct;
	f->throttle_calls++;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* Bytes of the regions the engine tracks: those it created a destination
 * region for and has not destroyed. */
static uint64_t tracked_bytes(const struct fake *f)
{
	uint64_t t = 0;

	for (int i = 0; i < f->n; i++)
		if (f->r[i].dst)
			t += f->r[i].size;
	return t;
}

static void f_progress(void *ctx, const struct gv_mig_progress *p)
{
	struct fake *f = ctx;
	json_t *j = gv_mig_progress_to_json(p);

	assert_true(p->bytes_copied <= f->bytes_copied_seen);
	assert_int_equal(p->bytes_total, tracked_bytes(f));
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "round")), p->round);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes_dirty")), p->bytes_dirty);
	assert_string_equal(json_string_value(json_object_get(j, "phase")),
			    gv_mig_phase_name(p->phase));
	json_decref(j);
	f->progress_calls++;
}

static uint64_t f_now(void *ctx)
{
	struct fake *f = ctx;

	return f->now;
}

static struct gv_mig_ops fake_ops(bool sim)
{
	struct gv_mig_ops o = {
		.list_regions = f_list,
		.dst_create = f_create,
		.dst_destroy = f_destroy,
		.src_hash = f_hash,
		.copy = f_copy,
		.stun = f_stun,
		.switch_over = f_switch,
		.resume = f_resume,
		.src_release = f_release,
		.aborted = f_aborted,
		.throttle = f_throttle,
		.progress = f_progress,
		.now_ns = sim ? f_now : NULL,
	};

	return o;
}

static void small_config(struct gv_mig_config *cfg)
{
	gv_mig_config_default(cfg);
	cfg->chunk_size = 64 * KIB;
	cfg->max_copy_chunks = 4;
}

/* A state of three regions, one with a short last chunk. */
static void three_regions(struct fake *f)
{
	fake_add(f, 7, 2 * MIB, 0, 0);
	fake_add(f, 3, 1 * MIB, 0, 0);
	fake_add(f, 11, 3 * MIB + 12345, 0, 0);
}

static uint64_t live_bytes(const struct fake *f)
{
	uint64_t t = 0;

	for (int i = 0; i < f->n; i++)
		if (f->r[i].live)
			t += f->r[i].size;
	return t;
}

/* After a switch: the workload's memory (dst) holds what it wrote. */
static void assert_switched_ok(struct fake *f, const struct gv_mig_report *rep)
{
	assert_int_equal(rep->result, GV_MIG_OK);
	assert_true(f->switched);
	assert_true(f->identical_at_switch);
	assert_true(f->released);
	assert_true(rep->source_released);
	assert_false(f->stunned);
	assert_int_equal(f->stuns, 1);
	assert_int_equal(f->resumes, 1);
	assert_int_equal(f->aborted_calls, 0);
	assert_int_equal(f->throttle, 0);
	for (int i = 0; i < f->n; i++) {
		if (!f->r[i].live) {
			assert_null(f->r[i].dst); /* vanished: destination freed */
			continue;
		}
		assert_non_null(f->r[i].dst);
		assert_memory_equal(f->r[i].dst, f->r[i].shadow, f->r[i].size);
	}
	/* the bytes add up */
	{
		uint64_t pre = 0;

		for (size_t i = 0; i < rep->nround; i++)
			pre += rep->round[i].bytes_copied;
		assert_int_equal(pre, rep->bytes_precopy);
		assert_int_equal(rep->bytes_precopy + rep->bytes_stun, f->bytes_copied_seen);
	}
	assert_int_equal(rep->bytes_total, live_bytes(f));
	assert_true(rep->total_ns >= rep->downtime_ns);
	assert_true(rep->total_ns >= rep->setup_ns + rep->precopy_ns);
	assert_string_equal(rep->reason, "");
}

/* After an abort: the source is what the workload wrote, nothing of the
 * destination remains, the workload runs, nothing was released. */
static void assert_aborted_clean(struct fake *f, const struct gv_mig_report *rep, int rc,
				 enum gv_mig_phase phase)
{
	assert_true(rc < 0);
	assert_int_equal(rep->result, GV_MIG_ABORTED);
	assert_int_equal(rep->failed_phase, phase);
	assert_int_equal(rep->error, -rc);
	assert_true(rep->reason[0] != '\0');
	assert_false(f->switched);
	assert_false(f->released);
	assert_false(f->stunned);
	assert_int_equal(f->stuns, f->resumes);
	assert_int_equal(f->aborted_calls, 1);
	assert_int_equal(f->throttle, 0);
	for (int i = 0; i < f->n; i++) {
		assert_null(f->r[i].dst);
		assert_false(f->r[i].on_dst);
		assert_memory_equal(f->r[i].src, f->r[i].shadow, f->r[i].size);
	}
}

/* ---- tests ---- */

static const unsigned shrinking[] = { 40, 20, 10, 5, 2, 1, 0 };

static void test_precopy_identical(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1; /* never converges: stops on rounds */
	cfg.max_rounds = 6;
	cfg.stall_rounds = 0;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_ROUND_LIMIT);
	assert_int_equal(rep->rounds, 6);
	assert_int_equal(rep->regions, 3);
	assert_int_equal(rep->round[0].bytes_copied, live_bytes(&f));
	assert_true(rep->bytes_stun > 0);
	assert_true(rep->bytes_stun < live_bytes(&f) / 4);
	assert_true(f.progress_calls > 6);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_stopcopy_identical(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.mode = GV_MIG_STOPCOPY;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_STOPCOPY);
	assert_int_equal(rep->rounds, 0);
	assert_int_equal(rep->nround, 0);
	assert_int_equal(rep->bytes_precopy, 0);
	assert_int_equal(rep->bytes_stun, live_bytes(&f));
	assert_int_equal(rep->bytes_hashed, 0);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* Simulated 1 GB/s copies and 10 GB/s hashing of 6 MiB: a final hash pass
 * costs ~0.63 ms and a 64 KiB chunk ~66 us, so a 1.2 ms limit admits about
 * 8 dirty chunks. The dirty set shrinks 40, 20, 10, 5: the engine must stop
 * at the first pass whose estimate is under the limit, and the stun must
 * then take about that estimate. */
static void test_converges_under_limit(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	size_t last;

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_CONVERGED);
	assert_true(rep->rounds >= 2);
	assert_true(rep->rounds < cfg.max_rounds);
	last = rep->nround - 1;
	assert_int_equal(rep->round[last].bytes_copied, 0); /* the deciding pass */
	assert_true(rep->round[last].expected_downtime_ns <= cfg.downtime_limit_ns);
	assert_int_equal(rep->expected_downtime_ns, rep->round[last].expected_downtime_ns);
	for (size_t i = 1; i < last; i++)
		assert_true(rep->round[i].expected_downtime_ns > cfg.downtime_limit_ns);
	/* the workload did not run between the decision and the stun, so the
	 * stun copies exactly what the deciding pass found */
	assert_int_equal(rep->bytes_stun, rep->round[last].bytes_dirty);
	assert_true(rep->downtime_ns <= cfg.downtime_limit_ns);
	assert_true(rep->downtime_ns + 50 * 1000 >= rep->expected_downtime_ns);
	assert_true(rep->bandwidth_bps > 900ull * 1000 * 1000 &&
		    rep->bandwidth_bps < 1100ull * 1000 * 1000);
	assert_true(rep->dirty_rate_bps > 0);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static const unsigned heavy[] = { 60 };

/* A workload that dirties more than a round can send never converges: the
 * round limit ends pre-copy and the stun still produces an exact copy. */
static void test_nonconverging_hits_round_limit(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = heavy;
	f.nsched = 1;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 100 * 1000;
	cfg.max_rounds = 5;
	cfg.stall_rounds = 0;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_ROUND_LIMIT);
	assert_int_equal(rep->rounds, 5);
	assert_int_equal(rep->nround, 6);
	assert_true(rep->expected_downtime_ns > cfg.downtime_limit_ns);
	assert_true(rep->downtime_ns > cfg.downtime_limit_ns);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* The caller's estimate of the rest of the stun (the driver's phases on
 * the driver path) counts in every estimate: the workload of
 * test_converges_under_limit, which converges under 1.2 ms without it,
 * never does when the rest alone is over the limit; the round limit ends
 * pre-copy, and the report and its JSON carry the figure. */
static void test_stun_fixed_counts(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	json_t *j;

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	cfg.stun_fixed_ns = 1500 * 1000;
	cfg.max_rounds = 6;
	cfg.stall_rounds = 0;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_ROUND_LIMIT);
	assert_int_equal(rep->stun_fixed_ns, cfg.stun_fixed_ns);
	for (size_t i = 1; i < rep->nround; i++)
		assert_true(rep->round[i].expected_downtime_ns >= cfg.stun_fixed_ns);
	assert_true(rep->expected_downtime_ns > cfg.downtime_limit_ns);
	j = gv_mig_report_to_json(rep);
	assert_non_null(j);
	assert_true(json_number_value(json_object_get(j, "stun_fixed_ms")) == 1.5);
	json_decref(j);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_stall_stops_rounds(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	static const unsigned growing[] = { 10, 20, 30, 40, 50, 60, 70 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = growing;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1000;
	cfg.max_rounds = 20;
	cfg.stall_rounds = 2;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_STALLED);
	assert_true(rep->rounds < 8);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* With auto-converge the throttle rises 20, 30, ... until the workload
 * dirties little enough; it is lifted at the end. */
static void test_auto_converge(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = heavy;
	f.nsched = 1;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	cfg.max_rounds = 30;
	cfg.stall_rounds = 0;
	cfg.auto_converge = true;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->stop, GV_MIG_STOP_CONVERGED);
	assert_true(rep->throttle_max_pct >= 20);
	assert_int_equal((rep->throttle_max_pct - 20) % 10, 0);
	assert_true(f.throttle_calls >= 2); /* raised, then lifted */
	/* the throttle starts at 20 and rises by 10 per round */
	{
		unsigned prev = 0;

		for (size_t i = 0; i < rep->nround; i++) {
			unsigned t = rep->round[i].throttle_pct;

			if (t && !prev)
				assert_int_equal(t, 20);
			else if (t)
				assert_true(t == prev || t == prev + 10);
			prev = t;
		}
		assert_int_equal(prev, rep->throttle_max_pct);
	}
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* A chunk that changes during its copy and changes back afterwards has the
 * same source hash as the pass before the copy: only the destination's
 * hash reveals that the copy is stale. */
static void test_write_during_copy_aba(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	static const unsigned none[] = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = none;
	f.nsched = 1;
	f.aba = true;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1; /* straight to the round limit */
	cfg.max_rounds = 2;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	/* every chunk was stale after each round and is copied in the stun */
	assert_int_equal(rep->round[1].bytes_copied, live_bytes(&f));
	assert_int_equal(rep->bytes_stun, live_bytes(&f));
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* Regions allocated and freed while pre-copy runs. */
static void test_regions_come_and_go(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	fake_add(&f, 20, 1 * MIB, 2, 0);   /* allocated before pass 2 */
	fake_add(&f, 21, 512 * KIB, 0, 3); /* freed before pass 3 */
	f.r[0].resize_pass = 2;		   /* id 7 comes back with another size */
	f.r[0].resize_to = 3 * MIB + 5;
	small_config(&cfg);
	cfg.downtime_limit_ns = 1;
	cfg.max_rounds = 5;
	cfg.stall_rounds = 0;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->regions, 4);
	assert_true(f.r[3].live);
	assert_false(f.r[4].live);
	assert_int_equal(f.r[0].size, 3 * MIB + 5);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static const unsigned many_writes[] = { 400 };

/* Regions freed by the workload between the engine's listing and its hash
 * or copy of them: dropped, not a reason to abort. */
static void test_regions_vanish_mid_pass(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	three_regions(&f);
	fake_add(&f, 30, 1 * MIB, 0, 0);
	f.r[3].vanish_after_list = 2; /* hash answers ENOENT */
	fake_add(&f, 31, 1 * MIB, 0, 0);
	f.r[4].vanish_after_hash = 1; /* copy answers ENOENT */
	f.sched = many_writes;
	f.nsched = 1;
	small_config(&cfg);
	cfg.downtime_limit_ns = 1;
	cfg.max_rounds = 4;
	cfg.stall_rounds = 0;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_true(f.r[3].gone_late);
	assert_true(f.r[4].gone_late);
	assert_true(f.enoent_hash > 0);
	assert_true(f.enoent_copy > 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->regions, 3);
	assert_int_equal(rep->bytes_total, live_bytes(&f));
	gv_mig_report_free(rep);
	fake_fini(&f);
}

struct fault {
	enum op op;
	int pass;
	bool stunned;
	enum gv_mig_phase phase;
	int err;
};

static void run_fault(const struct fault *ft, enum gv_mig_mode mode)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	int rc;

	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	f.fail_op = ft->op;
	f.fail_pass = ft->pass;
	f.fail_stunned = ft->stunned;
	f.fail_code = ft->err;
	three_regions(&f);
	small_config(&cfg);
	cfg.mode = mode;
	cfg.downtime_limit_ns = 1;
	cfg.max_rounds = 4;
	cfg.auto_converge = true;
	ops = fake_ops(true);
	rc = gv_mig_run(&cfg, &ops, &f, rep, &err);
	if (!f.fail_hit)
		fail_msg("fault op %d pass %d stunned %d never hit (mode %d, rc %d)", ft->op,
			 ft->pass, ft->stunned, mode, rc);
	assert_int_equal(rc, -ft->err);
	assert_int_equal(err.code, ft->err);
	assert_aborted_clean(&f, rep, rc, ft->phase);
	assert_string_equal(err.msg, rep->reason);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_faults_abort_cleanly(void **state)
{
	static const struct fault precopy[] = {
		{ OP_CREATE, 0, false, GV_MIG_PHASE_SETUP, ENOSPC },
		{ OP_LIST, 0, false, GV_MIG_PHASE_SETUP, EIO },
		{ OP_COPY, 0, false, GV_MIG_PHASE_PRECOPY, EIO }, /* round 1 */
		{ OP_HASH, 1, false, GV_MIG_PHASE_PRECOPY, EIO }, /* pass 1 */
		{ OP_COPY, 2, false, GV_MIG_PHASE_PRECOPY, EIO }, /* round 3 */
		{ OP_LIST, 3, false, GV_MIG_PHASE_PRECOPY, EIO },
		{ OP_STUN, 0, false, GV_MIG_PHASE_STUN, EBUSY }, /* refused */
		{ OP_LIST, 0, true, GV_MIG_PHASE_STUN, EIO },
		{ OP_HASH, 0, true, GV_MIG_PHASE_STUN, EIO },
		{ OP_COPY, 0, true, GV_MIG_PHASE_STUN, EIO },
		{ OP_SWITCH, 0, true, GV_MIG_PHASE_SWITCH, EIO },
		/* nothing may vanish while stunned: ENOENT is an error there */
		{ OP_HASH, 0, true, GV_MIG_PHASE_STUN, ENOENT },
		{ OP_COPY, 0, true, GV_MIG_PHASE_STUN, ENOENT },
	};
	static const struct fault stopcopy[] = {
		{ OP_CREATE, 0, false, GV_MIG_PHASE_SETUP, ENOSPC },
		{ OP_STUN, 0, false, GV_MIG_PHASE_STUN, EBUSY },
		{ OP_COPY, 0, true, GV_MIG_PHASE_STUN, EIO },
		{ OP_SWITCH, 0, true, GV_MIG_PHASE_SWITCH, EIO },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(precopy) / sizeof(precopy[0]); i++) {
		struct fault ft = precopy[i];

		/* the stun is refused before the last pass: fail when the
		 * engine asks, whatever pass it is at */
		if (ft.op == OP_STUN)
			ft.pass = 4;
		run_fault(&ft, GV_MIG_PRECOPY);
	}
	for (size_t i = 0; i < sizeof(stopcopy) / sizeof(stopcopy[0]); i++)
		run_fault(&stopcopy[i], GV_MIG_STOPCOPY);
}

/* A destination that does not hold what the frozen source holds after the
 * stun copy is never switched to. */
static void test_stun_verification_aborts(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	int rc;

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	f.bad_copy_hash = true;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1;
	cfg.max_rounds = 3;
	ops = fake_ops(true);
	rc = gv_mig_run(&cfg, &ops, &f, rep, &err);
	assert_int_equal(rc, -EIO);
	assert_aborted_clean(&f, rep, rc, GV_MIG_PHASE_STUN);
	assert_non_null(strstr(rep->reason, "differs"));
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_cancel(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	int rc;

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = heavy;
	f.nsched = 1;
	f.cancel_after_pass = 2;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1;
	cfg.stall_rounds = 0;
	cfg.cancel = &f.cancel;
	ops = fake_ops(true);
	rc = gv_mig_run(&cfg, &ops, &f, rep, &err);
	assert_int_equal(rc, -ECANCELED);
	assert_aborted_clean(&f, rep, rc, GV_MIG_PHASE_PRECOPY);
	assert_true(rep->rounds >= 2 && rep->rounds <= 3);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_cleanup_failures_are_warnings(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	json_t *j;

	(void)state;
	/* the source cannot be released: the migration still happened */
	fake_init(&f);
	f.sim = true;
	f.fail_release = true;
	three_regions(&f);
	small_config(&cfg);
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_int_equal(rep->result, GV_MIG_OK);
	assert_false(rep->source_released);
	assert_non_null(strstr(rep->warning, "releasing the source"));
	j = gv_mig_report_to_json(rep);
	assert_non_null(j);
	assert_non_null(strstr(json_string_value(json_object_get(j, "warning")), "injected"));
	json_decref(j);
	for (int i = 0; i < f.n; i++) /* the fake did not free them */
		assert_non_null(f.r[i].src);
	fake_fini(&f);

	/* destination regions that cannot be destroyed on abort are named */
	fake_init(&f);
	f.sim = true;
	f.fail_op = OP_SWITCH;
	f.fail_stunned = true;
	f.fail_destroy = true;
	three_regions(&f);
	assert_true(gv_mig_run(&cfg, &ops, &f, rep, &err) < 0);
	assert_int_equal(rep->result, GV_MIG_ABORTED);
	assert_non_null(strstr(rep->warning, "destroying destination region 3"));
	assert_non_null(strstr(rep->warning, "destroying destination region 11"));
	assert_int_equal(f.resumes, 1);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* Mostly cold state: the pre-copy stun moves a small fraction of what the
 * stop-and-copy stun moves. */
static void test_precopy_stun_much_smaller(void **state)
{
	static const unsigned warm[] = { 4 };
	struct gv_mig_report *rep[2];
	uint64_t stun_time[2];

	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		struct fake f;
		struct gv_mig_config cfg;
		struct gv_mig_ops ops;
		struct gv_err err = { 0 };

		fake_init(&f);
		f.sim = true;
		f.sched = warm;
		f.nsched = 1;
		fake_add(&f, 1, 16 * MIB, 0, 0);
		fake_add(&f, 2, 8 * MIB, 0, 0);
		small_config(&cfg);
		cfg.mode = mode ? GV_MIG_STOPCOPY : GV_MIG_PRECOPY;
		cfg.downtime_limit_ns = 5 * 1000 * 1000;
		ops = fake_ops(true);
		rep[mode] = gv_mig_report_new();
		assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep[mode], &err), 0);
		assert_switched_ok(&f, rep[mode]);
		stun_time[mode] = rep[mode]->downtime_ns;
		fake_fini(&f);
	}
	assert_int_equal(rep[1]->bytes_stun, 24 * MIB);
	assert_true(rep[0]->bytes_stun * 20 < rep[1]->bytes_stun);
	assert_true(stun_time[0] * 4 < stun_time[1]);
	assert_true(rep[0]->bytes_precopy >= 24 * MIB);
	gv_mig_report_free(rep[0]);
	gv_mig_report_free(rep[1]);
}

/* A real thread writes all the time, also while chunks are hashed and
 * copied; the stun stops it and the destination must be exact. */
static void test_concurrent_workload(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	pthread_t th;
	time_t t0 = time(NULL);

	(void)state;
	fake_init(&f);
	three_regions(&f);
	small_config(&cfg);
	cfg.max_rounds = 8;
	f.thread_on = true;
	assert_int_equal(pthread_create(&th, NULL, workload, &f), 0);
	/* On a loaded machine the writer may not run before a short migration
	 * ends: let it start writing first, so the test is about writes that
	 * race the rounds, not about the scheduler's luck. */
	for (int started = 0; !started && time(NULL) - t0 < 30;) {
		pthread_mutex_lock(&f.mu);
		started = f.thread_writes > 0;
		pthread_mutex_unlock(&f.mu);
		if (!started)
			usleep(1000);
	}
	ops = fake_ops(false);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	pthread_mutex_lock(&f.mu);
	f.thread_stop = true;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
	pthread_join(th, NULL);
	assert_true(f.thread_writes > 0);
	assert_switched_ok(&f, rep); /* includes the writes after the switch */
	assert_true(time(NULL) - t0 < 60);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

static void test_config_and_ops_checked(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	enum gv_mig_mode mode;
	const uint64_t bad_chunks[] = { 0, 4096, 3 * MIB, 128 * MIB };

	(void)state;
	fake_init(&f);
	three_regions(&f);
	ops = fake_ops(true);
	for (size_t i = 0; i < 4; i++) {
		small_config(&cfg);
		cfg.chunk_size = bad_chunks[i];
		assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "chunk size"));
	}
	small_config(&cfg);
	cfg.max_rounds = 0;
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), -EINVAL);
	small_config(&cfg);
	cfg.auto_converge = true;
	cfg.throttle_initial = 0;
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), -EINVAL);
	small_config(&cfg);
	cfg.mode = (enum gv_mig_mode)7;
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), -EINVAL);
	small_config(&cfg);
	ops.switch_over = NULL;
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "callback"));
	assert_int_equal(gv_mig_run(&cfg, NULL, &f, rep, &err), -EINVAL);
	assert_int_equal(gv_mig_run(NULL, &ops, &f, rep, &err), -EINVAL);
	/* nothing was called, nothing changed */
	assert_int_equal(rep->result, GV_MIG_NONE);
	assert_int_equal(f.lists, 0);
	for (int i = 0; i < f.n; i++)
		assert_null(f.r[i].dst);

	assert_int_equal(gv_mig_mode_parse("stopcopy", &mode, &err), 0);
	assert_int_equal(mode, GV_MIG_STOPCOPY);
	assert_int_equal(gv_mig_mode_parse("precopy", &mode, &err), 0);
	assert_int_equal(mode, GV_MIG_PRECOPY);
	assert_int_equal(gv_mig_mode_parse("live", &mode, &err), -EINVAL);
	assert_int_equal(mode, GV_MIG_PRECOPY);
	assert_string_equal(gv_mig_mode_name(GV_MIG_STOPCOPY), "stopcopy");
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* The endpoint must list sane regions. */
static int bad_list(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
		    struct gv_err *err)
{
	const int *kind = ctx;

	(void)err;
	*count = 2;
	if (cap >= 2) {
		out[0].id = 5;
		out[0].size = 1 * MIB;
		out[1].id = *kind == 0 ? 5 : 6;
		out[1].size = *kind == 0 ? MIB : 0;
	}
	return 0;
}

static int never_create(void *ctx, uint64_t id, uint64_t size, struct gv_err *err)
{
	fail_msg("dst_create called for an invalid listing");
	return -EIO;
}

static void test_bad_listing_refused(void **state)
{
	struct gv_mig_config cfg;
	struct gv_mig_ops ops = fake_ops(false);
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	ops.list_regions = bad_list;
	ops.dst_create = never_create;
	ops.aborted = NULL;
	ops.throttle = NULL;
	ops.progress = NULL;
	small_config(&cfg);
	for (int kind = 0; kind < 2; kind++) {
		assert_int_equal(gv_mig_run(&cfg, &ops, &kind, rep, &err), -EINVAL);
		assert_int_equal(rep->result, GV_MIG_ABORTED);
		assert_non_null(strstr(err.msg, kind == 0 ? "twice" : "size 0"));
	}
	gv_mig_report_free(rep);
}

static void test_report_json(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	json_t *j, *rounds;
	uint64_t sum = 0;

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	j = gv_mig_report_to_json(rep);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "precopy");
	assert_string_equal(json_string_value(json_object_get(j, "result")), "ok");
	assert_string_equal(json_string_value(json_object_get(j, "stop")), "converged");
	assert_int_equal(json_integer_value(json_object_get(j, "rounds")), rep->rounds);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes_stun")), rep->bytes_stun);
	assert_int_equal(json_integer_value(json_object_get(j, "downtime_ns")), rep->downtime_ns);
	assert_true(json_real_value(json_object_get(j, "downtime_limit_ms")) == 1.2);
	assert_null(json_object_get(j, "reason"));
	rounds = json_object_get(j, "round_stats");
	assert_int_equal(json_array_size(rounds), rep->nround);
	for (size_t i = 0; i < json_array_size(rounds); i++)
		sum += (uint64_t)json_integer_value(
			json_object_get(json_array_get(rounds, i), "bytes_copied"));
	assert_int_equal(sum, json_integer_value(json_object_get(j, "bytes_precopy")));
	json_decref(j);
	fake_fini(&f);

	/* an aborted run carries its phase and reason */
	fake_init(&f);
	f.sim = true;
	f.fail_op = OP_SWITCH;
	f.fail_stunned = true;
	three_regions(&f);
	assert_true(gv_mig_run(&cfg, &ops, &f, rep, &err) < 0);
	j = gv_mig_report_to_json(rep);
	assert_string_equal(json_string_value(json_object_get(j, "result")), "aborted");
	assert_string_equal(json_string_value(json_object_get(j, "failed_phase")), "switch");
	assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "remap failed"));
	assert_int_equal(json_integer_value(json_object_get(j, "error")), EIO);
	json_decref(j);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* More regions than the engine's first listing buffer holds, some of them
 * smaller than a chunk. */
static void test_many_regions(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	for (int i = 0; i < MAXR; i++)
		fake_add(&f, 1000 - (uint64_t)i, i % 3 ? 128 * KIB : 64 * KIB + 8 * (uint64_t)i, 0,
			 0);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	ops = fake_ops(true);
	assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
	assert_switched_ok(&f, rep);
	assert_int_equal(rep->regions, MAXR);
	gv_mig_report_free(rep);
	fake_fini(&f);
}

/* Back and forth: the destination of one migration is the source of the
 * next; twenty moves, the workload's memory always exact. */
static void test_back_and_forth(void **state)
{
	struct fake f;
	struct gv_mig_config cfg;
	struct gv_mig_ops ops;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };

	(void)state;
	fake_init(&f);
	f.sim = true;
	f.sched = shrinking;
	f.nsched = 7;
	three_regions(&f);
	small_config(&cfg);
	cfg.downtime_limit_ns = 1200 * 1000;
	ops = fake_ops(true);
	for (int k = 0; k < 20; k++) {
		cfg.mode = k % 3 == 2 ? GV_MIG_STOPCOPY : GV_MIG_PRECOPY;
		f.bytes_copied_seen = 0;
		f.stuns = f.resumes = 0;
		assert_int_equal(gv_mig_run(&cfg, &ops, &f, rep, &err), 0);
		assert_switched_ok(&f, rep);
		/* the destination becomes the source */
		for (int i = 0; i < f.n; i++) {
			f.r[i].src = f.r[i].dst;
			f.r[i].dst = NULL;
			f.r[i].on_dst = false;
		}
		f.switched = f.released = false;
		f.lists = 0;
	}
	gv_mig_report_free(rep);
	fake_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precopy_identical),
		cmocka_unit_test(test_stopcopy_identical),
		cmocka_unit_test(test_converges_under_limit),
		cmocka_unit_test(test_nonconverging_hits_round_limit),
		cmocka_unit_test(test_stun_fixed_counts),
		cmocka_unit_test(test_stall_stops_rounds),
		cmocka_unit_test(test_auto_converge),
		cmocka_unit_test(test_write_during_copy_aba),
		cmocka_unit_test(test_regions_come_and_go),
		cmocka_unit_test(test_regions_vanish_mid_pass),
		cmocka_unit_test(test_faults_abort_cleanly),
		cmocka_unit_test(test_stun_verification_aborts),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cleanup_failures_are_warnings),
		cmocka_unit_test(test_precopy_stun_much_smaller),
		cmocka_unit_test(test_concurrent_workload),
		cmocka_unit_test(test_config_and_ops_checked),
		cmocka_unit_test(test_bad_listing_refused),
		cmocka_unit_test(test_report_json),
		cmocka_unit_test(test_many_regions),
		cmocka_unit_test(test_back_and_forth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The live-migration engine: pre-copy rounds, convergence, stun, switch,
 * abort. See include/gpuvisor/migrate.h for the contract and
 * docs/migration.md for the reasoning. */
#include "gpuvisor/migrate.h"
#include "gpuvisor/nametab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Source hashes are requested in batches so that cancellation is seen
 * within a bounded amount of work. */
#define MIG_HASH_BATCH 4096u
/* Regions listed without a second call in the common case. */
#define MIG_LIST_INITIAL 64u

/* Engine state of one region. dst[i] is the hash of the bytes the
 * destination holds for chunk i, valid when have[i]; cur[i] is the source
 * hash of the latest pass and dirty[i] says the chunk must be copied. */
struct mig_reg {
	uint64_t id;
	uint64_t size;
	uint64_t nchunks;
	struct gv_chunk_hash *dst;
	struct gv_chunk_hash *cur;
	uint8_t *have;
	uint8_t *dirty;
	bool gone; /* freed by the workload during pre-copy */
};

struct mig {
	const struct gv_mig_config *cfg;
	const struct gv_mig_ops *ops;
	void *ctx;
	struct gv_mig_report *rep;
	struct mig_reg *reg; /* sorted by id */
	size_t nreg;
	struct gv_mig_region *list;
	size_t listcap;
	size_t roundcap;
	enum gv_mig_phase phase;
	bool stunned;
	bool throttle_ok;
	unsigned throttle;
	uint64_t copy_bytes; /* all copies, for the bandwidth */
	uint64_t copy_ns;
	uint64_t hash_ns;
	uint64_t bytes_total; /* of the latest listing */
};

static uint64_t mig_now(const struct mig *m)
{
	struct timespec ts;

	if (m->ops->now_ns)
		return m->ops->now_ns(m->ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rate_bps(uint64_t bytes, uint64_t ns)
{
	if (ns == 0)
		return 0;
	return (uint64_t)((double)bytes * 1e9 / (double)ns);
}

/* Time to move bytes at a measured rate; 0 when nothing was measured yet
 * (the caller only uses it after round 1 has measured the copy rate). */
static uint64_t time_ns(uint64_t bytes, uint64_t done_bytes, uint64_t done_ns)
{
	if (done_bytes == 0)
		return 0;
	return (uint64_t)((double)bytes * (double)done_ns / (double)done_bytes);
}

static void reg_fini(struct mig_reg *r)
{
	free(r->dst);
	free(r->cur);
	free(r->have);
	free(r->dirty);
	memset(r, 0, sizeof(*r));
}

static int reg_init(struct mig_reg *r, uint64_t id, uint64_t size, uint64_t chunk_size)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->size = size;
	r->nchunks = gv_chunkhash_count(size, chunk_size);
	if (r->nchunks > SIZE_MAX / sizeof(struct gv_chunk_hash))
		return -ENOMEM;
	r->dst = calloc((size_t)r->nchunks, sizeof(*r->dst));
	r->cur = calloc((size_t)r->nchunks, sizeof(*r->cur));
	r->have = calloc((size_t)r->nchunks, 1);
	r->dirty = calloc((size_t)r->nchunks, 1);
	if (!r->dst || !r->cur || !r->have || !r->dirty) {
		reg_fini(r);
		return -ENOMEM;
	}
	return 0;
}

static void add_warning(struct mig *m, const char *what, const struct gv_err *e)
{
	size_t n = strlen(m->rep->warning);

	if (n + 2 >= sizeof(m->rep->warning))
		return;
	snprintf(m->rep->warning + n, sizeof(m->rep->warning) - n, "%s%s: %s", n ? "; " : "", what,
		 e->msg[0] ? e->msg : "failed");
}

static int check_cancel(const struct mig *m, struct gv_err *err)
{
	if (m->cfg->cancel && atomic_load(m->cfg->cancel))
		return gv_err_set(err, ECANCELED, "migration cancelled");
	return 0;
}

static int cmp_region(const void *a, const void *b)
{
	const struct gv_mig_region *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Destroys the destination region of r (best effort) and forgets r. */
static void drop_reg(struct mig *m, struct mig_reg *r)
{
	struct gv_err e = { 0 };

	if (m->ops->dst_destroy(m->ctx, r->id, &e) < 0) {
		char what[64];

		snprintf(what, sizeof(what), "destroying destination region %llu",
			 (unsigned long long)r->id);
		add_warning(m, what, &e);
	}
	reg_fini(r);
}

/* Asks the endpoint for its regions into m->list (sorted, validated). */
static int fetch_list(struct mig *m, size_t *count, struct gv_err *err)
{
	size_t n = 0;
	int rc;

	if (!m->list) {
		m->list = calloc(MIG_LIST_INITIAL, sizeof(*m->list));
		if (!m->list)
			return gv_err_set(err, ENOMEM, "listing source regions: out of memory");
		m->listcap = MIG_LIST_INITIAL;
	}
	for (int tries = 0;; tries++) {
		rc = m->ops->list_regions(m->ctx, m->list, m->listcap, &n, err);
		if (rc < 0) {
			gv_err_prefix(err, "listing source regions");
			return rc;
		}
		if (n <= m->listcap)
			break;
		if (tries >= 8)
			return gv_err_set(err, EAGAIN,
					  "listing source regions: the count keeps growing");
		{
			size_t cap = n + n / 4 + 16;
			struct gv_mig_region *p = realloc(m->list, cap * sizeof(*p));

			if (!p)
				return gv_err_set(err, ENOMEM,
						  "listing source regions: out of memory");
			m->list = p;
			m->listcap = cap;
		}
	}
	qsort(m->list, n, sizeof(*m->list), cmp_region);
	for (size_t i = 0; i < n; i++) {
		if (m->list[i].size == 0)
			return gv_err_set(err, EINVAL, "source region %llu has size 0",
					  (unsigned long long)m->list[i].id);
		if (i > 0 && m->list[i].id == m->list[i - 1].id)
			return gv_err_set(err, EINVAL, "source region id %llu listed twice",
					  (unsigned long long)m->list[i].id);
	}
	*count = n;
	return 0;
}

/* Brings the engine's regions in line with the source's: destination
 * regions are created for new source regions and destroyed for vanished
 * ones; a region whose size changed under the same id starts over. */
static int reconcile(struct mig *m, struct gv_err *err)
{
	struct mig_reg *next = NULL;
	size_t n = 0, i = 0, j = 0, k = 0;
	uint64_t total = 0;
	int rc;

	rc = fetch_list(m, &n, err);
	if (rc < 0)
		goto out;
	next = calloc(m->nreg + n + 1, sizeof(*next));
	if (!next) {
		rc = gv_err_set(err, ENOMEM, "out of memory for %zu regions", n);
		goto out;
	}
	while (i < m->nreg || j < n) {
		struct mig_reg *old = i < m->nreg ? &m->reg[i] : NULL;
		const struct gv_mig_region *src = j < n ? &m->list[j] : NULL;

		if (old && (!src || old->id < src->id)) {
			drop_reg(m, old);
			i++;
			continue;
		}
		if (old && old->id == src->id && old->size == src->size) {
			next[k++] = *old;
			memset(old, 0, sizeof(*old));
			i++;
			j++;
			total += src->size;
			continue;
		}
		if (old && old->id == src->id) {
			drop_reg(m, old);
			i++;
		}
		rc = reg_init(&next[k], src->id, src->size, m->cfg->chunk_size);
		if (rc < 0) {
			gv_err_set(err, -rc, "out of memory for region %llu",
				   (unsigned long long)src->id);
			goto out;
		}
		rc = m->ops->dst_create(m->ctx, src->id, src->size, err);
		if (rc < 0) {
			reg_fini(&next[k]);
			gv_err_prefix(err, "creating destination region %llu (%llu bytes)",
				      (unsigned long long)src->id, (unsigned long long)src->size);
			goto out;
		}
		k++;
		j++;
		total += src->size;
	}
	m->bytes_total = total;
	m->rep->regions = k;
	m->rep->bytes_total = total;
	rc = 0;
out:
	if (next) {
		/* On failure the old regions not yet visited stay tracked, so
		 * that the abort path destroys their destination regions. */
		for (; i < m->nreg; i++)
			next[k++] = m->reg[i];
		free(m->reg);
		m->reg = next;
		m->nreg = k;
	}
	return rc;
}

/* While the workload runs, a region listed a moment ago may be freed
 * before the engine reaches it: the endpoint answers ENOENT and the region
 * is dropped at the end of the pass instead of aborting the migration. In
 * the stun nothing can vanish, so ENOENT is an error there. */
static bool vanished(struct mig *m, struct mig_reg *r, int rc, struct gv_err *err)
{
	if (rc != -ENOENT || m->phase != GV_MIG_PHASE_PRECOPY)
		return false;
	r->gone = true;
	memset(r->dirty, 0, (size_t)r->nchunks);
	gv_err_clear(err);
	return true;
}

/* Destroys the destination regions of vanished source regions. */
static void sweep(struct mig *m)
{
	size_t k = 0;
	uint64_t total = 0;

	for (size_t i = 0; i < m->nreg; i++) {
		if (m->reg[i].gone) {
			drop_reg(m, &m->reg[i]);
			continue;
		}
		total += m->reg[i].size;
		m->reg[k++] = m->reg[i];
	}
	m->nreg = k;
	m->bytes_total = total;
	m->rep->regions = k;
	m->rep->bytes_total = total;
}

/* Hashes every source chunk and marks the ones whose source hash differs
 * from what the destination holds. */
static int hash_pass(struct mig *m, uint64_t *dirty_bytes, uint64_t *dirty_chunks,
		     struct gv_err *err)
{
	uint64_t t = mig_now(m), bytes = 0, chunks = 0;
	uint64_t cs = m->cfg->chunk_size;
	int rc = 0;

	for (size_t i = 0; i < m->nreg; i++) {
		struct mig_reg *r = &m->reg[i];

		for (uint64_t first = 0; first < r->nchunks; first += MIG_HASH_BATCH) {
			uint64_t cnt = r->nchunks - first;

			if (cnt > MIG_HASH_BATCH)
				cnt = MIG_HASH_BATCH;
			rc = check_cancel(m, err);
			if (rc < 0)
				goto out;
			rc = m->ops->src_hash(m->ctx, r->id, cs, first, cnt, r->cur + first, err);
			if (rc < 0 && vanished(m, r, rc, err)) {
				rc = 0;
				break;
			}
			if (rc < 0) {
				gv_err_prefix(err, "hashing source region %llu",
					      (unsigned long long)r->id);
				goto out;
			}
		}
		if (r->gone)
			continue;
		m->rep->bytes_hashed += r->size;
		for (uint64_t c = 0; c < r->nchunks; c++) {
			r->dirty[c] = !r->have[c] || !gv_chunkhash_equal(&r->cur[c], &r->dst[c]);
			if (r->dirty[c]) {
				bytes += gv_chunkhash_chunk_len(r->size, cs, c);
				chunks++;
			}
		}
	}
	*dirty_bytes = bytes;
	*dirty_chunks = chunks;
	sweep(m);
out:
	m->hash_ns += mig_now(m) - t;
	return rc;
}

static void mark_all_dirty(struct mig *m, uint64_t *bytes, uint64_t *chunks)
{
	*bytes = 0;
	*chunks = 0;
	for (size_t i = 0; i < m->nreg; i++) {
		memset(m->reg[i].dirty, 1, (size_t)m->reg[i].nchunks);
		*bytes += m->reg[i].size;
		*chunks += m->reg[i].nchunks;
	}
}

/* Copies every dirty chunk, in runs of at most max_copy_chunks. With
 * hashes, records what the destination now holds; with verify (the source
 * is frozen), also insists that it equals the source's hash. */
static int copy_dirty(struct mig *m, bool hashes, bool verify, uint64_t *bytes_out,
		      uint64_t *chunks_out, struct gv_err *err)
{
	uint64_t cs = m->cfg->chunk_size, bytes = 0, chunks = 0;
	uint64_t t = mig_now(m);
	int rc = 0;

	for (size_t i = 0; i < m->nreg; i++) {
		struct mig_reg *r = &m->reg[i];
		uint64_t c = 0;

		while (c < r->nchunks) {
			uint64_t first, cnt, len = 0;

			if (!r->dirty[c]) {
				c++;
				continue;
			}
			first = c;
			while (c < r->nchunks && r->dirty[c] && c - first < m->cfg->max_copy_chunks)
				len += gv_chunkhash_chunk_len(r->size, cs, c++);
			cnt = c - first;
			rc = check_cancel(m, err);
			if (rc < 0)
				goto out;
			/* have[] is cleared first: a failed copy may have left
			 * the destination chunks half written. */
			memset(r->have + first, 0, (size_t)cnt);
			rc = m->ops->copy(m->ctx, r->id, cs, first, cnt,
					  hashes ? r->dst + first : NULL, err);
			if (rc < 0 && vanished(m, r, rc, err)) {
				rc = 0;
				break;
			}
			if (rc < 0) {
				gv_err_prefix(err, "copying region %llu chunks %llu..%llu",
					      (unsigned long long)r->id, (unsigned long long)first,
					      (unsigned long long)(first + cnt - 1));
				goto out;
			}
			for (uint64_t x = first; x < c; x++) {
				if (verify && !gv_chunkhash_equal(&r->dst[x], &r->cur[x])) {
					rc = gv_err_set(
						err, EIO,
						"region %llu chunk %llu: destination differs from the frozen source after the copy",
						(unsigned long long)r->id, (unsigned long long)x);
					goto out;
				}
				r->have[x] = hashes;
				r->dirty[x] = 0;
			}
			bytes += len;
			chunks += cnt;
		}
	}
	sweep(m);
out:
	m->copy_bytes += bytes;
	m->copy_ns += mig_now(m) - t;
	*bytes_out = bytes;
	*chunks_out = chunks;
	return rc;
}

static struct gv_mig_round *new_round(struct mig *m)
{
	struct gv_mig_report *rep = m->rep;

	if (rep->nround == m->roundcap) {
		size_t cap = m->roundcap ? 2 * m->roundcap : 8;
		struct gv_mig_round *p = realloc(rep->round, cap * sizeof(*p));

		if (!p)
			return NULL;
		rep->round = p;
		m->roundcap = cap;
	}
	memset(&rep->round[rep->nround], 0, sizeof(rep->round[0]));
	return &rep->round[rep->nround++];
}

static void progress(struct mig *m, unsigned round, uint64_t dirty, uint64_t rate,
		     uint64_t expected)
{
	struct gv_mig_progress p = {
		.phase = m->phase,
		.round = round,
		.bytes_total = m->bytes_total,
		.bytes_copied = m->copy_bytes,
		.bytes_dirty = dirty,
		.dirty_rate_bps = rate,
		.bandwidth_bps = rate_bps(m->copy_bytes, m->copy_ns),
		.expected_downtime_ns = expected,
		.throttle_pct = m->throttle,
	};

	if (m->ops->progress)
		m->ops->progress(m->ctx, &p);
}

static void set_throttle(struct mig *m, unsigned pct)
{
	if (!m->ops->throttle || !m->throttle_ok || pct == m->throttle)
		return;
	if (m->ops->throttle(m->ctx, pct) < 0) {
		m->throttle_ok = false;
		return;
	}
	m->throttle = pct;
	if (pct > m->rep->throttle_max_pct)
		m->rep->throttle_max_pct = pct;
}

/* Carries out the abort rule and records why. */
static int do_abort(struct mig *m, int rc, struct gv_err *why)
{
	struct gv_mig_report *rep = m->rep;

	set_throttle(m, 0);
	for (size_t i = 0; i < m->nreg; i++)
		drop_reg(m, &m->reg[i]);
	m->nreg = 0;
	if (m->stunned) {
		m->ops->resume(m->ctx);
		m->stunned = false;
	}
	if (rc >= 0)
		rc = -EIO;
	if (why->code == 0)
		gv_err_set(why, -rc, "%s failed", gv_mig_phase_name(m->phase));
	rep->result = GV_MIG_ABORTED;
	rep->failed_phase = m->phase;
	rep->error = -rc;
	snprintf(rep->reason, sizeof(rep->reason), "%s", why->msg);
	if (m->ops->aborted)
		m->ops->aborted(m->ctx, why);
	return rc;
}

/* Pre-copy rounds until the convergence rule says stun. */
static int precopy(struct mig *m, struct gv_err *err)
{
	const struct gv_mig_config *cfg = m->cfg;
	struct gv_mig_report *rep = m->rep;
	struct gv_mig_round *rd;
	uint64_t dirty, chunks, copied, ccopied, prev_dirty, last_copied, t, t_prev;
	unsigned stalled = 0;
	int rc;

	/* Round 1 copies everything: no hash pass could find anything clean. */
	t_prev = mig_now(m);
	mark_all_dirty(m, &dirty, &chunks);
	rd = new_round(m);
	if (!rd)
		return gv_err_set(err, ENOMEM, "out of memory for round statistics");
	rd->round = 1;
	rd->bytes_dirty = dirty;
	rd->chunks_dirty = chunks;
	rc = copy_dirty(m, true, false, &copied, &ccopied, err);
	rep->bytes_precopy += copied;
	if (rc < 0)
		return rc;
	rd = &rep->round[rep->nround - 1];
	rd->bytes_copied = copied;
	rd->chunks_copied = ccopied;
	rd->copy_ns = mig_now(m) - t_prev;
	rep->rounds = 1;
	progress(m, 1, dirty, 0, 0);
	prev_dirty = dirty;
	last_copied = copied;

	for (;;) {
		uint64_t hash_t0, hash_ns, rate, expected;

		rc = reconcile(m, err);
		if (rc < 0)
			return rc;
		hash_t0 = mig_now(m);
		rc = hash_pass(m, &dirty, &chunks, err);
		if (rc < 0)
			return rc;
		t = mig_now(m);
		hash_ns = t - hash_t0;
		rate = rate_bps(dirty, hash_t0 - t_prev);
		t_prev = hash_t0;
		/* The stun must hash everything once more and copy what is
		 * dirty then: estimate both from the rates measured so far;
		 * the rest of the stun is the caller's estimate. */
		expected = time_ns(dirty, m->copy_bytes, m->copy_ns) +
			   time_ns(m->bytes_total, rep->bytes_hashed, m->hash_ns) +
			   cfg->stun_fixed_ns;
		rd = new_round(m);
		if (!rd)
			return gv_err_set(err, ENOMEM, "out of memory for round statistics");
		rd->round = rep->rounds + 1;
		rd->bytes_dirty = dirty;
		rd->chunks_dirty = chunks;
		rd->hash_ns = hash_ns;
		rd->dirty_rate_bps = rate;
		rd->expected_downtime_ns = expected;
		rd->throttle_pct = m->throttle;
		rep->expected_downtime_ns = expected;
		rep->dirty_rate_bps = rate;
		progress(m, rd->round, dirty, rate, expected);

		if (expected <= cfg->downtime_limit_ns) {
			rep->stop = GV_MIG_STOP_CONVERGED;
			break;
		}
		if (rep->rounds >= cfg->max_rounds) {
			rep->stop = GV_MIG_STOP_ROUND_LIMIT;
			break;
		}
		stalled = dirty >= prev_dirty ? stalled + 1 : 0;
		if (cfg->stall_rounds && stalled >= cfg->stall_rounds) {
			rep->stop = GV_MIG_STOP_STALLED;
			break;
		}
		/* QEMU's auto-converge: the workload dirties more than half of
		 * what the previous round sent. */
		if (cfg->auto_converge && dirty > last_copied / 2) {
			unsigned pct = m->throttle ? m->throttle + cfg->throttle_step
						   : cfg->throttle_initial;

			set_throttle(m, pct > cfg->throttle_max ? cfg->throttle_max : pct);
		}
		rd->throttle_pct = m->throttle;
		t = mig_now(m);
		rc = copy_dirty(m, true, false, &copied, &ccopied, err);
		rep->bytes_precopy += copied;
		if (rc < 0)
			return rc;
		rd = &rep->round[rep->nround - 1];
		rd->bytes_copied = copied;
		rd->chunks_copied = ccopied;
		rd->copy_ns = mig_now(m) - t;
		rep->rounds++;
		progress(m, rd->round, dirty, rate, expected);
		prev_dirty = dirty;
		last_copied = copied;
	}
	return 0;
}

/* Stun, final pass, switch. Returns with the workload resumed on the
 * destination, or with an error (the caller aborts). */
static int stun_and_switch(struct mig *m, uint64_t *t_stun, struct gv_err *err)
{
	struct gv_mig_report *rep = m->rep;
	bool pre = m->cfg->mode == GV_MIG_PRECOPY;
	uint64_t dirty, chunks, copied = 0, ccopied = 0;
	int rc;

	rc = check_cancel(m, err);
	if (rc < 0)
		return rc;
	m->phase = GV_MIG_PHASE_STUN;
	*t_stun = mig_now(m);
	rc = m->ops->stun(m->ctx, err);
	if (rc < 0) {
		gv_err_prefix(err, "stunning the workload");
		return rc;
	}
	m->stunned = true;
	rc = reconcile(m, err);
	if (rc < 0)
		return rc;
	if (pre) {
		rc = hash_pass(m, &dirty, &chunks, err);
		if (rc < 0)
			return rc;
	} else {
		mark_all_dirty(m, &dirty, &chunks);
	}
	rc = copy_dirty(m, pre, pre, &copied, &ccopied, err);
	rep->bytes_stun = copied;
	rep->chunks_stun = ccopied;
	if (rc < 0)
		return rc;
	progress(m, rep->rounds, dirty, 0, 0);
	rc = check_cancel(m, err);
	if (rc < 0)
		return rc;
	m->phase = GV_MIG_PHASE_SWITCH;
	rc = m->ops->switch_over(m->ctx, err);
	if (rc < 0) {
		gv_err_prefix(err, "switching to the destination");
		return rc;
	}
	return 0;
}

static bool ops_complete(const struct gv_mig_ops *o)
{
	return o && o->list_regions && o->dst_create && o->dst_destroy && o->src_hash && o->copy &&
	       o->stun && o->switch_over && o->resume && o->src_release;
}

/* Setup, pre-copy, stun and switch: 0 once the destination is live (the
 * workload still stunned), or the error that calls for an abort. */
static int migrate(struct mig *m, uint64_t t0, uint64_t *t_stun, struct gv_err *why)
{
	struct gv_mig_report *rep = m->rep;
	uint64_t t1;
	int rc;

	rc = check_cancel(m, why);
	if (rc == 0)
		rc = reconcile(m, why);
	rep->setup_ns = mig_now(m) - t0;
	if (rc < 0)
		return rc;
	if (m->cfg->mode == GV_MIG_PRECOPY) {
		m->phase = GV_MIG_PHASE_PRECOPY;
		t1 = mig_now(m);
		rc = precopy(m, why);
		rep->precopy_ns = mig_now(m) - t1;
		if (rc < 0)
			return rc;
	} else {
		rep->stop = GV_MIG_STOP_STOPCOPY;
	}
	return stun_and_switch(m, t_stun, why);
}

int gv_mig_run(const struct gv_mig_config *cfg, const struct gv_mig_ops *ops, void *ctx,
	       struct gv_mig_report *report, struct gv_err *err)
{
	struct mig m = { 0 };
	struct gv_err why = { 0 }, rel = { 0 };
	uint64_t t0, t_stun = 0;
	int rc;

	if (!report)
		return gv_err_set(err, EINVAL, "migration needs a report to fill");
	free(report->round);
	memset(report, 0, sizeof(*report));
	rc = gv_mig_config_check(cfg, err);
	if (rc < 0)
		return rc;
	if (!ops_complete(ops))
		return gv_err_set(err, EINVAL, "migration endpoint lacks a required callback");
	report->mode = cfg->mode;
	report->chunk_size = cfg->chunk_size;
	report->downtime_limit_ns = cfg->downtime_limit_ns;
	report->stun_fixed_ns = cfg->stun_fixed_ns;
	m.cfg = cfg;
	m.ops = ops;
	m.ctx = ctx;
	m.rep = report;
	m.throttle_ok = true;
	m.phase = GV_MIG_PHASE_SETUP;

	t0 = mig_now(&m);
	rc = migrate(&m, t0, &t_stun, &why);
	if (rc < 0) {
		if (m.stunned)
			report->downtime_ns = mig_now(&m) - t_stun;
		rc = do_abort(&m, rc, &why);
		if (err)
			*err = why;
	} else {
		/* The destination is live from here on: nothing may abort. */
		m.phase = GV_MIG_PHASE_DONE;
		ops->resume(ctx);
		m.stunned = false;
		report->downtime_ns = mig_now(&m) - t_stun;
		set_throttle(&m, 0);
		if (ops->src_release(ctx, &rel) < 0)
			add_warning(&m, "releasing the source", &rel);
		else
			report->source_released = true;
		report->result = GV_MIG_OK;
	}
	report->bandwidth_bps = rate_bps(m.copy_bytes, m.copy_ns);
	report->hash_rate_bps = rate_bps(report->bytes_hashed, m.hash_ns);
	report->total_ns = mig_now(&m) - t0;
	for (size_t i = 0; i < m.nreg; i++)
		reg_fini(&m.reg[i]);
	free(m.reg);
	free(m.list);
	return rc;
}

void gv_mig_config_default(struct gv_mig_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = GV_MIG_PRECOPY;
	cfg->chunk_size = GV_MIG_CHUNK_DEFAULT;
	cfg->downtime_limit_ns = 300ull * 1000000ull;
	cfg->max_rounds = 30;
	cfg->stall_rounds = 5;
	cfg->auto_converge = false;
	cfg->throttle_initial = 20;
	cfg->throttle_step = 10;
	cfg->throttle_max = 99;
	cfg->max_copy_chunks = 32;
}

int gv_mig_config_check(const struct gv_mig_config *cfg, struct gv_err *err)
{
	if (!cfg)
		return gv_err_set(err, EINVAL, "migration needs a configuration");
	if (cfg->mode != GV_MIG_PRECOPY && cfg->mode != GV_MIG_STOPCOPY)
		return gv_err_set(err, EINVAL, "unknown migration mode %d", (int)cfg->mode);
	if (cfg->chunk_size < GV_MIG_CHUNK_MIN || cfg->chunk_size > GV_MIG_CHUNK_MAX ||
	    (cfg->chunk_size & (cfg->chunk_size - 1)))
		return gv_err_set(
			err, EINVAL,
			"chunk size %llu is not a power of two between %llu and %llu bytes",
			(unsigned long long)cfg->chunk_size, GV_MIG_CHUNK_MIN, GV_MIG_CHUNK_MAX);
	if (cfg->mode == GV_MIG_PRECOPY &&
	    (cfg->max_rounds < 1 || cfg->max_rounds > GV_MIG_ROUNDS_MAX))
		return gv_err_set(err, EINVAL, "max rounds %u is not between 1 and %d",
				  cfg->max_rounds, GV_MIG_ROUNDS_MAX);
	if (cfg->max_copy_chunks < 1)
		return gv_err_set(err, EINVAL, "max chunks per copy must be at least 1");
	if (cfg->auto_converge && (cfg->throttle_initial < 1 || cfg->throttle_max > 99 ||
				   cfg->throttle_initial > cfg->throttle_max))
		return gv_err_set(err, EINVAL,
				  "throttle %u%% start, %u%% max: need 1 <= start <= max <= 99",
				  cfg->throttle_initial, cfg->throttle_max);
	return 0;
}

struct gv_mig_report *gv_mig_report_new(void)
{
	return calloc(1, sizeof(struct gv_mig_report));
}

void gv_mig_report_free(struct gv_mig_report *r)
{
	if (!r)
		return;
	free(r->round);
	free(r);
}

/* A value outside an enum gets the name of its default: precopy, none,
 * none, done (what a report that never got that far says). */
GV_NAMETAB(gv_mig_mode, enum gv_mig_mode, "precopy",
	   "migration mode '%s' is neither precopy nor stopcopy", { GV_MIG_PRECOPY, "precopy" },
	   { GV_MIG_STOPCOPY, "stopcopy" })

GV_NAMETAB_NAME(gv_mig_result, enum gv_mig_result, "none", { GV_MIG_NONE, "none" },
		{ GV_MIG_OK, "ok" }, { GV_MIG_ABORTED, "aborted" })

GV_NAMETAB_NAME(gv_mig_stop, enum gv_mig_stop, "none", { GV_MIG_STOP_NONE, "none" },
		{ GV_MIG_STOP_CONVERGED, "converged" }, { GV_MIG_STOP_ROUND_LIMIT, "round-limit" },
		{ GV_MIG_STOP_STALLED, "stalled" }, { GV_MIG_STOP_STOPCOPY, "stopcopy" })

GV_NAMETAB_NAME(gv_mig_phase, enum gv_mig_phase, "done", { GV_MIG_PHASE_SETUP, "setup" },
		{ GV_MIG_PHASE_PRECOPY, "precopy" }, { GV_MIG_PHASE_STUN, "stun" },
		{ GV_MIG_PHASE_SWITCH, "switch" }, { GV_MIG_PHASE_DONE, "done" })

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* json_integer takes json_int_t (long long): counters stay far below 2^63. */
#define JI(v) json_integer((json_int_t)(v))

json_t *gv_mig_report_to_json(const struct gv_mig_report *r)
{
	json_t *o, *rounds;
	bool ok = false;

	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "mode",
		      gv_mig_mode_name(r->mode), "result", gv_mig_result_name(r->result), "stop",
		      gv_mig_stop_name(r->stop), "chunk_size", (json_int_t)r->chunk_size, "regions",
		      (json_int_t)r->regions, "bytes_total", (json_int_t)r->bytes_total, "rounds",
		      (json_int_t)r->rounds, "total_ms", ms(r->total_ns), "setup_ms",
		      ms(r->setup_ns), "precopy_ms", ms(r->precopy_ns), "downtime_ms",
		      ms(r->downtime_ns), "expected_downtime_ms", ms(r->expected_downtime_ns),
		      "downtime_limit_ms", ms(r->downtime_limit_ns));
	if (!o)
		goto out;
	rounds = json_array();
	/* json_object_set_new consumes rounds even when it fails */
	if (json_object_set_new(o, "round_stats", rounds) < 0 ||
	    json_object_set_new(o, "total_ns", JI(r->total_ns)) < 0 ||
	    json_object_set_new(o, "stun_fixed_ms", json_real(ms(r->stun_fixed_ns))) < 0 ||
	    json_object_set_new(o, "downtime_ns", JI(r->downtime_ns)) < 0 ||
	    json_object_set_new(o, "bytes_precopy", JI(r->bytes_precopy)) < 0 ||
	    json_object_set_new(o, "bytes_stun", JI(r->bytes_stun)) < 0 ||
	    json_object_set_new(o, "chunks_stun", JI(r->chunks_stun)) < 0 ||
	    json_object_set_new(o, "bytes_hashed", JI(r->bytes_hashed)) < 0 ||
	    json_object_set_new(o, "bandwidth_bps", JI(r->bandwidth_bps)) < 0 ||
	    json_object_set_new(o, "dirty_rate_bps", JI(r->dirty_rate_bps)) < 0 ||
	    json_object_set_new(o, "hash_rate_bps", JI(r->hash_rate_bps)) < 0 ||
	    json_object_set_new(o, "throttle_max_pct", JI(r->throttle_max_pct)) < 0 ||
	    json_object_set_new(o, "source_released", json_boolean(r->source_released)) < 0)
		goto out;
	for (size_t i = 0; i < r->nround; i++) {
		const struct gv_mig_round *d = &r->round[i];
		json_t *e = json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:f, s:I}", "round",
			(json_int_t)d->round, "bytes_dirty", (json_int_t)d->bytes_dirty,
			"chunks_dirty", (json_int_t)d->chunks_dirty, "bytes_copied",
			(json_int_t)d->bytes_copied, "chunks_copied", (json_int_t)d->chunks_copied,
			"hash_ms", ms(d->hash_ns), "copy_ms", ms(d->copy_ns), "dirty_rate_bps",
			(json_int_t)d->dirty_rate_bps, "expected_downtime_ms",
			ms(d->expected_downtime_ns), "throttle_pct", (json_int_t)d->throttle_pct);

		if (json_array_append_new(rounds, e) < 0)
			goto out;
	}
	if (r->result == GV_MIG_ABORTED &&
	    (json_object_set_new(o, "failed_phase",
				 json_string(gv_mig_phase_name(r->failed_phase))) < 0 ||
	     json_object_set_new(o, "error", JI(r->error)) < 0 ||
	     json_object_set_new(o, "reason", json_string(r->reason)) < 0))
		goto out;
	if (r->warning[0] && json_object_set_new(o, "warning", json_string(r->warning)) < 0)
		goto out;
	ok = true;
out:
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

json_t *gv_mig_progress_to_json(const struct gv_mig_progress *p)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "phase",
			 gv_mig_phase_name(p->phase), "round", (json_int_t)p->round, "bytes_total",
			 (json_int_t)p->bytes_total, "bytes_copied", (json_int_t)p->bytes_copied,
			 "bytes_dirty", (json_int_t)p->bytes_dirty, "dirty_rate_bps",
			 (json_int_t)p->dirty_rate_bps, "bandwidth_bps",
			 (json_int_t)p->bandwidth_bps, "expected_downtime_ms",
			 ms(p->expected_downtime_ns), "throttle_pct", (json_int_t)p->throttle_pct);
}

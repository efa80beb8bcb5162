/* gpuvisor scheduler: the policy decisions (which tenant runs next, for how
 * long, and how time is charged). Pure functions of the segment and `now`,
 * executed only by the decider (see sched_internal.h), so they need no lock;
 * they are unit-tested with a fake clock. The arithmetic is explained in
 * docs/scheduler.md. */
#include <stdatomic.h>
#include <stdint.h>

#include "sched_internal.h"

static bool tenant_ready(const struct gv_sched_seg *g, int t)
{
	return atomic_load_explicit(&g->tenants[t].state, memory_order_acquire) == GV_SLOT_ACTIVE;
}

static uint32_t tenant_weight(const struct gv_sched_seg *g, int t)
{
	uint32_t w = LD(g->tenants[t].weight);

	if (w < GV_SCHED_WEIGHT_MIN)
		w = GV_SCHED_WEIGHT_MIN;
	if (w > GV_SCHED_WEIGHT_MAX)
		w = GV_SCHED_WEIGHT_MAX;
	return w;
}

static uint64_t slice_ns(const struct gv_sched_seg *g)
{
	return (uint64_t)LD(g->slice_us) * 1000u;
}

bool gv_sched_apply_policy(struct gv_sched_seg *g, uint64_t now)
{
	uint64_t req = atomic_load_explicit(&g->policy_req, memory_order_acquire);
	uint32_t policy = (uint32_t)(req >> 32), slice_us = (uint32_t)req;

	if (policy == LD(g->policy) && slice_us == LD(g->slice_us))
		return false;
	if (policy > GV_SCHED_FIXED_SHARE || slice_us < GV_SCHED_SLICE_MIN_US ||
	    slice_us > GV_SCHED_SLICE_MAX_US)
		return false; /* never written by gv_sched_set_policy */
	if (policy != LD(g->policy)) {
		/* Start the new policy from a clean slate: equal virtual times
		 * (nobody owes anybody) and one full slice of fixed-share credit
		 * each, so that nobody idles right after the switch. */
		for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++) {
			ST(g->tenants[t].vtime, 0);
			ST(g->tenants[t].credit_ns, (int64_t)slice_us * 1000);
		}
		ST(g->vclock, 0);
		ST(g->last_accrue, now);
	}
	ST(g->policy, policy);
	ST(g->slice_us, slice_us);
	ST(g->policy_applied_ns, now);
	return true;
}

uint32_t gv_sched_fixed_rate(const struct gv_sched_seg *g, int t)
{
	uint64_t sum = 0, mine = 0;
	uint32_t n = 0;

	for (int i = 0; i < GV_SCHED_MAX_TENANTS; i++)
		if (tenant_ready(g, i))
			n++;
	if (n == 0 || !tenant_ready(g, t))
		return 0;
	for (int i = 0; i < GV_SCHED_MAX_TENANTS; i++) {
		uint64_t s;

		if (!tenant_ready(g, i))
			continue;
		s = LD(g->tenants[i].share_ppm);
		if (s == 0)
			s = GV_SCHED_SHARE_FULL / n;
		if (s > GV_SCHED_SHARE_FULL)
			s = GV_SCHED_SHARE_FULL;
		s *= tenant_weight(g, i);
		sum += s;
		if (i == t)
			mine = s;
	}
	/* Weights scale the profile share; only an oversubscribed sum is
	 * normalised, so an undersubscribed GPU leaves the rest idle. */
	if (sum > GV_SCHED_SHARE_FULL)
		return (uint32_t)(mine * GV_SCHED_SHARE_FULL / sum);
	return (uint32_t)mine;
}

void gv_sched_accrue(struct gv_sched_seg *g, uint64_t now)
{
	uint64_t last = LD(g->last_accrue);
	int64_t cap = 2 * (int64_t)slice_ns(g);

	if (now <= last) {
		/* a time base that starts later than the segment's (a test
		 * clock) restarts accrual instead of freezing it */
		if (now < last)
			ST(g->last_accrue, now);
		return;
	}
	for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++) {
		int64_t c;

		if (!tenant_ready(g, t))
			continue;
		c = LD(g->tenants[t].credit_ns) +
		    (int64_t)((now - last) * gv_sched_fixed_rate(g, t) / GV_SCHED_SHARE_FULL);
		ST(g->tenants[t].credit_ns, c > cap ? cap : c);
	}
	ST(g->last_accrue, now);
}

void gv_sched_charge(struct gv_sched_seg *g, int t, uint64_t from, uint64_t to)
{
	struct gv_sched_tenant_rec *r = &g->tenants[t];
	uint64_t d, at;

	if (t < 0 || t >= GV_SCHED_MAX_TENANTS || to <= from)
		return;
	d = to - from;
	ST(r->used_ns, LD(r->used_ns) + d);
	ST(r->vtime, LD(r->vtime) + d * GV_SCHED_VTIME_SCALE / tenant_weight(g, t));
	ST(r->credit_ns, LD(r->credit_ns) - (int64_t)d);
	/* the last-second ring: split the interval at 100 ms boundaries */
	for (at = from; at < to;) {
		uint64_t epoch = at / GV_SCHED_BUCKET_NS;
		uint64_t end = (epoch + 1) * GV_SCHED_BUCKET_NS;
		unsigned k = (unsigned)(epoch % GV_SCHED_BUCKETS);

		if (end > to)
			end = to;
		if (LD(r->bucket_epoch[k]) != epoch) {
			ST(r->bucket_ns[k], 0);
			ST(r->bucket_epoch[k], epoch);
		}
		ST(r->bucket_ns[k], LD(r->bucket_ns[k]) + (end - at));
		at = end;
	}
}

void gv_sched_finish_slice(struct gv_sched_seg *g, int t, uint64_t held, uint64_t len)
{
	struct gv_sched_tenant_rec *r;

	if (t < 0 || t >= GV_SCHED_MAX_TENANTS)
		return;
	r = &g->tenants[t];
	ST(r->slices, LD(r->slices) + 1);
	/* A slice counts as overrun past 10% of its length (the handover's
	 * own cost is not the tenant's fault); overrun_ns counts all of it. */
	if (held > len) {
		ST(r->overrun_ns, LD(r->overrun_ns) + (held - len));
		if (held - len > len / 10)
			ST(r->overruns, LD(r->overruns) + 1);
	}
}

void gv_sched_note_alone(struct gv_sched_seg *g, int t)
{
	uint64_t v = LD(g->tenants[t].vtime);

	if (v > LD(g->vclock))
		ST(g->vclock, v);
}

uint64_t gv_sched_slice_len(const struct gv_sched_seg *g, int t)
{
	/* Best effort has no accounting, so a weight lengthens the turn (up
	 * to the longest slice, 30 ms, to bound everybody's wait); the share
	 * policies express weights through accounting instead. */
	if (LD(g->policy) == GV_SCHED_BEST_EFFORT) {
		uint64_t len = slice_ns(g) * tenant_weight(g, t);
		uint64_t cap = (uint64_t)GV_SCHED_SLICE_MAX_US * 1000u;

		return len > cap ? (slice_ns(g) > cap ? slice_ns(g) : cap) : len;
	}
	return slice_ns(g);
}

static int rr_first(uint32_t set, int prev)
{
	for (int k = 1; k <= GV_SCHED_MAX_TENANTS; k++) {
		int t = (prev + k + GV_SCHED_MAX_TENANTS) % GV_SCHED_MAX_TENANTS;

		if (set & (1u << t))
			return t;
	}
	return -1;
}

static struct gv_sched_pick pick_equal(struct gv_sched_seg *g, uint32_t wanting, int prev)
{
	struct gv_sched_pick p = { .tenant = -1 };
	uint64_t floor = LD(g->vclock), best = UINT64_MAX;

	/* A tenant returning from idle restarts no further than two slices
	 * behind the floor (the smallest virtual time among tenants that kept
	 * wanting): it cannot bank idle time, yet a tenant that merely missed
	 * a decision point (its thread was not back at the gate yet, e.g. on
	 * a loaded CPU) keeps what it is owed. */
	for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++) {
		uint64_t allow = 2 * slice_ns(g) * GV_SCHED_VTIME_SCALE / tenant_weight(g, t);

		if ((wanting & (1u << t)) && LD(g->tenants[t].vtime) + allow < floor)
			ST(g->tenants[t].vtime, floor - allow);
	}
	for (int k = 1; k <= GV_SCHED_MAX_TENANTS; k++) {
		int t = (prev + k + GV_SCHED_MAX_TENANTS) % GV_SCHED_MAX_TENANTS;
		uint64_t v;

		if (!(wanting & (1u << t)))
			continue;
		v = LD(g->tenants[t].vtime);
		if (v < best) { /* strict: ties go to round-robin order */
			best = v;
			p.tenant = t;
		}
	}
	if (p.tenant >= 0) {
		if (best > floor)
			ST(g->vclock, best);
		p.len = slice_ns(g);
	}
	return p;
}

static struct gv_sched_pick pick_fixed(struct gv_sched_seg *g, uint64_t now, uint32_t wanting,
				       int prev)
{
	struct gv_sched_pick p = { .tenant = -1 };
	uint64_t len = slice_ns(g);
	int64_t best = INT64_MIN;

	gv_sched_accrue(g, now);
	for (int k = 1; k <= GV_SCHED_MAX_TENANTS; k++) {
		int t = (prev + k + GV_SCHED_MAX_TENANTS) % GV_SCHED_MAX_TENANTS;
		int64_t c;
		uint32_t rate;

		if (!(wanting & (1u << t)))
			continue;
		c = LD(g->tenants[t].credit_ns);
		if (c >= (int64_t)len) {
			if (c > best) { /* most owed first; ties: round robin */
				best = c;
				p.tenant = t;
			}
			continue;
		}
		rate = gv_sched_fixed_rate(g, t);
		if (rate > 0) {
			uint64_t at =
				now + ((uint64_t)((int64_t)len - c) * GV_SCHED_SHARE_FULL + rate -
				       1) / rate;

			if (p.wake_at == 0 || at < p.wake_at)
				p.wake_at = at;
		}
	}
	if (p.tenant >= 0) {
		p.len = len;
		p.wake_at = 0;
	}
	return p;
}

struct gv_sched_pick gv_sched_pick(struct gv_sched_seg *g, uint64_t now, uint32_t wanting, int prev)
{
	struct gv_sched_pick p = { .tenant = -1 };
	uint32_t ready = 0;

	gv_sched_apply_policy(g, now);
	for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++)
		if (tenant_ready(g, t))
			ready |= 1u << t;
	wanting &= ready;
	if (prev < 0 || prev >= GV_SCHED_MAX_TENANTS)
		prev = GV_SCHED_MAX_TENANTS - 1;
	switch (LD(g->policy)) {
	case GV_SCHED_EQUAL_SHARE:
		p = pick_equal(g, wanting, prev);
		break;
	case GV_SCHED_FIXED_SHARE:
		p = pick_fixed(g, now, wanting, prev);
		break;
	default:
		p.tenant = rr_first(wanting, prev);
		if (p.tenant >= 0)
			p.len = gv_sched_slice_len(g, p.tenant);
		break;
	}
	/* keep virtual times far from overflow: shift everybody down */
	if (LD(g->vclock) > (1ull << 61)) {
		for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++) {
			uint64_t v = LD(g->tenants[t].vtime);

			ST(g->tenants[t].vtime, v > (1ull << 60) ? v - (1ull << 60) : 0);
		}
		ST(g->vclock, LD(g->vclock) - (1ull << 60));
	}
	return p;
}

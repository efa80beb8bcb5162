/* gpuvisor scheduler, the tenant's side: mapping the shared segment, the
 * gate, the handover and the liveness rules, and the helpers the daemon's
 * side (sched_admin.c: create, policy, tenants, statistics) shares. The
 * policy arithmetic lives in sched_policy.c. The shim takes this file and
 * sched_policy.c from gvbase (src/base/CMakeLists.txt), so it must not
 * need sched_admin.c (an archive member nothing calls stays out).
 *
 * Concurrency model (see also sched_internal.h and docs/scheduler.md):
 *  - The 64-bit `holder` word is a lease, not a lock: the client it names
 *    (holding a slice, or "deciding" after a CAS claim) is the only one
 *    that may change decision state. A waiter that finds the lease past its
 *    deadline checks whether the named process lives (its robust liveness
 *    mutex, see client_alive) and
 *    takes the lease over by CAS when the process is gone, so a SIGKILL at
 *    any point costs the others about one slice.
 *  - Inside one process, a pthread mutex (process-private, so it dies with
 *    its holder) serialises the gate's slow path, the watchdog and detach.
 *  - Waiters sleep on their own client's futex word (shared, not
 *    FUTEX_PRIVATE), bumped by whoever grants them the slice or changes
 *    something they must re-check.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sched_internal.h"
#include "gpuvisor/xfuncs.h"

/* How long past a lease's deadline a waiter waits before it checks whether
 * the holder's process is still alive, and how often it re-checks a live
 * holder that overruns (a long kernel being drained). */
#define GV_SCHED_GRACE_NS 1000000ull
#define GV_SCHED_POLL_MIN_NS 2000000ull
/* A live holder (or grantee) that is this far past its deadline is taken
 * off the GPU: a stopped process (SIGSTOP, a debugger, a cgroup freezer)
 * would otherwise stall every tenant. max(10 slices, 100 ms), so that only
 * kernels longer than that lose exact accounting. */
#define GV_SCHED_REVOKE_MIN_NS 100000000ull
#define GV_SCHED_REVOKE_SLICES 10ull

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
	       "segment atomics must be lock-free to work across processes");
_Static_assert(GV_SCHED_MAX_TENANTS <= 32, "want masks are 32-bit");
_Static_assert(GV_SCHED_MAX_CLIENTS < 127, "holder word has 7 index bits");

struct gv_sched_client {
	struct gv_sched *s;
	struct gv_sched_seg *g;
	struct gv_sched_client_rec *rec;
	int idx;
	int tenant;
	gv_sched_sync_fn sync;
	void *sync_arg;
	unsigned flags;
	/* read by the fast path of any thread */
	_Atomic uint64_t my_word;  /* holder word of our current grant */
	_Atomic uint64_t deadline; /* 0 once the slice stops admitting */
	_Atomic uint32_t active;   /* the gate admitted something this slice */
	/* under mtx */
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	uint64_t start;	      /* our slice began (pickup or extension) */
	_Atomic uint64_t len; /* written under mtx, read by the watchdog too */
	bool try_pending;     /* try_gate left a want registered */
	bool has_watchdog;
	bool wd_live; /* the watchdog holds the liveness mutex (attach waits) */
	_Atomic bool stop;
	_Atomic uint32_t wd_idle; /* the watchdog waits for a grant, untimed */
	_Atomic uint32_t wd_seq;  /* futex word the watchdog sleeps on */
	pthread_t watchdog;
};

static void wd_kick(struct gv_sched_client *c, bool force);

/* ------------------------------------------------------------------ time */

uint64_t gv_sched_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t gv_sched_now(const struct gv_sched *s)
{
	return s->now_fn ? s->now_fn(s->now_arg) : gv_sched_mono_ns();
}

void gv_sched_set_clock(struct gv_sched *s, uint64_t (*now_ns)(void *arg), void *arg)
{
	if (!s)
		return;
	s->now_fn = now_ns;
	s->now_arg = arg;
}

/* ----------------------------------------------------------------- futex */

static void futex_wait(_Atomic uint32_t *word, uint32_t seen, uint64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000ull),
		.tv_nsec = (long)(timeout_ns % 1000000000ull),
	};

	/* shared futex (no FUTEX_PRIVATE_FLAG): the word lives in a file
	 * mapping that other processes wake */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, seen, &ts, NULL, 0);
}

void gv_sched_futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void gv_sched_poke(struct gv_sched_client_rec *r)
{
	atomic_fetch_add(&r->wake, 1);
	gv_sched_futex_wake_all(&r->wake);
}

/* -------------------------------------------------------------- liveness */

/* Liveness of an attached process: a process-shared robust mutex in its
 * client record, locked for the whole attachment by its watchdog thread.
 * When that thread dies (the process is killed), the kernel marks the
 * mutex "owner died" before the process becomes a zombie, whatever pid
 * namespace the owner and the checker live in; a trylock tells. */
bool gv_sched_client_alive(struct gv_sched_seg *g, int k)
{
	struct gv_sched_client_rec *r;
	int ret;

	if (k < 0 || k >= GV_SCHED_MAX_CLIENTS)
		return false;
	r = &g->clients[k];
	if (LDA(r->state) != GV_SLOT_ACTIVE)
		return false;
	ret = pthread_mutex_trylock(&r->live);
	if (ret == EOWNERDEAD) {
		/* ours now: make it reusable for the next process in the slot */
		pthread_mutex_consistent(&r->live);
		pthread_mutex_unlock(&r->live);
		return false;
	}
	if (ret == 0) {
		/* nobody holds it: its holder thread released it (detaching) */
		pthread_mutex_unlock(&r->live);
		return false;
	}
	return ret != ENOTRECOVERABLE;
}

/* Frees a client slot whose process is gone (any process may do this). */
void gv_sched_free_dead_client(struct gv_sched_seg *g, int k)
{
	uint32_t expect = GV_SLOT_ACTIVE;
	struct gv_sched_client_rec *r = &g->clients[k];

	if (!atomic_compare_exchange_strong(&r->state, &expect, GV_SLOT_CLAIMING))
		return;
	ST(r->want, 0);
	ST(r->pid, 0);
	STR(r->state, GV_SLOT_FREE);
}

/* ------------------------------------------------------------- segment */

void gv_sched_wake_wanting(struct gv_sched_seg *g)
{
	for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++)
		if (LDA(g->clients[k].state) == GV_SLOT_ACTIVE &&
		    atomic_load(&g->clients[k].want) > 0)
			gv_sched_poke(&g->clients[k]);
}

uint64_t gv_sched_policy_word(uint32_t policy, uint32_t slice_us)
{
	return ((uint64_t)policy << 32) | slice_us;
}

static bool policy_pending(struct gv_sched_seg *g)
{
	return LDA(g->policy_req) != gv_sched_policy_word(LD(g->policy), LD(g->slice_us));
}

static int validate_seg(const struct gv_sched_seg *g, const char *path, struct gv_err *err)
{
	if (g->magic != GV_SCHED_MAGIC || g->version != GV_SCHED_VERSION || g->size != sizeof(*g) ||
	    g->max_tenants != GV_SCHED_MAX_TENANTS || g->max_clients != GV_SCHED_MAX_CLIENTS)
		return gv_err_set(err, EPROTO,
				  "%s is not a gpuvisor scheduler segment of "
				  "version %u",
				  path, GV_SCHED_VERSION);
	return 0;
}

int gv_sched_map_fd(int fd, const char *path, struct gv_sched **out, struct gv_err *err)
{
	struct gv_sched *s = NULL;
	void *m;
	int ret;

	m = mmap(NULL, sizeof(struct gv_sched_seg), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return gv_err_sys(err, "cannot map %s", path);
	s = gv_xcalloc(err, 1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		goto out;
	}
	s->g = m;
	*out = s;
	return 0;
out:
	munmap(m, sizeof(struct gv_sched_seg));
	return ret;
}

int gv_sched_open(const char *path, struct gv_sched **out, struct gv_err *err)
{
	struct stat st;
	int fd = -1, ret;

	if (out)
		*out = NULL;
	if (!path || !out)
		return gv_err_set(err, EINVAL, "gv_sched_open: NULL argument");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = gv_err_sys(err, "cannot open scheduler segment %s", path);
		goto out;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != sizeof(struct gv_sched_seg)) {
		ret = gv_err_set(err, EPROTO,
				 "%s is not a gpuvisor scheduler segment of "
				 "version %u (size)",
				 path, GV_SCHED_VERSION);
		goto out;
	}
	ret = gv_sched_map_fd(fd, path, out, err);
	if (ret == 0) {
		ret = validate_seg((*out)->g, path, err);
		if (ret < 0) {
			gv_sched_free(*out);
			*out = NULL;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

void gv_sched_free(struct gv_sched *s)
{
	if (!s)
		return;
	munmap(s->g, sizeof(struct gv_sched_seg));
	free(s);
}

struct gv_sched_seg *gv_sched_seg_of(struct gv_sched *s)
{
	return s ? s->g : NULL;
}

int gv_sched_find_tenant(struct gv_sched_seg *g, const char *id)
{
	for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++)
		if (LDA(g->tenants[t].state) == GV_SLOT_ACTIVE &&
		    strncmp(g->tenants[t].instance_id, id, GV_SCHED_INSTANCE_ID_MAX) == 0)
			return t;
	return -1;
}

/* ------------------------------------------------------------- decisions */

/* Tenants (bit t) with a client that waits at the gate, skipping client
 * `skip`. */
static uint32_t wanting_mask(struct gv_sched_seg *g, int skip)
{
	uint32_t m = 0;

	for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++) {
		struct gv_sched_client_rec *r = &g->clients[k];
		int t;

		if (k == skip || LDA(r->state) != GV_SLOT_ACTIVE || atomic_load(&r->want) == 0 ||
		    LD(r->stalled))
			continue;
		t = LD(r->tenant);
		if (t >= 0 && t < GV_SCHED_MAX_TENANTS)
			m |= 1u << t;
	}
	return m;
}

/* A live client of tenant t that wants the slice, round robin inside the
 * tenant (several processes of one instance share its time); `self` when it
 * belongs to t and wants without waiting (it keeps submitting). */
static int choose_client(struct gv_sched_seg *g, int t, int self)
{
	int last = (int)LD(g->tenants[t].rr_client);

	for (int i = 1; i <= GV_SCHED_MAX_CLIENTS; i++) {
		int k = (last + i) % GV_SCHED_MAX_CLIENTS;
		struct gv_sched_client_rec *r = &g->clients[k];

		if (LDA(r->state) != GV_SLOT_ACTIVE || LD(r->tenant) != t ||
		    atomic_load(&r->want) == 0 || LD(r->stalled))
			continue;
		if (gv_sched_client_alive(g, k))
			return k;
		gv_sched_free_dead_client(g, k);
	}
	if (self >= 0 && LD(g->clients[self].tenant) == t &&
	    LDA(g->clients[self].state) == GV_SLOT_ACTIVE)
		return self;
	return -1;
}

/* Publishing replaces our lease word by CAS: if somebody revoked our lease
 * meanwhile (we were stopped for a long time), our decision is dropped. */
static void publish_grant(struct gv_sched_seg *g, uint64_t lease, uint64_t now, int k, uint64_t len)
{
	uint64_t gen = LD(g->generation) + 1;
	int t = LD(g->clients[k].tenant);

	if (atomic_load(&g->holder) != lease)
		return;
	ST(g->generation, gen);
	ST(g->hold_granted, now);
	ST(g->hold_len, len);
	ST(g->hold_start, 0);
	ST(g->hold_deadline, now + len);
	ST(g->idle_until, 0);
	ST(g->last_tenant, t);
	ST(g->tenants[t].rr_client, (uint32_t)k);
	if (!atomic_compare_exchange_strong(&g->holder, &lease, GV_SCHED_H_MAKE(k, gen, false)))
		return;
	gv_sched_poke(&g->clients[k]);
}

static void publish_none(struct gv_sched_seg *g, uint64_t lease, uint64_t wake_at)
{
	if (atomic_load(&g->holder) != lease)
		return;
	ST(g->idle_until, wake_at);
	if (!atomic_compare_exchange_strong(&g->holder, &lease, 0))
		return;
	/* whoever started waiting while we decided re-checks now (their want
	 * store and our holder store are both sequentially consistent) */
	gv_sched_wake_wanting(g);
}

/* The decider's step: choose who runs next and publish it. Called with the
 * lease held by this process (its slice, or a CAS claim) and c->mtx held. */
static void decide(struct gv_sched_client *c, uint64_t lease, uint64_t now, int prev,
		   bool self_wants)
{
	struct gv_sched_seg *g = c->g;

	for (int tries = 0; tries <= GV_SCHED_MAX_CLIENTS; tries++) {
		uint32_t mask = wanting_mask(g, -1);
		struct gv_sched_pick p;
		int k;

		if (self_wants)
			mask |= 1u << c->tenant;
		p = gv_sched_pick(g, now, mask, prev);
		if (p.tenant < 0) {
			publish_none(g, lease, p.wake_at);
			return;
		}
		k = choose_client(g, p.tenant, self_wants ? c->idx : -1);
		if (k >= 0) {
			publish_grant(g, lease, now, k, p.len);
			return;
		}
		/* every waiter of that tenant was dead and is freed now */
	}
	publish_none(g, lease, 0);
}

/* Takes the lease h by CAS; returns our "deciding" lease word, 0 if lost. */
static uint64_t claim(struct gv_sched_client *c, uint64_t h, uint64_t now)
{
	struct gv_sched_seg *g = c->g;
	uint64_t mine = GV_SCHED_H_MAKE(c->idx, GV_SCHED_H_TOKEN(h), true);

	if (!atomic_compare_exchange_strong(&g->holder, &h, mine))
		return 0;
	ST(g->hold_deadline, now + (uint64_t)LD(g->slice_us) * 1000u);
	return mine;
}

/* We hold the lease (lease) over a dead client's (h): charge what it
 * held, free it, decide. */
static void takeover(struct gv_sched_client *c, uint64_t h, uint64_t lease, uint64_t now)
{
	struct gv_sched_seg *g = c->g;
	int k = GV_SCHED_H_IDX(h), t = LD(g->clients[k].tenant);
	uint64_t start = LD(g->hold_start);

	if (!(h & GV_SCHED_H_DECIDING) && start != 0 && start < now && t >= 0 &&
	    t < GV_SCHED_MAX_TENANTS) {
		gv_sched_charge(g, t, start, now);
		gv_sched_finish_slice(g, t, now - start, LD(g->hold_len));
	}
	gv_sched_free_dead_client(g, k);
	decide(c, lease, now, t, true);
}

/* We hold the lease over a live client's that is far past its deadline:
 * charge it up to now and leave it out of decisions until it runs its
 * gate again (it is stopped, or drains a very long kernel). */
static void revoke_lease(struct gv_sched_client *c, uint64_t h, uint64_t lease, uint64_t now)
{
	struct gv_sched_seg *g = c->g;
	int k = GV_SCHED_H_IDX(h), t = LD(g->clients[k].tenant);
	uint64_t start = LD(g->hold_start);

	if (!(h & GV_SCHED_H_DECIDING) && start != 0 && start < now && t >= 0 &&
	    t < GV_SCHED_MAX_TENANTS) {
		gv_sched_charge(g, t, start, now);
		gv_sched_finish_slice(g, t, now - start, LD(g->hold_len));
	}
	ST(g->clients[k].stalled, 1);
	if (t >= 0 && t < GV_SCHED_MAX_TENANTS)
		atomic_fetch_add(&g->tenants[t].revocations, 1);
	decide(c, lease, now, t, true);
}

static uint64_t revoke_after(struct gv_sched_seg *g)
{
	uint64_t r = GV_SCHED_REVOKE_SLICES * LD(g->slice_us) * 1000u;

	return r > GV_SCHED_REVOKE_MIN_NS ? r : GV_SCHED_REVOKE_MIN_NS;
}

static void pickup(struct gv_sched_client *c, uint64_t h, uint64_t now)
{
	struct gv_sched_seg *g = c->g;
	uint64_t len = LD(g->hold_len), since = LD(c->rec->want_since);

	c->start = now;
	ST(c->len, len);
	ST(g->hold_start, now);
	ST(g->hold_deadline, now + len);
	if (since != 0 && since < now)
		atomic_fetch_add(&g->tenants[c->tenant].wait_ns, now - since);
	ST(c->rec->want_since, now);
	ST(c->rec->stalled, 0);
	ST(c->active, 1);
	ST(c->deadline, now + len);
	atomic_store(&c->my_word, h);
	wd_kick(c, false);
}

/* Ends our slice at `now` (c->mtx held, the lease is ours): keep it for a
 * new slice when nobody else wants it, else drain, charge and hand over. */
static void end_slice(struct gv_sched_client *c, uint64_t now, bool caller_wants, bool release)
{
	struct gv_sched_seg *g = c->g;
	uint64_t lease = LD(c->my_word);
	int t = c->tenant;
	bool self_wants;
	uint64_t now2;

	ST(c->deadline, 0); /* stop admitting before anything else */
	if (atomic_load(&g->holder) != lease)
		return; /* revoked while we were stopped: nothing is ours */
	self_wants = !release && (caller_wants || atomic_exchange(&c->active, 0) ||
				  atomic_load(&c->rec->want) > 0);
	gv_sched_charge(g, t, c->start, now);
	/* charged up to now: a revoker (see revoke_lease) or the figures
	 * count the rest from here, not twice */
	ST(g->hold_start, now);
	if (self_wants && !policy_pending(g) && wanting_mask(g, c->idx) == 0) {
		uint64_t len = gv_sched_slice_len(g, t);
		bool keep = true;

		if (LD(g->policy) == GV_SCHED_FIXED_SHARE) {
			gv_sched_accrue(g, now);
			keep = LD(g->tenants[t].credit_ns) >= (int64_t)len;
		}
		if (keep) {
			/* alone: a new slice without draining the pipeline */
			gv_sched_note_alone(g, t);
			gv_sched_finish_slice(g, t, now - c->start, LD(c->len));
			c->start = now;
			ST(c->len, len);
			ST(g->hold_start, now);
			ST(g->hold_len, len);
			ST(g->hold_deadline, now + len);
			ST(c->active, caller_wants ? 1u : 0u);
			ST(c->deadline, now + len);
			/* no wake-up: the watchdog, asleep until the old
			 * deadline, re-reads the new one then; waking it here
			 * would contend with this thread at every slice */
			return;
		}
	}
	if (c->sync)
		(void)c->sync(c->sync_arg);
	if (atomic_load(&g->holder) != lease)
		return; /* revoked during a very long drain: charged up to then */
	now2 = gv_sched_now(c->s);
	if (now2 < now)
		now2 = now;
	gv_sched_charge(g, t, now, now2);
	gv_sched_finish_slice(g, t, now2 - c->start, LD(c->len));
	decide(c, lease, now2, t, self_wants);
}

/* Own tenant could run now under fixed share (estimate, read-only). */
static bool eligible_estimate(struct gv_sched_seg *g, int t, uint64_t now)
{
	int64_t c = LD(g->tenants[t].credit_ns);
	uint64_t last = LD(g->last_accrue);

	if (LD(g->policy) != GV_SCHED_FIXED_SHARE)
		return true;
	if (now > last)
		c += (int64_t)((now - last) * gv_sched_fixed_rate(g, t) / GV_SCHED_SHARE_FULL);
	return c >= (int64_t)LD(g->slice_us) * 1000;
}

static int gate_slow(struct gv_sched_client *c, bool block)
{
	struct gv_sched_seg *g = c->g;
	struct gv_sched_client_rec *rec = c->rec;
	bool decided_none = false;
	int ret = 0;

	pthread_mutex_lock(&c->mtx);
	if (!c->try_pending) {
		if (atomic_fetch_add(&rec->want, 1) == 0)
			ST(rec->want_since, gv_sched_now(c->s));
	}
	c->try_pending = false;
	for (;;) {
		uint32_t seen = atomic_load(&rec->wake);
		uint64_t now = gv_sched_now(c->s), h = atomic_load(&g->holder);
		uint64_t timeout, dl;
		int k = GV_SCHED_H_IDX(h);

		if (LD(rec->stalled)) /* we run: take part in decisions again */
			ST(rec->stalled, 0);

		if (k == c->idx && !(h & GV_SCHED_H_DECIDING)) {
			if (h != LD(c->my_word)) {
				pickup(c, h, now);
				break;
			}
			if (now < LD(c->deadline))
				break;
			end_slice(c, now, true, false);
			continue;
		}
		if (k < 0) {
			uint64_t idle = LD(g->idle_until);

			if (!decided_none && (now >= idle || policy_pending(g) ||
					      eligible_estimate(g, c->tenant, now))) {
				uint64_t lease = claim(c, h, now);

				if (lease) {
					decide(c, lease, now, LD(g->last_tenant), true);
					decided_none = true;
				}
				continue;
			}
			/* nobody eligible yet (fixed share) or we just decided
			 * so: sleep until the next eligibility, never spin */
			timeout = idle > now ? idle - now : (uint64_t)LD(g->slice_us) * 1000u;
			decided_none = false;
		} else {
			dl = LD(g->hold_deadline);
			if (now > dl + GV_SCHED_GRACE_NS && !gv_sched_client_alive(g, k)) {
				uint64_t lease = claim(c, h, now);

				if (lease)
					takeover(c, h, lease, now);
				continue;
			}
			if (now > dl + revoke_after(g)) {
				uint64_t lease = claim(c, h, now);

				if (lease)
					revoke_lease(c, h, lease, now);
				continue;
			}
			if (now > dl + GV_SCHED_GRACE_NS) {
				timeout = (uint64_t)LD(g->slice_us) * 1000u;
				if (timeout < GV_SCHED_POLL_MIN_NS)
					timeout = GV_SCHED_POLL_MIN_NS;
			} else {
				timeout = dl + GV_SCHED_GRACE_NS - now;
			}
		}
		if (!block) {
			c->try_pending = true;
			ret = -EAGAIN;
			goto out;
		}
		pthread_mutex_unlock(&c->mtx);
		futex_wait(&rec->wake, seen, timeout);
		pthread_mutex_lock(&c->mtx);
	}
	atomic_fetch_sub(&rec->want, 1);
out:
	pthread_mutex_unlock(&c->mtx);
	return ret;
}

int gv_sched_gate(struct gv_sched_client *c)
{
	uint64_t h;

	if (!c)
		return -EINVAL;
	h = atomic_load_explicit(&c->g->holder, memory_order_acquire);
	if (h == atomic_load_explicit(&c->my_word, memory_order_relaxed) &&
	    gv_sched_now(c->s) < atomic_load_explicit(&c->deadline, memory_order_relaxed)) {
		/* read-mostly: a store only on the first admission of a slice */
		if (!atomic_load_explicit(&c->active, memory_order_relaxed))
			atomic_store_explicit(&c->active, 1, memory_order_relaxed);
		return 0;
	}
	return gate_slow(c, true);
}

int gv_sched_try_gate(struct gv_sched_client *c)
{
	uint64_t h;

	if (!c)
		return -EINVAL;
	h = atomic_load_explicit(&c->g->holder, memory_order_acquire);
	if (h == atomic_load_explicit(&c->my_word, memory_order_relaxed) &&
	    gv_sched_now(c->s) < atomic_load_explicit(&c->deadline, memory_order_relaxed)) {
		if (!atomic_load_explicit(&c->active, memory_order_relaxed))
			atomic_store_explicit(&c->active, 1, memory_order_relaxed);
		return 0;
	}
	return gate_slow(c, false);
}

/* Withdraws this client (c->mtx held): a want left by try_gate, the slice
 * it holds (drained) and a grant it has not picked up yet. */
static void give_up(struct gv_sched_client *c)
{
	uint64_t h;

	if (c->try_pending) {
		atomic_fetch_sub(&c->rec->want, 1);
		c->try_pending = false;
	}
	h = atomic_load(&c->g->holder);
	if (h == LD(c->my_word) && LD(c->deadline) != 0) {
		end_slice(c, gv_sched_now(c->s), false, true);
	} else if (GV_SCHED_H_IDX(h) == c->idx && !(h & GV_SCHED_H_DECIDING) &&
		   h != LD(c->my_word)) {
		uint64_t now = gv_sched_now(c->s), lease = claim(c, h, now);

		if (lease)
			decide(c, lease, now, c->tenant, false);
	}
}

int gv_sched_yield(struct gv_sched_client *c)
{
	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->mtx);
	give_up(c);
	pthread_mutex_unlock(&c->mtx);
	return 0;
}

/* ------------------------------------------------------------ attach */

/* The liveness mutexes are initialised once, with the segment, and never
 * again: a checker may hold one for an instant (client_alive), and
 * re-initialising a mutex linked into another thread's robust list would
 * corrupt that list. A previous owner that died leaves it "owner died":
 * we recover it. */
static void take_liveness(struct gv_sched_client *c)
{
	if (pthread_mutex_lock(&c->rec->live) == EOWNERDEAD)
		pthread_mutex_consistent(&c->rec->live);
}

static void release_liveness(struct gv_sched_client *c)
{
	/* unlocked by the thread that locked it (robust mutexes insist) */
	pthread_mutex_unlock(&c->rec->live);
}

static void futex_wait_local(_Atomic uint32_t *word, uint32_t seen, uint64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000ull),
		.tv_nsec = (long)(timeout_ns % 1000000000ull),
	};

	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen, timeout_ns ? &ts : NULL,
		NULL, 0);
}

/* Ends our slice on time even when no application thread calls the gate
 * (long kernels, CPU phases, idleness): drains and hands over shortly
 * after the deadline. It never blocks on c->mtx while an application
 * thread holds it (that thread is ending the slice itself), and nobody
 * wakes it except for a new grant while it idles, so the two do not
 * contend at every deadline. */
static void *watchdog_main(void *arg)
{
	struct gv_sched_client *c = arg;

	/* held for as long as this thread lives: the process's liveness */
	take_liveness(c);
	pthread_mutex_lock(&c->mtx);
	c->wd_live = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mtx);
	while (!atomic_load(&c->stop)) {
		uint32_t seen = atomic_load(&c->wd_seq);
		uint64_t dl = atomic_load(&c->deadline);
		uint64_t len = LD(c->len), delay = len / 10 > 100000 ? len / 10 : 100000;

		if (atomic_load(&c->g->holder) == atomic_load(&c->my_word) && dl != 0) {
			uint64_t now = gv_sched_mono_ns();

			if (now < dl + delay) {
				futex_wait_local(&c->wd_seq, seen, dl + delay - now);
				continue;
			}
			if (pthread_mutex_trylock(&c->mtx) != 0) {
				futex_wait_local(&c->wd_seq, seen, delay);
				continue;
			}
			dl = LD(c->deadline);
			now = gv_sched_mono_ns();
			if (atomic_load(&c->g->holder) == LD(c->my_word) && dl != 0 && now >= dl)
				end_slice(c, now, false, false);
			pthread_mutex_unlock(&c->mtx);
		} else {
			atomic_store(&c->wd_idle, 1);
			if (!(atomic_load(&c->g->holder) == atomic_load(&c->my_word) &&
			      atomic_load(&c->deadline) != 0) &&
			    !atomic_load(&c->stop))
				futex_wait_local(&c->wd_seq, seen, 0);
			atomic_store(&c->wd_idle, 0);
		}
	}
	release_liveness(c);
	return NULL;
}

/* A new slice for the watchdog to watch, or stop (force). */
static void wd_kick(struct gv_sched_client *c, bool force)
{
	atomic_fetch_add(&c->wd_seq, 1);
	if (force || atomic_load(&c->wd_idle))
		syscall(SYS_futex, (uint32_t *)&c->wd_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
			0);
}

static int claim_client_slot(struct gv_sched_seg *g)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++) {
			uint32_t expect = GV_SLOT_FREE;

			if (pass == 1 && LDA(g->clients[k].state) == GV_SLOT_ACTIVE &&
			    !gv_sched_client_alive(g, k))
				gv_sched_free_dead_client(g, k);
			if (atomic_compare_exchange_strong(&g->clients[k].state, &expect,
							   GV_SLOT_CLAIMING))
				return k;
		}
	}
	return -1;
}

int gv_sched_attach(struct gv_sched *s, const char *instance_id,
		    const struct gv_sched_attach_opts *opts, struct gv_sched_client **out,
		    struct gv_err *err)
{
	struct gv_sched_client *c = NULL;
	pthread_condattr_t ca;
	int t, k = -1, ret;

	if (out)
		*out = NULL;
	if (!s || !instance_id || !out)
		return gv_err_set(err, EINVAL, "gv_sched_attach: NULL argument");
	t = gv_sched_find_tenant(s->g, instance_id);
	if (t < 0)
		return gv_err_set(err, ENOENT,
				  "instance %s is not registered with the scheduler "
				  "of this GPU",
				  instance_id);
	c = gv_xcalloc(err, 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->g = s->g;
	c->tenant = t;
	c->idx = -1;
	if (opts) {
		c->sync = opts->sync;
		c->sync_arg = opts->sync_arg;
		c->flags = opts->flags;
	}
	ST(c->my_word, UINT64_MAX);
	pthread_mutex_init(&c->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	k = claim_client_slot(s->g);
	if (k < 0) {
		ret = gv_err_set(err, ENOSPC,
				 "all %d scheduler client slots of this GPU are "
				 "taken by live processes",
				 GV_SCHED_MAX_CLIENTS);
		goto out;
	}
	c->idx = k;
	c->rec = &s->g->clients[k];
	ST(c->rec->tenant, t);
	ST(c->rec->pid, (int32_t)getpid());
	ST(c->rec->want, 0);
	ST(c->rec->want_since, 0);
	if (c->flags & GV_SCHED_NO_WATCHDOG) {
		take_liveness(c);
	} else {
		ret = -pthread_create(&c->watchdog, NULL, watchdog_main, c);
		if (ret < 0) {
			gv_err_set(err, -ret, "cannot start the scheduler watchdog");
			goto out;
		}
		c->has_watchdog = true;
		pthread_mutex_lock(&c->mtx);
		while (!c->wd_live)
			pthread_cond_wait(&c->cond, &c->mtx);
		pthread_mutex_unlock(&c->mtx);
	}
	STR(c->rec->state, GV_SLOT_ACTIVE);
	*out = c;
	return 0;
out:
	if (k >= 0)
		STR(s->g->clients[k].state, GV_SLOT_FREE);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mtx);
	free(c);
	return ret;
}

void gv_sched_detach(struct gv_sched_client *c)
{
	bool owned;

	if (!c)
		return;
	pthread_mutex_lock(&c->mtx);
	/* give everything back while still alive to the others, then leave
	 * the slot CLAIMING so that nobody judges it while liveness goes */
	owned = LDA(c->rec->state) == GV_SLOT_ACTIVE && LD(c->rec->pid) == getpid();
	if (owned) {
		ST(c->rec->want, 0);
		c->try_pending = false;
		give_up(c);
		STR(c->rec->state, GV_SLOT_CLAIMING);
	}
	atomic_store(&c->stop, true);
	pthread_mutex_unlock(&c->mtx);
	if (c->has_watchdog)
		wd_kick(c, true);
	if (c->has_watchdog)
		pthread_join(c->watchdog, NULL); /* it releases liveness */
	else if (owned)
		release_liveness(c);
	if (owned) {
		ST(c->rec->pid, 0);
		STR(c->rec->state, GV_SLOT_FREE);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

/* gpuvisor scheduler, the daemon's side: it creates a timeslice GPU's
 * segment, sets its policy, adds, removes and swaps tenants, and reads the
 * statistics. Tenant processes never call these; they map the segment and
 * pass the gate (sched.c, which the shim links without this file). Every write
 * here is one the decider picks up at its next decision (sched_internal.h,
 * "Who writes what").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched_internal.h"
#include "gpuvisor/nametab.h"

static int check_policy(enum gv_sched_policy policy, uint32_t slice_us, struct gv_err *err)
{
	if (!gv_sched_policy_name(policy))
		return gv_err_set(err, EINVAL, "unknown scheduling policy %d", (int)policy);
	if (slice_us < GV_SCHED_SLICE_MIN_US || slice_us > GV_SCHED_SLICE_MAX_US)
		return gv_err_set(err, EINVAL, "time slice %u us is outside %u-%u us (1-30 ms)",
				  slice_us, GV_SCHED_SLICE_MIN_US, GV_SCHED_SLICE_MAX_US);
	return 0;
}

GV_NAMETAB(gv_sched_policy, enum gv_sched_policy, NULL,
	   "unknown scheduling policy '%s' (best-effort, equal-share or fixed-share)",
	   { GV_SCHED_BEST_EFFORT, "best-effort" }, { GV_SCHED_EQUAL_SHARE, "equal-share" },
	   { GV_SCHED_FIXED_SHARE, "fixed-share" })

int gv_sched_create(const char *path, enum gv_sched_policy policy, uint32_t slice_us,
		    struct gv_sched **out, struct gv_err *err)
{
	char tmp[PATH_MAX];
	struct gv_sched *s = NULL;
	struct gv_sched_seg *g;
	int fd = -1, ret;
	uint64_t now;

	if (out)
		*out = NULL;
	if (!path || !out)
		return gv_err_set(err, EINVAL, "gv_sched_create: NULL argument");
	ret = check_policy(policy, slice_us, err);
	if (ret < 0)
		return ret;
	if (access(path, F_OK) == 0) {
		/* daemon restart: adopt what the tenants are running on, as it
		 * is (a policy change is an explicit gv_sched_set_policy) */
		ret = gv_sched_open(path, &s, err);
		if (ret < 0)
			return ret;
		*out = s;
		return 0;
	}
	/* build the segment under a temporary name and rename it into place,
	 * so that a tenant never maps a half-initialised segment */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return gv_err_set(err, ENAMETOOLONG, "path too long: %s", path);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	if (fd < 0)
		return gv_err_sys(err, "cannot create %s", tmp);
	/* tenants map it read-write: the daemon's group, as the accounting
	 * files (a umask must not take that away) */
	if (fchmod(fd, 0660) < 0 || ftruncate(fd, sizeof(struct gv_sched_seg)) < 0) {
		ret = gv_err_sys(err, "cannot size %s", tmp);
		goto out;
	}
	ret = gv_sched_map_fd(fd, tmp, &s, err);
	if (ret < 0)
		goto out;
	g = s->g;
	now = gv_sched_mono_ns();
	g->magic = GV_SCHED_MAGIC;
	g->version = GV_SCHED_VERSION;
	g->size = sizeof(*g);
	g->max_tenants = GV_SCHED_MAX_TENANTS;
	g->max_clients = GV_SCHED_MAX_CLIENTS;
	ST(g->policy, (uint32_t)policy);
	ST(g->slice_us, slice_us);
	ST(g->policy_req, gv_sched_policy_word((uint32_t)policy, slice_us));
	ST(g->policy_applied_ns, now);
	ST(g->last_accrue, now);
	ST(g->last_tenant, -1);
	{
		pthread_mutexattr_t ma;

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
		for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++)
			pthread_mutex_init(&g->clients[k].live, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (rename(tmp, path) < 0) {
		ret = gv_err_sys(err, "cannot create %s", path);
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	if (s) {
		gv_sched_free(s);
		unlink(tmp);
	} else if (ret < 0) {
		unlink(tmp);
	}
	close(fd);
	return ret;
}

int gv_sched_set_policy(struct gv_sched *s, enum gv_sched_policy policy, uint32_t slice_us,
			struct gv_err *err)
{
	int ret;

	if (!s)
		return gv_err_set(err, EINVAL, "gv_sched_set_policy: NULL segment");
	ret = check_policy(policy, slice_us, err);
	if (ret < 0)
		return ret;
	STR(s->g->policy_req, gv_sched_policy_word((uint32_t)policy, slice_us));
	/* an idle GPU (nobody holding, fixed-share waiters asleep) must
	 * re-decide now rather than at the next handover */
	gv_sched_wake_wanting(s->g);
	return 0;
}

static bool valid_instance_id(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strnlen(id, GV_SCHED_INSTANCE_ID_MAX);
	if (n == 0 || n >= GV_SCHED_INSTANCE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return false;
	return true;
}

int gv_sched_tenant_set(struct gv_sched *s, const char *instance_id, uint32_t weight,
			uint32_t share_ppm, struct gv_err *err)
{
	struct gv_sched_seg *g;
	struct gv_sched_tenant_rec *r;
	int t;

	if (!s)
		return gv_err_set(err, EINVAL, "gv_sched_tenant_set: NULL segment");
	if (!valid_instance_id(instance_id))
		return gv_err_set(err, EINVAL,
				  "instance id must be 1-%d printable characters "
				  "without spaces",
				  GV_SCHED_INSTANCE_ID_MAX - 1);
	if (weight < GV_SCHED_WEIGHT_MIN || weight > GV_SCHED_WEIGHT_MAX)
		return gv_err_set(err, EINVAL, "weight %u is outside %d-%d", weight,
				  GV_SCHED_WEIGHT_MIN, GV_SCHED_WEIGHT_MAX);
	if (share_ppm > GV_SCHED_SHARE_FULL)
		return gv_err_set(err, EINVAL, "share %u ppm is more than the whole GPU (%u)",
				  share_ppm, GV_SCHED_SHARE_FULL);
	g = s->g;
	t = gv_sched_find_tenant(g, instance_id);
	if (t >= 0) {
		ST(g->tenants[t].weight, weight);
		ST(g->tenants[t].share_ppm, share_ppm);
		return t;
	}
	for (t = 0; t < GV_SCHED_MAX_TENANTS; t++)
		if (LDA(g->tenants[t].state) == GV_SLOT_FREE)
			break;
	if (t == GV_SCHED_MAX_TENANTS)
		return gv_err_set(err, ENOSPC, "the scheduler segment already has %d tenants",
				  GV_SCHED_MAX_TENANTS);
	r = &g->tenants[t];
	/* the daemon is the only writer of tenant slots: plain reset */
	ST(r->weight, weight);
	ST(r->share_ppm, share_ppm);
	ST(r->rr_client, 0);
	ST(r->used_ns, 0);
	ST(r->slices, 0);
	ST(r->overruns, 0);
	ST(r->overrun_ns, 0);
	ST(r->revocations, 0);
	ST(r->vtime, LD(g->vclock));
	ST(r->credit_ns, (int64_t)LD(g->slice_us) * 1000);
	ST(r->wait_ns, 0);
	for (int k = 0; k < GV_SCHED_BUCKETS; k++) {
		ST(r->bucket_epoch[k], 0);
		ST(r->bucket_ns[k], 0);
	}
	memset(r->instance_id, 0, sizeof(r->instance_id));
	memcpy(r->instance_id, instance_id, strlen(instance_id));
	STR(r->state, GV_SLOT_ACTIVE);
	return t;
}

int gv_sched_tenant_remove(struct gv_sched *s, const char *instance_id, struct gv_err *err)
{
	struct gv_sched_seg *g;
	int t;

	if (!s || !instance_id)
		return gv_err_set(err, EINVAL, "gv_sched_tenant_remove: NULL argument");
	g = s->g;
	t = gv_sched_find_tenant(g, instance_id);
	if (t < 0)
		return gv_err_set(err, ENOENT, "instance %s is not registered with the scheduler",
				  instance_id);
	for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++) {
		if (LDA(g->clients[k].state) != GV_SLOT_ACTIVE || LD(g->clients[k].tenant) != t)
			continue;
		if (gv_sched_client_alive(g, k))
			return gv_err_set(err, EBUSY,
					  "instance %s still has process %d "
					  "attached to the scheduler",
					  instance_id, (int)LD(g->clients[k].pid));
		gv_sched_free_dead_client(g, k);
	}
	STR(g->tenants[t].state, GV_SLOT_FREE);
	return 0;
}

int gv_sched_tenant_swap(struct gv_sched *s, const char *a, const char *b, struct gv_err *err)
{
	char tmp[GV_SCHED_INSTANCE_ID_MAX];
	struct gv_sched_seg *g;
	int ta, tb;

	if (!s || !a || !b)
		return gv_err_set(err, EINVAL, "gv_sched_tenant_swap: NULL argument");
	g = s->g;
	ta = gv_sched_find_tenant(g, a);
	tb = gv_sched_find_tenant(g, b);
	if (ta < 0 || tb < 0)
		return gv_err_set(err, ENOENT, "instance %s is not registered with the scheduler",
				  ta < 0 ? a : b);
	if (ta == tb)
		return 0;
	/* the daemon is the only writer of tenant slots; clients refer to
	 * their tenant by slot, so only the names change hands */
	memcpy(tmp, g->tenants[ta].instance_id, sizeof(tmp));
	memcpy(g->tenants[ta].instance_id, g->tenants[tb].instance_id, sizeof(tmp));
	memcpy(g->tenants[tb].instance_id, tmp, sizeof(tmp));
	atomic_thread_fence(memory_order_release);
	return 0;
}

uint32_t gv_sched_share_1s(const struct gv_sched_seg *g, int t, uint64_t now)
{
	const struct gv_sched_tenant_rec *r = &g->tenants[t];
	uint64_t e = now / GV_SCHED_BUCKET_NS, sum = 0, from, window;
	uint64_t h;
	int k;

	from = e >= GV_SCHED_BUCKETS - 1 ? (e - (GV_SCHED_BUCKETS - 1)) * GV_SCHED_BUCKET_NS : 0;
	for (int i = 0; i < GV_SCHED_BUCKETS; i++) {
		uint64_t be = LD(r->bucket_epoch[i]);

		if (be <= e && be + GV_SCHED_BUCKETS > e)
			sum += LD(r->bucket_ns[i]);
	}
	/* the slice in progress is charged only when it ends */
	h = LDA(g->holder);
	k = GV_SCHED_H_IDX(h);
	if (k >= 0 && !(h & GV_SCHED_H_DECIDING) && LD(g->clients[k].tenant) == t) {
		uint64_t start = LD(g->hold_start);

		if (start != 0 && start < now)
			sum += now - (start > from ? start : from);
	}
	window = now > from ? now - from : 0;
	if (window == 0)
		return 0;
	if (sum >= window)
		return GV_SCHED_SHARE_FULL;
	return (uint32_t)(sum * GV_SCHED_SHARE_FULL / window);
}

int gv_sched_stats(struct gv_sched *s, struct gv_sched_stats *out, struct gv_err *err)
{
	struct gv_sched_seg *g;
	uint64_t now, h, req;
	int hk, ht = -1;

	if (!s || !out)
		return gv_err_set(err, EINVAL, "gv_sched_stats: NULL argument");
	g = s->g;
	now = gv_sched_now(s);
	memset(out, 0, sizeof(*out));
	out->policy = (enum gv_sched_policy)LD(g->policy);
	out->slice_us = LD(g->slice_us);
	req = LDA(g->policy_req);
	out->policy_requested = (enum gv_sched_policy)(req >> 32);
	out->slice_us_requested = (uint32_t)req;
	out->handovers = LD(g->generation);
	out->policy_applied_ns = LD(g->policy_applied_ns);
	h = LDA(g->holder);
	hk = GV_SCHED_H_IDX(h);
	if (hk >= 0 && !(h & GV_SCHED_H_DECIDING))
		ht = LD(g->clients[hk].tenant);
	out->holder_slot = ht;
	for (int t = 0; t < GV_SCHED_MAX_TENANTS; t++) {
		struct gv_sched_tenant_rec *r = &g->tenants[t];
		struct gv_sched_tenant_stats *o;

		if (LDA(r->state) != GV_SLOT_ACTIVE)
			continue;
		o = &out->tenants[out->n_tenants++];
		o->slot = t;
		memcpy(o->instance_id, r->instance_id, sizeof(o->instance_id));
		o->instance_id[sizeof(o->instance_id) - 1] = '\0';
		o->weight = LD(r->weight);
		o->share_ppm = gv_sched_fixed_rate(g, t);
		o->used_ns = LD(r->used_ns);
		o->wait_ns = LD(r->wait_ns);
		o->slices = LD(r->slices);
		o->overruns = LD(r->overruns);
		o->overrun_ns = LD(r->overrun_ns);
		o->revocations = LD(r->revocations);
		o->holding = ht == t;
		if (o->holding) {
			uint64_t start = LD(g->hold_start);

			if (start != 0 && start < now)
				o->used_ns += now - start;
		}
		o->share_1s_ppm = gv_sched_share_1s(g, t, now);
		for (int k = 0; k < GV_SCHED_MAX_CLIENTS; k++) {
			if (LDA(g->clients[k].state) != GV_SLOT_ACTIVE ||
			    LD(g->clients[k].tenant) != t || !gv_sched_client_alive(g, k))
				continue;
			o->procs++;
			if (LD(g->clients[k].want) > 0)
				o->waiting = true;
		}
	}
	return 0;
}

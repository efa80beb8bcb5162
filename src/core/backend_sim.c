/* The simulated inventory backend: a node description whose MIG state is
 * "hardware": saved to a file after every change and found again by the next
 * backend (a daemon restart, even after kill -9), with NVML's refusals. */
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpuvisor/place.h"

enum sim_op { SIM_OP_MIG_CREATE, SIM_OP_MIG_DESTROY, SIM_OP_SET_MIG_MODE, SIM_OP_COUNT };

static const char *const sim_op_names[SIM_OP_COUNT] = { "mig_create", "mig_destroy",
							"set_mig_mode" };

struct sim_backend {
	struct gv_backend base;
	struct gv_node_desc node;
	char *state_path; /* NULL: in memory only */
	long calls[SIM_OP_COUNT];
	long fail_at[SIM_OP_COUNT]; /* 0: never */
	bool crash_after_create;
};

static struct sim_backend *to_sim(struct gv_backend *be)
{
	return (struct sim_backend *)be;
}

/* Counts a call of op; true when fault injection makes this one fail. */
static bool sim_fault(struct sim_backend *s, enum sim_op op)
{
	s->calls[op]++;
	return s->fail_at[op] > 0 && s->calls[op] == s->fail_at[op];
}

static int sim_persist(struct sim_backend *s, struct gv_err *err)
{
	if (!s->state_path)
		return 0;
	return gv_node_save(&s->node, s->state_path, err);
}

static int sim_gpu(struct sim_backend *s, int gpu, struct gv_err *err)
{
	if (gpu < 0 || gpu >= s->node.n_gpus)
		return gv_err_set(err, EINVAL, "no GPU %d (the node has %d)", gpu, s->node.n_gpus);
	return 0;
}

static int sim_query(struct gv_backend *be, struct gv_node_desc *out, struct gv_err *err)
{
	*out = to_sim(be)->node;
	return 0;
}

static int sim_set_mig_mode(struct gv_backend *be, int gpu, bool on, struct gv_err *err)
{
	struct sim_backend *s = to_sim(be);
	struct gv_gpu_info *g;
	int rc;

	if ((rc = sim_gpu(s, gpu, err)) < 0)
		return rc;
	g = &s->node.gpus[gpu];
	if (!g->mig_capable)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d (%s) does not support MIG", gpu,
				  g->model ? g->model->id : g->name);
	if (sim_fault(s, SIM_OP_SET_MIG_MODE))
		return gv_err_set(err, EIO, "GPU %d: injected failure of set_mig_mode call %ld",
				  gpu, s->calls[SIM_OP_SET_MIG_MODE]);
	if (!on && g->n_mig > 0)
		return gv_err_set(
			err, EBUSY,
			"GPU %d still has %d MIG instance(s): destroy them before turning MIG mode off",
			gpu, g->n_mig);
	if (g->mig_mode == on)
		return 0;
	g->mig_mode = on;
	rc = sim_persist(s, err);
	if (rc < 0)
		g->mig_mode = !on;
	return rc;
}

static bool model_has_profile(const struct gv_model *m, const struct gv_profile *p)
{
	return m && p && p >= m->profiles && p < m->profiles + m->n_profiles;
}

static int sim_mig_create(struct gv_backend *be, int gpu, const struct gv_profile *profile,
			  int start, char uuid_out[GV_UUID_MAX], struct gv_err *err)
{
	struct sim_backend *s = to_sim(be);
	struct gv_place_inst insts[GV_NODE_MAX_MIG];
	struct gv_gpu_info *g;
	struct gv_mig_inst *mi;
	char seed[GV_UUID_MAX + GV_NAME_MAX + 64];
	int rc;

	if (uuid_out)
		uuid_out[0] = '\0';
	if ((rc = sim_gpu(s, gpu, err)) < 0)
		return rc;
	g = &s->node.gpus[gpu];
	if (sim_fault(s, SIM_OP_MIG_CREATE))
		return gv_err_set(err, EIO, "GPU %d: injected failure of mig_create call %ld", gpu,
				  s->calls[SIM_OP_MIG_CREATE]);
	if (!g->mig_capable)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d (%s) does not support MIG", gpu,
				  g->model ? g->model->id : g->name);
	if (!g->mig_mode)
		return gv_err_set(err, EOPNOTSUPP, "GPU %d is not in MIG mode", gpu);
	if (!profile || profile->kind != GV_PROFILE_MIG || !model_has_profile(g->model, profile))
		return gv_err_set(err, EINVAL, "%s is not a MIG profile of %s",
				  profile ? profile->name : "(no profile)", g->model->id);
	if (g->n_mig >= GV_NODE_MAX_MIG)
		return gv_err_set(err, ENOSPC, "GPU %d already has %d MIG instances", gpu,
				  g->n_mig);
	for (int i = 0; i < g->n_mig; i++) {
		insts[i].profile = g->mig[i].profile;
		insts[i].kind = GV_PROFILE_MIG;
		insts[i].start = g->mig[i].start;
		insts[i].fb_mib = g->mig[i].profile->fb_mib;
	}
	rc = gv_place_mig_check(g->model, insts, g->n_mig, profile, start, err);
	if (rc < 0) {
		gv_err_prefix(err, "GPU %d", gpu);
		return rc;
	}

	mi = &g->mig[g->n_mig];
	memset(mi, 0, sizeof(*mi));
	mi->profile = profile;
	mi->start = start;
	snprintf(seed, sizeof(seed), "%s:mig:%d:%s:%llu", g->uuid, start, profile->name,
		 (unsigned long long)(s->node.mig_serial + 1));
	gv_uuid_make(mi->uuid, "MIG-", seed);
	g->n_mig++;
	s->node.mig_serial++;
	rc = sim_persist(s, err);
	if (rc < 0) {
		g->n_mig--;
		s->node.mig_serial--;
		return rc;
	}
	if (s->crash_after_create)
		raise(SIGKILL);
	if (uuid_out)
		memcpy(uuid_out, mi->uuid, GV_UUID_MAX);
	return 0;
}

static int sim_mig_destroy(struct gv_backend *be, int gpu, const char *mig_uuid, struct gv_err *err)
{
	struct sim_backend *s = to_sim(be);
	struct gv_gpu_info *g;
	struct gv_mig_inst saved;
	int rc, at = -1;

	if ((rc = sim_gpu(s, gpu, err)) < 0)
		return rc;
	g = &s->node.gpus[gpu];
	for (int i = 0; mig_uuid && i < g->n_mig; i++)
		if (strcasecmp(g->mig[i].uuid, mig_uuid) == 0)
			at = i;
	if (at < 0)
		return gv_err_set(err, ENOENT, "GPU %d has no MIG instance %s", gpu,
				  mig_uuid ? mig_uuid : "(null)");
	if (sim_fault(s, SIM_OP_MIG_DESTROY))
		return gv_err_set(err, EIO, "GPU %d: injected failure of mig_destroy call %ld", gpu,
				  s->calls[SIM_OP_MIG_DESTROY]);
	saved = g->mig[at];
	memmove(&g->mig[at], &g->mig[at + 1], (size_t)(g->n_mig - at - 1) * sizeof(g->mig[0]));
	g->n_mig--;
	rc = sim_persist(s, err);
	if (rc < 0) {
		memmove(&g->mig[at + 1], &g->mig[at], (size_t)(g->n_mig - at) * sizeof(g->mig[0]));
		g->mig[at] = saved;
		g->n_mig++;
	}
	return rc;
}

static void sim_free(struct gv_backend *be)
{
	struct sim_backend *s = to_sim(be);

	free(s->state_path);
	free(s);
}

static const struct gv_backend_ops sim_ops = {
	.name = "sim",
	.query = sim_query,
	.set_mig_mode = sim_set_mig_mode,
	.mig_create = sim_mig_create,
	.mig_destroy = sim_mig_destroy,
	.free = sim_free,
};

/* GPUVISOR_SIM_FAIL="op:N[,op:N...]" */
static int parse_fail_env(struct sim_backend *s, const char *v, struct gv_err *err)
{
	const char *p = v;

	while (*p) {
		size_t len = strcspn(p, ":,");
		int op = -1;
		char *end;
		long n;

		for (int i = 0; i < SIM_OP_COUNT; i++)
			if (strlen(sim_op_names[i]) == len && strncmp(p, sim_op_names[i], len) == 0)
				op = i;
		if (op < 0 || p[len] != ':')
			goto bad;
		errno = 0;
		n = strtol(p + len + 1, &end, 10);
		if (errno || end == p + len + 1 || n < 1 || (*end && *end != ','))
			goto bad;
		s->fail_at[op] = n;
		p = *end ? end + 1 : end;
	}
	return 0;
bad:
	return gv_err_set(
		err, EINVAL,
		"GPUVISOR_SIM_FAIL='%s': expected op:N[,op:N...] with op mig_create, mig_destroy or set_mig_mode and N >= 1",
		v);
}

static bool same_gpus(const struct gv_node_desc *a, const struct gv_node_desc *b, int *which)
{
	*which = -1;
	if (a->n_gpus != b->n_gpus)
		return false;
	for (int i = 0; i < a->n_gpus; i++) {
		const struct gv_gpu_info *x = &a->gpus[i], *y = &b->gpus[i];

		*which = i;
		if (!x->model || !y->model || strcmp(x->model->id, y->model->id) != 0 ||
		    strcasecmp(x->uuid, y->uuid) != 0)
			return false;
	}
	return true;
}

int gv_backend_sim_new(const struct gv_catalog *cat, const struct gv_node_desc *desc,
		       const char *state_path, struct gv_backend **out, struct gv_err *err)
{
	struct sim_backend *s = NULL;
	struct stat st;
	const char *env;
	bool have_state = false;
	int rc, which;

	if (out)
		*out = NULL;
	if (!cat || !out) {
		rc = gv_err_set(err, EINVAL, "simulated node: missing argument");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = gv_err_set(err, ENOMEM, "simulated node: out of memory");
		goto out;
	}
	s->base.ops = &sim_ops;
	s->base.cat = cat;
	env = getenv("GPUVISOR_SIM_FAIL");
	if (env && (rc = parse_fail_env(s, env, err)) < 0)
		goto out;
	env = getenv("GPUVISOR_SIM_CRASH");
	if (env && *env) {
		if (strcmp(env, "mig_create_after") != 0) {
			rc = gv_err_set(
				err, EINVAL,
				"GPUVISOR_SIM_CRASH='%s': the only crash point is mig_create_after",
				env);
			goto out;
		}
		s->crash_after_create = true;
	}
	if (state_path) {
		s->state_path = strdup(state_path);
		if (!s->state_path) {
			rc = gv_err_set(err, ENOMEM, "simulated node: out of memory");
			goto out;
		}
		if (stat(state_path, &st) == 0)
			have_state = true;
		else if (errno != ENOENT) {
			rc = gv_err_sys(err, "%s", state_path);
			goto out;
		}
	}
	if (have_state) {
		if ((rc = gv_node_load(cat, state_path, &s->node, err)) < 0) {
			gv_err_prefix(err, "simulated node state");
			goto out;
		}
		if (desc && !same_gpus(&s->node, desc, &which)) {
			if (which < 0)
				rc = gv_err_set(
					err, EEXIST,
					"simulated node state %s has %d GPU(s), the description %d: remove the file to start from the description",
					state_path, s->node.n_gpus, desc->n_gpus);
			else
				rc = gv_err_set(
					err, EEXIST,
					"simulated node state %s differs from the description at GPU %d (%s %s vs %s %s): remove the file to start from the description",
					state_path, which,
					s->node.gpus[which].model ? s->node.gpus[which].model->id
								  : "?",
					s->node.gpus[which].uuid,
					desc->gpus[which].model ? desc->gpus[which].model->id : "?",
					desc->gpus[which].uuid);
			goto out;
		}
	} else {
		if (!desc) {
			rc = gv_err_set(err, EINVAL,
					"simulated node: no description and no state file%s%s",
					state_path ? " at " : "", state_path ? state_path : "");
			goto out;
		}
		if (desc->n_gpus < 1 || desc->n_gpus > GV_NODE_MAX_GPUS) {
			rc = gv_err_set(err, EINVAL, "simulated node: %d GPUs (1..%d)",
					desc->n_gpus, GV_NODE_MAX_GPUS);
			goto out;
		}
		s->node = *desc;
		if (!s->node.seed[0])
			snprintf(s->node.seed, sizeof(s->node.seed), "%s", GV_NODE_DEFAULT_SEED);
		if ((rc = sim_persist(s, err)) < 0)
			goto out;
	}
	*out = &s->base;
	s = NULL;
	rc = 0;
out:
	if (s)
		sim_free(&s->base);
	return rc;
}

/* gv_apireq_: strict parsers of API requests (see include/gpuvisor/apireq.h). */
#include "gpuvisor/apireq.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "jsonfield_internal.h"

/* Longest JSON integer we accept for a pid / slot / size before range checks. */
#define MAX_FB_MIB (UINT64_C(1) << 32)

int gv_apireq_gpu_ref(const char *s, int *index, struct gv_err *err)
{
	size_t n, i;
	long v = 0;

	*index = -1;
	if (!s)
		return gv_err_set(err, EINVAL, "no GPU given");
	n = strlen(s);
	if (n >= 5 && strncmp(s, "GPU-", 4) == 0 && n < GV_APIREQ_GPU_MAX) {
		for (i = 4; i < n; i++)
			if (!(s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
			      (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
				return gv_err_set(err, EINVAL,
						  "'%.64s' is not a GPU UUID (GPU-<hex>)", s);
		return 0;
	}
	if (n == 0 || n > 2 || (n > 1 && s[0] == '0'))
		goto bad;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (s[i] - '0');
	}
	*index = (int)v;
	return 0;
bad:
	return gv_err_set(err, EINVAL, "'%.64s' is not a GPU index or a GPU-... UUID", s);
}

int gv_apireq_create_parse(const char *body, size_t len, struct gv_apireq_create *out,
			   struct gv_err *err)
{
	static const char *const fields[] = { "profile", "gpu",	  "placement", "framebuffer_mib",
					      "policy",	 "owner", NULL };
	struct gv_apireq_create r = { .placement = -1 };
	char policy[16] = "";
	json_t *root = NULL, *gpu;
	long long v;
	bool present;
	int idx, ret;

	memset(out, 0, sizeof(*out));
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (!ret)
		ret = gv_jf_text(root, "profile", GV_JF_REQUIRED, r.profile, sizeof(r.profile),
				 err);
	if (ret)
		goto out;
	gpu = json_object_get(root, "gpu");
	if (json_is_integer(gpu)) {
		v = json_integer_value(gpu);
		if (v < 0 || v > 99) {
			ret = gv_err_set(err, EINVAL, "field 'gpu' must be between 0 and 99");
			goto out;
		}
		snprintf(r.gpu, sizeof(r.gpu), "%lld", v);
	} else if (gpu) {
		if (!json_is_string(gpu)) {
			ret = gv_err_set(err, EINVAL,
					 "field 'gpu' must be an index or a GPU UUID string");
			goto out;
		}
		ret = gv_jf_text(root, "gpu", 0, r.gpu, sizeof(r.gpu), err);
		if (!ret)
			ret = gv_apireq_gpu_ref(r.gpu, &idx, err);
		if (ret) {
			gv_err_prefix(err, "field 'gpu'");
			goto out;
		}
	}
	ret = gv_jf_int(root, "placement", 0, 0, GV_MIG_MAX_SLOTS - 1, &v, &present, err);
	if (ret)
		goto out;
	if (present)
		r.placement = (int)v;
	ret = gv_jf_int(root, "framebuffer_mib", 0, 1, (long long)MAX_FB_MIB, &v, &present, err);
	if (ret)
		goto out;
	if (present)
		r.framebuffer_mib = (uint64_t)v;
	ret = gv_jf_text(root, "policy", 0, policy, sizeof(policy), err);
	if (ret && err && err->code == EINVAL && json_is_string(json_object_get(root, "policy")))
		ret = gv_err_set(err, EINVAL, "field 'policy' must be \"pack\" or \"spread\"");
	if (ret)
		goto out;
	if (policy[0] && strcmp(policy, "pack") != 0 && strcmp(policy, "spread") != 0) {
		ret = gv_err_set(err, EINVAL, "field 'policy' must be \"pack\" or \"spread\"");
		goto out;
	}
	r.spread = strcmp(policy, "spread") == 0;
	ret = gv_jf_text(root, "owner", GV_JF_ASCII | GV_JF_SPACES | GV_JF_NULL_ABSENT, r.owner,
			 sizeof(r.owner), err);
	if (ret)
		goto out;
	*out = r;
out:
	json_decref(root);
	return ret;
}

int gv_apireq_mode_parse(const char *body, size_t len, enum gv_mode *out, struct gv_err *err)
{
	static const char *const fields[] = { "mode", NULL };
	json_t *root = NULL;
	char mode[16] = "";
	int ret;

	*out = GV_MODE_PASSTHROUGH;
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (!ret)
		ret = gv_jf_text(root, "mode", GV_JF_REQUIRED, mode, sizeof(mode), err);
	if (ret && json_is_string(json_object_get(root, "mode")))
		ret = gv_err_set(err, EINVAL,
				 "field 'mode' must be \"passthrough\", \"timeslice\" or \"mig\"");
	if (ret)
		goto out;
	if (gv_mode_parse(mode, out, NULL) < 0)
		ret = gv_err_set(err, EINVAL,
				 "field 'mode' must be \"passthrough\", \"timeslice\" or \"mig\"");
out:
	json_decref(root);
	return ret;
}

/* A body of exactly one required integer field, key, in [lo, hi]. */
static int one_int(const char *body, size_t len, const char *key, long long lo, long long hi,
		   long long *out, struct gv_err *err)
{
	const char *const fields[] = { key, NULL };
	json_t *root = NULL;
	int ret;

	*out = 0;
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (!ret)
		ret = gv_jf_int(root, key, GV_JF_REQUIRED, lo, hi, out, NULL, err);
	if (ret)
		*out = 0;
	json_decref(root);
	return ret;
}

int gv_apireq_workload_parse(const char *body, size_t len, struct gv_apireq_workload *out,
			     struct gv_err *err)
{
	static const char *const fields[] = { "pid", "with", NULL };
	json_t *root = NULL;
	long long v = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (!ret)
		ret = gv_jf_int(root, "pid", GV_JF_REQUIRED, 2, INT_MAX, &v, NULL, err);
	if (!ret)
		ret = gv_jf_text_list(root, "with", false, GV_APIREQ_SPAN_MAX - 1, &out->with[0][0],
				      GV_APIREQ_ID_MAX, &out->n_with, err);
	if (ret)
		memset(out, 0, sizeof(*out));
	else
		out->pid = (pid_t)v;
	json_decref(root);
	return ret;
}

int gv_apireq_resume_parse(const char *body, size_t len, struct gv_apireq_resume *out,
			   struct gv_err *err)
{
	static const char *const fields[] = { "to", NULL };
	json_t *root = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (!ret)
		ret = gv_jf_text_list(root, "to", true, GV_APIREQ_SPAN_MAX, &out->to[0][0],
				      GV_APIREQ_ID_MAX, &out->n_to, err);
	if (ret)
		memset(out, 0, sizeof(*out));
	json_decref(root);
	return ret;
}

int gv_apireq_sched_parse(const char *body, size_t len, struct gv_apireq_sched *out,
			  struct gv_err *err)
{
	static const char *const fields[] = { "policy", "slice_ms", NULL };
	struct gv_apireq_sched r = { 0 };
	json_t *root = NULL, *pol;
	long long v = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (ret)
		return ret;
	ret = gv_jf_only(root, fields, err);
	if (ret)
		goto out;
	pol = json_object_get(root, "policy");
	if (pol) {
		int p;

		ret = -EINVAL;
		for (p = GV_SCHED_BEST_EFFORT; json_is_string(pol) && p <= GV_SCHED_FIXED_SHARE;
		     p++)
			if (strcmp(json_string_value(pol), gv_sched_policy_name(p)) == 0 &&
			    strlen(gv_sched_policy_name(p)) == json_string_length(pol)) {
				r.policy = (enum gv_sched_policy)p;
				ret = 0;
				break;
			}
		if (ret) {
			ret = gv_err_set(
				err, EINVAL,
				"field 'policy' must be \"best-effort\", \"equal-share\" or "
				"\"fixed-share\"");
			goto out;
		}
		r.has_policy = true;
	}
	ret = gv_jf_int(root, "slice_ms", 0, GV_SCHED_SLICE_MIN_US / 1000,
			GV_SCHED_SLICE_MAX_US / 1000, &v, &r.has_slice, err);
	if (ret)
		goto out;
	r.slice_ms = (uint32_t)v;
	if (!r.has_policy && !r.has_slice) {
		ret = gv_err_set(err, EINVAL, "give 'policy', 'slice_ms' or both");
		goto out;
	}
	*out = r;
out:
	json_decref(root);
	return ret;
}

int gv_apireq_weight_parse(const char *body, size_t len, uint32_t *out, struct gv_err *err)
{
	long long v;
	int ret = one_int(body, len, "weight", GV_SCHED_WEIGHT_MIN, GV_SCHED_WEIGHT_MAX, &v, err);

	*out = (uint32_t)v;
	return ret;
}

void gv_apireq_query_init(struct gv_apireq_query *q, unsigned allowed)
{
	memset(q, 0, sizeof(*q));
	q->allowed = allowed;
}

static int parse_since(const char *v, int64_t *out, struct gv_err *err)
{
	int64_t n = 0;
	size_t i, len = v ? strlen(v) : 0;

	if (len == 0 || len > 18)
		goto bad;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
bad:
	return gv_err_set(err, EINVAL,
			  "query 'since' must be an event sequence number (0 or more)");
}

int gv_apireq_query_add(struct gv_apireq_query *q, const char *key, const char *value,
			struct gv_err *err)
{
	unsigned bit;
	int idx, ret;

	if (!key)
		return gv_err_set(err, EINVAL, "empty query argument");
	if (strcmp(key, "since") == 0)
		bit = GV_APIREQ_Q_SINCE;
	else if (strcmp(key, "force") == 0)
		bit = GV_APIREQ_Q_FORCE;
	else if (strcmp(key, "gpu") == 0)
		bit = GV_APIREQ_Q_GPU;
	else if (strcmp(key, "ticket") == 0)
		bit = GV_APIREQ_Q_TICKET;
	else if (strcmp(key, "seconds") == 0)
		bit = GV_APIREQ_Q_SECONDS;
	else
		bit = 0;
	if (!(bit & q->allowed))
		return gv_err_set(err, EINVAL, "unknown query argument '%.64s'", key);
	if (q->seen & bit)
		return gv_err_set(err, EINVAL, "query argument '%s' given twice", key);
	switch (bit) {
	case GV_APIREQ_Q_SINCE:
		ret = parse_since(value, &q->since, err);
		break;
	case GV_APIREQ_Q_FORCE:
		ret = 0;
		if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
			q->force = true;
		else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0)
			q->force = false;
		else
			ret = gv_err_set(err, EINVAL, "query 'force' must be 1, 0, true or false");
		break;
	case GV_APIREQ_Q_TICKET:
		ret = 0;
		if (value && strlen(value) == GV_APIREQ_TICKET_LEN &&
		    strspn(value, "0123456789abcdef") == GV_APIREQ_TICKET_LEN)
			memcpy(q->ticket, value, GV_APIREQ_TICKET_LEN + 1);
		else
			q->bad_ticket = true;
		break;
	case GV_APIREQ_Q_SECONDS: {
		int64_t n = 0;

		ret = parse_since(value, &n, NULL);
		if (ret || n < 1 || n > GV_APIREQ_SECONDS_MAX)
			ret = gv_err_set(err, EINVAL, "query 'seconds' must be 1 to %d",
					 GV_APIREQ_SECONDS_MAX);
		else
			q->seconds = (int)n;
		break;
	}
	default:
		ret = gv_apireq_gpu_ref(value, &idx, err);
		if (!ret)
			snprintf(q->gpu, sizeof(q->gpu), "%s", value);
		else
			gv_err_prefix(err, "query 'gpu'");
		break;
	}
	if (!ret)
		q->seen |= bit;
	return ret;
}

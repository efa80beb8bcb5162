/* gv_migreq_: the body of POST /v1/migrations (see include/gpuvisor/migreq.h). */
#include "gpuvisor/migreq.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "gpuvisor/apireq.h"
#include "jsonfield_internal.h"

static const char *const fields[] = {
	"instance", "to", "mode", "downtime_limit_ms", "max_rounds", "auto_converge", "inject", NULL
};

/* The string members: null is absent; printable ASCII without spaces. */
#define TEXT (GV_JF_NULL_ABSENT | GV_JF_ASCII)

int gv_migreq_parse(const char *body, size_t len, struct gv_migreq *out, struct gv_err *err)
{
	char mode[16];
	json_t *root = NULL;
	uint64_t rounds = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->mode = GV_MIG_PRECOPY;
	out->downtime_limit_ms = GV_MIGREQ_DOWNTIME_DEFAULT_MS;
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (!ret)
		ret = gv_jf_only(root, fields, err);
	if (ret)
		goto out;
	ret = gv_jf_text(root, "instance", TEXT | GV_JF_REQUIRED, out->instance,
			 sizeof(out->instance), err);
	if (!ret && json_is_array(json_object_get(root, "to"))) {
		char ids[GV_MIGREQ_SPAN_MAX][GV_MIGREQ_ID_MAX];
		int n = 0;

		/* a workload on several instances: one destination each */
		ret = gv_jf_text_list(root, "to", false, GV_MIGREQ_SPAN_MAX, &ids[0][0],
				      GV_MIGREQ_ID_MAX, &n, err);
		if (!ret) {
			memcpy(out->to, ids[0], sizeof(out->to));
			memcpy(out->more, ids[1], sizeof(out->more));
			out->n_more = n - 1;
		}
	} else if (!ret) {
		ret = gv_jf_text(root, "to", TEXT | GV_JF_REQUIRED, out->to, sizeof(out->to), err);
	}
	if (!ret)
		ret = gv_jf_text(root, "mode", TEXT, mode, sizeof(mode), err);
	/* checkpoint: the driver carries everything while the workload is
	 * stopped; the engine's modes are the shim's */
	if (!ret && !strcmp(mode, "checkpoint"))
		out->checkpoint = true;
	else if (!ret && mode[0] && gv_mig_mode_parse(mode, &out->mode, NULL))
		ret = gv_err_set(err, EINVAL,
				 "migration mode '%s' is none of precopy, stopcopy and checkpoint",
				 mode);
	if (!ret)
		ret = gv_jf_uint(root, "downtime_limit_ms", GV_JF_NULL_ABSENT, 1,
				 GV_MIGREQ_DOWNTIME_MAX_MS, &out->downtime_limit_ms, NULL, err);
	if (!ret)
		ret = gv_jf_uint(root, "max_rounds", GV_JF_NULL_ABSENT, 1, 1000, &rounds, NULL,
				 err);
	if (!ret)
		out->max_rounds = (unsigned)rounds;
	if (!ret)
		ret = gv_jf_bool(root, "auto_converge", GV_JF_NULL_ABSENT, &out->auto_converge,
				 err);
	if (!ret)
		ret = gv_jf_text(root, "inject", TEXT, out->inject, sizeof(out->inject), err);
out:
	json_decref(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* gv_advisereq_: the body of POST /v1/advise (see include/gpuvisor/advise.h). */
#include "gpuvisor/advise.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gpuvisor/apireq.h"
#include "jsonfield_internal.h"

static const char *const fields[] = { "workload", "memory_mib", "trusted", "latency_sensitive",
				      "replicas", "gpu",	NULL };

int gv_advisereq_parse(const char *body, size_t len, struct gv_advise_body *out, struct gv_err *err)
{
	struct gv_advise_body b = { .req = { .trusted = true, .replicas = 1, .gpu = -1 } };
	char workload[16];
	json_t *root = NULL, *gpu;
	uint64_t v = 0;
	int idx, ret;

	memset(out, 0, sizeof(*out));
	ret = gv_jf_load(body, len, GV_APIREQ_MAX_BODY, &root, err);
	if (!ret)
		ret = gv_jf_only(root, fields, err);
	if (ret)
		goto out;
	ret = gv_jf_text(root, "workload", GV_JF_REQUIRED | GV_JF_ASCII, workload, sizeof(workload),
			 err);
	/* a string of the wrong length or bytes gets the same words as a wrong word */
	if ((ret && json_is_string(json_object_get(root, "workload"))) ||
	    (!ret && gv_advise_workload_parse(workload, &b.req.workload, NULL)))
		ret = gv_err_set(err, EINVAL,
				 "field 'workload' must be \"training\", \"inference\" or \"dev\"");
	if (!ret)
		ret = gv_jf_uint(root, "memory_mib", GV_JF_REQUIRED, 1, GV_ADVISE_MEMORY_MAX_MIB,
				 &b.req.memory_mib, NULL, err);
	if (!ret)
		ret = gv_jf_bool(root, "trusted", GV_JF_NULL_ABSENT, &b.req.trusted, err);
	if (!ret)
		ret = gv_jf_bool(root, "latency_sensitive", GV_JF_NULL_ABSENT,
				 &b.req.latency_sensitive, err);
	if (!ret)
		ret = gv_jf_uint(root, "replicas", GV_JF_NULL_ABSENT, 1, GV_ADVISE_REPLICAS_MAX, &v,
				 NULL, err);
	if (!ret && v)
		b.req.replicas = (int)v;
	if (ret)
		goto out;
	/* "gpu": an index (number or string) or a GPU UUID, as in POST /v1/instances */
	gpu = json_object_get(root, "gpu");
	if (json_is_integer(gpu)) {
		json_int_t x = json_integer_value(gpu);

		if (x < 0 || x > 99) {
			ret = gv_err_set(err, EINVAL, "field 'gpu' must be between 0 and 99");
			goto out;
		}
		snprintf(b.gpu, sizeof(b.gpu), "%d", (int)x);
	} else if (gpu && !json_is_null(gpu)) {
		if (!json_is_string(gpu)) {
			ret = gv_err_set(err, EINVAL,
					 "field 'gpu' must be an index or a GPU UUID string");
			goto out;
		}
		ret = gv_jf_text(root, "gpu", GV_JF_ASCII, b.gpu, sizeof(b.gpu), err);
		if (!ret)
			ret = gv_apireq_gpu_ref(b.gpu, &idx, err);
		if (ret) {
			gv_err_prefix(err, "field 'gpu'");
			goto out;
		}
	}
	*out = b;
out:
	json_decref(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

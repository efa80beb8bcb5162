/* gv_migctl_: requests on the shim's migration control socket
 * (include/gpuvisor/migctl.h). */
#include "gpuvisor/migctl.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "jsonfield_internal.h"

/* The string members: null is absent, printable ASCII, in the control
 * socket's wording (GV_JF_BRIEF); PATH: spaces allowed. */
#define ID (GV_JF_NULL_ABSENT | GV_JF_ASCII | GV_JF_BRIEF)
#define PATH (ID | GV_JF_SPACES)

int gv_migctl_parse(const char *line, size_t len, struct gv_migctl_req *out, struct gv_err *err)
{
	static const char *const migrate_fields[] = { "op",	     "to",	   "acct",
						      "sched",	     "instance",   "mode",
						      "downtime_ms", "max_rounds", "auto_converge",
						      "inject",	     NULL };
	char op[16], mode[16];
	json_t *root = NULL;
	uint64_t rounds = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!line || len == 0 || len > GV_MIGCTL_LINE_MAX) {
		ret = gv_err_set(err, EINVAL, "a request is one JSON object of 1 to %d bytes",
				 GV_MIGCTL_LINE_MAX);
		goto out;
	}
	/* a line within the limit fails to load only for its JSON */
	if (gv_jf_load(line, len, GV_MIGCTL_LINE_MAX, &root, NULL) != 0) {
		ret = gv_err_set(err, EINVAL, "a request must be a JSON object");
		goto out;
	}
	ret = gv_jf_text(root, "op", ID | GV_JF_REQUIRED, op, sizeof(op), err);
	if (ret)
		goto out;
	if (!strcmp(op, "hello")) {
		if (json_object_size(root) != 1) {
			ret = gv_err_set(err, EINVAL, "hello takes no fields");
			goto out;
		}
		out->op = GV_MIGCTL_HELLO;
		goto out;
	}
	if (strcmp(op, "migrate")) {
		ret = gv_err_set(err, EINVAL, "unknown op '%s'", op);
		goto out;
	}
	out->op = GV_MIGCTL_MIGRATE;
	ret = gv_jf_only(root, migrate_fields, err);
	if (ret)
		goto out;
	out->mode = GV_MIG_PRECOPY;
	out->downtime_ms = 300;
	ret = gv_jf_text(root, "to", ID | GV_JF_REQUIRED, out->to, sizeof(out->to), err);
	if (!ret)
		ret = gv_jf_text(root, "acct", PATH, out->acct, sizeof(out->acct), err);
	if (!ret)
		ret = gv_jf_text(root, "sched", PATH, out->sched, sizeof(out->sched), err);
	if (!ret)
		ret = gv_jf_text(root, "instance", ID, out->instance, sizeof(out->instance), err);
	if (!ret && !out->sched[0] != !out->instance[0])
		ret = gv_err_set(err, EINVAL,
				 "fields 'sched' and 'instance' go together: both or neither");
	if (!ret)
		ret = gv_jf_text(root, "mode", ID, mode, sizeof(mode), err);
	if (!ret && mode[0])
		ret = gv_mig_mode_parse(mode, &out->mode, err);
	if (!ret)
		ret = gv_jf_uint(root, "downtime_ms", GV_JF_NULL_ABSENT, 1, 600000,
				 &out->downtime_ms, NULL, err);
	if (!ret)
		ret = gv_jf_uint(root, "max_rounds", GV_JF_NULL_ABSENT, 1, GV_MIG_ROUNDS_MAX,
				 &rounds, NULL, err);
	if (!ret)
		out->max_rounds = (unsigned)rounds;
	if (!ret)
		ret = gv_jf_bool(root, "auto_converge", GV_JF_NULL_ABSENT, &out->auto_converge,
				 err);
	if (!ret)
		ret = gv_jf_text(root, "inject", ID, out->inject, sizeof(out->inject), err);
out:
	json_decref(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

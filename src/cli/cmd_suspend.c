/* gpuvisor suspend ID / gpuvisor resume ID: POST /v1/instances/ID/suspend
 * or /resume. One file for the two, since they are one operation's halves
 * (the workload's GPU state goes to host memory and comes back). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* "i-3,i-4" for a workload on several instances (the answer's span), else
 * the instance the answer names, else fallback. */
static const char *span_text(const json_t *resp, const char *fallback, char *out, size_t cap)
{
	const json_t *span = json_object_get(resp, "span"), *m;
	size_t i;

	if (!json_is_array(span))
		return gv_json_str(resp, "instance", fallback);
	out[0] = '\0';
	json_array_foreach(span, i, m)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
			 json_is_string(m) ? json_string_value(m) : "?");
	return out;
}

static int change(struct gv_cli *cli, int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *resp = NULL, *rep, *body = NULL;
	char *path = NULL, suffix[16], ids[256];
	const char *to = NULL;
	bool as_json = false;
	int c, rc = GV_EXIT_OK;

	while ((c = gv_cli_getopt(cli, argc, argv, "h", opts, &as_json, &rc)) != -1) {
		if (c != 't' || strcmp(verb, "resume"))
			return c == 't' ? gv_cli_usage_error(cli, "--to is an option of resume")
					: rc;
		to = optarg;
	}
	if (to && !*to)
		return gv_cli_usage_error(cli, "--to needs an instance id");
	if (argc - optind != 1 || !*argv[optind])
		return gv_cli_usage_error(cli, "%s takes one instance id (see gpuvisor list)",
					  verb);
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;
	snprintf(suffix, sizeof(suffix), "/%s", verb);
	path = gv_cli_path(cli, "/v1/instances/", argv[optind], suffix);
	if (!path)
		return GV_EXIT_REFUSED;
	/* --to X,Y: one destination per instance of the workload, in its order */
	if (to)
		body = json_pack("{s:o*}", "to", gv_json_id_list(to));
	if (to && !body) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "POST", path, body, &resp);
	if (rc)
		goto out;
	if (as_json) {
		rc = gv_cli_print_json(resp);
		goto out;
	}
	rep = json_object_get(resp, "report");
	if (!strcmp(verb, "suspend"))
		printf("%s: workload suspended (lock %.0f ms, checkpoint %.0f ms): its GPU memory "
		       "is in host memory\n",
		       span_text(resp, argv[optind], ids, sizeof(ids)),
		       json_number_value(json_object_get(rep, "lock_ms")),
		       json_number_value(json_object_get(rep, "checkpoint_ms")));
	else
		printf("%s: workload running again (restore %.0f ms, unlock %.0f ms)\n",
		       span_text(resp, argv[optind], ids, sizeof(ids)),
		       json_number_value(json_object_get(rep, "restore_ms")),
		       json_number_value(json_object_get(rep, "unlock_ms")));
out:
	json_decref(body);
	json_decref(resp);
	free(path);
	return rc;
}

static int suspend_run(struct gv_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, "suspend");
}

static int resume_run(struct gv_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, "resume");
}

const struct gv_cmd gv_cmd_suspend = {
	.name = "suspend",
	.run = suspend_run,
	.usage = "suspend INSTANCE [--json]",
	.summary = "Suspend an instance's workload: its GPU memory goes to host memory.",
	.help = "  --json  print the daemon's answer as JSON\n"
		"\nThe CUDA driver's checkpoint API locks every CUDA process of the workload\n"
		"(after its queued GPU work finishes) and moves its GPU memory and objects into\n"
		"its host memory; the GPU memory is free meanwhile. Any CUDA program, no\n"
		"--migratable needed. The instance's partition stays reserved for it. Refused,\n"
		"with the reason, for MIG instances, managed or IPC memory, and drivers\n"
		"before R550. A suspended workload survives a restart of gpuvisord.\n"
		"\nexample:\n  gpuvisor suspend i-3\n",
};

const struct gv_cmd gv_cmd_resume = {
	.name = "resume",
	.run = resume_run,
	.usage = "resume INSTANCE [--to INSTANCE[,INSTANCE...]] [--json]",
	.summary = "Resume a suspended workload on its instance or another one.",
	.help = "  --to INSTANCE  an empty instance of the same profile to resume on: for a\n"
		"                 time-sliced workload one of the same GPU (its partition and\n"
		"                 scheduler attachment move with it), for passthrough one on a\n"
		"                 GPU of the same model (the driver remaps the workload); a\n"
		"                 workload on several instances: one per member, in its order\n"
		"  --json         print the daemon's answer as JSON\n"
		"\nThe driver restores the workload's GPU memory and objects at the same\n"
		"addresses and lets its CUDA calls go on. If the GPU has no room, the\n"
		"workload stays suspended and can be resumed again later.\n"
		"\nexamples:\n  gpuvisor resume i-3\n  gpuvisor resume i-3 --to i-4\n",
};

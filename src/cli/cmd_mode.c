/* gpuvisor mode GPU MODE: PUT /v1/gpus/GPU/mode. */
#include "cli.h"

#include "gpuvisor/catalog.h"

#include <stdlib.h>
#include <string.h>

static int mode_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = NULL, *gpu = NULL;
	char *path = NULL;
	const char *mode;
	int rc;

	if (gv_cli_getopt(cli, argc, argv, "h", opts, NULL, &rc) != -1)
		return rc;
	if (argc - optind != 2)
		return gv_cli_usage_error(cli, "mode takes a GPU and a mode");
	mode = argv[optind + 1];
	if (gv_mode_parse(mode, NULL, NULL) < 0)
		return gv_cli_usage_error(cli, "unknown mode '%s': passthrough, timeslice or mig",
					  mode);
	if (!*argv[optind])
		return gv_cli_usage_error(cli, "the GPU is an index or a UUID");
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;
	path = gv_cli_path(cli, "/v1/gpus/", argv[optind], "/mode");
	body = json_pack("{s:s}", "mode", mode);
	if (!path || !body) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "PUT", path, body, &gpu);
	if (rc)
		goto out;
	{
		char idx[32];

		gv_json_int_text(gpu, "index", idx, sizeof(idx));
		printf("gpu %s: mode %s\n", idx, gv_json_str(gpu, "mode", mode));
	}
out:
	json_decref(body);
	json_decref(gpu);
	free(path);
	return rc;
}

const struct gv_cmd gv_cmd_mode = {
	.name = "mode",
	.run = mode_run,
	.usage = "mode GPU passthrough|timeslice|mig",
	.summary = "Set a GPU's mode (refused while it has instances).",
	.help = "Setting mig turns the GPU's MIG mode on; leaving mig turns it off.\n"
		"\nexample:\n  gpuvisor mode 0 mig\n",
};

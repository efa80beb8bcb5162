/* gpuvisor destroy: DELETE /v1/instances/ID[?force=1], for each ID. */
#include "cli.h"

#include <stdlib.h>

static int destroy_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c, i, rc = GV_EXIT_OK;

	/* options may follow the ids: "destroy i-1 --force" */
	while ((c = gv_cli_getopt(cli, argc, argv, "h", opts, NULL, &rc)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		default:
			return rc;
		}
	}
	if (optind >= argc)
		return gv_cli_usage_error(cli, "which instance? (see gpuvisor list)");
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;
	/* every id is tried; the exit code is the worst one */
	for (i = optind; i < argc; i++) {
		json_t *resp = NULL;
		char *path;
		int r;

		if (!*argv[i]) {
			rc = gv_cli_usage_error(cli, "an instance id cannot be empty");
			continue;
		}
		path = gv_cli_path(cli, "/v1/instances/", argv[i], force ? "?force=1" : "");
		if (!path)
			return GV_EXIT_REFUSED;
		r = gv_cli_call(cli, "DELETE", path, NULL, &resp);
		if (r == GV_EXIT_OK)
			printf("destroyed %s\n", gv_json_str(resp, "deleted", argv[i]));
		else if (r > rc)
			rc = r;
		json_decref(resp);
		free(path);
		if (r == GV_EXIT_UNREACHABLE)
			break;
	}
	return rc;
}

const struct gv_cmd gv_cmd_destroy = {
	.name = "destroy",
	.run = destroy_run,
	.usage = "destroy ID... [--force]",
	.summary = "Destroy instances.",
	.help = "  --force  also when a workload runs: its process group is killed first\n"
		"\nexample:\n  gpuvisor destroy i-3\n",
};

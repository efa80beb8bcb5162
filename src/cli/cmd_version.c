/* gpuvisor version: this client's version and the daemon's (GET /v1/node). */
#include "cli.h"

static int version_run(struct gv_cli *cli, int argc, char **argv)
{
	json_t *node = NULL;
	int rc = gv_cli_parse_flags(cli, argc, argv, NULL);

	if (rc != GV_CLI_GO)
		return rc;
	printf("gpuvisor  %s\n", GV_VERSION);
	fflush(stdout);
	rc = gv_cli_call(cli, "GET", "/v1/node", NULL, &node);
	if (rc == GV_EXIT_OK)
		printf("gpuvisord %s (backend %s, socket %s)\n", gv_json_str(node, "version", "?"),
		       gv_json_str(node, "backend", "?"), cli->socket);
	json_decref(node);
	return rc;
}

const struct gv_cmd gv_cmd_version = {
	.name = "version",
	.run = version_run,
	.usage = "version",
	.summary = "Print the versions of gpuvisor and of the daemon it reaches.",
	.help = "",
};

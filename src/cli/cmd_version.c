/* gpuvisor version: this client's version and the daemon's (GET /v1/node). */
#include "cli.h"

#include <getopt.h>

int gv_cmd_version(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	json_t *node = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			gv_cli_help(cli->cmd, stdout);
			return GV_EXIT_OK;
		}
		return gv_cli_bad_option(cli, argv);
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	printf("gpuvisor  %s\n", GV_VERSION);
	fflush(stdout);
	rc = gv_cli_call(cli, "GET", "/v1/node", NULL, &node);
	if (rc == GV_EXIT_OK)
		printf("gpuvisord %s (backend %s, socket %s)\n", gv_json_str(node, "version", "?"),
		       gv_json_str(node, "backend", "?"), cli->socket);
	json_decref(node);
	return rc;
}

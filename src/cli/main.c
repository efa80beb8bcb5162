/* gpuvisor: the command-line client of gpuvisord.
 *
 *   gpuvisor [--socket PATH] SUBCOMMAND [ARGS]
 *
 * The socket is --socket, else $GPUVISOR_SOCKET, else /run/gpuvisor/api.sock.
 * Exit codes: 0 success, 1 refused by the daemon (or the command failed),
 * 2 usage error, 3 daemon unreachable. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define GV_DEFAULT_SOCKET "/run/gpuvisor/api.sock"

static int help_run(struct gv_cli *cli, int argc, char **argv);

static const struct gv_cmd gv_cmd_help = {
	.name = "help",
	.run = help_run,
	.usage = "help [SUBCOMMAND]",
	.summary = "Show help for gpuvisor or a subcommand.",
	.help = "",
};

/* In the order `gpuvisor help` lists them. */
static const struct gv_cmd *const gv_cmds[] = {
	&gv_cmd_gpus,	 &gv_cmd_profiles, &gv_cmd_create,     &gv_cmd_advise,	&gv_cmd_destroy,
	&gv_cmd_list,	 &gv_cmd_mode,	   &gv_cmd_events,     &gv_cmd_run,	&gv_cmd_cdi,
	&gv_cmd_sched,	 &gv_cmd_top,	   &gv_cmd_slurm_conf, &gv_cmd_migrate, &gv_cmd_migrations,
	&gv_cmd_suspend, &gv_cmd_resume,   &gv_cmd_ui,	       &gv_cmd_version, &gv_cmd_help,
};

#define GV_N_CMDS (sizeof(gv_cmds) / sizeof(gv_cmds[0]))

static const struct gv_cmd *gv_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < GV_N_CMDS; i++)
		if (strcmp(gv_cmds[i]->name, name) == 0)
			return gv_cmds[i];
	return NULL;
}

static void gv_main_usage(FILE *f)
{
	size_t i;

	fputs("usage: gpuvisor [--socket PATH] SUBCOMMAND [ARGS]\n\n"
	      "Shares NVIDIA GPUs between workloads through gpuvisord (passthrough,\n"
	      "timeslice vGPUs, MIG).\n\nsubcommands:\n",
	      f);
	for (i = 0; i < GV_N_CMDS; i++)
		fprintf(f, "  %-9s %s\n", gv_cmds[i]->name, gv_cmds[i]->summary);
	fputs("\noptions:\n"
	      "  --socket PATH  the daemon's socket (default $GPUVISOR_SOCKET, else\n"
	      "                 " GV_DEFAULT_SOCKET ")\n"
	      "  --version      print gpuvisor's version\n"
	      "  --help         this text; `gpuvisor help SUBCOMMAND` or\n"
	      "                 `gpuvisor SUBCOMMAND --help` for one subcommand\n"
	      "\nexit status: 0 success, 1 refused by gpuvisord, 2 usage error,\n"
	      "3 gpuvisord unreachable\n",
	      f);
}

static int help_run(struct gv_cli *cli, int argc, char **argv)
{
	const struct gv_cmd *cmd;

	if (argc < 2) {
		gv_main_usage(stdout);
		return GV_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		gv_cli_help(cli->cmd, stdout);
		return GV_EXIT_OK;
	}
	if (argc > 2)
		return gv_cli_usage_error(cli, "help takes one subcommand");
	cmd = gv_find_cmd(argv[1]);
	if (!cmd)
		return gv_cli_usage_error(cli, "unknown subcommand '%s'", argv[1]);
	gv_cli_help(cmd, stdout);
	return GV_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct gv_cli cli = { 0 };
	const char *env = getenv("GPUVISOR_SOCKET");
	int c, rc;

	cli.socket = (env && *env) ? env : GV_DEFAULT_SOCKET;
	opterr = 0;
	/* '+': stop at the subcommand; its options are its own */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return gv_cli_usage_error(&cli, "--socket needs a path");
			cli.socket = optarg;
			break;
		case 'h':
			gv_main_usage(stdout);
			return GV_EXIT_OK;
		case 'V':
			printf("gpuvisor %s\n", GV_VERSION);
			return GV_EXIT_OK;
		default:
			gv_cli_bad_option(&cli, argv);
			fputs("usage: gpuvisor [--socket PATH] SUBCOMMAND [ARGS] (gpuvisor help)\n",
			      stderr);
			return GV_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		gv_main_usage(stderr);
		return GV_EXIT_USAGE;
	}
	cli.cmd = gv_find_cmd(argv[optind]);
	if (!cli.cmd) {
		fprintf(stderr, "gpuvisor: unknown subcommand '%s' (gpuvisor help)\n",
			argv[optind]);
		return GV_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("gpuvisor: cannot initialise libcurl\n", stderr);
		return GV_EXIT_REFUSED;
	}
	/* each subcommand parses its own argv with getopt from scratch */
	argc -= optind;
	argv += optind;
	optind = 0;
	rc = cli.cmd->run(&cli, argc, argv);
	gv_client_free(cli.client);
	curl_global_cleanup();
	return rc;
}

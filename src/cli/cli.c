/* Helpers every subcommand uses: usage errors, the daemon call with the
 * CLI's error reporting and exit codes. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

void gv_cli_help(const struct gv_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: gpuvisor [--socket PATH] %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(f, "\n%s", cmd->help);
}

int gv_cli_usage_error(const struct gv_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("gpuvisor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli->cmd)
		fprintf(stderr, "usage: gpuvisor [--socket PATH] %s\n(gpuvisor help %s)\n",
			cli->cmd->usage, cli->cmd->name);
	return GV_EXIT_USAGE;
}

int gv_cli_bad_option(const struct gv_cli *cli, char **argv)
{
	/* getopt leaves the offending word at optind - 1 (opterr is 0) */
	const char *word = (optind > 0 && argv[optind - 1]) ? argv[optind - 1] : "?";

	if (optopt > 0 && optopt < 128 && word[0] == '-' && word[1] != '-')
		return gv_cli_usage_error(cli, "option -%c is unknown or needs a value",
					  (char)optopt);
	return gv_cli_usage_error(cli, "option '%s' is unknown or needs a value", word);
}

int gv_cli_exit_for(int rc)
{
	if (rc == 0)
		return GV_EXIT_OK;
	return rc == -ENOTCONN ? GV_EXIT_UNREACHABLE : GV_EXIT_REFUSED;
}

struct gv_client *gv_cli_client(struct gv_cli *cli)
{
	struct gv_err err = {0};

	if (!cli->client && gv_client_new(cli->socket, &cli->client, &err) < 0)
		fprintf(stderr, "gpuvisor: %s\n", err.msg);
	return cli->client;
}

int gv_cli_call(struct gv_cli *cli, const char *method, const char *path, json_t *body,
		json_t **out)
{
	struct gv_client *c = gv_cli_client(cli);
	struct gv_err err = {0};
	int rc;

	*out = NULL;
	if (!c)
		return GV_EXIT_REFUSED;
	rc = gv_client_call(c, method, path, body, out, NULL, &err);
	if (rc == -ENOTCONN) {
		fprintf(stderr,
			"gpuvisor: cannot reach gpuvisord at %s: %s; is it running? "
			"(--socket / GPUVISOR_SOCKET)\n",
			cli->socket, err.msg);
		return GV_EXIT_UNREACHABLE;
	}
	if (rc < 0) {
		fprintf(stderr, "gpuvisor: %s\n", err.msg);
		return GV_EXIT_REFUSED;
	}
	return GV_EXIT_OK;
}

int gv_cli_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return GV_EXIT_REFUSED;
	fputc('\n', stdout);
	return fflush(stdout) == 0 ? GV_EXIT_OK : GV_EXIT_REFUSED;
}

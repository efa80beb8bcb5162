/* Helpers every subcommand uses: usage errors, the daemon call with the
 * CLI's error reporting and exit codes. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
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

int gv_cli_getopt(const struct gv_cli *cli, int argc, char **argv, const char *shortopts,
		  const struct option *opts, bool *as_json, int *exit_code)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) == 'j' && as_json)
		*as_json = true;
	if (c == 'h') {
		gv_cli_help(cli->cmd, stdout);
		*exit_code = GV_EXIT_OK;
		return '?';
	}
	if (c == '?' || c == ':') {
		*exit_code = gv_cli_bad_option(cli, argv);
		return '?';
	}
	return c;
}

int gv_cli_parse_flags(const struct gv_cli *cli, int argc, char **argv, bool *as_json)
{
	static const struct option with_json[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int rc;

	/* without --json the option table is the one after it, help alone */
	if (gv_cli_getopt(cli, argc, argv, "+h", as_json ? with_json : with_json + 1, as_json,
			  &rc) != -1)
		return rc;
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	return GV_CLI_GO;
}

int gv_cli_exit_for(int rc)
{
	if (rc == 0)
		return GV_EXIT_OK;
	return rc == -ENOTCONN ? GV_EXIT_UNREACHABLE : GV_EXIT_REFUSED;
}

struct gv_client *gv_cli_client(struct gv_cli *cli)
{
	struct gv_err err = { 0 };

	if (!cli->client && gv_client_new(cli->socket, &cli->client, &err) < 0)
		fprintf(stderr, "gpuvisor: %s\n", err.msg);
	return cli->client;
}

int gv_cli_call(struct gv_cli *cli, const char *method, const char *path, json_t *body,
		json_t **out)
{
	struct gv_client *c = gv_cli_client(cli);
	struct gv_err err = { 0 };
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

char *gv_cli_path(struct gv_cli *cli, const char *prefix, const char *seg, const char *suffix)
{
	char *esc, *path = NULL;

	if (!gv_cli_client(cli))
		return NULL;
	esc = gv_client_escape(cli->client, seg);
	if (esc && asprintf(&path, "%s%s%s", prefix, esc, suffix) < 0)
		path = NULL;
	free(esc);
	return path;
}

int gv_cli_get_list(struct gv_cli *cli, const char *path, const char *key, bool as_json,
		    json_t **resp, json_t **list)
{
	int rc = gv_cli_call(cli, "GET", path, NULL, resp);

	*list = NULL;
	if (rc)
		return rc;
	if (as_json)
		return gv_cli_print_json(*resp);
	*list = json_object_get(*resp, key);
	if (!json_is_array(*list)) {
		*list = NULL;
		fprintf(stderr, "gpuvisor: gpuvisord's answer has no \"%s\" list\n", key);
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

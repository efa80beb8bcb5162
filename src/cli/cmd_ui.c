/* gpuvisor ui: a login link for the web console. Over the Unix socket
 * (which only root and the gpuvisor group reach) it asks gpuvisord for a
 * one-time ticket (POST /v1/session/ticket) and prints
 * http://ADDR/ui/login?ticket=T, ADDR being the daemon's TCP listener as
 * a browser on this host reaches it. The ticket is good once, for 60 s:
 * the link exchanges it for a session cookie and the address bar then
 * shows /ui/ only. */
#include "cli.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* A wildcard address is not one to browse to: the loopback address of
 * its family reaches the same listener. */
static void browsable(const char *listen, char *out, size_t cap)
{
	if (strncmp(listen, "0.0.0.0:", 8) == 0)
		snprintf(out, cap, "127.0.0.1:%s", listen + 8);
	else if (strncmp(listen, "[::]:", 5) == 0)
		snprintf(out, cap, "[::1]:%s", listen + 5);
	else
		snprintf(out, cap, "%s", listen);
}

/* xdg-open URL, its output out of the way; a failure is a note only: the
 * link is printed already. */
static void open_url(const char *url)
{
	char prog[] = "xdg-open";
	char *argv[] = { prog, (char *)url, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
		fputs("gpuvisor: no DISPLAY or WAYLAND_DISPLAY: open the link in a browser "
		      "yourself\n",
		      stderr);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "gpuvisor: cannot run xdg-open: %s\n", strerror(rc));
		return;
	}
	if (waitpid(pid, &st, 0) == pid && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		fputs("gpuvisor: xdg-open failed: open the link in a browser yourself\n", stderr);
}

static int ui_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "open", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *node = NULL, *tk = NULL;
	const char *listen, *ticket;
	char addr[160], *url = NULL;
	bool open = false;
	int c, rc;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, NULL, &rc)) != -1) {
		switch (c) {
		case 'o':
			open = true;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	rc = gv_cli_call(cli, "GET", "/v1/node", NULL, &node);
	if (rc != GV_EXIT_OK)
		goto out;
	listen = gv_json_str(node, "listen", NULL);
	if (!listen || !*listen) {
		fputs("gpuvisor: gpuvisord serves no TCP listener: start it with --listen "
		      "127.0.0.1:PORT\n",
		      stderr);
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "POST", "/v1/session/ticket", NULL, &tk);
	if (rc != GV_EXIT_OK)
		goto out;
	ticket = gv_json_str(tk, "ticket", NULL);
	if (!ticket || !*ticket || strspn(ticket, "0123456789abcdef") != strlen(ticket)) {
		fputs("gpuvisor: gpuvisord's answer has no ticket\n", stderr);
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	browsable(listen, addr, sizeof(addr));
	if (asprintf(&url, "http://%s/ui/login?ticket=%s", addr, ticket) < 0) {
		url = NULL;
		fputs("gpuvisor: out of memory\n", stderr);
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	printf("%s\n", url);
	fflush(stdout);
	if (open)
		open_url(url);
out:
	free(url);
	json_decref(tk);
	json_decref(node);
	return rc;
}

const struct gv_cmd gv_cmd_ui = {
	.name = "ui",
	.run = ui_run,
	.usage = "ui [--open]",
	.summary = "Print a one-time login link for the web console (docs/console.md).",
	.help = "  --open  also open it with xdg-open (when DISPLAY or WAYLAND_DISPLAY is set)\n"
		"\ngpuvisord must serve TCP (--listen 127.0.0.1:PORT). The link holds a ticket\n"
		"that is good once, for 60 seconds: opening it logs the browser in (a session\n"
		"cookie) and leaves /ui/ in the address bar. A wildcard listen address\n"
		"(0.0.0.0) is printed as 127.0.0.1.\n"
		"\nexample:\n  gpuvisor ui --open\n",
};

/* gpuvisor events: the daemon's event log. */
#include "cli.h"
#include "table.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int gv_cmd_events(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const hdr[] = {">SEQ", "TIME", "KIND", ">GPU", "INSTANCE", "MESSAGE"};
	struct gv_table *t = NULL;
	json_t *resp = NULL, *events, *e;
	char *path = NULL;
	bool as_json = false;
	int since = -1;
	size_t i;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (gv_parse_uint(optarg, &since) < 0)
				return gv_cli_usage_error(cli, "--since needs a sequence number, not '%s'",
							  optarg);
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			gv_cli_help(cli->cmd, stdout);
			return GV_EXIT_OK;
		default:
			return gv_cli_bad_option(cli, argv);
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (since >= 0 ? asprintf(&path, "/v1/events?since=%d", since) < 0
		       : !(path = strdup("/v1/events"))) {
		path = NULL;
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "GET", path, NULL, &resp);
	if (rc)
		goto out;
	if (as_json) {
		rc = gv_cli_print_json(resp);
		goto out;
	}
	events = json_object_get(resp, "events");
	if (!json_is_array(events)) {
		fprintf(stderr, "gpuvisor: gpuvisord's answer has no \"events\" list\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!t) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(events, i, e) {
		char seq[32], gpu[32];

		gv_json_int_text(e, "seq", seq, sizeof(seq));
		gv_json_int_text(e, "gpu", gpu, sizeof(gpu));
		gv_table_row(t);
		gv_table_cell(t, "%s", seq);
		gv_table_cell(t, "%s", gv_json_str(e, "time", "-"));
		gv_table_cell(t, "%s", gv_json_str(e, "kind", "-"));
		gv_table_cell(t, "%s", gpu);
		gv_table_cell(t, "%s", gv_json_str(e, "instance", "-"));
		gv_table_cell(t, "%s", gv_json_str(e, "message", ""));
	}
	if (gv_table_rows(t) == 0)
		printf("no events\n");
	else
		gv_table_print(t, stdout);
out:
	gv_table_free(t);
	json_decref(resp);
	free(path);
	return rc;
}

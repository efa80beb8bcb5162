/* gpuvisor events: the daemon's event log. */
#include "cli.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>

/* the most events GET /v1/events returns at once (docs/api.md) */
#define GV_EVENTS_PAGE 1000

static int events_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { ">SEQ", "TIME", "KIND", ">GPU", "INSTANCE", "MESSAGE" };
	struct gv_table *t = NULL;
	json_t *resp = NULL, *all = NULL, *events, *e;
	char *path = NULL;
	bool as_json = false;
	int since_arg = -1;
	json_int_t since;
	size_t i;
	int c, rc;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 's':
			if (gv_parse_uint(optarg, &since_arg) < 0)
				return gv_cli_usage_error(
					cli, "--since needs a sequence number, not '%s'", optarg);
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	since = since_arg < 0 ? 0 : since_arg;
	/* the daemon answers at most GV_EVENTS_PAGE events per call: page on
	 * from the last seq until a short page */
	all = json_array();
	if (!all) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	for (;;) {
		json_t *page, *ev;
		json_int_t last = since;
		size_t n;

		if (asprintf(&path, "/v1/events?since=%lld", (long long)since) < 0) {
			path = NULL;
			rc = GV_EXIT_REFUSED;
			goto out;
		}
		rc = gv_cli_get_list(cli, path, "events", false, &resp, &page);
		free(path);
		path = NULL;
		if (rc)
			goto out;
		n = json_array_size(page);
		json_array_foreach(page, i, ev) {
			if (json_array_append(all, ev) < 0) {
				rc = GV_EXIT_REFUSED;
				goto out;
			}
			last = json_integer_value(json_object_get(ev, "seq"));
		}
		json_decref(resp);
		resp = NULL;
		if (n < GV_EVENTS_PAGE || last <= since)
			break;
		since = last;
	}
	resp = json_pack("{s:O}", "events", all);
	if (!resp) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (as_json) {
		rc = gv_cli_print_json(resp);
		goto out;
	}
	events = all;
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
	gv_table_print_or(t, stdout, "no events");
out:
	gv_table_free(t);
	json_decref(resp);
	json_decref(all);
	free(path);
	return rc;
}

const struct gv_cmd gv_cmd_events = {
	.name = "events",
	.run = events_run,
	.usage = "events [--since N] [--json]",
	.summary = "Show the daemon's event log.",
	.help = "  --since N  only events with a sequence number above N\n"
		"  --json     print the daemon's JSON ({\"events\": [...]})\n"
		"\nexample:\n  gpuvisor events --since 10\n",
};

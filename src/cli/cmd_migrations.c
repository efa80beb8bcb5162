/* gpuvisor migrations: GET /v1/migrations as a table. */
#include "cli.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>

int gv_cmd_migrations(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const hdr[] = {"ID", "STATE", "FROM", "TO", "MODE", ">TOTAL_MS",
					  ">STUN_MS", "CREATED", "ERROR"};
	struct gv_table *t = NULL;
	json_t *resp = NULL, *m;
	bool as_json = false;
	size_t i;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
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
	rc = gv_cli_call(cli, "GET", "/v1/migrations", NULL, &resp);
	if (rc)
		goto out;
	if (as_json) {
		rc = gv_cli_print_json(resp);
		goto out;
	}
	t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!t) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(json_object_get(resp, "migrations"), i, m) {
		const json_t *s = json_object_get(m, "summary");
		json_t *tot = json_object_get(s, "total_ms"), *stun = json_object_get(s, "downtime_ms");

		gv_table_row(t);
		gv_table_cell(t, "%s", gv_json_str(m, "id", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "state", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "instance", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "destination", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "mode", "-"));
		if (json_is_number(tot))
			gv_table_cell(t, "%.1f", json_number_value(tot));
		else
			gv_table_cell(t, "-");
		if (json_is_number(stun))
			gv_table_cell(t, "%.1f", json_number_value(stun));
		else
			gv_table_cell(t, "-");
		gv_table_cell(t, "%s", gv_json_str(m, "created", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "error", ""));
	}
	if (gv_table_rows(t) == 0)
		printf("no migrations\n");
	else
		gv_table_print(t, stdout);
out:
	gv_table_free(t);
	json_decref(resp);
	return rc;
}

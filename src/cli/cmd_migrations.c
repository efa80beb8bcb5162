/* gpuvisor migrations: GET /v1/migrations as a table (with the highest
 * auto-converge throttle each migration applied). */
#include "cli.h"
#include "table.h"

#include <stdio.h>

int gv_cmd_migrations(struct gv_cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"ID", "STATE", "FROM", "TO", "MODE", ">TOTAL_MS",
					  ">STUN_MS", ">THROTTLE", "CREATED", "ERROR"};
	struct gv_table *t = NULL;
	json_t *resp = NULL, *m;
	bool as_json = false;
	size_t i;
	int rc;

	rc = gv_cli_parse_flags(cli, argc, argv, &as_json);
	if (rc != GV_CLI_GO)
		return rc;
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
		json_t *thr = json_object_get(s, "throttle_max_pct");

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
		/* the highest auto-converge throttle; "-" when none was applied */
		if (json_is_integer(thr) && json_integer_value(thr) > 0)
			gv_table_cell(t, "%lld%%", (long long)json_integer_value(thr));
		else
			gv_table_cell(t, "-");
		gv_table_cell(t, "%s", gv_json_str(m, "created", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "error", ""));
	}
	gv_table_print_or(t, stdout, "no migrations");
out:
	gv_table_free(t);
	json_decref(resp);
	return rc;
}

/* gpuvisor migrations: GET /v1/migrations as a table (with the highest
 * auto-converge throttle each migration applied). */
#include "cli.h"
#include "table.h"

#include <stdio.h>

/* A number with one decimal, "-" when absent. */
static void ms_cell(struct gv_table *t, const json_t *v)
{
	if (json_is_number(v))
		gv_table_cell(t, "%.1f", json_number_value(v));
	else
		gv_table_cell(t, "-");
}

int gv_cmd_migrations(struct gv_cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"ID", "STATE", "FROM", "TO", "MODE", ">TOTAL_MS",
					  ">STUN_MS", ">THROTTLE", "CREATED", "ERROR"};
	struct gv_table *t = NULL;
	json_t *resp = NULL, *list, *m;
	bool as_json = false;
	size_t i;
	int rc;

	rc = gv_cli_parse_flags(cli, argc, argv, &as_json);
	if (rc != GV_CLI_GO)
		return rc;
	rc = gv_cli_get_list(cli, "/v1/migrations", "migrations", as_json, &resp, &list);
	if (rc || !list)
		goto out;
	t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!t) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(list, i, m) {
		const json_t *s = json_object_get(m, "summary");
		json_t *thr = json_object_get(s, "throttle_max_pct");

		gv_table_row(t);
		gv_table_cell(t, "%s", gv_json_str(m, "id", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "state", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "instance", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "destination", "-"));
		gv_table_cell(t, "%s", gv_json_str(m, "mode", "-"));
		ms_cell(t, json_object_get(s, "total_ms"));
		ms_cell(t, json_object_get(s, "downtime_ms"));
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

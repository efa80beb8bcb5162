/* gpuvisor migrations: GET /v1/migrations as a table (with the highest
 * auto-converge throttle each migration applied). */
#include "cli.h"
#include "listing.h"

#include <stdio.h>

/* A number with one decimal, "-" when absent. */
static void ms_cell(struct gv_table *t, const json_t *v)
{
	if (json_is_number(v))
		gv_table_cell(t, "%.1f", json_number_value(v));
	else
		gv_table_cell(t, "-");
}

static void migrations_row(struct gv_table *t, const json_t *m)
{
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

static int migrations_run(struct gv_cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {
		"ID",	     "STATE",	 "FROM",      "TO",	 "MODE",
		">TOTAL_MS", ">STUN_MS", ">THROTTLE", "CREATED", "ERROR"
	};
	static const struct gv_listing l = {
		.path = "/v1/migrations",
		.key = "migrations",
		.header = hdr,
		.n_cols = sizeof(hdr) / sizeof(hdr[0]),
		.row = migrations_row,
		.empty = "no migrations",
	};

	return gv_cli_listing(cli, argc, argv, &l);
}

const struct gv_cmd gv_cmd_migrations = {
	.name = "migrations",
	.run = migrations_run,
	.usage = "migrations [--json]",
	.summary = "List migrations: state, instances, times.",
	.help = "  --json  print the daemon's JSON ({\"migrations\": [...]})\n"
		"\nexample:\n  gpuvisor migrations\n",
};

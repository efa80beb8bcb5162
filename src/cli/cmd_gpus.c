/* gpuvisor gpus: the node's GPUs as a table (or the daemon's JSON). */
#include "cli.h"
#include "listing.h"

#include <inttypes.h>

static const char *gv_gpus_mig_text(const json_t *g, char *buf, size_t len)
{
	const char *slots = gv_json_str(g, "mig_slots", NULL);

	if (!json_is_true(json_object_get(g, "mig_capable")))
		return "n/a";
	if (!json_is_true(json_object_get(g, "mig_mode")))
		return "off";
	if (!slots)
		return "on";
	snprintf(buf, len, "on (%s)", slots);
	return buf;
}

static const char *gv_gpus_model_text(const json_t *g, char *buf, size_t len)
{
	const char *model = gv_json_str(g, "model", NULL);
	const char *by = gv_json_str(g, "matched_by", NULL);

	if (!model)
		return "unknown";
	if (by)
		snprintf(buf, len, "%s (by %s)", model, by);
	else
		snprintf(buf, len, "%s", model);
	return buf;
}

static void gpus_row(struct gv_table *t, const json_t *g)
{
	char idx[32], n[32], mem[32], alloc[32], freeb[32], model[128], mig[128];

	gv_json_int_text(g, "index", idx, sizeof(idx));
	gv_json_int_text(g, "instances", n, sizeof(n));
	gv_fmt_mib((uint64_t)json_integer_value(json_object_get(g, "mem_mib")), mem, sizeof(mem));
	gv_fmt_mib((uint64_t)json_integer_value(json_object_get(g, "allocated_mib")), alloc,
		   sizeof(alloc));
	gv_fmt_mib((uint64_t)json_integer_value(json_object_get(g, "free_mib")), freeb,
		   sizeof(freeb));
	gv_table_row(t);
	gv_table_cell(t, "%s", idx);
	gv_table_cell(t, "%s", gv_json_str(g, "name", "-"));
	gv_table_cell(t, "%s", gv_gpus_model_text(g, model, sizeof(model)));
	gv_table_cell(t, "%s", gv_json_str(g, "mode", "-"));
	gv_table_cell(t, "%s", mem);
	gv_table_cell(t, "%s", alloc);
	gv_table_cell(t, "%s", freeb);
	gv_table_cell(t, "%s", n);
	gv_table_cell(t, "%s", gv_gpus_mig_text(g, mig, sizeof(mig)));
	gv_table_cell(t, "%s", gv_json_str(g, "uuid", "-"));
}

/* Below the table (no rows means no GPUs, so no unknown models). */
static void gpus_after(const json_t *gpus)
{
	const json_t *g;
	size_t i;

	json_array_foreach(gpus, i, g) {
		char idx[32];

		if (gv_json_str(g, "model", NULL))
			continue;
		gv_json_int_text(g, "index", idx, sizeof(idx));
		printf("gpu %s: unknown model: passthrough/timeslice with --framebuffer only\n",
		       idx);
	}
}

static int gpus_run(struct gv_cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = { ">GPU",	 "NAME",  "MODEL",	"MODE", ">MEMORY",
					   ">ALLOCATED", ">FREE", ">INSTANCES", "MIG",	"UUID" };
	static const struct gv_listing l = {
		.path = "/v1/gpus",
		.key = "gpus",
		.header = hdr,
		.n_cols = sizeof(hdr) / sizeof(hdr[0]),
		.row = gpus_row,
		.empty = "no GPUs",
		.after = gpus_after,
	};

	return gv_cli_listing(cli, argc, argv, &l);
}

const struct gv_cmd gv_cmd_gpus = {
	.name = "gpus",
	.run = gpus_run,
	.usage = "gpus [--json]",
	.summary = "List the node's GPUs: model match, mode, memory, instances.",
	.help = "  --json   print the daemon's JSON ({\"gpus\": [...]})\n"
		"\nA GPU whose model is not in the catalog shows \"unknown model\": it works in\n"
		"passthrough, and in timeslice with `create --framebuffer SIZE`.\n"
		"\nexample:\n  gpuvisor gpus\n",
};

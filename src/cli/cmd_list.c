/* gpuvisor list: instances with their device, workload and memory in use. */
#include "cli.h"

#include <string.h>

#include "listing.h"

static void list_row(struct gv_table *t, const json_t *in)
{
	const json_t *wl = json_object_get(in, "workload");
	char gpu[32], start[32], fb[32], pid[32] = "-", used[32] = "-", span[256] = "-";

	gv_json_int_text(in, "gpu", gpu, sizeof(gpu));
	gv_json_int_text(in, "start", start, sizeof(start));
	gv_fmt_mib((uint64_t)json_integer_value(json_object_get(in, "fb_mib")), fb, sizeof(fb));
	if (json_is_object(wl)) {
		const char *ws = gv_json_str(wl, "state", "running");

		gv_json_int_text(wl, "pid", pid, sizeof(pid));
		/* a suspended workload's memory is in host memory */
		if (strcmp(ws, "running"))
			snprintf(pid + strlen(pid), sizeof(pid) - strlen(pid), " (%s)", ws);
		/* a workload on several instances: all of them, in its order */
		if (json_is_array(json_object_get(wl, "span"))) {
			const json_t *m;
			size_t k;

			span[0] = '\0';
			json_array_foreach(json_object_get(wl, "span"), k, m)
				snprintf(span + strlen(span), sizeof(span) - strlen(span), "%s%s",
					 k ? "," : "",
					 json_string_value(m) ? json_string_value(m) : "?");
		}
	}
	/* the instance's accounting (timeslice), else the workload's; null
	 * means not measured, which is not 0 */
	if (json_is_integer(json_object_get(in, "mem_used_bytes")))
		gv_fmt_bytes((uint64_t)json_integer_value(json_object_get(in, "mem_used_bytes")),
			     used, sizeof(used));
	else if (json_is_object(wl) && json_is_integer(json_object_get(wl, "mem_used_bytes")))
		gv_fmt_bytes((uint64_t)json_integer_value(json_object_get(wl, "mem_used_bytes")),
			     used, sizeof(used));
	gv_table_row(t);
	gv_table_cell(t, "%s", gv_json_str(in, "id", "-"));
	gv_table_cell(t, "%s", gpu);
	gv_table_cell(t, "%s", gv_json_str(in, "profile", "-"));
	gv_table_cell(t, "%s", gv_json_str(in, "kind", "-"));
	gv_table_cell(t, "%s", start);
	gv_table_cell(t, "%s", fb);
	gv_table_cell(t, "%s", gv_json_str(in, "state", "-"));
	gv_table_cell(t, "%s", gv_json_str(in, "device_uuid", "-"));
	gv_table_cell(t, "%s", pid);
	gv_table_cell(t, "%s", span);
	gv_table_cell(t, "%s", used);
}

static int list_run(struct gv_cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = { "ID",	 ">GPU",	 "PROFILE",  "KIND",
					   ">PLACEMENT", ">FRAMEBUFFER", "STATE",    "DEVICE",
					   ">PID",	 "SPAN",	 ">MEM USED" };
	static const struct gv_listing l = {
		.path = "/v1/instances",
		.key = "instances",
		.header = hdr,
		.n_cols = sizeof(hdr) / sizeof(hdr[0]),
		.row = list_row,
		.empty = "no instances",
	};

	return gv_cli_listing(cli, argc, argv, &l);
}

const struct gv_cmd gv_cmd_list = {
	.name = "list",
	.run = list_run,
	.usage = "list [--json]",
	.summary = "List instances with their device, workload and memory in use.",
	.help = "  --json  print the daemon's JSON ({\"instances\": [...]})\n"
		"\nexample:\n  gpuvisor list\n",
};

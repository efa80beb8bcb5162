/* gpuvisor profiles: per GPU, each profile with its kind, framebuffer, max and
 * how many more fit now (nvidia-smi mig -lgip's free/total). */
#include "cli.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>

static void gv_profiles_starts(const json_t *p, char *buf, size_t len)
{
	const json_t *starts = json_object_get(p, "starts");
	const json_t *s;
	size_t i, off = 0;

	buf[0] = '\0';
	if (!json_is_array(starts) || json_array_size(starts) == 0) {
		snprintf(buf, len, "-");
		return;
	}
	json_array_foreach(starts, i, s) {
		int n = snprintf(buf + off, len - off, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
				 json_integer_value(s));

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static int profiles_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gpu", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = {
		">GPU",	 "PROFILE",	    "KIND",  ">FRAMEBUFFER", ">MAX",
		">FREE", ">SLICES(CI/MEM)", "STARTS"
	};
	struct gv_table *t = NULL;
	json_t *resp = NULL, *profiles, *p;
	const char *gpu = NULL;
	char *path = NULL;
	bool as_json = false;
	size_t i;
	int c, rc;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 'g':
			gpu = optarg;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (gpu && !*gpu)
		return gv_cli_usage_error(cli, "--gpu needs an index or a UUID");

	if (gpu && !(path = gv_cli_path(cli, "/v1/profiles?gpu=", gpu, ""))) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_get_list(cli, path ? path : "/v1/profiles", "profiles", as_json, &resp,
			     &profiles);
	if (rc || !profiles)
		goto out;
	t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!t) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(profiles, i, p) {
		char g[32], fb[32], max[64], mx[32], freen[32], ci[32], mem[32], starts[64];
		const json_t *mixed = json_object_get(p, "max_mixed");

		gv_json_int_text(p, "gpu", g, sizeof(g));
		gv_json_int_text(p, "max", mx, sizeof(mx));
		gv_json_int_text(p, "free", freen, sizeof(freen));
		gv_json_int_text(p, "compute_slices", ci, sizeof(ci));
		gv_json_int_text(p, "mem_slices", mem, sizeof(mem));
		gv_fmt_mib((uint64_t)json_integer_value(json_object_get(p, "fb_mib")), fb,
			   sizeof(fb));
		/* the mixed-size maximum only when it differs (vGPU docs' "5/4") */
		if (json_is_integer(mixed) &&
		    json_integer_value(mixed) != json_integer_value(json_object_get(p, "max")))
			snprintf(max, sizeof(max), "%s (mixed %" JSON_INTEGER_FORMAT ")", mx,
				 json_integer_value(mixed));
		else
			snprintf(max, sizeof(max), "%s", mx);
		gv_profiles_starts(p, starts, sizeof(starts));
		gv_table_row(t);
		gv_table_cell(t, "%s", g);
		gv_table_cell(t, "%s", gv_json_str(p, "name", "-"));
		gv_table_cell(t, "%s", gv_json_str(p, "kind", "-"));
		gv_table_cell(t, "%s", fb);
		gv_table_cell(t, "%s", max);
		gv_table_cell(t, "%s", freen);
		if (strcmp(ci, "-") == 0 && strcmp(mem, "-") == 0)
			gv_table_cell(t, "-");
		else
			gv_table_cell(t, "%s/%s", ci, mem);
		gv_table_cell(t, "%s", starts);
	}
	gv_table_print_or(t, stdout, "no profiles");
out:
	gv_table_free(t);
	json_decref(resp);
	free(path);
	return rc;
}

const struct gv_cmd gv_cmd_profiles = {
	.name = "profiles",
	.run = profiles_run,
	.usage = "profiles [--gpu GPU] [--json]",
	.summary =
		"List each GPU's profiles and how many more fit now (like nvidia-smi mig -lgip).",
	.help = "  --gpu GPU  only this GPU (index or UUID)\n"
		"  --json     print the daemon's JSON ({\"profiles\": [...]})\n"
		"\nFREE is how many more instances of the profile fit on the GPU now, given\n"
		"its mode and its instances (0 when the mode does not take that kind).\n"
		"\nexample:\n  gpuvisor profiles --gpu 0\n",
};

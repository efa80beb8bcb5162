/* gpuvisor advise: POST /v1/advise. The recommendation in one line, its
 * placement table, the reasons, the commands that apply it, and the
 * alternatives when it does not fit now. Changes nothing. */
#include "cli.h"
#include "table.h"

#include "gpuvisor/advise.h"

#include <string.h>

/* "mig 3g.40gb on gpu 0 at slot 4" / "timeslice h100-8c x3 on gpus 0, 1" */
static void advise_summary(const json_t *o, char *buf, size_t len)
{
	const json_t *reps = json_object_get(o, "replicas");
	const json_t *s;
	size_t n = json_array_size(reps), i, off;
	const char *profile = gv_json_str(o, "profile", NULL);
	char gpu[32], start[32];

	off = (size_t)snprintf(buf, len, "%s", gv_json_str(o, "mode", "?"));
	if (profile && strcmp(profile, gv_json_str(o, "mode", "")) != 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, " %s", profile);
	if (n > 1 && off < len)
		off += (size_t)snprintf(buf + off, len - off, " x%zu", n);
	if (n == 1 && off < len) {
		gv_json_int_text(o, "gpu", gpu, sizeof(gpu));
		gv_json_int_text(o, "placement", start, sizeof(start));
		off += (size_t)snprintf(buf + off, len - off, " on gpu %s", gpu);
		if (strcmp(start, "-") != 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, " at slot %s", start);
	} else if (n > 1 && off < len) {
		int last = -1;

		off += (size_t)snprintf(buf + off, len - off, " on gpus ");
		/* replicas are listed in placement order; name each GPU once */
		json_array_foreach(reps, i, s) {
			int g = (int)json_integer_value(json_object_get(s, "gpu"));
			size_t j;
			bool seen = false;

			for (j = 0; j < i; j++)
				seen |= json_integer_value(json_object_get(json_array_get(reps, j),
									   "gpu")) == g;
			if (seen || off >= len)
				continue;
			off += (size_t)snprintf(buf + off, len - off, "%s%d", last >= 0 ? ", " : "",
						g);
			last = g;
		}
	}
}

static void advise_list(const char *title, const json_t *arr, const char *bullet)
{
	const json_t *s;
	size_t i;

	if (json_array_size(arr) == 0)
		return;
	printf("\n%s\n", title);
	json_array_foreach(arr, i, s)
		printf("%s%s\n", bullet, json_is_string(s) ? json_string_value(s) : "?");
}

static int advise_table(const json_t *o)
{
	static const char *const hdr[] = { ">REPLICA", ">GPU",	"PROFILE",
					   "KIND",     ">SLOT", ">FRAMEBUFFER" };
	const json_t *reps = json_object_get(o, "replicas"), *s;
	struct gv_table *t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	size_t i;

	if (!t) {
		fprintf(stderr, "gpuvisor: out of memory\n");
		return GV_EXIT_REFUSED;
	}
	json_array_foreach(reps, i, s) {
		char rep[32], gpu[32], slot[32], fb[32];

		gv_json_int_text(s, "replica", rep, sizeof(rep));
		gv_json_int_text(s, "gpu", gpu, sizeof(gpu));
		gv_json_int_text(s, "placement", slot, sizeof(slot));
		gv_fmt_mib((uint64_t)json_integer_value(json_object_get(s, "fb_mib")), fb,
			   sizeof(fb));
		gv_table_row(t);
		gv_table_cell(t, "%s", rep);
		gv_table_cell(t, "%s", gpu);
		gv_table_cell(t, "%s", gv_json_str(s, "profile", "-"));
		gv_table_cell(t, "%s", gv_json_str(s, "kind", "-"));
		gv_table_cell(t, "%s", slot);
		gv_table_cell(t, "%s", fb);
	}
	if (gv_table_rows(t) > 0) {
		printf("\n");
		gv_table_print(t, stdout);
	}
	gv_table_free(t);
	return GV_EXIT_OK;
}

static int advise_print(const json_t *adv)
{
	const json_t *alts = json_object_get(adv, "alternatives"), *a;
	char line[512];
	size_t i;
	int rc;

	advise_summary(adv, line, sizeof(line));
	printf("recommended: %s%s\n", line,
	       json_is_true(json_object_get(adv, "fits_now")) ? " (fits now)"
							      : " (does not fit now)");
	rc = advise_table(adv);
	advise_list("reasons:", json_object_get(adv, "reasons"), "  - ");
	advise_list("to apply it:", json_object_get(adv, "commands"), "  ");
	json_array_foreach(alts, i, a) {
		advise_summary(a, line, sizeof(line));
		printf("\nalternative %zu: %s\n", i + 1, line);
		if (rc == GV_EXIT_OK)
			rc = advise_table(a);
		advise_list("reasons:", json_object_get(a, "reasons"), "  - ");
		advise_list("to apply it:", json_object_get(a, "commands"), "  ");
	}
	return rc;
}

static int advise_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "memory", required_argument, NULL, 'm' },
		{ "untrusted", no_argument, NULL, 'u' },
		{ "latency-sensitive", no_argument, NULL, 'l' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "gpu", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *workload = NULL, *gpu = NULL;
	uint64_t mem_mib = 0;
	bool untrusted = false, latency = false, as_json = false;
	int replicas = 1, c, rc;
	json_t *body = NULL, *adv = NULL;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 'w':
			if (gv_advise_workload_parse(optarg, NULL, NULL) < 0)
				return gv_cli_usage_error(
					cli,
					"--workload must be training, inference or dev, not '%s'",
					optarg);
			workload = optarg;
			break;
		case 'm':
			if (gv_parse_size_mib(optarg, &mem_mib) < 0)
				return gv_cli_usage_error(
					cli, "--memory needs a size like 20g or 512m, not '%s'",
					optarg);
			break;
		case 'u':
			untrusted = true;
			break;
		case 'l':
			latency = true;
			break;
		case 'r':
			if (gv_parse_uint(optarg, &replicas) < 0 || replicas < 1 || replicas > 64)
				return gv_cli_usage_error(
					cli, "--replicas needs a number from 1 to 64, not '%s'",
					optarg);
			break;
		case 'g':
			gpu = optarg;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!workload)
		return gv_cli_usage_error(cli,
					  "--workload is required (training, inference or dev)");
	if (!mem_mib)
		return gv_cli_usage_error(
			cli, "--memory is required (the GPU memory it needs, e.g. 20g)");
	if (gpu && !*gpu)
		return gv_cli_usage_error(cli, "--gpu needs an index or a UUID");

	body = json_pack("{s:s, s:I, s:b, s:b, s:i}", "workload", workload, "memory_mib",
			 (json_int_t)mem_mib, "trusted", !untrusted, "latency_sensitive", latency,
			 "replicas", replicas);
	if (!body || (gpu && json_object_set_new(body, "gpu", json_string(gpu)) < 0)) {
		fprintf(stderr, "gpuvisor: out of memory\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "POST", "/v1/advise", body, &adv);
	if (rc)
		goto out;
	rc = as_json ? gv_cli_print_json(adv) : advise_print(adv);
out:
	json_decref(body);
	json_decref(adv);
	return rc;
}

const struct gv_cmd gv_cmd_advise = {
	.name = "advise",
	.run = advise_run,
	.usage = "advise --workload training|inference|dev --memory SIZE [--untrusted] "
		 "[--latency-sensitive] [--replicas N] [--gpu GPU] [--json]",
	.summary =
		"Recommend mode, profile and placement for a workload on this node (changes nothing).",
	.help = "  --workload W          training, inference (production) or dev (dev/test)\n"
		"  --memory SIZE         GPU memory one replica needs: 20g, 512m\n"
		"  --untrusted           the tenants on this node do not trust each other\n"
		"  --latency-sensitive   steady latency matters (no waiting for others' time slices)\n"
		"  --replicas N          replicas, 1-64, spread over GPUs when possible (default 1)\n"
		"  --gpu GPU             consider only this GPU (index or UUID)\n"
		"  --json                print the daemon's JSON answer\n"
		"\nThe rules: time slicing for training and dev/test, MIG for production inference\n"
		"and for tenants that do not trust each other, passthrough for one workload at full\n"
		"performance (one that needs a whole GPU, or latency-sensitive training). The answer\n"
		"says whether it fits now, why, the commands that apply it, and alternatives (such as\n"
		"switching an empty GPU's mode) when it does not fit. Exit status 0 whether or not\n"
		"it fits.\n"
		"\nexamples:\n"
		"  gpuvisor advise --workload inference --memory 30g --latency-sensitive\n"
		"  gpuvisor advise --workload training --memory 16g --replicas 4\n",
};

/* gpuvisor sched GPU [--policy P] [--slice-ms N] [--weight INSTANCE=W]...
 * [--json]: the time-slice scheduler of a timeslice GPU. Changes go
 * through PUT /v1/instances/ID/weight and PUT /v1/gpus/GPU/sched; the GPU's
 * scheduler (GET /v1/gpus/GPU/sched) is printed afterwards either way. */
#include "cli.h"
#include "table.h"

#include "gpuvisor/sched.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GV_SCHED_MAX_WEIGHTS 32

struct gv_sched_weight {
	const char *id;
	int weight;
};

/* "12.345 s" / "850 ms" from nanoseconds. */
static void gv_sched_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000000ull)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

static uint64_t gv_sched_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

static int gv_sched_print(const json_t *s)
{
	static const char *const hdr[] = { "INSTANCE",	">WEIGHT",  ">FIXED SHARE", ">LAST 1s",
					   ">GPU TIME", ">WAITING", ">SLICES",	    ">OVERRUNS",
					   ">REVOKED",	">PROCS",   "NOW" };
	const json_t *tenants = json_object_get(s, "tenants"), *t;
	const char *pol = gv_json_str(s, "policy", "-"),
		   *pif = gv_json_str(s, "policy_in_force", "-");
	struct gv_table *tab;
	char gpu[32], ms[32], msif[32];
	size_t i;

	gv_json_int_text(s, "gpu", gpu, sizeof(gpu));
	gv_json_int_text(s, "slice_ms", ms, sizeof(ms));
	gv_json_int_text(s, "slice_ms_in_force", msif, sizeof(msif));
	printf("gpu %s (%s): %s, slice %s ms", gpu, gv_json_str(s, "uuid", "-"), pol, ms);
	if (strcmp(pol, pif) != 0 || strcmp(ms, msif) != 0)
		printf(" (at the next handover; now %s, %s ms)", pif, msif);
	printf("\n");
	if (!json_is_array(tenants) || json_array_size(tenants) == 0) {
		printf("no tenants (create timeslice instances on this GPU)\n");
		return GV_EXIT_OK;
	}
	tab = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!tab)
		return GV_EXIT_REFUSED;
	json_array_foreach(tenants, i, t) {
		char used[32], wait[32];
		bool holding = json_is_true(json_object_get(t, "holding"));
		bool waiting = json_is_true(json_object_get(t, "waiting"));

		gv_sched_fmt_ns(gv_sched_u64(t, "gpu_time_ns"), used, sizeof(used));
		gv_sched_fmt_ns(gv_sched_u64(t, "wait_ns"), wait, sizeof(wait));
		gv_table_row(tab);
		gv_table_cell(tab, "%s", gv_json_str(t, "instance", "-"));
		gv_table_cell(tab, "%" PRIu64, gv_sched_u64(t, "weight"));
		gv_table_cell(tab, "%.1f%%", gv_sched_u64(t, "share_ppm") / 1e4);
		gv_table_cell(tab, "%.1f%%",
			      json_number_value(json_object_get(t, "share_last_s")) * 100);
		gv_table_cell(tab, "%s", used);
		gv_table_cell(tab, "%s", wait);
		gv_table_cell(tab, "%" PRIu64, gv_sched_u64(t, "slices"));
		gv_table_cell(tab, "%" PRIu64, gv_sched_u64(t, "overruns"));
		gv_table_cell(tab, "%" PRIu64, gv_sched_u64(t, "revocations"));
		gv_table_cell(tab, "%" PRIu64, gv_sched_u64(t, "processes"));
		gv_table_cell(tab, "%s", holding ? "holding" : waiting ? "waiting" : "-");
	}
	gv_table_print(tab, stdout);
	gv_table_free(tab);
	return GV_EXIT_OK;
}

static int gv_sched_parse_weight(struct gv_cli *cli, const char *arg, struct gv_sched_weight *w)
{
	const char *eq = strrchr(arg, '=');
	int v;

	if (!eq || eq == arg)
		return gv_cli_usage_error(cli, "--weight wants INSTANCE=W, not '%s'", arg);
	if (gv_parse_uint(eq + 1, &v) != 0 || v < 1 || v > 100)
		return gv_cli_usage_error(cli, "--weight %s: the weight is 1 to 100", arg);
	w->id = arg;
	w->weight = v;
	return 0;
}

static int sched_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "slice-ms", required_argument, NULL, 's' },
		{ "weight", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gv_sched_weight weights[GV_SCHED_MAX_WEIGHTS];
	const char *policy = NULL;
	json_t *body = NULL, *resp = NULL;
	char *path = NULL;
	bool as_json = false;
	int c, rc = GV_EXIT_OK, slice = -1, n_w = 0, i;

	while ((c = gv_cli_getopt(cli, argc, argv, "h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 'p':
			if (gv_sched_policy_parse(optarg, NULL, NULL) < 0)
				return gv_cli_usage_error(
					cli,
					"unknown policy '%s': best-effort, equal-share or fixed-share",
					optarg);
			policy = optarg;
			break;
		case 's':
			if (gv_parse_uint(optarg, &slice) != 0 || slice < 1 || slice > 30)
				return gv_cli_usage_error(cli, "--slice-ms is 1 to 30, not '%s'",
							  optarg);
			break;
		case 'w':
			if (n_w == GV_SCHED_MAX_WEIGHTS)
				return gv_cli_usage_error(cli, "at most %d --weight options",
							  GV_SCHED_MAX_WEIGHTS);
			rc = gv_sched_parse_weight(cli, optarg, &weights[n_w]);
			if (rc)
				return rc;
			n_w++;
			break;
		default:
			return rc;
		}
	}
	if (argc - optind != 1)
		return gv_cli_usage_error(cli, "sched takes one GPU (index or UUID)");
	if (!*argv[optind])
		return gv_cli_usage_error(cli, "the GPU is an index or a UUID");
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;

	for (i = 0; i < n_w; i++) {
		char *id = strndup(weights[i].id,
				   (size_t)(strrchr(weights[i].id, '=') - weights[i].id));
		char *wpath = id ? gv_cli_path(cli, "/v1/instances/", id, "/weight") : NULL;

		body = json_pack("{s:i}", "weight", weights[i].weight);
		if (!wpath || !body) {
			rc = GV_EXIT_REFUSED;
		} else {
			rc = gv_cli_call(cli, "PUT", wpath, body, &resp);
		}
		free(id);
		free(wpath);
		json_decref(body);
		json_decref(resp);
		body = resp = NULL;
		if (rc)
			return rc;
	}

	path = gv_cli_path(cli, "/v1/gpus/", argv[optind], "/sched");
	if (!path) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (policy || slice > 0) {
		body = json_object();
		if (!body || (policy && json_object_set_new(body, "policy", json_string(policy))) ||
		    (slice > 0 && json_object_set_new(body, "slice_ms", json_integer(slice)))) {
			rc = GV_EXIT_REFUSED;
			goto out;
		}
		rc = gv_cli_call(cli, "PUT", path, body, &resp);
	} else {
		rc = gv_cli_call(cli, "GET", path, NULL, &resp);
	}
	if (rc)
		goto out;
	rc = as_json ? gv_cli_print_json(resp) : gv_sched_print(resp);
out:
	json_decref(body);
	json_decref(resp);
	free(path);
	return rc;
}

const struct gv_cmd gv_cmd_sched = {
	.name = "sched",
	.run = sched_run,
	.usage = "sched GPU [--policy P] [--slice-ms N] [--weight INSTANCE=W]... [--json]",
	.summary = "Show or set the time-slice scheduler of a timeslice GPU.",
	.help = "  --policy P          best-effort (round robin among instances with work; the\n"
		"                      default), equal-share (equal GPU time among instances\n"
		"                      with work), fixed-share (each instance gets 1/max count\n"
		"                      of its profile, busy or not; not in mixed-size mode)\n"
		"  --slice-ms N        time slice, 1 to 30 ms (default 2)\n"
		"  --weight INST=W     weight 1-100 of a timeslice instance (default 1): W times\n"
		"                      the time under equal-share, W times the share under\n"
		"                      fixed-share, W-slice turns under best-effort; repeatable\n"
		"  --json              print the daemon's JSON (GET /v1/gpus/GPU/sched)\n"
		"\nWithout options it shows the GPU's policy and, per instance (tenant), its\n"
		"weight, fixed share, share of the last second, GPU time, time spent waiting,\n"
		"slices, overruns, revocations and attached processes. A change is in force\n"
		"from the next handover (within a slice plus the running kernel).\n"
		"\nexamples:\n"
		"  gpuvisor sched 0\n"
		"  gpuvisor sched 0 --policy equal-share --slice-ms 5\n"
		"  gpuvisor sched 0 --weight i-3=2\n",
};

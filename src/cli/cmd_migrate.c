/* gpuvisor migrate INSTANCE --to GPU|INSTANCE [--auto-converge]: POST /v1/migrations, then
 * follow GET /v1/migrations/ID/progress until the migration ends, printing
 * each progress event, and print the report (GET /v1/migrations/ID).
 * Exit 0 only when the workload runs on the destination. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GV_MIGRATE_POLL_MS 100

static json_int_t gv_mig_int(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static double gv_mig_num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0.0;
}

static void gv_mig_bytes(const json_t *o, const char *key, char *buf, size_t len)
{
	gv_fmt_bytes((uint64_t)gv_mig_int(o, key), buf, len);
}

/* "round 2 (precopy): state 4.0 GiB, 12.0 MiB dirty at 3.4 MiB/s, 4.1 GiB
 * copied in all, copy 812 MiB/s, expected downtime 12.3 ms"; in the stun
 * "stun: state ..., ... dirty, ... copied in all, copy ..." (copied counts
 * every round, so it exceeds the state once chunks were copied again). */
static void gv_mig_print_progress(const json_t *p)
{
	char total[32], copied[32], dirty[32], rate[32], bw[32];
	json_int_t thr = gv_mig_int(p, "throttle_pct");
	const char *phase = gv_json_str(p, "phase", "?");

	gv_mig_bytes(p, "bytes_total", total, sizeof(total));
	gv_mig_bytes(p, "bytes_copied", copied, sizeof(copied));
	gv_mig_bytes(p, "bytes_dirty", dirty, sizeof(dirty));
	gv_mig_bytes(p, "dirty_rate_bps", rate, sizeof(rate));
	gv_mig_bytes(p, "bandwidth_bps", bw, sizeof(bw));
	if (!strcmp(phase, "stun"))
		printf("stun: state %s, %s dirty, %s copied in all, copy %s/s", total, dirty,
		       copied, bw);
	else
		printf("round %lld (%s): state %s, %s dirty at %s/s, %s copied in all, copy %s/s, "
		       "expected downtime %.1f ms",
		       (long long)gv_mig_int(p, "round"), phase, total, dirty, rate, copied, bw,
		       gv_mig_num(p, "expected_downtime_ms"));
	if (thr > 0)
		printf(", throttle %lld%%", (long long)thr);
	putchar('\n');
	fflush(stdout);
}

/* "throttle         up to 50% (auto-converge)": the highest throttle the
 * engine applied; said only when auto-converge was asked for or used. */
static void gv_mig_print_throttle(const json_t *r)
{
	json_int_t max = gv_mig_int(r, "throttle_max_pct");
	bool asked = json_is_true(json_object_get(r, "auto_converge"));

	if (max > 0)
		printf("  throttle         up to %lld%%%s\n", (long long)max,
		       asked ? " (auto-converge)" : "");
	else if (asked)
		printf("  throttle         none (auto-converge on, not needed)\n");
}

static void gv_mig_print_report(const json_t *m)
{
	const json_t *r = json_object_get(m, "report");
	const char *state = gv_json_str(m, "state", "?");
	char pre[32], stun[32], total[32], rate[32], bw[32];

	printf("migration %s %s: %s -> %s (%s)\n", gv_json_str(m, "id", "?"), state,
	       gv_json_str(m, "instance", "?"), gv_json_str(m, "destination", "-"),
	       gv_json_str(m, "mode", "?"));
	if (json_is_object(r) && !strcmp(gv_json_str(r, "mode", ""), "checkpoint")) {
		/* the driver moved everything while the workload was stopped */
		printf("  total time       %.1f ms\n", gv_mig_num(r, "total_ms"));
		printf("  stopped          %.1f ms (lock %.1f, checkpoint %.1f, restore %.1f, "
		       "unlock %.1f ms)\n",
		       gv_mig_num(r, "downtime_ms"), gv_mig_num(r, "lock_ms"),
		       gv_mig_num(r, "checkpoint_ms"), gv_mig_num(r, "restore_ms"),
		       gv_mig_num(r, "unlock_ms"));
		if (json_is_array(json_object_get(r, "pairs"))) {
			const json_t *p;
			size_t i;

			/* a workload on several GPUs: where each went */
			json_array_foreach(json_object_get(r, "pairs"), i, p)
				printf("  %-16s %s -> %s (%s -> %s)\n", i ? "" : "moved",
				       gv_json_str(p, "from", "?"), gv_json_str(p, "to", "?"),
				       gv_json_str(p, "from_device", "?"),
				       gv_json_str(p, "to_device", "?"));
		}
	} else if (json_is_object(r)) {
		gv_mig_bytes(r, "bytes_precopy", pre, sizeof(pre));
		gv_mig_bytes(r, "bytes_stun", stun, sizeof(stun));
		gv_mig_bytes(r, "bytes_total", total, sizeof(total));
		gv_mig_bytes(r, "dirty_rate_bps", rate, sizeof(rate));
		gv_mig_bytes(r, "bandwidth_bps", bw, sizeof(bw));
		printf("  total time       %.1f ms (setup %.1f ms, pre-copy %.1f ms)\n",
		       gv_mig_num(r, "total_ms"), gv_mig_num(r, "setup_ms"),
		       gv_mig_num(r, "precopy_ms"));
		printf("  stun time        %.1f ms (expected %.1f ms, limit %.0f ms",
		       gv_mig_num(r, "downtime_ms"), gv_mig_num(r, "expected_downtime_ms"),
		       gv_mig_num(r, "downtime_limit_ms"));
		/* through the driver: the least this move's stun could have been
		 * (the helper's rates and the driver's phases) */
		if (json_is_number(json_object_get(r, "floor_ms")))
			printf(", floor %.1f ms", gv_mig_num(r, "floor_ms"));
		printf(")\n");
		if (!strcmp(gv_json_str(r, "path", ""), "driver"))
			printf("  driver           lock %.1f, checkpoint %.1f, restore %.1f, unlock "
			       "%.1f, release %.1f, map %.1f ms\n",
			       gv_mig_num(r, "lock_ms"), gv_mig_num(r, "checkpoint_ms"),
			       gv_mig_num(r, "restore_ms"), gv_mig_num(r, "unlock_ms"),
			       gv_mig_num(r, "release_ms"), gv_mig_num(r, "map_ms"));
		/* the driver's and the shim's phases the estimate counted */
		if (json_is_string(json_object_get(r, "stun_fixed_from")))
			printf("  estimated        %.0f ms of driver phases, as measured in %s%s\n",
			       gv_mig_num(r, "stun_fixed_ms"),
			       gv_json_str(r, "stun_fixed_from", "?"),
			       json_is_true(json_object_get(r, "stun_fixed_other"))
				       ? " (another process's move: this one's first)"
				       : "");
		printf("  state            %s in %lld regions\n", total,
		       (long long)gv_mig_int(r, "regions"));
		printf("  copied           %s before the stun, %s during it\n", pre, stun);
		printf("  rounds           %lld (stop: %s)\n", (long long)gv_mig_int(r, "rounds"),
		       gv_json_str(r, "stop", "?"));
		printf("  dirty rate       %s/s at the last pass; copy bandwidth %s/s\n", rate, bw);
		gv_mig_print_throttle(r);
		if (*gv_json_str(r, "warning", ""))
			printf("  warning          %s\n", gv_json_str(r, "warning", ""));
	}
	if (*gv_json_str(m, "error", ""))
		printf("  %s %s\n",
		       strcmp(state, "completed") ? "error           " : "note            ",
		       gv_json_str(m, "error", ""));
}

/* GET /v1/migrations/ID, or its progress after seq since (since >= 0). */
static int gv_mig_get(struct gv_cli *cli, const char *id, json_int_t since, json_t **out)
{
	char suffix[64] = "", *path;
	int rc;

	*out = NULL;
	if (since >= 0)
		snprintf(suffix, sizeof(suffix), "/progress?since=%lld", (long long)since);
	path = gv_cli_path(cli, "/v1/migrations/", id, suffix);
	if (!path)
		return GV_EXIT_REFUSED;
	rc = gv_cli_call(cli, "GET", path, NULL, out);
	free(path);
	return rc;
}

static int migrate_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "downtime-limit", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-rounds", required_argument, NULL, 'r' },
		{ "auto-converge", no_argument, NULL, 'a' },
		{ "inject", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct timespec tick = { 0, GV_MIGRATE_POLL_MS * 1000000L };
	const char *to = NULL, *mode = NULL, *inject = NULL, *inst;
	int downtime = -1, rounds = -1, c, rc;
	bool as_json = false, auto_converge = false;
	json_t *body = NULL, *resp = NULL, *m = NULL;
	char id[64];
	json_int_t seen = 0;

	while ((c = gv_cli_getopt(cli, argc, argv, "h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'd':
			if (gv_parse_uint(optarg, &downtime) < 0 || downtime < 1)
				return gv_cli_usage_error(
					cli,
					"--downtime-limit needs milliseconds (1 or "
					"more), not '%s'",
					optarg);
			break;
		case 'm':
			if (strcmp(optarg, "precopy") && strcmp(optarg, "stopcopy") &&
			    strcmp(optarg, "checkpoint"))
				return gv_cli_usage_error(cli,
							  "--mode is precopy, stopcopy or "
							  "checkpoint, not '%s'",
							  optarg);
			mode = optarg;
			break;
		case 'r':
			if (gv_parse_uint(optarg, &rounds) < 0 || rounds < 1)
				return gv_cli_usage_error(
					cli, "--max-rounds needs a number (1 or more)");
			break;
		case 'a':
			auto_converge = true;
			break;
		case 'i':
			inject = optarg;
			break;
		default:
			return rc;
		}
	}
	if (optind >= argc)
		return gv_cli_usage_error(cli, "which instance? (see gpuvisor list)");
	if (optind + 1 < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
	inst = argv[optind];
	if (!to || !*to)
		return gv_cli_usage_error(cli, "--to GPU|INSTANCE is required");
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;
	/* --to X,Y: a workload on several instances, one destination each */
	body = json_pack("{s:s, s:o*}", "instance", inst, "to", gv_json_id_list(to));
	if (!body)
		return GV_EXIT_REFUSED;
	if (mode)
		json_object_set_new(body, "mode", json_string(mode));
	if (downtime > 0)
		json_object_set_new(body, "downtime_limit_ms", json_integer(downtime));
	if (rounds > 0)
		json_object_set_new(body, "max_rounds", json_integer(rounds));
	if (auto_converge)
		json_object_set_new(body, "auto_converge", json_true());
	if (inject)
		json_object_set_new(body, "inject", json_string(inject));
	rc = gv_cli_call(cli, "POST", "/v1/migrations", body, &resp);
	if (rc)
		goto out;
	snprintf(id, sizeof(id), "%s", gv_json_str(resp, "id", ""));
	if (!id[0]) {
		fprintf(stderr, "gpuvisor: gpuvisord's answer has no migration id\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (!as_json) {
		printf("migration %s: %s -> %s (%s)\n", id, inst,
		       gv_json_str(resp, "destination", to), gv_json_str(resp, "mode", "?"));
		fflush(stdout);
	}
	for (;;) {
		json_t *page = NULL, *p;
		size_t i;
		bool running;

		rc = gv_mig_get(cli, id, seen, &page);
		if (rc)
			goto out;
		json_array_foreach(json_object_get(page, "progress"), i, p) {
			json_int_t s = gv_mig_int(p, "seq");

			if (s > seen)
				seen = s;
			if (!as_json)
				gv_mig_print_progress(p);
		}
		running = strcmp(gv_json_str(page, "state", ""), "running") == 0;
		json_decref(page);
		if (!running)
			break;
		nanosleep(&tick, NULL);
	}
	rc = gv_mig_get(cli, id, -1, &m);
	if (rc)
		goto out;
	if (as_json)
		gv_cli_print_json(m);
	else
		gv_mig_print_report(m);
	rc = strcmp(gv_json_str(m, "state", ""), "completed") == 0 ? GV_EXIT_OK : GV_EXIT_REFUSED;
	if (rc && !as_json)
		fprintf(stderr, "gpuvisor: migration %s %s: %s\n", id, gv_json_str(m, "state", "?"),
			gv_json_str(m, "error", "no reason given"));
out:
	json_decref(body);
	json_decref(resp);
	json_decref(m);
	return rc;
}

const struct gv_cmd gv_cmd_migrate = {
	.name = "migrate",
	.run = migrate_run,
	.usage =
		"migrate INSTANCE --to GPU|INSTANCE[,INSTANCE...] [--downtime-limit MS] [--mode precopy|stopcopy|checkpoint] "
		"[--max-rounds N] [--auto-converge] [--json]",
	.summary = "Move a running workload to another GPU or instance of the same model.",
	.help = "  --to GPU|INSTANCE    a GPU (index or UUID: a new instance of the same profile\n"
		"                       is placed there) or an empty instance of the same profile;\n"
		"                       a workload on several instances: one empty instance per\n"
		"                       member, in its order (--mode checkpoint)\n"
		"  --downtime-limit MS  the stun the pre-copy rounds aim for (default 300)\n"
		"  --mode M             precopy (default: copy while it runs, then a short stun),\n"
		"                       stopcopy (stop it, copy everything, resume), both for\n"
		"                       workloads run --migratable; or checkpoint: any CUDA\n"
		"                       program, moved by the driver's checkpoint API while it is\n"
		"                       stopped (timeslice: to an instance of the same GPU;\n"
		"                       passthrough: to a GPU of the same model; not MIG)\n"
		"  --max-rounds N       pre-copy rounds at most (default 30)\n"
		"  --auto-converge      slow the workload (throttle 20%, +10% per round, at most\n"
		"                       99%) while it dirties memory faster than pre-copy copies\n"
		"  --json               print only the final migration object as JSON\n"
		"\nProgress lines (round, bytes copied, dirty bytes and rate, expected downtime)\n"
		"are printed while it runs, then the report. The source instance is destroyed\n"
		"when the workload runs on the destination; on any failure the workload stays\n"
		"where it was and the destination is removed. Exit status 0 only on success.\n"
		"\nexamples:\n  gpuvisor migrate i-3 --to 1\n"
		"  gpuvisor migrate i-3 --to i-7 --mode stopcopy\n"
		"  gpuvisor migrate i-3 --to 1 --downtime-limit 20 --auto-converge\n",
};

/* gpuvisor top [--gpu GPU] [--interval MS] [--once] [--json]: a live view
 * of the instances and their time-slice scheduler figures, redrawn every
 * interval. One frame = GET /v1/instances, GET /v1/gpus (or /v1/gpus/GPU)
 * and GET /v1/gpus/G/sched for each timeslice GPU shown. */
#include "cli.h"
#include "table.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GV_TOP_INTERVAL_MIN_MS 100
#define GV_TOP_INTERVAL_MAX_MS 3600000

/* One frame as JSON: {"time","gpus":[{gpu,uuid,mode,policy,slice_ms}],
 * "instances":[{...}]}; 0 or the exit code (reason printed). */
static int gv_top_frame(struct gv_cli *cli, const char *gpu_ref, json_t **out)
{
	json_t *gresp = NULL, *iresp = NULL, *gpus, *insts, *frame = NULL, *fg, *fi, *g, *in;
	json_t *scheds = json_object();
	char *path = NULL, when[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i, k;
	int rc;

	*out = NULL;
	if (!scheds)
		return GV_EXIT_REFUSED;
	if (gpu_ref) {
		path = gv_cli_path(cli, "/v1/gpus/", gpu_ref, "");
		if (!path) {
			rc = GV_EXIT_REFUSED;
			goto out;
		}
		rc = gv_cli_call(cli, "GET", path, NULL, &gresp);
		if (!rc) {
			json_t *one = json_pack("{s:[O]}", "gpus", gresp);

			json_decref(gresp);
			gresp = one;
		}
	} else {
		rc = gv_cli_call(cli, "GET", "/v1/gpus", NULL, &gresp);
	}
	if (!rc)
		rc = gv_cli_call(cli, "GET", "/v1/instances", NULL, &iresp);
	if (rc)
		goto out;
	gpus = json_object_get(gresp, "gpus");
	insts = json_object_get(iresp, "instances");
	fg = json_array();
	fi = json_array();
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	frame = json_pack("{s:s, s:o, s:o}", "time", when, "gpus", fg, "instances", fi);
	if (!frame || !json_is_array(gpus) || !json_is_array(insts)) {
		fprintf(stderr, "gpuvisor: unexpected answer from gpuvisord\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(gpus, i, g) {
		json_int_t idx = json_integer_value(json_object_get(g, "index"));
		const char *mode = gv_json_str(g, "mode", "-");
		json_t *s = NULL, *row;
		char key[32];

		if (strcmp(mode, "timeslice") == 0) {
			free(path);
			if (asprintf(&path, "/v1/gpus/%" JSON_INTEGER_FORMAT "/sched", idx) < 0) {
				path = NULL;
				rc = GV_EXIT_REFUSED;
				goto out;
			}
			rc = gv_cli_call(cli, "GET", path, NULL, &s);
			if (rc)
				goto out;
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, idx);
			json_object_set_new(scheds, key, s);
		}
		row = json_pack("{s:I, s:s, s:s, s:s, s:o}", "gpu", idx, "uuid",
				gv_json_str(g, "uuid", ""), "model", gv_json_str(g, "model", "-"),
				"mode", mode, "policy",
				s ? json_string(gv_json_str(s, "policy", "-")) : json_null());
		if (row && s)
			json_object_set(row, "slice_ms", json_object_get(s, "slice_ms"));
		json_array_append_new(fg, row);
	}
	json_array_foreach(insts, i, in) {
		const json_t *wl = json_object_get(in, "workload"), *s = NULL, *t, *ten = NULL;
		json_t *row;
		char key[32];

		if (!json_is_integer(json_object_get(in, "gpu")))
			continue;
		snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(in, "gpu")));
		if (gpu_ref) {
			bool shown = false;

			json_array_foreach(gpus, k, t)
				shown |= json_equal(json_object_get(t, "index"),
						    json_object_get(in, "gpu"));
			if (!shown)
				continue;
		}
		s = json_object_get(scheds, key);
		json_array_foreach(json_object_get(s, "tenants"), k, t)
			if (strcmp(gv_json_str(t, "instance", ""), gv_json_str(in, "id", "-")) == 0)
				ten = t;
		row = json_pack("{s:s, s:O, s:s, s:s, s:o, s:O, s:O}", "id",
				gv_json_str(in, "id", "-"), "gpu", json_object_get(in, "gpu"),
				"profile", gv_json_str(in, "profile", "-"), "kind",
				gv_json_str(in, "kind", "-"), "policy",
				ten ? json_string(gv_json_str(s, "policy", "-")) : json_null(),
				"fb_mib", json_object_get(in, "fb_mib"), "mem_used_bytes",
				json_object_get(in, "mem_used_bytes"));
		if (!row)
			continue;
		json_object_set_new(row, "pid",
				    json_is_object(wl)
					    ? json_copy(json_object_get((json_t *)wl, "pid"))
					    : json_null());
		if (ten) {
			static const char *const keys[] = { "weight",	   "share_last_s",
							    "gpu_time_ns", "wait_ns",
							    "slices",	   "overruns",
							    "processes" };

			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				json_object_set(row, keys[k], json_object_get(ten, keys[k]));
		}
		json_array_append_new(fi, row);
	}
	*out = frame;
	frame = NULL;
out:
	json_decref(frame);
	json_decref(gresp);
	json_decref(iresp);
	json_decref(scheds);
	free(path);
	return rc;
}

static void gv_top_fmt_ns(const json_t *o, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		snprintf(buf, len, "-");
	else if (json_integer_value(v) < 1000000000)
		snprintf(buf, len, "%.1f ms", (double)json_integer_value(v) / 1e6);
	else
		snprintf(buf, len, "%.3f s", (double)json_integer_value(v) / 1e9);
}

static int gv_top_print(const json_t *frame, int interval_ms)
{
	static const char *const hdr[] = { "ID",	">GPU",	     "PROFILE",	     "POLICY",
					   ">LAST 1s",	">GPU TIME", ">WAITING",     ">SLICES",
					   ">OVERRUNS", ">MEM USED", ">FRAMEBUFFER", ">PID" };
	const json_t *g, *in;
	struct gv_table *t;
	size_t i;

	printf("gpuvisor top - %s, every %d ms\n", gv_json_str(frame, "time", "-"), interval_ms);
	json_array_foreach(json_object_get(frame, "gpus"), i, g) {
		char slice[32];

		gv_json_int_text(g, "slice_ms", slice, sizeof(slice));
		printf("gpu %" JSON_INTEGER_FORMAT " %s: %s",
		       json_integer_value(json_object_get(g, "gpu")), gv_json_str(g, "model", "-"),
		       gv_json_str(g, "mode", "-"));
		if (json_is_string(json_object_get(g, "policy")))
			printf(", %s, slice %s ms", gv_json_str(g, "policy", "-"), slice);
		printf("\n");
	}
	t = gv_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	if (!t)
		return GV_EXIT_REFUSED;
	json_array_foreach(json_object_get(frame, "instances"), i, in) {
		const json_t *share = json_object_get(in, "share_last_s");
		char gpu[32], used[32], wait[32], slices[32], over[32], mem[32] = "-", fb[32],
									pid[32];

		gv_json_int_text(in, "gpu", gpu, sizeof(gpu));
		gv_top_fmt_ns(in, "gpu_time_ns", used, sizeof(used));
		gv_top_fmt_ns(in, "wait_ns", wait, sizeof(wait));
		gv_json_int_text(in, "slices", slices, sizeof(slices));
		gv_json_int_text(in, "overruns", over, sizeof(over));
		gv_json_int_text(in, "pid", pid, sizeof(pid));
		if (json_is_integer(json_object_get(in, "mem_used_bytes")))
			gv_fmt_bytes(
				(uint64_t)json_integer_value(json_object_get(in, "mem_used_bytes")),
				mem, sizeof(mem));
		gv_fmt_mib((uint64_t)json_integer_value(json_object_get(in, "fb_mib")), fb,
			   sizeof(fb));
		gv_table_row(t);
		gv_table_cell(t, "%s", gv_json_str(in, "id", "-"));
		gv_table_cell(t, "%s", gpu);
		gv_table_cell(t, "%s", gv_json_str(in, "profile", "-"));
		gv_table_cell(t, "%s", gv_json_str(in, "policy", gv_json_str(in, "kind", "-")));
		if (json_is_number(share))
			gv_table_cell(t, "%.1f%%", json_number_value(share) * 100);
		else
			gv_table_cell(t, "-");
		gv_table_cell(t, "%s", used);
		gv_table_cell(t, "%s", wait);
		gv_table_cell(t, "%s", slices);
		gv_table_cell(t, "%s", over);
		gv_table_cell(t, "%s", mem);
		gv_table_cell(t, "%s", fb);
		gv_table_cell(t, "%s", pid);
	}
	if (gv_table_rows(t) == 0)
		printf("no instances\n");
	else
		gv_table_print(t, stdout);
	gv_table_free(t);
	return GV_EXIT_OK;
}

static int top_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gpu", required_argument, NULL, 'g' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gpu = NULL;
	bool once = false, as_json = false, tty = isatty(STDOUT_FILENO);
	int c, rc, interval = 1000;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 'g':
			if (!*optarg)
				return gv_cli_usage_error(cli, "the GPU is an index or a UUID");
			gpu = optarg;
			break;
		case 'i':
			if (gv_parse_uint(optarg, &interval) != 0 ||
			    interval < GV_TOP_INTERVAL_MIN_MS || interval > GV_TOP_INTERVAL_MAX_MS)
				return gv_cli_usage_error(
					cli, "--interval is %d to %d ms, not '%s'",
					GV_TOP_INTERVAL_MIN_MS, GV_TOP_INTERVAL_MAX_MS, optarg);
			break;
		case 'o':
			once = true;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!gv_cli_client(cli))
		return GV_EXIT_REFUSED;
	for (;;) {
		json_t *frame = NULL;

		rc = gv_top_frame(cli, gpu, &frame);
		if (rc)
			return rc;
		if (as_json) {
			rc = once ? gv_cli_print_json(frame)
			     : (json_dumpf(frame, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 ||
				fputc('\n', stdout) == EOF)
				     ? GV_EXIT_REFUSED
				     : GV_EXIT_OK;
		} else {
			if (tty && !once)
				fputs("\033[H\033[2J", stdout);
			rc = gv_top_print(frame, interval);
		}
		json_decref(frame);
		if (fflush(stdout) != 0)
			rc = GV_EXIT_REFUSED;
		if (rc || once)
			return rc;
		nanosleep(&(struct timespec){ .tv_sec = interval / 1000,
					      .tv_nsec = (long)(interval % 1000) * 1000000L },
			  NULL);
	}
}

const struct gv_cmd gv_cmd_top = {
	.name = "top",
	.run = top_run,
	.usage = "top [--gpu GPU] [--interval MS] [--once] [--json]",
	.summary = "Live view of the instances: scheduler share, GPU time, waiting, memory.",
	.help = "  --gpu GPU       only this GPU (index or UUID)\n"
		"  --interval MS   redraw every MS milliseconds (default 1000, 100 or more)\n"
		"  --once          print one frame and exit\n"
		"  --json          one JSON object per frame (indented with --once, else one\n"
		"                  line each)\n"
		"\nPer instance: GPU, profile, policy (or the kind of a non-timeslice\n"
		"instance), share of the last second, GPU time used, time spent waiting for\n"
		"the slice, slices, overruns, memory used, framebuffer, workload pid. The\n"
		"screen is cleared between frames when the output is a terminal.\n"
		"\nexample:\n  gpuvisor top --gpu 0 --interval 500\n",
};

/* gpuvisor create: POST /v1/instances. */
#include "cli.h"

#include <string.h>

static int create_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "gpu", required_argument, NULL, 'g' },
		{ "placement", required_argument, NULL, 'P' },
		{ "framebuffer", required_argument, NULL, 'f' },
		{ "spread", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile = NULL, *gpu = NULL;
	int placement = -1;
	uint64_t fb_mib = 0;
	bool spread = false, as_json = false;
	json_t *body = NULL, *inst = NULL;
	int c, rc;

	while ((c = gv_cli_getopt(cli, argc, argv, "+h", opts, &as_json, &rc)) != -1) {
		switch (c) {
		case 'p':
			profile = optarg;
			break;
		case 'g':
			gpu = optarg;
			break;
		case 'P':
			if (gv_parse_uint(optarg, &placement) < 0)
				return gv_cli_usage_error(
					cli, "--placement needs a start slot number, not '%s'",
					optarg);
			break;
		case 'f':
			if (gv_parse_size_mib(optarg, &fb_mib) < 0)
				return gv_cli_usage_error(
					cli,
					"--framebuffer needs a size like 20g or 512m, not '%s'",
					optarg);
			break;
		case 's':
			spread = true;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	/* a framebuffer alone asks for a timeslice vGPU of that size (the way to
	 * share a GPU whose model the catalog does not know) */
	if (!profile && fb_mib)
		profile = "timeslice";
	if (!profile || !*profile)
		return gv_cli_usage_error(cli, "--profile is required (see gpuvisor profiles)");
	if (gpu && !*gpu)
		return gv_cli_usage_error(cli, "--gpu needs an index or a UUID");

	body = json_object();
	if (!body || json_object_set_new(body, "profile", json_string(profile)) < 0 ||
	    (gpu && json_object_set_new(body, "gpu", json_string(gpu)) < 0) ||
	    (placement >= 0 &&
	     json_object_set_new(body, "placement", json_integer(placement)) < 0) ||
	    (fb_mib &&
	     json_object_set_new(body, "framebuffer_mib", json_integer((json_int_t)fb_mib)) < 0) ||
	    (spread && json_object_set_new(body, "policy", json_string("spread")) < 0)) {
		fprintf(stderr, "gpuvisor: out of memory\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	rc = gv_cli_call(cli, "POST", "/v1/instances", body, &inst);
	if (rc)
		goto out;
	if (as_json) {
		rc = gv_cli_print_json(inst);
		goto out;
	} else {
		char gpu_txt[32], start[32], fb[32];

		gv_json_int_text(inst, "gpu", gpu_txt, sizeof(gpu_txt));
		gv_json_int_text(inst, "start", start, sizeof(start));
		gv_fmt_mib((uint64_t)json_integer_value(json_object_get(inst, "fb_mib")), fb,
			   sizeof(fb));
		printf("created %s: %s (%s) on gpu %s", gv_json_str(inst, "id", "?"),
		       gv_json_str(inst, "profile", "?"), gv_json_str(inst, "kind", "?"), gpu_txt);
		if (strcmp(start, "-") != 0)
			printf(" at slot %s", start);
		printf(", %s, device %s\n", fb, gv_json_str(inst, "device_uuid", "-"));
	}
out:
	json_decref(body);
	json_decref(inst);
	return rc;
}

const struct gv_cmd gv_cmd_create = {
	.name = "create",
	.run = create_run,
	.usage =
		"create --profile P [--gpu GPU] [--placement START] [--framebuffer SIZE] [--spread] [--json]",
	.summary = "Create an instance (a vGPU) of a profile.",
	.help = "  --profile P         3g.40gb (MIG), h100-8c (timeslice), h100-3-40c (MIG-backed\n"
		"                      vGPU), passthrough\n"
		"  --gpu GPU           index or UUID (default: the daemon chooses)\n"
		"  --placement START   MIG start slot (memory slice), e.g. 4\n"
		"  --framebuffer SIZE  timeslice on a GPU the catalog does not know: 20g, 512m\n"
		"                      (without --profile this means --profile timeslice)\n"
		"  --spread            prefer the emptiest GPU (default: pack the fullest)\n"
		"  --json              print the new instance as JSON\n"
		"\nexamples:\n"
		"  gpuvisor create --profile 3g.40gb --gpu 0 --placement 4\n"
		"  gpuvisor create --profile l40s-8c --spread\n"
		"  gpuvisor create --framebuffer 12g --gpu 2\n",
};

/* gpuvisor slurm-conf [--profile P]... [--node NAME]: the node's GRES lines
 * for Slurm (docs/slurm.md), from what the node can hold.
 *
 * One countable GRES, "vgpu", typed by profile: slurm.conf gets
 * `GresTypes=vgpu` and `NodeName=N Gres=vgpu:PROFILE:COUNT,...`, gres.conf
 * `NodeName=N Name=vgpu Type=PROFILE Count=COUNT Flags=CountOnly` (no device
 * files: gpuvisord, not Slurm, binds the devices). A job then asks for
 * `--gres=vgpu:PROFILE:1 --vgpu=PROFILE` and waits in the queue while the
 * node's count is used up.
 *
 * COUNT, per GPU and profile (GET /v1/profiles): `max` on a GPU without
 * instances, else `free` plus the GPU's instances of that profile (what it
 * holds once its instances of other profiles are gone is not promised).
 * Profiles share GPUs: a timeslice GPU holds 4 h100-20c or 2 h100-40c, not
 * both, so without --profile every GPU counts towards every profile it can
 * hold and the counts must not be added up (a comment says so). With
 * --profile P (repeatable) each GPU counts only towards the first listed
 * profile it can hold: the counts are then exact and Slurm never starts a
 * job the node cannot place. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GV_SC_MAX_PROFILES 16

struct gv_sc_count {
	char name[64];
	long long count;
};

/* Adds n to name's count in the table (appending it when new). */
static int gv_sc_add(struct gv_sc_count *t, size_t *n, size_t cap, const char *name, long long k)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp(t[i].name, name) == 0) {
			t[i].count += k;
			return 0;
		}
	}
	if (*n == cap || strlen(name) >= sizeof(t[0].name))
		return -1;
	snprintf(t[*n].name, sizeof(t[0].name), "%s", name);
	t[*n].count = k;
	(*n)++;
	return 0;
}

/* Instances on gpu of profile p's name (*same) and of others (*others). */
static void gv_sc_census(const json_t *p, const json_t *insts, int gpu, long long *same,
			 long long *others)
{
	const char *name = gv_json_str(p, "name", "");
	size_t i;

	*same = *others = 0;
	for (i = 0; i < json_array_size(insts); i++) {
		const json_t *in = json_array_get(insts, i);

		if (json_integer_value(json_object_get(in, "gpu")) != gpu)
			continue;
		if (strcmp(gv_json_str(in, "profile", ""), name) == 0)
			(*same)++;
		else
			(*others)++;
	}
}

/* How many instances of profile p (one /v1/profiles entry of gpu) the GPU
 * holds in its mode now: 0 when the mode does not take p (its "free" is 0
 * and it has none of p). */
static long long gv_sc_capacity(const json_t *p, const json_t *insts, int gpu)
{
	long long same, others, free_n = json_integer_value(json_object_get(p, "free"));

	gv_sc_census(p, insts, gpu, &same, &others);
	if (free_n == 0 && same == 0)
		return 0;
	if (same == 0 && others == 0)
		return json_integer_value(json_object_get(p, "max"));
	return free_n + same;
}

static int slurm_conf_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *want[GV_SC_MAX_PROFILES], *node = NULL;
	struct gv_sc_count counts[128];
	json_t *profs = NULL, *insts = NULL, *plist, *ilist;
	char host[256], gres[4096] = "";
	size_t n_want = 0, n_counts = 0, i, j, len = 0;
	int c, rc, max_gpu = -1, g;

	while ((c = gv_cli_getopt(cli, argc, argv, "h", opts, NULL, &rc)) != -1) {
		switch (c) {
		case 'p':
			if (n_want == GV_SC_MAX_PROFILES)
				return gv_cli_usage_error(cli, "at most %d --profile",
							  GV_SC_MAX_PROFILES);
			want[n_want++] = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!node) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0'; /* Slurm's NodeName is the short name */
		node = host;
	}
	rc = gv_cli_call(cli, "GET", "/v1/profiles", NULL, &profs);
	if (!rc)
		rc = gv_cli_call(cli, "GET", "/v1/instances", NULL, &insts);
	if (rc)
		goto out;
	plist = json_object_get(profs, "profiles");
	ilist = json_object_get(insts, "instances");
	for (i = 0; i < json_array_size(plist); i++) {
		int gi = (int)json_integer_value(json_object_get(json_array_get(plist, i), "gpu"));

		if (gi > max_gpu)
			max_gpu = gi;
	}
	for (g = 0; g <= max_gpu; g++) {
		bool given = false;

		/* with --profile: the first listed profile the GPU takes */
		for (j = 0; j < n_want && !given; j++) {
			for (i = 0; i < json_array_size(plist); i++) {
				const json_t *p = json_array_get(plist, i);

				if (json_integer_value(json_object_get(p, "gpu")) != g ||
				    strcmp(gv_json_str(p, "name", ""), want[j]) != 0 ||
				    gv_sc_capacity(p, ilist, g) <= 0)
					continue;
				if (gv_sc_add(counts, &n_counts, 128, want[j],
					      gv_sc_capacity(p, ilist, g)) != 0)
					goto too_many;
				given = true;
				break;
			}
		}
		if (n_want)
			continue;
		for (i = 0; i < json_array_size(plist); i++) {
			const json_t *p = json_array_get(plist, i);

			if (json_integer_value(json_object_get(p, "gpu")) != g ||
			    gv_sc_capacity(p, ilist, g) <= 0)
				continue;
			if (gv_sc_add(counts, &n_counts, 128, gv_json_str(p, "name", "?"),
				      gv_sc_capacity(p, ilist, g)) != 0)
				goto too_many;
		}
	}
	for (i = 0; i < n_want; i++)
		if (gv_sc_add(counts, &n_counts, 128, want[i], 0) != 0)
			goto too_many;
	for (i = 0; i < n_counts; i++)
		if (counts[i].count > 0 && len < sizeof(gres))
			len += (size_t)snprintf(gres + len, sizeof(gres) - len, "%svgpu:%s:%lld",
						len ? "," : "", counts[i].name, counts[i].count);

	printf("# gpuvisor slurm-conf for node %s (docs/slurm.md)\n", node);
	if (!n_want && n_counts > 1)
		printf("# NOTE: the profiles share GPUs (each GPU is counted for every profile it\n"
		       "# can hold): Slurm may start a job the node cannot place, which then fails\n"
		       "# with the reason. Exact counts: gpuvisor slurm-conf --profile P ...\n");
	for (i = 0; i < n_counts; i++)
		if (counts[i].count == 0)
			printf("# %s: no GPU of this node can hold it now\n", counts[i].name);
	printf("\n# slurm.conf\nGresTypes=vgpu\n");
	if (gres[0])
		printf("NodeName=%s Gres=%s\n", node, gres);
	else
		printf("# no vGPU of these profiles fits node %s now: no Gres= for it\n", node);
	printf("\n# gres.conf\n");
	for (i = 0; i < n_counts; i++)
		if (counts[i].count > 0)
			printf("NodeName=%s Name=vgpu Type=%s Count=%lld Flags=CountOnly\n", node,
			       counts[i].name, counts[i].count);
	rc = GV_EXIT_OK;
	goto out;
too_many:
	fprintf(stderr, "gpuvisor: too many profiles\n");
	rc = GV_EXIT_REFUSED;
out:
	json_decref(profs);
	json_decref(insts);
	return rc;
}

const struct gv_cmd gv_cmd_slurm_conf = {
	.name = "slurm-conf",
	.run = slurm_conf_run,
	.usage = "slurm-conf [--profile P]... [--node NAME]",
	.summary =
		"Print the node's Slurm GRES lines (slurm.conf, gres.conf) from what it can hold.",
	.help = "  --profile P   advertise P (repeatable); each GPU counts only towards the first\n"
		"                listed profile it can hold, so the counts are exact. Without it,\n"
		"                every profile each GPU can hold in its mode is listed (profiles\n"
		"                then share GPUs: a note says so)\n"
		"  --node NAME   the Slurm NodeName (default: the short host name)\n"
		"\nOne countable GRES 'vgpu', typed by profile (gres.conf Flags=CountOnly).\n"
		"Jobs ask for --gres=vgpu:PROFILE:1 --vgpu=PROFILE and queue while the node's\n"
		"count is used up. docs/slurm.md has a whole cluster set-up.\n"
		"\nexample:\n  gpuvisor slurm-conf --profile h100-20c --node gpu01\n",
};

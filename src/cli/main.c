/* gpuvisor: the command-line client of gpuvisord.
 *
 *   gpuvisor [--socket PATH] SUBCOMMAND [ARGS]
 *
 * The socket is --socket, else $GPUVISOR_SOCKET, else /run/gpuvisor/api.sock.
 * Exit codes: 0 success, 1 refused by the daemon (or the command failed),
 * 2 usage error, 3 daemon unreachable. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define GV_DEFAULT_SOCKET "/run/gpuvisor/api.sock"

static int gv_cmd_help(struct gv_cli *cli, int argc, char **argv);

static const struct gv_cmd gv_cmds[] = {
	{"gpus", gv_cmd_gpus, "gpus [--json]",
	 "List the node's GPUs: model match, mode, memory, instances.",
	 "  --json   print the daemon's JSON ({\"gpus\": [...]})\n"
	 "\nA GPU whose model is not in the catalog shows \"unknown model\": it works in\n"
	 "passthrough, and in timeslice with `create --framebuffer SIZE`.\n"
	 "\nexample:\n  gpuvisor gpus\n"},
	{"profiles", gv_cmd_profiles, "profiles [--gpu GPU] [--json]",
	 "List each GPU's profiles and how many more fit now (like nvidia-smi mig -lgip).",
	 "  --gpu GPU  only this GPU (index or UUID)\n"
	 "  --json     print the daemon's JSON ({\"profiles\": [...]})\n"
	 "\nFREE is how many more instances of the profile fit on the GPU now, given\n"
	 "its mode and its instances (0 when the mode does not take that kind).\n"
	 "\nexample:\n  gpuvisor profiles --gpu 0\n"},
	{"create", gv_cmd_create,
	 "create --profile P [--gpu GPU] [--placement START] [--framebuffer SIZE] [--spread] [--json]",
	 "Create an instance (a vGPU) of a profile.",
	 "  --profile P         3g.40gb (MIG), h100-8c (timeslice), h100-3-40c (MIG-backed\n"
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
	 "  gpuvisor create --framebuffer 12g --gpu 2\n"},
	{"advise", gv_cmd_advise,
	 "advise --workload training|inference|dev --memory SIZE [--untrusted] "
	 "[--latency-sensitive] [--replicas N] [--gpu GPU] [--json]",
	 "Recommend mode, profile and placement for a workload on this node (changes nothing).",
	 "  --workload W          training, inference (production) or dev (dev/test)\n"
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
	 "  gpuvisor advise --workload training --memory 16g --replicas 4\n"},
	{"destroy", gv_cmd_destroy, "destroy ID... [--force]",
	 "Destroy instances.",
	 "  --force  also when a workload runs: its process group is killed first\n"
	 "\nexample:\n  gpuvisor destroy i-3\n"},
	{"list", gv_cmd_list, "list [--json]",
	 "List instances with their device, workload and memory in use.",
	 "  --json  print the daemon's JSON ({\"instances\": [...]})\n"
	 "\nexample:\n  gpuvisor list\n"},
	{"mode", gv_cmd_mode, "mode GPU passthrough|timeslice|mig",
	 "Set a GPU's mode (refused while it has instances).",
	 "Setting mig turns the GPU's MIG mode on; leaving mig turns it off.\n"
	 "\nexample:\n  gpuvisor mode 0 mig\n"},
	{"events", gv_cmd_events, "events [--since N] [--json]",
	 "Show the daemon's event log.",
	 "  --since N  only events with a sequence number above N\n"
	 "  --json     print the daemon's JSON ({\"events\": [...]})\n"
	 "\nexample:\n  gpuvisor events --since 10\n"},
	{"run", gv_cmd_run, "run --instance ID[,ID...] [--migratable] [--] CMD [ARGS...]",
	 "Run a command as the workload of an instance.",
	 "The command gets the instance's environment (CUDA_VISIBLE_DEVICES, the shim\n"
	 "first on LD_LIBRARY_PATH, ...) in a process group of its own, registered\n"
	 "with the daemon while it runs. SIGINT/SIGTERM/SIGHUP/SIGQUIT are forwarded\n"
	 "to that group. The exit status is the command's (128+N when killed by\n"
	 "signal N; 127 when it cannot be started).\n"
	 "\n  --instance ID  the instance (see gpuvisor list); ID,ID,... (passthrough\n"
	 "                 instances, up to 8): one workload on all their GPUs, in that\n"
	 "                 order\n"
	 "  --migratable   let `gpuvisor migrate` move it: its shim listens on a control\n"
	 "                 socket and manages device memory so that it can be moved\n"
	 "                 (CUDA features it cannot move yet are refused)\n"
	 "\nexample:\n  gpuvisor run --instance i-1 -- python3 serve.py --port 8000\n"},
	{"cdi", gv_cmd_cdi, "cdi [--output PATH] [--cdi-version V]",
	 "Write a CDI spec (kind gpuvisor.io/vgpu) with one device per instance.",
	 "  --output PATH      where to write it (default /var/run/cdi/gpuvisor.json,\n"
	 "                     replaced atomically); - for stdout\n"
	 "  --cdi-version V    cdiVersion to declare: 0.5.0 (default; the lowest that\n"
	 "                     has what the spec uses, readable by podman 4.3) .. 0.8.0\n"
	 "\nexamples:\n"
	 "  gpuvisor cdi && podman run --device gpuvisor.io/vgpu=i-1 ...\n"
	 "  gpuvisor cdi --output - --cdi-version 0.8.0\n"},
	{"sched", gv_cmd_sched,
	 "sched GPU [--policy P] [--slice-ms N] [--weight INSTANCE=W]... [--json]",
	 "Show or set the time-slice scheduler of a timeslice GPU.",
	 "  --policy P          best-effort (round robin among instances with work; the\n"
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
	 "  gpuvisor sched 0 --weight i-3=2\n"},
	{"top", gv_cmd_top, "top [--gpu GPU] [--interval MS] [--once] [--json]",
	 "Live view of the instances: scheduler share, GPU time, waiting, memory.",
	 "  --gpu GPU       only this GPU (index or UUID)\n"
	 "  --interval MS   redraw every MS milliseconds (default 1000, 100 or more)\n"
	 "  --once          print one frame and exit\n"
	 "  --json          one JSON object per frame (indented with --once, else one\n"
	 "                  line each)\n"
	 "\nPer instance: GPU, profile, policy (or the kind of a non-timeslice\n"
	 "instance), share of the last second, GPU time used, time spent waiting for\n"
	 "the slice, slices, overruns, memory used, framebuffer, workload pid. The\n"
	 "screen is cleared between frames when the output is a terminal.\n"
	 "\nexample:\n  gpuvisor top --gpu 0 --interval 500\n"},
	{"slurm-conf", gv_cmd_slurm_conf, "slurm-conf [--profile P]... [--node NAME]",
	 "Print the node's Slurm GRES lines (slurm.conf, gres.conf) from what it can hold.",
	 "  --profile P   advertise P (repeatable); each GPU counts only towards the first\n"
	 "                listed profile it can hold, so the counts are exact. Without it,\n"
	 "                every profile each GPU can hold in its mode is listed (profiles\n"
	 "                then share GPUs: a note says so)\n"
	 "  --node NAME   the Slurm NodeName (default: the short host name)\n"
	 "\nOne countable GRES 'vgpu', typed by profile (gres.conf Flags=CountOnly).\n"
	 "Jobs ask for --gres=vgpu:PROFILE:1 --vgpu=PROFILE and queue while the node's\n"
	 "count is used up. docs/slurm.md has a whole cluster set-up.\n"
	 "\nexample:\n  gpuvisor slurm-conf --profile h100-20c --node gpu01\n"},
	{"migrate", gv_cmd_migrate,
	 "migrate INSTANCE --to GPU|INSTANCE[,INSTANCE...] [--downtime-limit MS] [--mode precopy|stopcopy|checkpoint] "
	 "[--max-rounds N] [--auto-converge] [--json]",
	 "Move a running workload to another GPU or instance of the same model.",
	 "  --to GPU|INSTANCE    a GPU (index or UUID: a new instance of the same profile\n"
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
	 "  gpuvisor migrate i-3 --to 1 --downtime-limit 20 --auto-converge\n"},
	{"migrations", gv_cmd_migrations, "migrations [--json]",
	 "List migrations: state, instances, times.",
	 "  --json  print the daemon's JSON ({\"migrations\": [...]})\n"
	 "\nexample:\n  gpuvisor migrations\n"},
	{"suspend", gv_cmd_suspend, "suspend INSTANCE [--json]",
	 "Suspend an instance's workload: its GPU memory goes to host memory.",
	 "  --json  print the daemon's answer as JSON\n"
	 "\nThe CUDA driver's checkpoint API locks every CUDA process of the workload\n"
	 "(after its queued GPU work finishes) and moves its GPU memory and objects into\n"
	 "its host memory; the GPU memory is free meanwhile. Any CUDA program, no\n"
	 "--migratable needed. The instance's partition stays reserved for it. Refused,\n"
	 "with the reason, for MIG instances, managed or IPC memory, and drivers\n"
	 "before R550. A suspended workload survives a restart of gpuvisord.\n"
	 "\nexample:\n  gpuvisor suspend i-3\n"},
	{"resume", gv_cmd_resume, "resume INSTANCE [--to INSTANCE[,INSTANCE...]] [--json]",
	 "Resume a suspended workload on its instance or another one.",
	 "  --to INSTANCE  an empty instance of the same profile to resume on: for a\n"
	 "                 time-sliced workload one of the same GPU (its partition and\n"
	 "                 scheduler attachment move with it), for passthrough one on a\n"
	 "                 GPU of the same model (the driver remaps the workload); a\n"
	 "                 workload on several instances: one per member, in its order\n"
	 "  --json         print the daemon's answer as JSON\n"
	 "\nThe driver restores the workload's GPU memory and objects at the same\n"
	 "addresses and lets its CUDA calls go on. If the GPU has no room, the\n"
	 "workload stays suspended and can be resumed again later.\n"
	 "\nexamples:\n  gpuvisor resume i-3\n  gpuvisor resume i-3 --to i-4\n"},
	{"ui", gv_cmd_ui, "ui [--open]",
	 "Print a one-time login link for the web console (docs/console.md).",
	 "  --open  also open it with xdg-open (when DISPLAY or WAYLAND_DISPLAY is set)\n"
	 "\ngpuvisord must serve TCP (--listen 127.0.0.1:PORT). The link holds a ticket\n"
	 "that is good once, for 60 seconds: opening it logs the browser in (a session\n"
	 "cookie) and leaves /ui/ in the address bar. A wildcard listen address\n"
	 "(0.0.0.0) is printed as 127.0.0.1.\n"
	 "\nexample:\n  gpuvisor ui --open\n"},
	{"version", gv_cmd_version, "version",
	 "Print the versions of gpuvisor and of the daemon it reaches.", ""},
	{"help", gv_cmd_help, "help [SUBCOMMAND]", "Show help for gpuvisor or a subcommand.", ""},
};

#define GV_N_CMDS (sizeof(gv_cmds) / sizeof(gv_cmds[0]))

static const struct gv_cmd *gv_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < GV_N_CMDS; i++)
		if (strcmp(gv_cmds[i].name, name) == 0)
			return &gv_cmds[i];
	return NULL;
}

static void gv_main_usage(FILE *f)
{
	size_t i;

	fputs("usage: gpuvisor [--socket PATH] SUBCOMMAND [ARGS]\n\n"
	      "Shares NVIDIA GPUs between workloads through gpuvisord (passthrough,\n"
	      "timeslice vGPUs, MIG).\n\nsubcommands:\n",
	      f);
	for (i = 0; i < GV_N_CMDS; i++)
		fprintf(f, "  %-9s %s\n", gv_cmds[i].name, gv_cmds[i].summary);
	fputs("\noptions:\n"
	      "  --socket PATH  the daemon's socket (default $GPUVISOR_SOCKET, else\n"
	      "                 " GV_DEFAULT_SOCKET ")\n"
	      "  --version      print gpuvisor's version\n"
	      "  --help         this text; `gpuvisor help SUBCOMMAND` or\n"
	      "                 `gpuvisor SUBCOMMAND --help` for one subcommand\n"
	      "\nexit status: 0 success, 1 refused by gpuvisord, 2 usage error,\n"
	      "3 gpuvisord unreachable\n",
	      f);
}

static int gv_cmd_help(struct gv_cli *cli, int argc, char **argv)
{
	const struct gv_cmd *cmd;

	if (argc < 2) {
		gv_main_usage(stdout);
		return GV_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		gv_cli_help(cli->cmd, stdout);
		return GV_EXIT_OK;
	}
	if (argc > 2)
		return gv_cli_usage_error(cli, "help takes one subcommand");
	cmd = gv_find_cmd(argv[1]);
	if (!cmd)
		return gv_cli_usage_error(cli, "unknown subcommand '%s'", argv[1]);
	gv_cli_help(cmd, stdout);
	return GV_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct gv_cli cli = {0};
	const char *env = getenv("GPUVISOR_SOCKET");
	int c, rc;

	cli.socket = (env && *env) ? env : GV_DEFAULT_SOCKET;
	opterr = 0;
	/* '+': stop at the subcommand; its options are its own */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return gv_cli_usage_error(&cli, "--socket needs a path");
			cli.socket = optarg;
			break;
		case 'h':
			gv_main_usage(stdout);
			return GV_EXIT_OK;
		case 'V':
			printf("gpuvisor %s\n", GV_VERSION);
			return GV_EXIT_OK;
		default:
			gv_cli_bad_option(&cli, argv);
			fputs("usage: gpuvisor [--socket PATH] SUBCOMMAND [ARGS] (gpuvisor help)\n",
			      stderr);
			return GV_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		gv_main_usage(stderr);
		return GV_EXIT_USAGE;
	}
	cli.cmd = gv_find_cmd(argv[optind]);
	if (!cli.cmd) {
		fprintf(stderr, "gpuvisor: unknown subcommand '%s' (gpuvisor help)\n",
			argv[optind]);
		return GV_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("gpuvisor: cannot initialise libcurl\n", stderr);
		return GV_EXIT_REFUSED;
	}
	/* each subcommand parses its own argv with getopt from scratch */
	argc -= optind;
	argv += optind;
	optind = 0;
	rc = cli.cmd->run(&cli, argc, argv);
	gv_client_free(cli.client);
	curl_global_cleanup();
	return rc;
}

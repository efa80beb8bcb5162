/* gpuvisor-ckpt: drives the CUDA driver's checkpoint API
 * (cuCheckpointProcess*, shared/reference/checkpoint.md) on every CUDA
 * process of one process group, for gpuvisord's suspend and resume.
 *
 *   gpuvisor-ckpt suspend PGID [--timeout-ms N]   lock all, then checkpoint all
 *   gpuvisor-ckpt resume PGID [--map OLD=NEW]...  restore all (onto other GPUs:
 *                                                 GPU- UUIDs), then unlock all
 *   gpuvisor-ckpt state PGID                      each CUDA process's state
 *   gpuvisor-ckpt precopy PGID --bulk SOCK ...    a live move with the bulk
 *                                                 pre-copied (precopy.c)
 *
 * suspend --bulk SOCK first has the workload's shim make bulk memory that a
 * pre-copy left imported its own again (the driver does not checkpoint a
 * process holding imported memory).
 *
 * One JSON object on stdout: {"ok":bool, "error":STR?, "pids":[...],
 * "states":[...], "lock_ms", "checkpoint_ms", "restore_ms", "unlock_ms"}.
 * Exit 0 only when the operation succeeded on every process.
 *
 * It is a process of its own, not code in the daemon, because the driver's
 * calls can block for a long time (a lock waits for the target's queued
 * work) or for ever (observed on R580 with imported memory,
 * tests/gpu/ckpt-check.h200-580.159.04.txt): the daemon runs it with a
 * deadline and kills it, and a hung driver call never wedges the daemon.
 * A restore also needs cuInit in the calling process (the driver's docs).
 *
 * All-or-nothing, as far as the driver allows: a lock that fails unlocks
 * those already locked; a checkpoint that fails restores and unlocks those
 * already checkpointed; a failed resume leaves each process in the state
 * the driver left it and says so (the daemon reports the workload failed).
 *
 * The driver library is dlopen'ed, never linked: $GPUVISOR_REAL_LIBCUDA
 * (libcudasim on a simulated node) or libcuda.so.1 (drv.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ckpt.h"

static void report(bool ok, const struct ckpt_drv *d, const int *pids, int n, const double ms[4],
		   double own_ms)
{
	json_t *o = json_pack("{s:b}", "ok", ok), *jp = json_array(), *js = json_array();
	CUprocessState s;
	char *txt;

	if (!ok)
		json_object_set_new(o, "error", json_string(ckpt_err));
	for (int i = 0; i < n; i++) {
		json_array_append_new(jp, json_integer(pids[i]));
		json_array_append_new(
			js, json_string(d->get_state && d->get_state(pids[i], &s) == CUDA_SUCCESS
						? ckpt_state_name(s)
						: "gone"));
	}
	json_object_set_new(o, "pids", jp);
	json_object_set_new(o, "states", js);
	json_object_set_new(o, "lock_ms", json_real(ms[0]));
	json_object_set_new(o, "checkpoint_ms", json_real(ms[1]));
	json_object_set_new(o, "restore_ms", json_real(ms[2]));
	json_object_set_new(o, "unlock_ms", json_real(ms[3]));
	if (own_ms >= 0)
		json_object_set_new(o, "own_ms", json_real(own_ms));
	txt = json_dumps(o, JSON_COMPACT);
	printf("%s\n", txt ? txt : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(txt);
	json_decref(o);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: gpuvisor-ckpt suspend PGID [--timeout-ms N] [--bulk SOCK]\n"
		"       gpuvisor-ckpt resume PGID [--map GPU-OLD=GPU-NEW]...\n"
		"       gpuvisor-ckpt state PGID\n"
		"       gpuvisor-ckpt precopy PGID --bulk SOCK [--map GPU-OLD=GPU-NEW]...\n"
		"                     [--to-device GPU-UUID] [--mode precopy|stopcopy]\n"
		"                     [--downtime-limit-ms N] [--max-rounds N] [--timeout-ms N]\n"
		"                     [--stun-fixed-ms N] [--keep-fd N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ckpt_drv d;
	int pids[CKPT_MAX_PIDS], n = 0, pgid, ret;
	CUprocessState st[CKPT_MAX_PIDS];
	double ms[4] = { 0, 0, 0, 0 }, own_ms = -1;
	unsigned long timeout_ms = 0;
	CUcheckpointGpuPair pairs[CKPT_MAX_PAIRS];
	unsigned n_pairs = 0;
	const char *bulk = NULL;
	char *end;

	memset(&d, 0, sizeof(d));
	if (argc < 3)
		return usage();
	errno = 0;
	pgid = (int)strtol(argv[2], &end, 10);
	if (errno || *end || pgid <= 1)
		return usage();
	if (!strcmp(argv[1], "precopy"))
		return ckpt_precopy_main(pgid, argc - 3, argv + 3);
	for (int a = 3; a < argc; a += 2) {
		if (a + 1 >= argc)
			return usage();
		if (!strcmp(argv[a], "--timeout-ms")) {
			timeout_ms = strtoul(argv[a + 1], &end, 10);
			if (*end || timeout_ms > 3600000)
				return usage();
		} else if (!strcmp(argv[a], "--map") && n_pairs < CKPT_MAX_PAIRS) {
			if (ckpt_parse_pair(argv[a + 1], &pairs[n_pairs++]))
				return usage();
		} else if (!strcmp(argv[a], "--bulk")) {
			bulk = argv[a + 1];
		} else {
			return usage();
		}
	}
	if (strcmp(argv[1], "suspend") && strcmp(argv[1], "resume") && strcmp(argv[1], "state"))
		return usage();
	ret = ckpt_drv_load(&d, false);
	if (!ret && bulk && !strcmp(argv[1], "suspend"))
		ret = ckpt_bulk_own(bulk, pgid, (unsigned)timeout_ms, &own_ms);
	if (!ret)
		ret = ckpt_group_pids(&d, pgid, pids, st, &n);
	if (!ret && n == 0)
		ret = ckpt_fail(-ESRCH, "no process of group %d is known to the CUDA driver", pgid);
	if (!ret) {
		if (!strcmp(argv[1], "suspend"))
			ret = ckpt_suspend(&d, pids, st, n, (unsigned)timeout_ms, ms);
		else if (!strcmp(argv[1], "resume"))
			ret = ckpt_resume(&d, pids, n, pairs, n_pairs, ms);
	}
	report(ret == 0, &d, pids, n, ms, own_ms);
	return ret ? 1 : 0;
}

/* gpuvisor-ckpt: drives the CUDA driver's checkpoint API
 * (cuCheckpointProcess*, shared/reference/checkpoint.md) on every CUDA
 * process of one process group, for gpuvisord's suspend and resume.
 *
 *   gpuvisor-ckpt suspend PGID [--timeout-ms N]   lock all, then checkpoint all
 *   gpuvisor-ckpt resume PGID [--map OLD=NEW]...  restore all (onto other GPUs:
 *                                                 GPU- UUIDs), then unlock all
 *   gpuvisor-ckpt state PGID                      each CUDA process's state
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
 * (libcudasim on a simulated node) or libcuda.so.1.
 */
#include <cuda.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define MAX_PIDS 256

struct drv {
	CUresult (*init)(unsigned int);
	CUresult (*get_state)(int, CUprocessState *);
	CUresult (*lock)(int, CUcheckpointLockArgs *);
	CUresult (*checkpoint)(int, CUcheckpointCheckpointArgs *);
	CUresult (*restore)(int, CUcheckpointRestoreArgs *);
	CUresult (*unlock)(int, CUcheckpointUnlockArgs *);
	CUresult (*error_name)(CUresult, const char **);
};

static char errbuf[512];

static const char *ename(const struct drv *d, CUresult r)
{
	const char *s = NULL;

	if (d->error_name && d->error_name(r, &s) == CUDA_SUCCESS && s)
		return s;
	return "CUDA_ERROR_UNKNOWN";
}

/* The one place that resolves driver symbols. A driver without the
 * checkpoint API (before R550) is named as such. */
static int drv_load(struct drv *d)
{
	const char *path = getenv("GPUVISOR_REAL_LIBCUDA");
	void *h;

	if (!path || !*path)
		path = "libcuda.so.1";
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(errbuf, sizeof(errbuf), "cannot load the CUDA driver (%s): %s", path,
			 dlerror());
		return -ENOENT;
	}
#define SYM(field, name)                                                                  \
	do {                                                                              \
		*(void **)&d->field = dlsym(h, name);                                     \
		if (!d->field) {                                                          \
			snprintf(errbuf, sizeof(errbuf),                                  \
				 "the CUDA driver %s has no %s: its checkpoint API needs "     \
				 "driver R550 or later (R580 to restore onto another GPU)", \
				 path, name);                                             \
			return -ENOTSUP;                                                  \
		}                                                                         \
	} while (0)
	SYM(init, "cuInit");
	SYM(error_name, "cuGetErrorName");
	SYM(get_state, "cuCheckpointProcessGetState");
	SYM(lock, "cuCheckpointProcessLock");
	SYM(checkpoint, "cuCheckpointProcessCheckpoint");
	SYM(restore, "cuCheckpointProcessRestore");
	SYM(unlock, "cuCheckpointProcessUnlock");
#undef SYM
	if (d->init(0) != CUDA_SUCCESS) {
		snprintf(errbuf, sizeof(errbuf), "cuInit failed in the checkpoint helper");
		return -EIO;
	}
	return 0;
}

/* Members of process group pgid that the driver knows as CUDA processes
 * (GetState succeeds), in /proc order. */
static int group_cuda_pids(const struct drv *d, int pgid, int *pids, CUprocessState *st,
			   int *n_out)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!dir) {
		snprintf(errbuf, sizeof(errbuf), "cannot read /proc: %s", strerror(errno));
		return -EIO;
	}
	while ((e = readdir(dir)) != NULL) {
		char path[64], buf[1024], *p;
		FILE *f;
		size_t len;
		int pid = atoi(e->d_name), grp = 0, ppid = 0;
		char state = 0;

		/* never itself: a caller in the group (a test) runs us there */
		if (pid <= 0 || pid == (int)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		p = strrchr(buf, ')');
		/* fields 3 (state), 4 (ppid), 5 (pgrp) follow the command name */
		if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &grp) != 3 || grp != pgid ||
		    state == 'Z')
			continue;
		if (n == MAX_PIDS) {
			closedir(dir);
			snprintf(errbuf, sizeof(errbuf), "more than %d processes in group %d",
				 MAX_PIDS, pgid);
			return -E2BIG;
		}
		if (d->get_state(pid, &st[n]) != CUDA_SUCCESS)
			continue; /* not a CUDA process */
		pids[n++] = pid;
	}
	closedir(dir);
	*n_out = n;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *state_name(CUprocessState s)
{
	switch (s) {
	case CU_PROCESS_STATE_RUNNING: return "running";
	case CU_PROCESS_STATE_LOCKED: return "locked";
	case CU_PROCESS_STATE_CHECKPOINTED: return "checkpointed";
	case CU_PROCESS_STATE_FAILED: return "failed";
	}
	return "unknown";
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void report(bool ok, const struct drv *d, const int *pids, int n, const double ms[4])
{
	CUprocessState s;
	int i;

	printf("{\"ok\":%s", ok ? "true" : "false");
	if (!ok) {
		printf(",\"error\":");
		print_json_string(errbuf);
	}
	printf(",\"pids\":[");
	for (i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", pids[i]);
	printf("],\"states\":[");
	for (i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "",
		       d->get_state && d->get_state(pids[i], &s) == CUDA_SUCCESS ? state_name(s)
										 : "gone");
	printf("],\"lock_ms\":%.3f,\"checkpoint_ms\":%.3f,\"restore_ms\":%.3f,\"unlock_ms\":%.3f}\n",
	       ms[0], ms[1], ms[2], ms[3]);
}

/* Test faults (GPUVISOR_TEST_FAULTS=1 and GPUVISOR_CKPT_FAULT=after-lock,
 * after-checkpoint or after-restore): the helper dies there, as a helper
 * killed by an OOM killer or an operator would, leaving the workload
 * locked or checkpointed (restored but locked, after-restore: on the
 * destination GPUs when it was moved) for gpuvisord to settle. */
static void fault_point(const char *where)
{
	const char *f = getenv("GPUVISOR_CKPT_FAULT"), *on = getenv("GPUVISOR_TEST_FAULTS");

	if (on && !strcmp(on, "1") && f && !strcmp(f, where))
		raise(SIGKILL);
}

static int do_suspend(const struct drv *d, int *pids, CUprocessState *st, int n,
		      unsigned timeout_ms, double ms[4])
{
	CUcheckpointLockArgs la;
	CUcheckpointCheckpointArgs ca;
	CUcheckpointRestoreArgs ra;
	CUcheckpointUnlockArgs ua;
	int i, locked = 0, done = 0, ret = 0;
	double t;
	CUresult r;

	memset(&la, 0, sizeof(la));
	memset(&ca, 0, sizeof(ca));
	memset(&ra, 0, sizeof(ra));
	memset(&ua, 0, sizeof(ua));
	la.timeoutMs = timeout_ms;
	for (i = 0; i < n; i++) {
		if (st[i] != CU_PROCESS_STATE_RUNNING) {
			snprintf(errbuf, sizeof(errbuf), "process %d is %s, not running", pids[i],
				 state_name(st[i]));
			return -EBUSY;
		}
	}
	t = now_ms();
	for (; locked < n; locked++) {
		r = d->lock(pids[locked], &la);
		if (r != CUDA_SUCCESS) {
			snprintf(errbuf, sizeof(errbuf),
				 "cannot lock process %d: %s%s", pids[locked], ename(d, r),
				 r == CUDA_ERROR_TIMEOUT || r == CUDA_ERROR_NOT_READY
					 ? " (its queued GPU work did not finish in time)"
					 : "");
			ret = -EIO;
			goto undo;
		}
	}
	ms[0] = now_ms() - t;
	fault_point("after-lock");
	t = now_ms();
	for (; done < n; done++) {
		r = d->checkpoint(pids[done], &ca);
		if (r != CUDA_SUCCESS) {
			snprintf(errbuf, sizeof(errbuf),
				 "the driver cannot checkpoint process %d: %s (it refuses MIG, "
				 "managed and IPC memory, MPS and NCCL)",
				 pids[done], ename(d, r));
			ret = -EIO;
			goto undo;
		}
	}
	ms[1] = now_ms() - t;
	fault_point("after-checkpoint");
	return 0;
undo:
	/* give back what was done: the workload runs on as before */
	for (i = 0; i < done; i++)
		d->restore(pids[i], &ra);
	for (i = 0; i < locked; i++)
		d->unlock(pids[i], &ua);
	return ret;
}

#define MAX_PAIRS 16

/* "GPU-8-4-4-4-12 hex digits" to the driver's 16 bytes */
static int parse_uuid(const char *s, CUuuid *out)
{
	int i = 0;

	if (strncmp(s, "GPU-", 4))
		return -EINVAL;
	for (s += 4; *s && i < 32; s++) {
		int v;

		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -EINVAL;
		if (i % 2 == 0)
			out->bytes[i / 2] = (char)(v << 4);
		else
			out->bytes[i / 2] = (char)(out->bytes[i / 2] | v);
		i++;
	}
	return i == 32 && !*s ? 0 : -EINVAL;
}

static int parse_pair(const char *arg, CUcheckpointGpuPair *p)
{
	char old[64];
	const char *eq = strchr(arg, '=');

	if (!eq || (size_t)(eq - arg) >= sizeof(old))
		return -EINVAL;
	memcpy(old, arg, (size_t)(eq - arg));
	old[eq - arg] = '\0';
	if (parse_uuid(old, &p->oldUuid) || parse_uuid(eq + 1, &p->newUuid))
		return -EINVAL;
	return 0;
}

static int do_resume(const struct drv *d, int *pids, CUprocessState *st, int n,
		     CUcheckpointGpuPair *pairs, unsigned n_pairs, double ms[4])
{
	CUcheckpointRestoreArgs ra;
	CUcheckpointUnlockArgs ua;
	int i, ret = 0, restored = 0;
	double t;
	CUresult r;

	memset(&ra, 0, sizeof(ra));
	memset(&ua, 0, sizeof(ua));
	if (n_pairs) {
		ra.gpuPairs = pairs;
		ra.gpuPairsCount = n_pairs;
	}
	t = now_ms();
	for (i = 0; i < n; i++) {
		if (st[i] != CU_PROCESS_STATE_CHECKPOINTED)
			continue;
		r = d->restore(pids[i], &ra);
		if (r != CUDA_SUCCESS) {
			/* the driver has no rollback: the process stays
			 * checkpointed and can be restored again later */
			snprintf(errbuf, sizeof(errbuf), "the driver cannot restore process %d: %s%s",
				 pids[i], ename(d, r),
				 r == CUDA_ERROR_OUT_OF_MEMORY ? " (no room on the GPU)"
				 : r == CUDA_ERROR_INVALID_VALUE && n_pairs
					 ? " (the GPUs named are not of the same kind, or do not "
					   "name every GPU the process had)"
					 : "");
			return -EIO;
		}
		restored++;
	}
	ms[2] = now_ms() - t;
	if (restored)
		fault_point("after-restore");
	t = now_ms();
	for (i = 0; i < n; i++) {
		CUprocessState s;

		if (d->get_state(pids[i], &s) != CUDA_SUCCESS || s != CU_PROCESS_STATE_LOCKED)
			continue;
		r = d->unlock(pids[i], &ua);
		if (r != CUDA_SUCCESS) {
			snprintf(errbuf, sizeof(errbuf), "cannot unlock process %d: %s", pids[i],
				 ename(d, r));
			ret = -EIO;
		}
	}
	ms[3] = now_ms() - t;
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: gpuvisor-ckpt suspend PGID [--timeout-ms N]\n"
			"       gpuvisor-ckpt resume PGID [--map GPU-OLD=GPU-NEW]...\n"
			"       gpuvisor-ckpt state PGID\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct drv d;
	int pids[MAX_PIDS], n = 0, pgid, ret;
	CUprocessState st[MAX_PIDS];
	double ms[4] = { 0, 0, 0, 0 };
	unsigned long timeout_ms = 0;
	CUcheckpointGpuPair pairs[MAX_PAIRS];
	unsigned n_pairs = 0;
	char *end;

	memset(&d, 0, sizeof(d));
	if (argc < 3)
		return usage();
	errno = 0;
	pgid = (int)strtol(argv[2], &end, 10);
	if (errno || *end || pgid <= 1)
		return usage();
	for (int a = 3; a < argc; a += 2) {
		if (a + 1 >= argc)
			return usage();
		if (!strcmp(argv[a], "--timeout-ms")) {
			timeout_ms = strtoul(argv[a + 1], &end, 10);
			if (*end || timeout_ms > 3600000)
				return usage();
		} else if (!strcmp(argv[a], "--map") && n_pairs < MAX_PAIRS) {
			if (parse_pair(argv[a + 1], &pairs[n_pairs++]))
				return usage();
		} else {
			return usage();
		}
	}
	ret = drv_load(&d);
	if (!ret)
		ret = group_cuda_pids(&d, pgid, pids, st, &n);
	if (!ret && n == 0) {
		snprintf(errbuf, sizeof(errbuf),
			 "no process of group %d is known to the CUDA driver", pgid);
		ret = -ESRCH;
	}
	if (!ret) {
		if (!strcmp(argv[1], "suspend"))
			ret = do_suspend(&d, pids, st, n, (unsigned)timeout_ms, ms);
		else if (!strcmp(argv[1], "resume"))
			ret = do_resume(&d, pids, st, n, pairs, n_pairs, ms);
		else if (strcmp(argv[1], "state"))
			return usage();
	}
	report(ret == 0, &d, pids, n, ms);
	return ret ? 1 : 0;
}

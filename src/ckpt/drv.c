/* gpuvisor-ckpt: the driver, loaded and resolved in one place, and the
 * checkpoint steps the verbs share (ckpt.h). */
#include "ckpt.h"

#include "gpuvisor/nametab.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char ckpt_err[512];

int ckpt_fail(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ckpt_err, sizeof(ckpt_err), fmt, ap);
	va_end(ap);
	return ret;
}

const char *ckpt_ename(const struct ckpt_drv *d, CUresult r)
{
	const char *s = NULL;

	if (d->error_name && d->error_name(r, &s) == CUDA_SUCCESS && s)
		return s;
	return "CUDA_ERROR_UNKNOWN";
}

int ckpt_drv_load(struct ckpt_drv *d, bool mem)
{
	const char *path = getenv("GPUVISOR_REAL_LIBCUDA");

	if (!path || !*path)
		path = "libcuda.so.1";
	d->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!d->lib)
		return ckpt_fail(-ENOENT, "cannot load the CUDA driver (%s): %s", path, dlerror());
#define CKPT_RESOLVE(field, sym, type)                                                      \
	*(void **)&d->field = dlsym(d->lib, sym);                                           \
	if (!d->field)                                                                      \
		return ckpt_fail(-ENOTSUP,                                                  \
				 "the CUDA driver %s has no %s: its checkpoint API needs "  \
				 "driver R550 or later (R580 to restore onto another GPU)", \
				 path, sym);
	CKPT_DRV_SYMS(CKPT_RESOLVE)
	if (mem) {
		CKPT_MEM_SYMS(CKPT_RESOLVE)
	}
#undef CKPT_RESOLVE
	if (d->init(0) != CUDA_SUCCESS)
		return ckpt_fail(-EIO, "cuInit failed in the checkpoint helper");
	return 0;
}

int ckpt_group_pids(const struct ckpt_drv *d, int pgid, int *pids, CUprocessState *st, int *n_out)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return ckpt_fail(-EIO, "cannot read /proc: %s", strerror(errno));
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
		if (n == CKPT_MAX_PIDS) {
			closedir(dir);
			return ckpt_fail(-E2BIG, "more than %d processes in group %d",
					 CKPT_MAX_PIDS, pgid);
		}
		if (d->get_state(pid, &st[n]) != CUDA_SUCCESS)
			continue; /* not a CUDA process */
		pids[n++] = pid;
	}
	closedir(dir);
	*n_out = n;
	return 0;
}

double ckpt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

GV_NAMETAB_NAME(ckpt_state, CUprocessState, "unknown", { CU_PROCESS_STATE_RUNNING, "running" },
		{ CU_PROCESS_STATE_LOCKED, "locked" },
		{ CU_PROCESS_STATE_CHECKPOINTED, "checkpointed" },
		{ CU_PROCESS_STATE_FAILED, "failed" })

void ckpt_fault_point(const char *where)
{
	const char *f = getenv("GPUVISOR_CKPT_FAULT"), *on = getenv("GPUVISOR_TEST_FAULTS");

	if (on && !strcmp(on, "1") && f && !strcmp(f, where))
		raise(SIGKILL);
}

int ckpt_suspend(const struct ckpt_drv *d, const int *pids, const CUprocessState *st, int n,
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
	for (i = 0; i < n; i++)
		if (st[i] != CU_PROCESS_STATE_RUNNING)
			return ckpt_fail(-EBUSY, "process %d is %s, not running", pids[i],
					 ckpt_state_name(st[i]));
	t = ckpt_now_ms();
	for (; locked < n; locked++) {
		r = d->lock(pids[locked], &la);
		if (r != CUDA_SUCCESS) {
			ret = ckpt_fail(-EIO, "cannot lock process %d: %s%s", pids[locked],
					ckpt_ename(d, r),
					r == CUDA_ERROR_TIMEOUT || r == CUDA_ERROR_NOT_READY
						? " (its queued GPU work did not finish in time)"
						: "");
			goto undo;
		}
	}
	ms[0] = ckpt_now_ms() - t;
	ckpt_fault_point("after-lock");
	t = ckpt_now_ms();
	for (; done < n; done++) {
		r = d->checkpoint(pids[done], &ca);
		if (r != CUDA_SUCCESS) {
			ret = ckpt_fail(-EIO,
					"the driver cannot checkpoint process %d: %s (it refuses "
					"MIG, managed and IPC memory, MPS and NCCL)",
					pids[done], ckpt_ename(d, r));
			goto undo;
		}
	}
	ms[1] = ckpt_now_ms() - t;
	ckpt_fault_point("after-checkpoint");
	return 0;
undo:
	/* give back what was done: the workload runs on as before */
	for (i = 0; i < done; i++)
		d->restore(pids[i], &ra);
	for (i = 0; i < locked; i++)
		d->unlock(pids[i], &ua);
	return ret;
}

int ckpt_parse_uuid(const char *s, CUuuid *out)
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

int ckpt_parse_pair(const char *arg, CUcheckpointGpuPair *p)
{
	char old[64];
	const char *eq = strchr(arg, '=');

	if (!eq || (size_t)(eq - arg) >= sizeof(old))
		return -EINVAL;
	memcpy(old, arg, (size_t)(eq - arg));
	old[eq - arg] = '\0';
	if (ckpt_parse_uuid(old, &p->oldUuid) || ckpt_parse_uuid(eq + 1, &p->newUuid))
		return -EINVAL;
	return 0;
}

int ckpt_resume(const struct ckpt_drv *d, const int *pids, int n, const CUcheckpointGpuPair *pairs,
		unsigned n_pairs, double ms[4])
{
	CUcheckpointRestoreArgs ra;
	CUcheckpointUnlockArgs ua;
	int i, ret = 0, restored = 0;
	double t;
	CUresult r;

	memset(&ra, 0, sizeof(ra));
	memset(&ua, 0, sizeof(ua));
	if (n_pairs) {
		ra.gpuPairs = (CUcheckpointGpuPair *)pairs;
		ra.gpuPairsCount = n_pairs;
	}
	t = ckpt_now_ms();
	for (i = 0; i < n; i++) {
		CUprocessState s;

		if (d->get_state(pids[i], &s) != CUDA_SUCCESS || s != CU_PROCESS_STATE_CHECKPOINTED)
			continue;
		r = d->restore(pids[i], &ra);
		if (r != CUDA_SUCCESS)
			/* the driver has no rollback: the process stays
			 * checkpointed and can be restored again later */
			return ckpt_fail(
				-EIO, "the driver cannot restore process %d: %s%s", pids[i],
				ckpt_ename(d, r),
				r == CUDA_ERROR_OUT_OF_MEMORY ? " (no room on the GPU)"
				: r == CUDA_ERROR_INVALID_VALUE && n_pairs
					? " (the GPUs named are not of the same kind, or do "
					  "not name every GPU the process had)"
					: "");
		restored++;
	}
	ms[2] = ckpt_now_ms() - t;
	if (restored)
		ckpt_fault_point("after-restore");
	t = ckpt_now_ms();
	for (i = 0; i < n; i++) {
		CUprocessState s;

		if (d->get_state(pids[i], &s) != CUDA_SUCCESS || s != CU_PROCESS_STATE_LOCKED)
			continue;
		r = d->unlock(pids[i], &ua);
		if (r != CUDA_SUCCESS)
			ret = ckpt_fail(-EIO, "cannot unlock process %d: %s", pids[i],
					ckpt_ename(d, r));
	}
	ms[3] = ckpt_now_ms() - t;
	return ret;
}

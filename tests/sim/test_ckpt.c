/* The checkpoint API (cuCheckpointProcess*), driven as the driver's is: this
 * program is the controller, and runs itself again (exec) as the target
 * process, talking to it over two pipes.
 *
 *   test_sim_ckpt two    GPUVISOR_SIM_MODELS=h100-80gb:2: states and wrong-state
 *                        errors, lock blocks calls and waits for queued work,
 *                        lock timeout, checkpoint frees the device for others,
 *                        restore without room fails and stays CHECKPOINTED,
 *                        restore in place, restore onto the other H100, managed
 *                        memory refused.
 *   test_sim_ckpt four   GPUVISOR_SIM_MODELS=h100-80gb:4,a100-80gb: a process on
 *                        two GPUs moves to two others; bad gpuPairs refused.
 *
 * Needs GV_KERNEL_MODULE (gv_kernels.so). */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gv_kernels.h"
#include "simtest.h"

#define NA (8 * MIB)
#define PITCH_W 1000
#define PITCH_H 64
#define NB (1 * MIB)
#define VMM (2 * MIB)
/* what the "main" target charges to its device: context, cuMemAlloc,
 * pitch (1024-byte pitch x 64 rows), cuMemAllocAsync, one VMM handle */
#define MAIN_CHARGE (16 * MIB + NA + 1024 * PITCH_H + NB + VMM)

struct info {
	CUdeviceptr a, p, b, r, r2, a1;
	size_t pitch;
};

static int wfd = -1; /* target -> controller */
static int rfd = -1; /* controller -> target */

static void put(int fd, const void *p, size_t n)
{
	EXPECT(write(fd, p, n) == (ssize_t)n);
}

static void get(int fd, void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, (char *)p + done, n - done);

		EXPECT(r > 0);
		if (r <= 0)
			exit(1);
		done += (size_t)r;
	}
}

/* A byte from fd within ms milliseconds, or 0. */
static char poll_byte(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c = 0;

	if (poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1)
		return c;
	return 0;
}

/* ---- the target ---- */

static CUcontext t_ctx[2];
static CUmodule t_mod;
static CUfunction t_fill;
static CUstream t_s;
static CUevent t_ev;
static struct info t_info;

static void host_sleep(void *arg)
{
	struct timespec ts = { 0, 0 };
	long ms = (long)(intptr_t)arg;
	char c = ms >= 1000 ? 'T' : 'H';

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	put(wfd, &c, 1);
}

static void fill(CUdeviceptr x, size_t n_words, unsigned seed, CUstream s)
{
	struct gv_fill_args a = { (unsigned *)(uintptr_t)x, n_words, seed };
	void *params[] = { &a };

	OK(cuLaunchKernel(t_fill, (unsigned)((n_words + 255) / 256), 1, 1, 256, 1, 1, 0, s, params,
			  NULL));
}

static bool check_fill(CUdeviceptr x, size_t n_words, unsigned seed)
{
	unsigned *h = malloc(n_words * sizeof(*h));
	bool ok = h != NULL;

	OK(cuMemcpyDtoH(h, x, n_words * sizeof(*h)));
	for (size_t i = 0; ok && i < n_words; i++)
		ok = h[i] == (((unsigned)i * 2654435761u) ^ seed);
	free(h);
	return ok;
}

static void *poker(void *arg)
{
	size_t f, t;
	char c = 'P';

	(void)arg;
	/* blocks while the process is locked */
	OK(cuCtxSetCurrent(t_ctx[0]));
	OK(cuMemGetInfo(&f, &t));
	put(wfd, &c, 1);
	return NULL;
}

static void target_main(void)
{
	CUmemAllocationProp prop = { 0 };
	CUmemAccessDesc acc = { 0 };
	CUmemGenericAllocationHandle h;
	CUdeviceptr g;
	unsigned counter = 4242, *ph;
	char c = 'R';

	OK(cuInit(0));
	OK(cuCtxCreate(&t_ctx[0], NULL, 0, 0));
	OK(cuModuleLoad(&t_mod, getenv("GV_KERNEL_MODULE")));
	OK(cuModuleGetFunction(&t_fill, t_mod, "gv_fill"));
	OK(cuModuleGetGlobal(&g, NULL, t_mod, "gv_counter"));
	OK(cuMemcpyHtoD(g, &counter, sizeof(counter)));
	OK(cuStreamCreate(&t_s, 0));
	OK(cuEventCreate(&t_ev, 0));
	OK(cuMemAlloc(&t_info.a, NA));
	OK(cuMemAllocPitch(&t_info.p, &t_info.pitch, PITCH_W, PITCH_H, 4));
	EXPECT(t_info.pitch == 1024);
	ph = malloc(t_info.pitch * PITCH_H);
	for (size_t i = 0; i < t_info.pitch * PITCH_H / 4; i++)
		ph[i] = (unsigned)i * 3u;
	OK(cuMemcpyHtoD(t_info.p, ph, t_info.pitch * PITCH_H));
	free(ph);
	OK(cuMemAllocAsync(&t_info.b, NB, t_s));
	OK(cuMemsetD32Async(t_info.b, 0xabcd, NB / 4, t_s));
	/* VMM: one mapped range (its handle released: the mapping holds it)
	 * and one reservation with nothing mapped */
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = 0;
	OK(cuMemAddressReserve(&t_info.r, 2 * VMM, 0, 0, 0));
	OK(cuMemAddressReserve(&t_info.r2, VMM, 0, 0, 0));
	OK(cuMemCreate(&h, VMM, &prop, 0));
	OK(cuMemMap(t_info.r, VMM, 0, h, 0));
	OK(cuMemRelease(h));
	acc.location = prop.location;
	acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	OK(cuMemSetAccess(t_info.r, VMM, &acc, 1));
	OK(cuMemsetD8(t_info.r, 0x5a, VMM));
	/* queued work: a slow host function, then a kernel and an event; the
	 * lock must wait for all of it */
	OK(cuLaunchHostFunc(t_s, host_sleep, (void *)(intptr_t)400));
	fill(t_info.a, NA / 4, 7, t_s);
	OK(cuEventRecord(t_ev, t_s));
	put(wfd, &c, 1);
	put(wfd, &t_info, sizeof(t_info));
}

static void target_multi(void)
{
	char c = 'R';

	OK(cuInit(0));
	for (int i = 0; i < 2; i++) {
		CUdeviceptr *a = i ? &t_info.a1 : &t_info.a;

		OK(cuCtxCreate(&t_ctx[i], NULL, 0, i));
		OK(cuModuleLoad(&t_mod, getenv("GV_KERNEL_MODULE")));
		OK(cuModuleGetFunction(&t_fill, t_mod, "gv_fill"));
		OK(cuMemAlloc(a, NA));
		fill(*a, NA / 4, 100u + (unsigned)i, NULL);
		OK(cuCtxSynchronize());
		OK(cuCtxPopCurrent(NULL));
	}
	put(wfd, &c, 1);
	put(wfd, &t_info, sizeof(t_info));
}

/* 'v' + the UUIDs expected for ordinals 0 and 1: everything still works. */
static bool target_verify(const CUuuid *want, int n_dev)
{
	CUdeviceptr base, c, g;
	CUdevice dev;
	CUuuid u;
	size_t size, f, t;
	unsigned counter = 0, *h;
	bool ok = true;

	for (int i = 0; i < n_dev; i++) {
		CUdeviceptr a = i ? t_info.a1 : t_info.a;
		CUfunction fn;

		OK(cuCtxSetCurrent(t_ctx[i]));
		OK(cuCtxGetDevice(&dev));
		EXPECT(dev == i);
		OK(cuDeviceGetUuid(&u, dev));
		EXPECT(!memcmp(&u, &want[i], sizeof(u)));
		ok &= !memcmp(&u, &want[i], sizeof(u));
		OK(cuCtxSynchronize());
		OK(cuMemGetAddressRange(&base, &size, a));
		EXPECT(base == a && size == NA);
		ok &= check_fill(a, NA / 4, n_dev == 1 ? 7 : 100u + (unsigned)i);
		/* new memory and a kernel on the (new) device */
		OK(cuMemAlloc(&c, MIB));
		if (n_dev == 1) {
			fn = t_fill;
		} else {
			CUmodule m;

			OK(cuModuleLoad(&m, getenv("GV_KERNEL_MODULE")));
			OK(cuModuleGetFunction(&fn, m, "gv_fill"));
		}
		{
			struct gv_fill_args a2 = { (unsigned *)(uintptr_t)c, MIB / 4, 55 };
			void *params[] = { &a2 };

			OK(cuLaunchKernel(fn, MIB / 4 / 256, 1, 1, 256, 1, 1, 0, NULL, params,
					  NULL));
		}
		OK(cuCtxSynchronize());
		ok &= check_fill(c, MIB / 4, 55);
		OK(cuMemFree(c));
		OK(cuMemGetInfo(&f, &t));
		EXPECT(t == 80ull * 1024 * MIB && f < t);
	}
	if (n_dev > 1)
		return ok;
	/* the rest of the main target's objects */
	OK(cuEventQuery(t_ev));
	OK(cuModuleGetGlobal(&g, NULL, t_mod, "gv_counter"));
	OK(cuMemcpyDtoH(&counter, g, sizeof(counter)));
	EXPECT(counter == 4242);
	h = malloc(VMM); /* the largest of the three */
	OK(cuMemcpyDtoH(h, t_info.p, t_info.pitch * PITCH_H));
	for (size_t i = 0; i < t_info.pitch * PITCH_H / 4; i++)
		ok &= h[i] == (unsigned)i * 3u;
	OK(cuMemcpyDtoH(h, t_info.b, NB));
	for (size_t i = 0; i < NB / 4; i++)
		ok &= h[i] == 0xabcd;
	OK(cuMemcpyDtoH(h, t_info.r, VMM));
	for (size_t i = 0; i < VMM; i++)
		ok &= ((unsigned char *)h)[i] == 0x5a;
	free(h);
	/* stream and event still work, and the empty reservation can be mapped */
	OK(cuEventRecord(t_ev, t_s));
	OK(cuStreamSynchronize(t_s));
	OK(cuEventSynchronize(t_ev));
	{
		CUmemAllocationProp prop = { 0 };
		CUmemAccessDesc acc = { 0 };
		CUmemGenericAllocationHandle hh;

		prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
		prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
		prop.location.id = 0;
		OK(cuMemCreate(&hh, VMM, &prop, 0));
		OK(cuMemMap(t_info.r2, VMM, 0, hh, 0));
		acc.location = prop.location;
		acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
		OK(cuMemSetAccess(t_info.r2, VMM, &acc, 1));
		OK(cuMemsetD8(t_info.r2, 1, VMM));
		OK(cuMemUnmap(t_info.r2, VMM));
		OK(cuMemRelease(hh));
	}
	return ok;
}

static void target(const char *kind)
{
	pthread_t th;
	CUuuid want[2];
	char c;

	if (!strcmp(kind, "main")) {
		target_main();
	} else if (!strcmp(kind, "multi")) {
		target_multi();
	} else if (!strcmp(kind, "managed")) {
		CUdeviceptr m;

		OK(cuInit(0));
		OK(cuCtxCreate(&t_ctx[0], NULL, 0, 0));
		OK(cuMemAllocManaged(&m, MIB, CU_MEM_ATTACH_GLOBAL));
		c = 'R';
		put(wfd, &c, 1);
	}
	for (;;) {
		get(rfd, &c, 1);
		switch (c) {
		case 'p': /* a thread that calls the API now */
			EXPECT(pthread_create(&th, NULL, poker, NULL) == 0);
			pthread_detach(th);
			break;
		case 't': /* queue a long host function */
			OK(cuLaunchHostFunc(t_s, host_sleep, (void *)(intptr_t)1500));
			c = 'Q';
			put(wfd, &c, 1);
			break;
		case 'v':
		case 'w':
			get(rfd, want, sizeof(want));
			c = target_verify(want, c == 'v' ? 1 : 2) ? 'V' : 'F';
			put(wfd, &c, 1);
			break;
		case 'q':
			exit(0);
		default:
			exit(2);
		}
	}
}

/* ---- the controller ---- */

static pid_t spawn(const char *self, const char *kind, const char *cvd, int *to, int *from)
{
	int a[2], b[2];
	pid_t pid;

	EXPECT(pipe(a) == 0 && pipe(b) == 0);
	pid = fork();
	if (pid == 0) {
		char r[16], w[16];

		/* a failing controller must not leave its target behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(r, sizeof(r), "%d", a[0]);
		snprintf(w, sizeof(w), "%d", b[1]);
		if (cvd)
			setenv("CUDA_VISIBLE_DEVICES", cvd, 1);
		execl(self, self, "target", kind, r, w, (char *)NULL);
		_exit(127);
	}
	close(a[0]);
	close(b[1]);
	*to = a[1];
	*from = b[0];
	return pid;
}

static size_t free_on(CUcontext c)
{
	size_t f = 0, t;

	OK(cuCtxSetCurrent(c));
	OK(cuMemGetInfo(&f, &t));
	return f;
}

static CUprocessState state_of(pid_t pid)
{
	CUprocessState s = (CUprocessState)-1;

	OK(cuCheckpointProcessGetState(pid, &s));
	return s;
}

/* Is [p, p + n) inside one inaccessible (---p) mapping of pid? */
static bool inaccessible(pid_t pid, CUdeviceptr p, size_t n)
{
	char path[64], line[512], perms[8];
	unsigned long lo, hi;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && p >= lo && p + n <= hi)
			found = !strncmp(perms, "---", 3);
	fclose(f);
	return found;
}

static void verify(int to, int from, char cmd, const CUuuid *want)
{
	char c;

	put(to, &cmd, 1);
	put(to, want, 2 * sizeof(CUuuid));
	do /* 'T': the long host function ended meanwhile */
		get(from, &c, 1);
	while (c == 'T');
	EXPECT(c == 'V');
}

static void managed_refused(const char *self)
{
	int to, from, st;
	char c;
	pid_t pid = spawn(self, "managed", NULL, &to, &from);

	get(from, &c, 1);
	EXPECT(c == 'R');
	OK(cuCheckpointProcessLock(pid, NULL));
	EXPECT_RC(cuCheckpointProcessCheckpoint(pid, NULL), CUDA_ERROR_NOT_SUPPORTED);
	EXPECT(state_of(pid) == CU_PROCESS_STATE_LOCKED);
	OK(cuCheckpointProcessUnlock(pid, NULL));
	c = 'q';
	put(to, &c, 1);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void scenario_two(const char *self)
{
	CUcontext c0, c1;
	CUuuid u[2], want[2];
	CUcheckpointLockArgs la = { 0 };
	CUcheckpointRestoreArgs ra = { 0 };
	CUcheckpointGpuPair swap[2], bad[2];
	CUdeviceptr filler;
	struct info in;
	size_t f0, f1, f1b;
	int to, from, tid = 0, st;
	pid_t pid, plain;
	char c, path[64];

	/* a process that never called cuInit is no CUDA process */
	plain = fork();
	if (plain == 0) {
		pause();
		_exit(0);
	}
	pid = spawn(self, "main", NULL, &to, &from);
	OK(cuInit(0));
	OK(cuDeviceGetUuid(&u[0], 0));
	OK(cuDeviceGetUuid(&u[1], 1));
	OK(cuCtxCreate(&c1, NULL, 0, 1));
	OK(cuCtxCreate(&c0, NULL, 0, 0));
	usleep(100000);
	EXPECT_RC(cuCheckpointProcessGetState(plain, &(CUprocessState){ 0 }),
		  CUDA_ERROR_NOT_INITIALIZED);
	kill(plain, SIGKILL);
	waitpid(plain, &st, 0);
	EXPECT_RC(cuCheckpointProcessGetState(0x3ffffff0, &(CUprocessState){ 0 }),
		  CUDA_ERROR_INVALID_VALUE);
	EXPECT_RC(cuCheckpointProcessGetState(pid, NULL), CUDA_ERROR_INVALID_VALUE);

	get(from, &c, 1);
	EXPECT(c == 'R');
	get(from, &in, sizeof(in));
	EXPECT(state_of(pid) == CU_PROCESS_STATE_RUNNING);
	OK(cuCheckpointProcessGetRestoreThreadId(pid, &tid));
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, tid);
	EXPECT(tid > 0 && tid != pid && access(path, F_OK) == 0);

	/* wrong states and reserved fields */
	EXPECT_RC(cuCheckpointProcessCheckpoint(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	EXPECT_RC(cuCheckpointProcessRestore(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	EXPECT_RC(cuCheckpointProcessUnlock(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	la.reserved0 = 1;
	EXPECT_RC(cuCheckpointProcessLock(pid, &la), CUDA_ERROR_INVALID_VALUE);
	la.reserved0 = 0;
	la.reserved1[6] = 1;
	EXPECT_RC(cuCheckpointProcessLock(pid, &la), CUDA_ERROR_INVALID_VALUE);
	la.reserved1[6] = 0;
	EXPECT(state_of(pid) == CU_PROCESS_STATE_RUNNING);

	/* lock waits for the queued work (400 ms host function, kernel, event) */
	f0 = free_on(c0);
	OK(cuCheckpointProcessLock(pid, &la));
	EXPECT(poll_byte(from, 0) == 'H');
	EXPECT(state_of(pid) == CU_PROCESS_STATE_LOCKED);
	EXPECT_RC(cuCheckpointProcessLock(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	EXPECT_RC(cuCheckpointProcessRestore(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	/* the target's calls block */
	c = 'p';
	put(to, &c, 1);
	EXPECT(poll_byte(from, 300) == 0);

	/* checkpoint: the device memory is free for others, the ranges stay
	 * reserved and inaccessible */
	OK(cuCheckpointProcessCheckpoint(pid, NULL));
	EXPECT(state_of(pid) == CU_PROCESS_STATE_CHECKPOINTED);
	EXPECT(free_on(c0) == f0 + MAIN_CHARGE);
	EXPECT(inaccessible(pid, in.a, NA));
	EXPECT(inaccessible(pid, in.r, VMM));	    /* mapped */
	EXPECT(inaccessible(pid, in.r + VMM, VMM)); /* reserved only */
	EXPECT(inaccessible(pid, in.r2, VMM));
	EXPECT_RC(cuCheckpointProcessCheckpoint(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	EXPECT_RC(cuCheckpointProcessUnlock(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);
	EXPECT_RC(cuCheckpointProcessLock(pid, NULL), CUDA_ERROR_ILLEGAL_STATE);

	/* no room on GPU 1: refused, still CHECKPOINTED, nothing charged */
	f1 = free_on(c1);
	OK(cuMemAlloc(&filler, f1 - MAIN_CHARGE / 2));
	f1b = free_on(c1);
	swap[0] = (CUcheckpointGpuPair){ u[0], u[1] };
	swap[1] = (CUcheckpointGpuPair){ u[1], u[0] };
	ra.gpuPairs = swap;
	ra.gpuPairsCount = 2;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_OUT_OF_MEMORY);
	EXPECT(state_of(pid) == CU_PROCESS_STATE_CHECKPOINTED);
	EXPECT(free_on(c1) == f1b && free_on(c0) == f0 + MAIN_CHARGE);
	/* gpuPairs must name every GPU once, onto distinct known GPUs */
	ra.gpuPairsCount = 1;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	bad[0] = swap[0];
	bad[1] = (CUcheckpointGpuPair){ u[1], u[1] };
	ra.gpuPairs = bad;
	ra.gpuPairsCount = 2;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	bad[1] = (CUcheckpointGpuPair){ u[1], { { 1, 2, 3 } } };
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	ra.gpuPairs = NULL;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	ra.gpuPairsCount = 0;
	ra.reserved1 = 1;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	EXPECT(state_of(pid) == CU_PROCESS_STATE_CHECKPOINTED);

	/* restore where it was */
	OK(cuCheckpointProcessRestore(pid, NULL));
	EXPECT(state_of(pid) == CU_PROCESS_STATE_LOCKED);
	EXPECT(free_on(c0) == f0);
	EXPECT(poll_byte(from, 100) == 0); /* still blocked */
	OK(cuCheckpointProcessUnlock(pid, NULL));
	EXPECT(poll_byte(from, 5000) == 'P');
	EXPECT(state_of(pid) == CU_PROCESS_STATE_RUNNING);
	want[0] = u[0];
	want[1] = u[1];
	verify(to, from, 'v', want);

	/* again, onto GPU 1 */
	OK(cuMemFree(filler));
	f1 = free_on(c1);
	f0 = free_on(c0);
	OK(cuCheckpointProcessLock(pid, NULL));
	OK(cuCheckpointProcessCheckpoint(pid, NULL));
	EXPECT(free_on(c0) == f0 + MAIN_CHARGE);
	ra = (CUcheckpointRestoreArgs){ 0 };
	ra.gpuPairs = swap;
	ra.gpuPairsCount = 2;
	OK(cuCheckpointProcessRestore(pid, &ra));
	EXPECT(free_on(c0) == f0 + MAIN_CHARGE);
	EXPECT(free_on(c1) == f1 - MAIN_CHARGE);
	OK(cuCheckpointProcessUnlock(pid, NULL));
	want[0] = u[1];
	verify(to, from, 'v', want);

	/* a lock that times out leaves the process RUNNING */
	c = 't';
	put(to, &c, 1);
	get(from, &c, 1);
	EXPECT(c == 'Q');
	la.timeoutMs = 100;
	EXPECT_RC(cuCheckpointProcessLock(pid, &la), CUDA_ERROR_NOT_READY);
	EXPECT(state_of(pid) == CU_PROCESS_STATE_RUNNING);
	verify(to, from, 'v', want); /* waits for the host function */

	c = 'q';
	put(to, &c, 1);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the target's charge is gone with it */
	EXPECT(free_on(c1) == f1);

	managed_refused(self);
}

static void scenario_four(const char *self)
{
	CUcontext cx[5];
	CUuuid u[5], want[2];
	CUcheckpointRestoreArgs ra = { 0 };
	CUcheckpointGpuPair pairs[2];
	struct info in;
	size_t f[5];
	int to, from, st, n;
	pid_t pid;
	char c;

	pid = spawn(self, "multi", "0,1", &to, &from);
	OK(cuInit(0));
	OK(cuDeviceGetCount(&n));
	EXPECT(n == 5);
	for (int i = 0; i < 5; i++) {
		OK(cuDeviceGetUuid(&u[i], i));
		OK(cuCtxCreate(&cx[i], NULL, 0, i));
	}
	get(from, &c, 1);
	EXPECT(c == 'R');
	get(from, &in, sizeof(in));
	for (int i = 0; i < 5; i++)
		f[i] = free_on(cx[i]);
	OK(cuCheckpointProcessLock(pid, NULL));
	OK(cuCheckpointProcessCheckpoint(pid, NULL));
	EXPECT(free_on(cx[0]) == f[0] + 16 * MIB + NA);
	EXPECT(free_on(cx[1]) == f[1] + 16 * MIB + NA);

	ra.gpuPairs = pairs;
	pairs[0] = (CUcheckpointGpuPair){ u[0], u[2] };
	pairs[1] = (CUcheckpointGpuPair){ u[1], u[4] }; /* an A100 */
	ra.gpuPairsCount = 1;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	ra.gpuPairsCount = 2;
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	pairs[1] = (CUcheckpointGpuPair){ u[1], u[2] };
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	pairs[1] = (CUcheckpointGpuPair){ u[2], u[3] }; /* not one of its GPUs */
	EXPECT_RC(cuCheckpointProcessRestore(pid, &ra), CUDA_ERROR_INVALID_VALUE);
	EXPECT(state_of(pid) == CU_PROCESS_STATE_CHECKPOINTED);
	pairs[1] = (CUcheckpointGpuPair){ u[1], u[3] };
	OK(cuCheckpointProcessRestore(pid, &ra));
	EXPECT(free_on(cx[0]) == f[0] + 16 * MIB + NA);
	EXPECT(free_on(cx[1]) == f[1] + 16 * MIB + NA);
	EXPECT(free_on(cx[2]) == f[2] - 16 * MIB - NA);
	EXPECT(free_on(cx[3]) == f[3] - 16 * MIB - NA);
	EXPECT(free_on(cx[4]) == f[4]);
	OK(cuCheckpointProcessUnlock(pid, NULL));
	want[0] = u[2];
	want[1] = u[3];
	verify(to, from, 'w', want);

	/* and back, in one move */
	OK(cuCheckpointProcessLock(pid, NULL));
	OK(cuCheckpointProcessCheckpoint(pid, NULL));
	pairs[0] = (CUcheckpointGpuPair){ u[2], u[0] };
	pairs[1] = (CUcheckpointGpuPair){ u[3], u[1] };
	OK(cuCheckpointProcessRestore(pid, &ra));
	OK(cuCheckpointProcessUnlock(pid, NULL));
	EXPECT(free_on(cx[2]) == f[2] && free_on(cx[3]) == f[3]);
	verify(to, from, 'w', u);

	c = 'q';
	put(to, &c, 1);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "target")) {
		rfd = atoi(argv[3]);
		wfd = atoi(argv[4]);
		target(argv[2]);
		return 0;
	}
	EXPECT(getenv("GV_KERNEL_MODULE") != NULL);
	if (argc == 2 && !strcmp(argv[1], "two"))
		scenario_two("/proc/self/exe");
	else if (argc == 2 && !strcmp(argv[1], "four"))
		scenario_four("/proc/self/exe");
	else
		return 2;
	return 0;
}

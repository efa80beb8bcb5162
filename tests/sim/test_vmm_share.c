/* Exportable VMM memory between processes, as the pre-copy design uses it
 * (docs/migration.md): this program creates memory and runs itself again
 * (exec) as a peer process, passing descriptors over a Unix socket
 * (SCM_RIGHTS) and driving the peer with small requests.
 *
 *   test_sim_vmm_share share   one allocation exported here and imported
 *                              there: the same bytes both ways, charged once
 *                              (cuMemGetInfo agrees in both processes),
 *                              freed at the last release whichever process
 *                              lets go last, kept by a plain descriptor.
 *   test_sim_vmm_share ckpt    the checkpoint of a peer holding exportable
 *                              memory, by the rules measured on an H200
 *                              (src/sim/sim_vmm.c's policy table): a plain
 *                              fd survives and imports at the old address
 *                              after the restore; an imported handle held
 *                              breaks the restore; an imported mapping is
 *                              refused; an exported fd kept open keeps the
 *                              memory while checkpointed and holds it twice
 *                              after the restore.
 *   test_sim_vmm_share remap   the same kept fd across a restore onto the
 *                              other GPU (gpuPairs): the original stays
 *                              charged on the GPU the peer left until the
 *                              fd is closed, the copy on the GPU it went
 *                              to, and closing the fd takes nothing from
 *                              that one.
 *
 * GPUVISOR_SIM_MODELS=h100-80gb:1 (remap: h100-80gb:2), the devices shared
 * through the test's accounting directory. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simtest.h"

#include "gpuvisor/fdpass.h"

#define N (64 * MIB)
#define CTX (16 * MIB) /* what a context charges (SIM_CTX_OVERHEAD) */

struct msg {
	char op;
	uint64_t a[3];
};

/* ---- messages, with at most one descriptor ---- */

static void send_msg(int s, char op, uint64_t a0, uint64_t a1, int fd)
{
	struct msg m = { op, { a0, a1, 0 } };

	if (gv_fdpass_send(s, &m, sizeof(m), &fd, fd >= 0 ? 1 : 0) != 0) {
		fprintf(stderr, "sendmsg failed\n");
		exit(1);
	}
}

static struct msg recv_msg(int s, int *fd)
{
	struct msg m;
	int got = -1;
	size_t n = 0;

	if (gv_fdpass_recv(s, &m, sizeof(m), 0, &got, 1, &n, NULL) != (ssize_t)sizeof(m)) {
		fprintf(stderr, "recvmsg failed (peer gone)\n");
		exit(1);
	}
	if (fd)
		*fd = n ? got : -1;
	else if (n)
		close(got);
	return m;
}

/* ---- one allocation's life in a process (both sides) ---- */

struct alloc {
	CUmemGenericAllocationHandle h;
	CUdeviceptr va;
	int fd; /* a descriptor held (exported here, or received) */
};

static CUmemAllocationProp sprop(void)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = 0;
	p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return p;
}

static CUresult map_at(struct alloc *x)
{
	CUmemAccessDesc d;
	CUresult r;

	memset(&d, 0, sizeof(d));
	d.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	d.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	if (!x->va && (r = cuMemAddressReserve(&x->va, N, 0, 0, 0)) != CUDA_SUCCESS)
		return r;
	r = cuMemMap(x->va, N, 0, x->h, 0);
	return r != CUDA_SUCCESS ? r : cuMemSetAccess(x->va, N, &d, 1);
}

static size_t free_now(void)
{
	size_t f = 0, t;

	OK(cuMemGetInfo(&f, &t));
	return f;
}

static unsigned peek(CUdeviceptr p)
{
	unsigned v = 0;

	OK(cuMemcpyDtoH(&v, p, sizeof(v)));
	return v;
}

/* ---- the peer: serves requests until 'q' ----
 * i: import the descriptor held      m: map (at the reservation kept, if any)
 * r a0: read the word at offset a0   w a0 a1: write a1 there
 * u: unmap (the reservation stays)   R: release the handle
 * c: close the descriptor held       f: cuMemGetInfo's free
 * C: create and map an allocation    E: export it (the descriptor is held)
 * d: receive a descriptor to hold    q: exit
 * Every request is answered with 'k', a0 = the CUresult, a1 = a value. */
static int peer(int s)
{
	struct alloc x = { 0, 0, -1 };
	CUcontext ctx;
	CUmemAllocationProp p = sprop();

	OK(cuInit(0));
	OK(cuDevicePrimaryCtxRetain(&ctx, 0));
	OK(cuCtxSetCurrent(ctx));
	for (;;) {
		int fd;
		struct msg m = recv_msg(s, &fd);
		CUresult r = CUDA_SUCCESS;
		uint64_t v = 0;
		unsigned w;

		switch (m.op) {
		case 'd':
			x.fd = fd;
			break;
		case 'i':
			r = cuMemImportFromShareableHandle(
				&x.h, (void *)(uintptr_t)x.fd,
				CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
			break;
		case 'm':
			r = map_at(&x);
			v = x.va;
			break;
		case 'r':
			r = cuMemcpyDtoH(&w, x.va + m.a[0], sizeof(w));
			v = w;
			break;
		case 'w':
			w = (unsigned)m.a[1];
			r = cuMemcpyHtoD(x.va + m.a[0], &w, sizeof(w));
			break;
		case 'u':
			r = cuMemUnmap(x.va, N);
			break;
		case 'R':
			r = cuMemRelease(x.h);
			break;
		case 'c':
			close(x.fd);
			x.fd = -1;
			break;
		case 'f':
			v = free_now();
			break;
		case 'C':
			r = cuMemCreate(&x.h, N, &p, 0);
			if (r == CUDA_SUCCESS)
				r = map_at(&x);
			if (r == CUDA_SUCCESS)
				r = cuMemsetD32(x.va, (unsigned)m.a[0], N / 4);
			v = x.va;
			break;
		case 'E':
			r = cuMemExportToShareableHandle(
				&x.fd, x.h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0);
			break;
		case 'q':
			return 0;
		default:
			return 2;
		}
		send_msg(s, 'k', (uint64_t)r, v, -1);
	}
}

/* ---- the controller's side ---- */

static int ps = -1; /* socket to the peer */
static pid_t ppid_;

static void spawn(const char *self)
{
	int sv[2];

	EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	ppid_ = fork();
	if (ppid_ == 0) {
		char a[16];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		snprintf(a, sizeof(a), "%d", sv[1]);
		/* the peer's end survives exec */
		fcntl(sv[1], F_SETFD, 0);
		execl(self, self, "peer", a, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	ps = sv[0];
}

/* One request; returns the CUresult, *v the value. */
static CUresult ask(char op, uint64_t a0, uint64_t a1, int fd, uint64_t *v)
{
	struct msg m;

	send_msg(ps, op, a0, a1, fd);
	m = recv_msg(ps, NULL);
	EXPECT(m.op == 'k');
	if (v)
		*v = m.a[1];
	return (CUresult)m.a[0];
}

#define ASK_OK(op, a0, a1) OK(ask(op, a0, a1, -1, NULL))

static uint64_t peer_free(void)
{
	uint64_t v = 0;

	OK(ask('f', 0, 0, -1, &v));
	return v;
}

static void stop_peer(void)
{
	int st;

	send_msg(ps, 'q', 0, 0, -1);
	EXPECT(waitpid(ppid_, &st, 0) == ppid_ && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(ps);
}

/* Creates, maps and fills an exportable allocation here; x->fd exported. */
static void make(struct alloc *x, unsigned fill)
{
	CUmemAllocationProp p = sprop();

	x->va = 0;
	OK(cuMemCreate(&x->h, N, &p, 0));
	OK(map_at(x));
	OK(cuMemsetD32(x->va, fill, N / 4));
	OK(cuMemExportToShareableHandle(&x->fd, x->h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
}

static void unmake(struct alloc *x)
{
	OK(cuMemUnmap(x->va, N));
	OK(cuMemAddressFree(x->va, N));
	OK(cuMemRelease(x->h));
}

static void scenario_share(const char *self)
{
	struct alloc x;
	size_t f0, f1;
	uint64_t v;

	spawn(self);
	peer_free(); /* the peer has its context: its charge is in f0 */
	f0 = free_now();
	EXPECT(peer_free() == f0);

	/* 1. exported here, imported and mapped there: the same bytes */
	make(&x, 0xabcd0001u);
	OK(ask('d', 0, 0, x.fd, NULL));
	ASK_OK('i', 0, 0);
	ASK_OK('m', 0, 0);
	OK(ask('r', 4096, 0, -1, &v));
	EXPECT(v == 0xabcd0001u);
	ASK_OK('w', 8, 0x5151u);
	EXPECT(peek(x.va + 8) == 0x5151u);
	/* charged once, and both processes see it so */
	f1 = free_now();
	EXPECT(f0 - f1 == N);
	EXPECT(peer_free() == f1);
	/* this side lets go first: the memory stays, still charged */
	close(x.fd);
	unmake(&x);
	EXPECT(free_now() == f1);
	OK(ask('r', 8, 0, -1, &v));
	EXPECT(v == 0x5151u);
	/* ... until the peer's last release, and its descriptor closed */
	ASK_OK('u', 0, 0);
	ASK_OK('R', 0, 0);
	EXPECT(free_now() == f1);
	ASK_OK('c', 0, 0);
	EXPECT(free_now() == f0);
	EXPECT(peer_free() == f0);

	/* 2. the peer lets go first: freed at this side's release */
	make(&x, 2);
	OK(ask('d', 0, 0, x.fd, NULL));
	close(x.fd);
	ASK_OK('i', 0, 0);
	ASK_OK('m', 0, 0);
	ASK_OK('c', 0, 0);
	EXPECT(free_now() == f0 - N);
	ASK_OK('u', 0, 0);
	ASK_OK('R', 0, 0);
	EXPECT(free_now() == f0 - N);
	unmake(&x);
	EXPECT(free_now() == f0);
	EXPECT(peer_free() == f0);

	/* 3. a plain descriptor in the peer keeps the memory, contents and
	 * charge, after every handle is gone; importing it later works */
	make(&x, 3);
	OK(ask('d', 0, 0, x.fd, NULL));
	close(x.fd);
	unmake(&x);
	EXPECT(free_now() == f0 - N);
	EXPECT(peer_free() == f0 - N);
	ASK_OK('i', 0, 0);
	ASK_OK('m', 0, 0);
	OK(ask('r', N - 4, 0, -1, &v));
	EXPECT(v == 3);
	ASK_OK('u', 0, 0);
	ASK_OK('R', 0, 0);
	EXPECT(free_now() == f0 - N);
	ASK_OK('c', 0, 0);
	EXPECT(free_now() == f0);

	/* 4. the peer's errors: a descriptor of nothing exported */
	{
		int pfd[2];

		EXPECT(pipe(pfd) == 0);
		OK(ask('d', 0, 0, pfd[0], NULL));
		close(pfd[0]);
		close(pfd[1]);
		EXPECT(ask('i', 0, 0, -1, NULL) == CUDA_ERROR_INVALID_VALUE);
		ASK_OK('c', 0, 0);
	}
	stop_peer();
}

static CUprocessState state_of(pid_t pid)
{
	CUprocessState s = (CUprocessState)-1;

	OK(cuCheckpointProcessGetState(pid, &s));
	return s;
}

static void checkpoint_ok(void)
{
	OK(cuCheckpointProcessLock(ppid_, NULL));
	OK(cuCheckpointProcessCheckpoint(ppid_, NULL));
	EXPECT(state_of(ppid_) == CU_PROCESS_STATE_CHECKPOINTED);
}

static void restore_ok(void)
{
	OK(cuCheckpointProcessRestore(ppid_, NULL));
	OK(cuCheckpointProcessUnlock(ppid_, NULL));
	EXPECT(state_of(ppid_) == CU_PROCESS_STATE_RUNNING);
}

static void scenario_ckpt(const char *self)
{
	struct alloc x;
	size_t f0;
	uint64_t v, va;
	int st;

	/* "design": the peer holds this process's memory as a plain fd across
	 * its checkpoint, then imports and maps it at the old address */
	spawn(self);
	peer_free();
	f0 = free_now();
	make(&x, 0x600d);
	OK(ask('d', 0, 0, x.fd, NULL));
	close(x.fd);
	ASK_OK('i', 0, 0);
	OK(ask('m', 0, 0, -1, &va));
	ASK_OK('u', 0, 0); /* unmapped, the reservation stays */
	ASK_OK('R', 0, 0);
	checkpoint_ok();
	/* the peer's context is free for others; this memory is not (ours) */
	EXPECT(free_now() == f0 - N + CTX);
	restore_ok();
	EXPECT(free_now() == f0 - N);
	ASK_OK('i', 0, 0);
	OK(ask('m', 0, 0, -1, &v));
	EXPECT(v == va);
	OK(ask('r', 1024, 0, -1, &v));
	EXPECT(v == 0x600d);
	ASK_OK('u', 0, 0);
	ASK_OK('R', 0, 0);
	ASK_OK('c', 0, 0);

	/* "import-mapped": refused (the driver hung), the peer stays LOCKED
	 * and goes on after the unlock */
	{
		int fd;

		OK(cuMemExportToShareableHandle(&fd, x.h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
						0));
		OK(ask('d', 0, 0, fd, NULL));
		close(fd);
	}
	ASK_OK('i', 0, 0);
	ASK_OK('m', 0, 0);
	OK(cuCheckpointProcessLock(ppid_, NULL));
	EXPECT_RC(cuCheckpointProcessCheckpoint(ppid_, NULL), CUDA_ERROR_NOT_SUPPORTED);
	EXPECT(state_of(ppid_) == CU_PROCESS_STATE_LOCKED);
	OK(cuCheckpointProcessUnlock(ppid_, NULL));
	OK(ask('r', 0, 0, -1, &v));
	EXPECT(v == 0x600d);
	ASK_OK('u', 0, 0);

	/* "import-held": the checkpoint succeeds, the restore does not, and
	 * the peer stays CHECKPOINTED for good */
	checkpoint_ok();
	EXPECT_RC(cuCheckpointProcessRestore(ppid_, NULL), CUDA_ERROR_NOT_SUPPORTED);
	EXPECT(state_of(ppid_) == CU_PROCESS_STATE_CHECKPOINTED);
	EXPECT_RC(cuCheckpointProcessUnlock(ppid_, NULL), CUDA_ERROR_ILLEGAL_STATE);
	kill(ppid_, SIGKILL);
	EXPECT(waitpid(ppid_, &st, 0) == ppid_);
	close(ps);
	/* its handle died with it (its context's charge went at the
	 * checkpoint); this side's handle is the last */
	EXPECT(free_now() == f0 - N + CTX);
	unmake(&x);
	EXPECT(free_now() == f0 + CTX);

	/* "vmm-export-mapped": the peer's own exportable memory, its exported
	 * fd kept open: not freed while checkpointed, held twice after */
	spawn(self);
	peer_free();
	f0 = free_now();
	OK(ask('C', 0x77, 0, -1, &va));
	ASK_OK('E', 0, 0);
	EXPECT(free_now() == f0 - N);
	checkpoint_ok();
	EXPECT(free_now() == f0 - N + CTX);
	restore_ok();
	EXPECT(free_now() == f0 - 2 * N);
	OK(ask('r', N - 4, 0, -1, &v));
	EXPECT(v == 0x77);
	ASK_OK('w', 0, 0x99);
	OK(ask('r', 0, 0, -1, &v));
	EXPECT(v == 0x99);
	/* the original goes when the fd that held it is closed */
	ASK_OK('c', 0, 0);
	EXPECT(peer_free() == f0 - N);

	/* the same with the fd closed before the checkpoint: plain memory,
	 * freed while checkpointed and held once after */
	ASK_OK('E', 0, 0);
	ASK_OK('c', 0, 0);
	checkpoint_ok();
	EXPECT(free_now() == f0 + CTX);
	restore_ok();
	EXPECT(free_now() == f0 - N);
	OK(ask('r', 0, 0, -1, &v));
	EXPECT(v == 0x99);
	stop_peer();
	EXPECT(free_now() == f0 + CTX);
}

/* cuMemGetInfo's free on device dev, from a context of this process there */
static size_t free_on(int dev)
{
	CUcontext c;
	CUdevice d;
	size_t f;

	OK(cuDeviceGet(&d, dev));
	OK(cuDevicePrimaryCtxRetain(&c, d));
	OK(cuCtxSetCurrent(c));
	f = free_now();
	OK(cuDevicePrimaryCtxRelease(d));
	return f;
}

static void scenario_remap(const char *self)
{
	CUcheckpointGpuPair pair;
	CUcheckpointRestoreArgs ra;
	CUdevice d;
	CUcontext c1;
	size_t f0, f1;
	uint64_t v, va;

	/* this process keeps a context on both devices: their charges stay */
	OK(cuDeviceGet(&d, 1));
	OK(cuDevicePrimaryCtxRetain(&c1, d));
	/* the peer sees gpu 0 only, so that one pair names all its devices */
	setenv("CUDA_VISIBLE_DEVICES", "0", 1);
	spawn(self);
	unsetenv("CUDA_VISIBLE_DEVICES");
	peer_free();
	f0 = free_on(0);
	f1 = free_on(1);
	OK(ask('C', 0x5a, 0, -1, &va));
	ASK_OK('E', 0, 0);
	EXPECT(free_on(0) == f0 - N);
	memset(&pair, 0, sizeof(pair));
	memset(&ra, 0, sizeof(ra));
	OK(cuDeviceGet(&d, 0));
	OK(cuDeviceGetUuid(&pair.oldUuid, d));
	OK(cuDeviceGet(&d, 1));
	OK(cuDeviceGetUuid(&pair.newUuid, d));
	ra.gpuPairs = &pair;
	ra.gpuPairsCount = 1;
	OK(cuCheckpointProcessLock(ppid_, NULL));
	OK(cuCheckpointProcessCheckpoint(ppid_, NULL));
	OK(cuCheckpointProcessRestore(ppid_, &ra));
	OK(cuCheckpointProcessUnlock(ppid_, NULL));
	/* the original, which the peer's fd holds, stays on gpu 0; the
	 * peer's context and the copy are on gpu 1 */
	EXPECT(free_on(0) == f0 - N + CTX);
	EXPECT(free_on(1) == f1 - N - CTX);
	OK(ask('r', 0, 0, -1, &v));
	EXPECT(v == 0x5a);
	OK(ask('r', N - 4, 0, -1, &v));
	EXPECT(v == 0x5a);
	/* the fd closed, the original goes from gpu 0 at the peer's next
	 * cuMemGetInfo; gpu 1 keeps the copy's charge */
	ASK_OK('c', 0, 0);
	peer_free();
	EXPECT(free_on(0) == f0 + CTX);
	EXPECT(free_on(1) == f1 - N - CTX);
	stop_peer();
	EXPECT(free_on(0) == f0 + CTX);
	EXPECT(free_on(1) == f1);
	OK(cuDevicePrimaryCtxRelease(d));
}

int main(int argc, char **argv)
{
	CUcontext ctx;

	if (argc == 3 && !strcmp(argv[1], "peer"))
		return peer(atoi(argv[2]));
	if (argc != 2)
		return 2;
	OK(cuInit(0));
	OK(cuDevicePrimaryCtxRetain(&ctx, 0));
	OK(cuCtxSetCurrent(ctx));
	if (!strcmp(argv[1], "share"))
		scenario_share(argv[0]);
	else if (!strcmp(argv[1], "ckpt"))
		scenario_ckpt(argv[0]);
	else if (!strcmp(argv[1], "remap"))
		scenario_remap(argv[0]);
	else
		return 2;
	printf("test_sim_vmm_share %s: ok\n", argv[1]);
	return 0;
}

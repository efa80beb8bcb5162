/* The driver's checkpoint API (cuCheckpointProcess*), driven by another
 * process with the target's pid, as NVIDIA's driver is.
 *
 * Every process whose cuInit succeeded listens on a Unix socket (its
 * "control endpoint") served by one thread (the thread
 * cuCheckpointProcessGetRestoreThreadId names). The controller's
 * cuCheckpointProcess* connect to it, send one request and read one answer;
 * all the work happens in the target, on that thread.
 *
 * The endpoint is a file in the directory of the simulated devices'
 * accounting files ($GPUVISOR_SIM_SHM_DIR, default /dev/shm), named
 * gpuvisor-sim-ckpt-<pid namespace inode>-<pid>.sock with the pid as the
 * target sees itself. A directory rather than the abstract namespace: the
 * abstract namespace belongs to the network namespace, which says nothing
 * about pids, while the accounting directory is by construction shared by
 * every process that shares the simulated devices. The pid namespace is in
 * the name because pids repeat across namespaces; the controller reads both
 * from /proc/<pid> (ns/pid and the last NSpid field of status), so a
 * controller in a parent namespace (the daemon, a container's workload)
 * finds the endpoint by the pid it knows. Both sides check the other with
 * SO_PEERCRED: the target answers only root or its own uid, and the
 * controller talks only to a socket whose owner is the pid it asked for
 * (so a stale file of a dead process is never mistaken for a live one).
 *
 * States (cuda.h, CUprocessState): RUNNING -lock-> LOCKED -checkpoint->
 * CHECKPOINTED -restore-> LOCKED -unlock-> RUNNING; anything else is
 * CUDA_ERROR_ILLEGAL_STATE, as cuda.h lists for lock, checkpoint, restore
 * and unlock.
 *
 * Lock closes the gate (sim_gate in sim_check_init: every later call of the
 * target blocks), waits until no state-changing section is in flight, then
 * until every stream of every context is idle. Checkpoint copies all device
 * memory of the process (cuMemAlloc, pitch and stream-ordered allocations,
 * VMM physical memory as sim_vmm.c's policy says) into host memory, gives
 * the pages back, leaves the address ranges mapped PROT_NONE (so that no
 * other mapping of the process can land there while it is checkpointed:
 * the gVisor pitfall of shared/reference/checkpoint.md) and uncharges
 * everything the process had charged to each device, contexts included.
 * Restore charges it again (all or nothing), on the same devices or, with
 * gpuPairs, on others of the same model, and refills the memory at the same
 * addresses. docs/simulator.md ("Checkpoint") has the rules and where this
 * differs from the driver.
 *
 * sim_init.c starts this controller at cuInit (sim_ckpt_start), and this
 * file uses its device identities and cuInit for a restore: the one loop
 * between the two, the start-up's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sim_internal.h"

/* Lock's timeout: cuda.h lists CUDA_ERROR_NOT_READY among
 * cuCheckpointProcessLock's results and not CUDA_ERROR_TIMEOUT ("work
 * issued previously has not completed yet" is what a lock timeout means).
 * One constant, in case a driver answers otherwise. */
#define SIM_CKPT_LOCK_TIMEOUT_RC CUDA_ERROR_NOT_READY
/* A pid that is no CUDA process (never called cuInit, or cuInit failed):
 * cuda.h lists CUDA_ERROR_NOT_INITIALIZED ("the CUDA driver has not been
 * initialized with cuInit()") for every cuCheckpointProcess* call; that is
 * the target's condition. A pid that names no process at all is
 * CUDA_ERROR_INVALID_VALUE, the other code listed. */
#define SIM_CKPT_NOT_CUDA_RC CUDA_ERROR_NOT_INITIALIZED

/* ---- the target's side: state and the four operations ----
 * All run on the control thread, one request at a time, so the state and
 * the saved memory need no lock of their own. */

static atomic_int ck_state = CU_PROCESS_STATE_RUNNING;

struct saved_range {
	uintptr_t start;
	size_t len;
	void *buf;
	struct saved_range *next;
};
static struct saved_range *ck_saved;	    /* device-heap contents */
static uint64_t ck_bytes[GV_NODE_MAX_GPUS]; /* charge given back, per ordinal */
static uint64_t ck_kept[GV_NODE_MAX_GPUS];  /* charge kept: memory others hold */

static void saved_free(void)
{
	while (ck_saved) {
		struct saved_range *r = ck_saved;

		ck_saved = r->next;
		free(r->buf);
		free(r);
	}
}

static CUresult do_lock(unsigned timeout_ms)
{
	struct timespec dl, *deadline = NULL;

	if (atomic_load(&ck_state) != CU_PROCESS_STATE_RUNNING)
		return CUDA_ERROR_ILLEGAL_STATE;
	if (timeout_ms) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		deadline = &dl;
	}
	if (!sim_gate_close(deadline))
		return SIM_CKPT_LOCK_TIMEOUT_RC;
	/* nothing can be queued any more; wait for what was */
	if (!sim_ctx_wait_all_idle(deadline)) {
		sim_gate_open();
		return SIM_CKPT_LOCK_TIMEOUT_RC;
	}
	atomic_store(&ck_state, CU_PROCESS_STATE_LOCKED);
	return CUDA_SUCCESS;
}

static CUresult do_unlock(void)
{
	if (atomic_load(&ck_state) != CU_PROCESS_STATE_LOCKED)
		return CUDA_ERROR_ILLEGAL_STATE;
	atomic_store(&ck_state, CU_PROCESS_STATE_RUNNING);
	sim_gate_open();
	return CUDA_SUCCESS;
}

/* What the driver cannot checkpoint (shared/reference/checkpoint.md):
 * managed memory; IPC memory has no equivalent here but exportable VMM
 * memory, which sim_vmm.c's policy decides on. */
static int find_unsupported(const struct sim_alloc *a, void *arg)
{
	(void)arg;
	return a->kind == SIM_MEM_MANAGED;
}

static int save_range(const struct sim_alloc *a, void *arg)
{
	struct saved_range *r;

	(void)arg;
	if (a->kind != SIM_MEM_DEVICE && a->kind != SIM_MEM_ASYNC)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* the allocated (aligned) extent: what the heap handed out */
	r->start = a->start;
	r->len = a->charged ? a->charged : a->size;
	r->buf = malloc(r->len);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	memcpy(r->buf, (void *)a->start, r->len);
	r->next = ck_saved;
	ck_saved = r;
	return 0;
}

static CUresult do_checkpoint(void)
{
	if (atomic_load(&ck_state) != CU_PROCESS_STATE_LOCKED)
		return CUDA_ERROR_ILLEGAL_STATE;
	/* refusals first: the process stays LOCKED with nothing changed */
	for (int i = 0; i < sim_g.n_dev; i++)
		if (sim_g.devs[i].is_mig)
			return CUDA_ERROR_NOT_SUPPORTED; /* MIG: not supported by the driver */
	if (sim_mem_foreach(find_unsupported, NULL))
		return CUDA_ERROR_NOT_SUPPORTED;
	if (sim_vmm_ckpt_check() != CUDA_SUCCESS)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (sim_mem_foreach(save_range, NULL) < 0) {
		saved_free();
		return CUDA_ERROR_OUT_OF_MEMORY; /* host memory */
	}
	memset(ck_kept, 0, sizeof(ck_kept));
	if (sim_vmm_ckpt_save(ck_kept) < 0) {
		saved_free();
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	for (int i = 0; i < sim_g.n_dev; i++) {
		struct sim_dev *d = &sim_g.devs[i];

		/* the pages go back; the range stays this process's, unusable */
		madvise(d->mem, d->total, MADV_DONTNEED);
		mprotect(d->mem, d->total, PROT_NONE);
		/* everything this process charged to the device is its state
		 * (allocations, VMM memory, contexts): all of it goes back */
		ck_bytes[i] = gv_acct_mine(d->acct);
		/* ... but exportable memory others hold stays (sim_vmm.c) */
		ck_bytes[i] = ck_bytes[i] > ck_kept[i] ? ck_bytes[i] - ck_kept[i] : 0;
		if (ck_bytes[i])
			gv_acct_uncharge(d->acct, ck_bytes[i]);
	}
	atomic_store(&ck_state, CU_PROCESS_STATE_CHECKPOINTED);
	return CUDA_SUCCESS;
}

static bool uuid_eq(const CUuuid *a, const CUuuid *b)
{
	return !memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

/* The identities the devices get at restore: unchanged without pairs; with
 * pairs, every device of the process named once (cuda.h: "it must contain
 * every checkpointed GPU"), each onto a distinct GPU of the same model and
 * memory. want[i].acct is opened here when opened[i]. */
static CUresult restore_targets(const CUcheckpointGpuPair *pairs, unsigned n_pairs,
				struct sim_dev_ident *want, bool *opened)
{
	int n = sim_g.n_dev;
	bool seen[GV_NODE_MAX_GPUS] = { false };

	for (int i = 0; i < n; i++) {
		sim_dev_ident_get(&sim_g.devs[i], &want[i]);
		opened[i] = false;
	}
	if (!n_pairs)
		return CUDA_SUCCESS;
	if (n_pairs != (unsigned)n)
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned p = 0; p < n_pairs; p++) {
		int i = -1, j = -1, r;

		for (int k = 0; k < n && i < 0; k++)
			if (uuid_eq(&sim_g.devs[k].uuid_bytes, &pairs[p].oldUuid))
				i = k;
		if (i < 0 || seen[i])
			return CUDA_ERROR_INVALID_VALUE;
		seen[i] = true;
		for (int k = 0; k < n && j < 0; k++)
			if (uuid_eq(&sim_g.devs[k].uuid_bytes, &pairs[p].newUuid))
				j = k;
		if (j >= 0) {
			/* a GPU the process has open: share its accounting */
			sim_dev_ident_get(&sim_g.devs[j], &want[i]);
		} else {
			r = sim_dev_ident_probe(&pairs[p].newUuid, &want[i]);
			if (r < 0) {
				sim_dev_ident_get(&sim_g.devs[i], &want[i]);
				return r == -ENOENT ? CUDA_ERROR_INVALID_VALUE
						    : CUDA_ERROR_OPERATING_SYSTEM;
			}
			opened[i] = true;
		}
		/* "the same chip type": the same catalog model, whole GPUs */
		if (want[i].is_mig || strcmp(want[i].model, sim_g.devs[i].model) ||
		    want[i].total != sim_g.devs[i].total)
			return CUDA_ERROR_INVALID_VALUE;
	}
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (uuid_eq(&want[a].uuid_bytes, &want[b].uuid_bytes))
				return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

static CUresult do_restore(const CUcheckpointGpuPair *pairs, unsigned n_pairs)
{
	struct sim_dev_ident want[GV_NODE_MAX_GPUS], cur[GV_NODE_MAX_GPUS];
	bool opened[GV_NODE_MAX_GPUS], prepared = false;
	uint64_t need[GV_NODE_MAX_GPUS] = { 0 };
	int n = sim_g.n_dev, charged = 0;
	CUresult rc;

	if (atomic_load(&ck_state) != CU_PROCESS_STATE_CHECKPOINTED)
		return CUDA_ERROR_ILLEGAL_STATE;
	rc = restore_targets(pairs, n_pairs, want, opened);
	if (rc != CUDA_SUCCESS)
		goto out;
	/* the VMM policy may refuse; copies of memory others hold are charged
	 * on top of what the checkpoint gave back */
	rc = sim_vmm_ckpt_restore_prepare(need);
	if (rc != CUDA_SUCCESS)
		goto out;
	prepared = true;
	for (int i = 0; i < n; i++)
		need[i] += ck_bytes[i];
	/* all charges or none: without room the process stays CHECKPOINTED */
	for (; charged < n; charged++)
		if (need[charged] && gv_acct_charge(want[charged].acct, need[charged]) < 0) {
			rc = CUDA_ERROR_OUT_OF_MEMORY;
			goto out;
		}
	for (int i = 0; i < n; i++) {
		sim_dev_ident_get(&sim_g.devs[i], &cur[i]);
		sim_dev_ident_set(&sim_g.devs[i], &want[i]);
		opened[i] = false; /* installed */
	}
	for (int i = 0; i < n; i++)
		mprotect(sim_g.devs[i].mem, sim_g.devs[i].total, PROT_READ | PROT_WRITE);
	for (struct saved_range *r = ck_saved; r; r = r->next)
		memcpy((void *)r->start, r->buf, r->len);
	saved_free();
	sim_vmm_ckpt_restore();
	/* accounting files and engines of GPUs no device uses any more; an
	 * accounting file that memory lingering there is charged to stays
	 * open (sim_vmm.c), as the memory stays on that GPU */
	for (int i = 0; i < n; i++) {
		bool acct_used = false, exec_used = false;

		for (int k = 0; k < n; k++) {
			acct_used |= sim_g.devs[k].acct == cur[i].acct;
			exec_used |= sim_g.devs[k].exec == cur[i].exec;
		}
		for (int k = 0; k < i; k++) { /* shared before: done at k */
			acct_used |= cur[k].acct == cur[i].acct;
			exec_used |= cur[k].exec == cur[i].exec;
		}
		if (!acct_used && !sim_vmm_keep_acct(cur[i].acct))
			gv_acct_close(cur[i].acct);
		if (!exec_used)
			sim_exec_close(cur[i].exec);
	}
	memset(ck_bytes, 0, sizeof(ck_bytes));
	atomic_store(&ck_state, CU_PROCESS_STATE_LOCKED);
	charged = 0;
	prepared = false;
out:
	while (charged-- > 0)
		if (need[charged])
			gv_acct_uncharge(want[charged].acct, need[charged]);
	if (prepared)
		sim_vmm_ckpt_restore_cancel();
	for (int i = 0; i < n; i++)
		if (opened[i])
			sim_dev_ident_close(&want[i]);
	return rc;
}

/* ---- the wire ---- */

#define CK_MAGIC 0x4b435347u /* "GSCK" */
enum ck_op {
	CK_GET_STATE = 1,
	CK_LOCK,
	CK_CHECKPOINT,
	CK_RESTORE,
	CK_UNLOCK,
	CK_GET_TID,
};

struct ck_req {
	uint32_t magic;
	uint32_t op;
	uint32_t timeout_ms;
	uint32_t n_pairs;
	CUcheckpointGpuPair pairs[GV_NODE_MAX_GPUS];
};

struct ck_resp {
	uint32_t magic;
	int32_t rc;
	int32_t state;
	int32_t tid;
};

static int io_all(int fd, void *buf, size_t n, bool wr)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = wr ? send(fd, (char *)buf + done, n - done, MSG_NOSIGNAL)
			       : recv(fd, (char *)buf + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		done += (size_t)r;
	}
	return 0;
}

static const char *shm_dir(void)
{
	const char *d = getenv("GPUVISOR_SIM_SHM_DIR");

	return d && *d ? d : "/dev/shm";
}

/* The endpoint's address for (namespace inode, pid) in directory dir. A
 * path too long for sun_path is reached through /proc/self/fd/<dirfd>/<name>;
 * *dirfd is then open and the caller closes it after bind/connect. */
static int ck_addr(const char *dir, unsigned long long ns, long pid, struct sockaddr_un *sa,
		   int *dirfd, char *path, size_t plen)
{
	char name[96];

	*dirfd = -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(name, sizeof(name), "gpuvisor-sim-ckpt-%llu-%ld.sock", ns, pid);
	if ((size_t)snprintf(path, plen, "%s/%s", dir, name) >= plen)
		return -ENAMETOOLONG;
	if (strlen(path) < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, strlen(path) + 1);
		return 0;
	}
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -errno;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd, name);
	return 0;
}

static int ns_inode(const char *proc, unsigned long long *out)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/ns/pid", proc);
	if (stat(p, &st) < 0)
		return -errno;
	*out = (unsigned long long)st.st_ino;
	return 0;
}

/* ---- the target's control thread ---- */

static int ck_listen_fd = -1;
static pid_t ck_owner;
static atomic_int ck_tid;
static char ck_path[4200];

static void ck_unlink(void)
{
	/* a forked child exiting must not remove its parent's endpoint */
	if (getpid() == ck_owner && ck_path[0])
		unlink(ck_path);
}

static void ck_serve(int fd)
{
	struct ck_req rq;
	struct ck_resp rs = { CK_MAGIC, CUDA_SUCCESS, 0, 0 };
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct timeval tv = { 5, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
		return;
	if (io_all(fd, &rq, sizeof(rq), false) < 0 || rq.magic != CK_MAGIC)
		return;
	if (cr.uid != 0 && cr.uid != geteuid()) {
		rs.rc = CUDA_ERROR_NOT_PERMITTED;
		goto reply;
	}
	switch (rq.op) {
	case CK_GET_STATE:
		break;
	case CK_LOCK:
		rs.rc = do_lock(rq.timeout_ms);
		break;
	case CK_CHECKPOINT:
		rs.rc = do_checkpoint();
		break;
	case CK_RESTORE:
		rs.rc = rq.n_pairs > GV_NODE_MAX_GPUS ? CUDA_ERROR_INVALID_VALUE
						      : do_restore(rq.pairs, rq.n_pairs);
		break;
	case CK_UNLOCK:
		rs.rc = do_unlock();
		break;
	case CK_GET_TID:
		rs.tid = atomic_load(&ck_tid);
		break;
	default:
		rs.rc = CUDA_ERROR_INVALID_VALUE;
	}
reply:
	rs.state = atomic_load(&ck_state);
	io_all(fd, &rs, sizeof(rs), true);
}

/* How often the control thread gives back the charge of exportable memory
 * whose last holder elsewhere has let go (sim_vmm_reap): the driver frees
 * such memory at the last close, which the simulator cannot hear. */
#define CK_REAP_MS 100

static void *ck_thread(void *arg)
{
	(void)arg;
	atomic_store(&ck_tid, (int)gettid());
	for (;;) {
		struct pollfd pf = { .fd = ck_listen_fd, .events = POLLIN };
		int fd, n = poll(&pf, 1, CK_REAP_MS);

		if (n == 0) {
			sim_vmm_reap();
			continue;
		}
		if (n < 0 && errno != EINTR)
			break;
		if (n < 0)
			continue;
		fd = accept4(ck_listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		ck_serve(fd);
		close(fd);
	}
	return NULL;
}

void sim_ckpt_start(void)
{
	struct sockaddr_un sa;
	unsigned long long ns = 0;
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;
	int fd = -1, dirfd = -1, r;

	ns_inode("/proc/self", &ns);
	r = ck_addr(shm_dir(), ns, (long)getpid(), &sa, &dirfd, ck_path, sizeof(ck_path));
	if (r < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	unlink(ck_path); /* a dead process's, of this pid in this namespace */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	chmod(ck_path, 0600); /* SO_PEERCRED decides; this keeps others away */
	if (listen(fd, 8) < 0)
		goto fail;
	ck_listen_fd = fd;
	ck_owner = getpid();
	atexit(ck_unlink);
	/* the thread takes no signals: they stay the application's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, ck_thread, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		ck_listen_fd = -1;
		goto fail;
	}
	if (dirfd >= 0)
		close(dirfd);
	return;
fail:
	fprintf(stderr, "libcudasim: no checkpoint endpoint (%s): %s\n", ck_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
}

/* ---- the controller's side ---- */

/* The pid the target sees itself as: the last NSpid of /proc/<pid>/status
 * (the pid itself on kernels without NSpid). -ESRCH: no such process. */
static int target_nspid(int pid, long *out)
{
	char p[64], line[256];
	FILE *f;

	*out = pid;
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		char *s = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;;) {
			long v = strtol(s, &end, 10);

			if (end == s)
				break;
			*out = v;
			s = end;
		}
		break;
	}
	fclose(f);
	return 0;
}

/* The target's endpoint directory as this process reaches it: its
 * $GPUVISOR_SIM_SHM_DIR (or /dev/shm) seen through /proc/<pid>/root, i.e. in
 * the target's own mount namespace. A target in a container has a /dev/shm of
 * its own; the driver reaches a process wherever it runs, and so does this,
 * while a controller that cannot see the target's pid (a container looking
 * at the host) cannot name it at all. */
static int target_dir(int pid, char *out, size_t len)
{
	char p[64], *var = NULL, *dir = NULL;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	/* the environment it started with (an unreadable one, another user's:
	 * ours); libcudasim binds its endpoint once, at cuInit */
	snprintf(p, sizeof(p), "/proc/%d/environ", pid);
	f = fopen(p, "re");
	while (f && getdelim(&var, &cap, '\0', f) > 0) {
		if (strncmp(var, "GPUVISOR_SIM_SHM_DIR=", 21) == 0 && var[21]) {
			dir = strdup(var + 21);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!dir && !f)
		dir = strdup(shm_dir());
	if ((size_t)snprintf(out, len, "/proc/%d/root%s", pid, dir ? dir : "/dev/shm") >= len)
		r = -ENAMETOOLONG;
	free(var);
	free(dir);
	return r;
}

static CUresult ck_call(int pid, struct ck_req *rq, struct ck_resp *rs)
{
	char proc[32], dir[4200], path[4200];
	struct sockaddr_un sa;
	unsigned long long ns = 0;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	long nspid;
	int fd = -1, dirfd = -1;
	CUresult rc = SIM_CKPT_NOT_CUDA_RC;

	if (pid <= 0 || target_nspid(pid, &nspid) < 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(proc, sizeof(proc), "/proc/%d", pid);
	/* another user's namespace may be unreadable: then assume ours */
	if (ns_inode(proc, &ns) < 0)
		ns_inode("/proc/self", &ns);
	if (target_dir(pid, dir, sizeof(dir)) < 0 ||
	    ck_addr(dir, ns, nspid, &sa, &dirfd, path, sizeof(path)) < 0)
		goto out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = CUDA_ERROR_OPERATING_SYSTEM;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = errno == EACCES ? CUDA_ERROR_NOT_PERMITTED : SIM_CKPT_NOT_CUDA_RC;
		goto out;
	}
	/* the endpoint must be the process asked for (pid in our namespace) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid != pid)
		goto out;
	rq->magic = CK_MAGIC;
	if (io_all(fd, rq, sizeof(*rq), true) < 0 || io_all(fd, rs, sizeof(*rs), false) < 0 ||
	    rs->magic != CK_MAGIC) {
		/* the target died or went away mid-request */
		rc = CUDA_ERROR_OPERATING_SYSTEM;
		goto out;
	}
	rc = (CUresult)rs->rc;
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static bool zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

SIM_API CUresult cuCheckpointProcessGetState(int pid, CUprocessState *state)
{
	struct ck_req rq = { .op = CK_GET_STATE };
	struct ck_resp rs = { 0 };
	CUresult rc;

	if (!state)
		return CUDA_ERROR_INVALID_VALUE;
	rc = ck_call(pid, &rq, &rs);
	if (rc == CUDA_SUCCESS)
		*state = (CUprocessState)rs.state;
	return rc;
}

SIM_API CUresult cuCheckpointProcessGetRestoreThreadId(int pid, int *tid)
{
	struct ck_req rq = { .op = CK_GET_TID };
	struct ck_resp rs = { 0 };
	CUresult rc;

	if (!tid)
		return CUDA_ERROR_INVALID_VALUE;
	rc = ck_call(pid, &rq, &rs);
	if (rc == CUDA_SUCCESS)
		*tid = rs.tid;
	return rc;
}

SIM_API CUresult cuCheckpointProcessLock(int pid, CUcheckpointLockArgs *args)
{
	struct ck_req rq = { .op = CK_LOCK };
	struct ck_resp rs = { 0 };

	if (args) {
		if (args->reserved0 || !zero(args->reserved1, sizeof(args->reserved1)))
			return CUDA_ERROR_INVALID_VALUE;
		rq.timeout_ms = args->timeoutMs;
	}
	return ck_call(pid, &rq, &rs);
}

SIM_API CUresult cuCheckpointProcessCheckpoint(int pid, CUcheckpointCheckpointArgs *args)
{
	struct ck_req rq = { .op = CK_CHECKPOINT };
	struct ck_resp rs = { 0 };

	if (args && !zero(args->reserved, sizeof(args->reserved)))
		return CUDA_ERROR_INVALID_VALUE;
	return ck_call(pid, &rq, &rs);
}

SIM_API CUresult cuCheckpointProcessRestore(int pid, CUcheckpointRestoreArgs *args)
{
	struct ck_req rq = { .op = CK_RESTORE };
	struct ck_resp rs = { 0 };

	if (args) {
		if (!zero(args->reserved, sizeof(args->reserved)) || args->reserved1)
			return CUDA_ERROR_INVALID_VALUE;
		if (args->gpuPairsCount && !args->gpuPairs)
			return CUDA_ERROR_INVALID_VALUE;
		/* more pairs than a node has GPUs cannot name each one once */
		if (args->gpuPairsCount > GV_NODE_MAX_GPUS)
			return CUDA_ERROR_INVALID_VALUE;
		rq.n_pairs = args->gpuPairsCount;
		if (rq.n_pairs)
			memcpy(rq.pairs, args->gpuPairs, rq.n_pairs * sizeof(rq.pairs[0]));
	}
	return ck_call(pid, &rq, &rs);
}

SIM_API CUresult cuCheckpointProcessUnlock(int pid, CUcheckpointUnlockArgs *args)
{
	struct ck_req rq = { .op = CK_UNLOCK };
	struct ck_resp rs = { 0 };

	if (args && !zero(args->reserved, sizeof(args->reserved)))
		return CUDA_ERROR_INVALID_VALUE;
	return ck_call(pid, &rq, &rs);
}

/* The bulk control socket (src/shim/bulkctl.c, docs/shim.md "The bulk
 * control socket"), driven as the pre-copy helper drives it.
 *
 *   test_shim_bulkctl     the controller: runs workloads (this program,
 *                         "work") under the shim with $GPUVISOR_BULK_CTL
 *                         set, and checks on the socket: hello, busy for a
 *                         second connection, list, export (the contents
 *                         read through its own imports), stop (a
 *                         submission of the workload blocks, its worker
 *                         thread stands still), release, map of new
 *                         memory of its own making (the workload reads and
 *                         writes it at the same addresses after go), own
 *                         (a checkpoint then succeeds, where it fails while
 *                         the bulk is foreign), the error answers, a drop
 *                         while stopped (the workload runs on) and while
 *                         released (it stays stopped, said on stderr), a
 *                         forked child that does not keep the socket, a
 *                         stale socket replaced, a second live process
 *                         that leaves the socket to the first, and a peer
 *                         of another uid (when run as root).
 *   test_shim_bulkctl ask SOCK REQUEST
 *                         one request, its answer on stdout (bulkctl-ckpt.sh).
 *   test_shim_bulkctl work
 *                         the workload: two bulk allocations with a
 *                         pattern, a worker thread that keeps submitting,
 *                         and commands on stdin (one answer line each on
 *                         stdout).
 * Run with GPUVISOR_INSTANCE set, as gpuvisor does.
 */
#include "shim_test.h"

#include "gpuvisor/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1ull << 20)
#define SZA (5 * MIB + 3)
#define SZB (2 * MIB)
#define LONG_MS 10000 /* what must happen, happens within this */
#define SHORT_MS 500  /* what must not happen, has not within this */

static unsigned char pat(size_t i, unsigned seed)
{
	return (unsigned char)(i * 31 + seed * 7 + i / 4096);
}

static uint64_t pat_sum(size_t n, unsigned seed)
{
	uint64_t s = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		s = (s ^ pat(i, seed)) * 1099511628211ull;
	return s >> 1;
}

static void fill(CUdeviceptr p, size_t n, unsigned seed)
{
	unsigned char *h = malloc(n);

	CHECK(h);
	for (size_t i = 0; i < n; i++)
		h[i] = pat(i, seed);
	CHECK_OK(cuMemcpyHtoD(p, h, n));
	free(h);
}

static uint64_t dev_sum(CUdeviceptr p, size_t n)
{
	unsigned char *h = malloc(n);
	uint64_t s = 1469598103934665603ull;

	CHECK(h);
	CHECK_OK(cuMemcpyDtoH(h, p, n));
	for (size_t i = 0; i < n; i++)
		s = (s ^ h[i]) * 1099511628211ull;
	free(h);
	return s >> 1;
}

/* ------------------------------------------------------------ workload */

static atomic_ullong work_count;
static CUcontext work_ctx;
static CUdeviceptr work_scratch;

static void *worker(void *arg)
{
	struct timespec ms = { 0, 1000 * 1000 };
	unsigned i = 0;

	(void)arg;
	CHECK_OK(cuCtxSetCurrent(work_ctx));
	for (;;) {
		CHECK_OK(cuMemsetD8(work_scratch, (unsigned char)i++, 4096));
		atomic_fetch_add(&work_count, 1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static int work(void)
{
	CUdeviceptr a, b, s2;
	pthread_t t;
	char cmd[64];
	unsigned seed;

	work_ctx = gvt_ctx();
	CHECK_OK(cuMemAlloc(&a, SZA));
	CHECK_OK(cuMemAlloc(&b, SZB));
	CHECK_OK(cuMemAlloc(&work_scratch, 4096));
	CHECK_OK(cuMemAlloc(&s2, 4096));
	fill(a, SZA, 1);
	fill(b, SZB, 2);
	CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
	printf("%llu %llu\n", (unsigned long long)a, (unsigned long long)b);
	fflush(stdout);
	while (fgets(cmd, sizeof(cmd), stdin)) {
		if (!strcmp(cmd, "sum a\n")) {
			printf("%llu\n", (unsigned long long)dev_sum(a, SZA));
		} else if (!strcmp(cmd, "sum b\n")) {
			printf("%llu\n", (unsigned long long)dev_sum(b, SZB));
		} else if (sscanf(cmd, "fill a %u", &seed) == 1) {
			fill(a, SZA, seed);
			printf("1\n");
		} else if (!strcmp(cmd, "submit\n")) {
			CHECK_OK(cuMemsetD8(s2, 1, 16));
			printf("1\n");
		} else if (!strcmp(cmd, "count\n")) {
			printf("%llu\n", (unsigned long long)atomic_load(&work_count));
		} else if (!strcmp(cmd, "fork\n")) {
			/* the child's fork handlers have run once it writes:
			 * the answer must not race them */
			int p[2];
			char x;
			pid_t c;

			CHECK(pipe(p) == 0);
			c = fork();
			CHECK(c >= 0);
			if (c == 0) {
				close(p[0]);
				CHECK(write(p[1], "x", 1) == 1);
				for (;;)
					pause();
			}
			close(p[1]);
			CHECK(read(p[0], &x, 1) == 1);
			close(p[0]);
			printf("%ld\n", (long)c);
		} else {
			fprintf(stderr, "work: unknown command %s", cmd);
			return 2;
		}
		fflush(stdout);
	}
	return 0;
}

/* ---------------------------------------------------------- controller */

struct wl {
	pid_t pid;
	FILE *in;
	int out;
	CUdeviceptr a, b;
	char err[512]; /* its stderr */
};

static int read_line_ms(int fd, char *buf, size_t cap, int ms)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

static void wl_start(struct wl *w, const char *self, const char *dir, const char *name, bool debug)
{
	int in[2], out[2];
	char line[128];
	unsigned long long a, b;

	snprintf(w->err, sizeof(w->err), "%s/%s.err", dir, name);
	CHECK(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	fflush(NULL);
	w->pid = fork();
	CHECK(w->pid >= 0);
	if (w->pid == 0) {
		int e = open(w->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (e < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		if (debug)
			setenv("GPUVISOR_SHIM_DEBUG", "1", 1);
		execl("/proc/self/exe", self, "work", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	w->in = fdopen(in[1], "w");
	CHECK(w->in);
	w->out = out[0];
	CHECK(read_line_ms(w->out, line, sizeof(line), LONG_MS) == 0);
	CHECK(sscanf(line, "%llu %llu", &a, &b) == 2);
	w->a = a;
	w->b = b;
}

static void wl_send(struct wl *w, const char *cmd)
{
	CHECK(fprintf(w->in, "%s\n", cmd) > 0 && fflush(w->in) == 0);
}

/* Sends cmd and returns its answer (within LONG_MS). */
static uint64_t wl_ask(struct wl *w, const char *cmd)
{
	char line[64];

	wl_send(w, cmd);
	if (read_line_ms(w->out, line, sizeof(line), LONG_MS) < 0) {
		fprintf(stderr, "no answer to '%s' from the workload\n", cmd);
		exit(1);
	}
	return strtoull(line, NULL, 10);
}

static bool wl_stderr_has(const struct wl *w, const char *s)
{
	char buf[8192];
	int fd = open(w->err, O_RDONLY);
	ssize_t n;

	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, s) != NULL;
}

static void wl_kill(struct wl *w)
{
	kill(w->pid, SIGKILL);
	CHECK(gvt_wait(w->pid) == -SIGKILL);
	fclose(w->in);
	close(w->out);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void ctl_send(int fd, const char *line, const int *fds, size_t nfds)
{
	char msg[4200];
	int n = snprintf(msg, sizeof(msg), "%s\n", line);

	CHECK(n > 0 && (size_t)n < sizeof(msg));
	CHECK(gv_fdpass_send(fd, msg, (size_t)n, fds, nfds) == 0);
}

/* One answer line into ans, its descriptors into fds (64 at most); false
 * at EOF. */
static bool ctl_recv(int fd, char *ans, size_t cap, int *fds, size_t *nfds)
{
	size_t n = 0;

	*nfds = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		bool lost = false;
		ssize_t got;
		char c;

		CHECK(poll(&p, 1, 3 * LONG_MS) == 1);
		got = gv_fdpass_recv(fd, &c, 1, 0, fds, 64, nfds, &lost);
		if (got <= 0)
			return false;
		CHECK(!lost);
		if (c == '\n')
			break;
		CHECK(n + 1 < cap);
		ans[n++] = c;
	}
	ans[n] = '\0';
	return true;
}

static char ans[16384];

/* A request without descriptors either way; the answer in ans. */
static const char *ctl(int fd, const char *req)
{
	int fds[64];
	size_t n;

	ctl_send(fd, req, NULL, 0);
	CHECK(ctl_recv(fd, ans, sizeof(ans), fds, &n));
	if (n)
		fprintf(stderr, "%s: %zu descriptors came with %s\n", req, n, ans);
	CHECK(n == 0);
	return ans;
}

#define CHECK_ANS(req_result, expect)                                                              \
	do {                                                                                       \
		const char *a_ = (req_result), *e_ = (expect);                                     \
		if (strcmp(a_, e_)) {                                                              \
			fprintf(stderr, "%s:%d: answer %s, expected %s\n", __FILE__, __LINE__, a_, \
				e_);                                                               \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
#define CHECK_HAS(req_result, part)                                                            \
	do {                                                                                   \
		const char *a_ = (req_result), *p_ = (part);                                   \
		if (!strstr(a_, p_)) {                                                         \
			fprintf(stderr, "%s:%d: answer %s lacks %s\n", __FILE__, __LINE__, a_, \
				p_);                                                           \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

static const char *hello_of(pid_t pid, const char *state)
{
	static char e[128];

	snprintf(e, sizeof(e), "{\"ok\":true,\"pid\":%ld,\"version\":1,\"state\":\"%s\"}",
		 (long)pid, state);
	return e;
}

static size_t gran(void)
{
	CUmemAllocationProp prop;
	size_t g = 0;

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	CHECK_OK(cuMemGetAllocationGranularity(&g, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
	return g;
}

static uint64_t rounded(uint64_t n)
{
	size_t g = gran();

	return (n + g - 1) / g * g;
}

static const char *uuid0(void)
{
	static char s[48];
	CUuuid u;
	const unsigned char *b = (const unsigned char *)u.bytes;

	CHECK_OK(cuDeviceGetUuid(&u, 0));
	snprintf(s, sizeof(s),
		 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return s;
}

static const char *list_of(const struct wl *w, bool foreign)
{
	static char e[1024];
	const char *f = foreign ? "true" : "false";

	snprintf(e, sizeof(e),
		 "{\"ok\":true,\"bulk\":[{\"id\":1,\"base\":%llu,\"size\":%llu,\"bytes\":%llu,"
		 "\"device\":\"%s\",\"foreign\":%s},{\"id\":2,\"base\":%llu,\"size\":%llu,"
		 "\"bytes\":%llu,\"device\":\"%s\",\"foreign\":%s}]}",
		 (unsigned long long)w->a, (unsigned long long)rounded(SZA),
		 (unsigned long long)SZA, uuid0(), f, (unsigned long long)w->b,
		 (unsigned long long)rounded(SZB), (unsigned long long)SZB, uuid0(), f);
	return e;
}

/* Memory of the controller's: imported from fd (which it closes) or, with
 * fd < 0, made exportable here; mapped read-write at a range of its own. */
struct mem {
	CUmemGenericAllocationHandle h;
	CUdeviceptr va;
	size_t size;
};

static void mem_map(struct mem *m)
{
	CUmemAccessDesc acc = { .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0 },
				.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };

	CHECK_OK(cuMemAddressReserve(&m->va, m->size, 0, 0, 0));
	CHECK_OK(cuMemMap(m->va, m->size, 0, m->h, 0));
	CHECK_OK(cuMemSetAccess(m->va, m->size, &acc, 1));
}

static struct mem mem_import(int fd, size_t size)
{
	struct mem m = { .size = size };

	CHECK_OK(cuMemImportFromShareableHandle(&m.h, (void *)(uintptr_t)fd,
						CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	close(fd);
	mem_map(&m);
	return m;
}

static struct mem mem_new(size_t size, unsigned seed)
{
	CUmemAllocationProp prop;
	struct mem m = { .size = size };

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	CHECK_OK(cuMemCreate(&m.h, size, &prop, 0));
	mem_map(&m);
	fill(m.va, size, seed);
	return m;
}

static int mem_export(const struct mem *m)
{
	int fd = -1;

	CHECK_OK(cuMemExportToShareableHandle(&fd, m->h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
					      0));
	return fd;
}

static void mem_free(struct mem *m)
{
	CHECK_OK(cuMemUnmap(m->va, m->size));
	CHECK_OK(cuMemAddressFree(m->va, m->size));
	CHECK_OK(cuMemRelease(m->h));
}

/* A request with descriptors; the answer in ans (none come back). */
static const char *ctl_fds(int fd, const char *req, const int *fds, size_t n)
{
	int back[64];
	size_t nb;

	ctl_send(fd, req, fds, n);
	CHECK(ctl_recv(fd, ans, sizeof(ans), back, &nb));
	CHECK(nb == 0);
	return ans;
}

/* The workload's submission does not return within SHORT_MS. */
static void check_blocked(struct wl *w)
{
	char line[64];

	wl_send(w, "submit");
	CHECK(read_line_ms(w->out, line, sizeof(line), SHORT_MS) < 0);
}

/* Its worker thread makes progress within LONG_MS (or not within SHORT_MS). */
static void check_worker(struct wl *w, bool moving)
{
	uint64_t c0 = wl_ask(w, "count"), c = c0;
	struct timespec t = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < (moving ? LONG_MS : SHORT_MS) / 20; i++) {
		nanosleep(&t, NULL);
		c = wl_ask(w, "count");
		if (c != c0)
			break;
	}
	if (moving)
		CHECK(c > c0);
	else
		CHECK_EQ_U64(c, c0);
}

static void checkpoint(pid_t pid, bool expect_ok)
{
	CUresult (*lock)(int, CUcheckpointLockArgs *) = gvt_real("cuCheckpointProcessLock");
	CUresult (*ckpt)(int, CUcheckpointCheckpointArgs *) =
		gvt_real("cuCheckpointProcessCheckpoint");
	CUresult (*restore)(int, CUcheckpointRestoreArgs *) =
		gvt_real("cuCheckpointProcessRestore");
	CUresult (*unlock)(int, CUcheckpointUnlockArgs *) = gvt_real("cuCheckpointProcessUnlock");

	CHECK_OK(lock(pid, NULL));
	if (!expect_ok) {
		CHECK(ckpt(pid, NULL) != CUDA_SUCCESS);
	} else {
		CHECK_OK(ckpt(pid, NULL));
		CHECK_OK(restore(pid, NULL));
	}
	CHECK_OK(unlock(pid, NULL));
}

/* The main scenario on workload w, connected on c. */
static void precopy_case(struct wl *w, int c, const char *sock)
{
	int fds[64], one;
	size_t n;
	struct mem src_a, src_b, dst_a, dst_b, again;
	char req[128];
	int c2;

	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "running"));
	/* one connection at a time */
	c2 = ctl_connect(sock);
	CHECK(c2 >= 0);
	CHECK(ctl_recv(c2, ans, sizeof(ans), fds, &n));
	CHECK_HAS(ans, "{\"ok\":false,\"error\":\"busy: ");
	CHECK(!ctl_recv(c2, ans, sizeof(ans), fds, &n));
	close(c2);

	CHECK_ANS(ctl(c, "{\"op\":\"list\"}"), list_of(w, false));
	CHECK_HAS(ctl(c, "{\"op\":\"export\",\"ids\":[3]}"), "\"ok\":false");
	CHECK_HAS(ans, "no bulk allocation has id 3");
	CHECK_HAS(ctl(c, "{\"op\":\"export\",\"ids\":[1,3]}"), "\"ok\":false");
	CHECK_HAS(ctl(c, "{\"op\":\"frobnicate\"}"), "bad request: unknown op");
	CHECK_HAS(ctl(c, "{\"op\":\"list\",\"ids\":[1]}"), "bad request: list takes no field");

	/* export: the helper's imports read what the workload wrote */
	ctl_send(c, "{\"op\":\"export\",\"ids\":[2, 1]}", NULL, 0);
	CHECK(ctl_recv(c, ans, sizeof(ans), fds, &n));
	CHECK_ANS(ans, "{\"ok\":true,\"ids\":[2,1]}");
	CHECK(n == 2);
	src_b = mem_import(fds[0], rounded(SZB));
	src_a = mem_import(fds[1], rounded(SZA));
	CHECK_EQ_U64(dev_sum(src_a.va, SZA), pat_sum(SZA, 1));
	CHECK_EQ_U64(dev_sum(src_b.va, SZB), pat_sum(SZB, 2));
	CHECK_EQ_U64(wl_ask(w, "sum a"), pat_sum(SZA, 1));
	/* and see its writes while it runs */
	CHECK_EQ_U64(wl_ask(w, "fill a 5"), 1);
	CHECK_EQ_U64(dev_sum(src_a.va, SZA), pat_sum(SZA, 5));

	/* what needs a stop first */
	CHECK_HAS(ctl(c, "{\"op\":\"go\"}"), "{\"ok\":false,\"error\":\"go: ");
	CHECK_HAS(ctl(c, "{\"op\":\"release\"}"), "{\"ok\":false,\"error\":\"release: ");
	one = mem_export(&src_a);
	CHECK_HAS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[1]}", &one, 1), "map: the bulk is not");
	close(one);
	CHECK_EQ_U64(wl_ask(w, "submit"), 1);

	/* stop: no submission runs until go */
	CHECK_HAS(ctl(c, "{\"op\":\"stop\",\"timeout_ms\":10000}"), "{\"ok\":true,\"ms\":");
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "stopped"));
	CHECK_HAS(ctl(c, "{\"op\":\"stop\",\"timeout_ms\":10000}"), "\"ok\":false");
	CHECK_HAS(ctl(c, "{\"op\":\"own\"}"), "\"ok\":false");
	check_worker(w, false);
	check_blocked(w);
	ctl_send(c, "{\"op\":\"export\",\"ids\":[1]}", NULL, 0);
	CHECK(ctl_recv(c, ans, sizeof(ans), fds, &n));
	CHECK(n == 1);
	close(fds[0]);

	/* release: the reservations stay, the memory is the helper's */
	CHECK_ANS(ctl(c, "{\"op\":\"release\"}"), "{\"ok\":true,\"released\":2}");
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "released"));
	CHECK_HAS(ctl(c, "{\"op\":\"go\"}"), "{\"ok\":false,\"error\":\"go: 2 bulk");
	CHECK_HAS(ctl(c, "{\"op\":\"release\"}"), "\"ok\":false");
	CHECK_HAS(ctl(c, "{\"op\":\"export\",\"ids\":[1]}"), "export: the bulk is released");
	CHECK_EQ_U64(dev_sum(src_a.va, SZA), pat_sum(SZA, 5)); /* the helper's import holds it */

	/* new memory, made here with other contents */
	dst_a = mem_new(rounded(SZA), 11);
	dst_b = mem_new(rounded(SZB), 12);
	fds[0] = mem_export(&dst_a);
	fds[1] = mem_export(&dst_b);
	CHECK_HAS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[1,9]}", fds, 2),
		  "map: no bulk allocation has id 9");
	CHECK_HAS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[1,2]}", fds, 1),
		  "map: 2 ids and 1 descriptors");
	CHECK_HAS(ctl_fds(c, "{\"op\":\"hello\"}", fds, 1), "descriptors come with map only");
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "released"));
	CHECK_ANS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[1]}", fds, 1),
		  "{\"ok\":true,\"mapped\":1,\"left\":1}");
	CHECK_HAS(ctl(c, "{\"op\":\"go\"}"), "{\"ok\":false,\"error\":\"go: 1 bulk");
	CHECK_HAS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[1]}", fds, 1), "is mapped");
	CHECK_ANS(ctl_fds(c, "{\"op\":\"map\",\"ids\":[2]}", fds + 1, 1),
		  "{\"ok\":true,\"mapped\":1,\"left\":0}");
	close(fds[0]);
	close(fds[1]);
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "stopped"));
	CHECK_ANS(ctl(c, "{\"op\":\"list\"}"), list_of(w, true));

	/* go: the blocked submission returns, and the workload reads the new
	 * memory at its old addresses */
	CHECK_ANS(ctl(c, "{\"op\":\"go\"}"), "{\"ok\":true}");
	{
		char line[64];

		CHECK(read_line_ms(w->out, line, sizeof(line), LONG_MS) == 0);
		CHECK(!strcmp(line, "1"));
	}
	check_worker(w, true);
	CHECK_EQ_U64(wl_ask(w, "sum a"), pat_sum(SZA, 11));
	CHECK_EQ_U64(wl_ask(w, "sum b"), pat_sum(SZB, 12));
	CHECK_EQ_U64(wl_ask(w, "fill a 21"), 1);
	CHECK_EQ_U64(dev_sum(dst_a.va, SZA), pat_sum(SZA, 21));
	CHECK_EQ_U64(dev_sum(src_a.va, SZA), pat_sum(SZA, 5)); /* the old one untouched */
	/* a foreign entry exports a copy of the descriptor it keeps */
	ctl_send(c, "{\"op\":\"export\",\"ids\":[1]}", NULL, 0);
	CHECK(ctl_recv(c, ans, sizeof(ans), fds, &n));
	CHECK(n == 1);
	again = mem_import(fds[0], rounded(SZA));
	CHECK_EQ_U64(dev_sum(again.va, SZA), pat_sum(SZA, 21));
	mem_free(&again);

	/* the driver does not checkpoint a process holding imported memory;
	 * own makes it the workload's again */
	checkpoint(w->pid, false);
	snprintf(req, sizeof(req), "{\"timeout_ms\":%d,\"op\":\"own\"}", LONG_MS);
	CHECK_HAS(ctl(c, req), "{\"ok\":true,\"owned\":2,\"ms\":");
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w->pid, "running"));
	CHECK_ANS(ctl(c, "{\"op\":\"list\"}"), list_of(w, false));
	CHECK_EQ_U64(wl_ask(w, "sum a"), pat_sum(SZA, 21));
	CHECK_EQ_U64(wl_ask(w, "sum b"), pat_sum(SZB, 12));
	CHECK_EQ_U64(wl_ask(w, "fill a 22"), 1);
	CHECK_EQ_U64(dev_sum(dst_a.va, SZA), pat_sum(SZA, 21)); /* not shared any more */
	checkpoint(w->pid, true);
	CHECK_EQ_U64(wl_ask(w, "sum a"), pat_sum(SZA, 22));
	CHECK_EQ_U64(wl_ask(w, "sum b"), pat_sum(SZB, 12));
	CHECK_EQ_U64(wl_ask(w, "submit"), 1);
	mem_free(&src_a);
	mem_free(&src_b);
	mem_free(&dst_a);
	mem_free(&dst_b);
}

/* A peer of another uid is refused, the socket file's mode aside. */
static void other_uid_case(const char *dir, const char *sock)
{
	pid_t pid;

	if (geteuid() != 0) {
		printf("bulkctl: not root, the other-uid peer is not tried\n");
		return;
	}
	CHECK(chmod(dir, 0711) == 0 && chmod(sock, 0666) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fds[64], c;
		size_t n;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		c = ctl_connect(sock);
		if (c < 0)
			_exit(4);
		if (!ctl_recv(c, ans, sizeof(ans), fds, &n) ||
		    !strstr(ans, "{\"ok\":false,\"error\":\"permission denied: uid 65534"))
			_exit(5);
		_exit(ctl_recv(c, ans, sizeof(ans), fds, &n) ? 6 : 0);
	}
	CHECK_EQ_U64(gvt_wait(pid), 0);
	CHECK(chmod(dir, 0700) == 0 && chmod(sock, 0600) == 0);
}

static int controller(const char *self)
{
	const char *dir = getenv("GV_SHIM_TEST_DIR");
	char sock[256];
	struct wl w1, w2, w3;
	struct stat st;
	pid_t child;
	int c;

	CHECK(dir && *dir);
	gvt_ctx();
	snprintf(sock, sizeof(sock), "%s/bulk.sock", dir);
	/* for the workloads only: this process's shim read its environment */
	setenv("GPUVISOR_BULK_CTL", sock, 1);

	wl_start(&w1, self, dir, "w1", false);
	CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
	c = ctl_connect(sock);
	CHECK(c >= 0);
	precopy_case(&w1, c, sock);

	/* a drop while stopped: the workload runs on */
	CHECK_HAS(ctl(c, "{\"op\":\"stop\"}"), "{\"ok\":true,\"ms\":");
	check_worker(&w1, false);
	close(c);
	CHECK_EQ_U64(wl_ask(&w1, "submit"), 1);
	check_worker(&w1, true);
	c = ctl_connect(sock);
	CHECK(c >= 0);
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w1.pid, "running"));
	close(c);

	/* a forked child does not keep the socket: once the workload is gone
	 * the socket refuses */
	child = (pid_t)wl_ask(&w1, "fork");
	CHECK(child > 0);
	wl_kill(&w1);
	CHECK(ctl_connect(sock) < 0 && errno == ECONNREFUSED);
	kill(child, SIGKILL);

	/* the next workload replaces the stale socket */
	wl_start(&w2, self, dir, "w2", false);
	c = ctl_connect(sock);
	CHECK(c >= 0);
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w2.pid, "running"));
	other_uid_case(dir, sock);
	/* a second live process of the workload leaves the socket to it */
	wl_start(&w3, self, dir, "w3", true);
	CHECK(wl_stderr_has(&w3, "another process of the workload serves"));
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w2.pid, "running"));
	wl_kill(&w3);

	/* a drop while released: the workload stays stopped, and says so */
	CHECK_HAS(ctl(c, "{\"op\":\"stop\",\"timeout_ms\":10000}"), "{\"ok\":true");
	CHECK_ANS(ctl(c, "{\"op\":\"release\"}"), "{\"ok\":true,\"released\":2}");
	close(c);
	check_worker(&w2, false);
	check_blocked(&w2);
	c = ctl_connect(sock);
	CHECK(c >= 0);
	CHECK_ANS(ctl(c, "{\"op\":\"hello\"}"), hello_of(w2.pid, "released"));
	close(c);
	CHECK(wl_stderr_has(&w2,
			    "gpuvisor: the pre-copy helper went away while the bulk memory was "
			    "released: 2 allocations lost"));
	wl_kill(&w2);
	printf("bulkctl: ok\n");
	return 0;
}

/* One request on the socket at path; its answer on stdout. */
static int ask(const char *path, const char *req)
{
	int c = ctl_connect(path);

	CHECK(c >= 0);
	printf("%s\n", ctl(c, req));
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "work"))
		return work();
	if (argc > 3 && !strcmp(argv[1], "ask"))
		return ask(argv[2], argv[3]);
	return controller(argv[0]);
}

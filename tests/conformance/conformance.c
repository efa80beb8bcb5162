/* The conformance suite's harness (see conf.h).
 *
 *   conformance [--list] [--filter SUBSTRING] [--case ID]
 *
 * Prints one line per case: "ok   ID" or "FAIL ID", then the documented
 * behaviour it checks; under a failed case, what was broken. Ends with a
 * summary line; exits 0 when every case passed.
 *
 * The sample kernels come from $GV_KERNEL_MODULE (a fatbin on a GPU, the
 * simulator's gv_kernels.so on libcudasim).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "gv_kernels.h"

struct conf_state conf;

static struct conf_case *cases, **cases_tail = &cases;
static bool case_failed;

void conf_register(struct conf_case *c)
{
	*cases_tail = c;
	cases_tail = &c->next;
}

static const char *rc_name(CUresult r)
{
	const char *n = NULL;

	if (cuGetErrorName(r, &n) != CUDA_SUCCESS || !n)
		return "?";
	return n;
}

bool conf_expect_rc(CUresult got, CUresult want, const char *expr, const char *wname,
		    const char *file, int line)
{
	if (got == want)
		return true;
	printf("    %s:%d: %s returned %d (%s), expected %s\n", file, line, expr, (int)got,
	       rc_name(got), wname);
	case_failed = true;
	return false;
}

bool conf_expect(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		printf("    %s:%d: expected %s\n", file, line, expr);
		case_failed = true;
	}
	return ok;
}

void conf_note(const char *fmt, ...)
{
	va_list ap;

	printf("    note: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

double conf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static CUresult launch1(CUfunction f, CUstream s, unsigned grid, unsigned block, void *args)
{
	void *params[] = { args };

	return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, s, params, NULL);
}

CUresult conf_spin(const struct conf_kernels *k, CUstream s, double ms, CUdeviceptr when)
{
	struct gv_spin_args a = { (unsigned long long *)(uintptr_t)when,
				  (unsigned long long)(ms * 1e6) };

	return launch1((k ? k : &conf.k)->spin, s, 1, 1, &a);
}

CUresult conf_count(const struct conf_kernels *k, CUstream s, CUdeviceptr counter, unsigned add)
{
	struct gv_count_args a = { (unsigned *)(uintptr_t)counter, add };

	return launch1((k ? k : &conf.k)->count, s, 1, 1, &a);
}

CUresult conf_fill(const struct conf_kernels *k, CUstream s, CUdeviceptr x, unsigned long long n,
		   unsigned seed)
{
	struct gv_fill_args a = { (unsigned *)(uintptr_t)x, n, seed };

	return launch1((k ? k : &conf.k)->fill, s, (unsigned)((n + 127) / 128), 128, &a);
}

unsigned conf_fill_value(unsigned long long i, unsigned seed)
{
	return ((unsigned)i * 2654435761u) ^ seed;
}

CUresult conf_load_kernels(struct conf_kernels *k)
{
	CUresult rc;

	memset(k, 0, sizeof(*k));
	if (!conf.module_path)
		return CUDA_ERROR_FILE_NOT_FOUND;
	rc = cuModuleLoad(&k->mod, conf.module_path);
	if (rc == CUDA_SUCCESS)
		rc = cuModuleGetFunction(&k->fill, k->mod, "gv_fill");
	if (rc == CUDA_SUCCESS)
		rc = cuModuleGetFunction(&k->count, k->mod, "gv_count");
	if (rc == CUDA_SUCCESS)
		rc = cuModuleGetFunction(&k->spin, k->mod, "gv_spin");
	return rc;
}

struct thread_call {
	void (*fn)(void *);
	void *arg;
};

static void *thread_main(void *p)
{
	struct thread_call *t = p;

	t->fn(t->arg);
	return NULL;
}

void conf_on_thread(void (*fn)(void *), void *arg)
{
	struct thread_call t = { fn, arg };
	pthread_t th;

	if (pthread_create(&th, NULL, thread_main, &t) != 0) {
		EXPECT(!"pthread_create");
		return;
	}
	pthread_join(th, NULL);
}

/* cuInit, device 0's primary context current, the kernels loaded. */
static int setup(void)
{
	CUresult rc = cuInit(0);

	if (rc == CUDA_SUCCESS)
		rc = cuDeviceGetCount(&conf.ndev);
	if (rc == CUDA_SUCCESS)
		rc = cuDeviceGet(&conf.dev, 0);
	if (rc == CUDA_SUCCESS)
		rc = cuDevicePrimaryCtxRetain(&conf.ctx, conf.dev);
	if (rc == CUDA_SUCCESS)
		rc = cuCtxSetCurrent(conf.ctx);
	if (rc == CUDA_SUCCESS)
		rc = conf_load_kernels(&conf.k);
	if (rc != CUDA_SUCCESS) {
		printf("conformance: setup failed: %s (module %s)\n", rc_name(rc),
		       conf.module_path ? conf.module_path : "(GV_KERNEL_MODULE unset)");
		return -1;
	}
	return 0;
}

/* Back to the primary context alone on this thread's stack. */
static void reset_current(void)
{
	CUcontext c;

	cuCtxSynchronize();
	for (int i = 0; i < 64 && cuCtxPopCurrent(&c) == CUDA_SUCCESS; i++)
		;
	cuCtxSetCurrent(conf.ctx);
}

static bool run_here(struct conf_case *c)
{
	case_failed = false;
	c->fn(c->arg);
	return !case_failed;
}

static bool run_child(struct conf_case *c)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int status;
	pid_t pid;

	if (n <= 0)
		return false;
	self[n] = 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		execl(self, self, "--case", c->id, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	if (WIFSIGNALED(status))
		printf("    the case's process died of signal %d\n", WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int run_one(const char *id)
{
	for (struct conf_case *c = cases; c; c = c->next)
		if (!strcmp(c->id, id)) {
			if (!(c->flags & CONF_NOINIT) && setup() < 0)
				return 1;
			alarm(60);
			return run_here(c) ? 0 : 1;
		}
	fprintf(stderr, "conformance: no case %s\n", id);
	return 2;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	int version = 0, passed = 0, failed = 0;
	char name[256] = "?";

	conf.module_path = getenv("GV_KERNEL_MODULE");
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--case") && i + 1 < argc)
			return run_one(argv[++i]);
		if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strcmp(argv[i], "--list")) {
			for (struct conf_case *c = cases; c; c = c->next)
				printf("%s\t%s\n", c->id, c->doc);
			return 0;
		} else {
			fprintf(stderr, "usage: %s [--list] [--filter SUBSTRING] [--case ID]\n",
				argv[0]);
			return 2;
		}
	}
	/* the before-cuInit cases first, while this process has not initialised */
	for (int pass = 0; pass < 2; pass++)
		for (struct conf_case *c = cases; c; c = c->next) {
			bool ok;

			if (filter && !strstr(c->id, filter))
				continue;
			if (!!(c->flags & CONF_NOINIT) != (pass == 0))
				continue;
			if (pass == 1 && !conf.ctx && setup() < 0)
				return 1;
			ok = (c->flags & (CONF_ISOLATED | CONF_NOINIT)) ? run_child(c)
									: run_here(c);
			if (pass == 1)
				reset_current();
			printf("%s %s — %s\n", ok ? "ok  " : "FAIL", c->id, c->doc);
			if (ok)
				passed++;
			else
				failed++;
		}
	cuDriverGetVersion(&version);
	if (conf.ctx)
		cuDeviceGetName(name, sizeof(name), conf.dev);
	printf("conformance: %d cases, %d passed, %d failed (driver API %d.%d, device 0: %s)\n",
	       passed + failed, passed, failed, version / 1000, version % 1000 / 10, name);
	return failed ? 1 : 0;
}

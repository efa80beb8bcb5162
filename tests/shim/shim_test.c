/* Helpers for the shim's test programs (see shim_test.h). */
#include "shim_test.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpuvisor/acct.h"

const char *gvt_err_name(CUresult r)
{
	static char buf[32];
	const char *s = NULL;

	if (cuGetErrorName(r, &s) == CUDA_SUCCESS && s)
		return s;
	snprintf(buf, sizeof(buf), "CUresult %d", (int)r);
	return buf;
}

void *gvt_real_opt(const char *name)
{
	static void *h;
	const char *path = getenv("GPUVISOR_REAL_LIBCUDA");

	if (!h) {
		CHECK(path && *path);
		/* the shim loaded it already: the same handle comes back */
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		CHECK(h);
	}
	return dlsym(h, name);
}

void *gvt_real(const char *name)
{
	void *fn = gvt_real_opt(name);

	if (!fn)
		fprintf(stderr, "real driver lacks %s\n", name);
	CHECK(fn);
	return fn;
}

CUcontext gvt_ctx(void)
{
	CUcontext ctx = NULL;
	CUdevice dev;

	CHECK_OK(cuInit(0));
	CHECK_OK(cuDeviceGet(&dev, 0));
	CHECK_OK(cuCtxCreate(&ctx, NULL, 0, dev));
	return ctx;
}

uint64_t gvt_free(void)
{
	size_t f, t;

	CHECK_OK(cuMemGetInfo(&f, &t));
	return f;
}

uint64_t gvt_total(void)
{
	size_t f, t;

	CHECK_OK(cuMemGetInfo(&f, &t));
	return t;
}

static struct gv_acct *gvt_open(const char *path)
{
	struct gv_acct *a = NULL;
	struct gv_err err = { 0 };

	if (gv_acct_open(path, &a, &err) < 0)
		fprintf(stderr, "gv_acct_open %s: %s\n", path, err.msg);
	CHECK(a);
	return a;
}

uint64_t gvt_used_at(const char *path)
{
	struct gv_acct *a = gvt_open(path);
	uint64_t u = gv_acct_used(a);

	/* closing a file this process never charged through gives nothing back */
	gv_acct_close(a);
	return u;
}

uint64_t gvt_used(void)
{
	const char *p = getenv("GPUVISOR_ACCT");

	CHECK(p && *p);
	return gvt_used_at(p);
}

uint64_t gvt_limit(void)
{
	const char *p = getenv("GPUVISOR_ACCT");
	struct gv_acct *a;
	uint64_t l;

	CHECK(p && *p);
	a = gvt_open(p);
	l = gv_acct_limit(a);
	gv_acct_close(a);
	return l;
}

void gvt_acct_create(const char *path, uint64_t limit)
{
	struct gv_err err = { 0 };

	if (gv_acct_create(path, limit, &err) < 0) {
		fprintf(stderr, "gv_acct_create %s: %s\n", path, err.msg);
		exit(1);
	}
}

pid_t gvt_spawn(char *const args[], const char *acct, int *rd)
{
	int fds[2];
	pid_t pid;

	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (acct)
			setenv("GPUVISOR_ACCT", acct, 1);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(fds[1]);
	*rd = fds[0];
	return pid;
}

int gvt_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		CHECK(errno == EINTR);
	if (WIFSIGNALED(st))
		return -WTERMSIG(st);
	return WEXITSTATUS(st);
}

uint64_t gvt_read_u64(int fd)
{
	char line[128];
	size_t n = 0;
	char c;

	while (n + 1 < sizeof(line) && read(fd, &c, 1) == 1 && c != '\n')
		line[n++] = c;
	line[n] = '\0';
	CHECK(n > 0);
	return strtoull(line, NULL, 10);
}

CUdeviceptr gvt_fill_to(uint64_t target)
{
	uint64_t f = gvt_free();
	CUdeviceptr p = 0;

	CHECK(f >= target);
	if (f > target)
		CHECK_OK(cuMemAlloc(&p, f - target));
	CHECK_EQ_U64(gvt_free(), target);
	return p;
}

uint64_t gvt_real_ctx_overhead(void)
{
	CUresult (*get_info)(size_t *, size_t *) = gvt_real("cuMemGetInfo_v2");
	CUresult (*create)(CUcontext *, unsigned int, CUdevice) = gvt_real("cuCtxCreate_v2");
	CUresult (*destroy)(CUcontext) = gvt_real("cuCtxDestroy_v2");
	size_t f1, f2, t;
	CUcontext c;

	CHECK_OK(get_info(&f1, &t));
	CHECK_OK(create(&c, 0, 0));
	CHECK_OK(get_info(&f2, &t));
	CHECK_OK(destroy(c));
	CHECK(f1 >= f2);
	return f1 - f2;
}

/* cuMemGetInfo is the partition, exactly: total = the instance's limit,
 * free = limit - what every process of the instance holds, with one process
 * and with several (fork/exec of this program). A context is charged what
 * the real driver reports for one. */
#include "shim_test.h"

#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define A (3u << 20)
#define B (5u << 20)

/* child: own context + B bytes; reports its view, waits for stdin EOF-free
 * line from the parent, then exits without freeing (the dead process's
 * charge must come back) */
static int child(uint64_t overhead)
{
	CUdeviceptr p;
	char c;

	gvt_ctx();
	CHECK_OK(cuMemAlloc(&p, B));
	printf("%llu\n", (unsigned long long)gvt_free());
	fflush(stdout);
	/* the parent closes our stdin when it has looked */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	(void)overhead;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t limit, oh, f;
	CUdeviceptr p;
	CUcontext ctx;
	int rd, st, in[2];
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return child(0);

	limit = gvt_limit();
	CHECK_OK(cuInit(0));
	/* before any context: nothing charged */
	CHECK_EQ_U64(gvt_used(), 0);
	ctx = gvt_ctx();
	oh = gvt_real_ctx_overhead();
	fprintf(stderr, "context overhead reported by the driver: %llu\n", (unsigned long long)oh);
	CHECK_EQ_U64(gvt_used(), oh);
	CHECK_EQ_U64(gvt_total(), limit);
	CHECK_EQ_U64(gvt_free(), limit - oh);

	CHECK_OK(cuMemAlloc(&p, A));
	CHECK_EQ_U64(gvt_free(), limit - oh - A);
	CHECK_EQ_U64(gvt_used(), oh + A);

	/* a second process of the same instance (inherits GPUVISOR_ACCT) */
	CHECK(pipe2(in, O_CLOEXEC) == 0);
	{
		char *args[] = { argv[0], (char[]){ "child" }, NULL };
		int saved = dup(STDIN_FILENO);

		CHECK(saved >= 0 && dup2(in[0], STDIN_FILENO) >= 0);
		pid = gvt_spawn(args, NULL, &rd);
		CHECK(dup2(saved, STDIN_FILENO) >= 0);
		close(saved);
		close(in[0]);
	}
	f = gvt_read_u64(rd);
	/* the child sees both processes */
	CHECK_EQ_U64(f, limit - 2 * oh - A - B);
	/* and so does this one */
	CHECK_EQ_U64(gvt_free(), limit - 2 * oh - A - B);
	close(in[1]);
	st = gvt_wait(pid);
	CHECK(st == 0);
	close(rd);
	/* the child exited holding B and its context: both come back */
	CHECK_EQ_U64(gvt_free(), limit - oh - A);

	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(gvt_free(), limit - oh);
	/* destroying the context gives back its overhead and what it held */
	CHECK_OK(cuMemAlloc(&p, A));
	CHECK_OK(cuCtxDestroy(ctx));
	CHECK_EQ_U64(gvt_used(), 0);

	/* the primary context is charged once, while retained */
	{
		CUcontext pc, pc2;
		size_t fr, tot;

		CHECK_OK(cuDevicePrimaryCtxRetain(&pc, 0));
		CHECK_EQ_U64(gvt_used(), oh);
		CHECK_OK(cuDevicePrimaryCtxRetain(&pc2, 0));
		CHECK(pc == pc2);
		CHECK_EQ_U64(gvt_used(), oh);
		CHECK_OK(cuCtxSetCurrent(pc));
		CHECK_OK(cuMemGetInfo(&fr, &tot));
		CHECK_EQ_U64(fr, limit - oh);
		CHECK_OK(cuMemAlloc(&p, B));
		CHECK_OK(cuDevicePrimaryCtxRelease(0));
		CHECK_EQ_U64(gvt_used(), oh + B);
		CHECK_OK(cuDevicePrimaryCtxRelease(0));
		/* last release: the context and its memory are gone */
		CHECK_EQ_U64(gvt_used(), 0);
	}
	printf("ok\n");
	return 0;
}

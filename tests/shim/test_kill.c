/* A workload killed with SIGKILL gives its charge back: the next process
 * of the instance can allocate the whole partition. */
#include "shim_test.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static int hog(void)
{
	CUdeviceptr p;

	gvt_ctx();
	CHECK_OK(cuMemAlloc(&p, gvt_free()));
	CHECK_EQ_U64(gvt_free(), 0);
	printf("%llu\n", (unsigned long long)gvt_used());
	fflush(stdout);
	for (;;)
		pause();
}

static int next(void)
{
	CUdeviceptr p;
	uint64_t f;

	gvt_ctx();
	f = gvt_free();
	CHECK_EQ_U64(f, gvt_limit() - gvt_used());
	CHECK_OK(cuMemAlloc(&p, f));
	CHECK_OK(cuMemFree(p));
	printf("%llu\n", (unsigned long long)f);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	char *hog_args[] = { argv[0], (char[]){ "hog" }, NULL };
	char *next_args[] = { argv[0], (char[]){ "next" }, NULL };
	uint64_t limit = gvt_limit(), held, got;
	int rd;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "hog"))
		return hog();
	if (argc > 1 && !strcmp(argv[1], "next"))
		return next();

	pid = gvt_spawn(hog_args, NULL, &rd);
	held = gvt_read_u64(rd);
	close(rd);
	CHECK_EQ_U64(held, limit);
	CHECK_EQ_U64(gvt_used(), limit);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(gvt_wait(pid) == -SIGKILL);

	pid = gvt_spawn(next_args, NULL, &rd);
	got = gvt_read_u64(rd);
	close(rd);
	CHECK(gvt_wait(pid) == 0);
	/* everything but the new process's own context */
	CHECK(got > 0 && got <= limit);
	CHECK(got > limit / 2);
	CHECK_EQ_U64(gvt_used(), 0);
	printf("ok\n");
	return 0;
}

/* Two timeslice instances (two accounting files) on one simulated GPU: each
 * process is held to its own partition and sees only its own, while both
 * run on the same device at the same time. */
#include "shim_test.h"

#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define L1 (1024ull << 20)
#define L2 (1536ull << 20)

static int child(void)
{
	uint64_t limit = gvt_limit(), f;
	CUdeviceptr p, q;
	char c;

	gvt_ctx();
	CHECK_EQ_U64(gvt_total(), limit);
	f = gvt_free();
	CHECK_EQ_U64(f, limit - gvt_used());
	CHECK_CU(cuMemAlloc(&p, f + 1), CUDA_ERROR_OUT_OF_MEMORY);
	CHECK_OK(cuMemAlloc(&p, f));
	CHECK_EQ_U64(gvt_free(), 0);
	CHECK_CU(cuMemAlloc(&q, 1), CUDA_ERROR_OUT_OF_MEMORY);
	printf("%llu\n", (unsigned long long)limit);
	fflush(stdout);
	/* hold the partition until the parent has seen both */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	CHECK_OK(cuMemFree(p));
	CHECK_EQ_U64(gvt_free(), f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("GV_SHIM_TEST_DIR");
	char a1[4096], a2[4096];
	char *args[] = { argv[0], (char[]){ "child" }, NULL };
	int rd1, rd2, in1[2], in2[2], saved;
	pid_t p1, p2;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return child();
	CHECK(dir && *dir);
	snprintf(a1, sizeof(a1), "%s/instance1.acct", dir);
	snprintf(a2, sizeof(a2), "%s/instance2.acct", dir);
	gvt_acct_create(a1, L1);
	gvt_acct_create(a2, L2);

	CHECK(pipe2(in1, O_CLOEXEC) == 0 && pipe2(in2, O_CLOEXEC) == 0);
	saved = dup(STDIN_FILENO);
	CHECK(saved >= 0);
	CHECK(dup2(in1[0], STDIN_FILENO) >= 0);
	p1 = gvt_spawn(args, a1, &rd1);
	CHECK(dup2(in2[0], STDIN_FILENO) >= 0);
	p2 = gvt_spawn(args, a2, &rd2);
	CHECK(dup2(saved, STDIN_FILENO) >= 0);
	close(in1[0]);
	close(in2[0]);
	/* both hold their whole partition at the same time */
	CHECK_EQ_U64(gvt_read_u64(rd1), L1);
	CHECK_EQ_U64(gvt_read_u64(rd2), L2);
	CHECK_EQ_U64(gvt_used_at(a1), L1);
	CHECK_EQ_U64(gvt_used_at(a2), L2);
	close(in1[1]);
	close(in2[1]);
	CHECK(gvt_wait(p1) == 0);
	CHECK(gvt_wait(p2) == 0);
	CHECK_EQ_U64(gvt_used_at(a1), 0);
	CHECK_EQ_U64(gvt_used_at(a2), 0);
	printf("ok\n");
	return 0;
}

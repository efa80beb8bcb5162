/* Device memory is shared by every process simulating the same GPU: two
 * processes that together exceed it get CUDA_ERROR_OUT_OF_MEMORY, and a
 * process killed with SIGKILL gives its memory back. Runs on the 1g.5gb
 * MIG instance (4864 MiB) of nodes/small.json. The second process is this
 * program again ("child" mode), talking over two pipes. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simtest.h"

static void child(int rfd, int wfd)
{
	CUcontext c;
	CUdeviceptr p, q;
	size_t f, t;
	char ch = 'r';

	OK(cuInit(0));
	OK(cuCtxCreate(&c, NULL, 0, 0));
	OK(cuMemGetInfo(&f, &t));
	/* the parent holds 3000 MiB and its context's 16 MiB; we hold 16 MiB */
	EXPECT(t == 4864 * MIB);
	EXPECT(f == (4864 - 3000 - 16 - 16) * MIB);
	EXPECT_RC(cuMemAlloc(&p, 3000 * MIB), CUDA_ERROR_OUT_OF_MEMORY);
	OK(cuMemAlloc(&p, 1800 * MIB));
	OK(cuMemGetInfo(&f, &t));
	EXPECT(f == 32 * MIB);
	EXPECT_RC(cuMemAlloc(&q, 33 * MIB), CUDA_ERROR_OUT_OF_MEMORY);
	EXPECT(write(wfd, &ch, 1) == 1);
	/* hold the memory until killed */
	EXPECT(read(rfd, &ch, 1) >= 0);
	pause();
	exit(0);
}

int main(int argc, char **argv)
{
	CUcontext c;
	CUdeviceptr p, q;
	size_t f, t;
	int to_child[2], to_parent[2], st;
	char a1[16], a2[16], ch;
	pid_t pid;

	if (argc == 4 && !strcmp(argv[1], "child"))
		child(atoi(argv[2]), atoi(argv[3]));
	OK(cuInit(0));
	OK(cuCtxCreate(&c, NULL, 0, 0));
	OK(cuMemGetInfo(&f, &t));
	EXPECT(t == 4864 * MIB);
	EXPECT(f == t - 16 * MIB); /* nobody else uses this device */
	OK(cuMemAlloc(&p, 3000 * MIB));

	EXPECT(pipe(to_child) == 0 && pipe(to_parent) == 0);
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		snprintf(a1, sizeof(a1), "%d", to_child[0]);
		snprintf(a2, sizeof(a2), "%d", to_parent[1]);
		execl("/proc/self/exe", argv[0], "child", a1, a2, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(to_parent[1]);
	if (read(to_parent[0], &ch, 1) != 1) {
		waitpid(pid, &st, 0);
		fprintf(stderr, "child failed (status %d)\n", st);
		return 1;
	}
	/* the child's 1800 MiB count against us too */
	OK(cuMemGetInfo(&f, &t));
	EXPECT(f == 32 * MIB);
	EXPECT_RC(cuMemAlloc(&q, 100 * MIB), CUDA_ERROR_OUT_OF_MEMORY);
	/* killed: its charge comes back at the next allocation that needs it */
	EXPECT(kill(pid, SIGKILL) == 0);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	OK(cuMemAlloc(&q, 1000 * MIB));
	OK(cuMemGetInfo(&f, &t));
	EXPECT(f == (4864 - 16 - 3000 - 1000) * MIB);
	OK(cuMemFree(q));
	OK(cuMemFree(p));
	OK(cuCtxDestroy(c));
	printf("sim.oom: ok\n");
	return 0;
}

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/acct.h"

#define MIB (1024ull * 1024ull)

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gv-acct-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/acct", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_create_open_errors(void **state)
{
	struct fixture *f = *state;
	struct gv_err err = { 0 };
	struct gv_acct *a = (struct gv_acct *)1;
	struct stat st;
	char bad[160];
	int fd;

	assert_int_equal(gv_acct_open(f->path, &a, &err), -ENOENT);
	assert_null(a);
	assert_int_equal(gv_acct_create(f->path, 64 * MIB, &err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(gv_acct_create(f->path, 32 * MIB, &err), -EEXIST);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(gv_acct_open(f->path, &a, &err), 0);
	assert_int_equal(gv_acct_limit(a), 64 * MIB);
	assert_int_equal(gv_acct_used(a), 0);
	gv_acct_close(a);

	/* a file of the wrong shape is refused and left alone */
	snprintf(bad, sizeof(bad), "%s/bad", f->dir);
	fd = open(bad, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an accounting file", 22), 22);
	close(fd);
	a = (struct gv_acct *)1;
	assert_int_equal(gv_acct_open(bad, &a, &err), -EINVAL);
	assert_null(a);
	assert_int_equal(stat(bad, &st), 0);
	assert_int_equal(st.st_size, 22);
	unlink(bad);

	/* open_or_create keeps an existing file's limit */
	assert_int_equal(gv_acct_open_or_create(f->path, 1 * MIB, &a, &err), 0);
	assert_int_equal(gv_acct_limit(a), 64 * MIB);
	gv_acct_close(a);

	assert_int_equal(gv_acct_open(NULL, &a, &err), -EINVAL);
	assert_int_equal(gv_acct_create("", 1, &err), -EINVAL);
	assert_int_equal(gv_acct_charge(NULL, 1), -EINVAL);
	assert_int_equal(gv_acct_uncharge(NULL, 1), -EINVAL);
	assert_int_equal(gv_acct_used(NULL), 0);
	assert_int_equal(gv_acct_reclaim_dead(NULL), -EINVAL);
	gv_acct_close(NULL);
}

/* The limit file rules once in use: writing the accounting file's own
 * limit field (what a tenant can do) raises nothing; the limit file is
 * 0644 and checked (size, magic). */
static void test_limit_file(void **state)
{
	struct fixture *f = *state;
	struct gv_err err = { 0 };
	struct gv_acct *a = NULL;
	char lim[160];
	uint64_t big = 64ull << 30;
	struct stat st;
	int fd;

	snprintf(lim, sizeof(lim), "%s/limit", f->dir);
	assert_int_equal(gv_acct_create(f->path, 256 * MIB, NULL), 0);
	assert_int_equal(gv_acct_limit_create(lim, 256 * MIB, &err), 0);
	assert_int_equal(stat(lim, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* the tenant's write: the header's limit (offset 8) */
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &big, sizeof(big), 8), (ssize_t)sizeof(big));
	close(fd);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_limit(a), big); /* without the limit file */
	assert_int_equal(gv_acct_use_limit_file(a, "/nonexistent/limit", &err), -ENOENT);
	assert_int_equal(gv_acct_use_limit_file(a, f->path, &err), -EINVAL);
	assert_int_equal(gv_acct_use_limit_file(a, lim, &err), 0);
	assert_int_equal(gv_acct_limit(a), 256 * MIB);
	assert_int_equal(gv_acct_charge(a, 257 * MIB), -ENOMEM);
	assert_int_equal(gv_acct_charge(a, 256 * MIB), 0);
	assert_int_equal(gv_acct_charge(a, 1), -ENOMEM);
	/* the daemon may replace it (atomically); the mapping is of the old one */
	assert_int_equal(gv_acct_limit_create(lim, 512 * MIB, &err), 0);
	assert_int_equal(gv_acct_use_limit_file(a, lim, &err), 0);
	assert_int_equal(gv_acct_charge(a, 1), 0);
	gv_acct_close(a);
	unlink(lim);
}

static void test_charge_uncharge(void **state)
{
	struct fixture *f = *state;
	struct gv_acct *a = NULL;
	struct gv_acct_usage u[4];

	assert_int_equal(gv_acct_open_or_create(f->path, 10 * MIB, &a, NULL), 0);
	assert_int_equal(gv_acct_charge(a, 0), 0);
	assert_int_equal(gv_acct_charge(a, 4 * MIB), 0);
	assert_int_equal(gv_acct_charge(a, 6 * MIB), 0);
	assert_int_equal(gv_acct_used(a), 10 * MIB);
	/* over the limit: refused, nothing changes */
	assert_int_equal(gv_acct_charge(a, 1), -ENOMEM);
	assert_int_equal(gv_acct_charge(a, UINT64_MAX), -ENOMEM);
	assert_int_equal(gv_acct_used(a), 10 * MIB);
	assert_int_equal(gv_acct_mine(a), 10 * MIB);
	assert_int_equal(gv_acct_slots(a, u, 4), 1);
	assert_int_equal(u[0].pid, getpid());
	assert_int_equal(u[0].bytes, 10 * MIB);
	assert_int_equal(gv_acct_uncharge(a, 11 * MIB), -EINVAL);
	assert_int_equal(gv_acct_used(a), 10 * MIB);
	assert_int_equal(gv_acct_uncharge(a, 4 * MIB), 0);
	assert_int_equal(gv_acct_used(a), 6 * MIB);
	assert_int_equal(gv_acct_charge(a, 4 * MIB), 0);
	/* closing gives back what the process still holds */
	gv_acct_close(a);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_used(a), 0);
	assert_int_equal(gv_acct_slots(a, u, 4), 0);
	gv_acct_close(a);
}

/* Children charge 1 MiB at a time until refused, report their count, then
 * wait (holding their charges) until the parent closes the pipe. */
static void test_concurrent_children_never_exceed(void **state)
{
	struct fixture *f = *state;
	enum { N = 6, LIMIT_MIB = 200 };
	struct gv_acct *a = NULL;
	int to_parent[2], to_child[2];
	pid_t pids[N];
	int total = 0;

	assert_int_equal(gv_acct_create(f->path, LIMIT_MIB * MIB, NULL), 0);
	assert_int_equal(pipe(to_parent), 0);
	assert_int_equal(pipe(to_child), 0);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct gv_acct *c = NULL;
			int n = 0;
			char ch;

			close(to_parent[0]);
			close(to_child[1]);
			if (gv_acct_open(f->path, &c, NULL) < 0)
				_exit(2);
			while (gv_acct_charge(c, MIB) == 0)
				n++;
			if (gv_acct_mine(c) != (uint64_t)n * MIB)
				_exit(3);
			if (write(to_parent[1], &n, sizeof(n)) != sizeof(n))
				_exit(4);
			(void)!read(to_child[0], &ch, 1);
			_exit(0); /* exits without uncharging: like a crash */
		}
	}
	close(to_parent[1]);
	close(to_child[0]);
	for (int i = 0; i < N; i++) {
		int n;

		assert_int_equal(read(to_parent[0], &n, sizeof(n)), sizeof(n));
		total += n;
	}
	assert_int_equal(total, LIMIT_MIB);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_used(a), LIMIT_MIB * MIB);
	assert_int_equal(gv_acct_slots(a, NULL, 0), N);
	assert_int_equal(gv_acct_charge(a, MIB), -ENOMEM);
	close(to_child[1]);
	close(to_parent[0]);
	for (int i = 0; i < N; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	/* every child is gone: their charges come back */
	assert_int_equal(gv_acct_used(a), 0);
	/* only the parent's slot is left (taken by its refused charge) */
	assert_int_equal(gv_acct_slots(a, NULL, 0), 1);
	assert_int_equal(gv_acct_charge(a, LIMIT_MIB * MIB), 0);
	gv_acct_close(a);
}

static pid_t spawn_holder(const char *path, uint64_t bytes)
{
	int p[2];
	pid_t pid;
	char ok = 0;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct gv_acct *c = NULL;

		close(p[0]);
		if (gv_acct_open(path, &c, NULL) == 0 && gv_acct_charge(c, bytes) == 0)
			ok = 1;
		(void)!write(p[1], &ok, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && (read(p[0], &ok, 1) != 1 || !ok)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static void test_killed_child_is_reclaimed_on_charge(void **state)
{
	struct fixture *f = *state;
	struct gv_acct *a = NULL;
	pid_t child;

	assert_int_equal(gv_acct_create(f->path, 100 * MIB, NULL), 0);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	child = spawn_holder(f->path, 70 * MIB);
	assert_true(child > 0);
	assert_int_equal(gv_acct_charge(a, 40 * MIB), -ENOMEM);
	assert_int_equal(gv_acct_charge(a, 30 * MIB), 0);
	assert_int_equal(gv_acct_uncharge(a, 30 * MIB), 0);
	assert_int_equal(kill(child, SIGKILL), 0);
	/* before it is reaped the child is a zombie: dead all the same */
	for (int i = 0; i < 200; i++) {
		char p[64], buf[256], *s;
		FILE *fp;

		snprintf(p, sizeof(p), "/proc/%d/stat", (int)child);
		fp = fopen(p, "r");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		s = strrchr(buf, ')');
		if (s && s[2] == 'Z')
			break;
		usleep(10000);
	}
	/* the charge that would fail reclaims the dead child's 70 MiB */
	assert_int_equal(gv_acct_charge(a, 100 * MIB), 0);
	assert_int_equal(gv_acct_used(a), 100 * MIB);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(gv_acct_used(a), 100 * MIB);
	gv_acct_close(a);
}

/* A slot whose recorded start time differs from the live process's one
 * belongs to an earlier process with the same pid. */
/* A child forked after its parent charged, using the parent's handle,
 * charges a slot of its own (the pid the module caches is refreshed at
 * fork), and the parent's charge stays the parent's. */
static void test_forked_child_gets_own_slot(void **state)
{
	struct fixture *f = *state;
	struct gv_acct *a = NULL;
	struct gv_acct_usage u[4];
	int p[2], status = 0;
	char ok = 0;
	pid_t pid;

	assert_int_equal(gv_acct_create(f->path, 100 * MIB, NULL), 0);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_charge(a, 10 * MIB), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		ok = gv_acct_mine(a) == 0 && gv_acct_charge(a, 20 * MIB) == 0 &&
		     gv_acct_mine(a) == 20 * MIB;
		(void)!write(p[1], &ok, 1);
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &ok, 1), 1);
	close(p[0]);
	assert_true(ok);
	assert_int_equal(gv_acct_mine(a), 10 * MIB);
	assert_int_equal(gv_acct_used(a), 30 * MIB);
	assert_int_equal(gv_acct_slots(a, u, 4), 2);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(gv_acct_reclaim_dead(a), 1);
	assert_int_equal(gv_acct_used(a), 10 * MIB);
	gv_acct_close(a);
}

/* A slot charged from another PID namespace is not reclaimed from this
 * one: its owner's pid (1 there) names another process here, whose start
 * time differs, which would make it look dead. Needs CAP_SYS_ADMIN for
 * unshare(CLONE_NEWPID); skipped without it. */
static void test_other_pid_namespace_not_reclaimed(void **state)
{
	struct fixture *f = *state;
	struct gv_acct *a = NULL;
	struct gv_acct_usage u[4] = { { 0 } };
	int p[2], status = 0, inner_host = 0, n_slots, reclaimed;
	pid_t mid, kill_later = 0, pid0;
	uint64_t used;
	char ok = 0;

	assert_int_equal(gv_acct_create(f->path, 100 * MIB, NULL), 0);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(pipe(p), 0);
	mid = fork();
	if (mid == 0) {
		pid_t inner;

		close(p[0]);
		if (unshare(CLONE_NEWPID) != 0) {
			ok = 2;
			(void)!write(p[1], &ok, 1);
			_exit(0);
		}
		inner = fork(); /* pid 1 of the new namespace */
		if (inner == 0) {
			struct gv_acct *c = NULL;
			char self[32] = "";
			int host_pid;

			/* /proc is this test's: /proc/self names the host pid,
			 * which the test needs to kill the namespace's init */
			(void)!readlink("/proc/self", self, sizeof(self) - 1);
			host_pid = atoi(self);
			ok = getpid() == 1 && host_pid > 1 &&
			     gv_acct_open(f->path, &c, NULL) == 0 &&
			     gv_acct_charge(c, 30 * MIB) == 0;
			(void)!write(p[1], &ok, 1);
			(void)!write(p[1], &host_pid, sizeof(host_pid));
			for (;;)
				pause();
		}
		_exit(inner > 0 && waitpid(inner, NULL, 0) == inner ? 0 : 1);
	}
	assert_true(mid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &ok, 1), 1);
	if (ok == 2) {
		close(p[0]);
		waitpid(mid, &status, 0);
		gv_acct_close(a);
		skip();
	}
	assert_int_equal(read(p[0], &inner_host, sizeof(inner_host)), sizeof(inner_host));
	close(p[0]);
	if (inner_host > 1)
		kill_later = inner_host;
	n_slots = gv_acct_slots(a, u, 4);
	pid0 = u[0].pid;
	/* host pid 1 exists with another start time: by pid it would be dead */
	reclaimed = gv_acct_reclaim_dead(a);
	used = gv_acct_used(a);
	if (kill_later > 1)
		kill(kill_later, SIGKILL);
	waitpid(mid, &status, 0);
	gv_acct_close(a);
	assert_int_equal(ok, 1);
	assert_int_equal(n_slots, 1);
	assert_int_equal(pid0, 1);
	assert_int_equal(reclaimed, 0);
	assert_int_equal(used, 30 * MIB);
}

static void test_pid_reuse_is_dead(void **state)
{
	struct fixture *f = *state;
	struct gv_acct *a = NULL;
	unsigned char *m;
	size_t len;
	struct stat st;
	pid_t child;
	int fd, found = 0;

	assert_int_equal(gv_acct_create(f->path, 100 * MIB, NULL), 0);
	child = spawn_holder(f->path, 10 * MIB);
	assert_true(child > 0);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_used(a), 10 * MIB);
	assert_int_equal(gv_acct_reclaim_dead(a), 0);

	/* forge the start time of the child's slot (layout: 64-byte header,
	 * 24-byte slots {owner, start, bytes}) */
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	len = (size_t)st.st_size;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	close(fd);
	for (size_t off = 64; off + 24 <= len; off += 24) {
		uint64_t owner;

		memcpy(&owner, m + off, 8);
		if (owner == (uint64_t)child) {
			uint64_t start;

			memcpy(&start, m + off + 8, 8);
			assert_true(start != 0);
			start += 12345;
			memcpy(m + off + 8, &start, 8);
			found = 1;
		}
	}
	munmap(m, len);
	assert_true(found);
	assert_int_equal(gv_acct_reclaim_dead(a), 1);
	assert_int_equal(gv_acct_reclaim_dead(a), 0);
	assert_int_equal(gv_acct_used(a), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	gv_acct_close(a);
}

/* Many processes reclaim the same dead slots at once: the bytes come back
 * exactly once (total never goes below what live processes hold). */
static void test_concurrent_reclaim_exactly_once(void **state)
{
	struct fixture *f = *state;
	enum { DEAD = 8, RECLAIMERS = 6 };
	struct gv_acct *a = NULL;
	pid_t dead[DEAD], rec[RECLAIMERS];
	int go[2], freed = 0, res[2];

	assert_int_equal(gv_acct_create(f->path, 1000 * MIB, NULL), 0);
	assert_int_equal(gv_acct_open(f->path, &a, NULL), 0);
	assert_int_equal(gv_acct_charge(a, 100 * MIB), 0);
	for (int i = 0; i < DEAD; i++) {
		dead[i] = spawn_holder(f->path, 10 * MIB);
		assert_true(dead[i] > 0);
	}
	assert_int_equal(gv_acct_used(a), 180 * MIB);
	for (int i = 0; i < DEAD; i++) {
		kill(dead[i], SIGKILL);
		waitpid(dead[i], NULL, 0);
	}
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	for (int i = 0; i < RECLAIMERS; i++) {
		rec[i] = fork();
		assert_true(rec[i] >= 0);
		if (rec[i] == 0) {
			struct gv_acct *c = NULL;
			char ch;
			int n;

			close(go[1]);
			if (gv_acct_open(f->path, &c, NULL) < 0)
				_exit(2);
			(void)!read(go[0], &ch, 1);
			n = gv_acct_reclaim_dead(c);
			(void)!write(res[1], &n, sizeof(n));
			gv_acct_close(c);
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	close(go[1]); /* all start at once */
	for (int i = 0; i < RECLAIMERS; i++) {
		int n;

		assert_int_equal(read(res[0], &n, sizeof(n)), sizeof(n));
		freed += n;
		waitpid(rec[i], NULL, 0);
	}
	close(res[0]);
	freed += gv_acct_reclaim_dead(a);
	assert_int_equal(freed, DEAD);
	assert_int_equal(gv_acct_used(a), 100 * MIB);
	gv_acct_close(a);
}

static void test_parse_proc_stat(void **state)
{
	char st = 0;
	uint64_t start = 0;

	(void)state;
	assert_int_equal(gv_acct_parse_proc_stat("1234 (a (weird) name) S 1 1234 1234 0 -1 "
						 "4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000",
						 &st, &start),
			 0);
	assert_int_equal(st, 'S');
	assert_int_equal(start, 987654);
	assert_int_equal(gv_acct_parse_proc_stat(
				 "42 (z) Z 1 42 42 0 -1 4 0 0 0 0 0 0 0 0 20 0 1 0 5", &st, &start),
			 0);
	assert_int_equal(st, 'Z');
	assert_int_equal(start, 5);
	assert_int_equal(gv_acct_parse_proc_stat("42 (truncated) S 1 2 3", &st, &start), -EINVAL);
	assert_int_equal(gv_acct_parse_proc_stat("no parenthesis", &st, &start), -EINVAL);
	assert_int_equal(gv_acct_parse_proc_stat("42 (x)", &st, &start), -EINVAL);
	assert_int_equal(gv_acct_parse_proc_stat("42 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 -5",
						 &st, &start),
			 -EINVAL);
	assert_int_equal(gv_acct_parse_proc_stat(NULL, &st, &start), -EINVAL);
}

static void test_sim_path(void **state)
{
	struct fixture *f = *state;
	char a[512], b[512], c[512], rel[256];
	FILE *fp;

	setenv("GPUVISOR_SIM_SHM_DIR", f->dir, 1);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(gv_acct_sim_path(f->path, "GPU-1", a, sizeof(a)), 0);
	assert_int_equal(strncmp(a, f->dir, strlen(f->dir)), 0);
	assert_non_null(strstr(a, "/gpuvisor-sim-"));
	/* the same file by another name is the same device */
	snprintf(rel, sizeof(rel), "%s/../%s/acct", f->dir, strrchr(f->dir, '/') + 1);
	assert_int_equal(gv_acct_sim_path(rel, "GPU-1", b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(gv_acct_sim_path(f->path, "GPU-2", c, sizeof(c)), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(gv_acct_sim_path(NULL, "GPU-1", c, sizeof(c)), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(gv_acct_sim_path(f->path, "GPU-1", c, 10), -ENAMETOOLONG);
	assert_int_equal(gv_acct_sim_path(f->path, NULL, c, sizeof(c)), -EINVAL);
	unsetenv("GPUVISOR_SIM_SHM_DIR");
	assert_int_equal(gv_acct_sim_path(NULL, "GPU-1", c, sizeof(c)), 0);
	assert_int_equal(strncmp(c, "/dev/shm/gpuvisor-sim-", 22), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_proc_stat),
		cmocka_unit_test_setup_teardown(test_sim_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charge_uncharge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_children_never_exceed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_child_is_reclaimed_on_charge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pid_reuse_is_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forked_child_gets_own_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_pid_namespace_not_reclaimed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_reclaim_exactly_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/proc.h"

static void test_parse_plain(void **state)
{
	struct gv_proc_stat st;
	const char *line = "1234 (sleep) S 1200 1234 1200 34816 1234 4194304 100 0 0 0 0 0 0 0 "
			   "20 0 1 0 987654 8192000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 "
			   "0 0 17 1 0 0 0 0 0\n";

	(void)state;
	assert_int_equal(gv_proc_stat_parse(line, &st), 0);
	assert_int_equal(st.ppid, 1200);
	assert_int_equal(st.pgid, 1234);
	assert_int_equal(st.starttime, 987654);
}

/* a command name may hold spaces and ") (": fields count after the last ')' */
static void test_parse_hostile_comm(void **state)
{
	struct gv_proc_stat st;
	const char *line = "77 (a) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 ) R 99 99 99 0 -1 0 "
			   "0 0 0 0 0 0 0 0 20 0 1 0 424242 0 0\n";

	(void)state;
	assert_int_equal(gv_proc_stat_parse(line, &st), 0);
	assert_int_equal(st.ppid, 99);
	assert_int_equal(st.pgid, 99);
	assert_int_equal(st.starttime, 424242);
}

static void test_parse_rejects(void **state)
{
	struct gv_proc_stat st;

	(void)state;
	assert_int_equal(gv_proc_stat_parse("", &st), -EINVAL);
	assert_int_equal(gv_proc_stat_parse("1 (x", &st), -EINVAL);
	assert_int_equal(gv_proc_stat_parse("1 (x) S 1 2 3", &st), -EINVAL); /* short */
	assert_int_equal(gv_proc_stat_parse("1 (x) S a 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", &st),
			 -EINVAL);
	assert_int_equal(gv_proc_stat_parse("1 (x) S -5 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 9 ", &st),
			 -EINVAL);
}

/* a fake process table: parent[pid] (-1 = no such process), start[pid] */
struct table {
	pid_t parent[32];
	uint64_t start[32];
	int calls;
};

static int table_stat(pid_t pid, struct gv_proc_stat *out, void *cls)
{
	struct table *t = cls;

	t->calls++;
	if (pid <= 0 || pid >= 32 || t->parent[pid] < 0)
		return -ENOENT;
	out->ppid = t->parent[pid];
	out->pgid = pid;
	out->starttime = t->start[pid];
	return 0;
}

static void table_init(struct table *t)
{
	int i;

	for (i = 0; i < 32; i++) {
		t->parent[i] = -1;
		t->start[i] = (uint64_t)i; /* by default: parents are older */
	}
	t->calls = 0;
}

static void test_descends(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	/* 1 <- 10 <- 11 <- 12, 1 <- 20 <- 21, 13 orphan chain with a gone parent */
	t.parent[1] = 0;
	t.parent[10] = 1;
	t.parent[11] = 10;
	t.parent[12] = 11;
	t.parent[20] = 1;
	t.parent[21] = 20;
	t.parent[13] = 14; /* 14 does not exist */
	assert_int_equal(gv_proc_descends(12, 10, table_stat, &t), 1);
	assert_int_equal(gv_proc_descends(11, 10, table_stat, &t), 1);
	assert_int_equal(gv_proc_descends(12, 12, table_stat, &t), 1); /* itself */
	assert_int_equal(gv_proc_descends(11, 12, table_stat, &t), 0); /* a parent is not a child */
	assert_int_equal(gv_proc_descends(21, 10, table_stat, &t), 0); /* another branch */
	assert_int_equal(gv_proc_descends(13, 10, table_stat, &t), 0); /* chain broken */
	assert_int_equal(gv_proc_descends(30, 10, table_stat, &t), 0); /* no such process */
	/* init is everyone's ancestor: never an answer */
	assert_int_equal(gv_proc_descends(12, 1, table_stat, &t), -EINVAL);
	assert_int_equal(gv_proc_descends(0, 10, table_stat, &t), -EINVAL);
}

/* 12's parent 11 died and its number went to a younger process, a child of
 * 10: the chain read through the new 11 must not make 12 a descendant */
static void test_descends_reused_parent(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	t.parent[10] = 1;
	t.parent[11] = 10;
	t.parent[12] = 11;
	t.start[11] = 100; /* the new 11, started after 12 (start 12) */
	assert_int_equal(gv_proc_descends(12, 10, table_stat, &t), 0);
	t.start[11] = 12; /* same tick as its child: still a parent */
	assert_int_equal(gv_proc_descends(12, 10, table_stat, &t), 1);
	/* the ancestor's own number reused by a younger process */
	t.start[11] = 11;
	t.start[10] = 50;
	assert_int_equal(gv_proc_descends(12, 10, table_stat, &t), 0);
}

static void test_descends_loop_bounded(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	t.parent[5] = 6;
	t.parent[6] = 5; /* inconsistent answers: a cycle */
	t.start[5] = t.start[6] = 3;
	assert_int_equal(gv_proc_descends(5, 7, table_stat, &t), -ELOOP);
	assert_true(t.calls <= 4097);
}

/* the real /proc: a forked child descends from us, we do not from it, and
 * its start time is not in the future */
static void test_real_proc(void **state)
{
	struct gv_proc_stat st;
	uint64_t now;
	pid_t child;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(gv_proc_descends(child, getpid(), gv_proc_stat_of, NULL), 1);
	assert_int_equal(gv_proc_descends(getpid(), child, gv_proc_stat_of, NULL), 0);
	assert_int_equal(gv_proc_stat_read(child, &st), 0);
	assert_int_equal(st.ppid, getpid());
	assert_int_equal(gv_proc_now_ticks(&now), 0);
	assert_true(st.starttime <= now);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(gv_proc_stat_read(child, &st), -ENOENT);
}

/* A child that waits to be killed; in a group of its own when own_group. */
static pid_t spawn(bool own_group)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		if (own_group)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (own_group)
		setpgid(child, child); /* both sides: set whichever runs first */
	return child;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

static void test_group_kill_checks_identity(void **state)
{
	struct gv_proc_stat st;
	struct gv_err err = { 0 };
	pid_t child = spawn(true);
	int status;

	(void)state;
	assert_int_equal(gv_proc_stat_read(child, &st), 0);
	/* another start time: the number names another process now */
	assert_int_equal(gv_proc_group_kill(child, st.starttime + 1, SIGKILL, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "another process"));
	assert_true(alive(child));
	assert_int_equal(gv_proc_group_kill(child, st.starttime - 1, SIGKILL, &err), -ESRCH);
	assert_true(alive(child));
	/* the registered one: killed */
	assert_int_equal(gv_proc_group_kill(child, st.starttime, SIGKILL, &err), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* gone: nothing to signal */
	assert_int_equal(gv_proc_group_kill(child, st.starttime, SIGKILL, &err), -ESRCH);
	/* never init's group or a negative number */
	assert_int_equal(gv_proc_group_kill(1, 1, SIGKILL, &err), -EINVAL);
	assert_int_equal(gv_proc_group_kill(0, 1, SIGKILL, &err), -EINVAL);
}

/* a process that does not lead a group of its number: nothing is signalled
 * (kill(-pid) would fail anyway, or hit another group) */
static void test_group_kill_needs_leader(void **state)
{
	struct gv_proc_stat st;
	struct gv_err err = { 0 };
	pid_t child = spawn(false);

	(void)state;
	assert_int_equal(gv_proc_stat_read(child, &st), 0);
	assert_int_equal(gv_proc_group_kill(child, st.starttime, SIGKILL, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "no longer leads"));
	assert_true(alive(child));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_hostile_comm),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_descends),
		cmocka_unit_test(test_descends_reused_parent),
		cmocka_unit_test(test_descends_loop_bounded),
		cmocka_unit_test(test_real_proc),
		cmocka_unit_test(test_group_kill_checks_identity),
		cmocka_unit_test(test_group_kill_needs_leader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

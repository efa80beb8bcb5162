/* gv_fdpass_ (src/base/fdpass.c) over a socketpair: several descriptors,
 * none, more than the receiver has room for, a message read in pieces, a
 * closed peer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvisor/fdpass.h"

static int sp[2];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
}

static int teardown(void **state)
{
	(void)state;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/* Descriptors open in this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* n pipes: their read ends in rd (to send), write ends in wr. */
static void pipes(int *rd, int *wr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		rd[i] = p[0];
		wr[i] = p[1];
	}
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* got is the same pipe as wr: a byte written there is read from got. */
static void assert_same_pipe(int got, int wr, char tag)
{
	char c = 0;

	assert_int_equal(write(wr, &tag, 1), 1);
	assert_int_equal(read(got, &c, 1), 1);
	assert_int_equal(c, tag);
}

static void test_several_fds(void **state)
{
	int rd[3], wr[3], got[8];
	size_t n = 0;
	bool lost = false;
	char buf[16];

	(void)state;
	pipes(rd, wr, 3);
	assert_int_equal(gv_fdpass_send(sp[0], "abc", 3, rd, 3), 0);
	assert_int_equal(gv_fdpass_recv(sp[1], buf, sizeof(buf), 0, got, 8, &n, &lost), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(n, 3);
	assert_false(lost);
	for (size_t i = 0; i < 3; i++) {
		assert_int_not_equal(got[i], rd[i]);
		assert_int_equal(fcntl(got[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		assert_same_pipe(got[i], wr[i], (char)('x' + i));
	}
	close_all(got, n);
	close_all(rd, 3);
	close_all(wr, 3);
}

static void test_zero_fds(void **state)
{
	int fds[4] = { -1, -1, -1, -1 }, one = 0;
	size_t n = 0;
	bool lost = false;
	char buf[16];

	(void)state;
	assert_int_equal(gv_fdpass_send(sp[0], "hello", 5, NULL, 0), 0);
	assert_int_equal(gv_fdpass_recv(sp[1], buf, sizeof(buf), 0, fds, 4, &n, &lost), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(n, 0);
	assert_false(lost);
	assert_int_equal(fds[0], -1);
	/* descriptors need a byte to ride on; one message carries so many */
	assert_int_equal(gv_fdpass_send(sp[0], "", 0, &one, 1), -EINVAL);
	assert_int_equal(gv_fdpass_send(sp[0], "x", 1, &one, GV_FDPASS_MAX + 1), -EINVAL);
	/* nothing was sent by the refused calls */
	assert_int_equal(gv_fdpass_recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT, fds, 4, &n, &lost),
			 -EAGAIN);
}

/* More descriptors than the room left: the first ones kept, the others
 * closed (none left open in this process), lost reported. */
static void truncated_case(size_t cap, size_t have)
{
	int rd[5], wr[5], got[5] = { -1, -1, -1, -1, -1 };
	size_t n = have;
	bool lost = false;
	char buf[8];
	int before;

	pipes(rd, wr, 5);
	assert_int_equal(gv_fdpass_send(sp[0], "t", 1, rd, 5), 0);
	before = open_fds();
	assert_int_equal(gv_fdpass_recv(sp[1], buf, sizeof(buf), 0, got, cap, &n, &lost), 1);
	assert_true(lost);
	assert_int_equal(n, cap);
	assert_int_equal(open_fds(), before + (int)(cap - have));
	for (size_t i = have; i < cap; i++)
		assert_same_pipe(got[i], wr[i - have], 'q');
	for (size_t i = 0; i < have; i++)
		assert_int_equal(got[i], -1); /* what was there is left alone */
	close_all(got + have, cap - have);
	close_all(rd, 5);
	close_all(wr, 5);
}

static void test_truncation(void **state)
{
	(void)state;
	truncated_case(2, 0); /* the kernel drops what does not fit */
	truncated_case(1, 0); /* two fit the rounded control space: one closed here */
	truncated_case(3, 1); /* appended after what the caller holds */
	truncated_case(1, 1); /* no room at all */
}

/* The descriptors come with the message's first byte, on the first read. */
static void test_split_read(void **state)
{
	int rd[1], wr[1], got[2];
	size_t n = 0;
	bool lost = false;
	char buf[16];

	(void)state;
	pipes(rd, wr, 1);
	assert_int_equal(gv_fdpass_send(sp[0], "0123456789", 10, rd, 1), 0);
	assert_int_equal(gv_fdpass_recv(sp[1], buf, 4, 0, got, 2, &n, &lost), 4);
	assert_int_equal(n, 1);
	assert_int_equal(gv_fdpass_recv(sp[1], buf + 4, 12, 0, got, 2, &n, &lost), 6);
	assert_int_equal(n, 1);
	assert_false(lost);
	assert_memory_equal(buf, "0123456789", 10);
	assert_same_pipe(got[0], wr[0], 's');
	close_all(got, n);
	close_all(rd, 1);
	close_all(wr, 1);
}

/* A closed peer: 0 to the receiver, -EPIPE (not SIGPIPE) to the sender. */
static void test_closed_peer(void **state)
{
	int s[2], fds[1];
	size_t n = 0;
	char buf[4];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	close(s[0]);
	assert_int_equal(gv_fdpass_recv(s[1], buf, sizeof(buf), 0, fds, 1, &n, NULL), 0);
	assert_int_equal(gv_fdpass_send(s[1], "x", 1, &s[1], 1), -EPIPE);
	assert_int_equal(n, 0);
	close(s[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_several_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_peer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

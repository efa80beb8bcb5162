/* Facts about processes from /proc/<pid>/stat (see gpuvisor/proc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/proc.h"

/* A chain of parents longer than this is not a real one (pid_max is at most
 * 2^22, and a process tree that deep does not exist); it stops a lookup
 * that would loop on inconsistent answers. */
#define GV_PROC_MAX_DEPTH 4096

static int parse_field(const char **p, long long *out)
{
	char *end;

	while (**p == ' ')
		(*p)++;
	errno = 0;
	*out = strtoll(*p, &end, 10);
	if (errno || end == *p || (*end != ' ' && *end != '\0' && *end != '\n'))
		return -EINVAL;
	*p = end;
	return 0;
}

int gv_proc_stat_parse(const char *text, struct gv_proc_stat *out)
{
	const char *p = strrchr(text, ')');
	long long v[21]; /* fields 3..22; field 3 (state) is a letter */
	int field;

	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	/* field 3: one state letter */
	if (!*p || p[1] != ' ')
		return -EINVAL;
	p += 1;
	for (field = 4; field <= 22; field++)
		if (parse_field(&p, &v[field - 3]) != 0)
			return -EINVAL;
	if (v[4 - 3] < 0 || v[5 - 3] < 0 || v[22 - 3] < 0)
		return -EINVAL;
	out->ppid = (pid_t)v[4 - 3];
	out->pgid = (pid_t)v[5 - 3];
	out->starttime = (uint64_t)v[22 - 3];
	return 0;
}

int gv_proc_stat_read(pid_t pid, struct gv_proc_stat *out)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == 0)
		return -ENOENT; /* gone between open and read */
	buf[n] = '\0';
	return gv_proc_stat_parse(buf, out);
}

int gv_proc_stat_of(pid_t pid, struct gv_proc_stat *out, void *cls)
{
	(void)cls;
	return gv_proc_stat_read(pid, out);
}

int gv_proc_descends(pid_t pid, pid_t ancestor, gv_proc_stat_fn lookup, void *cls)
{
	struct gv_proc_stat cur, up;
	int depth, ret;

	if (ancestor <= 1 || pid <= 0)
		return -EINVAL;
	if (pid == ancestor)
		return 1;
	ret = lookup(pid, &cur, cls);
	for (depth = 0; depth < GV_PROC_MAX_DEPTH; depth++) {
		if (ret == -ENOENT || ret == -ESRCH)
			return 0;
		if (ret)
			return ret;
		if (cur.ppid <= 1)
			return 0; /* reached init (or the kernel): not below ancestor */
		ret = lookup(cur.ppid, &up, cls);
		if (ret == 0 && up.starttime > cur.starttime)
			return 0; /* a younger process took the parent's number */
		if (ret == 0 && cur.ppid == ancestor)
			return 1;
		cur = up;
	}
	return -ELOOP;
}

/* pidfd_open(2) and pidfd_send_signal(2) through syscall(2): glibc before
 * 2.36 has no wrappers. -1 with errno ENOSYS where the kernel or the
 * headers lack them. */
static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int pidfd_signal_(int pfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
#else
	(void)pfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

int gv_proc_group_kill(pid_t pgid, uint64_t leader_start, int sig, struct gv_err *err)
{
	struct gv_proc_stat st;
	int pfd, ret;

	if (pgid <= 1)
		return gv_err_set(err, EINVAL, "refusing to signal process group %d", (int)pgid);
	/* pin the leader first: whatever /proc says below is about this
	 * process if it is still alive after the reads */
	pfd = pidfd_open_(pgid);
	if (pfd < 0 && errno == ESRCH)
		return gv_err_set(err, ESRCH,
				  "process %d, the leader of the workload's group, is gone",
				  (int)pgid);
	if (pfd < 0 && errno != ENOSYS)
		return gv_err_sys(err, "pidfd_open(%d)", (int)pgid);
	ret = gv_proc_stat_read(pgid, &st);
	if (ret) {
		ret = gv_err_set(err, ESRCH,
				 "process %d, the leader of the workload's group, is gone",
				 (int)pgid);
		goto out;
	}
	if (st.starttime != leader_start) {
		ret = gv_err_set(err, ESRCH,
				 "pid %d is another process now (started at tick %llu, the "
				 "workload's leader at %llu)",
				 (int)pgid, (unsigned long long)st.starttime,
				 (unsigned long long)leader_start);
		goto out;
	}
	if (st.pgid != pgid) {
		ret = gv_err_set(err, ESRCH,
				 "process %d no longer leads process group %d (now in %d)",
				 (int)pgid, (int)pgid, (int)st.pgid);
		goto out;
	}
	if (pfd >= 0 && pidfd_signal_(pfd, 0) != 0) {
		ret = gv_err_set(err, ESRCH, "process %d exited while it was checked", (int)pgid);
		goto out;
	}
	/* The leader was alive (perhaps a zombie, which keeps its pid) after
	 * its identity was read, so the number pgid was the workload's group's
	 * then. A pidfd signals one process, not a group: kill(2) on the
	 * group number is the only way. The window left: between the check
	 * above and this call, the leader is reaped, every other member of its
	 * group exits, and a new process gets the number pgid and makes it a
	 * new group's id (setsid/setpgid). That needs the pid counter to wrap
	 * around to pgid within these few instructions. */
	if (kill(-pgid, sig) != 0) {
		int e = errno;

		ret = e == ESRCH ? gv_err_set(err, ESRCH, "process group %d is gone", (int)pgid)
				 : gv_err_sys_code(err, e, "kill(-%d, %d)", (int)pgid, sig);
		goto out;
	}
	ret = 0;
out:
	if (pfd >= 0)
		close(pfd);
	return ret;
}

int gv_proc_now_ticks(uint64_t *out)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	/* the kernel's starttime counts boot time (suspend included) */
	if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return -EINVAL;
	*out = (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec / (1000000000ull / (uint64_t)hz);
	return 0;
}

/* gpuvisor: facts about processes from /proc/<pid>/stat, for deciding
 * which processes the daemon may register as a workload and signal.
 *
 * Contract: functions return 0 (or a documented non-negative answer) or a
 * negative errno. Only gv_proc_group_kill signals anything. */
#ifndef GPUVISOR_PROC_H
#define GPUVISOR_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/err.h"

struct gv_proc_stat {
	pid_t ppid;	    /* field 4 */
	pid_t pgid;	    /* field 5 */
	uint64_t starttime; /* field 22: clock ticks after boot */
};

/* Parses the text of a /proc/<pid>/stat file. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted after its last
 * ')'. -EINVAL when the text is not such a line. */
int gv_proc_stat_parse(const char *text, struct gv_proc_stat *out);

/* Reads and parses /proc/<pid>/stat: -ENOENT (or another -errno) when there
 * is no such process. */
int gv_proc_stat_read(pid_t pid, struct gv_proc_stat *out);

/* Process lookup used by gv_proc_descends: fills *out for pid, returns 0
 * or a negative errno (-ENOENT: no such process). */
typedef int (*gv_proc_stat_fn)(pid_t pid, struct gv_proc_stat *out, void *cls);

/* The lookup from /proc: gv_proc_stat_read (cls unused). */
int gv_proc_stat_of(pid_t pid, struct gv_proc_stat *out, void *cls);

/* Whether pid is ancestor itself or one of its descendants, following the
 * parent chain from pid upwards with lookup(): 1 yes, 0 no (the chain
 * reached pid 1 or 0 without meeting ancestor, or a process on it is gone),
 * negative errno on another failure or a chain longer than any real one
 * (-ELOOP). A process whose parent died was re-parented (to init or a
 * subreaper) and is no longer a descendant: the answer errs on "no".
 * Every parent on the chain must have started no later than its child: a
 * number that died and was reused by a younger process while the chain was
 * read breaks the chain (0) instead of lending it its own parents.
 * ancestor must be > 1: everything descends from init. */
int gv_proc_descends(pid_t pid, pid_t ancestor, gv_proc_stat_fn lookup, void *cls);

/* Sends sig to process group pgid only while it provably still is the
 * group whose leader (the process numbered pgid) started at leader_start:
 * the leader is pinned with a pidfd (Linux >= 5.3; without it the same
 * checks run on the pid alone), its start time must equal leader_start, it
 * must still lead group pgid, and it must still be alive after those checks
 * were read. Returns 0 when signalled; -ESRCH (message says why) when the
 * leader is gone, is another process now, or left its group: nothing was
 * signalled; -EINVAL for pgid <= 1; another negative errno from kill(2).
 * A group whose leader is gone is never signalled, even if some of its
 * processes live on: their group id may name another group by now. */
int gv_proc_group_kill(pid_t pgid, uint64_t leader_start, int sig, struct gv_err *err);

/* Now, in the unit of gv_proc_stat.starttime (clock ticks after boot). */
int gv_proc_now_ticks(uint64_t *out);

#endif

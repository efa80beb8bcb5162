/* gpuvisord: a workload's control directory (ctldir.h). */
#include "ctldir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/rundir.h"

void gvd_ctl_path(struct gvd *d, const char *inst, char *out, size_t cap)
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL_SOCK, inst, out, cap);
}

/* Empties and removes dir (one level: a workload's socket and whatever its
 * user put beside it); 0 when it is gone. */
static int remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(dp), e->d_name, 0);
	closedir(dp);
	return rmdir(dir) == 0 || errno == ENOENT ? 0 : -errno;
}

/* dir (the ctl directory of inst) gone: removed, or, where a file in it
 * cannot be, renamed aside; a previous workload's directory (its user may
 * have left anything in it) never serves the next one. */
static int clear_dir(struct gvd *d, const char *dir, const char *inst, struct gv_err *err)
{
	char stale[PATH_MAX + 64];

	if (remove_dir(dir) == 0)
		return 0;
	snprintf(stale, sizeof(stale), "%s/ctl/.stale-%s-%lld", d->o.run_dir, inst,
		 (long long)time(NULL));
	if (rename(dir, stale) != 0)
		return gv_err_sys(err, "cannot clear %s", dir);
	return 0;
}

int gvd_ctl_prepare(struct gvd *d, const char *inst, pid_t pid, struct gv_err *err)
{
	char dir[PATH_MAX], proc[64];
	struct stat st;
	int ret;

	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	if (stat(proc, &st) != 0)
		return gv_err_sys(err, "process %d", (int)pid);
	if (gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL, inst, dir, sizeof(dir)) != 0)
		return gv_err_set(err, ENAMETOOLONG, "the ctl directory of %s: path too long",
				  inst);
	ret = clear_dir(d, dir, inst, err);
	if (ret)
		return ret;
	if (mkdir(dir, 0700) != 0)
		return gv_err_sys(err, "cannot create %s", dir);
	if (chown(dir, st.st_uid, st.st_gid) != 0 || chmod(dir, 0700) != 0) {
		int e = errno;

		rmdir(dir);
		return gv_err_sys_code(err, e, "cannot give %s to uid %u", dir,
				       (unsigned)st.st_uid);
	}
	return 0;
}

/* Where the workload registered on inst listens: its ctl directory follows
 * it on a move through the driver (gvd_ctl_move), so the directory of the
 * instance it is on, unless the shim's own migration brought it there, the
 * latest completed one with its pid (the shim keeps the socket it was given
 * at start: the row recorded it) and that socket is still there (a move
 * through the driver since then took its directory away). A row of the
 * driver path records no socket. */
void gvd_ctl_for(struct gvd *d, const struct gv_store_inst *in, char *out, size_t cap)
{
	struct gv_store_mig *arr = NULL;
	struct stat st;
	size_t n = 0, i;
	const char *last = NULL;

	gvd_ctl_path(d, in->id, out, cap);
	if (gv_store_mig_list(d->st, &arr, &n, NULL) != 0)
		return;
	for (i = 0; i < n; i++) /* oldest first: the last match is the latest */
		if (arr[i].state == GV_MIGST_COMPLETED && strcmp(arr[i].dst, in->id) == 0 &&
		    arr[i].pid == in->wl_pid)
			last = arr[i].ctl;
	if (last && last[0] && lstat(last, &st) == 0)
		snprintf(out, cap, "%s", last);
	gv_store_mig_list_free(arr, n);
}

void gvd_bulk_for(struct gvd *d, const struct gv_store_inst *in, char *out, size_t cap)
{
	char *slash;

	gvd_ctl_for(d, in, out, cap);
	slash = strrchr(out, '/');
	if (slash && (size_t)(slash - out) + sizeof("/bulk.sock") <= cap)
		snprintf(slash, cap - (size_t)(slash - out), "/bulk.sock");
}

int gvd_ctl_move(struct gvd *d, const struct gv_store_inst *src, const char *dst,
		 struct gv_err *err)
{
	char from[PATH_MAX], to[PATH_MAX], *slash;
	struct stat st;
	int ret;

	gvd_ctl_for(d, src, from, sizeof(from));
	slash = strrchr(from, '/');
	if (slash)
		*slash = '\0';
	if (gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL, dst, to, sizeof(to)) != 0)
		return gv_err_set(err, ENAMETOOLONG, "the ctl directory of %s: path too long", dst);
	if (!strcmp(from, to))
		return 0;
	ret = clear_dir(d, to, dst, err);
	if (ret)
		return ret;
	if (stat(from, &st) != 0 && errno == ENOENT)
		return 0; /* nothing to follow it (a span's other member) */
	if (rename(from, to) != 0)
		return gv_err_sys(err, "cannot move %s to %s", from, to);
	return 0;
}

int gvd_bulk_bind(struct gvd *d, const struct gv_store_inst *in, uid_t uid, int *fd,
		  struct gv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX], name[GV_STORE_ID_MAX + 8];
	struct stat st;
	int s = -1, ret;

	*fd = -1;
	gvd_bulk_for(d, in, path, sizeof(path));
	snprintf(name, sizeof(name), ".bulk-%s", in->id);
	/* bound, given its mode and owner in ctl/ (gpuvisord's alone), then
	 * renamed into the workload's directory: the workload's user can
	 * replace names there, and a chown or chmod by name there could be
	 * made to follow a link to any file */
	if (gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL, name, sa.sun_path, sizeof(sa.sun_path)) ||
	    strlen(path) >= sizeof(sa.sun_path))
		return gv_err_set(err, ENAMETOOLONG, "the bulk socket's path is too long: %s",
				  path);
	/* a file there is a live process's socket (kept) or a dead one's
	 * (replaced), as the shim decides for its own */
	if (lstat(path, &st) == 0) {
		struct sockaddr_un live = { .sun_family = AF_UNIX };

		if (!S_ISSOCK(st.st_mode))
			return gv_err_set(err, EEXIST, "%s exists and is not a socket", path);
		memcpy(live.sun_path, path, strlen(path) + 1);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return gv_err_sys(err, "socket");
		ret = connect(s, (struct sockaddr *)&live, sizeof(live));
		close(s);
		if (ret == 0)
			return gv_err_set(err, EADDRINUSE,
					  "another process of the workload serves %s", path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return gv_err_sys(err, "socket");
	unlink(sa.sun_path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = gv_err_sys(err, "cannot bind %s", sa.sun_path);
		goto out;
	}
	if (chmod(sa.sun_path, 0600) != 0 || chown(sa.sun_path, uid, (gid_t)-1) != 0 ||
	    rename(sa.sun_path, path) != 0) {
		ret = gv_err_sys(err, "%s", path);
		unlink(sa.sun_path);
		goto out;
	}
	*fd = s;
	s = -1;
	ret = 0;
out:
	if (s >= 0)
		close(s);
	return ret;
}

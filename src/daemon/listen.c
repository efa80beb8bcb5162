/* Sockets, the state directory's lock and the TCP token. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

int gvd_mkdir_p(const char *path, mode_t mode, struct gv_err *err)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path), i;

	if (len == 0 || len >= sizeof(tmp))
		return gv_err_set(err, ENAMETOOLONG, "bad directory path '%s'", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return gv_err_sys(err, "cannot create directory %s", tmp);
		if (i < len)
			tmp[i] = '/';
	}
	return 0;
}

void gvd_group_resolve(struct gvd *d)
{
	struct group *gr = d->o.group && *d->o.group ? getgrnam(d->o.group) : NULL;

	d->has_gid = gr != NULL;
	d->gid = gr ? gr->gr_gid : (gid_t)-1;
}

int gvd_group_share(struct gvd *d, const char *path, mode_t mode, struct gv_err *err)
{
	if (d->has_gid && chown(path, (uid_t)-1, d->gid) != 0)
		gvd_log(GVD_LOG_WARN, "cannot give %s to group %s: %s", path, d->o.group,
			strerror(errno));
	/* chown clears the set-group-ID bit: the mode goes after it */
	if (chmod(path, mode) != 0)
		return gv_err_sys(err, "cannot chmod %s", path);
	return 0;
}

int gvd_dir_writable(const char *dir, const char *what, struct gv_err *err)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0)
		return gv_err_sys(err, "%s %s", what, dir);
	if (sv.f_flag & ST_RDONLY)
		return gv_err_set(err, EROFS, "%s %s is on a read-only filesystem", what, dir);
	/* SQLite needs room for its write-ahead log and shared-memory index
	 * besides the database: 1 MiB is the least start-up writes */
	if ((unsigned long long)sv.f_bavail * sv.f_frsize < 1024 * 1024)
		return gv_err_set(err, ENOSPC,
				  "%s %s: its filesystem is full (%llu KiB free; gpuvisord needs "
				  "1 MiB or more to start): free space there and start again",
				  what, dir, (unsigned long long)sv.f_bavail * sv.f_frsize / 1024);
	if (sv.f_files > 0 && sv.f_favail == 0)
		return gv_err_set(err, ENOSPC,
				  "%s %s: its filesystem has no free inodes: free some and start "
				  "again",
				  what, dir);
	return 0;
}

int gvd_unix_listen(struct gvd *d, const char *path, int *fd_out, struct gv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	char *slash;
	int fd = -1, probe, ret = 0;

	*fd_out = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return gv_err_set(err, ENAMETOOLONG, "socket path %s is longer than %zu bytes",
				  path, sizeof(sa.sun_path) - 1);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = gvd_mkdir_p(dir, 0755, err);
		if (ret)
			return ret;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a socket someone answers on belongs to a running daemon; one nobody
	 * answers on is a leftover of a crash */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return gv_err_set(err, EADDRINUSE, "another gpuvisord is listening on %s",
					  path);
		}
		close(probe);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gv_err_sys(err, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = gv_err_sys(err, "cannot bind %s", path);
		goto out;
	}
	/* without the group the socket keeps the daemon's own group (root's
	 * when run as root) */
	ret = gvd_group_share(d, path, 0660, err);
	if (ret)
		goto out;
	/* a burst of clients waits in the backlog rather than getting EAGAIN;
	 * the kernel caps it at net.core.somaxconn */
	if (listen(fd, 4096) != 0) {
		ret = gv_err_sys(err, "cannot listen on %s", path);
		goto out;
	}
out:
	if (ret) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

int gvd_state_lock(const char *state_dir, int *fd_out, struct gv_err *err)
{
	char path[PATH_MAX];
	int fd;

	*fd_out = -1;
	snprintf(path, sizeof(path), "%s/gpuvisord.lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return gv_err_sys(err, "cannot open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return gv_err_set(err, EBUSY,
					  "another gpuvisord uses the state directory %s",
					  state_dir);
		return gv_err_sys_code(err, e, "cannot lock %s", path);
	}
	*fd_out = fd;
	return 0;
}

int gvd_token_load(const char *state_dir, char *out, size_t cap, struct gv_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	unsigned char raw[32];
	ssize_t n;
	size_t i;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/token", state_dir);
	if (cap < 2 * sizeof(raw) + 1)
		return gv_err_set(err, EINVAL, "token buffer too small");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, out, cap - 1);
		close(fd);
		if (n < 0)
			return gv_err_sys(err, "cannot read %s", path);
		out[n] = '\0';
		out[strcspn(out, "\r\n")] = '\0';
		if (strlen(out) < 16)
			return gv_err_set(err, EINVAL,
					  "%s holds no usable token (16 characters or more)", path);
		return 0;
	}
	if (errno != ENOENT)
		return gv_err_sys(err, "cannot open %s", path);
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return gv_err_set(err, EIO, "getrandom failed: %s", strerror(errno));
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gv_err_sys(err, "cannot create %s", tmp);
	if (fchmod(fd, 0600) != 0 || write(fd, out, strlen(out)) != (ssize_t)strlen(out) ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		ret = gv_err_sys(err, "cannot write %s", tmp);
	close(fd);
	if (!ret && rename(tmp, path) != 0)
		ret = gv_err_sys(err, "cannot rename %s", tmp);
	if (ret)
		unlink(tmp);
	return ret;
}

bool gvd_token_equal(const char *expected, const char *given)
{
	size_t le = strlen(expected), lg = given ? strlen(given) : 0, i;
	unsigned char diff = (unsigned char)(le != lg);

	/* time depends only on the length of the expected token */
	for (i = 0; i < le; i++)
		diff |= (unsigned char)(expected[i] ^ (i < lg ? given[i] : 0));
	return le > 0 && diff == 0;
}

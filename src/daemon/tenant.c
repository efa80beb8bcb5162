/* Tenant endpoints: one Unix socket per instance, for its workload only.
 *
 * <run-dir>/tenant/<id>/tenant.sock serves the instance <id> and nothing
 * else: which instance a request is about is the socket it came on, never
 * something the caller says, and who asks is the kernel's SO_PEERCRED (a
 * pid in gpuvisord's pid namespace even for a process in a container). It
 * is what a CDI device mounts (the directory, read-only: connect() needs no
 * write access to the mount), never the admin socket.
 *
 * Protocol: the client sends one line, the daemon answers one line and
 * closes the connection.
 *   "register\n" -> "ok <instance> <pgid>\n": the caller's process group
 *                   is the instance's workload (gvd_workload_attach_tenant)
 *   "bulk\n"     -> "ok <instance>\n" with a descriptor attached (SCM_RIGHTS):
 *                   a socket bound at the workload's bulk path, for a
 *                   caller of the registered workload's process group whose
 *                   shim cannot bind there itself (in a container the run
 *                   directory is not mounted); its shim listens and
 *                   serves on it (gvd_bulk_bind, src/shim/bulkctl.c)
 *   anything else, or a refusal -> "error <status> <message>\n"
 * A tenant endpoint can do nothing else: no listing, no other instance,
 * no pid of the caller's choosing.
 *
 * One thread serves every endpoint (poll). Only that thread closes a
 * listening socket, so a descriptor in its poll set is never reused under
 * it: gvd_tenant_sync marks an endpoint gone (and removes its path at
 * once) and the thread closes it. A client gets 2 s to send its line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctldir.h"
#include "daemon.h"
#include "gpuvisor/fdpass.h"
#include "gpuvisor/proc.h"
#include "gpuvisor/rundir.h"
#include "gpuvisor/xfuncs.h"

#define GVD_TENANT_MAX 256

struct gvd_tenant_ep {
	char id[GV_STORE_ID_MAX];
	int fd;
	bool gone; /* to be closed by the thread */
};

struct gvd_tenants {
	pthread_mutex_t mu;
	struct gvd_tenant_ep ep[GVD_TENANT_MAX];
	size_t n;
	int wake[2];
	pthread_t th;
	bool started;
};

void gvd_tenant_dir(struct gvd *d, const char *id, char out[PATH_MAX])
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_TENANT, id, out, PATH_MAX);
}

void gvd_tenant_sock(struct gvd *d, const char *id, char out[PATH_MAX])
{
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_TENANT_SOCK, id, out, PATH_MAX);
}

/* A listening socket at path (a stale one from an earlier daemon is
 * replaced): 0 and *fd, or a negative errno with err set. */
static int listen_at(const char *path, int *fd, struct gv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = -1, ret;

	*fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return gv_err_set(err, ENAMETOOLONG, "tenant socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return gv_err_sys(err, "socket");
	unlink(path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(s, 16) < 0) {
		ret = gv_err_sys(err, "%s", path);
		close(s);
		unlink(path);
		return ret;
	}
	*fd = s;
	return 0;
}

static void wake(struct gvd_tenants *t)
{
	char c = 1;

	if (write(t->wake[1], &c, 1) < 0) {
		/* full pipe: the thread is woken already */
	}
}

void gvd_tenant_sync(struct gvd *d)
{
	struct gvd_tenants *t = d->tenants;
	struct gv_store_inst *arr = NULL;
	char path[PATH_MAX];
	size_t n = 0, i, k;
	bool changed = false;

	if (!t || gv_store_inst_list(d->st, &arr, &n, NULL) != 0)
		return;
	pthread_mutex_lock(&t->mu);
	for (k = 0; k < t->n; k++) {
		bool keep = false;

		if (t->ep[k].gone)
			continue;
		for (i = 0; i < n && !keep; i++)
			keep = strcmp(arr[i].id, t->ep[k].id) == 0;
		if (keep)
			continue;
		t->ep[k].gone = true;
		gvd_tenant_sock(d, t->ep[k].id, path);
		unlink(path);
		gvd_tenant_dir(d, t->ep[k].id, path);
		rmdir(path);
		changed = true;
	}
	for (i = 0; i < n; i++) {
		struct gv_err err = { 0 };
		bool have = false;
		int fd;

		for (k = 0; k < t->n && !have; k++)
			have = !t->ep[k].gone && strcmp(arr[i].id, t->ep[k].id) == 0;
		if (have)
			continue;
		if (t->n == GVD_TENANT_MAX) {
			gvd_log(GVD_LOG_ERROR, "%s: no tenant endpoint (more than %d instances)",
				arr[i].id, GVD_TENANT_MAX);
			continue;
		}
		gvd_tenant_dir(d, arr[i].id, path);
		/* reached by the instance's workload, whatever its user: 0755 under
		 * any umask (the endpoint checks its callers with SO_PEERCRED) */
		if ((mkdir(path, 0755) < 0 && errno != EEXIST) || chmod(path, 0755) < 0) {
			gvd_log(GVD_LOG_ERROR, "%s: %s", path, strerror(errno));
			continue;
		}
		gvd_tenant_sock(d, arr[i].id, path);
		if (listen_at(path, &fd, &err) != 0) {
			gvd_log(GVD_LOG_ERROR, "%s: tenant endpoint: %s", arr[i].id, err.msg);
			continue;
		}
		snprintf(t->ep[t->n].id, sizeof(t->ep[t->n].id), "%s", arr[i].id);
		t->ep[t->n].fd = fd;
		t->ep[t->n].gone = false;
		t->n++;
		changed = true;
	}
	pthread_mutex_unlock(&t->mu);
	free(arr);
	if (changed)
		wake(t);
}

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...)
{
	char buf[GV_ERR_MSG_MAX + 64];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(buf))
		len = (int)sizeof(buf) - 1;
	/* one line: a message never breaks the framing */
	for (int i = 0; i < len - 1; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) < 0) {
		/* the client left: nothing to tell it */
	}
}

/* "bulk": the bound socket for the shim of cred's process, which must
 * belong to the workload registered on id (its process group, started
 * after the workload's leader: not a recycled pid). */
static void serve_bulk(struct gvd *d, const char *id, int c, const struct ucred *cred)
{
	struct gv_store_inst in;
	struct gv_proc_stat ps;
	struct gv_err err = { 0 };
	char msg[GV_STORE_ID_MAX + 8];
	int fd = -1, ret;

	pthread_mutex_lock(&d->lock);
	ret = gv_store_inst_get(d->st, id, &in, &err);
	if (!ret && (!in.wl_pgid || gv_proc_stat_read(cred->pid, &ps) != 0 ||
		     ps.pgid != in.wl_pgid || ps.starttime < in.wl_starttime))
		ret = gv_err_set(&err, EPERM,
				 "pid %d is not in the workload registered on %s (register first)",
				 (int)cred->pid, id);
	if (!ret)
		ret = gvd_bulk_bind(d, &in, cred->uid, &fd, &err);
	pthread_mutex_unlock(&d->lock);
	if (ret) {
		gvd_log(GVD_LOG_DEBUG, "%s: tenant endpoint: bulk for pid %d: %s", id,
			(int)cred->pid, err.msg);
		reply(c, "error %d %s\n",
		      ret == -EPERM	   ? 403
		      : ret == -EADDRINUSE ? 409
		      : ret == -ENOENT	   ? 404
					   : 500,
		      err.msg);
		return;
	}
	snprintf(msg, sizeof(msg), "ok %s\n", in.id);
	if (gv_fdpass_send(c, msg, strlen(msg), &fd, 1) != 0)
		gvd_log(GVD_LOG_INFO, "%s: tenant endpoint: pid %d left before its bulk socket", id,
			(int)cred->pid);
	close(fd);
}

/* Serves one connection on id's endpoint. */
static void serve(struct gvd *d, const char *id, int c)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct gvd_peer peer = { .local = true };
	struct gv_err err = { 0 };
	char line[64];
	size_t got = 0;
	pid_t pgid = 0;
	int http = 500, ret;

	if (gv_proc_now_ticks(&peer.since) != 0)
		peer.since = 0;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(line) - 1) {
		ssize_t r = recv(c, line + got, sizeof(line) - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = '\0';
	if (strcmp(line, "register\n") != 0 && strcmp(line, "bulk\n") != 0) {
		reply(c,
		      "error 400 this endpoint of instance %s takes only \"register\" and "
		      "\"bulk\"\n",
		      id);
		return;
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cred.pid <= 0) {
		reply(c, "error 403 the kernel does not say who is asking\n");
		return;
	}
	if (line[0] == 'b') {
		serve_bulk(d, id, c, &cred);
		return;
	}
	peer.pid = cred.pid;
	peer.uid = cred.uid;
	pthread_mutex_lock(&d->lock);
	ret = gvd_workload_attach_tenant(d, id, &peer, &pgid, &http, &err);
	pthread_mutex_unlock(&d->lock);
	if (ret) {
		gvd_log(GVD_LOG_INFO, "%s: tenant endpoint: pid %d refused: %s", id, (int)cred.pid,
			err.msg);
		reply(c, "error %d %s\n", http, err.msg);
		return;
	}
	reply(c, "ok %s %d\n", id, (int)pgid);
}

/* Closes a served connection without resetting it: what the client sent
 * beyond its line is read and dropped first (closing with unread data
 * would send a reset, and the client could lose the answer). */
static void drain_close(int c)
{
	char buf[256];

	shutdown(c, SHUT_WR);
	while (recv(c, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(c);
}

static void *tenant_main(void *arg)
{
	struct gvd *d = arg;
	struct gvd_tenants *t = d->tenants;
	struct pollfd pf[GVD_TENANT_MAX + 1];
	char ids[GVD_TENANT_MAX][GV_STORE_ID_MAX];

	while (!atomic_load(&d->stopping)) {
		size_t n = 0, k, w;

		pthread_mutex_lock(&t->mu);
		for (k = 0, w = 0; k < t->n; k++) {
			if (t->ep[k].gone) {
				close(t->ep[k].fd);
				continue;
			}
			t->ep[w++] = t->ep[k];
		}
		t->n = w;
		for (k = 0; k < t->n; k++) {
			pf[n].fd = t->ep[k].fd;
			pf[n].events = POLLIN;
			memcpy(ids[n], t->ep[k].id, sizeof(ids[n]));
			n++;
		}
		pthread_mutex_unlock(&t->mu);
		pf[n].fd = t->wake[0];
		pf[n].events = POLLIN;
		if (poll(pf, n + 1, 500) <= 0)
			continue;
		if (pf[n].revents) {
			char buf[64];

			while (read(t->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		for (k = 0; k < n; k++) {
			int c;

			if (!(pf[k].revents & POLLIN))
				continue;
			c = accept4(pf[k].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			serve(d, ids[k], c);
			drain_close(c);
		}
	}
	return NULL;
}

int gvd_tenant_start(struct gvd *d, struct gv_err *err)
{
	struct gvd_tenants *t;
	int ret;

	gv_rundir_path(d->o.run_dir, GV_RUNDIR_TENANT, NULL, d->tenant_dir, sizeof(d->tenant_dir));
	ret = gvd_mkdir_p(d->tenant_dir, 0755, err);
	if (!ret && chmod(d->tenant_dir, 0755) != 0)
		ret = gv_err_sys(err, "cannot chmod %s", d->tenant_dir);
	if (ret)
		return ret;
	t = gv_xcalloc(err, 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = gv_err_sys(err, "pipe");
		free(t);
		return ret;
	}
	d->tenants = t;
	pthread_mutex_lock(&d->lock);
	gvd_tenant_sync(d);
	pthread_mutex_unlock(&d->lock);
	ret = pthread_create(&t->th, NULL, tenant_main, d);
	if (ret)
		return gv_err_set(err, ret, "cannot start the tenant thread");
	t->started = true;
	return 0;
}

/* Stops the thread and closes the sockets; the directories stay, so that a
 * restarted daemon serves the same paths (containers mounted them). */
void gvd_tenant_stop(struct gvd *d)
{
	struct gvd_tenants *t = d->tenants;
	char path[PATH_MAX];
	size_t k;

	if (!t)
		return;
	if (t->started) {
		wake(t);
		pthread_join(t->th, NULL);
	}
	for (k = 0; k < t->n; k++) {
		if (!t->ep[k].gone) {
			gvd_tenant_sock(d, t->ep[k].id, path);
			unlink(path);
		}
		close(t->ep[k].fd);
	}
	close(t->wake[0]);
	close(t->wake[1]);
	pthread_mutex_destroy(&t->mu);
	free(t);
	d->tenants = NULL;
}

/* Registration through the instance's tenant endpoint.
 *
 * A workload that gpuvisor run starts is registered by gpuvisor run; one
 * that a container (a CDI device) starts has nobody to do it, so the shim
 * does it: at start, when $GPUVISOR_TENANT names the instance's tenant
 * socket (src/daemon/tenant.c), it sends "register" and the daemon records
 * the process group of the caller, whom it knows from SO_PEERCRED (the
 * shim names no pid and no instance: the socket is the instance's). Every
 * CUDA process of a workload does it; the same group again is a no-op.
 *
 * Best effort: a refusal or an unreachable daemon is said once on stderr,
 * and the workload runs unregistered (the partition is enforced by the
 * accounting file either way). At most 2 s are spent.
 *
 * The same endpoint gives a registered workload whose shim cannot bind its
 * bulk control socket (in a container the run directory is not mounted) a
 * socket gpuvisord bound there for it ("bulk", gv_tenant_bulk_socket). */
#include "shim_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "gpuvisor/fdpass.h"

/* Sends line on a new connection to $GPUVISOR_TENANT and reads the one-line
 * answer into buf (the newline cut), with at most one descriptor (*fd, -1
 * when none came; fd may be NULL). 0; -ENOENT without the variable; or the
 * -errno of the connection (what failed in err): -ECONNREFUSED/-ENOENT for
 * an endpoint that is not there, -EPIPE when no answer came. */
static int ask(const char *line, char *buf, size_t cap, int *fd, struct gv_err *err)
{
	const char *path = getenv("GPUVISOR_TENANT");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	size_t got = 0, nfds = 0;
	int s = -1, fds[1], ret = 0;

	if (fd)
		*fd = -1;
	buf[0] = '\0';
	if (!path || !*path)
		return gv_err_set(err, ENOENT, "GPUVISOR_TENANT is not set");
	if (strlen(path) >= sizeof(sa.sun_path))
		return gv_err_set(err, ENAMETOOLONG, "GPUVISOR_TENANT=%s: path too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return gv_err_sys(err, "socket");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = gv_err_sys(err, "%s", path);
		goto out;
	}
	if (send(s, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		ret = gv_err_set(err, EPIPE, "no answer from %s", path);
		goto out;
	}
	while (got < cap - 1) {
		ssize_t n = gv_fdpass_recv(s, buf + got, cap - 1 - got, 0, fds, fd ? 1 : 0, &nfds,
					   NULL);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	if (!got)
		ret = gv_err_set(err, EPIPE, "no answer from %s", path);
	else if (fd && nfds)
		*fd = fds[0];
	else if (nfds)
		close(fds[0]);
out:
	close(s);
	return ret;
}

void gv_tenant_register(void)
{
	struct gv_err err = { 0 };
	char buf[640];
	int ret;

	if (!getenv("GPUVISOR_TENANT") || !*getenv("GPUVISOR_TENANT"))
		return;
	ret = ask("register\n", buf, sizeof(buf), NULL, &err);
	if (ret == -ENAMETOOLONG) {
		gv_shim_log(false, "%s", err.msg);
	} else if (ret && ret != -EPIPE) {
		gv_shim_log(false,
			    "cannot reach gpuvisord's endpoint for instance %s (%s): gpuvisord "
			    "is not running or the instance was destroyed; the workload runs "
			    "unregistered (not in gpuvisor list)",
			    getenv("GPUVISOR_INSTANCE") ? getenv("GPUVISOR_INSTANCE") : "?",
			    err.msg);
	} else if (ret) {
		gv_shim_log(
			false,
			"no answer from gpuvisord's endpoint %s: the workload runs unregistered",
			getenv("GPUVISOR_TENANT"));
	} else if (strncmp(buf, "ok ", 3) == 0) {
		gv_shim_log(true, "registered with gpuvisord: %s", buf + 3);
	} else {
		gv_shim_log(false, "gpuvisord did not register this workload: %s", buf);
	}
}

int gv_tenant_bulk_socket(int *fd, struct gv_err *err)
{
	char buf[640];
	int ret;

	*fd = -1;
	ret = ask("bulk\n", buf, sizeof(buf), fd, err);
	if (ret)
		return ret;
	if (strncmp(buf, "ok ", 3) == 0 && *fd >= 0)
		return 0;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	/* "error <status> <message>": 409 is another process of the
	 * workload serving the socket */
	if (strncmp(buf, "error 409 ", 10) == 0)
		return -EADDRINUSE;
	return gv_err_set(err, EPERM, "gpuvisord gave no bulk socket: %s", buf);
}

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
 * accounting file either way). At most 2 s are spent. */
#include "shim_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

void gv_tenant_register(void)
{
	const char *path = getenv("GPUVISOR_TENANT");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char buf[640];
	size_t got = 0;
	int fd = -1;

	if (!path || !*path)
		return;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		gv_shim_log(false, "GPUVISOR_TENANT=%s: path too long", path);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		gv_shim_log(false,
			    "cannot reach gpuvisord's endpoint for instance %s (%s: %s): gpuvisord "
			    "is not running or the instance was destroyed; the workload runs "
			    "unregistered (not in gpuvisor list)",
			    getenv("GPUVISOR_INSTANCE") ? getenv("GPUVISOR_INSTANCE") : "?", path,
			    strerror(errno));
		goto out;
	}
	if (send(fd, "register\n", 9, MSG_NOSIGNAL) != 9)
		goto fail;
	while (got < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	if (strncmp(buf, "ok ", 3) == 0) {
		gv_shim_log(true, "registered with gpuvisord: %s", buf + 3);
		goto out;
	}
	if (got) {
		gv_shim_log(false, "gpuvisord did not register this workload: %s", buf);
		goto out;
	}
fail:
	gv_shim_log(false, "no answer from gpuvisord's endpoint %s: the workload runs unregistered",
		    path);
out:
	if (fd >= 0)
		close(fd);
}

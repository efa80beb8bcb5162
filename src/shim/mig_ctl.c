/* Migration mode: the control thread and its socket ($GPUVISOR_CTL).
 *
 * Started at the first successful cuInit. Listens on an AF_UNIX stream
 * socket (mode 0600, removed at exit), serves one connection at a time,
 * one JSON request per line (gv_migctl_parse), and runs a migration on
 * this thread: progress lines while it runs, then one final line. A
 * connection that drops before the switch cancels the migration (the
 * workload stays on the source); the protocol is in docs/migration.md.
 */
#include "mig_endpoint.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gpuvisor/acct.h"

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static bool running;

static void unlink_sock(void)
{
	if (sock_path[0])
		unlink(sock_path);
}

static int send_json(int fd, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t n, off = 0;
	int rc = 0;

	json_decref(o);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	s[n++] = '\n'; /* json_dumps leaves the NUL: room for the newline */
	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -EPIPE;
			break;
		}
		off += (size_t)w;
	}
	free(s);
	return rc;
}

static void send_error(int fd, const char *msg, json_t *report)
{
	send_json(fd, json_pack("{s:b, s:s, s:o}", "ok", 0, "error", msg,
				"report", report ? report : json_null()));
}

void gv_mig_ep_poll(struct gv_mig_ep *ep)
{
	struct pollfd p = { .fd = ep->fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (atomic_load(&ep->cancel))
		return;
	if (poll(&p, 1, 0) <= 0)
		return;
	/* anything but more data (which the protocol does not allow during a
	 * migration anyway) is a dropped connection */
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR) ||
	    recv(ep->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		atomic_store(&ep->cancel, 1);
}

void gv_mig_ep_progress(struct gv_mig_ep *ep, const struct gv_mig_progress *p)
{
	json_t *j = gv_mig_progress_to_json(p);

	gv_mig_ep_poll(ep);
	if (j && send_json(ep->fd, json_pack("{s:o}", "progress", j)) < 0)
		atomic_store(&ep->cancel, 1);
}

static uint64_t my_bytes(void)
{
	struct gv_acct *a = gv_part_acct();
	uint64_t b = 0;

	if (a)
		return gv_acct_mine(a);
	pthread_mutex_lock(&gv_mreg_lock);
	gv_mreg_count_locked(&b);
	pthread_mutex_unlock(&gv_mreg_lock);
	return b;
}

int gv_mig_ep_acct_switch(struct gv_mig_ep *ep, struct gv_err *err)
{
	struct gv_acct *old;
	uint64_t now;

	if (!ep->dacct)
		return 0;
	/* an allocation charged since the start: charge its bytes too */
	now = my_bytes();
	if (now > ep->dcharged) {
		if (gv_acct_charge(ep->dacct, now - ep->dcharged) < 0)
			return gv_err_set(err, ENOSPC, "destination partition too small");
	} else if (now < ep->dcharged) {
		gv_acct_uncharge(ep->dacct, ep->dcharged - now);
	}
	ep->dcharged = now;
	old = gv_part_swap(ep->dacct);
	if (old) {
		gv_acct_uncharge(old, gv_acct_mine(old));
		gv_acct_close(old);
	}
	ep->dacct = NULL; /* the partition's now */
	return 0;
}

static void hello(int fd)
{
	const char *why = gv_mig_taint_reason();
	uint64_t bytes;
	size_t n;
	bool mig;

	pthread_mutex_lock(&gv_mreg_lock);
	n = gv_mreg_count_locked(&bytes);
	pthread_mutex_unlock(&gv_mreg_lock);
	pthread_mutex_lock(&run_lock);
	mig = running;
	pthread_mutex_unlock(&run_lock);
	send_json(fd, json_pack("{s:b, s:i, s:s, s:b, s:s?, s:I, s:I, s:b}", "ok", 1, "pid",
				(int)getpid(), "device", gv_mig_dev_uuid, "migratable", !why,
				"reason", why, "regions", (json_int_t)n, "bytes",
				(json_int_t)bytes, "migrating", mig));
}

static void migrate(int fd, const struct gv_migctl_req *req)
{
	struct gv_mig_ep ep = { .fd = fd };
	struct gv_mig_config cfg;
	struct gv_mig_report *rep = NULL;
	struct gv_err err = { 0 };
	const char *why = gv_mig_taint_reason();
	const char *faults = getenv("GPUVISOR_TEST_FAULTS");
	bool opened = false;
	int rc;

	pthread_mutex_lock(&run_lock);
	if (running) {
		pthread_mutex_unlock(&run_lock);
		send_error(fd, "a migration is already running", NULL);
		return;
	}
	running = true;
	pthread_mutex_unlock(&run_lock);
	if (why) {
		gv_err_set(&err, EPERM, "the workload is not migratable: %s", why);
		goto fail;
	}
	snprintf(ep.to, sizeof(ep.to), "%s", req->to);
	if (req->inject[0] && faults && !strcmp(faults, "1"))
		snprintf(ep.inject, sizeof(ep.inject), "%s", req->inject);
	gv_mig_config_default(&cfg);
	cfg.mode = req->mode;
	cfg.downtime_limit_ns = req->downtime_ms * 1000000ull;
	if (req->max_rounds)
		cfg.max_rounds = req->max_rounds;
	cfg.chunk_size = GV_MIG_GRAN;
	cfg.cancel = &ep.cancel;
	rep = gv_mig_report_new();
	if (!rep) {
		gv_err_set(&err, ENOMEM, "out of memory");
		goto fail;
	}
	if (gv_mig_ep_open(&ep, &err) < 0)
		goto fail;
	opened = true;
	if (req->acct[0]) {
		if (gv_acct_open(req->acct, &ep.dacct, &err) < 0)
			goto fail;
		ep.dcharged = my_bytes();
		if (gv_acct_charge(ep.dacct, ep.dcharged) < 0) {
			gv_err_set(&err, ENOSPC, "destination partition too small");
			ep.dcharged = 0;
			goto fail;
		}
	}
	rc = gv_mig_run(&cfg, &gv_mig_shim_ops, &ep, rep, &err);
	gv_mig_ep_close(&ep, rc == 0);
	opened = false;
	if (ep.dacct) {
		/* not switched: the destination's charge goes back */
		gv_acct_uncharge(ep.dacct, ep.dcharged);
		gv_acct_close(ep.dacct);
		ep.dacct = NULL;
	}
	if (rc == 0)
		send_json(fd, json_pack("{s:b, s:o}", "ok", 1, "report",
					gv_mig_report_to_json(rep)));
	else
		send_error(fd, err.msg, gv_mig_report_to_json(rep));
	goto out;
fail:
	if (opened)
		gv_mig_ep_close(&ep, false);
	if (ep.dacct) {
		gv_acct_uncharge(ep.dacct, ep.dcharged);
		gv_acct_close(ep.dacct);
	}
	send_error(fd, err.msg, NULL);
out:
	gv_mig_report_free(rep);
	pthread_mutex_lock(&run_lock);
	running = false;
	pthread_mutex_unlock(&run_lock);
}

static void serve(int fd)
{
	char *buf = malloc(GV_MIGCTL_LINE_MAX + 1);
	size_t used = 0;

	if (!buf)
		return;
	for (;;) {
		char *nl;
		ssize_t n = recv(fd, buf + used, GV_MIGCTL_LINE_MAX + 1 - used, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		while ((nl = memchr(buf, '\n', used))) {
			struct gv_migctl_req req;
			struct gv_err err = { 0 };
			size_t len = (size_t)(nl - buf);

			if (gv_migctl_parse(buf, len, &req, &err) < 0)
				send_error(fd, err.msg, NULL);
			else if (req.op == GV_MIGCTL_HELLO)
				hello(fd);
			else
				migrate(fd, &req);
			used -= len + 1;
			memmove(buf, nl + 1, used);
		}
		if (used > GV_MIGCTL_LINE_MAX) {
			send_error(fd, "request line too long", NULL);
			break;
		}
	}
	free(buf);
}

static void *ctl_main(void *arg)
{
	int ls = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			gv_shim_log(false, "control socket: accept: %s", strerror(errno));
			return NULL;
		}
		serve(fd);
		close(fd);
	}
}

void gv_mig_ctl_start(void)
{
	const char *path = getenv("GPUVISOR_CTL");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int ls;

	if (!path || !*path || strlen(path) >= sizeof(a.sun_path)) {
		gv_shim_log(false, "GPUVISOR_CTL: not a usable socket path");
		return;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		goto fail;
	unlink(path);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(ls, 4) < 0)
		goto fail;
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	atexit(unlink_sock);
	/* children of the workload must not listen here too */
	unsetenv("GPUVISOR_CTL");
	/* the workload's signals are not the control thread's business */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, ctl_main, (void *)(intptr_t)ls) != 0) {
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return;
fail:
	gv_shim_log(false, "GPUVISOR_CTL %s: %s; the workload cannot be migrated", path,
		    strerror(errno));
	if (ls >= 0)
		close(ls);
}

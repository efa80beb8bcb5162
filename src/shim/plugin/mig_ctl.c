/* libgpuvisor-mig (the migration plugin, mig_plugin.h): the control
 * thread on the socket the shim created ($GPUVISOR_CTL). It serves each
 * connection on a thread of its own, one JSON request per line
 * (gv_migctl_parse), and runs a migration on that thread, one at a time
 * (gv_mig_run over the shim's endpoint): progress lines while it runs,
 * then one final line. A connection that
 * drops before the switch cancels the migration (the workload stays on the
 * source); the protocol is in docs/migration.md.
 */
#include "mig_plugin.h"

#include <pthread.h>

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gpuvisor/migctl.h"
#include "gpuvisor/migrate.h"

static const struct gv_mig_host *host;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static bool running;

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
	send_json(fd, json_pack("{s:b, s:s, s:o}", "ok", 0, "error", msg, "report",
				report ? report : json_null()));
}

static void progress(void *arg, const struct gv_mig_progress *p)
{
	json_t *j = gv_mig_progress_to_json(p);

	/* a failed send is a dropped connection, which the shim notices */
	if (j)
		send_json((int)(intptr_t)arg, json_pack("{s:o}", "progress", j));
}

static void hello(int fd)
{
	const char *why = host->taint_reason();
	char dev[128];
	uint64_t bytes;
	size_t n;
	bool mig;

	host->state(&n, &bytes, dev, sizeof(dev));
	pthread_mutex_lock(&run_lock);
	mig = running;
	pthread_mutex_unlock(&run_lock);
	send_json(fd, json_pack("{s:b, s:i, s:s, s:b, s:s?, s:I, s:I, s:b}", "ok", 1, "pid",
				(int)getpid(), "device", dev, "migratable", !why, "reason", why,
				"regions", (json_int_t)n, "bytes", (json_int_t)bytes, "migrating",
				mig));
}

static void migrate(int fd, const struct gv_migctl_req *req)
{
	struct gv_mig_ep_args args = { .to = req->to,
				       .inject = "",
				       .acct = req->acct,
				       .sched = req->sched,
				       .instance = req->instance,
				       .fd = fd,
				       .progress = progress,
				       .progress_arg = (void *)(intptr_t)fd };
	struct gv_mig_config cfg;
	struct gv_mig_report *rep = NULL;
	struct gv_err err = { 0 };
	const char *why = host->taint_reason();
	const char *faults = getenv("GPUVISOR_TEST_FAULTS");
	void *ep = NULL;
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
	if (req->inject[0] && faults && !strcmp(faults, "1"))
		args.inject = req->inject;
	gv_mig_config_default(&cfg);
	cfg.mode = req->mode;
	cfg.downtime_limit_ns = req->downtime_ms * 1000000ull;
	if (req->max_rounds)
		cfg.max_rounds = req->max_rounds;
	/* the endpoint's throttle slows the workload's submissions while
	 * pre-copy cannot keep up (docs/migration.md, "Convergence") */
	cfg.auto_converge = req->auto_converge;
	cfg.chunk_size = GV_MIG_CHUNK_DEFAULT; /* the VMM granularity */
	rep = gv_mig_report_new();
	if (!rep) {
		gv_err_nomem(&err);
		goto fail;
	}
	ep = host->ep_open(&args, &err);
	if (!ep)
		goto fail;
	cfg.cancel = host->ep_cancel(ep);
	rc = gv_mig_run(&cfg, host->ops, ep, rep, &err);
	host->ep_close(ep);
	if (rc == 0)
		send_json(fd,
			  json_pack("{s:b, s:o}", "ok", 1, "report", gv_mig_report_to_json(rep)));
	else
		send_error(fd, err.msg, gv_mig_report_to_json(rep));
	goto out;
fail:
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

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;

	serve(fd);
	close(fd);
	return NULL;
}

/* One thread per connection, so that hello answers (migrating: true) while
 * another connection runs a migration, and a second migrate is refused. */
static void *ctl_main(void *arg)
{
	int ls = (int)(intptr_t)arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0) {
			char msg[160];

			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			snprintf(msg, sizeof(msg), "control socket: accept: %s", strerror(errno));
			host->log(msg);
			break;
		}
		if (pthread_create(&t, &attr, conn_main, (void *)(intptr_t)fd) != 0) {
			send_error(fd, "no thread for this connection", NULL);
			close(fd);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

int gv_mig_plugin_start(const struct gv_mig_host *h, int ls);

__attribute__((visibility("default"))) int gv_mig_plugin_start(const struct gv_mig_host *h, int ls)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (!h || h->version != GV_MIG_HOST_VERSION)
		return -EPROTO;
	host = h;
	/* the workload's signals are not the control thread's business */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, ctl_main, (void *)(intptr_t)ls);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

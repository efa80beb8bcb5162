/* Migration mode: the shim's side of the control channel.
 *
 * At the first successful cuInit the shim creates the control socket
 * ($GPUVISOR_CTL: AF_UNIX stream, mode 0600, removed at exit) and hands it
 * to the migration plugin (libgpuvisor-mig.so, plugin/mig_plugin.h), which it
 * loads from the directory of the shim's real file. This file lends the
 * plugin what it needs (struct gv_mig_host) and holds the parts of an
 * endpoint that are not CUDA calls: the destination accounting file, the
 * check for a dropped connection, the progress relay. The plugin is
 * loaded through resolve.c, the one file of the shim that calls dlsym.
 */
#include "gate_switch.h"
#include "mig_endpoint.h"
#include "plugin/mig_plugin.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gpuvisor/acct.h"
#include "gpuvisor/xfuncs.h"

#define PLUGIN "libgpuvisor-mig.so"

/* The endpoint host_open makes: the engine's part and this file's. */
struct host_ep {
	struct gv_mig_ep ep;
	bool gate_prepared; /* gv_gate_switch_prepare succeeded */
	bool switched;	    /* host_acct_commit ran */
};

static struct host_ep *host_ep_of(struct gv_mig_ep *ep)
{
	return (struct host_ep *)((char *)ep - offsetof(struct host_ep, ep));
}

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void unlink_sock(void)
{
	if (sock_path[0])
		unlink(sock_path);
}

static void host_poll(struct gv_mig_ep *ep)
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

static void host_progress(struct gv_mig_ep *ep, const struct gv_mig_progress *p)
{
	host_poll(ep);
	if (ep->progress)
		ep->progress(ep->progress_arg, p);
}

/* What this process holds: its charge in the partition, else its regions. */
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

static int host_acct_prepare(struct gv_mig_ep *ep, struct gv_err *err)
{
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
	return 0;
}

/* Also moves the time-slice gate: this is the one call the endpoint makes
 * once the switch succeeded, with the workload still stunned. */
static void host_acct_commit(struct gv_mig_ep *ep)
{
	struct host_ep *h = host_ep_of(ep);
	struct gv_acct *old;

	h->switched = true;
	if (h->gate_prepared)
		gv_gate_switch_commit();
	if (!ep->dacct)
		return;
	old = gv_part_swap(ep->dacct);
	if (old) {
		gv_acct_uncharge(old, gv_acct_mine(old));
		gv_acct_close(old);
	}
	ep->dacct = NULL; /* the partition's now */
}

static const struct gv_mig_ep_host host_ops = {
	.poll = host_poll,
	.progress = host_progress,
	.acct_prepare = host_acct_prepare,
	.acct_commit = host_acct_commit,
};

static const char *host_taint(void)
{
	return gv_mig_taint_reason();
}

static void host_state(size_t *regions, uint64_t *bytes, char *device, size_t len)
{
	pthread_mutex_lock(&gv_mreg_lock);
	*regions = gv_mreg_count_locked(bytes);
	pthread_mutex_unlock(&gv_mreg_lock);
	snprintf(device, len, "%s", gv_mig_dev_uuid);
}

static void host_close(void *p)
{
	struct gv_mig_ep *ep = p;
	struct host_ep *h;

	if (!ep)
		return;
	h = host_ep_of(ep);
	gv_mig_ep_close(ep, false);
	if (ep->dacct) {
		/* not switched: the destination's charge goes back */
		gv_acct_uncharge(ep->dacct, ep->dcharged);
		gv_acct_close(ep->dacct);
	}
	/* before the daemon hears the result: it removes the tenant the
	 * workload left, which a client still attached would keep */
	if (h->gate_prepared)
		gv_gate_switch_end(h->switched);
	free(h);
}

static void *host_open(const struct gv_mig_ep_args *a, struct gv_err *err)
{
	struct host_ep *h = gv_xcalloc(err, 1, sizeof(*h));
	struct gv_mig_ep *ep = h ? &h->ep : NULL;

	if (!h)
		return NULL;
	ep->host = &host_ops;
	ep->fd = a->fd;
	ep->progress = a->progress;
	ep->progress_arg = a->progress_arg;
	snprintf(ep->to, sizeof(ep->to), "%s", a->to);
	snprintf(ep->inject, sizeof(ep->inject), "%s", a->inject);
	if (gv_mig_ep_open(ep, err) < 0) {
		free(h);
		return NULL;
	}
	if (a->acct[0]) {
		if (gv_acct_open(a->acct, &ep->dacct, err) < 0)
			goto fail;
		ep->dcharged = my_bytes();
		if (gv_acct_charge(ep->dacct, ep->dcharged) < 0) {
			gv_err_set(err, ENOSPC, "destination partition too small");
			ep->dcharged = 0;
			goto fail;
		}
	}
	if (gv_gate_switch_prepare(a->sched, a->instance, err) < 0)
		goto fail;
	h->gate_prepared = true;
	return ep;
fail:
	host_close(ep);
	return NULL;
}

static const atomic_int *host_cancel(void *ep)
{
	return &((struct gv_mig_ep *)ep)->cancel;
}

static void host_log(const char *msg)
{
	gv_shim_log(false, "%s", msg);
}

static const struct gv_mig_host host = {
	.version = GV_MIG_HOST_VERSION,
	.ops = &gv_mig_shim_ops,
	.taint_reason = host_taint,
	.state = host_state,
	.ep_open = host_open,
	.ep_cancel = host_cancel,
	.ep_close = host_close,
	.log = host_log,
};

static gv_mig_plugin_start_fn load_plugin(void)
{
	/* POSIX guarantees a dlsym result converts to a function pointer */
	return (gv_mig_plugin_start_fn)gv_shim_resolve_plugin(PLUGIN, GV_MIG_PLUGIN_ENTRY);
}

void gv_mig_ctl_start(void)
{
	const char *path = getenv("GPUVISOR_CTL");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	gv_mig_plugin_start_fn start;
	int ls = -1, rc;

	if (!path || !*path || strlen(path) >= sizeof(a.sun_path)) {
		gv_shim_log(false, "GPUVISOR_CTL: not a usable socket path");
		return;
	}
	start = load_plugin();
	if (!start)
		goto fail;
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
	rc = start(&host, ls);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return;
fail:
	gv_shim_log(false, "GPUVISOR_CTL %s: %s; the workload cannot be migrated", path,
		    errno ? strerror(errno) : "no migration plugin");
	if (ls >= 0)
		close(ls);
}

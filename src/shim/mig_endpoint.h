/* libgpuvisor-cuda, migration mode: one migration's endpoint state, shared
 * by the endpoint (mig_endpoint.c) and the control thread (plugin/mig_ctl.c). */
#ifndef GV_MIG_ENDPOINT_H
#define GV_MIG_ENDPOINT_H

#include "mig_internal.h"

#include "gpuvisor/migctl.h"
#include "gpuvisor/migrate.h"

struct gv_acct;
struct gv_hashk;
struct gv_mig_ep;

/* What the endpoint asks of the host that made it (mig_host.c: the daemon's
 * connection, the progress relay, the destination accounting file): a
 * table, so that the endpoint never calls its host by name and the two
 * files do not call each other in a loop. */
struct gv_mig_ep_host {
	/* sets ep->cancel when the daemon's connection dropped */
	void (*poll)(struct gv_mig_ep *ep);
	void (*progress)(struct gv_mig_ep *ep, const struct gv_mig_progress *p);
	/* at the switch (stunned): prepare charges the destination
	 * accounting file for what this process holds now (anything
	 * allocated since the start), before anything changes; commit, once
	 * switched, makes it the partition and uncharges the source */
	int (*acct_prepare)(struct gv_mig_ep *ep, struct gv_err *err);
	void (*acct_commit)(struct gv_mig_ep *ep);
};

struct gv_mig_ep {
	const struct gv_mig_ep_host *host;
	char to[GV_MIGCTL_UUID_MAX];
	char inject[GV_MIGCTL_INJECT_MAX]; /* honoured with GPUVISOR_TEST_FAULTS=1 */
	bool injected;
	unsigned listings; /* list_regions calls: the pre-copy round */
	bool stunned;
	int sdev, ddev; /* real ordinals */
	CUcontext sctx, dctx;
	CUstream sstream, dstream;
	void *stage;
	size_t stage_len;
	/* the hash kernel in each context (hashk.h); both NULL: hash on the
	 * CPU through the staging buffer */
	struct gv_hashk *hk_src, *hk_dst;
	bool no_d2d;	       /* the driver refused a device copy: copy through the host */
	int fd;		       /* the daemon's connection */
	atomic_int cancel;     /* the connection dropped */
	struct gv_acct *dacct; /* destination accounting file, or NULL */
	uint64_t dcharged;     /* bytes charged to it */
	void (*progress)(void *arg, const struct gv_mig_progress *p);
	void *progress_arg;
};

extern const struct gv_mig_ops gv_mig_shim_ops;

/* Retains both devices' contexts and makes the streams; refuses another
 * model or size. */
int gv_mig_ep_open(struct gv_mig_ep *ep, struct gv_err *err);
void gv_mig_ep_close(struct gv_mig_ep *ep, bool switched);

#endif

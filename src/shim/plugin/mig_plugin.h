/* libgpuvisor-cuda <-> libgpuvisor-mig: what the shim lends the migration
 * plugin.
 *
 * The shim must load in any workload's environment, and a container image
 * need not have jansson: so the JSON half of migration mode (the control
 * socket, the engine run and its report, mig_ctl.c + src/core/migrate.c +
 * src/core/migctl.c) is a separate library, libgpuvisor-mig.so, next to
 * the shim's real file, which the shim dlopens at cuInit only when
 * $GPUVISOR_CTL is set. The CUDA half (memory, handles, gate, the
 * gv_mig_ops endpoint) stays in the shim, which needs only libc. This
 * header is the whole interface; the plugin sees no other shim state.
 */
#ifndef GV_MIG_PLUGIN_H
#define GV_MIG_PLUGIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

struct gv_mig_ops;
struct gv_mig_progress;

#define GV_MIG_HOST_VERSION 2
#define GV_MIG_PLUGIN_ENTRY "gv_mig_plugin_start"

struct gv_mig_ep_args {
	const char *to;	      /* destination UUID */
	const char *inject;   /* test fault or "" (already filtered) */
	const char *acct;     /* destination accounting file or "" */
	const char *sched;    /* destination scheduler segment or "" (not timeslice) */
	const char *instance; /* destination tenant on it, "" with sched "" */
	int fd;		      /* the daemon's connection (polled for a drop) */
	void (*progress)(void *arg, const struct gv_mig_progress *p);
	void *progress_arg;
};

struct gv_mig_host {
	unsigned version;
	const struct gv_mig_ops *ops;
	/* NULL while migratable, else why not */
	const char *(*taint_reason)(void);
	/* regions, their bytes, and the UUID of the device in use */
	void (*state)(size_t *regions, uint64_t *bytes, char *device, size_t len);
	/* An endpoint for one migration: checks the destination, retains the
	 * contexts, charges the destination accounting file ("destination
	 * partition too small" refuses before anything changes), attaches to
	 * the destination's scheduler tenant (the gate moves there at the
	 * switch). NULL with err set on failure. */
	void *(*ep_open)(const struct gv_mig_ep_args *a, struct gv_err *err);
	/* The flag the engine's cfg.cancel points at (set on a dropped
	 * connection). */
	const atomic_int *(*ep_cancel)(void *ep);
	/* Releases what ep_open took; gives the destination's charge back when
	 * the migration did not switch; detaches from the scheduler tenant the
	 * workload does not gate on any more (the source's after a switch, the
	 * destination's otherwise). */
	void (*ep_close)(void *ep);
	void (*log)(const char *msg);
};

/* The plugin's entry point (GV_MIG_PLUGIN_ENTRY): starts the control thread
 * on the listening socket ls. 0, or a negative errno. */
typedef int (*gv_mig_plugin_start_fn)(const struct gv_mig_host *host, int ls);

#endif

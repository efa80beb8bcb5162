/* gpuvisor: the layout of gpuvisord's run directory (--run-dir), in one
 * place. Everything below it is runtime state that a reboot may lose:
 *
 *   acct/<instance>.acct        accounting file of an instance (acct.h)
 *   limit/<instance>.limit      its limit file, written by the daemon only
 *   sched/<gpu uuid>.sched      scheduler segment of a timeslice GPU (sched.h)
 *   tenant/<instance>/          the instance's tenant directory ...
 *   tenant/<instance>/tenant.sock   ... and the socket that serves it
 *   ctl/<instance>/             a workload's control directory (it follows the
 *                               workload on a move through the driver) ...
 *   ctl/<instance>/shim.sock        ... the socket a migratable shim listens on
 *   ctl/<instance>/bulk.sock        ... and the one that serves its bulk memory
 *   driver/<soname>             links to the real driver's libraries
 *
 * The functions only build paths; they create nothing. */
#ifndef GPUVISOR_RUNDIR_H
#define GPUVISOR_RUNDIR_H

#include <stddef.h>

enum gv_rundir_path {
	GV_RUNDIR_ACCT,	       /* acct/<name>.acct; name NULL: acct */
	GV_RUNDIR_LIMIT,       /* limit/<name>.limit; name NULL: limit */
	GV_RUNDIR_SCHED,       /* sched/<name>.sched; name NULL: sched */
	GV_RUNDIR_TENANT,      /* tenant/<name>; name NULL: tenant */
	GV_RUNDIR_TENANT_SOCK, /* tenant/<name>/tenant.sock (name required) */
	GV_RUNDIR_CTL,	       /* ctl/<name>; name NULL: ctl */
	GV_RUNDIR_CTL_SOCK,    /* ctl/<name>/shim.sock (name required) */
	GV_RUNDIR_CTL_BULK,    /* ctl/<name>/bulk.sock (name required) */
	GV_RUNDIR_DRIVER,      /* driver/<name>; name NULL: driver */
};

/* Writes <run_dir>/<the path of what> into out[cap]. 0, or -EINVAL (what
 * unknown, or a socket path without a name) / -ENAMETOOLONG (does not fit),
 * with out "" on failure. */
int gv_rundir_path(const char *run_dir, enum gv_rundir_path what, const char *name, char *out,
		   size_t cap);

#endif

/* The run directory's layout (rundir.h). */
#include <errno.h>
#include <stdio.h>

#include "gpuvisor/rundir.h"

static const struct {
	const char *dir;    /* below the run directory */
	const char *suffix; /* after the name */
	int named;	    /* 1: a name is required */
} layout[] = {
	[GV_RUNDIR_ACCT] = { "acct", ".acct", 0 },
	[GV_RUNDIR_LIMIT] = { "limit", ".limit", 0 },
	[GV_RUNDIR_SCHED] = { "sched", ".sched", 0 },
	[GV_RUNDIR_TENANT] = { "tenant", "", 0 },
	[GV_RUNDIR_TENANT_SOCK] = { "tenant", "/tenant.sock", 1 },
	[GV_RUNDIR_CTL] = { "ctl", "", 0 },
	[GV_RUNDIR_CTL_SOCK] = { "ctl", "/shim.sock", 1 },
	[GV_RUNDIR_CTL_BULK] = { "ctl", "/bulk.sock", 1 },
	[GV_RUNDIR_DRIVER] = { "driver", "", 0 },
};

int gv_rundir_path(const char *run_dir, enum gv_rundir_path what, const char *name, char *out,
		   size_t cap)
{
	int n;

	if (cap)
		out[0] = '\0';
	if ((unsigned)what >= sizeof(layout) / sizeof(layout[0]) || (layout[what].named && !name))
		return -EINVAL;
	if (name)
		n = snprintf(out, cap, "%s/%s/%s%s", run_dir, layout[what].dir, name,
			     layout[what].suffix);
	else
		n = snprintf(out, cap, "%s/%s", run_dir, layout[what].dir);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

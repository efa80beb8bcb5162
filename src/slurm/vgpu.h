/* gpuvisor's Slurm plugin: the parts that need no Slurm header (the
 * --vgpu value, the owner tag, the daemon's socket path, what the daemon
 * answers), so that they build and are unit-tested without Slurm. */
#ifndef GV_SLURM_VGPU_H
#define GV_SLURM_VGPU_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuvisor/err.h"

#define GV_VGPU_MAX 8	     /* profiles in one --vgpu */
#define GV_VGPU_NAME_MAX 64  /* one profile name, NUL included */
#define GV_VGPU_OWNER_MAX 64 /* "slurm:job:4294967295", NUL included */

/* Splits "h100-20c,h100-20c" into its profiles. Each name is 1..63 bytes
 * of [A-Za-z0-9._-]; 1..GV_VGPU_MAX names. -EINVAL with the reason
 * ("--vgpu ...") otherwise. */
int gv_vgpu_parse(const char *arg, char names[GV_VGPU_MAX][GV_VGPU_NAME_MAX], int *n,
		  struct gv_err *err);

/* The owner tag the instances of one job carry: "slurm:job:<id>". */
void gv_vgpu_owner(uint32_t job_id, char out[GV_VGPU_OWNER_MAX]);

/* The daemon's socket from a template: every "%n" is replaced by node (the
 * Slurm node name, so that one plugstack.conf serves several slurmd on a
 * host, each with its own gpuvisord), "%%" by "%". -ENAMETOOLONG when the
 * result does not fit in cap (a Unix socket path is at most 107 bytes),
 * -EINVAL for "%n" without a node name or another "%" sequence. */
int gv_vgpu_socket(const char *tmpl, const char *node, char *out, size_t cap, struct gv_err *err);

/* The ids, in the daemon's order, of the instances of a GET /v1/instances
 * answer whose "owner" is owner; at most max. Returns how many (>= 0). */
int gv_vgpu_owned(const json_t *list_answer, const char *owner, char ids[][32], int max);

/* Which of n instances a task with local id localid uses (round robin). */
int gv_vgpu_pick(int localid, int n);

/* One line of /proc/<pid>/stat: the state letter ('R', 'S', 'T', ...), or
 * 0 when the text is not a stat line. */
char gv_vgpu_stat_state(const char *stat_line);

#endif

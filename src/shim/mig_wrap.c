/* Migration mode: the table of the migration layer's wrappers.
 *
 * gv_mig_wrap_tab[] lists the tables of the API families (one file each,
 * mig_wrap_internal.h); mig_init.c points gv_shim_real[sym] at each row's
 * wrapper, and update-mig-refuse.py leaves the names of these tables' rows
 * out of mig-refuse.txt. A family is wrapped once it is listed here.
 */
#include "mig_wrap_internal.h"

const struct gv_mig_wrap_ent *const gv_mig_wrap_tab[] = {
	gv_mig_wrap_device, gv_mig_wrap_ctx,  gv_mig_wrap_module, gv_mig_wrap_stream,
	gv_mig_wrap_mem,    gv_mig_wrap_copy, gv_mig_wrap_launch,
};
const size_t gv_mig_wrap_n = sizeof(gv_mig_wrap_tab) / sizeof(gv_mig_wrap_tab[0]);

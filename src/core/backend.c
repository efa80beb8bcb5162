/* Inventory backends: what every backend shares. */
#include "gpuvisor/backend.h"
#include "gpuvisor/node.h"

#include <stddef.h>

void gv_backend_free(struct gv_backend *be)
{
	if (be && be->ops && be->ops->free)
		be->ops->free(be);
}

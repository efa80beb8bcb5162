/* Shim start-up: resolve the real driver, then open the partition.
 *
 * Runs from the library constructor, or earlier from whichever entry point
 * is called first (a lazy trampoline stub or an intercepted function), so a
 * call made before the constructor (another library's constructor) still
 * works. pthread_once makes it run exactly once; afterwards the only cost on
 * an intercepted call is one acquire load of gv_ready.
 */
#include "shim_internal.h"
#include "bulk.h"
#include "mig_internal.h" /* gv_mig_init */

#include <pthread.h>
#include <stdatomic.h>

__thread unsigned gv_shim_depth __attribute__((tls_model("initial-exec")));

static pthread_once_t gv_once = PTHREAD_ONCE_INIT;
static atomic_bool gv_ready;

static void gv_init_once(void)
{
	gv_shim_resolve();
	gv_part_init();
	gv_mig_init();
	gv_bulk_init();
	if (gv_bulk_on())
		gv_bulkctl_init();
	gv_gate_init();
	gv_tenant_register();
	atomic_store_explicit(&gv_ready, true, memory_order_release);
}

void gv_shim_init(void)
{
	pthread_once(&gv_once, gv_init_once);
}

void gv_shim_ensure_init(void)
{
	if (GV_UNLIKELY(!atomic_load_explicit(&gv_ready, memory_order_acquire)))
		gv_shim_init();
}

__attribute__((constructor)) static void gv_shim_ctor(void)
{
	gv_shim_init();
}

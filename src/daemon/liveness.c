/* gpuvisord's liveness thread: about once a second, under the daemon's
 * lock, the upkeep that no request triggers (dead workloads, charges of
 * dead processes, tenant endpoints of instances made meanwhile, partitions
 * overrun, the history's sample). A file of its own: it calls into those
 * modules, none of which calls it. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "daemon.h"

static void *liveness_main(void *arg)
{
	struct gvd *d = arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	int tick = 0;

	while (!atomic_load(&d->stopping)) {
		nanosleep(&ts, NULL);
		if (++tick < 10)
			continue;
		tick = 0;
		pthread_mutex_lock(&d->lock);
		gvd_workload_sweep(d);
		gvd_workload_reclaim_charges(d);
		gvd_tenant_sync(d); /* instances a migration or a restart made */
		gvd_partition_check(d);
		gvd_history_sample(d);
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

int gvd_liveness_start(struct gvd *d, pthread_t *th)
{
	int rc = pthread_create(th, NULL, liveness_main, d);

	return rc ? -rc : 0;
}

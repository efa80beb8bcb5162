/* libcudasim: the checkpoint gate (sim_internal.h, "the checkpoint gate").
 * Every API call passes it (sim_gate) and the sections that change device
 * state are counted in it (SIM_GATE_SECTION); the checkpoint controller
 * (sim_ckpt.c) closes it for a lock and opens it at the unlock. Its own
 * file because every module passes it and the controller calls most of
 * them: with the gate in the controller's file, each of them and the
 * controller called each other. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "sim_internal.h"

atomic_int sim_gate_closed;
static atomic_int gate_active; /* counted sections in flight */
static _Thread_local int gate_depth;
static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;

void sim_gate_wait(void)
{
	/* a thread inside a section finishes it: the lock waits for it */
	if (gate_depth > 0)
		return;
	pthread_mutex_lock(&gate_mtx);
	while (atomic_load(&sim_gate_closed))
		pthread_cond_wait(&gate_cv, &gate_mtx);
	pthread_mutex_unlock(&gate_mtx);
}

static void gate_release_active(void)
{
	/* Dekker with the locker (store closed, load active): either it sees
	 * our decrement or we see the gate closed and wake it */
	if (atomic_fetch_sub(&gate_active, 1) == 1 && atomic_load(&sim_gate_closed)) {
		pthread_mutex_lock(&gate_mtx);
		pthread_cond_broadcast(&gate_cv);
		pthread_mutex_unlock(&gate_mtx);
	}
}

int sim_gate_enter(void)
{
	if (gate_depth++ > 0)
		return 0;
	for (;;) {
		atomic_fetch_add(&gate_active, 1);
		if (!atomic_load(&sim_gate_closed))
			return 0;
		/* closed meanwhile: step back out and wait for the unlock */
		gate_depth--;
		gate_release_active();
		sim_gate_wait();
		gate_depth++;
	}
}

void sim_gate_leave(int *token)
{
	(void)token;
	if (--gate_depth > 0)
		return;
	gate_release_active();
}

void sim_gate_open(void)
{
	pthread_mutex_lock(&gate_mtx);
	atomic_store(&sim_gate_closed, 0);
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mtx);
}

bool sim_gate_close(const struct timespec *deadline)
{
	bool ok = true;

	pthread_mutex_lock(&gate_mtx);
	atomic_store(&sim_gate_closed, 1);
	while (atomic_load(&gate_active) > 0) {
		if (!deadline) {
			pthread_cond_wait(&gate_cv, &gate_mtx);
		} else if (pthread_cond_timedwait(&gate_cv, &gate_mtx, deadline) == ETIMEDOUT) {
			ok = atomic_load(&gate_active) == 0;
			break;
		}
	}
	pthread_mutex_unlock(&gate_mtx);
	if (!ok)
		sim_gate_open();
	return ok;
}

/* The simulated device's execution engine, shared by every process that
 * simulates the same GPU.
 *
 * A GPU runs one context's kernels at a time (without MPS), so two
 * processes that launch on one GPU contend for it: a kernel occupies the
 * device for its duration. The simulator models that with one robust,
 * process-shared mutex per simulated device, held by a stream worker while
 * a kernel runs. It lives in a small file next to the device's memory
 * accounting file (same name, ".exec" instead of ".acct"), so the processes
 * that share a device's memory budget share its execution engine too.
 * Copies and memsets do not take it (a GPU's copy engines run beside the
 * kernels).
 *
 * A process killed while its kernel holds the device leaves the mutex
 * "owner died"; the next process to lock it marks it consistent and goes
 * on. When the file cannot be used the device runs kernels without
 * cross-process serialisation (reported once on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define SIM_EXEC_MAGIC 0x43455853u /* "SXEC" little-endian */
#define SIM_EXEC_VERSION 1u

struct sim_exec {
	uint32_t magic;
	uint32_t version;
	pthread_mutex_t mtx;	  /* robust, process-shared; held while a kernel runs */
	_Atomic uint64_t kernels; /* kernels run on the device, all processes */
};

/* Writes a fresh file aside and links it into place, so nobody maps a
 * half-initialised mutex; losing the race to another creator is fine. */
static int exec_create(const char *path)
{
	char tmp[4200];
	struct sim_exec *e = MAP_FAILED;
	pthread_mutexattr_t a;
	int fd = -1, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0660) < 0 || ftruncate(fd, sizeof(*e)) < 0)
		goto out;
	e = mmap(NULL, sizeof(*e), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (e == MAP_FAILED)
		goto out;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&e->mtx, &a);
	pthread_mutexattr_destroy(&a);
	atomic_init(&e->kernels, 0);
	e->version = SIM_EXEC_VERSION;
	e->magic = SIM_EXEC_MAGIC;
	if (msync(e, sizeof(*e), MS_SYNC) < 0)
		goto out;
	if (link(tmp, path) < 0 && errno != EEXIST)
		goto out;
	rc = 0;
out:
	if (e != MAP_FAILED)
		munmap(e, sizeof(*e));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return rc;
}

void sim_exec_open(struct sim_dev *d, const char *acct_path)
{
	char path[4096];
	size_t n = strlen(acct_path);
	struct sim_exec *e;
	struct stat st;
	int fd;

	d->exec = NULL;
	if (n < 5 || n >= sizeof(path) || strcmp(acct_path + n - 5, ".acct"))
		goto fail;
	memcpy(path, acct_path, n - 5);
	memcpy(path + n - 5, ".exec", 6);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && exec_create(path) == 0)
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(*e)) {
		close(fd);
		goto fail;
	}
	e = mmap(NULL, sizeof(*e), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (e == MAP_FAILED)
		goto fail;
	if (e->magic != SIM_EXEC_MAGIC || e->version != SIM_EXEC_VERSION) {
		munmap(e, sizeof(*e));
		goto fail;
	}
	d->exec = e;
	return;
fail:
	fprintf(stderr,
		"libcudasim: %s: no device-wide execution lock (%s); kernels of "
		"different processes may overlap\n",
		d->uuid, acct_path);
}

bool sim_exec_begin(struct sim_dev *d)
{
	int r;

	if (!d || !d->exec)
		return false;
	r = pthread_mutex_lock(&d->exec->mtx);
	if (r == EOWNERDEAD) /* its holder died mid-kernel: the device is free */
		r = pthread_mutex_consistent(&d->exec->mtx);
	if (r != 0)
		return false;
	atomic_fetch_add_explicit(&d->exec->kernels, 1, memory_order_relaxed);
	return true;
}

void sim_exec_end(struct sim_dev *d, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&d->exec->mtx);
}

void sim_exec_close(struct sim_exec *e)
{
	if (e)
		munmap(e, sizeof(*e));
}

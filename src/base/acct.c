/* Cross-process memory accounting (see include/gpuvisor/acct.h).
 *
 * Slot ownership is one 64-bit word: the owner's pid in the low 32 bits and,
 * while a dead owner's slot is being reclaimed, the reclaiming process's pid
 * in the high 32 bits. Every transition is a compare-and-swap on that word,
 * so a reclaimer that dies half-way is itself detected as dead and replaced.
 * The dead owner's bytes are taken with an atomic exchange: whoever takes
 * them subtracts them from total, so they are given back exactly once.
 */
#include "gpuvisor/acct.h"
#include "gpuvisor/xfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct acct_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t limit_bytes;
	uint32_t n_slots;
	uint32_t slot_size;
	_Atomic uint64_t total;
	/* the highest total reached (0 in files of shims that predate it: the
	 * field was reserved, so the layout and version are unchanged) */
	_Atomic uint64_t peak;
	uint64_t reserved[3];
};

struct acct_slot {
	_Atomic uint64_t owner; /* pid | reclaimer pid << 32; 0 = free */
	_Atomic uint64_t start; /* owner's start time (clock ticks) + 1; 0 = not yet known */
	_Atomic uint64_t bytes;
	_Atomic uint64_t pidns; /* owner's PID namespace (inode); 0 = unknown; set before start */
};

struct acct_file {
	struct acct_hdr hdr;
	struct acct_slot slots[GV_ACCT_SLOTS];
};

/* The limit file (gv_acct_limit_create): written by the daemon only; a
 * process maps it PROT_READ, and a container gets it on a read-only mount. */
struct acct_limit {
	uint32_t magic;
	uint32_t version;
	uint64_t limit_bytes;
};

struct gv_acct {
	struct acct_file *map;
	const struct acct_limit *ro; /* NULL: the header's limit rules */
	pthread_mutex_t lock;	     /* this process's slot lookup only; never shared */
	pid_t slot_pid;		     /* process that found slot_idx (fork changes getpid) */
	int slot_idx;		     /* -1: none yet */
};

#define OWNER_PID(o) ((pid_t)((o)&0xffffffffu))
#define OWNER_RECLAIMER(o) ((pid_t)((o) >> 32))
#define OWNER_MAKE(pid, rec) (((uint64_t)(uint32_t)(rec) << 32) | (uint32_t)(pid))

int gv_acct_parse_proc_stat(const char *text, char *state, uint64_t *start)
{
	const char *p;
	char *end;
	int field;

	if (!text || !state || !start)
		return -EINVAL;
	/* comm may contain spaces and parentheses: fields resume after the last ')' */
	p = strrchr(text, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	*state = *p;
	/* field 3 is the state; field 22 the start time */
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	*start = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	return 0;
}

/* Reads state and start time (field 22, clock ticks since boot) of pid from
 * /proc. Returns 0, -ESRCH when the process does not exist, -EIO when /proc
 * is unreadable. */
static int proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -EIO;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n == 0 ? -ESRCH : -EIO;
	buf[n] = '\0';
	return gv_acct_parse_proc_stat(buf, state, start) < 0 ? -EIO : 0;
}

/* getpid() is a system call; the shim charges on every allocation, so the
 * pid is read once and again in a forked child (pthread_atfork), with the
 * PID namespace the pid belongs to (a child of unshare(CLONE_NEWPID) is in
 * a new one). */
static atomic_int acct_pid;
static _Atomic uint64_t acct_pidns;
static pthread_once_t acct_pid_once = PTHREAD_ONCE_INIT;

static void acct_pid_refresh(void)
{
	struct stat st;

	atomic_store(&acct_pid, (int)getpid());
	atomic_store(&acct_pidns, stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0);
}

static void acct_pid_init(void)
{
	acct_pid_refresh();
	(void)pthread_atfork(NULL, NULL, acct_pid_refresh);
}

static pid_t me_pid(void)
{
	pthread_once(&acct_pid_once, acct_pid_init);
	return (pid_t)atomic_load_explicit(&acct_pid, memory_order_relaxed);
}

static uint64_t me_pidns(void)
{
	pthread_once(&acct_pid_once, acct_pid_init);
	return atomic_load_explicit(&acct_pidns, memory_order_relaxed);
}

/* /proc/self, not /proc/<pid>: in a PID namespace whose /proc is the
 * host's, the pid names another process there. */
static uint64_t self_start(void)
{
	char state;
	uint64_t start;

	if (proc_stat(0, &state, &start) < 0)
		return 0;
	return start + 1;
}

/* A process is dead when it does not exist, is a zombie, or (start_plus1
 * non-zero) started at another time than recorded: its pid was reused. */
static bool pid_dead(pid_t pid, uint64_t start_plus1)
{
	char state;
	uint64_t start;
	int r;

	if (pid <= 0)
		return true;
	r = proc_stat(pid, &state, &start);
	if (r == -ESRCH)
		return true;
	if (r < 0) /* no /proc: fall back to existence */
		return kill(pid, 0) < 0 && errno == ESRCH;
	if (state == 'Z' || state == 'X')
		return true;
	return start_plus1 && start + 1 != start_plus1;
}

static int map_fd(int fd, const char *path, struct gv_acct **out, struct gv_err *err)
{
	struct gv_acct *a = NULL;
	struct stat st;
	void *m;
	int rc = 0;

	if (fstat(fd, &st) < 0)
		return gv_err_sys(err, "%s", path);
	if ((size_t)st.st_size != sizeof(struct acct_file))
		return gv_err_set(err, EINVAL, "%s: not a gpuvisor accounting file (size %lld)",
				  path, (long long)st.st_size);
	m = mmap(NULL, sizeof(struct acct_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return gv_err_sys(err, "%s: mmap", path);
	a = gv_xcalloc(err, 1, sizeof(*a));
	if (!a) {
		rc = -ENOMEM;
		goto out;
	}
	a->map = m;
	if (a->map->hdr.magic != GV_ACCT_MAGIC || a->map->hdr.version != GV_ACCT_VERSION ||
	    a->map->hdr.n_slots != GV_ACCT_SLOTS ||
	    a->map->hdr.slot_size != sizeof(struct acct_slot)) {
		rc = gv_err_set(err, EINVAL, "%s: not a gpuvisor accounting file of version %u",
				path, GV_ACCT_VERSION);
		goto out;
	}
	pthread_mutex_init(&a->lock, NULL);
	a->slot_idx = -1;
	*out = a;
	a = NULL;
	m = MAP_FAILED;
out:
	if (m != MAP_FAILED)
		munmap(m, sizeof(struct acct_file));
	free(a);
	return rc;
}

int gv_acct_create(const char *path, uint64_t limit_bytes, struct gv_err *err)
{
	struct acct_file *f = NULL;
	char *tmp = NULL;
	int fd = -1, rc = 0;

	if (!path || !*path)
		return gv_err_set(err, EINVAL, "accounting file path is empty");
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		return gv_err_nomem(err);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = gv_err_sys(err, "%s: cannot create", path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	f = gv_xcalloc(err, 1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	f->hdr.magic = GV_ACCT_MAGIC;
	f->hdr.version = GV_ACCT_VERSION;
	f->hdr.limit_bytes = limit_bytes;
	f->hdr.n_slots = GV_ACCT_SLOTS;
	f->hdr.slot_size = sizeof(struct acct_slot);
	if (write(fd, f, sizeof(*f)) != (ssize_t)sizeof(*f) || fchmod(fd, 0660) < 0) {
		rc = gv_err_sys(err, "%s: cannot write", path);
		goto out;
	}
	/* link() publishes the complete file, and refuses to replace one */
	if (link(tmp, path) < 0) {
		rc = gv_err_sys(err, "%s", path);
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(f);
	return rc;
}

int gv_acct_open(const char *path, struct gv_acct **out, struct gv_err *err)
{
	int fd, rc;

	if (out)
		*out = NULL;
	if (!path || !out)
		return gv_err_set(err, EINVAL, "gv_acct_open: NULL argument");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return gv_err_sys(err, "%s", path);
	rc = map_fd(fd, path, out, err);
	close(fd);
	return rc;
}

int gv_acct_open_or_create(const char *path, uint64_t limit_bytes, struct gv_acct **out,
			   struct gv_err *err)
{
	int rc;

	rc = gv_acct_open(path, out, err);
	if (rc != -ENOENT)
		return rc;
	rc = gv_acct_create(path, limit_bytes, err);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	gv_err_clear(err);
	return gv_acct_open(path, out, err);
}

/* Frees the slot of a dead owner if this call wins it; true when it did. */
static bool reclaim_slot(struct gv_acct *a, struct acct_slot *s)
{
	struct acct_hdr *h = &a->map->hdr;
	uint64_t o = atomic_load(&s->owner);
	uint64_t start, b;
	pid_t owner = OWNER_PID(o), rec = OWNER_RECLAIMER(o), me = me_pid();

	if (!o || owner == me)
		return false;
	start = atomic_load(&s->start);
	/* another PID namespace's pid says nothing here: leave its slot to a
	 * process of that namespace (or to the file's recreation) */
	if (start) {
		uint64_t ns = atomic_load(&s->pidns), mine = me_pidns();

		if (ns && mine && ns != mine)
			return false;
	}
	if (rec) {
		/* being reclaimed: take over only from a reclaimer that died */
		if (rec == me || !pid_dead(rec, 0))
			return false;
	} else {
		/* start 0: the owner is between claiming and recording its start */
		if (!start ? !pid_dead(owner, 0) : !pid_dead(owner, start))
			return false;
	}
	if (!atomic_compare_exchange_strong(&s->owner, &o, OWNER_MAKE(owner, me)))
		return false;
	b = atomic_exchange(&s->bytes, 0);
	if (b)
		atomic_fetch_sub(&h->total, b);
	atomic_store(&s->start, 0);
	atomic_store(&s->pidns, 0);
	atomic_store(&s->owner, 0);
	return true;
}

int gv_acct_reclaim_dead(struct gv_acct *acct)
{
	int n = 0;

	if (!acct)
		return -EINVAL;
	for (int i = 0; i < GV_ACCT_SLOTS; i++)
		n += reclaim_slot(acct, &acct->map->slots[i]);
	return n;
}

/* The calling process's slot, claimed on first use; NULL when all are taken. */
static struct acct_slot *my_slot(struct gv_acct *a, bool claim)
{
	struct acct_slot *s = NULL;
	pid_t me = me_pid();

	pthread_mutex_lock(&a->lock);
	if (a->slot_pid == me && a->slot_idx >= 0) {
		s = &a->map->slots[a->slot_idx];
		goto out;
	}
	if (!claim)
		goto out;
	for (int pass = 0; pass < 2 && !s; pass++) {
		for (int i = 0; i < GV_ACCT_SLOTS; i++) {
			uint64_t expect = 0;

			if (atomic_compare_exchange_strong(&a->map->slots[i].owner, &expect,
							   OWNER_MAKE(me, 0))) {
				s = &a->map->slots[i];
				atomic_store(&s->pidns, me_pidns());
				atomic_store(&s->start, self_start());
				a->slot_pid = me;
				a->slot_idx = i;
				break;
			}
		}
		if (!s)
			gv_acct_reclaim_dead(a);
	}
out:
	pthread_mutex_unlock(&a->lock);
	return s;
}

static uint64_t limit_of(const struct gv_acct *a)
{
	return a->ro ? a->ro->limit_bytes : a->map->hdr.limit_bytes;
}

static bool try_add_total(struct gv_acct *a, uint64_t bytes)
{
	struct acct_hdr *h = &a->map->hdr;
	uint64_t cur = atomic_load(&h->total), limit = limit_of(a);

	do {
		if (cur > limit || bytes > limit - cur)
			return false;
	} while (!atomic_compare_exchange_weak(&h->total, &cur, cur + bytes));
	/* raise the peak to what this charge made the total, unless another
	 * charge has raised it further meanwhile */
	{
		uint64_t now = cur + bytes, peak = atomic_load(&h->peak);

		while (peak < now && !atomic_compare_exchange_weak(&h->peak, &peak, now))
			;
	}
	return true;
}

int gv_acct_charge(struct gv_acct *acct, uint64_t bytes)
{
	struct acct_slot *s;

	if (!acct)
		return -EINVAL;
	if (!bytes)
		return 0;
	s = my_slot(acct, true);
	if (!s)
		return -ENOSPC;
	if (!try_add_total(acct, bytes)) {
		if (gv_acct_reclaim_dead(acct) == 0 || !try_add_total(acct, bytes))
			return -ENOMEM;
	}
	atomic_fetch_add(&s->bytes, bytes);
	return 0;
}

int gv_acct_uncharge(struct gv_acct *acct, uint64_t bytes)
{
	struct acct_slot *s;
	uint64_t cur;

	if (!acct)
		return -EINVAL;
	if (!bytes)
		return 0;
	s = my_slot(acct, false);
	if (!s)
		return -EINVAL;
	cur = atomic_load(&s->bytes);
	do {
		if (cur < bytes)
			return -EINVAL;
	} while (!atomic_compare_exchange_weak(&s->bytes, &cur, cur - bytes));
	atomic_fetch_sub(&acct->map->hdr.total, bytes);
	return 0;
}

uint64_t gv_acct_used(struct gv_acct *acct)
{
	if (!acct)
		return 0;
	gv_acct_reclaim_dead(acct);
	return atomic_load(&acct->map->hdr.total);
}

uint64_t gv_acct_peak(const struct gv_acct *acct)
{
	return acct ? atomic_load(&acct->map->hdr.peak) : 0;
}

uint64_t gv_acct_limit(const struct gv_acct *acct)
{
	return acct ? limit_of(acct) : 0;
}

int gv_acct_limit_create(const char *path, uint64_t limit_bytes, struct gv_err *err)
{
	struct acct_limit l = { GV_ACCT_LIMIT_MAGIC, GV_ACCT_VERSION, limit_bytes };
	char *tmp = NULL;
	int fd = -1, rc = 0;

	if (!path || !*path)
		return gv_err_set(err, EINVAL, "limit file path is empty");
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return gv_err_nomem(err);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = gv_err_sys(err, "%s: cannot create", path);
		goto out;
	}
	if (write(fd, &l, sizeof(l)) != (ssize_t)sizeof(l) || fchmod(fd, 0644) < 0 ||
	    rename(tmp, path) < 0) {
		rc = gv_err_sys(err, "%s: cannot write", path);
		unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}

int gv_acct_use_limit_file(struct gv_acct *acct, const char *path, struct gv_err *err)
{
	struct stat st;
	void *m;
	int fd, rc = 0;

	if (!acct || !path)
		return gv_err_set(err, EINVAL, "gv_acct_use_limit_file: NULL argument");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gv_err_sys(err, "%s", path);
	if (fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(struct acct_limit)) {
		rc = gv_err_set(err, EINVAL, "%s: not a limit file (size)", path);
		goto out;
	}
	m = mmap(NULL, sizeof(struct acct_limit), PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		rc = gv_err_sys(err, "%s", path);
		goto out;
	}
	if (((const struct acct_limit *)m)->magic != GV_ACCT_LIMIT_MAGIC) {
		munmap(m, sizeof(struct acct_limit));
		rc = gv_err_set(err, EINVAL, "%s: not a limit file (magic)", path);
		goto out;
	}
	if (acct->ro)
		munmap((void *)acct->ro, sizeof(struct acct_limit));
	acct->ro = m;
out:
	close(fd);
	return rc;
}

uint64_t gv_acct_mine(const struct gv_acct *acct)
{
	if (!acct || acct->slot_idx < 0 || acct->slot_pid != me_pid())
		return 0;
	return atomic_load(&acct->map->slots[acct->slot_idx].bytes);
}

int gv_acct_slots(struct gv_acct *acct, struct gv_acct_usage *out, size_t max)
{
	int n = 0;

	if (!acct || (!out && max))
		return -EINVAL;
	for (int i = 0; i < GV_ACCT_SLOTS; i++) {
		struct acct_slot *s = &acct->map->slots[i];
		uint64_t o = atomic_load(&s->owner);

		if (!o || OWNER_RECLAIMER(o))
			continue;
		if ((size_t)n < max) {
			out[n].pid = OWNER_PID(o);
			out[n].bytes = atomic_load(&s->bytes);
		}
		n++;
	}
	return n;
}

void gv_acct_close(struct gv_acct *acct)
{
	if (!acct)
		return;
	/* the process stops using this file: what it still holds goes back */
	if (acct->slot_idx >= 0 && acct->slot_pid == me_pid()) {
		struct acct_slot *s = &acct->map->slots[acct->slot_idx];
		uint64_t b = atomic_exchange(&s->bytes, 0);

		if (b)
			atomic_fetch_sub(&acct->map->hdr.total, b);
		atomic_store(&s->start, 0);
		atomic_store(&s->pidns, 0);
		atomic_store(&s->owner, 0);
	}
	munmap(acct->map, sizeof(struct acct_file));
	if (acct->ro)
		munmap((void *)acct->ro, sizeof(struct acct_limit));
	pthread_mutex_destroy(&acct->lock);
	free(acct);
}

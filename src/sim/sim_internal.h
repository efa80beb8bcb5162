/* libcudasim internals: a CPU implementation of a CUDA driver API subset.
 *
 * Built with __CUDA_API_VERSION_INTERNAL so that cuda.h declares every
 * exported name (cuMemAlloc_v2, cuMemcpyHtoD_v2_ptds, cuCtxCreate_v4 ...)
 * and the sources define functions under their real exported names.
 *
 * Objects handed to the application (contexts, streams, events, modules,
 * functions, pools) are checked against registries before they are used, so
 * a stale or garbage handle gives CUDA_ERROR_INVALID_HANDLE / _CONTEXT
 * instead of a crash.
 */
#ifndef GV_SIM_INTERNAL_H
#define GV_SIM_INTERNAL_H

#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/acct.h"
#include "gpuvisor/node.h"

#define SIM_API __attribute__((visibility("default")))

#define SIM_MIB (1024ull * 1024ull)
/* Device memory every context reserves (charged to the device as a real
 * driver's context does; visible in cuMemGetInfo). */
#define SIM_CTX_OVERHEAD (16ull * SIM_MIB)
#define SIM_VMM_GRANULARITY (2ull * SIM_MIB)
#define SIM_ALLOC_ALIGN 256u
/* Fixed addresses for device memory and VMM ranges, except under
 * ThreadSanitizer, which owns that part of the address space. */
#ifdef __SANITIZE_THREAD__
#define SIM_FIXED_ADDRESSES 0
#else
#define SIM_FIXED_ADDRESSES 1
#endif
#define SIM_PITCH_ALIGN 512u

/* ---- first-fit allocator over an address range (sim_heap.c) ---- */
struct sim_extent {
	uintptr_t start;
	size_t size;
	bool used;
	struct sim_extent *prev, *next;
};

struct sim_heap {
	uintptr_t base;
	size_t size;
	struct sim_extent *head;
	pthread_mutex_t lock;
};

int sim_heap_init(struct sim_heap *h, uintptr_t base, size_t size);
void sim_heap_fini(struct sim_heap *h);
/* 0 when no free range fits. align is a power of two. */
uintptr_t sim_heap_alloc(struct sim_heap *h, size_t size, size_t align);
/* Reserves exactly [addr, addr + size) if free; false otherwise. */
bool sim_heap_alloc_at(struct sim_heap *h, uintptr_t addr, size_t size);
/* Frees the used extent starting at addr; returns its size (0: none). */
size_t sim_heap_free(struct sim_heap *h, uintptr_t addr);

/* ---- devices (sim_init.c, sim_device.c) ---- */
struct sim_ctx;

struct sim_pool {
	uint32_t magic;
	struct sim_dev *dev;
	uint64_t release_threshold;
	uint64_t used;	    /* bytes currently allocated from the pool */
	uint64_t used_high; /* high watermark */
};

struct sim_dev {
	int ordinal;
	char uuid[GV_UUID_MAX];
	CUuuid uuid_bytes;
	char name[128];
	char pci_bus_id[32];
	int pci_bus;
	uint32_t pci_device_id;
	uint64_t total;
	int sms;
	int cc_major, cc_minor;
	bool is_mig;
	char model[64]; /* catalog model id ("h100-80gb"); "" when unknown */
	void *mem;	/* MAP_NORESERVE reservation of total bytes */
	struct sim_heap heap;
	struct gv_acct *acct;
	pthread_mutex_t lock; /* primary context state */
	struct sim_ctx *primary;
	unsigned primary_flags;
	struct sim_pool pool;  /* the default memory pool */
	struct sim_exec *exec; /* device-wide execution lock (sim_exec.c), or NULL */
};

struct sim_state {
	CUresult init_rc;
	int n_dev;
	struct sim_dev devs[GV_NODE_MAX_GPUS];
};

extern struct sim_state sim_g;

/* CUDA_ERROR_NOT_INITIALIZED before a successful cuInit. Every entry point
 * passes through here (directly or through sim_ctx_require /
 * sim_stream_resolve), so it is also where a locked process's calls block
 * (sim_gate, sim_gate.c). */
CUresult sim_check_init(void);
/* The device, or NULL (after init) when ordinal is out of range. */
struct sim_dev *sim_dev_get(CUdevice d);
/* Opens a device by UUID after cuInit (sim_init.c): see cuDeviceGetByPCIBusId. */
CUresult sim_dev_open_uuid(const char *uuid, CUdevice *out);
CUresult sim_dev_charge(struct sim_dev *dev, uint64_t bytes);
void sim_dev_uncharge(struct sim_dev *dev, uint64_t bytes);
/* What a restore onto another GPU replaces in a struct sim_dev (sim_init.c):
 * the GPU's identity, accounting and execution engine. The ordinal, the
 * address range and everything allocated in it stay. */
struct sim_dev_ident {
	char uuid[GV_UUID_MAX];
	CUuuid uuid_bytes;
	char name[128];
	char pci_bus_id[32];
	int pci_bus;
	uint32_t pci_device_id;
	uint64_t total;
	int sms;
	int cc_major, cc_minor;
	bool is_mig;
	char model[64];
	struct gv_acct *acct;
	struct sim_exec *exec;
};
/* Looks the GPU (or MIG instance) with UUID u up in the node description
 * (read again, CUDA_VISIBLE_DEVICES ignored) and fills *out, opening its
 * accounting file and execution lock: 0, -ENOENT (no such GPU), or another
 * negative errno. Release with sim_dev_ident_close unless installed. */
int sim_dev_ident_probe(const CUuuid *u, struct sim_dev_ident *out);
void sim_dev_ident_get(const struct sim_dev *d, struct sim_dev_ident *out);
void sim_dev_ident_set(struct sim_dev *d, const struct sim_dev_ident *id);
void sim_dev_ident_close(struct sim_dev_ident *id);

/* ---- the device's execution engine, shared across processes (sim_exec.c) */
struct sim_exec;
/* Maps (creating it if needed) the execution lock file that goes with the
 * device's accounting file acct_path; d->exec stays NULL on failure. */
void sim_exec_open(struct sim_dev *d, const char *acct_path);
/* Around a kernel's run: waits until no kernel of any process runs on d.
 * begin returns whether it locked; pass that to end. */
bool sim_exec_begin(struct sim_dev *d);
void sim_exec_end(struct sim_dev *d, bool locked);
void sim_exec_close(struct sim_exec *e);

/* ---- the checkpoint gate (sim_gate.c) and control channel (sim_ckpt.c) ----
 * While a controller holds the process LOCKED (cuCheckpointProcessLock) the
 * gate is closed: sim_gate() (in sim_check_init) blocks every API call, and
 * the sections that change device state (allocation, mapping, module and
 * context life, queueing work: SIM_GATE_SECTION) are counted, so the lock
 * can wait until none is in flight. The fast path of both is one atomic
 * load of a flag; a section adds one atomic increment and decrement. */
extern atomic_int sim_gate_closed;
void sim_gate_wait(void);
static inline void sim_gate(void)
{
	if (atomic_load_explicit(&sim_gate_closed, memory_order_acquire))
		sim_gate_wait();
}
int sim_gate_enter(void);
void sim_gate_leave(int *token);
/* The controller's side: close waits until no section is in flight and
 * returns true, or false at the deadline (NULL: none), the gate then open
 * again; open wakes every call waiting at the gate. */
bool sim_gate_close(const struct timespec *deadline);
void sim_gate_open(void);
/* Declares a counted section lasting to the end of the enclosing block. */
#define SIM_GATE_SECTION() \
	int sim_gate_token_ __attribute__((cleanup(sim_gate_leave), unused)) = sim_gate_enter()
/* Starts the process's control endpoint (after a successful cuInit). */
void sim_ckpt_start(void);

/* ---- contexts (sim_ctx.c) ---- */
struct sim_stream;

struct sim_ctx {
	uint32_t magic;
	bool live;
	bool primary;
	int refs; /* primary: retain count */
	struct sim_dev *dev;
	unsigned flags;
	unsigned long long id;
	struct sim_stream *null_stream;
	struct sim_stream *streams; /* every stream of the context, null stream excluded;
				     * a destroyed stream stays until its work is done */
	pthread_mutex_t lock;
	/* Held while work is queued on the legacy stream or a blocking stream,
	 * so that capturing the implicit dependencies and queueing are one
	 * step (sim_stream_submit). */
	pthread_mutex_t order_lock;
	/* The context's sticky error (a CUresult; 0: none): set when a kernel
	 * faults (CUDA_ERROR_ILLEGAL_ADDRESS). cuda.h: "This leaves the process
	 * in an inconsistent state and any further CUDA work will return the
	 * same error"; here further work in the context does, until it is
	 * destroyed (or, primary, reset or released). */
	atomic_int sticky;
};

/* The calling thread's current context (validated), or NULL. */
struct sim_ctx *sim_ctx_current(void);
/* Current context or the error the driver gives without one: INVALID_CONTEXT,
 * CONTEXT_IS_DESTROYED when the thread's current context was destroyed by
 * another thread, or the context's sticky error. */
CUresult sim_ctx_require(struct sim_ctx **out);
/* The same without the sticky error: for calls that only read the
 * context's properties. */
CUresult sim_ctx_require_any(struct sim_ctx **out);
/* c's sticky error, or CUDA_SUCCESS. */
CUresult sim_ctx_sticky(const struct sim_ctx *c);
/* Marks c faulted with rc (the first error stays). */
void sim_ctx_fault(struct sim_ctx *c, CUresult rc);
bool sim_ctx_valid(struct sim_ctx *c);
/* Waits for all work queued so far on every stream of c (destroyed
 * streams with work left included). */
void sim_ctx_sync(struct sim_ctx *c);
/* Waits until every stream of every live context is idle, or until the
 * CLOCK_REALTIME deadline (NULL: none): true when idle. */
bool sim_ctx_wait_all_idle(const struct timespec *deadline);
/* Frees everything c owns; called with c about to die. */
void sim_mem_ctx_teardown(struct sim_ctx *c);
void sim_module_ctx_teardown(struct sim_ctx *c);

/* ---- streams (sim_stream.c) and events (sim_event.c) ---- */
struct sim_op;
typedef void (*sim_op_fn)(struct sim_op *op);

/* How far a stream's work has completed, kept apart from the stream so that
 * a waiter can hold it after the stream is gone (refs, done: sim_seq_lock). */
struct sim_seq {
	int refs;
	uint64_t done; /* operations completed */
};

/* "Start after the first upto operations of a stream completed." */
struct sim_dep {
	struct sim_seq *seq;
	uint64_t upto;
};

/* One record of an event (cuEventRecord): completes when the stream
 * reaches it. An event points at its latest record; a wait, a query and
 * the timing use the record current when they are called (refs, done,
 * when: the event lock of sim_event.c). */
struct sim_rec {
	int refs;
	bool done;
	struct timespec when;
};

struct sim_op {
	sim_op_fn run;
	void (*fini)(struct sim_op *op); /* optional: frees what the op owns */
	struct sim_op *next;
	/* device-side ordering: the worker starts run only when these are met */
	struct sim_dep *deps;
	unsigned ndeps;
	/* runs even when the context has faulted (event records complete,
	 * stream-ordered frees give memory back); other work is skipped */
	bool always;
	union {
		struct {
			void *dst;
			const void *src;
			size_t n;
		} copy;
		struct {
			void *dst;
			uint32_t val;
			size_t elem, n;
		} set;
		struct { /* 2-D set: h rows of n elements, pitch bytes apart */
			char *dst;
			uint32_t val;
			size_t elem, n, h, pitch;
		} set2d;
		struct { /* 3-D copy: depth slices of height rows of width bytes */
			char *dst;
			const char *src;
			size_t width, height, depth;
			size_t dpitch, spitch, dslice, sslice;
		} rect;
		struct {
			struct sim_rec *rec;
		} ev;
		struct {
			CUhostFn fn;
			void *data;
		} host;
		struct {
			CUstreamCallback fn;
			void *data;
			struct sim_stream *s;
		} cb;
		struct {
			struct sim_dev *dev;
			uintptr_t ptr;
			size_t charged;
		} free;
		struct {
			void (*fn)(void **, const void *);
			void *args;	     /* copied arguments, owned */
			struct sim_dev *dev; /* whose execution engine it occupies */
			struct sim_ctx *ctx; /* faulted when the kernel faults */
			unsigned grid[3], block[3];
		} launch;
	} u;
};

struct sim_stream {
	uint32_t magic;
	struct sim_ctx *ctx;
	unsigned flags;
	int priority;
	bool is_null;
	bool per_thread;
	unsigned long long id;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sim_op *head, *tail;
	uint64_t submitted, completed;
	struct sim_seq *seq;	 /* completed, for waiters that outlive the stream */
	bool stop;		 /* sim_stream_free: finish the queue, then exit */
	bool destroyed;		 /* cuStreamDestroy: finish the queue, then free itself */
	struct sim_stream *next; /* in ctx->streams */
};

struct sim_event {
	uint32_t magic;
	struct sim_ctx *ctx;
	unsigned flags;
	struct sim_rec *cur; /* latest record, NULL: never recorded (event lock) */
	struct sim_event *next;
};

struct sim_stream *sim_stream_new(struct sim_ctx *c, unsigned flags, int priority, bool is_null);
/* Stops the worker after the queued work and frees s (caller unlinked it). */
void sim_stream_free(struct sim_stream *s);
/* Resolves a handle (NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD or a
 * stream) for the current context; per_thread_default: the _ptsz/_ptds
 * entry point was called, so NULL means the per-thread stream. */
CUresult sim_stream_resolve(CUstream h, bool per_thread_default, struct sim_stream **out);
/* Queues op (allocated with calloc, freed after it ran). */
void sim_stream_submit(struct sim_stream *s, struct sim_op *op);
void sim_stream_sync(struct sim_stream *s);
/* sim_stream_sync until a CLOCK_REALTIME deadline (NULL: none): true if idle. */
bool sim_stream_sync_until(struct sim_stream *s, const struct timespec *deadline);
bool sim_stream_idle(struct sim_stream *s);
/* Runs op on s and waits for it (the synchronous copy/set calls): CUDA_SUCCESS
 * or the context's sticky error. */
CUresult sim_stream_run_sync(struct sim_stream *s, struct sim_op *op);
/* Waits until the work queued so far on every stream of c is done, or
 * until the CLOCK_REALTIME deadline (NULL: none): true when done. Holds no
 * lock while waiting. */
bool sim_streams_wait(struct sim_ctx *c, const struct timespec *deadline);
void sim_event_ctx_teardown(struct sim_ctx *c);
/* For the events of launch attributes (sim_module.c): whether h is a live
 * event, and cuEventRecord(h, hs) (its _ptsz variant when per_thread_default). */
bool sim_event_valid(CUevent h);
CUresult sim_event_record(CUevent h, CUstream hs, bool per_thread_default);

/* ---- memory (sim_mem.c) ---- */
enum sim_mem_kind {
	SIM_MEM_DEVICE = 1,
	SIM_MEM_MANAGED,
	SIM_MEM_ASYNC,	  /* stream-ordered allocation (pool) */
	SIM_MEM_HOST,	  /* cuMemAllocHost / cuMemHostAlloc */
	SIM_MEM_HOST_REG, /* cuMemHostRegister */
	SIM_MEM_VMM,	  /* a mapped VMM range */
	SIM_MEM_GLOBAL,	  /* a module global */
};

struct sim_alloc {
	uintptr_t start;
	size_t size;	/* as requested */
	size_t charged; /* bytes charged to the device */
	enum sim_mem_kind kind;
	struct sim_ctx *ctx; /* NULL: not owned by a context */
	struct sim_dev *dev;
	unsigned flags;
	unsigned long long id;
	struct sim_alloc *next;
};

/* Looks up the allocation containing [p, p + n); copies it to *out. */
bool sim_mem_find(uintptr_t p, size_t n, struct sim_alloc *out);
/* Validates a device range for a copy/set: CUDA_SUCCESS or INVALID_VALUE. */
CUresult sim_mem_check_dev(CUdeviceptr p, size_t n);
void sim_mem_register(const struct sim_alloc *a);
bool sim_mem_unregister(uintptr_t start, enum sim_mem_kind kind, struct sim_alloc *out);
/* Frees device memory allocated with sim_mem_dev_alloc. */
void sim_mem_dev_release(struct sim_dev *dev, uintptr_t p, size_t charged);

bool sim_mem_set_flags(uintptr_t start, enum sim_mem_kind kind, unsigned flags);
/* Calls fn for every registered range (under the registry lock: fn must not
 * call back into the registry); stops at the first non-zero return. */
int sim_mem_foreach(int (*fn)(const struct sim_alloc *a, void *arg), void *arg);

/* ---- VMM (sim_vmm.c) ---- */
/* Inside a device's memory or the VMM address range: a pointer there that
 * is not a live allocation is an invalid device pointer. */
bool sim_addr_in_device_space(uintptr_t p);
/* Checkpoint of VMM memory (the policy table is in sim_vmm.c). check: the
 * CUresult refusing the checkpoint, or CUDA_SUCCESS. save: the contents of
 * every carried handle to host memory, its pages given back, its mappings
 * made inaccessible (still reserved); adds to kept[ordinal] the bytes that
 * stay held (and charged) while checkpointed; 0 or -ENOMEM (nothing
 * changed). restore_prepare: CUDA_ERROR_NOT_SUPPORTED when the policy
 * breaks the restore, else makes the fresh copies the restore installs and
 * adds their bytes to again[ordinal] (to charge); OUT_OF_MEMORY: nothing
 * made. restore_cancel undoes a prepare; restore: contents and access
 * back. */
CUresult sim_vmm_ckpt_check(void);
/* The cuMemAddressReserve reservation holding p: true and its start and
 * size, or false. */
bool sim_vmm_resv_find(uintptr_t p, uintptr_t *start, size_t *size);
int sim_vmm_ckpt_save(uint64_t *kept);
CUresult sim_vmm_ckpt_restore_prepare(uint64_t *again);
void sim_vmm_ckpt_restore_cancel(void);
void sim_vmm_ckpt_restore(void);
/* Gives back the charge of exportable memory this process created and
 * released once nothing else holds it (sim_vmm.c). */
void sim_vmm_reap(void);
/* At a restore onto other GPUs, for the accounting handle of a GPU the
 * process no longer uses: true when memory lingering there still needs it
 * (sim_vmm.c then owns it and closes it with the last of that memory), false
 * when the caller closes it. */
bool sim_vmm_keep_acct(struct gv_acct *acct);

/* ---- module (sim_module.c) ---- */
/* ---- names (sim_error.c / sim_proc.c) ---- */
const char *sim_error_name(CUresult r);

/* Timestamps for events. */
void sim_now(struct timespec *ts);

#endif

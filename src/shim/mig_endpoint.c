/* Migration mode: the engine's endpoint (struct gv_mig_ops) over CUDA.
 *
 * The engine runs on the control thread. That thread keeps its own
 * contexts current (the source and destination devices' primary contexts,
 * retained for the migration) and its own non-blocking streams, and calls
 * the driver through MREAL, never through the gate.
 *
 * On a GPU, hashes come from the hash kernel (hashk.h) run on the device
 * that holds the memory; a copy within one device (two timeslice
 * instances of a GPU) is one device-to-device copy of the chunks followed
 * by the kernel over the destination's bytes, so the hash returned is the
 * hash of what the destination holds. Copies between devices, and
 * everything where the kernel cannot load (libcudasim, a build without
 * nvcc), go through a host staging buffer: a chunk is copied to the host on the
 * source stream, hashed there (gv_chunkhash_one), and for a copy sent on
 * to the destination; the hash of the staging buffer is again the hash of
 * what the destination holds (docs/migration.md). Both are bit-identical to
 * gv_chunkhash_range.
 */
#include "mig_endpoint.h"

#include "hashk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuvisor/acct.h"

#define CK(call, what)                                                                         \
	do {                                                                                   \
		CUresult r_ = (call);                                                          \
		if (r_ != CUDA_SUCCESS) {                                                      \
			rc = gv_err_set(err, EIO, "%s failed (CUDA error %d)", what, (int)r_); \
			goto out;                                                              \
		}                                                                              \
	} while (0)

/* Test faults ($GPUVISOR_TEST_FAULTS=1, "inject" of a migrate request),
 * each fired once, at the first matching callback:
 *   OP          any call of OP (create, list, hash, copy, stun)
 *   OP:roundK   a call of OP in pre-copy round K or later (round = listings
 *               so far: setup's is round 1, which copies without hashing)
 *   OP:stun     a call of OP after the stun
 *   switch      switch_over fails half-way (after one region is remapped),
 *               so its rollback runs
 *   delay       not a failure: the second listing waits 2 s, so that tests
 *               can act while a migration is running */
static int fault(struct gv_mig_ep *ep, const char *op, struct gv_err *err)
{
	size_t n = strlen(op);
	const char *rest = ep->inject + n;
	unsigned k;
	bool hit = false;

	if (!ep->inject[0] || ep->injected || strncmp(ep->inject, op, n))
		return 0;
	if (!*rest)
		hit = true;
	else if (!strcmp(rest, ":stun"))
		hit = ep->stunned;
	else if (sscanf(rest, ":round%u", &k) == 1)
		hit = !ep->stunned && ep->listings >= k;
	if (!hit)
		return 0;
	ep->injected = true;
	return gv_err_set(err, EIO, "injected fault %s", ep->inject);
}

static int list_regions(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
			struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	size_t n = 0;
	int rc;

	ep->listings++;
	if (!strcmp(ep->inject, "delay") && ep->listings == 2) {
		struct timespec ts = { 2, 0 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	rc = fault(ep, "list", err);
	if (rc)
		return rc;
	pthread_mutex_lock(&gv_mreg_lock);
	for (struct gv_mreg *r = gv_mreg_head; r; r = r->next, n++)
		if (n < cap) {
			out[n].id = r->id;
			out[n].size = r->size;
		}
	pthread_mutex_unlock(&gv_mreg_lock);
	*count = n;
	return 0;
}

static int dst_create(void *ctx, uint64_t id, uint64_t size, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	struct gv_mreg *r;
	int rc = fault(ep, "create", err);
	CUmemGenericAllocationHandle h;
	CUdeviceptr va;

	if (rc)
		return rc;
	MREAL(cuCtxSetCurrent)(ep->dctx);
	pthread_mutex_lock(&gv_mreg_lock);
	r = gv_mreg_find_locked(id);
	if (!r || r->size != size) {
		rc = gv_err_set(err, ENOENT, "region %llu is gone", (unsigned long long)id);
		goto out;
	}
	if (r->dh) {
		rc = gv_err_set(err, EEXIST, "region %llu has a destination",
				(unsigned long long)id);
		goto out;
	}
	CK(gv_mig_phys_new(ep->ddev, size, &h, &va), "cuMemCreate on the destination");
	r->dh = h;
	r->dva = va;
out:
	pthread_mutex_unlock(&gv_mreg_lock);
	return rc;
}

static void dst_free_locked(struct gv_mreg *r)
{
	MREAL(cuMemUnmap)(r->dva, r->size);
	MREAL(cuMemRelease)(r->dh);
	MREAL(cuMemAddressFree)(r->dva, r->size);
	r->dh = 0;
	r->dva = 0;
}

static int dst_destroy(void *ctx, uint64_t id, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	struct gv_mreg *r;

	(void)err;
	MREAL(cuCtxSetCurrent)(ep->dctx);
	pthread_mutex_lock(&gv_mreg_lock);
	r = gv_mreg_find_locked(id);
	if (r && r->dh)
		dst_free_locked(r);
	pthread_mutex_unlock(&gv_mreg_lock);
	return 0;
}

static uint64_t clen(uint64_t size, uint64_t cs, uint64_t i)
{
	return gv_chunkhash_chunk_len(size, cs, i);
}

/* The GPU path of pass(): -ENOTSUP sends the caller to the CPU path. */
static int gpu_pass(struct gv_mig_ep *ep, struct gv_mreg *r, bool send, uint64_t cs, uint64_t first,
		    uint64_t count, struct gv_chunk_hash *out, struct gv_err *err)
{
	uint64_t off = first * cs, n = 0;
	CUresult cr;
	int rc = 0;

	if (!send) {
		MREAL(cuCtxSetCurrent)(ep->sctx);
		return gv_hashk_range(ep->hk_src, ep->sstream, r->va, r->size, cs, first, count,
				      out, err);
	}
	/* Between two devices (GPUs, MIG instances) each VMM mapping is
	 * accessible from its own device only, and a peer copy that faults
	 * later would leave an error in the context the workload is about to
	 * use: until that path is checked on a multi-GPU machine, copies
	 * between devices go through the host (the source's hashes are still
	 * taken by the kernel). */
	if (ep->no_d2d || ep->sdev != ep->ddev)
		return -ENOTSUP;
	/* the chunks are contiguous at the same offsets on both sides */
	for (uint64_t i = first; i < first + count; i++)
		n += clen(r->size, cs, i);
	MREAL(cuCtxSetCurrent)(ep->dctx);
	cr = MREAL(cuMemcpyDtoDAsync_v2)(r->dva + off, r->va + off, n, ep->dstream);
	if (cr == CUDA_ERROR_INVALID_VALUE || cr == CUDA_ERROR_NOT_SUPPORTED) {
		/* refused up front: copy through the host from now on */
		gv_shim_log(false,
			    "migration: device-to-device copy refused (CUDA error %d); "
			    "copying through the host",
			    (int)cr);
		ep->no_d2d = true;
		return -ENOTSUP;
	}
	CK(cr, "copy to the destination");
	if (out)
		rc = gv_hashk_range(ep->hk_dst, ep->dstream, r->dva, r->size, cs, first, count, out,
				    err);
	else
		CK(MREAL(cuStreamSynchronize)(ep->dstream), "copy to the destination");
out:
	return rc;
}

/* Hashes (and with send, copies to the destination) chunks of one region;
 * the lock is held throughout (mig_mem.c). */
static int pass(struct gv_mig_ep *ep, bool send, uint64_t id, uint64_t cs, uint64_t first,
		uint64_t count, struct gv_chunk_hash *out, struct gv_err *err)
{
	struct gv_mreg *r;
	int rc = 0;

	pthread_mutex_lock(&gv_mreg_lock);
	r = gv_mreg_find_locked(id);
	if (!r) {
		rc = gv_err_set(err, ENOENT, "region %llu was freed", (unsigned long long)id);
		goto out;
	}
	if (first + count > gv_chunkhash_count(r->size, cs) || (send && !r->dh)) {
		rc = gv_err_set(err, EINVAL, "chunks out of range of region %llu",
				(unsigned long long)id);
		goto out;
	}
	if (ep->hk_src && ep->hk_dst) {
		rc = gpu_pass(ep, r, send, cs, first, count, out, err);
		if (rc != -ENOTSUP)
			goto out;
		rc = 0;
	}
	if (cs > ep->stage_len) {
		void *b = realloc(ep->stage, cs);

		if (!b) {
			rc = gv_err_set(err, ENOMEM, "no staging buffer");
			goto out;
		}
		ep->stage = b;
		ep->stage_len = cs;
	}
	for (uint64_t i = first; i < first + count; i++) {
		uint64_t off = i * cs, n = clen(r->size, cs, i);

		MREAL(cuCtxSetCurrent)(ep->sctx);
		CK(MREAL(cuMemcpyDtoHAsync_v2)(ep->stage, r->va + off, n, ep->sstream),
		   "copy from the source");
		CK(MREAL(cuStreamSynchronize)(ep->sstream), "copy from the source");
		if (send) {
			MREAL(cuCtxSetCurrent)(ep->dctx);
			CK(MREAL(cuMemcpyHtoDAsync_v2)(r->dva + off, ep->stage, n, ep->dstream),
			   "copy to the destination");
			CK(MREAL(cuStreamSynchronize)(ep->dstream), "copy to the destination");
		}
		if (out)
			out[i - first] = gv_chunkhash_one(ep->stage, n);
	}
out:
	pthread_mutex_unlock(&gv_mreg_lock);
	return rc;
}

static int src_hash(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		    struct gv_chunk_hash *out, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	int rc = fault(ep, "hash", err);

	if (rc)
		return rc;
	ep->host->poll(ep);
	return pass(ep, false, id, cs, first, count, out, err);
}

static int copy(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		struct gv_chunk_hash *out, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	int rc = fault(ep, "copy", err);

	if (rc)
		return rc;
	ep->host->poll(ep);
	return pass(ep, true, id, cs, first, count, out, err);
}

/* Every stream and context of the workload, drained. */
static int drain(struct gv_mig_ep *ep, struct gv_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *o = gv_mobj_head; o; o = o->next) {
		if (o->kind == GV_MOBJ_CTX) {
			MREAL(cuCtxSetCurrent)((CUcontext)o->real);
			CK(MREAL(cuCtxSynchronize)(), "cuCtxSynchronize");
		} else if (o->kind == GV_MOBJ_STREAM) {
			CK(MREAL(cuStreamSynchronize)((CUstream)o->real), "cuStreamSynchronize");
		}
	}
out:
	pthread_mutex_unlock(&gv_mobj_lock);
	MREAL(cuCtxSetCurrent)(ep->sctx);
	return rc;
}

static int stun(void *ctx, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	int rc = fault(ep, "stun", err);

	if (rc)
		return rc;
	gv_mig_gate_close();
	rc = drain(ep, err);
	if (rc) {
		gv_mig_gate_open();
		return rc;
	}
	ep->stunned = true;
	return 0;
}

/* Recreates one object on the destination into next_real. */
static CUresult remake(struct gv_mig_ep *ep, struct gv_mobj *o)
{
	CUresult r = CUDA_SUCCESS;
	CUcontext c;

	o->next_real = NULL;
	if (o->kind != GV_MOBJ_CTX) {
		c = o->ctx ? (CUcontext)o->ctx->next_real : ep->dctx;
		if (!c)
			c = ep->dctx;
		MREAL(cuCtxSetCurrent)(c);
	}
	switch (o->kind) {
	case GV_MOBJ_CTX:
		if (o->primary) {
			unsigned flags = 0;
			int active = 0;

			if (!o->refs)
				return CUDA_SUCCESS; /* released: bound again at the next retain */
			/* the application's flags (scheduling, ...) go with it */
			if (MREAL(cuDevicePrimaryCtxGetState)(ep->sdev, &flags, &active) ==
				    CUDA_SUCCESS &&
			    ep->ddev != ep->sdev)
				MREAL(cuDevicePrimaryCtxSetFlags_v2)(ep->ddev, flags);
			r = MREAL(cuDevicePrimaryCtxRetain)((CUcontext *)&o->next_real, ep->ddev);
		} else {
			r = MREAL(cuCtxCreate_v2)((CUcontext *)&o->next_real, o->flags, ep->ddev);
			if (r == CUDA_SUCCESS)
				MREAL(cuCtxPopCurrent_v2)(&c);
		}
		break;
	case GV_MOBJ_MOD:
		if (o->path)
			r = MREAL(cuModuleLoad)((CUmodule *)&o->next_real, o->path);
		else if (o->image)
			r = MREAL(cuModuleLoadData)((CUmodule *)&o->next_real, o->image);
		else
			r = CUDA_ERROR_NOT_SUPPORTED;
		break;
	case GV_MOBJ_FUNC:
		r = MREAL(cuModuleGetFunction)((CUfunction *)&o->next_real,
					       (CUmodule)o->mod->next_real, o->name);
		break;
	case GV_MOBJ_STREAM:
		r = MREAL(cuStreamCreateWithPriority)((CUstream *)&o->next_real, o->flags,
						      o->priority);
		break;
	case GV_MOBJ_EVENT:
		r = MREAL(cuEventCreate)((CUevent *)&o->next_real, o->flags);
		/* work before the stun is complete: a recorded event is too */
		if (r == CUDA_SUCCESS && o->recorded) {
			r = MREAL(cuEventRecord)((CUevent)o->next_real, NULL);
			if (r == CUDA_SUCCESS)
				r = MREAL(cuEventSynchronize)((CUevent)o->next_real);
		}
		break;
	}
	if (r != CUDA_SUCCESS)
		o->next_real = NULL;
	return r;
}

/* Destroys the driver object real of o (kind decides how) on device dev. */
static void unmake(struct gv_mobj *o, void *real, int dev)
{
	if (!real)
		return;
	switch (o->kind) {
	case GV_MOBJ_CTX:
		if (o->primary) {
			if (o->refs)
				MREAL(cuDevicePrimaryCtxRelease_v2)(dev);
		} else {
			MREAL(cuCtxDestroy_v2)((CUcontext)real);
		}
		break;
	case GV_MOBJ_MOD:
		MREAL(cuModuleUnload)((CUmodule)real);
		break;
	case GV_MOBJ_FUNC:
		break;
	case GV_MOBJ_STREAM:
		MREAL(cuStreamDestroy_v2)((CUstream)real);
		break;
	case GV_MOBJ_EVENT:
		MREAL(cuEventDestroy_v2)((CUevent)real);
		break;
	}
}

/* Objects are destroyed in reverse creation order (a context last). */
static void unmake_next(struct gv_mig_ep *ep)
{
	struct gv_mobj *last = gv_mobj_head;

	while (last && last->next)
		last = last->next;
	for (struct gv_mobj *o = last; o; o = o->prev) {
		if (o->kind != GV_MOBJ_CTX)
			MREAL(cuCtxSetCurrent)
		(o->ctx && o->ctx->next_real ? (CUcontext)o->ctx->next_real : ep->dctx);
		unmake(o, o->next_real, ep->ddev);
		o->next_real = NULL;
	}
}

static int switch_over(void *ctx, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	struct gv_mreg *done = NULL, *r;
	int rc = 0;
	CUresult cr;

	ep->host->poll(ep);
	if (ep->cancel)
		return gv_err_set(err, ECONNRESET, "the daemon's connection dropped");
	rc = ep->host->acct_prepare(ep, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&gv_mobj_lock);
	for (struct gv_mobj *o = gv_mobj_head; o; o = o->next) {
		cr = remake(ep, o);
		if (cr != CUDA_SUCCESS) {
			rc = gv_err_set(err, EIO,
					"recreating a %s on the destination failed (CUDA error %d)",
					o->kind == GV_MOBJ_CTX	    ? "context"
					: o->kind == GV_MOBJ_MOD    ? "module"
					: o->kind == GV_MOBJ_FUNC   ? "function"
					: o->kind == GV_MOBJ_STREAM ? "stream"
								    : "event",
					(int)cr);
			goto objs;
		}
	}
	/* memory: the destination's physical memory at the application's
	 * addresses; undone region by region on failure */
	pthread_mutex_lock(&gv_mreg_lock);
	MREAL(cuCtxSetCurrent)(ep->dctx);
	for (r = gv_mreg_head; r; r = r->next) {
		if (!r->dh) {
			rc = gv_err_set(err, EPROTO, "region %llu has no destination",
					(unsigned long long)r->id);
			break;
		}
		/* the test fault fails half-way, so the rollback is exercised */
		if (!strcmp(ep->inject, "switch") && !ep->injected && (done || !r->next)) {
			ep->injected = true;
			rc = gv_err_set(err, EIO, "injected fault switch");
			break;
		}
		MREAL(cuMemUnmap)(r->va, r->size);
		cr = gv_mig_map(r->va, r->size, r->dh, ep->ddev);
		if (cr != CUDA_SUCCESS) {
			gv_mig_map(r->va, r->size, r->h, ep->sdev);
			rc = gv_err_set(err, EIO, "mapping the destination failed (CUDA error %d)",
					(int)cr);
			break;
		}
		done = r;
	}
	if (rc && done) {
		for (struct gv_mreg *u = gv_mreg_head;; u = u->next) {
			MREAL(cuMemUnmap)(u->va, u->size);
			gv_mig_map(u->va, u->size, u->h, ep->sdev);
			if (u == done)
				break;
		}
	}
	if (!rc) {
		for (r = gv_mreg_head; r; r = r->next) {
			/* the staging mapping is not needed any more */
			MREAL(cuMemUnmap)(r->dva, r->size);
			r->oh = r->h;
			r->odva = r->dva;
			r->h = r->dh;
			r->dh = 0;
			r->dva = 0;
		}
	}
	pthread_mutex_unlock(&gv_mreg_lock);
objs:
	if (rc) {
		unmake_next(ep);
	} else {
		for (struct gv_mobj *o = gv_mobj_head; o; o = o->next) {
			o->old_real = o->real;
			o->real = o->next_real;
			o->next_real = NULL;
		}
		atomic_store(&gv_mig_dev, ep->ddev);
		snprintf(gv_mig_dev_uuid, sizeof(gv_mig_dev_uuid), "%s", ep->to);
		atomic_fetch_add(&gv_mig_gen, 1);
	}
	pthread_mutex_unlock(&gv_mobj_lock);
	if (!rc)
		ep->host->acct_commit(ep);
	MREAL(cuCtxSetCurrent)(ep->sctx);
	return rc;
}

static void resume(void *ctx)
{
	struct gv_mig_ep *ep = ctx;

	if (ep->stunned) {
		ep->stunned = false;
		gv_mig_gate_open();
	}
}

static int src_release(void *ctx, struct gv_err *err)
{
	struct gv_mig_ep *ep = ctx;
	struct gv_mobj *last;

	(void)err;
	pthread_mutex_lock(&gv_mreg_lock);
	MREAL(cuCtxSetCurrent)(ep->sctx);
	for (struct gv_mreg *r = gv_mreg_head; r; r = r->next) {
		if (r->oh)
			MREAL(cuMemRelease)(r->oh);
		if (r->odva)
			MREAL(cuMemAddressFree)(r->odva, r->size);
		r->oh = 0;
		r->odva = 0;
	}
	pthread_mutex_unlock(&gv_mreg_lock);
	pthread_mutex_lock(&gv_mobj_lock);
	for (last = gv_mobj_head; last && last->next; last = last->next)
		;
	for (struct gv_mobj *o = last; o; o = o->prev) {
		if (o->kind != GV_MOBJ_CTX)
			MREAL(cuCtxSetCurrent)
		(o->ctx && o->ctx->old_real ? (CUcontext)o->ctx->old_real : ep->sctx);
		unmake(o, o->old_real, ep->sdev);
		o->old_real = NULL;
	}
	pthread_mutex_unlock(&gv_mobj_lock);
	return 0;
}

static void hashk_close(struct gv_mig_ep *ep)
{
	if (ep->hk_src) {
		MREAL(cuCtxSetCurrent)(ep->sctx);
		gv_hashk_free(ep->hk_src);
	}
	if (ep->hk_dst) {
		MREAL(cuCtxSetCurrent)(ep->dctx);
		gv_hashk_free(ep->hk_dst);
	}
	ep->hk_src = ep->hk_dst = NULL;
}

static void progress(void *ctx, const struct gv_mig_progress *p)
{
	struct gv_mig_ep *ep = ctx;

	ep->host->progress(ep, p);
}

const struct gv_mig_ops gv_mig_shim_ops = {
	.list_regions = list_regions,
	.dst_create = dst_create,
	.dst_destroy = dst_destroy,
	.src_hash = src_hash,
	.copy = copy,
	.stun = stun,
	.switch_over = switch_over,
	.resume = resume,
	.src_release = src_release,
	.throttle = gv_mig_throttle,
	.progress = progress,
};

/* The hash kernel in both contexts, or in neither (then the CPU hashes:
 * slower, same results). */
static void hashk_open(struct gv_mig_ep *ep)
{
	const struct gv_hashk_drv drv = {
		.module_load_data = MREAL(cuModuleLoadData),
		.module_get_function = MREAL(cuModuleGetFunction),
		.module_unload = MREAL(cuModuleUnload),
		.launch_kernel = MREAL(cuLaunchKernel),
		.mem_alloc = MREAL(cuMemAlloc_v2),
		.mem_free = MREAL(cuMemFree_v2),
		.memcpy_dtoh_async = MREAL(cuMemcpyDtoHAsync_v2),
		.stream_synchronize = MREAL(cuStreamSynchronize),
	};
	struct gv_err e = { 0 };

	MREAL(cuCtxSetCurrent)(ep->sctx);
	if (gv_hashk_new(&drv, &ep->hk_src, &e) == 0) {
		MREAL(cuCtxSetCurrent)(ep->dctx);
		if (gv_hashk_new(&drv, &ep->hk_dst, &e) != 0)
			hashk_close(ep);
	}
	gv_shim_log(true, "migration: chunk hashes on the %s%s%s",
		    ep->hk_src ? "GPU (hash kernel)" : "CPU", ep->hk_src ? "" : ": ",
		    ep->hk_src ? "" : e.msg);
}

int gv_mig_ep_open(struct gv_mig_ep *ep, struct gv_err *err)
{
	int rc = 0;

	ep->sdev = atomic_load(&gv_mig_dev);
	ep->ddev = gv_mig_find_uuid(ep->to);
	if (ep->ddev < 0)
		return gv_err_set(err, ENODEV,
				  "device %s is not visible to the workload's driver (it must "
				  "be in its CUDA_VISIBLE_DEVICES)",
				  ep->to);
	/* the same device is allowed: two timeslice instances of one GPU (the
	 * memory moves to fresh physical memory, the partition changes) */
	{
		char a[256] = "", b[256] = "";
		size_t ta = 0, tb = 0;

		MREAL(cuDeviceGetName)(a, sizeof(a), ep->sdev);
		MREAL(cuDeviceGetName)(b, sizeof(b), ep->ddev);
		MREAL(cuDeviceTotalMem_v2)(&ta, ep->sdev);
		MREAL(cuDeviceTotalMem_v2)(&tb, ep->ddev);
		if (strcmp(a, b) || ta != tb)
			return gv_err_set(
				err, EINVAL,
				"the destination is another model or size (%s, %zu bytes) "
				"than the source (%s, %zu bytes)",
				b, tb, a, ta);
	}
	CK(MREAL(cuDevicePrimaryCtxRetain)(&ep->sctx, ep->sdev), "retaining the source context");
	if (MREAL(cuDevicePrimaryCtxRetain)(&ep->dctx, ep->ddev) != CUDA_SUCCESS) {
		MREAL(cuDevicePrimaryCtxRelease_v2)(ep->sdev);
		ep->sctx = NULL;
		rc = gv_err_set(err, EIO, "retaining the destination context failed");
		goto out;
	}
	MREAL(cuCtxSetCurrent)(ep->sctx);
	CK(MREAL(cuStreamCreate)(&ep->sstream, CU_STREAM_NON_BLOCKING), "source stream");
	MREAL(cuCtxSetCurrent)(ep->dctx);
	CK(MREAL(cuStreamCreate)(&ep->dstream, CU_STREAM_NON_BLOCKING), "destination stream");
	hashk_open(ep);
out:
	if (rc)
		gv_mig_ep_close(ep, false);
	return rc;
}

void gv_mig_ep_close(struct gv_mig_ep *ep, bool switched)
{
	/* after a switch the roles are swapped: the source context is the old
	 * device's, which this process no longer uses */
	hashk_close(ep);
	if (ep->sstream) {
		MREAL(cuCtxSetCurrent)(ep->sctx);
		MREAL(cuStreamDestroy_v2)(ep->sstream);
	}
	if (ep->dstream) {
		MREAL(cuCtxSetCurrent)(ep->dctx);
		MREAL(cuStreamDestroy_v2)(ep->dstream);
	}
	MREAL(cuCtxSetCurrent)(NULL);
	if (ep->sctx)
		MREAL(cuDevicePrimaryCtxRelease_v2)(ep->sdev);
	if (ep->dctx)
		MREAL(cuDevicePrimaryCtxRelease_v2)(ep->ddev);
	(void)switched;
	ep->sstream = ep->dstream = NULL;
	ep->sctx = ep->dctx = NULL;
	free(ep->stage);
	ep->stage = NULL;
	ep->stage_len = 0;
}

/* gpuvisor-ckpt precopy: a live move of any CUDA program, its bulk
 * pre-copied by this process while it runs, everything else carried by the
 * driver's checkpoint during the stun (docs/migration.md, "Pre-copy on the
 * driver path").
 *
 *   gpuvisor-ckpt precopy PGID --bulk SOCK [--map GPU-OLD=GPU-NEW]...
 *       [--to-device GPU-UUID] [--mode precopy|stopcopy]
 *       [--downtime-limit-ms N] [--max-rounds N] [--timeout-ms N]
 *       [--stun-fixed-ms N] [--keep-fd N]
 *
 * --keep-fd N: a SOCK_SEQPACKET socket on which the caller gets its own
 * descriptors of the source regions before the release, and the phases
 * "restoring" and "restored" of the driver's restore (keep_source): with
 * them it can map the bulk back when this process dies in the switch.
 *
 * --stun-fixed-ms: the caller's estimate of the stun's cost beyond the
 * bulk's final hash and dirty copy (the driver's phases and the shim's
 * stop, release and map, as measured in an earlier move), counted in the
 * engine's expected downtime against the limit.
 *
 * The engine (migrate.h) drives an endpoint made of two halves: the
 * workload's shim over its bulk control socket (list, export, stop,
 * release, map, go) and this process's own driver context, which imports
 * the bulk's descriptors, creates exportable memory of the same sizes on
 * the destination GPU and copies and hashes there (the hash kernel where
 * it loads, else the CPU). The switch: the shim releases its bulk (this
 * process's imports keep the source memory alive), every CUDA process of
 * the group is locked, checkpointed and restored (onto the destination GPU
 * with --map), then the shim maps the destination memory at the old
 * addresses. Until the shim has the destination mapped, this process and
 * the caller (--keep-fd) hold the only references to the source: a failure
 * before that maps the source back; after a kill -9 of this process the
 * caller maps it back, and without --keep-fd the workload's bulk is lost
 * (the daemon's settle says so).
 *
 * One JSON object on stdout (ckpt.h); exit 0 only when the workload runs
 * on the destination.
 */
#include "ckpt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/fdpass.h"
#include "gpuvisor/migrate.h"
#include "gpuvisor/xfuncs.h"
#include "hashk.h"

#define PC_MAX_DEV 64
#define PC_BATCH 64

struct pc_reg {
	uint64_t id, size;
	int sdev, ddev; /* this process's ordinals */
	int src_fd;	/* the shim's export: kept to map the source back */
	CUmemGenericAllocationHandle sh, dh;
	CUdeviceptr sva, dva;
	bool smapped, dmade;
};

struct pc {
	struct ckpt_drv d;
	struct bulkc *c;
	int pgid;
	unsigned timeout_ms;
	int to_dev; /* -1: each region stays on its GPU */
	CUcheckpointGpuPair pairs[CKPT_MAX_PAIRS];
	unsigned n_pairs;

	struct pc_reg *r;
	size_t n, cap;

	int ndev;
	CUcontext ctx[PC_MAX_DEV];
	CUstream st[PC_MAX_DEV];
	struct gv_hashk *hk[PC_MAX_DEV];
	bool hk_off;  /* the kernel did not load somewhere: the CPU hashes */
	bool hk_used; /* a hash came from the kernel (the answer's "hash") */
	unsigned char *stage;
	size_t stage_len;

	bool stopped, released, switched;
	int keep;	   /* --keep-fd: the caller's copies of the source, or -1 */
	const char *state; /* where the workload is: the answer's "state" */
	int pids[CKPT_MAX_PIDS], npids;
	double drv_ms[4], stop_ms, release_ms, map_ms;
};

#define CK(call, what)                                                                      \
	do {                                                                                \
		CUresult cr_ = (call);                                                      \
		if (cr_ != CUDA_SUCCESS) {                                                  \
			rc = gv_err_set(err, EIO, "%s: %s", what, ckpt_ename(&pc->d, cr_)); \
			goto out;                                                           \
		}                                                                           \
	} while (0)

static struct pc_reg *reg_find(struct pc *pc, uint64_t id)
{
	for (size_t i = 0; i < pc->n; i++)
		if (pc->r[i].id == id)
			return &pc->r[i];
	return NULL;
}

/* The ordinal of the GPU with these UUID bytes, -1 when none. */
static int dev_of(struct pc *pc, const CUuuid *want)
{
	CUuuid u;

	for (int i = 0; i < pc->ndev; i++) {
		CUdevice dev;

		if (pc->d.device_get(&dev, i) == CUDA_SUCCESS &&
		    pc->d.device_get_uuid(&u, dev) == CUDA_SUCCESS &&
		    !memcmp(u.bytes, want->bytes, sizeof(u.bytes)))
			return i;
	}
	return -1;
}

/* The ordinal of the GPU named by uuid ("GPU-..."), -1 when none. */
static int dev_by_uuid(struct pc *pc, const char *uuid)
{
	CUuuid want;

	return ckpt_parse_uuid(uuid, &want) ? -1 : dev_of(pc, &want);
}

/* dev's primary context, current on this thread, with a stream and (where
 * it loads) the hash kernel. */
static int use_dev(struct pc *pc, int dev, struct gv_err *err)
{
	CUdevice h;
	int rc = 0;

	if (dev < 0 || dev >= pc->ndev || dev >= PC_MAX_DEV)
		return gv_err_set(err, ENODEV, "no device %d", dev);
	if (!pc->ctx[dev]) {
		const struct gv_hashk_drv hd = {
			.module_load_data = pc->d.module_load_data,
			.module_get_function = pc->d.module_get_function,
			.module_unload = pc->d.module_unload,
			.launch_kernel = pc->d.launch_kernel,
			.mem_alloc = pc->d.mem_alloc,
			.mem_free = pc->d.mem_free,
			.memcpy_dtoh_async = pc->d.memcpy_dtoh_async,
			.stream_synchronize = pc->d.stream_sync,
		};
		struct gv_err he = { 0 };

		CK(pc->d.device_get(&h, dev), "cuDeviceGet");
		CK(pc->d.primary_retain(&pc->ctx[dev], h), "cannot open a context on the GPU");
		CK(pc->d.ctx_set_current(pc->ctx[dev]), "cuCtxSetCurrent");
		CK(pc->d.stream_create(&pc->st[dev], CU_STREAM_NON_BLOCKING), "cuStreamCreate");
		if (!pc->hk_off && gv_hashk_new(&hd, &pc->hk[dev], &he) != 0)
			pc->hk_off = true; /* libcudasim, or no kernel image in this build */
		return 0;
	}
	CK(pc->d.ctx_set_current(pc->ctx[dev]), "cuCtxSetCurrent");
out:
	return rc;
}

static CUmemAllocationProp bulk_prop(int dev)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = dev;
	p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return p;
}

/* Maps handle h (size bytes) at a range of its own, read-write for dev. */
static int map_here(struct pc *pc, CUmemGenericAllocationHandle h, uint64_t size, int dev,
		    CUdeviceptr *va, struct gv_err *err)
{
	CUmemAccessDesc a = { .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE, .id = dev },
			      .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUmemAllocationProp p = bulk_prop(dev);
	size_t gran = 0;
	int rc = 0;

	*va = 0;
	CK(pc->d.granularity(&gran, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM), "granularity");
	CK(pc->d.addr_reserve(va, size, gran, 0, 0), "cannot reserve an address range");
	CK(pc->d.mem_map(*va, size, 0, h, 0), "cannot map the memory");
	if (pc->d.set_access(*va, size, &a, 1) != CUDA_SUCCESS) {
		pc->d.mem_unmap(*va, size);
		rc = gv_err_set(err, EIO, "cannot give the device access to the memory");
	}
out:
	if (rc && *va) {
		pc->d.addr_free(*va, size);
		*va = 0;
	}
	return rc;
}

static void unmap_here(struct pc *pc, CUdeviceptr va, uint64_t size)
{
	if (!va)
		return;
	pc->d.mem_unmap(va, size);
	pc->d.addr_free(va, size);
}

/* ------------------------------------------------------------ the shim */

static int shim_call(struct pc *pc, const char *req, const int *fds, size_t n_fds, json_t **ans,
		     int *fds_out, size_t cap, size_t *n_out, struct gv_err *err)
{
	json_t *j = NULL;
	int rc = bulkc_call(pc->c, req, fds, n_fds, &j, fds_out, cap, n_out);

	if (rc)
		return gv_err_set(err, -rc, "%s", ckpt_err);
	if (ans)
		*ans = j;
	else
		json_decref(j);
	return 0;
}

/* Gives the shim region memory to map, in batches: the destination's
 * (exported now) or the source's (the descriptors it gave). */
static int shim_map(struct pc *pc, bool dst, struct gv_err *err)
{
	double t0 = ckpt_now_ms();
	int rc = 0;

	for (size_t i = 0; i < pc->n && !rc;) {
		int fds[PC_BATCH];
		size_t k = 0, b;
		char req[64 + PC_BATCH * 24], *p = req;

		p += sprintf(p, "{\"op\":\"map\",\"ids\":[");
		for (b = 0; i < pc->n && b < PC_BATCH; i++) {
			struct pc_reg *r = &pc->r[i];
			int fd = -1;

			if (!r->smapped && !r->dmade)
				continue; /* never imported: the shim still has it */
			if (dst) {
				if (pc->d.mem_export(&fd, r->dh,
						     CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
						     0) != CUDA_SUCCESS) {
					rc = gv_err_set(
						err, EIO,
						"cannot export the destination of region %" PRIu64,
						r->id);
					break;
				}
			} else {
				fd = r->src_fd;
			}
			fds[k++] = fd;
			p += sprintf(p, "%s%" PRIu64, b ? "," : "", r->id);
			b++;
		}
		sprintf(p, "]}");
		if (!rc && k)
			rc = shim_call(pc, req, fds, k, NULL, NULL, 0, NULL, err);
		for (size_t q = 0; dst && q < k; q++)
			close(fds[q]); /* the shim got its own copies */
	}
	pc->map_ms = ckpt_now_ms() - t0;
	return rc;
}

/* Where the memory of the workload's GPU uuid (this process's ordinal
 * sdev) goes: the --map pair that names it (a workload on several GPUs
 * moves each to its own), else --to-device, else its own GPU. */
static int dst_dev(struct pc *pc, const char *uuid, int sdev)
{
	CUuuid u;

	if (ckpt_parse_uuid(uuid, &u) == 0)
		for (unsigned i = 0; i < pc->n_pairs; i++)
			if (!memcmp(pc->pairs[i].oldUuid.bytes, u.bytes, sizeof(u.bytes)))
				return dev_of(pc, &pc->pairs[i].newUuid);
	return pc->to_dev >= 0 ? pc->to_dev : sdev;
}

/* ------------------------------------------------- the engine's endpoint */

static int list_regions(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
			struct gv_err *err)
{
	struct pc *pc = ctx;
	json_t *ans = NULL, *bulk, *e;
	size_t i, k = 0;
	int rc;

	rc = shim_call(pc, "{\"op\":\"list\"}", NULL, 0, &ans, NULL, 0, NULL, err);
	if (rc)
		return rc;
	bulk = json_object_get(ans, "bulk");
	if (!json_is_array(bulk)) {
		json_decref(ans);
		return gv_err_set(err, EPROTO, "the shim's bulk list has no \"bulk\" array");
	}
	json_array_foreach(bulk, i, e) {
		json_int_t id = json_integer_value(json_object_get(e, "id"));
		json_int_t size = json_integer_value(json_object_get(e, "size"));
		const char *uuid = json_string_value(json_object_get(e, "device"));
		struct pc_reg *r;

		if (id <= 0 || size <= 0 || !uuid) {
			json_decref(ans);
			return gv_err_set(err, EPROTO, "a bad entry in the shim's bulk list");
		}
		r = reg_find(pc, (uint64_t)id);
		if (!r) {
			int sdev = dev_by_uuid(pc, uuid);

			if (sdev < 0) {
				json_decref(ans);
				return gv_err_set(err, ENODEV,
						  "the workload's GPU %s is not visible to the "
						  "helper",
						  uuid);
			}
			if (pc->n == pc->cap) {
				size_t ncap = pc->cap ? pc->cap * 2 : 64;
				struct pc_reg *t = gv_xrealloc(err, pc->r, ncap * sizeof(*t));

				if (!t) {
					json_decref(ans);
					return -ENOMEM;
				}
				pc->r = t;
				pc->cap = ncap;
			}
			r = &pc->r[pc->n++];
			memset(r, 0, sizeof(*r));
			r->id = (uint64_t)id;
			r->size = (uint64_t)size;
			r->sdev = sdev;
			r->ddev = dst_dev(pc, uuid, sdev);
			if (r->ddev < 0) {
				pc->n--;
				json_decref(ans);
				return gv_err_set(err, ENODEV,
						  "the destination of the workload's GPU %s is not "
						  "visible to the helper",
						  uuid);
			}
			r->src_fd = -1;
		}
		if (k < cap) {
			out[k].id = r->id;
			out[k].size = r->size;
		}
		k++;
	}
	json_decref(ans);
	*count = k;
	return 0;
}

/* The source region, imported and mapped here on first use. */
static int src_import(struct pc *pc, struct pc_reg *r, struct gv_err *err)
{
	char req[64];
	json_t *ans = NULL;
	size_t got = 0;
	int fd = -1, rc;

	if (r->smapped)
		return 0;
	snprintf(req, sizeof(req), "{\"op\":\"export\",\"ids\":[%" PRIu64 "]}", r->id);
	rc = shim_call(pc, req, NULL, 0, &ans, &fd, 1, &got, err);
	json_decref(ans);
	if (rc == -EIO)
		return gv_err_set(err, ENOENT, "region %" PRIu64 " was freed", r->id);
	if (rc)
		return rc;
	if (got != 1)
		return gv_err_set(err, EPROTO, "the shim sent no descriptor for region %" PRIu64,
				  r->id);
	rc = use_dev(pc, r->sdev, err);
	if (rc)
		goto out;
	if (pc->d.mem_import(&r->sh, (void *)(uintptr_t)fd,
			     CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) != CUDA_SUCCESS) {
		rc = gv_err_set(err, EIO, "cannot import region %" PRIu64 " of the workload",
				r->id);
		goto out;
	}
	rc = map_here(pc, r->sh, r->size, r->sdev, &r->sva, err);
	if (rc) {
		pc->d.mem_release(r->sh);
		r->sh = 0;
		goto out;
	}
	r->src_fd = fd;
	fd = -1;
	r->smapped = true;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static void src_drop(struct pc *pc, struct pc_reg *r)
{
	if (r->smapped) {
		unmap_here(pc, r->sva, r->size);
		pc->d.mem_release(r->sh);
		r->smapped = false;
	}
	if (r->src_fd >= 0)
		close(r->src_fd);
	r->src_fd = -1;
}

static void dst_unmake(struct pc *pc, struct pc_reg *r)
{
	if (!r->dmade)
		return;
	unmap_here(pc, r->dva, r->size);
	pc->d.mem_release(r->dh);
	r->dmade = false;
}

static int dst_create(void *ctx, uint64_t id, uint64_t size, struct gv_err *err)
{
	struct pc *pc = ctx;
	struct pc_reg *r = reg_find(pc, id);
	CUmemAllocationProp p;
	int rc;

	if (!r || r->size != size)
		return gv_err_set(err, ENOENT, "region %" PRIu64 " is not listed", id);
	rc = src_import(pc, r, err);
	if (!rc)
		rc = use_dev(pc, r->ddev, err);
	if (rc)
		return rc;
	p = bulk_prop(r->ddev);
	if (pc->d.mem_create(&r->dh, size, &p, 0) != CUDA_SUCCESS)
		return gv_err_set(err, ENOMEM,
				  "no room for %" PRIu64 " bytes on the destination GPU", size);
	rc = map_here(pc, r->dh, size, r->ddev, &r->dva, err);
	if (rc) {
		pc->d.mem_release(r->dh);
		r->dh = 0;
		return rc;
	}
	r->dmade = true;
	/* Written once now, outside the copies: the simulator backs memory at
	 * its first touch (a page fault and a cleared page each), which would
	 * otherwise count as copy time in the rate the floor is computed from;
	 * on a GPU a memset at memory speed. */
	if (pc->d.memset_d8_async(r->dva, 0, size, pc->st[r->ddev]) != CUDA_SUCCESS ||
	    pc->d.stream_sync(pc->st[r->ddev]) != CUDA_SUCCESS) {
		dst_unmake(pc, r);
		return gv_err_set(err, EIO, "cannot clear the destination of region %" PRIu64, id);
	}
	return 0;
}

static int dst_destroy(void *ctx, uint64_t id, struct gv_err *err)
{
	struct pc *pc = ctx;
	struct pc_reg *r = reg_find(pc, id);

	(void)err;
	if (!r)
		return 0;
	dst_unmake(pc, r);
	/* a region the workload freed: its source goes too (before the
	 * release the shim still maps its own) */
	if (!pc->released) {
		src_drop(pc, r);
		*r = pc->r[--pc->n];
	}
	return 0;
}

static int stage_for(struct pc *pc, uint64_t n, struct gv_err *err)
{
	if (n <= pc->stage_len)
		return 0;
	free(pc->stage);
	pc->stage = malloc(n);
	pc->stage_len = pc->stage ? n : 0;
	return pc->stage ? 0 : gv_err_set(err, ENOMEM, "no staging buffer");
}

/* Hashes chunks of one side (dst false: the source) into out. */
static int hash_side(struct pc *pc, struct pc_reg *r, bool dst, uint64_t cs, uint64_t first,
		     uint64_t count, struct gv_chunk_hash *out, struct gv_err *err)
{
	int dev = dst ? r->ddev : r->sdev, rc;
	CUdeviceptr va = dst ? r->dva : r->sva;

	rc = use_dev(pc, dev, err);
	if (rc)
		return rc;
	if (!pc->hk_off && pc->hk[dev]) {
		rc = gv_hashk_range(pc->hk[dev], pc->st[dev], va, r->size, cs, first, count, out,
				    err);
		if (rc != -ENOTSUP) {
			pc->hk_used |= rc == 0;
			return rc;
		}
		rc = 0;
	}
	rc = stage_for(pc, cs, err);
	for (uint64_t i = first; !rc && i < first + count; i++) {
		uint64_t off = i * cs, n = gv_chunkhash_chunk_len(r->size, cs, i);

		CK(pc->d.memcpy_dtoh_async(pc->stage, va + off, n, pc->st[dev]), "read for a hash");
		CK(pc->d.stream_sync(pc->st[dev]), "read for a hash");
		out[i - first] = gv_chunkhash_one(pc->stage, n);
	}
out:
	return rc;
}

static int src_hash(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		    struct gv_chunk_hash *out, struct gv_err *err)
{
	struct pc *pc = ctx;
	struct pc_reg *r = reg_find(pc, id);
	int rc;

	if (!r)
		return gv_err_set(err, ENOENT, "region %" PRIu64 " was freed", id);
	rc = src_import(pc, r, err);
	return rc ? rc : hash_side(pc, r, false, cs, first, count, out, err);
}

static int copy(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		struct gv_chunk_hash *out, struct gv_err *err)
{
	struct pc *pc = ctx;
	struct pc_reg *r = reg_find(pc, id);
	uint64_t off = first * cs, n = 0;
	int rc = 0;

	if (!r || !r->dmade)
		return gv_err_set(err, ENOENT, "region %" PRIu64 " was freed", id);
	for (uint64_t i = first; i < first + count; i++)
		n += gv_chunkhash_chunk_len(r->size, cs, i);
	if (r->sdev == r->ddev) {
		/* one GPU: at its memory's speed */
		rc = use_dev(pc, r->sdev, err);
		if (rc)
			return rc;
		CK(pc->d.memcpy_dtod_async(r->dva + off, r->sva + off, n, pc->st[r->sdev]),
		   "copy to the destination");
		CK(pc->d.stream_sync(pc->st[r->sdev]), "copy to the destination");
		return out ? hash_side(pc, r, true, cs, first, count, out, err) : 0;
	}
	/* Between two GPUs, through the host: a peer copy between VMM
	 * mappings is unproven here (the lent device has one GPU). */
	rc = stage_for(pc, cs, err);
	for (uint64_t i = first; !rc && i < first + count; i++) {
		uint64_t o = i * cs, k = gv_chunkhash_chunk_len(r->size, cs, i);

		rc = use_dev(pc, r->sdev, err);
		if (rc)
			break;
		CK(pc->d.memcpy_dtoh_async(pc->stage, r->sva + o, k, pc->st[r->sdev]),
		   "copy from the source");
		CK(pc->d.stream_sync(pc->st[r->sdev]), "copy from the source");
		rc = use_dev(pc, r->ddev, err);
		if (rc)
			break;
		CK(pc->d.memcpy_htod_async(r->dva + o, pc->stage, k, pc->st[r->ddev]),
		   "copy to the destination");
		CK(pc->d.stream_sync(pc->st[r->ddev]), "copy to the destination");
		if (out)
			out[i - first] = gv_chunkhash_one(pc->stage, k);
	}
out:
	return rc;
}

static int stun(void *ctx, struct gv_err *err)
{
	struct pc *pc = ctx;
	double t0 = ckpt_now_ms();
	char req[64];
	int rc;

	snprintf(req, sizeof(req), "{\"op\":\"stop\",\"timeout_ms\":%u}", pc->timeout_ms);
	rc = shim_call(pc, req, NULL, 0, NULL, NULL, 0, NULL, err);
	if (!rc)
		pc->stopped = true;
	pc->stop_ms = ckpt_now_ms() - t0;
	return rc;
}

/* After the release, nothing but this process holds the source: give it
 * back to the shim. */
/* One message to the caller on the --keep-fd socket (SOCK_SEQPACKET: one
 * message per send). The caller holds what it gets even if this process is
 * killed before it reads (the socket's queue holds the descriptors): a
 * failed send leaves the move as it would be without a caller's copies. */
static void keep_send(struct pc *pc, const char *msg, const int *fds, size_t n)
{
	if (pc->keep >= 0 && gv_fdpass_send(pc->keep, msg, strlen(msg), fds, n) < 0) {
		close(pc->keep);
		pc->keep = -1;
	}
}

/* Before the release: the caller gets its own descriptors of the source
 * regions, {"keep":[ids]} in batches, so that a kill -9 of this process
 * while it holds the only references (between the release and the map)
 * does not lose the workload's bulk: the caller maps them back. */
static void keep_source(struct pc *pc)
{
	for (size_t i = 0; pc->keep >= 0 && i < pc->n;) {
		int fds[PC_BATCH];
		size_t k = 0;
		char msg[32 + PC_BATCH * 24], *p = msg;

		p += sprintf(p, "{\"keep\":[");
		for (; i < pc->n && k < PC_BATCH; i++) {
			if (pc->r[i].src_fd < 0)
				continue;
			p += sprintf(p, "%s%" PRIu64, k ? "," : "", pc->r[i].id);
			fds[k++] = pc->r[i].src_fd;
		}
		sprintf(p, "]}");
		if (k)
			keep_send(pc, msg, fds, k);
	}
}

static void give_source_back(struct pc *pc, struct gv_err *err)
{
	struct gv_err e = { 0 };

	if (shim_map(pc, false, &e) == 0) {
		pc->released = false;
		pc->state = "source";
		return;
	}
	pc->state = "lost";
	gv_err_prefix(err, "the workload's bulk memory could not be mapped back (%s), ", e.msg);
}

static int switch_over(void *ctx, struct gv_err *err)
{
	struct pc *pc = ctx;
	CUprocessState st[CKPT_MAX_PIDS];
	double t0 = ckpt_now_ms();
	int rc;

	/* every region imported: the shim must not be left with one that
	 * nothing holds after its release */
	for (size_t i = 0; i < pc->n; i++) {
		rc = src_import(pc, &pc->r[i], err);
		if (rc)
			return rc;
	}
	keep_source(pc);
	rc = shim_call(pc, "{\"op\":\"release\"}", NULL, 0, NULL, NULL, 0, NULL, err);
	if (rc)
		return rc;
	pc->released = true;
	pc->release_ms = ckpt_now_ms() - t0;
	ckpt_fault_point("after-release");
	rc = ckpt_group_pids(&pc->d, pc->pgid, pc->pids, st, &pc->npids);
	if (!rc && pc->npids == 0)
		rc = ckpt_fail(-ESRCH, "no process of group %d is known to the CUDA driver",
			       pc->pgid);
	if (!rc)
		rc = ckpt_suspend(&pc->d, pc->pids, st, pc->npids, pc->timeout_ms, pc->drv_ms);
	if (rc) {
		/* ckpt_suspend undid itself: the processes run as before */
		gv_err_set(err, -rc, "%s", ckpt_err);
		give_source_back(pc, err);
		return rc;
	}
	/* the caller must know whether the processes may be on the
	 * destination's GPUs, which "restoring" without "restored" leaves open */
	keep_send(pc, "{\"phase\":\"restoring\"}", NULL, 0);
	ckpt_fault_point("before-restore");
	rc = ckpt_resume(&pc->d, pc->pids, pc->npids, pc->pairs, pc->n_pairs, pc->drv_ms);
	if (!rc)
		keep_send(pc, "{\"phase\":\"restored\"}", NULL, 0);
	if (rc) {
		char why[sizeof(ckpt_err)];

		snprintf(why, sizeof(why), "%s", ckpt_err);
		/* where it was: the source memory is still there */
		if (pc->n_pairs &&
		    ckpt_resume(&pc->d, pc->pids, pc->npids, NULL, 0, pc->drv_ms) == 0) {
			gv_err_set(err, EIO, "%s; restored where it was", why);
			give_source_back(pc, err);
		} else {
			pc->state = "checkpointed";
			gv_err_set(err, EIO, "%s; the workload stays checkpointed", why);
		}
		return -EIO;
	}
	ckpt_fault_point("after-restore-precopy");
	rc = shim_map(pc, true, err);
	if (rc) {
		pc->state = "lost";
		gv_err_prefix(err, "restored on the destination, but its bulk memory cannot be "
				   "mapped there: ");
		return rc;
	}
	pc->released = false;
	pc->switched = true;
	pc->state = "destination";
	return 0;
}

static void resume(void *ctx)
{
	struct pc *pc = ctx;
	struct gv_err e = { 0 };

	if (!pc->stopped || pc->released)
		return; /* a released bulk that could not come back: it stays stopped */
	if (shim_call(pc, "{\"op\":\"go\"}", NULL, 0, NULL, NULL, 0, NULL, &e) == 0)
		pc->stopped = false;
}

static int src_release(void *ctx, struct gv_err *err)
{
	struct pc *pc = ctx;

	(void)err;
	for (size_t i = 0; i < pc->n; i++)
		src_drop(pc, &pc->r[i]);
	return 0;
}

static const struct gv_mig_ops pc_ops = {
	.list_regions = list_regions,
	.dst_create = dst_create,
	.dst_destroy = dst_destroy,
	.src_hash = src_hash,
	.copy = copy,
	.stun = stun,
	.switch_over = switch_over,
	.resume = resume,
	.src_release = src_release,
};

/* ------------------------------------------------------------ the verb */

static void pc_free(struct pc *pc)
{
	for (size_t i = 0; i < pc->n; i++) {
		struct pc_reg *r = &pc->r[i];

		src_drop(pc, r);
		/* after the switch the workload's imports hold the memory */
		dst_unmake(pc, r);
	}
	for (int i = 0; i < pc->ndev && i < PC_MAX_DEV; i++) {
		if (!pc->ctx[i])
			continue;
		pc->d.ctx_set_current(pc->ctx[i]);
		gv_hashk_free(pc->hk[i]);
		if (pc->st[i])
			pc->d.stream_destroy(pc->st[i]);
	}
	free(pc->r);
	free(pc->stage);
	bulkc_close(pc->c);
}

static double rate_gbps(uint64_t bps)
{
	return (double)bps / 1e9;
}

/* The stun this migration could not beat: the whole bulk hashed once,
 * what was dirty copied, at the rates measured in this run, plus what the
 * driver and the shim took to carry the rest. */
static double floor_ms(const struct pc *pc, const struct gv_mig_report *rep)
{
	double f = pc->drv_ms[0] + pc->drv_ms[1] + pc->drv_ms[2] + pc->drv_ms[3] + pc->release_ms +
		   pc->map_ms;

	if (rep->hash_rate_bps && rep->mode == GV_MIG_PRECOPY)
		f += (double)rep->bytes_total * 1e3 / (double)rep->hash_rate_bps;
	if (rep->bandwidth_bps)
		f += (double)rep->bytes_stun * 1e3 / (double)rep->bandwidth_bps;
	return f;
}

static int usage(void)
{
	fprintf(stderr, "usage: gpuvisor-ckpt precopy PGID --bulk SOCK [--map GPU-OLD=GPU-NEW]...\n"
			"           [--to-device GPU-UUID] [--mode precopy|stopcopy]\n"
			"           [--downtime-limit-ms N] [--max-rounds N] [--timeout-ms N]\n"
			"           [--stun-fixed-ms N] [--keep-fd N]\n");
	return 2;
}

static int parse_u(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || !*s || s[0] == '-' || *out > max ? -EINVAL : 0;
}

int ckpt_precopy_main(int pgid, int argc, char **argv)
{
	struct pc pc = {
		.pgid = pgid, .timeout_ms = 30000, .to_dev = -1, .keep = -1, .state = "source"
	};
	struct gv_mig_config cfg;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	const char *bulk = NULL, *to = NULL;
	unsigned long v;
	json_t *o;
	char *txt;
	int rc = 0;

	gv_mig_config_default(&cfg);
	for (int a = 0; a < argc; a += 2) {
		if (a + 1 >= argc)
			return usage();
		if (!strcmp(argv[a], "--bulk")) {
			bulk = argv[a + 1];
		} else if (!strcmp(argv[a], "--to-device")) {
			to = argv[a + 1];
		} else if (!strcmp(argv[a], "--map") && pc.n_pairs < CKPT_MAX_PAIRS) {
			if (ckpt_parse_pair(argv[a + 1], &pc.pairs[pc.n_pairs++]))
				return usage();
		} else if (!strcmp(argv[a], "--mode")) {
			if (gv_mig_mode_parse(argv[a + 1], &cfg.mode, &err))
				return usage();
		} else if (!strcmp(argv[a], "--downtime-limit-ms")) {
			if (parse_u(argv[a + 1], 3600000, &v))
				return usage();
			cfg.downtime_limit_ns = (uint64_t)v * 1000000;
		} else if (!strcmp(argv[a], "--keep-fd")) {
			if (parse_u(argv[a + 1], 1 << 20, &v) || v < 3)
				return usage();
			pc.keep = (int)v;
		} else if (!strcmp(argv[a], "--stun-fixed-ms")) {
			if (parse_u(argv[a + 1], 3600000, &v))
				return usage();
			cfg.stun_fixed_ns = (uint64_t)v * 1000000;
		} else if (!strcmp(argv[a], "--max-rounds")) {
			if (parse_u(argv[a + 1], GV_MIG_ROUNDS_MAX, &v) || !v)
				return usage();
			cfg.max_rounds = (unsigned)v;
		} else if (!strcmp(argv[a], "--timeout-ms")) {
			if (parse_u(argv[a + 1], 3600000, &v) || !v)
				return usage();
			pc.timeout_ms = (unsigned)v;
		} else {
			return usage();
		}
	}
	if (!bulk || !rep)
		return usage();
	rc = ckpt_drv_load(&pc.d, true);
	if (!rc && pc.d.device_get_count(&pc.ndev) != CUDA_SUCCESS)
		rc = ckpt_fail(-EIO, "the driver counts no GPU");
	if (!rc && to && (pc.to_dev = dev_by_uuid(&pc, to)) < 0)
		rc = ckpt_fail(-ENODEV, "the destination GPU %s is not visible to the helper", to);
	if (!rc)
		rc = bulkc_open(bulk, pgid, &pc.c);
	if (rc) {
		gv_err_set(&err, -rc, "%s", ckpt_err);
		goto out;
	}
	ckpt_fault_point("precopy-start");
	rc = gv_mig_run(&cfg, &pc_ops, &pc, rep, &err);
	if (!rc)
		pc.state = "destination";
out:
	o = json_pack("{s:b, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "ok", rc == 0, "state",
		      pc.state, "lock_ms", pc.drv_ms[0], "checkpoint_ms", pc.drv_ms[1],
		      "restore_ms", pc.drv_ms[2], "unlock_ms", pc.drv_ms[3], "stop_ms", pc.stop_ms,
		      "release_ms", pc.release_ms, "map_ms", pc.map_ms);
	if (o) {
		json_t *pids = json_array();
		uint64_t bytes = 0;

		for (int i = 0; i < pc.npids; i++)
			json_array_append_new(pids, json_integer(pc.pids[i]));
		json_object_set_new(o, "pids", pids);
		for (size_t i = 0; i < pc.n; i++)
			bytes += pc.r[i].size;
		json_object_set_new(o, "bulk_bytes", json_integer((json_int_t)bytes));
		json_object_set_new(o, "bulk_regions", json_integer((json_int_t)pc.n));
		json_object_set_new(o, "hash", json_string(pc.hk_used ? "gpu" : "cpu"));
		if (rep && rep->result != GV_MIG_NONE) {
			json_object_set_new(o, "floor_ms", json_real(floor_ms(&pc, rep)));
			json_object_set_new(o, "hash_gbps",
					    json_real(rate_gbps(rep->hash_rate_bps)));
			json_object_set_new(o, "copy_gbps",
					    json_real(rate_gbps(rep->bandwidth_bps)));
			json_object_set_new(o, "report", gv_mig_report_to_json(rep));
		}
		if (rc)
			json_object_set_new(o, "error",
					    json_string(err.msg[0] ? err.msg : ckpt_err));
	}
	txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
	printf("%s\n", txt ? txt : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(txt);
	json_decref(o);
	pc_free(&pc);
	gv_mig_report_free(rep);
	return rc ? 1 : 0;
}

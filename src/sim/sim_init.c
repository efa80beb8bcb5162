/* cuInit: which simulated devices exist, and their memory.
 *
 * Devices come from the node description at $GPUVISOR_SIM_NODE, else from
 * the $GPUVISOR_SIM_MODELS spec ("h100-80gb:2"), else one h100-80gb. A GPU
 * in MIG mode is seen as its first MIG instance, as CUDA does without
 * CUDA_VISIBLE_DEVICES; CUDA_VISIBLE_DEVICES selects by index, GPU- or MIG-
 * UUID (or a unique UUID prefix) and, as in CUDA, enumeration stops at the
 * first entry that names nothing.
 *
 * Each device's memory is one MAP_NORESERVE reservation of its full size at
 * a fixed address (SIM_DEV_BASE + ordinal TiB, when free), so an 80 GB
 * device costs what is touched and pointers are stable between runs. Its
 * use is accounted across processes in a gv_acct file named after the node
 * file's real path and the device UUID (in $GPUVISOR_SIM_SHM_DIR, default
 * /dev/shm): every process simulating the same GPU shares one budget.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpuvisor/catalog.h"
#include "sim_internal.h"

#define SIM_DEV_BASE 0x200000000000ull
#define SIM_DEV_STRIDE (1ull << 40)

struct sim_state sim_g;
static atomic_bool sim_init_called;
static pthread_once_t sim_once = PTHREAD_ONCE_INIT;

static void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sim_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "libcudasim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A candidate device before CUDA_VISIBLE_DEVICES filtering. */
struct cand {
	const struct gv_gpu_info *gpu;
	const struct gv_mig_inst *mig; /* NULL: the whole GPU */
};

static void uuid_bytes(const char *uuid, CUuuid *out)
{
	const char *p = strchr(uuid, '-');
	int n = 0;

	memset(out, 0, sizeof(*out));
	for (p = p ? p + 1 : uuid; *p && n < 32; p++) {
		int v;

		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			continue;
		out->bytes[n / 2] = (char)(out->bytes[n / 2] | (v << ((n % 2) ? 0 : 4)));
		n++;
	}
}

static void compute_capability(const char *model, int *major, int *minor)
{
	*minor = 0;
	if (!strncmp(model, "b", 1) || !strncmp(model, "gb", 2))
		*major = 10;
	else if (!strncmp(model, "h", 1) || !strncmp(model, "gh", 2))
		*major = 9;
	else if (!strncmp(model, "l4", 2)) {
		*major = 8;
		*minor = 9;
	} else if (!strncmp(model, "a10", 3) && strncmp(model, "a100", 4)) {
		*major = 8;
		*minor = 6;
	} else if (!strncmp(model, "a40", 3) || !strncmp(model, "a16", 3)) {
		*major = 8;
		*minor = 6;
	} else
		*major = 8;
}

/* Fills d's identity from candidate c and opens its accounting file (shared
 * by every process simulating that GPU) and execution lock. */
static int dev_ident_setup(struct sim_dev_ident *d, const struct cand *c, const char *node_path)
{
	const struct gv_gpu_info *g = c->gpu;
	const struct gv_model *m = g->model;
	char path[PATH_MAX + 64];
	struct gv_err err = { 0 };
	struct sim_dev tmp;

	memset(d, 0, sizeof(*d));
	if (c->mig) {
		const struct gv_profile *p = c->mig->profile;

		snprintf(d->uuid, sizeof(d->uuid), "%s", c->mig->uuid);
		snprintf(d->name, sizeof(d->name), "%s MIG %s", g->name, p->name);
		d->total = p->fb_mib * SIM_MIB;
		d->sms = p->sms;
		if (!d->sms && m && m->mig_compute_slices)
			d->sms = m->sms * p->compute_slices / m->mig_compute_slices;
		d->is_mig = true;
	} else {
		snprintf(d->uuid, sizeof(d->uuid), "%s", g->uuid);
		snprintf(d->name, sizeof(d->name), "%s", g->name);
		d->total = g->mem_mib * SIM_MIB;
		d->sms = m ? m->sms : 0;
	}
	if (d->sms <= 0)
		d->sms = 1;
	snprintf(d->model, sizeof(d->model), "%s", m ? m->id : "");
	compute_capability(m ? m->id : "", &d->cc_major, &d->cc_minor);
	uuid_bytes(d->uuid, &d->uuid_bytes);
	snprintf(d->pci_bus_id, sizeof(d->pci_bus_id), "%s", g->pci_bus_id);
	d->pci_bus = 0x10 + g->index;
	d->pci_device_id = g->pci_device_id;

	if (gv_acct_sim_path(node_path, d->uuid, path, sizeof(path)) < 0) {
		sim_log("device memory accounting: path too long");
		return -ENAMETOOLONG;
	}
	if (gv_acct_open_or_create(path, d->total, &d->acct, &err) < 0) {
		sim_log("device memory accounting: %s", err.msg);
		return -EIO;
	}
	if (gv_acct_limit(d->acct) != d->total) {
		/* the description changed the device's memory: an unused file is
		 * replaced, one in use is not second-guessed */
		if (gv_acct_used(d->acct) != 0) {
			sim_log("%s: accounting file %s is in use with another memory size",
				d->uuid, path);
			goto fail;
		}
		gv_acct_close(d->acct);
		d->acct = NULL;
		unlink(path);
		if (gv_acct_open_or_create(path, d->total, &d->acct, &err) < 0 ||
		    gv_acct_limit(d->acct) != d->total) {
			sim_log("device memory accounting: %s", err.msg[0] ? err.msg : path);
			goto fail;
		}
	}
	memset(&tmp, 0, sizeof(tmp));
	snprintf(tmp.uuid, sizeof(tmp.uuid), "%s", d->uuid);
	sim_exec_open(&tmp, path);
	d->exec = tmp.exec;
	return 0;
fail:
	if (d->acct)
		gv_acct_close(d->acct);
	d->acct = NULL;
	return -EIO;
}

void sim_dev_ident_get(const struct sim_dev *d, struct sim_dev_ident *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->uuid, d->uuid, sizeof(out->uuid));
	out->uuid_bytes = d->uuid_bytes;
	memcpy(out->name, d->name, sizeof(out->name));
	memcpy(out->pci_bus_id, d->pci_bus_id, sizeof(out->pci_bus_id));
	out->pci_bus = d->pci_bus;
	out->pci_device_id = d->pci_device_id;
	out->total = d->total;
	out->sms = d->sms;
	out->cc_major = d->cc_major;
	out->cc_minor = d->cc_minor;
	out->is_mig = d->is_mig;
	memcpy(out->model, d->model, sizeof(out->model));
	out->acct = d->acct;
	out->exec = d->exec;
}

void sim_dev_ident_set(struct sim_dev *d, const struct sim_dev_ident *id)
{
	memcpy(d->uuid, id->uuid, sizeof(d->uuid));
	d->uuid_bytes = id->uuid_bytes;
	memcpy(d->name, id->name, sizeof(d->name));
	memcpy(d->pci_bus_id, id->pci_bus_id, sizeof(d->pci_bus_id));
	d->pci_bus = id->pci_bus;
	d->pci_device_id = id->pci_device_id;
	d->total = id->total;
	d->sms = id->sms;
	d->cc_major = id->cc_major;
	d->cc_minor = id->cc_minor;
	d->is_mig = id->is_mig;
	memcpy(d->model, id->model, sizeof(d->model));
	d->acct = id->acct;
	d->exec = id->exec;
}

void sim_dev_ident_close(struct sim_dev_ident *id)
{
	if (id->acct)
		gv_acct_close(id->acct);
	if (id->exec)
		sim_exec_close(id->exec);
	id->acct = NULL;
	id->exec = NULL;
}

static int dev_setup(struct sim_dev *d, int ordinal, const struct cand *c, const char *node_path)
{
	struct sim_dev_ident id;
	void *want, *mem;

	memset(d, 0, sizeof(*d));
	d->ordinal = ordinal;
	if (dev_ident_setup(&id, c, node_path) < 0)
		return -1;
	sim_dev_ident_set(d, &id);

	want = (void *)(uintptr_t)(SIM_DEV_BASE + (uint64_t)ordinal * SIM_DEV_STRIDE);
	mem = MAP_FAILED;
	if (SIM_FIXED_ADDRESSES)
		mem = mmap(want, d->total, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1,
			   0);
	if (mem == MAP_FAILED)
		mem = mmap(NULL, d->total, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		sim_log("cannot reserve memory for %s: %s", d->uuid, strerror(errno));
		return -1;
	}
	d->mem = mem;
	if (sim_heap_init(&d->heap, (uintptr_t)mem, d->total) < 0)
		return -1;
	pthread_mutex_init(&d->lock, NULL);
	d->pool.dev = d;
	d->pool.magic = 0x504f4f4cu;
	d->pool.release_threshold = 0;
	return 0;
}

/* Index of the candidate an entry of CUDA_VISIBLE_DEVICES names, or -1. */
static int cvd_match(const char *tok, const struct cand *c, int n, const struct cand *all,
		     int n_all, struct cand *extra)
{
	char *end;
	long idx;
	int found = -1;

	if (!*tok)
		return -1;
	if (tok[0] >= '0' && tok[0] <= '9') {
		idx = strtol(tok, &end, 10);
		if (*end || idx < 0 || idx >= n)
			return -1;
		*extra = c[idx];
		return (int)idx;
	}
	/* UUIDs (or a unique prefix): GPU-... a GPU (in MIG mode: its first
	 * instance, as without CUDA_VISIBLE_DEVICES), MIG-... any instance */
	for (int i = 0; i < n_all; i++) {
		const char *u = all[i].mig ? all[i].mig->uuid : all[i].gpu->uuid;
		bool hit = !strncasecmp(u, tok, strlen(tok));

		if (!hit && all[i].mig && all[i].mig == &all[i].gpu->mig[0])
			hit = !strncasecmp(all[i].gpu->uuid, tok, strlen(tok));
		if (!hit)
			continue;
		if (found >= 0)
			return -1; /* ambiguous */
		found = i;
	}
	if (found < 0)
		return -1;
	*extra = all[found];
	return found;
}

static CUresult sim_setup(void)
{
	struct gv_catalog *cat = NULL;
	struct gv_node_desc *node = NULL;
	struct gv_err err = { 0 };
	struct cand def[GV_NODE_MAX_GPUS], all[GV_NODE_MAX_GPUS * (GV_NODE_MAX_MIG + 1)];
	struct cand chosen[GV_NODE_MAX_GPUS];
	int n_def = 0, n_all = 0, n_chosen = 0;
	const char *node_path = getenv("GPUVISOR_SIM_NODE");
	const char *models = getenv("GPUVISOR_SIM_MODELS");
	const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
	CUresult rc = CUDA_ERROR_NO_DEVICE;

	node = calloc(1, sizeof(*node));
	if (!node)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (gv_catalog_load(gv_catalog_default_path(), &cat, &err) < 0) {
		sim_log("catalog: %s", err.msg);
		goto out;
	}
	if (node_path && *node_path) {
		if (gv_node_load(cat, node_path, node, &err) < 0) {
			sim_log("GPUVISOR_SIM_NODE: %s", err.msg);
			goto out;
		}
	} else if (gv_node_from_spec(cat, models && *models ? models : "h100-80gb", node, &err) <
		   0) {
		sim_log("GPUVISOR_SIM_MODELS: %s", err.msg);
		goto out;
	}

	for (int i = 0; i < node->n_gpus; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];

		if (!g->mig_mode) {
			all[n_all++] = (struct cand){ g, NULL };
			def[n_def++] = (struct cand){ g, NULL };
			continue;
		}
		for (int j = 0; j < g->n_mig; j++)
			all[n_all++] = (struct cand){ g, &g->mig[j] };
		if (g->n_mig > 0)
			def[n_def++] = (struct cand){ g, &g->mig[0] };
	}
	if (cvd) {
		char *copy = strdup(cvd), *save = NULL, *tok;

		if (!copy)
			goto out;
		for (tok = strtok_r(copy, ",", &save); tok && n_chosen < GV_NODE_MAX_GPUS;
		     tok = strtok_r(NULL, ",", &save)) {
			struct cand c;
			bool dup = false;

			while (*tok == ' ')
				tok++;
			if (cvd_match(tok, def, n_def, all, n_all, &c) < 0)
				break;
			for (int k = 0; k < n_chosen; k++)
				dup |= chosen[k].gpu == c.gpu && chosen[k].mig == c.mig;
			if (dup)
				break;
			chosen[n_chosen++] = c;
		}
		free(copy);
	} else {
		memcpy(chosen, def, sizeof(def[0]) * (size_t)n_def);
		n_chosen = n_def;
	}
	if (n_chosen == 0)
		goto out;
	for (int i = 0; i < n_chosen; i++) {
		if (dev_setup(&sim_g.devs[i], i, &chosen[i],
			      node_path && *node_path ? node_path : NULL) < 0) {
			rc = CUDA_ERROR_OPERATING_SYSTEM;
			goto out;
		}
		sim_g.n_dev = i + 1;
	}
	rc = CUDA_SUCCESS;
out:
	free(node);
	gv_catalog_free(cat);
	return rc;
}

/* Opens the device whose GPU- or MIG- UUID is uuid, reading the node file
 * again: a MIG instance created after cuInit can be opened (the shim's
 * migration looks a destination up this way, docs/simulator.md). An open
 * device gives its ordinal; a new one gets the next ordinal. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

CUresult sim_dev_open_uuid(const char *uuid, CUdevice *out)
{
	struct gv_catalog *cat = NULL;
	struct gv_node_desc *node = NULL;
	struct gv_err err = { 0 };
	const char *node_path = getenv("GPUVISOR_SIM_NODE");
	CUresult rc = CUDA_ERROR_INVALID_DEVICE;
	struct cand c = { 0 };
	int n;

	pthread_mutex_lock(&open_lock);
	n = __atomic_load_n(&sim_g.n_dev, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (!strcasecmp(sim_g.devs[i].uuid, uuid)) {
			*out = i;
			rc = CUDA_SUCCESS;
			goto out;
		}
	if (!node_path || !*node_path || n >= GV_NODE_MAX_GPUS)
		goto out;
	node = calloc(1, sizeof(*node));
	if (!node || gv_catalog_load(gv_catalog_default_path(), &cat, &err) < 0 ||
	    gv_node_load(cat, node_path, node, &err) < 0)
		goto out;
	for (int i = 0; i < node->n_gpus && !c.gpu; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];

		if (!g->mig_mode && !strcasecmp(g->uuid, uuid))
			c = (struct cand){ g, NULL };
		for (int j = 0; g->mig_mode && j < g->n_mig && !c.gpu; j++)
			if (!strcasecmp(g->mig[j].uuid, uuid))
				c = (struct cand){ g, &g->mig[j] };
	}
	if (!c.gpu)
		goto out;
	if (dev_setup(&sim_g.devs[n], n, &c, node_path) < 0) {
		rc = CUDA_ERROR_OPERATING_SYSTEM;
		goto out;
	}
	__atomic_store_n(&sim_g.n_dev, n + 1, __ATOMIC_RELEASE);
	*out = n;
	rc = CUDA_SUCCESS;
out:
	pthread_mutex_unlock(&open_lock);
	free(node);
	gv_catalog_free(cat);
	return rc;
}

/* Loads the node description as cuInit does (without CUDA_VISIBLE_DEVICES)
 * into *node; cat must be freed by the caller. */
static int node_reload(struct gv_catalog **cat, struct gv_node_desc *node)
{
	struct gv_err err = { 0 };
	const char *node_path = getenv("GPUVISOR_SIM_NODE");
	const char *models = getenv("GPUVISOR_SIM_MODELS");

	*cat = NULL;
	if (gv_catalog_load(gv_catalog_default_path(), cat, &err) < 0)
		return -EIO;
	if (node_path && *node_path)
		return gv_node_load(*cat, node_path, node, &err) < 0 ? -EIO : 0;
	return gv_node_from_spec(*cat, models && *models ? models : "h100-80gb", node, &err) < 0
		       ? -EIO
		       : 0;
}

int sim_dev_ident_probe(const CUuuid *u, struct sim_dev_ident *out)
{
	struct gv_catalog *cat = NULL;
	struct gv_node_desc *node = calloc(1, sizeof(*node));
	const char *node_path = getenv("GPUVISOR_SIM_NODE");
	struct cand c = { 0 };
	CUuuid b;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!node)
		return -ENOMEM;
	rc = node_reload(&cat, node);
	if (rc < 0)
		goto out;
	for (int i = 0; i < node->n_gpus && !c.gpu; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];

		uuid_bytes(g->uuid, &b);
		if (!g->mig_mode && !memcmp(&b, u, sizeof(b)))
			c = (struct cand){ g, NULL };
		for (int j = 0; g->mig_mode && j < g->n_mig && !c.gpu; j++) {
			uuid_bytes(g->mig[j].uuid, &b);
			if (!memcmp(&b, u, sizeof(b)))
				c = (struct cand){ g, &g->mig[j] };
		}
	}
	rc = c.gpu ? dev_ident_setup(out, &c, node_path && *node_path ? node_path : NULL) : -ENOENT;
out:
	free(node);
	gv_catalog_free(cat);
	return rc;
}

static void sim_once_fn(void)
{
	sim_g.init_rc = sim_setup();
	if (sim_g.init_rc == CUDA_SUCCESS)
		sim_ckpt_start();
}

SIM_API CUresult cuInit(unsigned int Flags)
{
	if (Flags != 0)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_once(&sim_once, sim_once_fn);
	atomic_store(&sim_init_called, true);
	sim_gate();
	return sim_g.init_rc;
}

CUresult sim_check_init(void)
{
	if (!atomic_load(&sim_init_called))
		return CUDA_ERROR_NOT_INITIALIZED;
	sim_gate();
	return sim_g.init_rc;
}

struct sim_dev *sim_dev_get(CUdevice d)
{
	if (d < 0 || d >= sim_g.n_dev)
		return NULL;
	return &sim_g.devs[d];
}

CUresult sim_dev_charge(struct sim_dev *dev, uint64_t bytes)
{
	int r = gv_acct_charge(dev->acct, bytes);

	return r == 0 ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

void sim_dev_uncharge(struct sim_dev *dev, uint64_t bytes)
{
	gv_acct_uncharge(dev->acct, bytes);
}

SIM_API CUresult cuDriverGetVersion(int *driverVersion)
{
	if (!driverVersion)
		return CUDA_ERROR_INVALID_VALUE;
	*driverVersion = CUDA_VERSION;
	return CUDA_SUCCESS;
}

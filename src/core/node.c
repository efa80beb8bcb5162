/* Node descriptions: JSON <-> struct gv_node_desc, the --sim spec, and the
 * deterministic UUIDs of simulated GPUs and MIG instances. */
#include "gpuvisor/node.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <xxhash.h>

#include "gpuvisor/place.h"
#include "jsonfield_internal.h"

/* A node description is a few KiB; anything much larger is not one. */
#define NODE_FILE_MAX (1024 * 1024)
/* Memory a description may claim for one GPU (16 TiB): catches unit mix-ups. */
#define NODE_MEM_MIB_MAX (16ULL * 1024 * 1024)

void gv_uuid_make(char out[GV_UUID_MAX], const char *prefix, const char *seed)
{
	XXH128_canonical_t c;
	unsigned char *b = c.digest;

	XXH128_canonicalFromHash(&c, XXH3_128bits(seed, strlen(seed)));
	/* version 4 and the 10xx variant, so tools that parse UUIDs accept it */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x0f) | 0x80);
	snprintf(out, GV_UUID_MAX,
		 "%s%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix,
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* prefix followed by 8-4-4-4-12 hex digits; normalises to lowercase. */
static bool uuid_valid(char *s, const char *prefix)
{
	size_t pl = strlen(prefix);
	static const int groups[] = { 8, 4, 4, 4, 12 };
	char *p;

	if (strncmp(s, prefix, pl) != 0)
		return false;
	p = s + pl;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (int i = 0; i < groups[g]; i++, p++) {
			if (!isxdigit((unsigned char)*p))
				return false;
			*p = (char)tolower((unsigned char)*p);
		}
		if (g < 4 && *p++ != '-')
			return false;
	}
	return *p == '\0';
}

static void gpu_fill_derived(struct gv_gpu_info *g, int index, const struct gv_model *m)
{
	g->index = index;
	g->model = m;
	snprintf(g->name, sizeof(g->name), "%s", m->name);
	g->pci_device_id = m->pci_ids[0];
	snprintf(g->pci_bus_id, sizeof(g->pci_bus_id), "00000000:%02X:00.0",
		 (unsigned)(0x10 + index));
	g->mig_capable = m->mig_mem_slices > 0;
}

static void gpu_default_uuid(struct gv_gpu_info *g, const char *seed)
{
	char s[GV_NAME_MAX + 32];

	snprintf(s, sizeof(s), "%s:gpu:%d", seed, g->index);
	gv_uuid_make(g->uuid, "GPU-", s);
}

static void mig_default_uuid(struct gv_mig_inst *mi, const char *gpu_uuid, uint64_t serial)
{
	char s[GV_UUID_MAX + GV_NAME_MAX + 64];

	snprintf(s, sizeof(s), "%s:mig:%d:%s:%" PRIu64, gpu_uuid, mi->start, mi->profile->name,
		 serial);
	gv_uuid_make(mi->uuid, "MIG-", s);
}

static bool uuid_taken(const struct gv_node_desc *n, const char *uuid)
{
	for (int i = 0; i < n->n_gpus; i++) {
		const struct gv_gpu_info *g = &n->gpus[i];

		if (strcmp(g->uuid, uuid) == 0)
			return true;
		for (int j = 0; j < g->n_mig; j++)
			if (strcmp(g->mig[j].uuid, uuid) == 0)
				return true;
	}
	return false;
}

static const struct gv_profile *model_mig_profile(const struct gv_model *m, const char *name)
{
	const struct gv_profile *p = gv_model_find_profile(m, name);

	return p && p->kind == GV_PROFILE_MIG ? p : NULL;
}

/* Checks adding profile@start to g's instances with the placement rules NVML
 * enforces; the reason from gv_place_mig_check is kept as is. */
static int mig_layout_check(const struct gv_gpu_info *g, const struct gv_profile *p, int start,
			    struct gv_err *err)
{
	struct gv_place_inst insts[GV_NODE_MAX_MIG];

	for (int i = 0; i < g->n_mig; i++) {
		insts[i].profile = g->mig[i].profile;
		insts[i].kind = GV_PROFILE_MIG;
		insts[i].start = g->mig[i].start;
		insts[i].fb_mib = g->mig[i].profile->fb_mib;
	}
	return gv_place_mig_check(g->model, insts, g->n_mig, p, start, err);
}

static int parse_mig(struct gv_node_desc *n, struct gv_gpu_info *g, json_t *jm, const char *path,
		     struct gv_err *err)
{
	static const char *const keys[] = { "profile", "start", "uuid", NULL };
	const struct gv_jf_at at = { GV_JF_PATH, path };
	struct gv_mig_inst *mi;
	const struct gv_profile *p;
	const char *s;
	long long start;
	bool present;
	int rc;

	if (!json_is_object(jm))
		return gv_err_set(err, EINVAL, "%s: must be an object", path);
	if ((rc = gv_jf_at_only(jm, keys, &at, err)) < 0)
		return rc;
	if ((rc = gv_jf_at_str(jm, "profile", true, &s, &at, err)) < 0)
		return rc;
	p = model_mig_profile(g->model, s);
	if (!p)
		return gv_err_set(err, EINVAL, "%s.profile: %s has no MIG profile '%s'", path,
				  g->model->id, s);
	if ((rc = gv_jf_at_int(jm, "start", true, 0, GV_MIG_MAX_SLOTS - 1, &start, &present, &at,
			       err)) < 0)
		return rc;
	if (g->n_mig >= GV_NODE_MAX_MIG)
		return gv_err_set(err, EINVAL, "%s: more than %d MIG instances on one GPU", path,
				  GV_NODE_MAX_MIG);
	rc = mig_layout_check(g, p, (int)start, err);
	if (rc < 0) {
		/* a bad start is the start field's fault; no room is the instance's */
		if (rc == -EINVAL)
			gv_err_prefix(err, "%s.start", path);
		else
			gv_err_prefix(err, "%s", path);
		if (err)
			err->code = EINVAL;
		return -EINVAL;
	}
	mi = &g->mig[g->n_mig];
	memset(mi, 0, sizeof(*mi));
	mi->profile = p;
	mi->start = (int)start;
	if ((rc = gv_jf_at_str(jm, "uuid", false, &s, &at, err)) < 0)
		return rc;
	if (s) {
		if (strlen(s) >= GV_UUID_MAX)
			return gv_err_set(
				err, EINVAL,
				"%s.uuid: not a MIG UUID (MIG-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				path);
		snprintf(mi->uuid, sizeof(mi->uuid), "%s", s);
		if (!uuid_valid(mi->uuid, "MIG-"))
			return gv_err_set(
				err, EINVAL,
				"%s.uuid: '%s' is not a MIG UUID (MIG-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				path, s);
	} else {
		mig_default_uuid(mi, g->uuid, ++n->mig_serial);
	}
	if (uuid_taken(n, mi->uuid))
		return gv_err_set(err, EINVAL, "%s.uuid: %s is used twice", path, mi->uuid);
	g->n_mig++;
	return 0;
}

static int parse_gpu(const struct gv_catalog *cat, struct gv_node_desc *n, json_t *jg, int index,
		     struct gv_err *err)
{
	static const char *const keys[] = { "model",	"uuid",		 "mem_mib",
					    "mig_mode", "mig_instances", NULL };
	struct gv_gpu_info *g = &n->gpus[index];
	char path[64], mpath[96];
	const struct gv_model *m;
	json_t *v;
	const char *s;
	long long mem;
	const struct gv_jf_at at = { GV_JF_PATH, path }; /* path is filled in below */
	bool present;
	int rc;

	snprintf(path, sizeof(path), "gpus[%d]", index);
	if (!json_is_object(jg))
		return gv_err_set(err, EINVAL, "%s: must be an object", path);
	if ((rc = gv_jf_at_only(jg, keys, &at, err)) < 0)
		return rc;
	if ((rc = gv_jf_at_str(jg, "model", true, &s, &at, err)) < 0)
		return rc;
	m = gv_catalog_find_model(cat, s);
	if (!m)
		return gv_err_set(err, EINVAL, "%s.model: '%s' is not in the catalog", path, s);
	gpu_fill_derived(g, index, m);

	if ((rc = gv_jf_at_str(jg, "uuid", false, &s, &at, err)) < 0)
		return rc;
	if (s) {
		if (strlen(s) >= GV_UUID_MAX)
			return gv_err_set(
				err, EINVAL,
				"%s.uuid: not a GPU UUID (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				path);
		snprintf(g->uuid, sizeof(g->uuid), "%s", s);
		if (!uuid_valid(g->uuid, "GPU-"))
			return gv_err_set(
				err, EINVAL,
				"%s.uuid: '%s' is not a GPU UUID (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				path, s);
	} else {
		gpu_default_uuid(g, n->seed);
	}
	/* g is not counted yet, so this sees only the GPUs before it */
	if (uuid_taken(n, g->uuid))
		return gv_err_set(err, EINVAL, "%s.uuid: %s is used twice", path, g->uuid);
	/* counted from here on, so its MIG instances are checked against it too
	 * (n is a scratch copy: a failure below discards it) */
	n->n_gpus = index + 1;

	if ((rc = gv_jf_at_int(jg, "mem_mib", false, 1, (long long)NODE_MEM_MIB_MAX, &mem, &present,
			       &at, err)) < 0)
		return rc;
	g->mem_mib = present ? (uint64_t)mem : m->mem_mib;

	g->mig_mode = false;
	if ((rc = gv_jf_at_bool(jg, "mig_mode", &g->mig_mode, &at, err)) < 0)
		return rc;
	if (g->mig_mode && !g->mig_capable)
		return gv_err_set(err, EINVAL, "%s.mig_mode: %s has no MIG", path, m->id);

	if ((rc = gv_jf_at_member(jg, "mig_instances", JSON_ARRAY, false, &at, &v, err)) < 0)
		return rc;
	if (v) {
		size_t i;
		json_t *jm;

		if (json_array_size(v) > 0 && !g->mig_mode)
			return gv_err_set(
				err, EINVAL,
				"%s.mig_instances: the GPU is not in MIG mode (\"mig_mode\": true)",
				path);
		json_array_foreach(v, i, jm) {
			snprintf(mpath, sizeof(mpath), "%s.mig_instances[%zu]", path, i);
			if ((rc = parse_mig(n, g, jm, mpath, err)) < 0)
				return rc;
		}
	}
	return 0;
}

int gv_node_parse(const struct gv_catalog *cat, const char *buf, size_t len,
		  struct gv_node_desc *out, struct gv_err *err)
{
	static const char *const keys[] = { "version", "gpus", "seed", "mig_serial", NULL };
	const struct gv_jf_at at = { GV_JF_PATH, "" };
	struct gv_node_desc *n = NULL;
	json_error_t jerr;
	json_t *root = NULL, *gpus, *jg;
	const char *seed;
	long long ver, serial;
	bool present, serial_present;
	size_t i;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!cat || !buf || !out) {
		rc = gv_err_set(err, EINVAL, "node description: missing argument");
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = gv_err_set(err, ENOMEM, "node description: out of memory");
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = gv_err_set(err, EINVAL, "node description: line %d column %d: %s", jerr.line,
				jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = gv_err_set(err, EINVAL, "node description: must be a JSON object");
		goto out;
	}
	if ((rc = gv_jf_at_only(root, keys, &at, err)) < 0)
		goto out;
	if ((rc = gv_jf_at_int(root, "version", false, 1, 1, &ver, &present, &at, err)) < 0)
		goto out;
	if ((rc = gv_jf_at_str(root, "seed", false, &seed, &at, err)) < 0)
		goto out;
	if (seed && (seed[0] == '\0' || strlen(seed) >= sizeof(n->seed))) {
		rc = gv_err_set(err, EINVAL, "seed: must be 1..%zu characters",
				sizeof(n->seed) - 1);
		goto out;
	}
	snprintf(n->seed, sizeof(n->seed), "%s", seed ? seed : GV_NODE_DEFAULT_SEED);
	if ((rc = gv_jf_at_int(root, "mig_serial", false, 0, LLONG_MAX, &serial, &serial_present,
			       &at, err)) < 0)
		goto out;
	n->mig_serial = serial_present ? (uint64_t)serial : 0;

	if ((rc = gv_jf_at_member(root, "gpus", JSON_ARRAY, true, &at, &gpus, err)) < 0)
		goto out;
	if (json_array_size(gpus) < 1 || json_array_size(gpus) > GV_NODE_MAX_GPUS) {
		rc = gv_err_set(err, EINVAL, "gpus: a node has 1..%d GPUs, not %zu",
				GV_NODE_MAX_GPUS, json_array_size(gpus));
		goto out;
	}
	json_array_foreach(gpus, i, jg) {
		if ((rc = parse_gpu(cat, n, jg, (int)i, err)) < 0)
			goto out;
	}
	*out = *n;
	rc = 0;
out:
	json_decref(root);
	free(n);
	return rc;
}

int gv_node_load(const struct gv_catalog *cat, const char *path, struct gv_node_desc *out,
		 struct gv_err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	f = fopen(path, "rb");
	if (!f) {
		rc = gv_err_sys(err, "%s", path);
		goto out;
	}
	buf = malloc(NODE_FILE_MAX + 1);
	if (!buf) {
		rc = gv_err_set(err, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	len = fread(buf, 1, NODE_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = gv_err_set(err, EIO, "%s: read error", path);
		goto out;
	}
	if (len > NODE_FILE_MAX) {
		rc = gv_err_set(err, EFBIG, "%s: larger than %d bytes: not a node description",
				path, NODE_FILE_MAX);
		goto out;
	}
	rc = gv_node_parse(cat, buf, len, out, err);
	if (rc < 0)
		gv_err_prefix(err, "%s", path);
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

/* Parses "<model>[:<count>]" items separated by commas. */
int gv_node_from_spec(const struct gv_catalog *cat, const char *spec, struct gv_node_desc *out,
		      struct gv_err *err)
{
	struct gv_node_desc *n = NULL;
	const char *p = spec;
	int rc, item = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!cat || !spec || !out) {
		rc = gv_err_set(err, EINVAL, "node spec: missing argument");
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = gv_err_set(err, ENOMEM, "node spec: out of memory");
		goto out;
	}
	snprintf(n->seed, sizeof(n->seed), "%s", GV_NODE_DEFAULT_SEED);
	for (;;) {
		char model[GV_NAME_MAX];
		const char *end = strchr(p, ',');
		const char *colon;
		size_t ilen = end ? (size_t)(end - p) : strlen(p);
		size_t mlen;
		long count = 1;
		const struct gv_model *m;

		item++;
		while (ilen > 0 && isspace((unsigned char)*p)) {
			p++;
			ilen--;
		}
		while (ilen > 0 && isspace((unsigned char)p[ilen - 1]))
			ilen--;
		colon = memchr(p, ':', ilen);
		mlen = colon ? (size_t)(colon - p) : ilen;
		if (mlen == 0) {
			rc = gv_err_set(
				err, EINVAL,
				"node spec '%s': item %d has no model (expected model[:count], e.g. h100-80gb:2)",
				spec, item);
			goto out;
		}
		if (mlen >= sizeof(model)) {
			rc = gv_err_set(err, EINVAL, "node spec '%s': item %d: model name too long",
					spec, item);
			goto out;
		}
		memcpy(model, p, mlen);
		model[mlen] = '\0';
		if (colon) {
			const char *c = colon + 1;
			size_t clen = ilen - mlen - 1;

			count = 0;
			for (size_t k = 0; k < clen; k++) {
				if (!isdigit((unsigned char)c[k]) || count > GV_NODE_MAX_GPUS) {
					count = -1;
					break;
				}
				count = count * 10 + (c[k] - '0');
			}
			if (clen == 0 || count < 1 || count > GV_NODE_MAX_GPUS) {
				rc = gv_err_set(err, EINVAL,
						"node spec '%s': item %d (%s): count must be 1..%d",
						spec, item, model, GV_NODE_MAX_GPUS);
				goto out;
			}
		}
		m = gv_catalog_find_model(cat, model);
		if (!m) {
			rc = gv_err_set(err, EINVAL,
					"node spec '%s': model '%s' is not in the catalog", spec,
					model);
			goto out;
		}
		if (n->n_gpus + count > GV_NODE_MAX_GPUS) {
			rc = gv_err_set(err, EINVAL, "node spec '%s': more than %d GPUs", spec,
					GV_NODE_MAX_GPUS);
			goto out;
		}
		for (long k = 0; k < count; k++) {
			struct gv_gpu_info *g = &n->gpus[n->n_gpus];

			gpu_fill_derived(g, n->n_gpus, m);
			g->mem_mib = m->mem_mib;
			gpu_default_uuid(g, n->seed);
			n->n_gpus++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*out = *n;
	rc = 0;
out:
	free(n);
	return rc;
}

static json_t *node_to_json(const struct gv_node_desc *node, struct gv_err *err)
{
	json_t *root = json_object(), *gpus = json_array();
	bool ok = root && gpus;

	if (ok)
		ok = json_object_set_new(root, "version", json_integer(1)) == 0 &&
		     json_object_set(root, "gpus", gpus) == 0 &&
		     json_object_set_new(
			     root, "seed",
			     json_string(node->seed[0] ? node->seed : GV_NODE_DEFAULT_SEED)) == 0 &&
		     json_object_set_new(root, "mig_serial",
					 json_integer((json_int_t)node->mig_serial)) == 0;
	for (int i = 0; ok && i < node->n_gpus; i++) {
		const struct gv_gpu_info *g = &node->gpus[i];
		json_t *jg, *migs;

		if (!g->model) {
			gv_err_set(
				err, EINVAL,
				"gpu %d (%s) has no catalog model: cannot be saved as a node description",
				i, g->name);
			json_decref(gpus);
			json_decref(root);
			return NULL;
		}
		jg = json_pack("{s:s, s:s, s:I, s:b}", "model", g->model->id, "uuid", g->uuid,
			       "mem_mib", (json_int_t)g->mem_mib, "mig_mode", g->mig_mode);
		migs = json_array();
		ok = jg && migs && json_object_set(jg, "mig_instances", migs) == 0 &&
		     json_array_append(gpus, jg) == 0;
		for (int j = 0; ok && j < g->n_mig; j++)
			ok = json_array_append_new(migs, json_pack("{s:s, s:i, s:s}", "profile",
								   g->mig[j].profile->name, "start",
								   g->mig[j].start, "uuid",
								   g->mig[j].uuid)) == 0;
		json_decref(migs);
		json_decref(jg);
	}
	json_decref(gpus);
	if (!ok) {
		json_decref(root);
		gv_err_set(err, ENOMEM, "out of memory building the node description");
		return NULL;
	}
	return root;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int gv_node_save(const struct gv_node_desc *node, const char *path, struct gv_err *err)
{
	json_t *root = NULL;
	char *text = NULL, *tmp = NULL, *dir = NULL;
	int fd = -1, dfd = -1, rc;
	size_t plen;

	root = node_to_json(node, err);
	if (!root) {
		rc = -(err && err->code ? err->code : EINVAL);
		goto out;
	}
	text = json_dumps(root, JSON_INDENT(2));
	plen = strlen(path);
	tmp = malloc(plen + 8);
	dir = strdup(path);
	if (!text || !tmp || !dir) {
		rc = gv_err_set(err, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = gv_err_sys(err, "%s: cannot create a temporary file", path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0640) != 0 || (rc = write_all(fd, text, strlen(text))) < 0 ||
	    (rc = write_all(fd, "\n", 1)) < 0 || fsync(fd) != 0) {
		rc = gv_err_sys(err, "%s: cannot write", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = gv_err_sys(err, "%s: cannot write", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = gv_err_sys(err, "%s: cannot replace", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* the rename is durable only once the directory is synced */
	{
		char *slash = strrchr(dir, '/');

		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0) {
			rc = gv_err_sys(err, "%s: cannot sync its directory", path);
			goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	free(text);
	json_decref(root);
	return rc;
}

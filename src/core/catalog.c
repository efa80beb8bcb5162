/* The GPU model catalog: strict loading of data/catalog.json (format in
 * docs/catalog.md) and look-ups by id, alias, PCI id, name and memory. */
#include "gpuvisor/catalog.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "gpuvisor/buf.h"
#include "gpuvisor/nametab.h"
#include "jsonfield_internal.h"

/* Per-model storage behind the public struct gv_model; string arrays and
 * profiles are owned here so the public pointers stay valid until free. */
struct cat_model {
	struct gv_model pub;
	struct gv_profile *profiles;
	char **aliases;
	char **names;
	char **board_aliases;
	char *source;
	char **profile_sources; /* one per profile, NULL entries allowed */
};

struct gv_catalog {
	struct cat_model *models;
	size_t n_models;
	char *source;
};

/* ---- strict JSON field helpers ---------------------------------------- */

/* The catalog's members are named "<where>: \"<key>\" ..." (jsonfield). */
#define AT(where) (&(const struct gv_jf_at){ GV_JF_QUOTED, (where) })

/* A string member: not empty, no NUL inside, shorter than GV_NAME_MAX * 16. */
static int get_str(json_t *obj, const char *key, bool required, const char **out, const char *where,
		   struct gv_err *err)
{
	int rc = gv_jf_at_str(obj, key, required, out, AT(where), err);
	size_t n;

	if (rc < 0 || !*out)
		return rc;
	n = json_string_length(json_object_get(obj, key));
	if (n == 0 || n >= GV_NAME_MAX * 16 || strlen(*out) != n) {
		*out = NULL;
		return gv_jf_at_fail(AT(where), key, err, "must be a non-empty string");
	}
	return 0;
}

/* Names (ids, aliases, profile names) fit GV_NAME_MAX and have no spaces. */
static int check_name(const char *s, const char *key, const char *where, struct gv_err *err)
{
	size_t i;

	if (strlen(s) >= GV_NAME_MAX)
		return gv_err_set(err, EINVAL, "%s: \"%s\" is longer than %d characters", where,
				  key, GV_NAME_MAX - 1);
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return gv_err_set(err, EINVAL,
					  "%s: \"%s\" has a space or non-ASCII character", where,
					  key);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads an array of distinct names into a fresh NULL-padded vector. */
static int get_strv(json_t *obj, const char *key, bool required, char ***out, size_t *n_out,
		    const char *where, struct gv_err *err)
{
	json_t *arr, *v;
	size_t i, j, n;
	char **vec = NULL;
	int rc;

	*out = NULL;
	*n_out = 0;
	rc = gv_jf_at_member(obj, key, JSON_ARRAY, required, AT(where), &arr, err);
	if (rc < 0 || !arr)
		return rc;
	n = json_array_size(arr);
	if (required && n == 0)
		return gv_err_set(err, EINVAL, "%s: \"%s\" must not be empty", where, key);
	vec = calloc(n + 1, sizeof(*vec));
	if (!vec)
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	json_array_foreach(arr, i, v) {
		const char *s;

		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= GV_NAME_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			rc = gv_err_set(
				err, EINVAL,
				"%s: \"%s\"[%zu] must be a non-empty string shorter than %d", where,
				key, i, GV_NAME_MAX);
			goto out;
		}
		s = json_string_value(v);
		for (j = 0; j < i; j++) {
			if (strcasecmp(vec[j], s) == 0) {
				rc = gv_err_set(err, EINVAL, "%s: \"%s\" lists \"%s\" twice", where,
						key, s);
				goto out;
			}
		}
		vec[i] = strdup(s);
		if (!vec[i]) {
			rc = gv_err_set(err, ENOMEM, "%s: out of memory", where);
			goto out;
		}
	}
	*out = vec;
	*n_out = n;
	vec = NULL;
	rc = 0;
out:
	free_strv(vec, n);
	return rc;
}

/* ---- profiles ----------------------------------------------------------- */

static const char *const mig_keys[] = { "name",		  "id",	    "memory_mib", "mem_slices",
					"compute_slices", "starts", "max",	  "sms",
					"media_ext",	  "source", NULL };
static const char *const ts_keys[] = { "name", "fb_mib", "max", "max_mixed", "source", NULL };
static const char *const mv_keys[] = { "name", "mig", "max", "source", NULL };

/* What every profile object starts with: an object, a "name" (check_name)
 * and no key outside keys. Sets p->name, and w to "<where> <name>", the
 * place the profile's other members are named by. */
static int profile_head(json_t *o, const char *const *keys, const char *where, struct gv_profile *p,
			char *w, size_t wcap, struct gv_err *err)
{
	const char *name;
	int rc;

	if (!json_is_object(o))
		return gv_err_set(err, EINVAL, "%s: must be an object", where);
	if ((rc = get_str(o, "name", true, &name, where, err)) < 0 ||
	    (rc = check_name(name, "name", where, err)) < 0)
		return rc;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(w, wcap, "%s %s", where, name);
	return gv_jf_at_only(o, keys, AT(w), err);
}

static int parse_mig_profile(json_t *o, const struct gv_model *m, struct gv_profile *p,
			     char **src_out, const char *where, struct gv_err *err)
{
	const char *src;
	long long id = 0, mem = 0, ms = 0, cs = 0, max = 0, sms = 0;
	json_t *starts, *v;
	size_t i;
	int rc;

	{
		char w[256];

		if ((rc = profile_head(o, mig_keys, where, p, w, sizeof(w), err)) < 0 ||
		    (rc = gv_jf_at_int(o, "id", true, 0, 255, &id, NULL, AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(o, "memory_mib", true, 1, (long long)m->mem_mib, &mem, NULL,
				       AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(o, "mem_slices", true, 1, m->mig_mem_slices, &ms, NULL,
				       AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(o, "compute_slices", true, 1, m->mig_compute_slices, &cs,
				       NULL, AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(o, "max", true, 1, m->mig_mem_slices, &max, NULL, AT(w),
				       err)) < 0 ||
		    (rc = gv_jf_at_int(o, "sms", false, 0, m->sms ? m->sms : INT_MAX, &sms, NULL,
				       AT(w), err)) < 0 ||
		    (rc = gv_jf_at_bool(o, "media_ext", &p->media_ext, AT(w), err)) < 0 ||
		    (rc = get_str(o, "source", false, &src, w, err)) < 0 ||
		    (rc = gv_jf_at_member(o, "starts", JSON_ARRAY, true, AT(w), &starts, err)) < 0)
			return rc;
		if (json_array_size(starts) == 0)
			return gv_err_set(err, EINVAL, "%s: \"starts\" must not be empty", w);
		json_array_foreach(starts, i, v) {
			long long s;

			if (!json_is_integer(v))
				return gv_err_set(err, EINVAL,
						  "%s: \"starts\"[%zu] must be an integer", w, i);
			s = json_integer_value(v);
			if (s < 0 || s >= m->mig_mem_slices)
				return gv_err_set(
					err, EINVAL,
					"%s: \"starts\": slot %lld is beyond the %d memory slices",
					w, s, m->mig_mem_slices);
			if (s + ms > m->mig_mem_slices)
				return gv_err_set(
					err, EINVAL,
					"%s: \"starts\": slot %lld + %lld memory slices exceeds %d",
					w, s, ms, m->mig_mem_slices);
			if (p->start_mask & (1u << s))
				return gv_err_set(err, EINVAL,
						  "%s: \"starts\" lists slot %lld twice", w, s);
			p->start_mask |= 1u << s;
		}
		if (max * ms > m->mig_mem_slices)
			return gv_err_set(
				err, EINVAL,
				"%s: \"max\" %lld instances of %lld memory slices exceed %d", w,
				max, ms, m->mig_mem_slices);
	}
	p->kind = GV_PROFILE_MIG;
	p->mig_id = (int)id;
	p->fb_mib = (uint64_t)mem;
	p->mem_slices = (int)ms;
	p->compute_slices = (int)cs;
	p->max_count = (int)max;
	p->sms = (int)sms;
	*src_out = dup_or_null(src);
	if (src && !*src_out)
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	return 0;
}

static int parse_ts_profile(json_t *o, const struct gv_model *m, struct gv_profile *p,
			    char **src_out, const char *where, struct gv_err *err)
{
	const char *src;
	long long fb = 0, max = 0, mixed = 0;
	char w[256];
	int rc;

	if ((rc = profile_head(o, ts_keys, where, p, w, sizeof(w), err)) < 0 ||
	    (rc = gv_jf_at_int(o, "fb_mib", true, 1, (long long)m->mem_mib, &fb, NULL, AT(w),
			       err)) < 0 ||
	    (rc = gv_jf_at_int(o, "max", true, 1, 1024, &max, NULL, AT(w), err)) < 0 ||
	    (rc = gv_jf_at_int(o, "max_mixed", true, 1, max, &mixed, NULL, AT(w), err)) < 0 ||
	    (rc = get_str(o, "source", false, &src, w, err)) < 0)
		return rc;
	p->kind = GV_PROFILE_TIMESLICE;
	p->fb_mib = (uint64_t)fb;
	p->max_count = (int)max;
	p->max_mixed = (int)mixed;
	*src_out = dup_or_null(src);
	if (src && !*src_out)
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	return 0;
}

/* MIG-backed vGPU profiles inherit their shape from the MIG profile named
 * by "mig", which must come earlier in the same model. */
static int parse_mv_profile(json_t *o, struct gv_profile *all, size_t n_before,
			    struct gv_profile *p, char **src_out, const char *where,
			    struct gv_err *err)
{
	const char *mig, *src;
	const struct gv_profile *base = NULL;
	long long max = 0;
	char w[256];
	size_t i;
	int rc;

	if ((rc = profile_head(o, mv_keys, where, p, w, sizeof(w), err)) < 0 ||
	    (rc = get_str(o, "mig", true, &mig, w, err)) < 0 ||
	    (rc = get_str(o, "source", false, &src, w, err)) < 0)
		return rc;
	for (i = 0; i < n_before; i++)
		if (all[i].kind == GV_PROFILE_MIG && strcasecmp(all[i].name, mig) == 0)
			base = &all[i];
	if (!base)
		return gv_err_set(err, EINVAL,
				  "%s: \"mig\" refers to \"%s\", not a MIG profile of this model",
				  w, mig);
	max = base->max_count;
	if ((rc = gv_jf_at_int(o, "max", false, 1, base->max_count, &max, NULL, AT(w), err)) < 0)
		return rc;
	p->kind = GV_PROFILE_MIG_VGPU;
	p->fb_mib = base->fb_mib;
	p->max_count = (int)max;
	p->mig_id = base->mig_id;
	p->mem_slices = base->mem_slices;
	p->compute_slices = base->compute_slices;
	p->start_mask = base->start_mask;
	p->sms = base->sms;
	p->media_ext = base->media_ext;
	p->mig = base;
	*src_out = dup_or_null(src);
	if (src && !*src_out)
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	return 0;
}

/* ---- models ------------------------------------------------------------- */

static const char *const model_keys[] = {
	"id",	      "aliases", "names", "board",	  "board_aliases",	"pci_ids",
	"memory_mib", "sms",	 "mig",	  "mig_profiles", "timeslice_profiles", "mig_vgpu_profiles",
	"source",     NULL
};
static const char *const geom_keys[] = { "mem_slices", "compute_slices", "source", NULL };

static void model_clear(struct cat_model *cm)
{
	free(cm->profiles);
	free_strv(cm->aliases, cm->pub.n_aliases);
	free_strv(cm->names, cm->pub.n_names);
	free_strv(cm->board_aliases, cm->pub.n_board_aliases);
	free_strv(cm->profile_sources, cm->pub.n_profiles);
	free(cm->source);
	memset(cm, 0, sizeof(*cm));
}

static int parse_pci_ids(json_t *o, struct gv_model *m, const char *where, struct gv_err *err)
{
	json_t *arr, *v;
	size_t i;
	int rc;

	if ((rc = gv_jf_at_member(o, "pci_ids", JSON_ARRAY, false, AT(where), &arr, err)) < 0 ||
	    !arr)
		return rc;
	if (json_array_size(arr) >= GV_MODEL_MAX_PCI_IDS)
		return gv_err_set(err, EINVAL, "%s: \"pci_ids\" has more than %d entries", where,
				  GV_MODEL_MAX_PCI_IDS - 1);
	json_array_foreach(arr, i, v) {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		char *end = NULL;
		unsigned long id;

		if (!s || strncasecmp(s, "0x", 2) != 0 || strlen(s) < 3 || strlen(s) > 6)
			return gv_err_set(err, EINVAL,
					  "%s: \"pci_ids\"[%zu] must be a string like \"0x2330\"",
					  where, i);
		errno = 0;
		id = strtoul(s + 2, &end, 16);
		if (errno || *end || id == 0 || id > 0xffff)
			return gv_err_set(err, EINVAL,
					  "%s: \"pci_ids\"[%zu] \"%s\" is not a PCI device id",
					  where, i, s);
		m->pci_ids[i] = (uint32_t)id;
	}
	return 0;
}

static int profile_name_unique(const struct gv_profile *all, size_t n, const char *where,
			       struct gv_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(all[i].name, all[n].name) == 0)
			return gv_err_set(err, EINVAL, "%s: duplicate profile name \"%s\"", where,
					  all[n].name);
	return 0;
}

static int parse_model(json_t *o, size_t idx, struct cat_model *cm, struct gv_err *err)
{
	struct gv_model *m = &cm->pub;
	json_t *migs = NULL, *tss = NULL, *mvs = NULL, *geom, *v;
	const char *id, *board, *src = NULL;
	long long mem = 0, sms = 0, gm = 0, gc = 0;
	char where[160], w[224];
	size_t i, n, k;
	int rc;

	snprintf(where, sizeof(where), "catalog: models[%zu]", idx);
	if (!json_is_object(o))
		return gv_err_set(err, EINVAL, "%s: must be an object", where);
	if ((rc = get_str(o, "id", true, &id, where, err)) < 0 ||
	    (rc = check_name(id, "id", where, err)) < 0)
		return rc;
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(where, sizeof(where), "catalog: model %s", id);
	if ((rc = gv_jf_at_only(o, model_keys, AT(where), err)) < 0 ||
	    (rc = get_strv(o, "aliases", false, &cm->aliases, &m->n_aliases, where, err)) < 0 ||
	    (rc = get_strv(o, "names", true, &cm->names, &m->n_names, where, err)) < 0 ||
	    (rc = get_str(o, "board", true, &board, where, err)) < 0 ||
	    (rc = check_name(board, "board", where, err)) < 0 ||
	    (rc = get_strv(o, "board_aliases", false, &cm->board_aliases, &m->n_board_aliases,
			   where, err)) < 0 ||
	    (rc = parse_pci_ids(o, m, where, err)) < 0 ||
	    (rc = gv_jf_at_int(o, "memory_mib", true, 1, 1LL << 40, &mem, NULL, AT(where), err)) <
		    0 ||
	    (rc = gv_jf_at_int(o, "sms", true, 1, 100000, &sms, NULL, AT(where), err)) < 0 ||
	    (rc = get_str(o, "source", false, &src, where, err)) < 0 ||
	    (rc = gv_jf_at_member(o, "mig_profiles", JSON_ARRAY, false, AT(where), &migs, err)) <
		    0 ||
	    (rc = gv_jf_at_member(o, "timeslice_profiles", JSON_ARRAY, false, AT(where), &tss,
				  err)) < 0 ||
	    (rc = gv_jf_at_member(o, "mig_vgpu_profiles", JSON_ARRAY, false, AT(where), &mvs,
				  err)) < 0)
		return rc;
	for (i = 0; i < m->n_aliases; i++)
		if ((rc = check_name(cm->aliases[i], "aliases", where, err)) < 0)
			return rc;
	for (i = 0; i < m->n_board_aliases; i++)
		if ((rc = check_name(cm->board_aliases[i], "board_aliases", where, err)) < 0)
			return rc;
	snprintf(m->name, sizeof(m->name), "%s", cm->names[0]);
	snprintf(m->board, sizeof(m->board), "%s", board);
	m->names = (const char *const *)cm->names;
	m->aliases = (const char *const *)cm->aliases;
	m->board_aliases = (const char *const *)cm->board_aliases;
	m->mem_mib = (uint64_t)mem;
	m->sms = (int)sms;
	if (src && !(cm->source = strdup(src)))
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	m->source = cm->source;

	geom = json_object_get(o, "mig");
	if (geom && !json_is_null(geom)) {
		const char *gsrc;

		snprintf(w, sizeof(w), "%s: mig", where);
		if (!json_is_object(geom))
			return gv_err_set(err, EINVAL, "%s: must be an object", w);
		if ((rc = gv_jf_at_only(geom, geom_keys, AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(geom, "mem_slices", true, 1, GV_MIG_MAX_SLOTS, &gm, NULL,
				       AT(w), err)) < 0 ||
		    (rc = gv_jf_at_int(geom, "compute_slices", true, 1, GV_MIG_MAX_SLOTS, &gc, NULL,
				       AT(w), err)) < 0 ||
		    (rc = get_str(geom, "source", false, &gsrc, w, err)) < 0)
			return rc;
		m->mig_mem_slices = (int)gm;
		m->mig_compute_slices = (int)gc;
	}
	if (!m->mig_mem_slices &&
	    ((migs && json_array_size(migs)) || (mvs && json_array_size(mvs))))
		return gv_err_set(err, EINVAL, "%s: has MIG profiles but no \"mig\" geometry",
				  where);

	n = 1 + json_array_size(migs) + json_array_size(tss) + json_array_size(mvs);
	cm->profiles = calloc(n, sizeof(*cm->profiles));
	cm->profile_sources = calloc(n + 1, sizeof(*cm->profile_sources));
	if (!cm->profiles || !cm->profile_sources)
		return gv_err_set(err, ENOMEM, "%s: out of memory", where);
	m->profiles = cm->profiles;
	/* The whole GPU, always available whatever the mode's sizes are. */
	snprintf(cm->profiles[0].name, GV_NAME_MAX, "passthrough");
	cm->profiles[0].kind = GV_PROFILE_PASSTHROUGH;
	cm->profiles[0].fb_mib = m->mem_mib;
	cm->profiles[0].max_count = 1;
	cm->profiles[0].max_mixed = 1;
	cm->profiles[0].sms = m->sms;
	k = 1;
	m->n_profiles = 1;

	snprintf(w, sizeof(w), "%s: mig profile", where);
	json_array_foreach(migs, i, v) {
		size_t j;

		if ((rc = parse_mig_profile(v, m, &cm->profiles[k], &cm->profile_sources[k], w,
					    err)) < 0)
			return rc;
		m->n_profiles = k + 1;
		if ((rc = profile_name_unique(cm->profiles, k, where, err)) < 0)
			return rc;
		for (j = 1; j < k; j++)
			if (cm->profiles[j].mig_id == cm->profiles[k].mig_id)
				return gv_err_set(
					err, EINVAL,
					"%s: mig profile %s: \"id\" %d is also the id of %s", where,
					cm->profiles[k].name, cm->profiles[k].mig_id,
					cm->profiles[j].name);
		k++;
	}
	snprintf(w, sizeof(w), "%s: timeslice profile", where);
	json_array_foreach(tss, i, v) {
		if ((rc = parse_ts_profile(v, m, &cm->profiles[k], &cm->profile_sources[k], w,
					   err)) < 0)
			return rc;
		m->n_profiles = k + 1;
		if ((rc = profile_name_unique(cm->profiles, k, where, err)) < 0)
			return rc;
		k++;
	}
	snprintf(w, sizeof(w), "%s: mig_vgpu profile", where);
	json_array_foreach(mvs, i, v) {
		if ((rc = parse_mv_profile(v, cm->profiles, k, &cm->profiles[k],
					   &cm->profile_sources[k], w, err)) < 0)
			return rc;
		m->n_profiles = k + 1;
		if ((rc = profile_name_unique(cm->profiles, k, where, err)) < 0)
			return rc;
		k++;
	}
	for (i = 0; i < k; i++)
		cm->profiles[i].source = cm->profile_sources[i];
	return 0;
}

static bool model_has_key(const struct gv_model *m, const char *s)
{
	size_t i;

	if (strcasecmp(m->id, s) == 0)
		return true;
	for (i = 0; i < m->n_aliases; i++)
		if (strcasecmp(m->aliases[i], s) == 0)
			return true;
	return false;
}

/* Ids/aliases, NVML names and PCI ids must each identify one model. */
static int check_unique(const struct gv_catalog *cat, size_t k, struct gv_err *err)
{
	const struct gv_model *m = &cat->models[k].pub;
	size_t i, j, a;

	for (i = 0; i < k; i++) {
		const struct gv_model *o = &cat->models[i].pub;

		if (model_has_key(o, m->id))
			return gv_err_set(err, EINVAL,
					  "catalog: model %s: id is already used by model %s",
					  m->id, o->id);
		for (a = 0; a < m->n_aliases; a++)
			if (model_has_key(o, m->aliases[a]))
				return gv_err_set(
					err, EINVAL,
					"catalog: model %s: alias \"%s\" is already used by model %s",
					m->id, m->aliases[a], o->id);
		for (a = 0; a < m->n_names; a++)
			for (j = 0; j < o->n_names; j++)
				if (strcasecmp(m->names[a], o->names[j]) == 0)
					return gv_err_set(
						err, EINVAL,
						"catalog: model %s: name \"%s\" is already used by model %s",
						m->id, m->names[a], o->id);
		for (a = 0; m->pci_ids[a]; a++)
			for (j = 0; o->pci_ids[j]; j++)
				if (m->pci_ids[a] == o->pci_ids[j])
					return gv_err_set(
						err, EINVAL,
						"catalog: model %s: pci id 0x%04x is already used by model %s",
						m->id, m->pci_ids[a], o->id);
	}
	for (a = 0; a < m->n_aliases; a++)
		if (strcasecmp(m->aliases[a], m->id) == 0)
			return gv_err_set(err, EINVAL,
					  "catalog: model %s: alias \"%s\" repeats the id", m->id,
					  m->aliases[a]);
	return 0;
}

static const char *const top_keys[] = { "format", "version", "source", "models", NULL };

int gv_catalog_parse(const char *buf, size_t len, struct gv_catalog **out, struct gv_err *err)
{
	struct gv_catalog *cat = NULL;
	json_t *root = NULL, *models, *v;
	json_error_t jerr;
	const char *fmt, *src;
	long long version = 0;
	size_t i;
	int rc;

	if (out)
		*out = NULL;
	if (!buf || !out)
		return gv_err_set(err, EINVAL, "catalog: no input");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = gv_err_set(err, EINVAL, "catalog: line %d column %d: %s", jerr.line,
				jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = gv_err_set(err, EINVAL, "catalog: top level must be an object");
		goto out;
	}
	if ((rc = gv_jf_at_only(root, top_keys, AT("catalog"), err)) < 0 ||
	    (rc = get_str(root, "format", true, &fmt, "catalog", err)) < 0 ||
	    (rc = gv_jf_at_int(root, "version", true, 1, 1, &version, NULL, AT("catalog"), err)) <
		    0 ||
	    (rc = get_str(root, "source", false, &src, "catalog", err)) < 0 ||
	    (rc = gv_jf_at_member(root, "models", JSON_ARRAY, true, AT("catalog"), &models, err)) <
		    0)
		goto out;
	if (strcmp(fmt, "gpuvisor-catalog") != 0) {
		rc = gv_err_set(err, EINVAL,
				"catalog: \"format\" is \"%s\", expected \"gpuvisor-catalog\"",
				fmt);
		goto out;
	}
	if (json_array_size(models) == 0) {
		rc = gv_err_set(err, EINVAL, "catalog: \"models\" is empty");
		goto out;
	}
	cat = calloc(1, sizeof(*cat));
	if (!cat || !(cat->models = calloc(json_array_size(models), sizeof(*cat->models))) ||
	    (src && !(cat->source = strdup(src)))) {
		rc = gv_err_set(err, ENOMEM, "catalog: out of memory");
		goto out;
	}
	json_array_foreach(models, i, v) {
		cat->n_models = i + 1;
		if ((rc = parse_model(v, i, &cat->models[i], err)) < 0 ||
		    (rc = check_unique(cat, i, err)) < 0)
			goto out;
	}
	*out = cat;
	cat = NULL;
	rc = 0;
out:
	gv_catalog_free(cat);
	json_decref(root);
	return rc;
}

int gv_catalog_load(const char *path, struct gv_catalog **out, struct gv_err *err)
{
	FILE *f = NULL;
	struct gv_buf buf = GV_BUF_INIT;
	int rc;

	if (out)
		*out = NULL;
	if (!path || !out)
		return gv_err_set(err, EINVAL, "catalog: no path");
	f = fopen(path, "rb");
	if (!f) {
		rc = gv_err_sys(err, "catalog %s", path);
		goto out;
	}
	for (;;) {
		size_t got;

		/* a file of 64 MiB or more is refused, at the first read past it */
		if (buf.len >= (64u << 20)) {
			rc = gv_err_set(err, EFBIG, "catalog %s: larger than 64 MiB", path);
			goto out;
		}
		if (gv_buf_reserve(&buf, 65536) < 0) {
			rc = gv_err_set(err, ENOMEM, "catalog %s: out of memory", path);
			goto out;
		}
		got = fread(buf.data + buf.len, 1, buf.cap - buf.len - 1, f);
		buf.len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = gv_err_set(err, EIO, "catalog %s: read error", path);
		goto out;
	}
	rc = gv_catalog_parse(buf.data, buf.len, out, err);
	if (rc < 0)
		gv_err_prefix(err, "%s", path);
out:
	if (f)
		fclose(f);
	gv_buf_free(&buf);
	return rc;
}

void gv_catalog_free(struct gv_catalog *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->n_models; i++)
		model_clear(&cat->models[i]);
	free(cat->models);
	free(cat->source);
	free(cat);
}

/* ---- default path ----------------------------------------------------- */

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const char *gv_catalog_default_path(void)
{
	/* Resolved on every call (the environment may change); only string
	 * constants or the environment's own storage are returned. */
	char exe[4096];
	const char *env = getenv("GPUVISOR_CATALOG");
	const char *src = GV_SOURCE_DIR "/data/catalog.json";
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (path_under(exe, GV_BUILD_DIR) && access(src, R_OK) == 0)
			return src;
	}
	return GV_DATADIR "/catalog.json";
}

/* ---- look-ups ------------------------------------------------------------ */

size_t gv_catalog_n_models(const struct gv_catalog *cat)
{
	return cat ? cat->n_models : 0;
}

const struct gv_model *gv_catalog_model_at(const struct gv_catalog *cat, size_t i)
{
	if (!cat || i >= cat->n_models)
		return NULL;
	return &cat->models[i].pub;
}

const struct gv_model *gv_catalog_find_model(const struct gv_catalog *cat, const char *id)
{
	size_t i;

	if (!cat || !id)
		return NULL;
	for (i = 0; i < cat->n_models; i++)
		if (model_has_key(&cat->models[i].pub, id))
			return &cat->models[i].pub;
	return NULL;
}

static bool name_matches(const struct gv_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_names; i++) {
		const char *n = m->names[i];

		if (strcasecmp(n, name) == 0)
			return true;
		/* NVML names carry "NVIDIA "; older tools and users drop it. */
		if (strncasecmp(n, "NVIDIA ", 7) == 0 && strcasecmp(n + 7, name) == 0)
			return true;
	}
	return false;
}

const struct gv_model *gv_catalog_match_ex(const struct gv_catalog *cat, uint32_t pci_device_id,
					   const char *name, uint64_t mem_mib, const char **how)
{
	const struct gv_model *best = NULL;
	uint64_t best_diff = UINT64_MAX;
	bool tie = false;
	size_t i, j;

	if (how)
		*how = NULL;
	if (!cat)
		return NULL;
	if (pci_device_id) {
		for (i = 0; i < cat->n_models; i++)
			for (j = 0; cat->models[i].pub.pci_ids[j]; j++)
				if (cat->models[i].pub.pci_ids[j] == pci_device_id) {
					if (how)
						*how = "pci_id";
					return &cat->models[i].pub;
				}
	}
	if (name && *name) {
		for (i = 0; i < cat->n_models; i++)
			if (name_matches(&cat->models[i].pub, name)) {
				if (how)
					*how = "name";
				return &cat->models[i].pub;
			}
	}
	if (!mem_mib)
		return NULL;
	for (i = 0; i < cat->n_models; i++) {
		const struct gv_model *m = &cat->models[i].pub;
		uint64_t diff = m->mem_mib > mem_mib ? m->mem_mib - mem_mib : mem_mib - m->mem_mib;

		/* within 3% of the catalog's size: diff/mem <= 3/100 */
		if (diff * 100 > m->mem_mib * 3)
			continue;
		if (diff < best_diff) {
			best = m;
			best_diff = diff;
			tie = false;
		} else if (diff == best_diff) {
			tie = true;
		}
	}
	if (!best || tie)
		return NULL;
	if (how)
		*how = "memory";
	return best;
}

const struct gv_model *gv_catalog_match(const struct gv_catalog *cat, uint32_t pci_device_id,
					const char *name, uint64_t mem_mib)
{
	return gv_catalog_match_ex(cat, pci_device_id, name, mem_mib, NULL);
}

static const struct gv_profile *find_exact(const struct gv_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_profiles; i++)
		if (strcasecmp(m->profiles[i].name, name) == 0)
			return &m->profiles[i];
	return NULL;
}

const struct gv_profile *gv_model_find_profile(const struct gv_model *m, const char *name)
{
	const struct gv_profile *p;
	char buf[2 * GV_NAME_MAX];
	size_t i;

	if (!m || !name)
		return NULL;
	p = find_exact(m, name);
	if (p)
		return p;
	if (strncasecmp(name, "grid_", 5) == 0 || strncasecmp(name, "grid ", 5) == 0) {
		name += 5;
		p = find_exact(m, name);
		if (p)
			return p;
	}
	for (i = 0; i < m->n_board_aliases; i++) {
		size_t n = strlen(m->board_aliases[i]);

		if (strncasecmp(name, m->board_aliases[i], n) == 0 && name[n] == '-') {
			snprintf(buf, sizeof(buf), "%s%s", m->board, name + n);
			p = find_exact(m, buf);
			if (p)
				return p;
		}
	}
	return NULL;
}

/* ---- names ------------------------------------------------------------------ */

/* The words of the API, the CLI and the state database alike. */
GV_NAMETAB(gv_mode, enum gv_mode, "unknown", "unknown mode '%s': passthrough, timeslice or mig",
	   { GV_MODE_PASSTHROUGH, "passthrough" }, { GV_MODE_TIMESLICE, "timeslice" },
	   { GV_MODE_MIG, "mig" })

GV_NAMETAB_NAME(gv_profile_kind, enum gv_profile_kind, "unknown",
		{ GV_PROFILE_PASSTHROUGH, "passthrough" }, { GV_PROFILE_TIMESLICE, "timeslice" },
		{ GV_PROFILE_MIG, "mig" }, { GV_PROFILE_MIG_VGPU, "mig-vgpu" })

bool gv_profile_kind_is_mig(enum gv_profile_kind kind)
{
	return kind == GV_PROFILE_MIG || kind == GV_PROFILE_MIG_VGPU;
}

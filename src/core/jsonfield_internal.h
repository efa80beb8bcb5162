/* gv_jf_: the field getters shared by the strict JSON parsers, over
 * jansson: the request parsers (apireq.c, advisereq.c, migreq.c, migctl.c)
 * and, through the gv_jf_at_ family at the end, the document files
 * (catalog.c, node.c). Private to src/core and to the migration plugin,
 * which compiles migctl.c and jsonfield.c itself (src/shim/mig.cmake).
 *
 * Every getter returns 0 or -EINVAL with the reason in err, in the words
 * users and tests already rely on ("field '<key>' ..."): change a message
 * only together with every parser's corpus and tests. On failure the
 * out-params are left as the getter's contract says below, never half
 * written. */
#ifndef GV_JSONFIELD_INTERNAL_H
#define GV_JSONFIELD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

/* Flags of the getters (unsigned flags). */
enum {
	/* Absent is refused: "field '<key>' is required". */
	GV_JF_REQUIRED = 1u << 0,
	/* JSON null reads as absent; without it, null is the wrong type. */
	GV_JF_NULL_ABSENT = 1u << 1,
	/* gv_jf_text: printable ASCII without spaces (0x21..0x7e). */
	GV_JF_ASCII = 1u << 2,
	/* gv_jf_text with GV_JF_ASCII: spaces (0x20) allowed too. */
	GV_JF_SPACES = 1u << 3,
	/* gv_jf_text: the migration control socket's wording: one message for
	 * either length bound ("must have 1 to N characters") and "must be
	 * printable ASCII" whether or not spaces are allowed. Without it: "must
	 * not be empty", "is longer than N characters" and "must be printable
	 * ASCII without spaces". */
	GV_JF_BRIEF = 1u << 4,
};

/* Parses body[0..len) as one JSON object (duplicate keys refused) into
 * *out, which the caller json_decref()s. len over max: -E2BIG; empty,
 * malformed or not an object: -EINVAL. *out is NULL on failure. */
int gv_jf_load(const char *body, size_t len, size_t max, json_t **out, struct gv_err *err);

/* Refuses the first key of o not in allowed (NULL-terminated):
 * "unknown field '<key>'" (the key cut at 64 bytes). */
int gv_jf_only(json_t *o, const char *const *allowed, struct gv_err *err);

/* A string member of 1..cap-1 characters (cap >= 2) copied with its
 * terminator into dst. dst is "" first, and stays so when the member is
 * absent (and not required) or on failure. Flags: GV_JF_REQUIRED,
 * GV_JF_NULL_ABSENT, GV_JF_ASCII, GV_JF_SPACES, GV_JF_BRIEF. */
int gv_jf_text(json_t *o, const char *key, unsigned flags, char *dst, size_t cap,
	       struct gv_err *err);

/* A boolean member ("must be true or false"). *out is written only when the
 * member is given and valid. Flags: GV_JF_REQUIRED, GV_JF_NULL_ABSENT. */
int gv_jf_bool(json_t *o, const char *key, unsigned flags, bool *out, struct gv_err *err);

/* An integer member within [lo, hi] ("must be an integer", "must be between
 * lo and hi"). *out is written only when the member is given and valid;
 * *present (may be NULL) tells whether it was. Flags: GV_JF_REQUIRED,
 * GV_JF_NULL_ABSENT. */
int gv_jf_uint(json_t *o, const char *key, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out,
	       bool *present, struct gv_err *err);
int gv_jf_int(json_t *o, const char *key, unsigned flags, long long lo, long long hi,
	      long long *out, bool *present, struct gv_err *err);

/* A list of ids: an array of 1..max strings (or, with one_ok, one string),
 * each as gv_jf_text(GV_JF_ASCII) takes it, none twice, into ids (max
 * slots of cap bytes). Absent or null: *n = 0. On failure *n = 0 and every
 * slot is "". */
int gv_jf_text_list(json_t *root, const char *key, bool one_ok, int max, char *ids, size_t cap,
		    int *n, struct gv_err *err);

/* ---- members of a document file ----------------------------------------
 * A file (catalog.json, a node description) names a bad member by where it
 * stands, in one of two spellings that users and tests already rely on:
 *   GV_JF_PATH    "gpus[0].mem_mib: must be an integer" (where "gpus[0]";
 *                 where "" is the document's root: "version: ...")
 *   GV_JF_QUOTED  "model x100: \"memory_mib\" must be an integer"
 * Every gv_jf_at_ getter returns 0 or -EINVAL with that message in err. */
enum gv_jf_style {
	GV_JF_PATH,
	GV_JF_QUOTED,
};

struct gv_jf_at {
	enum gv_jf_style style;
	const char *where; /* the enclosing object */
};

/* Refuses the first key of o not in allowed (NULL-terminated): PATH
 * "<where>.<key>: unknown field", QUOTED "<where>: unknown key \"<key>\"". */
int gv_jf_at_only(json_t *o, const char *const *allowed, const struct gv_jf_at *at,
		  struct gv_err *err);

/* The member at key, of type type (JSON_STRING, JSON_INTEGER, JSON_TRUE
 * for a boolean, JSON_ARRAY or JSON_OBJECT), in *out; *out NULL when it is
 * absent and not required (0) or on failure. Absent and required: PATH
 * "<where>.<key>: missing (required)", QUOTED "<where>: missing \"<key>\"";
 * another type: "must be a string" (an integer, true or false, an array, an
 * object). */
int gv_jf_at_member(json_t *o, const char *key, json_type type, bool required,
		    const struct gv_jf_at *at, json_t **out, struct gv_err *err);

/* A string member's value in *out (NULL when absent and not required, or
 * on failure). */
int gv_jf_at_str(json_t *o, const char *key, bool required, const char **out,
		 const struct gv_jf_at *at, struct gv_err *err);

/* An integer member within [lo, hi]: out of range is PATH "<v> is out of
 * range <lo>..<hi>", QUOTED "is <v>, must be <lo>..<hi>". *out is written
 * only when the member is given and valid; *present (may be NULL) tells
 * whether it was given. */
int gv_jf_at_int(json_t *o, const char *key, bool required, long long lo, long long hi,
		 long long *out, bool *present, const struct gv_jf_at *at, struct gv_err *err);

/* A boolean member; *out is written only when it is given. */
int gv_jf_at_bool(json_t *o, const char *key, bool *out, const struct gv_jf_at *at,
		  struct gv_err *err);

/* The failure of a member that the caller checked itself, worded like the
 * getters': PATH "<where>.<key>: <msg>", QUOTED "<where>: \"<key>\" <msg>". */
int gv_jf_at_fail(const struct gv_jf_at *at, const char *key, struct gv_err *err, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

#endif

/* gpuvisor: an enum's names, both directions from one table (gvbase).
 *
 * The naming rule: for an enum (or int code) X of module M,
 *	const char *M_X_name(type v)	the name of v
 *	int M_X_parse(const char *s, type *out, struct gv_err *err)
 * and the names live in one table, written once in the module's .c file:
 *
 *	GV_NAMETAB(gv_mode, enum gv_mode, "unknown",
 *		   "unknown mode '%s'",
 *		   { GV_MODE_PASSTHROUGH, "passthrough" },
 *		   { GV_MODE_TIMESLICE, "timeslice" })
 *
 * defines gv_mode_name and gv_mode_parse (their prototypes, and what each
 * name means, stay in the module's header). name gives the first entry
 * for v, or the third argument (which may be NULL) for a value the table
 * does not hold. parse takes a name exactly (case and all): 0 with *out
 * set (out may be NULL, to check a name), or -EINVAL with err set from the
 * fourth argument, a format whose one %s is s ("" for a NULL s); *out is
 * left alone then. GV_NAMETAB_NAME defines the name direction only, for an
 * enum that is written and never read back.
 */
#ifndef GPUVISOR_NAMETAB_H
#define GPUVISOR_NAMETAB_H

#include <errno.h>
#include <stddef.h>

#include "gpuvisor/err.h"

struct gv_nametab {
	int value;
	const char *name;
};

/* The lookups behind the macros: n entries of tab. */
const char *gv_nametab_name(const struct gv_nametab *tab, size_t n, int v, const char *unknown);
/* 0 and *out, or -ENOENT (s NULL or not a name in tab). */
int gv_nametab_parse(const struct gv_nametab *tab, size_t n, const char *s, int *out);

#define GV_NAMETAB_N(tab) (sizeof(tab) / sizeof((tab)[0]))

#define GV_NAMETAB_NAME(prefix, type, unknown, ...)                                          \
	static const struct gv_nametab prefix##_names[] = { __VA_ARGS__ };                   \
	const char *prefix##_name(type v)                                                    \
	{                                                                                    \
		return gv_nametab_name(prefix##_names, GV_NAMETAB_N(prefix##_names), (int)v, \
				       unknown);                                             \
	}

#define GV_NAMETAB(prefix, type, unknown, badfmt, ...)                                          \
	GV_NAMETAB_NAME(prefix, type, unknown, __VA_ARGS__)                                     \
	int prefix##_parse(const char *s, type *out, struct gv_err *err)                        \
	{                                                                                       \
		int v_;                                                                         \
                                                                                                \
		if (gv_nametab_parse(prefix##_names, GV_NAMETAB_N(prefix##_names), s, &v_) < 0) \
			return gv_err_set(err, EINVAL, badfmt, s ? s : "");                     \
		if (out)                                                                        \
			*out = (type)v_;                                                        \
		return 0;                                                                       \
	}

#endif

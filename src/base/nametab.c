/* gv_nametab_: the lookups behind GV_NAMETAB (include/gpuvisor/nametab.h). */
#include "gpuvisor/nametab.h"

#include <string.h>

const char *gv_nametab_name(const struct gv_nametab *tab, size_t n, int v, const char *unknown)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].value == v)
			return tab[i].name;
	return unknown;
}

int gv_nametab_parse(const struct gv_nametab *tab, size_t n, const char *s, int *out)
{
	for (size_t i = 0; s && i < n; i++) {
		if (strcmp(tab[i].name, s) == 0) {
			*out = tab[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

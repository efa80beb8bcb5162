/* gpuvisor CLI: aligned text tables (column widths computed from content). */
#ifndef GV_TABLE_H
#define GV_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct gv_table;

/* headers: ncols column titles. A title starting with '>' is right-aligned
 * (the '>' is not printed). NULL on ENOMEM. */
struct gv_table *gv_table_new(size_t ncols, const char *const *headers);
void gv_table_free(struct gv_table *t);
/* Starts a new row; cells are added left to right with gv_table_cell. */
int gv_table_row(struct gv_table *t);
int gv_table_cell(struct gv_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t gv_table_rows(const struct gv_table *t);
/* Prints header and rows; missing cells print as empty. Two spaces between
 * columns, no trailing blanks. */
void gv_table_print(const struct gv_table *t, FILE *f);
/* gv_table_print, or the line "<empty>" when the table has no rows. */
void gv_table_print_or(const struct gv_table *t, FILE *f, const char *empty);

#endif

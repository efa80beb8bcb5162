#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct gv_table {
	size_t ncols;
	char **headers;
	bool *right;
	char **cells; /* nrows * ncols, NULL = empty */
	size_t nrows;
	size_t cap_rows;
	size_t cur_col; /* next cell of the last row */
};

/* Display width: counts UTF-8 code points, not bytes. */
static size_t gv_table_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

struct gv_table *gv_table_new(size_t ncols, const char *const *headers)
{
	struct gv_table *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t)
		goto out;
	t->ncols = ncols;
	t->headers = calloc(ncols, sizeof(*t->headers));
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->headers || !t->right)
		goto out;
	for (i = 0; i < ncols; i++) {
		const char *h = headers[i];

		if (h[0] == '>') {
			t->right[i] = true;
			h++;
		}
		t->headers[i] = strdup(h);
		if (!t->headers[i])
			goto out;
	}
	return t;
out:
	gv_table_free(t);
	return NULL;
}

void gv_table_free(struct gv_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->right);
	free(t->cells);
	free(t);
}

int gv_table_row(struct gv_table *t)
{
	if (t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap_rows = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	t->nrows++;
	t->cur_col = 0;
	return 0;
}

int gv_table_cell(struct gv_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	if (t->nrows == 0 || t->cur_col >= t->ncols)
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	t->cells[(t->nrows - 1) * t->ncols + t->cur_col++] = s;
	return 0;
}

size_t gv_table_rows(const struct gv_table *t)
{
	return t->nrows;
}

static void gv_table_print_row(const struct gv_table *t, char *const *cells, const size_t *width,
			       FILE *f)
{
	size_t c, last = 0;

	/* the last non-empty cell ends the line, so no trailing blanks */
	for (c = 0; c < t->ncols; c++)
		if (cells[c] && cells[c][0])
			last = c;
	for (c = 0; c <= last; c++) {
		const char *s = cells[c] ? cells[c] : "";
		size_t pad = width[c] - gv_table_width(s);

		if (c > 0)
			fputs("  ", f);
		if (t->right[c])
			fprintf(f, "%*s%s", (int)pad, "", s);
		else if (c == last)
			fputs(s, f);
		else
			fprintf(f, "%s%*s", s, (int)pad, "");
	}
	fputc('\n', f);
}

void gv_table_print(const struct gv_table *t, FILE *f)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	size_t r, c;

	if (!width)
		return;
	for (c = 0; c < t->ncols; c++)
		width[c] = gv_table_width(t->headers[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t w = gv_table_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	gv_table_print_row(t, t->headers, width, f);
	for (r = 0; r < t->nrows; r++)
		gv_table_print_row(t, &t->cells[r * t->ncols], width, f);
	free(width);
}

void gv_table_print_or(const struct gv_table *t, FILE *f, const char *empty)
{
	if (t->nrows == 0)
		fprintf(f, "%s\n", empty);
	else
		gv_table_print(t, f);
}

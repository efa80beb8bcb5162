/* gpuvisor CLI: the listing subcommands' common shape (gpus, list,
 * migrations): GET one array from gpuvisord and print it as a table, or as
 * the daemon's JSON with --json. Private to src/cli. */
#ifndef GV_CLI_LISTING_H
#define GV_CLI_LISTING_H

#include <stddef.h>

#include <jansson.h>

#include "cli.h"
#include "table.h"

struct gv_listing {
	const char *path;	   /* "/v1/gpus" */
	const char *key;	   /* the answer's array member: "gpus" */
	const char *const *header; /* the table's columns (table.h: ">" right-aligns) */
	size_t n_cols;
	/* Adds the row of one element of the array (gv_table_row, then one
	 * gv_table_cell per column). */
	void (*row)(struct gv_table *t, const json_t *item);
	const char *empty; /* the line printed instead of an empty table */
	/* Optional: prints notes below the table, given the whole array. */
	void (*after)(const json_t *list);
};

/* The whole subcommand for a listing without options of its own: parses
 * --json and --help, GETs l->path and prints the table (or, with --json,
 * the answer as it came). Returns the exit code. */
int gv_cli_listing(struct gv_cli *cli, int argc, char **argv, const struct gv_listing *l);

#endif

/* The listing subcommands' common shape (listing.h). */
#include "listing.h"

int gv_cli_listing(struct gv_cli *cli, int argc, char **argv, const struct gv_listing *l)
{
	struct gv_table *t = NULL;
	json_t *resp = NULL, *list, *item;
	bool as_json = false;
	size_t i;
	int rc;

	rc = gv_cli_parse_flags(cli, argc, argv, &as_json);
	if (rc != GV_CLI_GO)
		return rc;
	rc = gv_cli_get_list(cli, l->path, l->key, as_json, &resp, &list);
	if (rc || !list)
		goto out;
	t = gv_table_new(l->n_cols, l->header);
	if (!t) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	json_array_foreach(list, i, item)
		l->row(t, item);
	gv_table_print_or(t, stdout, l->empty);
	if (l->after)
		l->after(list);
out:
	gv_table_free(t);
	json_decref(resp);
	return rc;
}

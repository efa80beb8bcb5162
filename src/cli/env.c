/* The environment a workload gets from an instance: GET
 * /v1/instances/ID/env, completed where the daemon leaves something out
 * that the workload needs. Shared by `gpuvisor run` and `gpuvisor cdi`.
 *
 * Completion: on a simulated node, libcudasim reads the catalog to know the
 * devices' models. It must be the daemon's catalog (GET /v1/node), and in a
 * container it must be mounted, so GPUVISOR_CATALOG and a mount of that file
 * are added when the answer has GPUVISOR_SIM_NODE but no GPUVISOR_CATALOG.
 *
 * The admin socket never goes to a workload (docs/api.md, "Tenants"): a
 * daemon older than that rule still sent GPUVISOR_SOCKET and a mount of
 * the socket; both are dropped here, as is any mount of the socket this
 * CLI talks to. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Removes mounts of host path sock (NULL: none) from the array mounts. */
static void gv_env_drop_mounts(json_t *mounts, const char *sock)
{
	size_t i = 0;

	if (!sock || !json_is_array(mounts))
		return;
	while (i < json_array_size(mounts)) {
		const char *host =
			json_string_value(json_object_get(json_array_get(mounts, i), "host"));

		if (host && strcmp(host, sock) == 0)
			json_array_remove(mounts, i);
		else
			i++;
	}
}

/* Drops the admin socket from the answer's env, mounts and migration part. */
static void gv_env_drop_admin(struct gv_cli *cli, json_t *resp)
{
	json_t *parts[2] = { resp, json_object_get(resp, "migration") };
	const char *mine = cli->client ? gv_client_socket(cli->client) : cli->socket;
	size_t k;

	for (k = 0; k < 2; k++) {
		json_t *vars = json_object_get(parts[k], "env");
		json_t *mounts = json_object_get(parts[k], "mounts");
		const char *sent = json_string_value(json_object_get(vars, "GPUVISOR_SOCKET"));

		gv_env_drop_mounts(mounts, sent);
		gv_env_drop_mounts(mounts, mine);
		if (json_is_object(vars))
			json_object_del(vars, "GPUVISOR_SOCKET");
	}
}

static int gv_env_complete(struct gv_cli *cli, json_t *resp)
{
	json_t *vars = json_object_get(resp, "env");
	json_t *mounts = json_object_get(resp, "mounts");
	json_t *node = NULL;
	const char *catalog;
	int rc;

	if (!json_is_object(vars) || !json_object_get(vars, "GPUVISOR_SIM_NODE") ||
	    json_object_get(vars, "GPUVISOR_CATALOG"))
		return GV_EXIT_OK;
	rc = gv_cli_call(cli, "GET", "/v1/node", NULL, &node);
	if (rc)
		goto out;
	catalog = gv_json_str(node, "catalog", NULL);
	if (!catalog || catalog[0] != '/')
		goto out; /* nothing better to give than the workload's default */
	if (json_object_set_new(vars, "GPUVISOR_CATALOG", json_string(catalog)) < 0) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (!json_is_array(mounts)) {
		mounts = json_array();
		if (!mounts || json_object_set_new(resp, "mounts", mounts) < 0) {
			rc = GV_EXIT_REFUSED;
			goto out;
		}
	}
	if (json_array_append_new(
		    mounts, json_pack("{s:s, s:s}", "host", catalog, "container", catalog)) < 0)
		rc = GV_EXIT_REFUSED;
out:
	json_decref(node);
	return rc;
}

int gv_cli_instance_env(struct gv_cli *cli, const char *id, json_t **out)
{
	char *path = gv_cli_path(cli, "/v1/instances/", id, "/env");
	json_t *resp = NULL;
	int rc = GV_EXIT_REFUSED;

	*out = NULL;
	if (!path)
		goto out;
	rc = gv_cli_call(cli, "GET", path, NULL, &resp);
	if (rc)
		goto out;
	if (!json_is_object(json_object_get(resp, "env"))) {
		fprintf(stderr, "gpuvisor: gpuvisord's answer for %s has no \"env\" object\n", id);
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	gv_env_drop_admin(cli, resp);
	rc = gv_env_complete(cli, resp);
	if (rc)
		goto out;
	*out = resp;
	resp = NULL;
out:
	json_decref(resp);
	free(path);
	return rc;
}

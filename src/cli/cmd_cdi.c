/* gpuvisor cdi: a CDI spec (kind gpuvisor.io/vgpu) with one device per
 * instance, so podman/containerd can attach an instance to a container:
 *   podman run --device gpuvisor.io/vgpu=i-1 ...
 *
 * Each device's containerEdits are the daemon's description of what the
 * instance's workload gets (GET /v1/instances/ID/env, src/daemon/edits.c),
 * the same one `gpuvisor run` uses, translated and nothing added: its
 * environment, bind mounts of every host path the workload needs at the
 * same paths (the shim's directory, the driver or the simulator, the
 * instance's tenant endpoint directory, ...; read-only unless the daemon
 * says "rw"), and, on a real GPU, the instance's device nodes only. Never
 * the daemon's admin socket (env.c drops it even from an older daemon's
 * answer): a container is a tenant's.
 * The spec uses env, mounts and deviceNodes, which cdiVersion 0.5.0 has;
 * that is the default because older runtimes (podman 4.3) refuse newer
 * versions. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GV_CDI_KIND "gpuvisor.io/vgpu"
#define GV_CDI_DEFAULT_OUTPUT "/var/run/cdi/gpuvisor.json"

static const char *const gv_cdi_versions[] = { "0.5.0", "0.6.0", "0.7.0", "0.8.0" };

/* Adds (or upgrades to read-write) a bind mount of host at the same path. */
static int gv_cdi_add_mount(json_t *mounts, const char *host, const char *container, bool rw)
{
	json_t *m;
	size_t i;

	if (!host || !*host || host[0] != '/')
		return 0;
	if (!container || !*container)
		container = host;
	json_array_foreach(mounts, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "containerPath")), container) ==
		    0) {
			if (rw)
				json_array_set_new(json_object_get(m, "options"), 0,
						   json_string("rw"));
			return 0;
		}
	}
	m = json_pack("{s:s, s:s, s:[s,s,s,s]}", "hostPath", host, "containerPath", container,
		      "options", rw ? "rw" : "ro", "nosuid", "nodev", "bind");
	return m ? json_array_append_new(mounts, m) : -ENOMEM;
}

static int gv_cdi_cmp_mount(const void *a, const void *b)
{
	const char *pa = json_string_value(json_object_get(*(json_t *const *)a, "containerPath"));
	const char *pb = json_string_value(json_object_get(*(json_t *const *)b, "containerPath"));
	size_t la = strlen(pa), lb = strlen(pb);

	/* parents before children, so a file mount lands on top of its dir's */
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(pa, pb);
}

static json_t *gv_cdi_sorted(json_t *mounts)
{
	size_t n = json_array_size(mounts), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array(), *ret = NULL;

	if (!v || !out)
		goto out;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(mounts, i);
	qsort(v, n, sizeof(*v), gv_cdi_cmp_mount);
	for (i = 0; i < n; i++)
		if (json_array_append(out, v[i]) < 0)
			goto out;
	ret = out;
	out = NULL;
out:
	free(v);
	json_decref(out);
	return ret;
}

/* One CDI device from GET /v1/instances/ID/env (the daemon's description
 * of what the instance's workload gets, edits.c): its env (with
 * LD_LIBRARY_PATH from LD_LIBRARY_PATH_PREPEND: a container has no
 * LD_LIBRARY_PATH of its own to keep), its mounts (ro unless "rw") and its
 * device nodes. NULL (reason printed) on error. */
static json_t *gv_cdi_device(const char *id, const json_t *envresp)
{
	const json_t *vars = json_object_get(envresp, "env");
	const json_t *dmounts = json_object_get(envresp, "mounts");
	const json_t *ddevs = json_object_get(envresp, "devices");
	const char *prepend = json_string_value(json_object_get(vars, "LD_LIBRARY_PATH_PREPEND"));
	json_t *dev = NULL, *env = json_array(), *mounts = json_array(), *nodes = json_array();
	json_t *sorted = NULL, *val, *m;
	const char *key;
	size_t i;

	if (!env || !mounts || !nodes || !json_is_object(vars)) {
		fprintf(stderr, "gpuvisor: %s: gpuvisord's answer has no \"env\" object\n", id);
		goto out;
	}
	json_object_foreach((json_t *)vars, key, val) {
		char *kv = NULL;

		if (!json_is_string(val)) {
			fprintf(stderr, "gpuvisor: %s: non-string value for %s\n", id, key);
			goto out;
		}
		if (strcmp(key, "LD_LIBRARY_PATH_PREPEND") == 0)
			continue;
		if (asprintf(&kv, "%s=%s", key, json_string_value(val)) < 0 ||
		    json_array_append_new(env, json_string(kv)) < 0) {
			free(kv);
			goto out;
		}
		free(kv);
	}
	if (prepend && *prepend) {
		char *kv = NULL;

		if (asprintf(&kv, "LD_LIBRARY_PATH=%s", prepend) < 0 ||
		    json_array_append_new(env, json_string(kv)) < 0) {
			free(kv);
			goto out;
		}
		free(kv);
	}
	json_array_foreach(dmounts, i, m) {
		const char *host = json_string_value(json_object_get(m, "host"));
		struct stat st;

		if (gv_cdi_add_mount(mounts, host,
				     json_string_value(json_object_get(m, "container")),
				     json_is_true(json_object_get(m, "rw"))) < 0)
			goto out;
		if (host && stat(host, &st) < 0)
			fprintf(stderr,
				"gpuvisor: warning: %s: %s does not exist on this host (%s)\n", id,
				host, strerror(errno));
	}
	json_array_foreach(ddevs, i, m) {
		const char *path = json_string_value(json_object_get(m, "path"));

		if (path && path[0] == '/' &&
		    json_array_append_new(nodes, json_pack("{s:s}", "path", path)) < 0)
			goto out;
	}
	sorted = gv_cdi_sorted(mounts);
	if (!sorted)
		goto out;
	if (json_array_size(nodes))
		dev = json_pack("{s:s, s:{s:O, s:O, s:O}}", "name", id, "containerEdits", "env",
				env, "deviceNodes", nodes, "mounts", sorted);
	else
		dev = json_pack("{s:s, s:{s:O, s:O}}", "name", id, "containerEdits", "env", env,
				"mounts", sorted);
out:
	json_decref(env);
	json_decref(mounts);
	json_decref(nodes);
	json_decref(sorted);
	return dev;
}

/* Replaces path atomically: temp file in the same directory, fsync, rename.
 * The temp name does not end in .json, so runtimes never read it half-written. */
static int gv_cdi_write(const char *path, const char *text)
{
	char *dir_copy = strdup(path), *tmp = NULL;
	const char *dir = dir_copy ? dirname(dir_copy) : NULL;
	size_t len = strlen(text), off = 0;
	int fd = -1, rc = -1;

	if (!dir || asprintf(&tmp, "%s/.gpuvisor-cdi.XXXXXX", dir) < 0) {
		tmp = NULL;
		fprintf(stderr, "gpuvisor: out of memory\n");
		goto out;
	}
	/* /var/run/cdi is often missing until something writes a spec */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gpuvisor: cannot create %s: %s\n", dir, strerror(errno));
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "gpuvisor: cannot write in %s: %s\n", dir, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "gpuvisor: cannot write %s: %s\n", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		fprintf(stderr, "gpuvisor: cannot write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "gpuvisor: cannot replace %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(dir_copy);
	return rc;
}

static int cdi_run(struct gv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "cdi-version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = GV_CDI_DEFAULT_OUTPUT, *version = "0.5.0";
	json_t *list = NULL, *spec = NULL, *devices, *in;
	char *text = NULL;
	size_t i, v;
	int c, rc;

	while ((c = gv_cli_getopt(cli, argc, argv, "+ho:", opts, NULL, &rc)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'v':
			version = optarg;
			break;
		default:
			return rc;
		}
	}
	if (optind < argc)
		return gv_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	for (v = 0; v < sizeof(gv_cdi_versions) / sizeof(gv_cdi_versions[0]); v++)
		if (strcmp(version, gv_cdi_versions[v]) == 0)
			break;
	if (v == sizeof(gv_cdi_versions) / sizeof(gv_cdi_versions[0]))
		return gv_cli_usage_error(cli, "unsupported --cdi-version '%s' (0.5.0 to 0.8.0)",
					  version);
	if (!*output)
		return gv_cli_usage_error(cli, "--output needs a path, or - for stdout");

	rc = gv_cli_call(cli, "GET", "/v1/instances", NULL, &list);
	if (rc)
		goto out;
	spec = json_pack("{s:s, s:s, s:[]}", "cdiVersion", version, "kind", GV_CDI_KIND, "devices");
	if (!spec || !json_is_array(json_object_get(list, "instances"))) {
		fprintf(stderr, "gpuvisor: gpuvisord's answer has no \"instances\" list\n");
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	devices = json_object_get(spec, "devices");
	json_array_foreach(json_object_get(list, "instances"), i, in) {
		const char *id = gv_json_str(in, "id", NULL);
		json_t *envresp = NULL, *dev = NULL;

		if (!id) {
			fprintf(stderr, "gpuvisor: gpuvisord listed an instance without an id\n");
			rc = GV_EXIT_REFUSED;
			goto out;
		}
		rc = gv_cli_instance_env(cli, id, &envresp);
		if (rc == GV_EXIT_OK) {
			dev = gv_cdi_device(id, envresp);
			if (!dev || json_array_append_new(devices, dev) < 0)
				rc = GV_EXIT_REFUSED;
		}
		json_decref(envresp);
		if (rc)
			goto out;
	}
	text = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = GV_EXIT_REFUSED;
		goto out;
	}
	if (strcmp(output, "-") == 0) {
		printf("%s\n", text);
		rc = fflush(stdout) == 0 ? GV_EXIT_OK : GV_EXIT_REFUSED;
		goto out;
	}
	{
		char *withnl = NULL;

		if (asprintf(&withnl, "%s\n", text) < 0) {
			rc = GV_EXIT_REFUSED;
			goto out;
		}
		rc = gv_cdi_write(output, withnl) == 0 ? GV_EXIT_OK : GV_EXIT_REFUSED;
		free(withnl);
	}
	if (rc == GV_EXIT_OK) {
		printf("wrote %s: cdiVersion %s, %zu device%s", output, version,
		       json_array_size(devices), json_array_size(devices) == 1 ? "" : "s");
		json_array_foreach(devices, i, in)
			printf("%s" GV_CDI_KIND "=%s", i ? ", " : " (",
			       gv_json_str(in, "name", "?"));
		printf("%s\n", json_array_size(devices) ? ")" : "");
	}
out:
	free(text);
	json_decref(spec);
	json_decref(list);
	return rc;
}

const struct gv_cmd gv_cmd_cdi = {
	.name = "cdi",
	.run = cdi_run,
	.usage = "cdi [--output PATH] [--cdi-version V]",
	.summary = "Write a CDI spec (kind gpuvisor.io/vgpu) with one device per instance.",
	.help = "  --output PATH      where to write it (default /var/run/cdi/gpuvisor.json,\n"
		"                     replaced atomically); - for stdout\n"
		"  --cdi-version V    cdiVersion to declare: 0.5.0 (default; the lowest that\n"
		"                     has what the spec uses, readable by podman 4.3) .. 0.8.0\n"
		"\nexamples:\n"
		"  gpuvisor cdi && podman run --device gpuvisor.io/vgpu=i-1 ...\n"
		"  gpuvisor cdi --output - --cdi-version 0.8.0\n",
};

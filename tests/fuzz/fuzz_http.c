/* Fuzz target for the HTTP request layer (src/daemon/request.c) as the
 * daemon sees a request: method, raw target (path and query), the
 * Authorization header, TCP or Unix socket, and the body, served by the
 * real route handlers against a simulated node in a temporary state
 * directory (made on the first input, removed at exit). Input:
 *
 *   FLAGS METHOD '\n' TARGET '\n' AUTH '\n' BODY
 *
 * FLAGS is one byte: bit 0 TCP (the token below is then needed), bit 1 the
 * transport saw a hidden byte in the head, bit 2 the body was over the
 * limit, bit 3 AUTH is the Cookie header instead of Authorization, bit 4
 * "X-Gpuvisor-Console: 1" came. Missing parts are empty; an empty AUTH is
 * no header. The console's files are the build tree's.
 *
 * Besides not crashing (ASan, UBSan), it checks the contract of every
 * answer: a status 200-599, JSON, (metrics) text, a console file, or no
 * body at all for 204 and 303 (with a Location for 303), an error as
 * {"error":{"code","message"}} with the code word of its status, valid
 * UTF-8 (json_dumps refuses anything else), and never a 500 "out of
 * memory". State carries over between inputs (instances, modes), as in a
 * running daemon. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "gpuvisor/rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "0123456789abcdef0123456789abcdef"

static struct gvd d;
static char dir[64];
static int ready; /* 0 not tried, 1 ready, -1 failed */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static void cleanup(void)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	struct gv_node_desc *desc = calloc(1, sizeof(*desc));
	struct gv_err err = { 0 };
	int ret;

	snprintf(dir, sizeof(dir), "%s", "/dev/shm/gv-fuzz-http.XXXXXX");
	if (!desc || !mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "%s", "/tmp/gv-fuzz-http.XXXXXX");
		if (!desc || !mkdtemp(dir)) {
			dir[0] = '\0';
			free(desc);
			return -1;
		}
	}
	atexit(cleanup);
	d.o.socket_path = "/nonexistent/api.sock";
	d.o.state_dir = dir;
	d.o.run_dir = dir;
	d.o.catalog_path = GV_SOURCE_DIR "/data/catalog.json";
	d.o.backend = "sim";
	d.o.lib_dir = GV_BUILD_DIR "/lib";
	d.o.log_level = GVD_LOG_ERROR;
	d.o.group = "";
	d.o.request_timeout_s = 30;
	gvd_log_set_level(GVD_LOG_ERROR);
	snprintf(d.db_path, sizeof(d.db_path), "%s/gpuvisor.db", dir);
	snprintf(d.sim_node_path, sizeof(d.sim_node_path), "%s/sim-node.json", dir);
	gv_rundir_path(dir, GV_RUNDIR_ACCT, NULL, d.acct_dir, sizeof(d.acct_dir));
	gv_rundir_path(dir, GV_RUNDIR_SCHED, NULL, d.sched_dir, sizeof(d.sched_dir));
	snprintf(d.token, sizeof(d.token), "%s", TOKEN);
	pthread_mutex_init(&d.lock, NULL);
	gvd_metrics_init(&d.metrics);
	atomic_init(&d.stopping, false);
	ret = gvd_mkdir_p(d.acct_dir, 0750, &err);
	if (!ret)
		ret = gv_catalog_load(d.o.catalog_path, &d.cat, &err);
	if (!ret)
		ret = gv_store_open(d.db_path, &d.st, &err);
	if (!ret)
		ret = gv_node_from_spec(d.cat, "a100-40gb:1,h100-80gb:1", desc, &err);
	if (!ret)
		ret = gv_backend_sim_new(d.cat, desc, d.sim_node_path, &d.be, &err);
	free(desc);
	if (!ret) {
		d.sim = true;
		ret = gvd_reconcile(&d, &err);
	}
	if (ret) {
		fprintf(stderr, "fuzz_http: setup: %s\n", err.msg);
		return -1;
	}
	gvd_sched_sync(&d, &err);
	d.console_fd = open(GV_BUILD_DIR "/share/gpuvisor/console", O_RDONLY | O_DIRECTORY);
	if (gv_console_auth_new(NULL, NULL, NULL, &d.console, &err) != 0 ||
	    gvd_history_new(&d.history, &err) != 0) {
		fprintf(stderr, "fuzz_http: setup: %s\n", err.msg);
		return -1;
	}
	/* one sample, so that /v1/history has something to show */
	gvd_history_sample(&d);
	return 0;
}

/* The part of data up to the next '\n' (or the end); *pos moves past it. */
static char *part(const uint8_t *data, size_t size, size_t *pos, size_t *len)
{
	const uint8_t *s = data + *pos, *nl = memchr(s, '\n', size - *pos);
	size_t n = nl ? (size_t)(nl - s) : size - *pos;
	char *out = malloc(n + 1);

	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	*pos += n + (nl ? 1 : 0);
	*len = n;
	return out;
}

static void check(const struct gvd_resp *r)
{
	json_t *err, *code, *msg;
	char *text;

	if (r->status < 200 || r->status > 599)
		abort();
	if (r->status == 204 || r->status == 303) {
		if (r->json || r->text || r->file || (r->status == 303 && !r->location[0]))
			abort();
		return;
	}
	if (r->file) {
		if (r->json || r->text || !r->file_type || r->status != 200)
			abort();
		return;
	}
	if (!!r->json == !!r->text)
		abort();
	if (r->text)
		return;
	text = json_dumps(r->json, JSON_COMPACT);
	if (!text)
		abort(); /* not serialisable: invalid UTF-8 in a string */
	free(text);
	if (r->status < 400)
		return;
	err = json_object_get(r->json, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	if (!json_is_string(code) || !json_is_string(msg) ||
	    strcmp(json_string_value(code), gvd_status_name(r->status)) != 0)
		abort();
	if (r->status == 500 && strstr(json_string_value(msg), "out of memory"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gvd_http_in in = { 0 };
	struct gvd_resp r = { .status = 500 };
	char *method = NULL, *target = NULL, *auth = NULL, *body = NULL;
	size_t pos = 1, mlen, tlen, alen, blen;

	if (size < 1)
		return 0;
	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0)
		abort(); /* a target that cannot run must not pass */
	method = part(data, size, &pos, &mlen);
	target = part(data, size, &pos, &tlen);
	auth = part(data, size, &pos, &alen);
	blen = size - pos;
	body = malloc(blen + 1);
	if (!method || !target || !auth || !body)
		goto out;
	memcpy(body, data + pos, blen);
	body[blen] = '\0';
	in.method = method; /* a NUL in it ends it, as in libmicrohttpd */
	in.target = target;
	in.target_len = tlen;
	in.tcp = data[0] & 1;
	in.bad_head = data[0] & 2;
	in.body_too_large = data[0] & 4;
	in.head_len = mlen + tlen + alen + 32;
	if (alen && (data[0] & 8)) {
		in.cookie = auth;
		in.cookie_len = alen;
	} else if (alen) {
		in.auth = auth;
		in.auth_len = alen;
	}
	in.console_header = data[0] & 16;
	in.body = blen ? body : NULL;
	in.body_len = blen;
	if (gvd_http_refuse_early(&d, &in, &r)) {
		check(&r);
		json_decref(r.json);
		free(r.text);
		free(r.file);
		r = (struct gvd_resp){ .status = 500 };
	}
	gvd_http_serve(&d, &in, &r);
	check(&r);
	json_decref(r.json);
	free(r.text);
	free(r.file);
out:
	free(method);
	free(target);
	free(auth);
	free(body);
	return 0;
}

/* gpuvisord's copies of a driver pre-copy's source bulk (keep.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "gpuvisor/fdpass.h"
#include "keep.h"

/* The regions one map request carries: the shim's own batch limit. */
#define KEEP_BATCH 64
#define KEEP_MSG_MAX 4096

int gvd_keep_open(struct gvd_keep *k, struct gv_err *err)
{
	int sv[2];

	memset(k, 0, sizeof(*k));
	k->sock = k->child = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return gv_err_sys(err, "cannot make the pre-copy's keep socket");
	k->sock = sv[0];
	k->child = sv[1];
	return 0;
}

static void take(struct gvd_keep *k, json_t *ids, const int *fds, size_t n)
{
	size_t i;
	json_t *v;

	if (json_array_size(ids) != n) {
		k->lost = true;
		goto close_all;
	}
	if (k->n + n > k->cap) {
		size_t cap = (k->n + n) * 2;
		uint64_t *ni = realloc(k->ids, cap * sizeof(*ni));
		int *nf;

		if (ni)
			k->ids = ni;
		nf = ni ? realloc(k->fds, cap * sizeof(*nf)) : NULL;
		if (!nf) {
			k->lost = true;
			goto close_all;
		}
		k->fds = nf;
		k->cap = cap;
	}
	json_array_foreach(ids, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			k->lost = true;
			close(fds[i]);
			continue;
		}
		k->ids[k->n] = (uint64_t)json_integer_value(v);
		k->fds[k->n++] = fds[i];
	}
	return;
close_all:
	for (i = 0; i < n; i++)
		close(fds[i]);
}

void gvd_keep_collect(struct gvd_keep *k)
{
	char buf[KEEP_MSG_MAX + 1];

	if (k->child >= 0)
		close(k->child);
	k->child = -1;
	while (k->sock >= 0) {
		int fds[GV_FDPASS_MAX];
		size_t nfds = 0;
		bool lost = false;
		ssize_t got = gv_fdpass_recv(k->sock, buf, KEEP_MSG_MAX, MSG_DONTWAIT, fds,
					     GV_FDPASS_MAX, &nfds, &lost);
		json_t *j;
		const char *ph;

		if (got <= 0)
			break; /* all read (-EAGAIN), or the helper's end closed */
		buf[got] = '\0';
		k->lost = k->lost || lost;
		j = json_loads(buf, 0, NULL);
		ph = json_string_value(json_object_get(j, "phase"));
		if (json_is_array(json_object_get(j, "keep"))) {
			take(k, json_object_get(j, "keep"), fds, nfds);
			nfds = 0;
		} else if (ph && !strcmp(ph, "restoring")) {
			k->restoring = true;
		} else if (ph && !strcmp(ph, "restored")) {
			k->restored = true;
		} else {
			k->lost = true;
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		json_decref(j);
	}
}

bool gvd_keep_usable(const struct gvd_keep *k)
{
	return k->n > 0 && !k->lost;
}

/* One request on the bulk socket, its answer checked. */
static int call(int fd, struct gv_buf *b, json_t *req, const int *fds, size_t n, struct gv_err *err)
{
	atomic_bool stop = false;
	json_t *ans = NULL;
	int ret;

	if (!req)
		return gv_err_nomem(err);
	ret = gvd_ctl_send_fds(fd, req, fds, n, err);
	if (!ret)
		ret = gvd_ctl_recv(fd, b, 10000, &stop, &ans, err);
	if (!ret && !json_is_true(json_object_get(ans, "ok")))
		ret = gv_err_set(err, EIO, "the shim refused %s: %s",
				 json_string_value(json_object_get(req, "op")),
				 json_string_value(json_object_get(ans, "error"))
					 ? json_string_value(json_object_get(ans, "error"))
					 : "no reason");
	json_decref(ans);
	json_decref(req);
	return ret;
}

int gvd_keep_map_back(const struct gvd_keep *k, const char *path, pid_t owner, struct gv_err *err)
{
	struct gv_buf b;
	int fd = -1, ret;

	if (!gvd_keep_usable(k))
		return gv_err_set(err, ENOENT, "gpuvisord holds no copy of the source bulk");
	gv_buf_init(&b);
	ret = gvd_ctl_connect(path, owner, &fd, err);
	for (size_t i = 0; !ret && i < k->n; i += KEEP_BATCH) {
		size_t n = k->n - i < KEEP_BATCH ? k->n - i : KEEP_BATCH;
		json_t *ids = json_array();

		for (size_t q = 0; ids && q < n; q++)
			json_array_append_new(ids, json_integer((json_int_t)k->ids[i + q]));
		ret = call(fd, &b, json_pack("{s:s, s:o*}", "op", "map", "ids", ids), k->fds + i, n,
			   err);
	}
	if (!ret)
		ret = call(fd, &b, json_pack("{s:s}", "op", "go"), NULL, 0, err);
	if (fd >= 0)
		close(fd);
	gv_buf_free(&b);
	return ret;
}

void gvd_keep_free(struct gvd_keep *k)
{
	if (k->sock >= 0)
		close(k->sock);
	if (k->child >= 0)
		close(k->child);
	for (size_t i = 0; i < k->n; i++)
		close(k->fds[i]);
	free(k->ids);
	free(k->fds);
	memset(k, 0, sizeof(*k));
	k->sock = k->child = -1;
}

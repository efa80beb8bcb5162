/* GET /, /ui/, /ui/NAME: the console's static files (docs/api.md,
 * "Console"). They hold no data: no authentication. A file is served only
 * when its name is one path segment of [A-Za-z0-9._-] not starting with a
 * dot, its type is one of the table's, and it is a regular file directly
 * in the console directory (opened relative to the directory opened at
 * start, without following a symbolic link). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "gpuvisor/httpreq.h"

#define UI_FILE_MAX (8 * 1024 * 1024)

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".json", "application/json" },
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name), i, el;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		el = strlen(types[i].ext);
		if (n > el && strcmp(name + n - el, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static void serve_file(struct gvd *d, const char *name, struct gvd_resp *r)
{
	const char *type = type_of(name);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1;

	if (d->console_fd < 0 || !type || name[0] == '.' || !gv_http_id_valid(name, strlen(name))) {
		gvd_resp_error(r, 404, "no such file");
		return;
	}
	fd = openat(d->console_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		gvd_resp_error(r, 404, "no such file");
		goto out;
	}
	if (st.st_size > UI_FILE_MAX) {
		gvd_resp_error(r, 500, "console file %s is over %d bytes", name, UI_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		gvd_resp_error(r, 500, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		gvd_resp_error(r, 500, "cannot read console file %s", name);
		goto out;
	}
	json_decref(r->json);
	r->json = NULL;
	r->status = 200;
	r->file = buf;
	r->file_len = got;
	r->file_type = type;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
}

void gvd_route_root(struct gvd_req *q, struct gvd_resp *r)
{
	(void)q;
	gvd_resp_redirect(r, "/ui/");
}

void gvd_route_ui_index(struct gvd_req *q, struct gvd_resp *r)
{
	size_t n = strcspn(q->target, "?");

	/* "/ui" without its slash: the page's relative links would resolve
	 * against "/" */
	if (n == 0 || q->target[n - 1] != '/') {
		gvd_resp_redirect(r, "/ui/");
		return;
	}
	serve_file(q->d, "index.html", r);
}

void gvd_route_ui_file(struct gvd_req *q, struct gvd_resp *r)
{
	serve_file(q->d, q->seg[1], r);
}

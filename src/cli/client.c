#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "gpuvisor/buf.h"
#include "gpuvisor/xfuncs.h"

/* A response larger than this is not something gpuvisord sends. */
#define GV_CLIENT_MAX_BODY (64u << 20)

struct gv_client {
	CURL *curl;
	char *socket_path;
};

/* The answer's body as curl hands it over; overflow once it passed
 * GV_CLIENT_MAX_BODY (the transfer is then cut short). */
struct gv_client_body {
	struct gv_buf b;
	int overflow;
};

static size_t gv_client_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct gv_client_body *body = userdata;
	size_t n = size * nmemb;

	if (body->b.len + n + 1 > GV_CLIENT_MAX_BODY) {
		body->overflow = 1;
		return 0;
	}
	if (gv_buf_append(&body->b, ptr, n) < 0)
		return 0;
	return n;
}

int gv_client_new(const char *socket_path, struct gv_client **out, struct gv_err *err)
{
	struct gv_client *c = NULL;
	int rc = 0;

	*out = NULL;
	c = gv_xcalloc(err, 1, sizeof(*c));
	if (!c) {
		rc = -ENOMEM;
		goto out;
	}
	c->socket_path = strdup(socket_path);
	c->curl = curl_easy_init();
	if (!c->socket_path || !c->curl) {
		rc = gv_err_set(err, ENOMEM, "cannot initialise libcurl");
		goto out;
	}
	*out = c;
	c = NULL;
out:
	gv_client_free(c);
	return rc;
}

void gv_client_free(struct gv_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket_path);
	free(c);
}

const char *gv_client_socket(const struct gv_client *c)
{
	return c->socket_path;
}

char *gv_client_escape(struct gv_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *copy;

	if (!e)
		return NULL;
	/* curl's buffer must go back through curl_free: hand out a malloc'ed copy */
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static int gv_client_status_errno(long status)
{
	switch (status) {
	case 400:
		return EINVAL;
	case 404:
		return ENOENT;
	case 409:
		return EBUSY;
	case 413:
		return E2BIG;
	default:
		return EIO;
	}
}

/* The daemon's {"error":{"code","message"}} as err, or a generic reason. */
static int gv_client_http_error(long status, const char *body, struct gv_err *err)
{
	int code = gv_client_status_errno(status);
	json_t *root = body ? json_loads(body, 0, NULL) : NULL;
	json_t *e = root ? json_object_get(root, "error") : NULL;
	const char *msg = e ? json_string_value(json_object_get(e, "message")) : NULL;
	int rc;

	if (msg && *msg)
		rc = gv_err_set(err, code, "%s", msg);
	else
		rc = gv_err_set(err, code, "gpuvisord answered HTTP %ld without an error message",
				status);
	json_decref(root);
	return rc;
}

int gv_client_call(struct gv_client *c, const char *method, const char *path, const json_t *body,
		   json_t **out, long *status, struct gv_err *err)
{
	struct gv_client_body buf = { .b = GV_BUF_INIT };
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *payload = NULL;
	char curl_err[CURL_ERROR_SIZE] = "";
	long http = 0;
	json_error_t jerr;
	CURLcode cc;
	size_t url_len;
	int rc = 0;

	*out = NULL;
	if (status)
		*status = 0;
	url_len = strlen("http://localhost") + strlen(path) + 1;
	url = gv_xmalloc(err, url_len);
	if (!url) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(url, url_len, "http://localhost%s", path);

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, gv_client_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* creating a MIG instance on real hardware can take seconds, not minutes */
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 300L);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		if (!payload) {
			rc = gv_err_set(err, ENOMEM, "cannot encode the request");
			goto out;
		}
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		if (buf.overflow) {
			rc = gv_err_set(err, EPROTO, "gpuvisord's answer is larger than %u bytes",
					GV_CLIENT_MAX_BODY);
			goto out;
		}
		long os_errno = 0;

		/* curl words a failed connect() as if it were TCP ("localhost port
		 * 80"); the socket's errno says what is wrong with the path */
		curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
		if (cc == CURLE_COULDNT_CONNECT && os_errno)
			rc = gv_err_set(err, ENOTCONN, "%s", strerror((int)os_errno));
		else
			rc = gv_err_set(err, ENOTCONN, "%s",
					curl_err[0] ? curl_err : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http);
	if (status)
		*status = http;
	if (http < 200 || http >= 300) {
		rc = gv_client_http_error(http, buf.b.data, err);
		goto out;
	}
	*out = json_loads(buf.b.data ? buf.b.data : "", 0, &jerr);
	if (!*out)
		rc = gv_err_set(err, EPROTO, "gpuvisord sent invalid JSON (%s) for %s %s",
				jerr.text, method, path);
out:
	/* the handle outlives this frame's error buffer and header list */
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(payload);
	free(url);
	gv_buf_free(&buf.b);
	return rc;
}

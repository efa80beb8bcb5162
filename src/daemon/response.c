/* The answer to an API request (struct gvd_resp, api.h): a JSON body, the
 * error format of docs/api.md ({"error":{"code","message"}}), a redirect.
 * The routes (routes_*.c) and the request layer (request.c) write their
 * answers through it; it calls neither, so the request layer's route table
 * and the routes' answers do not form a loop. */
#include <stdarg.h>
#include <stdio.h>

#include "api.h"
#include "gpuvisor/httpreq.h"
#include "gpuvisor/nametab.h"

/* The statuses with a word of their own; any other takes its class's. */
static const struct gv_nametab status_words[] = {
	{ 400, "bad_request" },
	{ 401, "unauthorized" },
	{ 403, "forbidden" },
	{ 404, "not_found" },
	{ 405, "method_not_allowed" },
	{ 408, "timeout" },
	{ 409, "conflict" },
	{ 413, "too_large" },
	{ 414, "uri_too_long" },
	{ 431, "headers_too_large" },
	{ 505, "http_version_not_supported" },
};

const char *gvd_status_name(int status)
{
	const char *w = gv_nametab_name(status_words, GV_NAMETAB_N(status_words), status, NULL);

	if (w)
		return w;
	return status >= 400 && status < 500 ? "bad_request" : "internal";
}

void gvd_resp_json(struct gvd_resp *r, int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
	if (!body)
		gvd_resp_error(r, 500, "out of memory building the response");
}

static void resp_error_msg(struct gvd_resp *r, int status, const char *msg)
{
	char clean[GV_ERR_MSG_MAX];

	/* a message may quote a value cut by a bounded format ("%.64s") in the
	 * middle of a UTF-8 sequence; JSON strings must be valid UTF-8 */
	snprintf(clean, sizeof(clean), "%s", msg);
	gv_utf8_sanitize(clean);
	json_decref(r->json);
	r->status = status;
	r->json = json_pack("{s:{s:s, s:s}}", "error", "code", gvd_status_name(status), "message",
			    clean);
}

void gvd_resp_error(struct gvd_resp *r, int status, const char *fmt, ...)
{
	char msg[GV_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_error_msg(r, status, msg);
}

void gvd_resp_fail(struct gvd_resp *r, int status, const struct gv_err *err)
{
	if (status < 400)
		status = 500;
	resp_error_msg(r, status, err->msg[0] ? err->msg : "internal error");
}

void gvd_resp_redirect(struct gvd_resp *r, const char *location)
{
	json_decref(r->json);
	r->json = NULL;
	r->status = 303;
	snprintf(r->location, sizeof(r->location), "%s", location);
}

/* gpuvisor CLI: HTTP/JSON client for gpuvisord over its Unix socket
 * (libcurl with CURLOPT_UNIX_SOCKET_PATH, jansson for bodies). */
#ifndef GV_CLIENT_H
#define GV_CLIENT_H

#include <jansson.h>

#include "gpuvisor/err.h"

/* Return codes of gv_client_call besides 0:
 *  -ENOTCONN  the daemon could not be reached (no socket, refused, timeout)
 *  -EPROTO    it answered something that is not the API's JSON
 *  -EINVAL/-ENOENT/-EBUSY/-E2BIG/-EIO  it answered 400/404/409/413/other
 *             with an error; err holds its message. */
struct gv_client;

int gv_client_new(const char *socket_path, struct gv_client **out, struct gv_err *err);
void gv_client_free(struct gv_client *c);

/* METHOD path (e.g. "/v1/instances?force=1"), with body sent as JSON when not
 * NULL. On success *out holds the decoded response (caller json_decref's);
 * otherwise *out is NULL. *status gets the HTTP status when one was received
 * (0 otherwise); status may be NULL. */
int gv_client_call(struct gv_client *c, const char *method, const char *path, const json_t *body,
		   json_t **out, long *status, struct gv_err *err);

/* Percent-encodes a path segment or query value; caller free()s. NULL on ENOMEM. */
char *gv_client_escape(struct gv_client *c, const char *s);

const char *gv_client_socket(const struct gv_client *c);

#endif

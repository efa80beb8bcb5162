/* gpuvisor: the web console's sessions and one-time tickets
 * (docs/api.md, "Console sessions"), and the parsers of what a browser
 * sends for them (the Cookie header, the login body).
 *
 * Contract: no I/O and no global state; the clock and the random source
 * are injected (tests drive time by hand). Secrets are 256-bit random
 * values as 64 lowercase hex characters. Every look-up compares against
 * every live entry in constant time for the given length (no early exit on
 * a match or a mismatching byte), so response times tell nothing about
 * stored values. A struct gv_console_auth has a lock of its own: its
 * functions may be called from any thread. */
#ifndef GPUVISOR_CONSOLE_AUTH_H
#define GPUVISOR_CONSOLE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/err.h"

#define GV_CONSOLE_SECRET_HEX 64      /* a session id or ticket: 32 random bytes in hex */
#define GV_CONSOLE_MAX_SESSIONS 64    /* more: the least recently used one goes */
#define GV_CONSOLE_IDLE_S (12 * 3600) /* a session unused this long is gone */
#define GV_CONSOLE_MAX_TICKETS 16     /* more: the oldest ticket goes */
#define GV_CONSOLE_TICKET_TTL_S 60    /* a ticket is good once, for this long */
#define GV_CONSOLE_COOKIE "gv_session"
#define GV_CONSOLE_TOKEN_MAX 128 /* a bearer token in a login body */

/* Seconds on a clock that never goes back (CLOCK_MONOTONIC in the daemon). */
typedef uint64_t (*gv_console_clock_fn)(void *arg);
/* Fills buf with n random bytes: 0 or a negative errno. */
typedef int (*gv_console_random_fn)(void *buf, size_t n, void *arg);

struct gv_console_auth;

/* clock and rnd may be NULL: CLOCK_MONOTONIC and getrandom(2). */
int gv_console_auth_new(gv_console_clock_fn clock, gv_console_random_fn rnd, void *arg,
			struct gv_console_auth **out, struct gv_err *err);
void gv_console_auth_free(struct gv_console_auth *a);

/* A new session; its id in out (NUL-terminated). At the cap the least
 * recently used session is evicted first. 0 or a negative errno (the
 * random source failed). */
int gv_console_session_new(struct gv_console_auth *a, char out[GV_CONSOLE_SECRET_HEX + 1]);
/* Whether id (len bytes) names a live session; a hit counts as use (the
 * idle expiry starts again). */
bool gv_console_session_check(struct gv_console_auth *a, const char *id, size_t len);
/* Ends a session: 0, or -ENOENT when id names none. */
int gv_console_session_end(struct gv_console_auth *a, const char *id, size_t len);
/* Live sessions (expired ones are dropped first). */
int gv_console_session_count(struct gv_console_auth *a);

/* A new one-time ticket in out. */
int gv_console_ticket_new(struct gv_console_auth *a, char out[GV_CONSOLE_SECRET_HEX + 1]);
/* Consumes ticket t (len bytes): when it is live, it is gone afterwards
 * and a new session's id is in session_out (0). -ENOENT for an unknown,
 * used or expired ticket; another negative errno when no session could be
 * made (the ticket is consumed all the same). */
int gv_console_ticket_redeem(struct gv_console_auth *a, const char *t, size_t len,
			     char session_out[GV_CONSOLE_SECRET_HEX + 1]);

/* a[0..al) equals b[0..bl), in a time that depends on al only. */
bool gv_console_equal(const char *a, size_t al, const char *b, size_t bl);

/* The value of the gv_session cookie in a Cookie header value (len bytes,
 * "a=1; gv_session=HEX; b=2", RFC 6265 5.4): 0 with *val / *vlen pointing
 * into header; -ENOENT when there is none; -EINVAL when the header is not
 * a cookie list (a control byte, a pair without '=') or gv_session is given
 * twice or is not GV_CONSOLE_SECRET_HEX lowercase hex characters. */
int gv_console_cookie_find(const char *header, size_t len, const char **val, size_t *vlen);

/* POST /v1/session: {"token":"..."}, the token 1..GV_CONSOLE_TOKEN_MAX
 * bytes of printable ASCII without spaces, copied to token (cap bytes, at
 * least GV_CONSOLE_TOKEN_MAX + 1). -E2BIG over 4096 bytes; -EINVAL with the
 * reason (malformed, unknown fields, wrong type). token is "" on failure. */
int gv_console_login_parse(const char *body, size_t len, char *token, size_t cap,
			   struct gv_err *err);

#endif

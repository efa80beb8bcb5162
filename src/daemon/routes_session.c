/* /v1/session (GET, POST, DELETE), /v1/session/ticket (POST) and
 * /ui/login?ticket=T: the console's sessions (docs/api.md, "Console
 * sessions"). The secrets themselves live in src/core/console_auth.c;
 * nothing here logs one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

#define COOKIE_ATTRS "; HttpOnly; SameSite=Strict; Path=/"

static void set_session_cookie(struct gvd_resp *r, const char *id)
{
	snprintf(r->set_cookie, sizeof(r->set_cookie), GV_CONSOLE_COOKIE "=%s" COOKIE_ATTRS, id);
}

void gvd_route_session_get(struct gvd_req *q, struct gvd_resp *r)
{
	/* the request layer let in only an authenticated caller */
	gvd_resp_json(r, 200,
		      json_pack("{s:b, s:s}", "authenticated", 1, "by",
				q->auth == GVD_AUTH_COOKIE   ? "session"
				: q->auth == GVD_AUTH_BEARER ? "token"
							     : "socket"));
}

void gvd_route_session_login(struct gvd_req *q, struct gvd_resp *r)
{
	char token[GV_CONSOLE_TOKEN_MAX + 1], id[GV_CONSOLE_SECRET_HEX + 1];
	struct gv_err err = { 0 };
	int ret;

	ret = gv_console_login_parse(q->body, q->body_len, token, sizeof(token), &err);
	if (ret) {
		gvd_resp_fail(r, ret == -E2BIG ? 413 : 400, &err);
		return;
	}
	/* gvd_token_equal takes a time that depends on the daemon's token
	 * only; without --listen there is no token and nothing matches */
	if (!gvd_token_equal(q->d->token, token)) {
		explicit_bzero(token, sizeof(token));
		gvd_resp_error(r, 401, "wrong token (see <state-dir>/token)");
		return;
	}
	explicit_bzero(token, sizeof(token));
	ret = gv_console_session_new(q->d->console, id);
	if (ret) {
		gvd_resp_error(r, 500, "cannot make a session: %s", strerror(-ret));
		return;
	}
	set_session_cookie(r, id);
	explicit_bzero(id, sizeof(id));
	r->status = 204;
}

void gvd_route_session_logout(struct gvd_req *q, struct gvd_resp *r)
{
	if (q->session[0])
		gv_console_session_end(q->d->console, q->session, strlen(q->session));
	/* the browser forgets the cookie too */
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 GV_CONSOLE_COOKIE "=" COOKIE_ATTRS "; Max-Age=0");
	r->status = 204;
}

void gvd_route_session_ticket(struct gvd_req *q, struct gvd_resp *r)
{
	char t[GV_CONSOLE_SECRET_HEX + 1];
	int ret;

	ret = gv_console_ticket_new(q->d->console, t);
	if (ret) {
		gvd_resp_error(r, 500, "cannot make a ticket: %s", strerror(-ret));
		return;
	}
	gvd_resp_json(r, 200,
		      json_pack("{s:s, s:i}", "ticket", t, "expires_in", GV_CONSOLE_TICKET_TTL_S));
	explicit_bzero(t, sizeof(t));
}

void gvd_route_ui_login(struct gvd_req *q, struct gvd_resp *r)
{
	char id[GV_CONSOLE_SECRET_HEX + 1];

	/* whatever the ticket, the page comes next: with a session it shows
	 * the console, without one the login form */
	gvd_resp_redirect(r, "/ui/");
	if (!q->query.ticket[0] || gv_console_ticket_redeem(q->d->console, q->query.ticket,
							    strlen(q->query.ticket), id) != 0) {
		/* debug only: anyone can send these, a flood must not flood the log */
		gvd_log(GVD_LOG_DEBUG, "console: a login link with an unknown, used or expired "
				       "ticket");
		return;
	}
	set_session_cookie(r, id);
	explicit_bzero(id, sizeof(id));
}

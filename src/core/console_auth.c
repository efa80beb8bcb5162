/* The console's sessions and tickets (include/gpuvisor/console_auth.h). */
#include "gpuvisor/console_auth.h"
#include "gpuvisor/xfuncs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "jsonfield_internal.h"

#define LOGIN_BODY_MAX 4096

struct entry {
	char id[GV_CONSOLE_SECRET_HEX + 1]; /* "" = free slot */
	uint64_t made;			    /* clock seconds */
	uint64_t used;			    /* last use (sessions) */
};

struct gv_console_auth {
	pthread_mutex_t lock;
	gv_console_clock_fn clock;
	gv_console_random_fn rnd;
	void *arg;
	struct entry sessions[GV_CONSOLE_MAX_SESSIONS];
	struct entry tickets[GV_CONSOLE_MAX_TICKETS];
};

static uint64_t mono_clock(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static int os_random(void *buf, size_t n, void *arg)
{
	(void)arg;
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

int gv_console_auth_new(gv_console_clock_fn clock, gv_console_random_fn rnd, void *arg,
			struct gv_console_auth **out, struct gv_err *err)
{
	struct gv_console_auth *a = gv_xcalloc(err, 1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->clock = clock ? clock : mono_clock;
	a->rnd = rnd ? rnd : os_random;
	a->arg = arg;
	*out = a;
	return 0;
}

void gv_console_auth_free(struct gv_console_auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	/* the secrets do not outlive the object in freed memory */
	explicit_bzero(a, sizeof(*a));
	free(a);
}

bool gv_console_equal(const char *a, size_t al, const char *b, size_t bl)
{
	unsigned char diff = (unsigned char)(al != bl);
	size_t i;

	for (i = 0; i < al; i++)
		diff |= (unsigned char)(a[i] ^ (i < bl ? b[i] : 0));
	return diff == 0;
}

/* Index of the entry of tab holding id, -1 when none: every slot is
 * compared, the whole way (no early exit). */
static int find(const struct entry *tab, int n, const char *id, size_t len)
{
	int i, hit = -1;

	for (i = 0; i < n; i++) {
		bool eq = gv_console_equal(tab[i].id, GV_CONSOLE_SECRET_HEX, id, len);

		/* a free slot's "" never equals: its length is not 64 */
		if (eq && tab[i].id[0])
			hit = i;
	}
	return hit;
}

static void expire(struct gv_console_auth *a, uint64_t now)
{
	int i;

	for (i = 0; i < GV_CONSOLE_MAX_SESSIONS; i++)
		if (a->sessions[i].id[0] && now - a->sessions[i].used >= GV_CONSOLE_IDLE_S)
			memset(&a->sessions[i], 0, sizeof(a->sessions[i]));
	for (i = 0; i < GV_CONSOLE_MAX_TICKETS; i++)
		if (a->tickets[i].id[0] && now - a->tickets[i].made >= GV_CONSOLE_TICKET_TTL_S)
			memset(&a->tickets[i], 0, sizeof(a->tickets[i]));
}

/* A free slot of tab, or else the one used least recently (evicted). */
static struct entry *slot(struct entry *tab, int n)
{
	int i, old = 0;

	for (i = 0; i < n; i++) {
		if (!tab[i].id[0])
			return &tab[i];
		if (tab[i].used < tab[old].used)
			old = i;
	}
	return &tab[old];
}

static int fresh(struct gv_console_auth *a, struct entry *tab, int n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[GV_CONSOLE_SECRET_HEX / 2];
	uint64_t now = a->clock(a->arg);
	struct entry *e;
	size_t i;
	int ret;

	out[0] = '\0';
	ret = a->rnd(raw, sizeof(raw), a->arg);
	if (ret)
		return ret < 0 ? ret : -EIO;
	expire(a, now);
	e = slot(tab, n);
	for (i = 0; i < sizeof(raw); i++) {
		e->id[2 * i] = hex[raw[i] >> 4];
		e->id[2 * i + 1] = hex[raw[i] & 15];
	}
	e->id[GV_CONSOLE_SECRET_HEX] = '\0';
	e->made = e->used = now;
	memcpy(out, e->id, GV_CONSOLE_SECRET_HEX + 1);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int gv_console_session_new(struct gv_console_auth *a, char out[GV_CONSOLE_SECRET_HEX + 1])
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = fresh(a, a->sessions, GV_CONSOLE_MAX_SESSIONS, out);
	pthread_mutex_unlock(&a->lock);
	return ret;
}

bool gv_console_session_check(struct gv_console_auth *a, const char *id, size_t len)
{
	uint64_t now;
	int i;

	pthread_mutex_lock(&a->lock);
	now = a->clock(a->arg);
	expire(a, now);
	i = find(a->sessions, GV_CONSOLE_MAX_SESSIONS, id, len);
	if (i >= 0)
		a->sessions[i].used = now;
	pthread_mutex_unlock(&a->lock);
	return i >= 0;
}

int gv_console_session_end(struct gv_console_auth *a, const char *id, size_t len)
{
	int i;

	pthread_mutex_lock(&a->lock);
	i = find(a->sessions, GV_CONSOLE_MAX_SESSIONS, id, len);
	if (i >= 0)
		explicit_bzero(&a->sessions[i], sizeof(a->sessions[i]));
	pthread_mutex_unlock(&a->lock);
	return i >= 0 ? 0 : -ENOENT;
}

int gv_console_session_count(struct gv_console_auth *a)
{
	int i, n = 0;

	pthread_mutex_lock(&a->lock);
	expire(a, a->clock(a->arg));
	for (i = 0; i < GV_CONSOLE_MAX_SESSIONS; i++)
		n += a->sessions[i].id[0] != '\0';
	pthread_mutex_unlock(&a->lock);
	return n;
}

int gv_console_ticket_new(struct gv_console_auth *a, char out[GV_CONSOLE_SECRET_HEX + 1])
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = fresh(a, a->tickets, GV_CONSOLE_MAX_TICKETS, out);
	pthread_mutex_unlock(&a->lock);
	return ret;
}

int gv_console_ticket_redeem(struct gv_console_auth *a, const char *t, size_t len,
			     char session_out[GV_CONSOLE_SECRET_HEX + 1])
{
	int i, ret;

	session_out[0] = '\0';
	pthread_mutex_lock(&a->lock);
	expire(a, a->clock(a->arg));
	i = find(a->tickets, GV_CONSOLE_MAX_TICKETS, t, len);
	if (i < 0) {
		ret = -ENOENT;
	} else {
		explicit_bzero(&a->tickets[i], sizeof(a->tickets[i]));
		ret = fresh(a, a->sessions, GV_CONSOLE_MAX_SESSIONS, session_out);
	}
	pthread_mutex_unlock(&a->lock);
	return ret;
}

static bool is_hex_lower(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int gv_console_cookie_find(const char *h, size_t len, const char **val, size_t *vlen)
{
	static const char name[] = GV_CONSOLE_COOKIE;
	const char *p = h, *end = h + len, *semi, *eq, *k, *ke, *v, *ve;
	bool found = false;
	size_t i;

	*val = NULL;
	*vlen = 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)h[i] < 0x20 || (unsigned char)h[i] >= 0x7f)
			return -EINVAL;
	while (p < end) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			semi = end;
		/* one pair, blanks around it and around '=' trimmed */
		k = p;
		while (k < semi && *k == ' ')
			k++;
		if (k == semi) { /* "a=1;;b=2", a trailing ';' */
			p = semi + 1;
			continue;
		}
		eq = memchr(k, '=', (size_t)(semi - k));
		if (!eq) { /* not a cookie list, even after a good gv_session */
			*val = NULL;
			*vlen = 0;
			return -EINVAL;
		}
		for (ke = eq; ke > k && ke[-1] == ' '; ke--)
			;
		for (v = eq + 1; v < semi && *v == ' '; v++)
			;
		for (ve = semi; ve > v && ve[-1] == ' '; ve--)
			;
		if ((size_t)(ke - k) == sizeof(name) - 1 &&
		    memcmp(k, name, sizeof(name) - 1) == 0) {
			if (found || (size_t)(ve - v) != GV_CONSOLE_SECRET_HEX ||
			    !is_hex_lower(v, (size_t)(ve - v))) {
				*val = NULL;
				*vlen = 0;
				return -EINVAL;
			}
			found = true;
			*val = v;
			*vlen = (size_t)(ve - v);
		}
		p = semi + 1;
	}
	return found ? 0 : -ENOENT;
}

int gv_console_login_parse(const char *body, size_t len, char *token, size_t cap,
			   struct gv_err *err)
{
	static const char *const fields[] = { "token", NULL };
	json_t *o = NULL;
	int ret;

	if (cap < GV_CONSOLE_TOKEN_MAX + 1)
		return gv_err_set(err, EINVAL, "token buffer too small");
	token[0] = '\0';
	ret = gv_jf_load(body, len, LOGIN_BODY_MAX, &o, err);
	if (!ret)
		ret = gv_jf_only(o, fields, err);
	if (!ret)
		ret = gv_jf_text(o, "token", GV_JF_REQUIRED | GV_JF_ASCII, token,
				 GV_CONSOLE_TOKEN_MAX + 1, err);
	json_decref(o);
	if (ret)
		token[0] = '\0';
	return ret;
}

/* Fuzz target for the console's parsers (src/core/console_auth.c). The
 * first byte picks: 'c' (or an even byte) the Cookie header
 * (gv_console_cookie_find), else the login body (gv_console_login_parse);
 * the rest is the input. Besides not crashing, checks the contract: a
 * found cookie is 64 lowercase hex characters inside the header; a parsed
 * token is 1..GV_CONSOLE_TOKEN_MAX bytes of printable ASCII without spaces;
 * a failure gives a message and an empty token. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/console_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cookie(const char *h, size_t len)
{
	const char *v = NULL;
	size_t vl = 0, i;
	int ret = gv_console_cookie_find(h, len, &v, &vl);

	if (ret == 0) {
		if (!v || vl != GV_CONSOLE_SECRET_HEX || v < h || v + vl > h + len)
			abort();
		for (i = 0; i < vl; i++)
			if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
				abort();
	} else if ((ret != -ENOENT && ret != -EINVAL) || v || vl) {
		abort();
	}
}

static void check_login(const char *b, size_t len)
{
	char tok[GV_CONSOLE_TOKEN_MAX + 1];
	struct gv_err err = { 0 };
	int ret = gv_console_login_parse(b, len, tok, sizeof(tok), &err);
	size_t n, i;

	if (ret == 0) {
		n = strlen(tok);
		if (n < 1 || n > GV_CONSOLE_TOKEN_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (tok[i] <= 0x20 || tok[i] >= 0x7f)
				abort();
	} else if ((ret != -EINVAL && ret != -E2BIG) || tok[0] || !err.msg[0]) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1)
		return 0;
	/* a copy of exactly the input: reads past it are ASan's to catch */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] == 'c' || (data[0] != 'l' && data[0] % 2 == 0))
		check_cookie(buf, size - 1);
	else
		check_login(buf, size - 1);
	free(buf);
	return 0;
}

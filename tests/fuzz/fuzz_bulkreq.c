/* Fuzz target of gv_bulkreq_parse (the shim's bulk control socket,
 * src/shim/bulkreq.c): any input is accepted or refused with a message;
 * an accepted request has a known op, the ids and timeout its op takes,
 * in range and distinct, and a refused one leaves the request zeroed.
 * Violations abort(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct gv_bulkreq *r)
{
	bool ids = r->op == GV_BULKREQ_EXPORT || r->op == GV_BULKREQ_MAP;
	bool to = r->op == GV_BULKREQ_STOP || r->op == GV_BULKREQ_OWN;

	if (r->op < GV_BULKREQ_HELLO || r->op > GV_BULKREQ_OWN ||
	    !strcmp(gv_bulkreq_op_name(r->op), "?"))
		abort();
	if (ids != (r->nids > 0) || r->nids > GV_BULKREQ_IDS_MAX)
		abort();
	for (size_t i = 0; i < r->nids; i++)
		for (size_t j = 0; j < i; j++)
			if (r->ids[i] == r->ids[j])
				abort();
	if (to != (r->timeout_ms > 0) || r->timeout_ms > GV_BULKREQ_TIMEOUT_MAX_MS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gv_bulkreq zero;
	struct gv_bulkreq r;
	struct gv_err err = { 0 };
	int ret = gv_bulkreq_parse((const char *)data, size, &r, &err);

	if (ret == 0) {
		check_ok(&r);
		if (err.msg[0])
			abort();
	} else if (ret != -EINVAL || !err.msg[0] || memcmp(&r, &zero, sizeof(r))) {
		abort();
	}
	return 0;
}

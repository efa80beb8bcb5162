/* GET /v1/history?seconds=N: the samples history.c keeps (docs/api.md). */
#include "api.h"

#define HISTORY_DEFAULT_S 300

void gvd_route_history(struct gvd_req *q, struct gvd_resp *r)
{
	int seconds = q->query.seconds > 0 ? q->query.seconds : HISTORY_DEFAULT_S;
	json_t *samples = gvd_history_json(q->d, seconds);

	gvd_resp_json(r, 200,
		      samples ? json_pack("{s:i, s:o}", "interval_ms", 1000, "samples", samples)
			      : NULL);
}

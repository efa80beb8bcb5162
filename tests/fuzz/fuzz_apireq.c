/* Fuzz target for the API request parsers (gv_apireq_*). The first byte
 * picks the parser ('c' create, 'm' mode, 'w' workload, 'q' query, 's'
 * sched, 'W' weight, 'r' resume; any other byte by its value modulo 7); the rest is
 * the body, or for queries "key=value&..."
 * pairs split here the way the HTTP server hands them over. Besides not
 * crashing, checks the contract: success gives values in range, failure
 * gives a message and a zeroed output. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvisor/apireq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_create(const char *body, size_t len)
{
	struct gv_apireq_create r;
	struct gv_err err = { 0 };
	int ret = gv_apireq_create_parse(body, len, &r, &err);

	if (ret == 0) {
		if (!r.profile[0] || r.placement < -1 || r.placement >= GV_MIG_MAX_SLOTS ||
		    strnlen(r.gpu, sizeof(r.gpu)) == sizeof(r.gpu))
			abort();
		if (r.gpu[0]) {
			int idx;

			if (gv_apireq_gpu_ref(r.gpu, &idx, NULL) != 0)
				abort();
		}
	} else {
		if ((ret != -EINVAL && ret != -E2BIG) || !err.msg[0] || r.profile[0] ||
		    r.placement != 0)
			abort();
	}
}

static void check_mode(const char *body, size_t len)
{
	enum gv_mode m;
	struct gv_err err = { 0 };
	int ret = gv_apireq_mode_parse(body, len, &m, &err);

	if (ret == 0 && (m < GV_MODE_PASSTHROUGH || m > GV_MODE_MIG))
		abort();
	if (ret && !err.msg[0])
		abort();
}

/* Every id a parser hands back is 1..GV_APIREQ_ID_MAX-1 printable bytes. */
static void check_ids(const char ids[][GV_APIREQ_ID_MAX], int n, int max)
{
	if (n < 0 || n > max)
		abort();
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(ids[i], GV_APIREQ_ID_MAX);

		if (len == 0 || len == GV_APIREQ_ID_MAX)
			abort();
		for (const char *p = ids[i]; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				abort();
		for (int k = 0; k < i; k++)
			if (!strcmp(ids[k], ids[i]))
				abort();
	}
}

static void check_workload(const char *body, size_t len)
{
	struct gv_apireq_workload w;
	struct gv_err err = { 0 };
	int ret;

	memset(&w, 1, sizeof(w));
	ret = gv_apireq_workload_parse(body, len, &w, &err);
	if (ret == 0) {
		if (w.pid < 2)
			abort();
		check_ids(w.with, w.n_with, GV_APIREQ_SPAN_MAX - 1);
	} else if (w.pid != 0 || w.n_with != 0 || !err.msg[0]) {
		abort();
	}
}

static void check_resume(const char *body, size_t len)
{
	struct gv_apireq_resume r;
	struct gv_err err = { 0 };
	int ret;

	memset(&r, 'x', sizeof(r));
	ret = gv_apireq_resume_parse(body, len, &r, &err);
	if (ret == 0)
		check_ids(r.to, r.n_to, GV_APIREQ_SPAN_MAX);
	else if (r.n_to != 0 || r.to[0][0] || !err.msg[0])
		abort();
}

static void check_sched(const char *body, size_t len)
{
	struct gv_apireq_sched r;
	struct gv_err err = { 0 };
	int ret = gv_apireq_sched_parse(body, len, &r, &err);

	if (ret == 0) {
		if (!r.has_policy && !r.has_slice)
			abort();
		if (r.has_policy && !gv_sched_policy_name(r.policy))
			abort();
		if (r.has_slice && (r.slice_ms < 1 || r.slice_ms > 30))
			abort();
	} else if (!err.msg[0] || r.has_policy || r.has_slice || r.slice_ms) {
		abort();
	}
}

static void check_weight(const char *body, size_t len)
{
	uint32_t w = 1000;
	struct gv_err err = { 0 };
	int ret = gv_apireq_weight_parse(body, len, &w, &err);

	if (ret == 0 && (w < GV_SCHED_WEIGHT_MIN || w > GV_SCHED_WEIGHT_MAX))
		abort();
	if (ret && (w != 0 || !err.msg[0]))
		abort();
}

static void check_query(char *qs)
{
	struct gv_apireq_query q;
	struct gv_err err = { 0 };
	char *save = NULL, *pair, *eq;

	gv_apireq_query_init(&q, GV_APIREQ_Q_SINCE | GV_APIREQ_Q_FORCE | GV_APIREQ_Q_GPU |
					 GV_APIREQ_Q_TICKET | GV_APIREQ_Q_SECONDS);
	for (pair = strtok_r(qs, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		eq = strchr(pair, '=');
		if (eq)
			*eq++ = '\0';
		if (gv_apireq_query_add(&q, pair, eq, &err) != 0) {
			if (!err.msg[0])
				abort();
			break;
		}
	}
	if (q.since < 0 || q.seconds < 0 || q.seconds > GV_APIREQ_SECONDS_MAX ||
	    (q.ticket[0] && strlen(q.ticket) != GV_APIREQ_TICKET_LEN))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* a copy without a terminator past len, so reads beyond it are caught */
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	switch (data[0] == 'c'	 ? 0
		: data[0] == 'm' ? 1
		: data[0] == 'w' ? 2
		: data[0] == 'q' ? 3
		: data[0] == 's' ? 4
		: data[0] == 'W' ? 5
		: data[0] == 'r' ? 6
				 : data[0] % 7) {
	case 0:
		check_create(buf, len);
		break;
	case 1:
		check_mode(buf, len);
		break;
	case 2:
		check_workload(buf, len);
		break;
	case 4:
		check_sched(buf, len);
		break;
	case 5:
		check_weight(buf, len);
		break;
	case 6:
		check_resume(buf, len);
		break;
	default: {
		char *qs = malloc(len + 1);

		if (qs) {
			memcpy(qs, buf, len);
			qs[len] = '\0';
			check_query(qs);
			free(qs);
		}
		break;
	}
	}
	free(buf);
	return 0;
}

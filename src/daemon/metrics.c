/* /metrics: Prometheus text exposition format 0.0.4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "gpuvisor/buf.h"

void gvd_metrics_init(struct gvd_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

void gvd_metrics_count(struct gvd_metrics *m, const char *method, int code)
{
	int i;

	pthread_mutex_lock(&m->lock);
	if (code >= 400)
		m->errors++;
	for (i = 0; i < m->n_req; i++)
		if (m->req[i].code == code && strcmp(m->req[i].method, method) == 0)
			break;
	if (i == m->n_req && i < GVD_METRIC_SLOTS) {
		/* only the methods the API knows get their own series */
		if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "PUT") &&
		    strcmp(method, "DELETE") && strcmp(method, "HEAD"))
			method = "other";
		snprintf(m->req[i].method, sizeof(m->req[i].method), "%s", method);
		m->req[i].code = code;
		m->n_req++;
	}
	if (i < GVD_METRIC_SLOTS)
		m->req[i].count++;
	pthread_mutex_unlock(&m->lock);
}

void gvd_metrics_deadline(struct gvd_metrics *m)
{
	pthread_mutex_lock(&m->lock);
	m->deadline_closed++;
	pthread_mutex_unlock(&m->lock);
}

/* Caller holds d->lock. */
char *gvd_metrics_render(struct gvd *d)
{
	/* rc: the first failure; the render then gives nothing rather than a
	 * truncated exposition */
	struct gv_buf b = GV_BUF_INIT;
	struct gvd_view v;
	size_t i;
	int g, m, rc = 0;

	if (gvd_view_load(d, &v, NULL) == 0) {
		gv_buf_putf(
			&b, &rc,
			"# HELP gpuvisor_instances Instances per GPU, labelled with the GPU's mode.\n"
			"# TYPE gpuvisor_instances gauge\n");
		for (g = 0; g < v.hw.n_gpus; g++) {
			int n = 0;

			for (i = 0; i < v.n_insts; i++)
				n += v.gpu_of[i] == g;
			for (m = GV_MODE_PASSTHROUGH; m <= GV_MODE_MIG; m++)
				gv_buf_putf(
					&b, &rc,
					"gpuvisor_instances{gpu=\"%d\",uuid=\"%s\",mode=\"%s\"} %d\n",
					g, v.hw.gpus[g].uuid, gv_mode_name((enum gv_mode)m),
					v.mode[g] == (enum gv_mode)m ? n : 0);
		}
		gv_buf_putf(
			&b, &rc,
			"# HELP gpuvisor_gpu_memory_allocated_bytes Framebuffer given to instances.\n"
			"# TYPE gpuvisor_gpu_memory_allocated_bytes gauge\n");
		for (g = 0; g < v.hw.n_gpus; g++) {
			uint64_t a = 0;

			for (i = 0; i < v.n_insts; i++)
				if (v.gpu_of[i] == g)
					a += v.insts[i].fb_mib;
			gv_buf_putf(&b, &rc,
				    "gpuvisor_gpu_memory_allocated_bytes{gpu=\"%d\"} %llu\n", g,
				    (unsigned long long)(a * 1024 * 1024));
		}
		gv_buf_putf(&b, &rc,
			    "# HELP gpuvisor_gpu_memory_total_bytes GPU framebuffer.\n"
			    "# TYPE gpuvisor_gpu_memory_total_bytes gauge\n");
		for (g = 0; g < v.hw.n_gpus; g++)
			gv_buf_putf(&b, &rc, "gpuvisor_gpu_memory_total_bytes{gpu=\"%d\"} %llu\n",
				    g, (unsigned long long)(v.hw.gpus[g].mem_mib * 1024 * 1024));
		gv_buf_putf(
			&b, &rc,
			"# HELP gpuvisor_instance_memory_used_bytes Memory charged by a timeslice "
			"instance's processes.\n"
			"# TYPE gpuvisor_instance_memory_used_bytes gauge\n");
		for (i = 0; i < v.n_insts; i++) {
			int64_t used = gvd_acct_used(d, &v.insts[i]);

			if (used >= 0)
				gv_buf_putf(
					&b, &rc,
					"gpuvisor_instance_memory_used_bytes{instance=\"%s\",gpu=\"%d\"} "
					"%lld\n",
					v.insts[i].id, v.gpu_of[i], (long long)used);
		}
		gv_buf_putf(&b, &rc,
			    "# HELP gpuvisor_instance_over_partition 1 when a timeslice instance's "
			    "processes hold more than its partition (docs/shim.md).\n"
			    "# TYPE gpuvisor_instance_over_partition gauge\n");
		for (i = 0; i < v.n_insts; i++)
			if (v.insts[i].kind == GV_PROFILE_TIMESLICE)
				gv_buf_putf(
					&b, &rc,
					"gpuvisor_instance_over_partition{instance=\"%s\",gpu=\"%d\"} %d\n",
					v.insts[i].id, v.gpu_of[i],
					gvd_partition_over(d, v.insts[i].id));
		{
			char *sched = gvd_sched_metrics(d, &v);

			if (sched)
				gv_buf_putf(&b, &rc, "%s", sched);
			free(sched);
		}
		gvd_view_free(&v);
	}
	pthread_mutex_lock(&d->metrics.lock);
	gv_buf_putf(&b, &rc,
		    "# HELP gpuvisor_api_requests_total API requests by method and status code.\n"
		    "# TYPE gpuvisor_api_requests_total counter\n");
	for (i = 0; i < (size_t)d->metrics.n_req; i++)
		gv_buf_putf(&b, &rc,
			    "gpuvisor_api_requests_total{method=\"%s\",code=\"%d\"} %llu\n",
			    d->metrics.req[i].method, d->metrics.req[i].code,
			    (unsigned long long)d->metrics.req[i].count);
	gv_buf_putf(&b, &rc,
		    "# HELP gpuvisor_api_errors_total API requests answered with a 4xx or 5xx.\n"
		    "# TYPE gpuvisor_api_errors_total counter\n"
		    "gpuvisor_api_errors_total %llu\n"
		    "# HELP gpuvisor_api_deadline_closed_total Connections shut down unanswered "
		    "because their request or answer took longer than the request deadline.\n"
		    "# TYPE gpuvisor_api_deadline_closed_total counter\n"
		    "gpuvisor_api_deadline_closed_total %llu\n",
		    (unsigned long long)d->metrics.errors,
		    (unsigned long long)d->metrics.deadline_closed);
	pthread_mutex_unlock(&d->metrics.lock);
	if (rc < 0) {
		gv_buf_free(&b);
		return NULL;
	}
	return gv_buf_steal(&b);
}

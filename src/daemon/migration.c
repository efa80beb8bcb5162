/* Live migration, the daemon's half (docs/migration.md, docs/api.md).
 *
 * Order of state changes, each durable before the next, so that a daemon
 * killed at any point can finish or undo the migration at its next start:
 *   POST:    row(running, dst id reserved, dst_created) -> destination
 *            instance under that id -> row(dst device)
 *   thread:  migrate on the shim's control socket; progress -> row
 *   success: [row(switched) + workload moved to dst] in one transaction
 *            -> source instance destroyed -> row(completed)
 *   failure: destination destroyed (when the migration made it)
 *            -> row(failed|aborted)
 * A row left running or switched is resolved by asking the workload's shim
 * where it runs (hello): on the destination -> the success path; on the
 * source, or gone -> the failure path. The daemon lock is never held while
 * the shim copies: the thread takes it only to record progress and at the
 * end. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/acct.h"
#include "gpuvisor/proc.h"
#include "gpuvisor/rundir.h"
#include "gpuvisor/xfuncs.h"
#include "migration.h"

#define GVD_MIG_MAX_RUNNING 16
#define GVD_HELLO_MS 5000
#define GVD_MIG_IDLE_MS (15 * 60 * 1000) /* no line from the shim for this long */
#define GVD_PROGRESS_KEEP 2000

struct gvd_mig_run {
	bool used;
	bool finished; /* thread returned; join it */
	bool cancelled;
	char id[GV_STORE_ID_MAX];
	struct gvd *d;
	pthread_t th;
	int fd; /* control connection while the thread follows it; -1 otherwise */
};

/* The migrations this daemon follows now (d->mig_runs), guarded by
 * d->lock; made at the first use, freed by gvd_mig_shutdown. */
struct gvd_mig_runs {
	struct gvd_mig_run r[GVD_MIG_MAX_RUNNING];
};

/* d's table, NULL only when it cannot be made. Under d->lock. */
static struct gvd_mig_run *runs_of(struct gvd *d)
{
	if (!d->mig_runs)
		d->mig_runs = calloc(1, sizeof(*d->mig_runs));
	return d->mig_runs ? d->mig_runs->r : NULL;
}

static int same_model(const struct gvd_view *v, int gs, int gd, struct gv_err *err);

json_t *gvd_mig_env(struct gvd *d, const struct gv_store_inst *in)
{
	char path[PATH_MAX], dir[PATH_MAX], vis[4096];
	struct gvd_view v;
	size_t len, i;
	int gs, g;
	json_t *o;

	len = (size_t)snprintf(vis, sizeof(vis), "%s", in->device_uuid);
	if (gvd_view_load(d, &v, NULL) == 0) {
		gs = gvd_view_gpu_by_uuid(&v, in->gpu_uuid);
		for (g = 0; gs >= 0 && g < v.hw.n_gpus; g++) {
			if (same_model(&v, gs, g, NULL) != 0)
				continue;
			if (gv_profile_kind_is_mig(in->kind)) {
				/* MIG devices the driver can see: instances of this
				 * profile that exist now */
				for (i = 0; i < v.n_insts; i++)
					if (v.gpu_of[i] == g &&
					    strcmp(v.insts[i].profile, in->profile) == 0 &&
					    v.insts[i].device_uuid[0] &&
					    strcmp(v.insts[i].device_uuid, in->device_uuid) != 0 &&
					    len + 1 + strlen(v.insts[i].device_uuid) < sizeof(vis))
						len += (size_t)snprintf(vis + len,
									sizeof(vis) - len, ",%s",
									v.insts[i].device_uuid);
			} else if (v.mode[g] != GV_MODE_MIG &&
				   strcmp(v.hw.gpus[g].uuid, in->device_uuid) &&
				   len + 1 + strlen(v.hw.gpus[g].uuid) < sizeof(vis)) {
				len += (size_t)snprintf(vis + len, sizeof(vis) - len, ",%s",
							v.hw.gpus[g].uuid);
			}
		}
		gvd_view_free(&v);
	}
	gvd_ctl_path(d, in->id, path, sizeof(path));
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL, in->id, dir, sizeof(dir));
	o = json_pack("{s:{s:s, s:s, s:s}, s:[{s:s, s:s}]}", "env", "GPUVISOR_CTL", path,
		      "GPUVISOR_DEVICE", in->device_uuid, "CUDA_VISIBLE_DEVICES", vis, "mounts",
		      "host", dir, "container", dir);
	return o ? o : json_null();
}

static void reap_runs(struct gvd *d)
{
	struct gvd_mig_run *runs = runs_of(d);
	size_t i;

	for (i = 0; runs && i < GVD_MIG_MAX_RUNNING; i++) {
		if (runs[i].used && runs[i].finished) {
			pthread_join(runs[i].th, NULL);
			memset(&runs[i], 0, sizeof(runs[i]));
		}
	}
}

static struct gvd_mig_run *run_find(struct gvd *d, const char *id)
{
	struct gvd_mig_run *runs = runs_of(d);
	size_t i;

	for (i = 0; runs && i < GVD_MIG_MAX_RUNNING; i++)
		if (runs[i].used && !runs[i].finished && strcmp(runs[i].id, id) == 0)
			return &runs[i];
	return NULL;
}

static int gpu_of_inst(struct gvd *d, const struct gv_store_inst *in)
{
	struct gvd_view v;
	int g;

	if (gvd_view_load(d, &v, NULL) != 0)
		return -1;
	g = gvd_view_gpu_by_uuid(&v, in->gpu_uuid);
	gvd_view_free(&v);
	return g;
}

static const struct gv_model *model_of(const struct gvd_view *v, int g, const char **name)
{
	*name = g >= 0 ? (v->hw.gpus[g].model ? v->hw.gpus[g].model->id : v->hw.gpus[g].name) : "?";
	return g >= 0 ? v->hw.gpus[g].model : NULL;
}

/* The destination GPU must be the same model as the source's. */
static int same_model(const struct gvd_view *v, int gs, int gd, struct gv_err *err)
{
	const char *ns, *nd;
	const struct gv_model *ms = model_of(v, gs, &ns), *md = model_of(v, gd, &nd);

	if (gs < 0 || gd < 0)
		return gv_err_set(err, ENOENT, "the %s GPU is gone",
				  gs < 0 ? "source" : "destination");
	if (ms ? ms != md : strcmp(ns, nd) != 0)
		return gv_err_set(err, EXDEV,
				  "different GPU model: the workload runs on gpu %d (%s), the "
				  "destination is gpu %d (%s); migration needs the same model",
				  gs, ns, gd, nd);
	return 0;
}

static void report_summary(json_t *o, const json_t *rep)
{
	static const char *const keys[] = { "total_ms",
					    "downtime_ms",
					    "expected_downtime_ms",
					    "bytes_total",
					    "bytes_precopy",
					    "bytes_stun",
					    "rounds",
					    "stop",
					    "auto_converge",
					    "throttle_max_pct",
					    "path",
					    "floor_ms",
					    NULL };
	json_t *s;
	size_t i;

	if (!json_is_object(rep))
		return;
	s = json_object();
	for (i = 0; s && keys[i]; i++) {
		json_t *v = json_object_get(rep, keys[i]);

		if (v)
			json_object_set(s, keys[i], v);
	}
	json_object_set_new(o, "summary", s ? s : json_null());
}

/* The row's pairs in the span's order: (src, dst) then "more"'s
 * "SRC=DST,..." into srcs[] and to (n_to of both). */
static void span_pairs(const struct gv_store_mig *m, char srcs[][GV_STORE_ID_MAX],
		       struct gv_apireq_resume *to)
{
	const char *p = m->more;
	int n = 1;

	memset(to, 0, sizeof(*to));
	snprintf(srcs[0], GV_STORE_ID_MAX, "%s", m->src);
	snprintf(to->to[0], sizeof(to->to[0]), "%s", m->dst);
	while (*p && n < GV_APIREQ_SPAN_MAX) {
		size_t a = strcspn(p, "="), b;

		if (!p[a])
			break;
		b = strcspn(p + a + 1, ",");
		snprintf(srcs[n], GV_STORE_ID_MAX, "%.*s", (int)a, p);
		snprintf(to->to[n], sizeof(to->to[n]), "%.*s", (int)b, p + a + 1);
		n++;
		p += a + 1 + b;
		if (*p)
			p++;
	}
	to->n_to = n;
}

json_t *gvd_mig_json(const struct gv_store_mig *m, bool full)
{
	char created[32], finished[32];
	json_t *o, *rep = NULL, *prog = NULL;

	gvd_time_str(m->created, created);
	gvd_time_str(m->finished, finished);
	if (m->report)
		rep = json_loads(m->report, 0, NULL);
	o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:I, s:s, s:s, s:o, s:o, s:i}", "id", m->id,
		      "instance", m->src, "destination",
		      m->dst[0] ? json_string(m->dst) : json_null(), "from_device", m->src_device,
		      "to_device", m->dst_device[0] ? json_string(m->dst_device) : json_null(),
		      "mode", m->mode, "downtime_limit_ms", (json_int_t)m->downtime_limit_ms,
		      "state", gv_store_mig_state_name(m->state), "created", created, "finished",
		      m->finished ? json_string(finished) : json_null(), "error",
		      m->error[0] ? json_string(m->error) : json_null(), "pid", (int)m->pid);
	if (!o)
		goto out;
	/* a workload on several instances: its other members' pairs */
	if (m->more[0]) {
		char srcs[GV_APIREQ_SPAN_MAX][GV_STORE_ID_MAX];
		struct gv_apireq_resume to;
		json_t *more = json_array();

		span_pairs(m, srcs, &to);
		for (int i = 1; more && i < to.n_to; i++)
			json_array_append_new(more, json_pack("{s:s, s:s}", "instance", srcs[i],
							      "destination", to.to[i]));
		json_object_set_new(o, "more", more ? more : json_null());
	}
	report_summary(o, rep);
	if (full) {
		size_t n = 0;

		if (m->progress)
			prog = json_loads(m->progress, 0, NULL);
		n = json_is_array(prog) ? json_array_size(prog) : 0;
		json_object_set(o, "report", rep ? rep : json_null());
		json_object_set(o, "progress", n ? json_array_get(prog, n - 1) : json_null());
		json_object_set_new(o, "progress_count", json_integer((json_int_t)n));
	}
out:
	json_decref(rep);
	json_decref(prog);
	return o;
}

static int destroy_own(struct gvd *d, const char *id, int *http, struct gv_err *err)
{
	int ret;

	d->mig_finishing = true;
	ret = gvd_instance_destroy(d, id, true, http, err);
	d->mig_finishing = false;
	return ret;
}

static int mig_save(struct gvd *d, const struct gv_store_mig *m)
{
	struct gv_err err = { 0 };
	int ret = gv_store_mig_update(d->st, m, &err);

	if (ret)
		gvd_log(GVD_LOG_ERROR, "migration %s: cannot store its state: %s", m->id, err.msg);
	return ret;
}

static void set_report(struct gv_store_mig *m, const json_t *rep)
{
	free(m->report);
	m->report = rep && json_is_object(rep) ? json_dumps(rep, JSON_COMPACT) : NULL;
}

static double rep_ms(const json_t *rep, const char *key)
{
	json_t *v = json_object_get(rep, key);

	return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Gives back what a dead workload still held on both sides: its slots in
 * the instances' accounting files and, on a simulated node, in the
 * devices' (a process killed mid-migration frees nothing itself). */
static void reclaim_dead(struct gvd *d, const struct gv_store_mig *m)
{
	const char *ids[2] = { m->src, m->dst }, *devs[2] = { m->src_device, m->dst_device };
	char path[PATH_MAX];
	struct gv_acct *a;
	int i;

	for (i = 0; i < 2; i++) {
		if (ids[i][0]) {
			gvd_acct_path(d, ids[i], path);
			if (gv_acct_open(path, &a, NULL) == 0) {
				gv_acct_reclaim_dead(a);
				gv_acct_close(a);
			}
		}
		if (d->sim && devs[i][0] &&
		    gv_acct_sim_path(d->sim_node_path, devs[i], path, sizeof(path)) == 0 &&
		    gv_acct_open(path, &a, NULL) == 0) {
			gv_acct_reclaim_dead(a);
			gv_acct_close(a);
		}
	}
}

/* The workload runs on the destination: move its registration, destroy the
 * source, complete the row. Caller holds d->lock. */
static void finish_success(struct gvd *d, struct gv_store_mig *m, const json_t *rep,
			   const char *note)
{
	struct gv_store_inst src, dst;
	struct gv_err err = { 0 };
	bool have_src, have_dst;
	int ret, http;

	have_src = gv_store_inst_get(d->st, m->src, &src, NULL) == 0;
	have_dst = m->dst[0] && gv_store_inst_get(d->st, m->dst, &dst, NULL) == 0;
	if (m->state == GV_MIGST_RUNNING) {
		ret = gv_store_begin(d->st, &err);
		if (!ret && have_dst && have_src && src.wl_pid == m->pid && m->pid > 0)
			ret = gv_store_inst_set_workload(d->st, dst.id, src.wl_pid, src.wl_pgid,
							 src.wl_starttime, src.wl_since, &err);
		if (!ret && have_src && src.wl_pid == m->pid)
			ret = gv_store_inst_set_workload(d->st, src.id, 0, 0, 0, 0, &err);
		if (!ret) {
			m->state = GV_MIGST_SWITCHED;
			if (rep)
				set_report(m, rep);
			ret = gv_store_mig_update(d->st, m, &err);
		}
		ret = gv_store_end(d->st, ret, &err);
		if (ret) {
			m->state = GV_MIGST_RUNNING;
			gvd_log(GVD_LOG_ERROR,
				"migration %s: cannot move the workload to %s: %s (resolved at the "
				"next start)",
				m->id, m->dst, err.msg);
			return;
		}
	}
	if (have_src) {
		memset(&err, 0, sizeof(err));
		d->mig_finishing = true;
		ret = gvd_instance_destroy(d, m->src, false, &http, &err);
		d->mig_finishing = false;
		if (ret != 0)
			snprintf(m->error, sizeof(m->error),
				 "the workload moved, but source instance %s could not be "
				 "destroyed: %s",
				 m->src, err.msg);
	}
	if (m->more[0]) {
		/* a workload on several instances: every source goes */
		char srcs[GV_APIREQ_SPAN_MAX][GV_STORE_ID_MAX];
		struct gv_apireq_resume to;

		span_pairs(m, srcs, &to);
		for (int i = 1; i < to.n_to; i++) {
			struct gv_store_inst x;

			if (gv_store_inst_get(d->st, srcs[i], &x, NULL) != 0)
				continue;
			memset(&err, 0, sizeof(err));
			d->mig_finishing = true;
			ret = gvd_instance_destroy(d, srcs[i], false, &http, &err);
			d->mig_finishing = false;
			if (ret != 0 && !m->error[0])
				snprintf(m->error, sizeof(m->error),
					 "the workload moved, but source instance %s could not "
					 "be destroyed: %s",
					 srcs[i], err.msg);
		}
	}
	reclaim_dead(d, m);
	m->state = GV_MIGST_COMPLETED;
	m->finished = (int64_t)time(NULL);
	if (note && !m->error[0])
		snprintf(m->error, sizeof(m->error), "%s", note);
	mig_save(d, m);
	if (rep)
		gvd_event(d, "migration.completed", have_dst ? gpu_of_inst(d, &dst) : -1, m->dst,
			  "%s: workload pid %d moved from %s to %s (%s, %.1f ms total, %.1f ms "
			  "stun)",
			  m->id, (int)m->pid, m->src, m->dst, m->mode, rep_ms(rep, "total_ms"),
			  rep_ms(rep, "downtime_ms"));
	else
		gvd_event(d, "migration.completed", have_dst ? gpu_of_inst(d, &dst) : -1, m->dst,
			  "%s: workload pid %d is on %s (%s)", m->id, (int)m->pid, m->dst,
			  note ? note : "");
}

/* The workload stays on the source (or is gone): destroy the destination
 * the migration made, fail the row. Caller holds d->lock. */
static void finish_failure(struct gvd *d, struct gv_store_mig *m, enum gv_store_mig_state st,
			   const char *why, const json_t *rep)
{
	struct gv_store_inst dst;
	struct gv_err err = { 0 };
	char msg[GV_STORE_MSG_MAX];
	int http;

	snprintf(msg, sizeof(msg), "%s", why);
	reclaim_dead(d, m);
	if (m->dst_created && m->dst[0] && gv_store_inst_get(d->st, m->dst, &dst, NULL) == 0) {
		if (dst.wl_pid > 0 && gvd_workload_alive(&dst))
			gvd_log(GVD_LOG_WARN, "migration %s: destination %s has a workload; kept",
				m->id, m->dst);
		else if (destroy_own(d, m->dst, &http, &err) != 0)
			gvd_log(GVD_LOG_ERROR, "migration %s: cannot destroy destination %s: %s",
				m->id, m->dst, err.msg);
	}
	m->state = st;
	m->finished = (int64_t)time(NULL);
	snprintf(m->error, sizeof(m->error), "%s", msg);
	if (rep)
		set_report(m, rep);
	mig_save(d, m);
	gvd_event(d, st == GV_MIGST_ABORTED ? "migration.aborted" : "migration.failed", -1, m->src,
		  "%s: %s -> %s: %s", m->id, m->src, m->dst[0] ? m->dst : "-", msg);
}

/* Does the workload charge the destination's accounting file? For moves
 * between two instances of one device, whose uuids are equal. */
static bool charges_dst(struct gvd *d, const struct gv_store_mig *m)
{
	struct gv_acct_usage u[64];
	struct gv_acct *a = NULL;
	char path[PATH_MAX];
	int n, i;
	bool yes = false;

	gvd_acct_path(d, m->dst, path);
	if (gv_acct_open(path, &a, NULL) != 0)
		return false;
	n = gv_acct_slots(a, u, 64);
	for (i = 0; i < n && i < 64; i++)
		if (u[i].pid == m->pid && u[i].bytes > 0)
			yes = true;
	gv_acct_close(a);
	return yes;
}

/* Asks the shim where the workload runs and finishes the row accordingly.
 * Called without d->lock (hello may take seconds). */
static void resolve(struct gvd *d, const char *id, enum gv_store_mig_state fail_state,
		    const char *why)
{
	struct gv_store_mig m;
	struct gv_err err = { 0 };
	json_t *h = NULL;
	const char *dev = NULL, *acct;
	char path[PATH_MAX], msg[GV_STORE_MSG_MAX];
	int tries, ret = -1;
	bool on_dst;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	pthread_mutex_lock(&d->lock);
	ret = gv_store_mig_get(d->st, id, &m, &err);
	pthread_mutex_unlock(&d->lock);
	if (ret || !gv_store_mig_state_active(m.state)) {
		gv_store_mig_release(&m);
		return;
	}
	if (!m.ctl[0] && strcmp(m.mode, "checkpoint")) {
		/* a pre-copy through the driver: no shim to ask, the driver and
		 * the workload's bulk say where it runs (suspend.c) */
		char where[GV_STORE_MSG_MAX / 2], srcs[GV_APIREQ_SPAN_MAX][GV_STORE_ID_MAX];
		struct gv_apireq_resume to;
		bool gone;

		span_pairs(&m, srcs, &to);
		on_dst = gvd_precopy_found(d, &m, srcs, &to, &gone, where, sizeof(where));
		pthread_mutex_lock(&d->lock);
		if (on_dst) {
			snprintf(msg, sizeof(msg), "%s; the workload was found on the destination",
				 why);
			finish_success(d, &m, NULL, msg);
		} else {
			snprintf(msg, sizeof(msg), "%s; %s", why, where);
			finish_failure(d, &m, gone ? GV_MIGST_FAILED : fail_state, msg, NULL);
		}
		pthread_mutex_unlock(&d->lock);
		gv_store_mig_release(&m);
		return;
	}
	/* a shim that lost its daemon mid-copy aborts first: wait for it */
	for (tries = 0; tries < 75; tries++) {
		json_decref(h);
		h = NULL;
		memset(&err, 0, sizeof(err));
		ret = gvd_ctl_hello(m.ctl, m.pid, GVD_HELLO_MS, &h, &err);
		if (ret || !json_is_true(json_object_get(h, "migrating")))
			break;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&d->lock);
	if (ret) {
		struct gv_store_inst dst;

		/* a checkpoint migration has no shim to ask: the store says
		 * whether the move was recorded (suspend.c settles the driver) */
		on_dst = m.state == GV_MIGST_SWITCHED ||
			 (!strcmp(m.mode, "checkpoint") &&
			  gv_store_inst_get(d->st, m.dst, &dst, NULL) == 0 && dst.wl_pid == m.pid);
		snprintf(msg, sizeof(msg), "%s; the workload is gone (%s)", why, err.msg);
	} else {
		dev = json_string_value(json_object_get(h, "device"));
		acct = json_string_value(json_object_get(h, "acct"));
		if (strcmp(m.src_device, m.dst_device) != 0) {
			on_dst = dev && strcmp(dev, m.dst_device) == 0;
		} else if (acct) {
			gvd_acct_path(d, m.dst, path);
			on_dst = strcmp(acct, path) == 0;
		} else {
			on_dst = charges_dst(d, &m);
		}
		snprintf(msg, sizeof(msg), "%s; the workload (pid %d) stayed on %s", why,
			 (int)m.pid, m.src);
	}
	if (on_dst) {
		char note[GV_STORE_MSG_MAX];

		snprintf(note, sizeof(note), "%s; the workload was found on the destination", why);
		finish_success(d, &m, NULL, note);
	} else {
		finish_failure(d, &m, ret ? GV_MIGST_FAILED : fail_state, msg, NULL);
	}
	pthread_mutex_unlock(&d->lock);
	json_decref(h);
	gv_store_mig_release(&m);
}

static void append_progress(struct gvd *d, struct gv_store_mig *m, json_t *all, json_t *p)
{
	char *text;

	json_object_set_new(p, "seq", json_integer((json_int_t)json_array_size(all) + 1));
	json_array_append(all, p);
	if (json_array_size(all) > GVD_PROGRESS_KEEP)
		json_array_remove(all, 0);
	text = json_dumps(all, JSON_COMPACT);
	if (!text)
		return;
	free(m->progress);
	m->progress = text;
	mig_save(d, m);
	gvd_event(d, "migration.progress", -1, m->src,
		  "%s: round %lld (%s): %.1f of %.1f MiB copied, %.1f MiB dirty, expected "
		  "downtime %.1f ms",
		  m->id, (long long)json_integer_value(json_object_get(p, "round")),
		  json_string_value(json_object_get(p, "phase"))
			  ? json_string_value(json_object_get(p, "phase"))
			  : "?",
		  (double)json_integer_value(json_object_get(p, "bytes_copied")) / 1048576.0,
		  (double)json_integer_value(json_object_get(p, "bytes_total")) / 1048576.0,
		  (double)json_integer_value(json_object_get(p, "bytes_dirty")) / 1048576.0,
		  json_number_value(json_object_get(p, "expected_downtime_ms")));
}

struct mig_arg {
	struct gvd_mig_run *run;
	struct gvd_migreq_extra {
		unsigned max_rounds;
		bool auto_converge;
		char inject[GV_MIGREQ_INJECT_MAX];
	} x;
};

static void *mig_thread(void *arg)
{
	struct mig_arg *a = arg;
	struct gvd_mig_run *r = a->run;
	struct gvd *d = r->d;
	struct gv_store_mig m;
	struct gv_err err = { 0 };
	struct gv_buf b;
	char acct[PATH_MAX], sched[PATH_MAX] = "", id[GV_STORE_ID_MAX];
	json_t *msg = NULL, *line = NULL, *all = json_array(), *fin = NULL;
	struct gv_store_inst dst;
	int fd = -1, ret;
	bool cancelled, ts;

	gv_buf_init(&b);
	snprintf(id, sizeof(id), "%s", r->id);
	pthread_mutex_lock(&d->lock);
	ret = gv_store_mig_get(d->st, id, &m, &err);
	if (!ret)
		ret = gv_store_inst_get(d->st, m.dst, &dst, &err);
	/* the destination's scheduler tenant, which the shim gates on after
	 * the switch (none: it runs ungated there) */
	if (!ret && dst.kind == GV_PROFILE_TIMESLICE && gvd_sched_of(d, dst.gpu_uuid))
		gvd_sched_path(d, dst.gpu_uuid, sched);
	pthread_mutex_unlock(&d->lock);
	if (ret || !all)
		goto resolve;
	ts = dst.kind == GV_PROFILE_TIMESLICE;
	gvd_acct_path(d, dst.id, acct);
	msg = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:I, s:o, s:b, s:o}", "op", "migrate", "to",
			m.dst_device, "acct", ts ? json_string(acct) : json_null(), "sched",
			sched[0] ? json_string(sched) : json_null(), "instance",
			sched[0] ? json_string(dst.id) : json_null(), "mode", m.mode, "downtime_ms",
			(json_int_t)m.downtime_limit_ms, "max_rounds",
			a->x.max_rounds ? json_integer(a->x.max_rounds) : json_null(),
			"auto_converge", (int)a->x.auto_converge, "inject",
			a->x.inject[0] ? json_string(a->x.inject) : json_null());
	if (!msg) {
		gv_err_nomem(&err);
		goto resolve;
	}
	ret = gvd_ctl_connect(m.ctl, m.pid, &fd, &err);
	if (!ret)
		ret = gvd_ctl_send(fd, msg, &err);
	if (ret)
		goto resolve;
	pthread_mutex_lock(&d->lock);
	r->fd = fd;
	cancelled = r->cancelled;
	pthread_mutex_unlock(&d->lock);
	if (cancelled)
		shutdown(fd, SHUT_WR);
	for (;;) {
		json_t *p;

		json_decref(line);
		line = NULL;
		ret = gvd_ctl_recv(fd, &b, GVD_MIG_IDLE_MS, &d->stopping, &line, &err);
		if (ret)
			break;
		p = json_object_get(line, "progress");
		if (json_is_object(p)) {
			pthread_mutex_lock(&d->lock);
			append_progress(d, &m, all, p);
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (json_object_get(line, "ok")) {
			fin = json_incref(line);
			break;
		}
		/* unknown lines are ignored: newer shims may say more */
	}
	pthread_mutex_lock(&d->lock);
	r->fd = -1;
	cancelled = r->cancelled;
	pthread_mutex_unlock(&d->lock);
	close(fd);
	fd = -1;
	if (!fin) {
		if (atomic_load(&d->stopping))
			goto out; /* resolved at the next start */
		goto resolve;
	}
	pthread_mutex_lock(&d->lock);
	{
		json_t *rep = json_object_get(fin, "report");
		const char *e = json_string_value(json_object_get(fin, "error"));
		struct gv_store_mig cur;

		/* the request's auto_converge has no column (a schema change for one
		 * flag): it is kept with the report, next to throttle_max_pct */
		if (json_is_object(rep))
			json_object_set_new(rep, "auto_converge", json_boolean(a->x.auto_converge));

		/* progress was saved into m; keep m as the current row */
		if (gv_store_mig_get(d->st, id, &cur, NULL) == 0) {
			m.state = cur.state;
			gv_store_mig_release(&cur);
		}
		if (json_is_true(json_object_get(fin, "ok"))) {
			finish_success(d, &m, json_is_object(rep) ? rep : NULL, NULL);
		} else {
			char why[GV_STORE_MSG_MAX];

			snprintf(why, sizeof(why), "%s%s; the workload stays on %s",
				 cancelled ? "cancelled: " : "", e ? e : "the shim refused", m.src);
			finish_failure(d, &m, cancelled ? GV_MIGST_ABORTED : GV_MIGST_FAILED, why,
				       json_is_object(rep) ? rep : NULL);
		}
	}
	pthread_mutex_unlock(&d->lock);
	goto out;
resolve:
	if (fd >= 0) {
		close(fd);
		fd = -1;
	}
	pthread_mutex_lock(&d->lock);
	cancelled = r->cancelled;
	pthread_mutex_unlock(&d->lock);
	resolve(d, id, cancelled ? GV_MIGST_ABORTED : GV_MIGST_FAILED,
		cancelled    ? "cancelled"
		: err.msg[0] ? err.msg
			     : "the control connection failed");
out:
	gv_store_mig_release(&m);
	json_decref(msg);
	json_decref(line);
	json_decref(fin);
	json_decref(all);
	gv_buf_free(&b);
	free(a);
	pthread_mutex_lock(&d->lock);
	r->finished = true;
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* --mode checkpoint: the workload is suspended and resumed on the
 * destination by the driver (suspend.c), all within this request (the
 * daemon's lock is dropped while the driver works; the row, RUNNING
 * meanwhile, holds both instances). The report has the engine's field
 * names where they mean the same: everything is copied during the stun. */
static int run_checkpoint(struct gvd *d, struct gv_store_mig *m, int gpu, int *http,
			  struct gv_err *err)
{
	json_t *res = NULL, *rep;
	struct timespec t0, t1;
	double total, stun;
	int ret;

	char srcs[GV_APIREQ_SPAN_MAX][GV_STORE_ID_MAX];
	struct gv_apireq_resume to;

	/* a workload on several instances: every member to its destination */
	span_pairs(m, srcs, &to);
	gvd_event(d, "migration.started", gpu, m->src, "%s: %s (pid %d) -> %s%s%s (checkpoint)",
		  m->id, m->src, (int)m->pid, m->dst, m->more[0] ? "; " : "", m->more);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = gvd_workload_move(d, m->src, &to, true, &res, http, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret) {
		finish_failure(d, m, GV_MIGST_FAILED, err->msg, NULL);
		return ret;
	}
	total = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	stun = rep_ms(res, "lock_ms") + rep_ms(res, "checkpoint_ms") + rep_ms(res, "restore_ms") +
	       rep_ms(res, "unlock_ms");
	rep = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:i, s:O?, s:O?, s:O?, s:O?}", "mode",
			"checkpoint", "result", "ok", "stop", "checkpoint", "total_ms", total,
			"downtime_ms", stun, "precopy_ms", 0.0, "downtime_limit_ms",
			(json_int_t)m->downtime_limit_ms, "rounds", 0, "lock_ms",
			json_object_get(res, "lock_ms"), "checkpoint_ms",
			json_object_get(res, "checkpoint_ms"), "restore_ms",
			json_object_get(res, "restore_ms"), "unlock_ms",
			json_object_get(res, "unlock_ms"));
	/* which GPU went where, for every member */
	if (rep && json_object_get(res, "pairs"))
		json_object_set(rep, "pairs", json_object_get(res, "pairs"));
	json_decref(res);
	finish_success(d, m, rep, NULL);
	json_decref(rep);
	return 0;
}

static int refuse(int *http, int status, int ret)
{
	*http = status;
	return ret;
}

/* --mode precopy|stopcopy of a workload that is not --migratable (why: the
 * shim's hello failed, or said so): through the driver, if anything can
 * move it and its shim serves its bulk. Under d->lock. */
static int driver_check(struct gvd *d, const struct gv_migreq *req, const struct gv_store_inst *src,
			const char *why, int *http, struct gv_err *err)
{
	char bulk[PATH_MAX];
	struct stat st;

	if (gv_profile_kind_is_mig(src->kind))
		return refuse(
			http, 409,
			gv_err_set(err, ENOTSUP,
				   "the workload of %s cannot be migrated: %s; and it runs in a "
				   "MIG instance, which the CUDA driver's checkpoint does not "
				   "support (start it with gpuvisor run --migratable)",
				   src->id, why));
	gvd_bulk_for(d, src, bulk, sizeof(bulk));
	if (lstat(bulk, &st) != 0 || !S_ISSOCK(st.st_mode))
		return refuse(
			http, 409,
			gv_err_set(err, EOPNOTSUPP,
				   "the workload of %s cannot be migrated: %s; the workload has "
				   "no bulk control socket (%s): use --mode checkpoint",
				   src->id, why, bulk));
	/* what only the migratable shim does */
	if (req->auto_converge || req->inject[0])
		return refuse(
			http, 409,
			gv_err_set(err, ENOTSUP,
				   "the workload of %s is not --migratable (%s): its pre-copy "
				   "runs through the driver, which has no %s",
				   src->id, why,
				   req->auto_converge ? "auto-converge (it cannot throttle "
							"the workload)"
						      : "injected faults (the helper's are "
							"GPUVISOR_CKPT_FAULT)"));
	return 0;
}

/* How many of the node's newest driver-path moves a first move looks at. */
#define STUN_FIXED_OTHERS 16

/* The driver's and the shim's phases (lock, checkpoint, restore, unlock,
 * stop, release, map) in a completed pre-copy or stop-and-copy move through
 * the driver, from its report; -1 for any other row. */
static double stun_fixed_of(const struct gv_store_mig *r)
{
	static const char *const phases[] = { "lock_ms", "checkpoint_ms", "restore_ms", "unlock_ms",
					      "stop_ms", "release_ms",	  "map_ms",	NULL };
	const char *path;
	double sum = 0;
	json_t *j;

	if (r->state != GV_MIGST_COMPLETED || !r->report ||
	    gv_mig_mode_parse(r->mode, NULL, NULL) < 0)
		return -1;
	j = json_loads(r->report, 0, NULL);
	path = json_string_value(json_object_get(j, "path"));
	if (!path || strcmp(path, "driver") || !json_object_get(j, "bulk_bytes")) {
		json_decref(j);
		return -1;
	}
	for (size_t k = 0; phases[k]; k++)
		sum += json_number_value(json_object_get(j, phases[k]));
	json_decref(j);
	return sum;
}

/* The stun's cost beyond the bulk's final hash and dirty copy, which the
 * helper counts in every expected downtime: the driver's and the shim's
 * phases of this process's last completed move through the driver with
 * its bulk pre-copied. A process that has not moved so yet takes the least
 * of the node's STUN_FIXED_OTHERS newest such moves of other processes
 * (*other set): every process pays at least the driver's context, so the
 * lightest is the closest guess that is not above its own; none on the
 * node gives 0 and "" (its estimate counts the bulk only;
 * docs/migration.md). Rows of an earlier process with the same pid are
 * told apart by their creation before this one started. */
static uint64_t stun_fixed_estimate(struct gvd *d, pid_t pid, uint64_t starttime, char *from,
				    size_t cap, bool *other)
{
	struct gv_store_mig *rows = NULL;
	int64_t born = 0;
	uint64_t now;
	long tck = sysconf(_SC_CLK_TCK);
	double least = -1, own = -1;
	size_t n = 0, i, seen = 0;

	from[0] = '\0';
	*other = false;
	if (starttime && tck > 0 && gv_proc_now_ticks(&now) == 0 && now >= starttime)
		born = (int64_t)time(NULL) - (int64_t)((now - starttime) / (uint64_t)tck) - 1;
	if (gv_store_mig_list(d->st, &rows, &n, NULL))
		return 0;
	for (i = n; i-- > 0 && own < 0;) {
		const struct gv_store_mig *r = &rows[i];
		bool mine = r->pid == pid && r->created >= born;
		double sum;

		if (!mine && seen >= STUN_FIXED_OTHERS)
			continue;
		sum = stun_fixed_of(r);
		if (sum < 0)
			continue;
		if (mine) {
			own = sum;
			snprintf(from, cap, "%s", r->id);
		} else if (seen++ == 0 || sum < least) {
			least = sum;
			snprintf(from, cap, "%s", r->id);
		}
	}
	gv_store_mig_list_free(rows, n);
	if (own >= 0)
		return (uint64_t)(own + 0.5);
	*other = least >= 0;
	return least >= 0 ? (uint64_t)(least + 0.5) : 0;
}

/* --mode precopy|stopcopy through the driver (gvd_workload_precopy), all
 * within this request like --mode checkpoint. The report: the engine's
 * (the helper's "report") with the driver's phases and what the helper
 * measured beside it, and "path":"driver". */
static int run_driver_precopy(struct gvd *d, struct gv_store_mig *m, const struct gv_migreq *req,
			      uint64_t starttime, int gpu, int *http, struct gv_err *err)
{
	static const char *const keys[] = {
		"lock_ms", "checkpoint_ms", "restore_ms", "unlock_ms", "release_ms", "map_ms",
		"stop_ms", "floor_ms",	    "hash_gbps",  "copy_gbps", "bulk_bytes", "bulk_regions",
		"pids",	   "pairs",	    "note",	  "hash",      NULL
	};
	struct gvd_precopy o = { .mode = m->mode,
				 .downtime_limit_ms = m->downtime_limit_ms,
				 .max_rounds = req->max_rounds };
	enum gv_store_mig_state fail = GV_MIGST_FAILED;
	char srcs[GV_APIREQ_SPAN_MAX][GV_STORE_ID_MAX], from[GV_STORE_ID_MAX];
	struct gv_apireq_resume to;
	bool other;
	struct timespec t0, t1;
	json_t *res = NULL, *rep;
	int ret, i;

	span_pairs(m, srcs, &to);
	o.stun_fixed_ms = stun_fixed_estimate(d, m->pid, starttime, from, sizeof(from), &other);
	gvd_event(d, "migration.started", gpu, m->src,
		  "%s: %s (pid %d) -> %s%s%s (%s, through the driver)", m->id, m->src, (int)m->pid,
		  m->dst, m->more[0] ? "; " : "", m->more, m->mode);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = gvd_workload_precopy(d, m->src, &to, &o, &res, &fail, http, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep = json_is_object(json_object_get(res, "report"))
		      ? json_deep_copy(json_object_get(res, "report"))
		      : json_object();
	for (i = 0; rep && keys[i]; i++)
		if (json_object_get(res, keys[i]))
			json_object_set(rep, keys[i], json_object_get(res, keys[i]));
	if (rep) {
		json_object_set_new(rep, "path", json_string("driver"));
		if (from[0]) {
			json_object_set_new(rep, "stun_fixed_from", json_string(from));
			json_object_set_new(rep, "stun_fixed_other", json_boolean(other));
		}
		if (!json_object_get(rep, "total_ms"))
			json_object_set_new(rep, "total_ms",
					    json_real((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
						      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6));
	}
	if (ret)
		finish_failure(d, m, fail, err->msg, res ? rep : NULL);
	else
		finish_success(d, m, rep, json_string_value(json_object_get(res, "note")));
	json_decref(rep);
	json_decref(res);
	return ret;
}

/* The end of the transaction that inserts a new migration row: the row
 * marked running from now and inserted when ret (what came before in the
 * transaction) is 0; the transaction committed or rolled back. */
static int row_insert_end(struct gvd *d, struct gv_store_mig *m, int ret, struct gv_err *err)
{
	m->state = GV_MIGST_RUNNING;
	m->created = (int64_t)time(NULL);
	if (!ret)
		ret = gv_store_mig_insert(d->st, m, err);
	return gv_store_end(d->st, ret, err);
}

/* A workload on several instances (a span): one destination instance per
 * member in the span's order, all moved in one driver run
 * (gvd_workload_move; with --mode precopy|stopcopy gvd_workload_precopy). The row names the first pair as src/dst
 * and the others in "more"; it owns every instance named until it ends. */
static int start_span(struct gvd *d, const struct gv_migreq *req, const struct gv_store_inst *in,
		      char *id_out, size_t cap, int *http, struct gv_err *err)
{
	struct gv_store_inst mem[GV_APIREQ_SPAN_MAX], dst;
	struct gv_store_mig m;
	char other[GV_STORE_ID_MAX], ids[GV_APIREQ_SPAN_MAX][GV_MIGREQ_ID_MAX];
	int ret, n = 0, i, gs = -1;
	int64_t seq = 0;
	struct gvd_view v;

	memset(&m, 0, sizeof(m));
	ret = gvd_span_load(d, in->id, mem, &n, err);
	if (ret)
		return refuse(http, 500, ret);
	/* a span is never --migratable (the shim's engine moves one device):
	 * pre-copy through the driver, its bulk from the owner's shim */
	if (!req->checkpoint) {
		ret = driver_check(d, req, &mem[0], "it is on several instances", http, err);
		if (ret)
			return ret;
	}
	memcpy(ids[0], req->to, sizeof(ids[0]));
	memcpy(ids[1], req->more, sizeof(req->more));
	if (req->n_more + 1 != n)
		return refuse(
			http, 400,
			gv_err_set(err, EINVAL,
				   "the workload of %s is on %d instance%s: give one destination "
				   "instance for each, in the span's order (--to X,Y)",
				   in->id, n, n == 1 ? "" : "s"));
	for (i = 0; i < n; i++) {
		if (strncmp(ids[i], "i-", 2))
			return refuse(
				http, 400,
				gv_err_set(err, EINVAL,
					   "'%s' is not an instance: a workload on several "
					   "instances moves to instances made beforehand, one "
					   "per GPU",
					   ids[i]));
		ret = gvd_mig_active_for(d, mem[i].id, other, sizeof(other), err);
		if (!ret)
			ret = gvd_mig_active_for(d, ids[i], other, sizeof(other), err);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return refuse(http, 409,
				      gv_err_set(err, EBUSY,
						 "migration %s of %s or %s is still running", other,
						 mem[i].id, ids[i]));
		ret = gv_store_inst_get(d->st, ids[i], &dst, err);
		if (ret)
			return refuse(http, ret == -ENOENT ? 404 : 500, ret);
		if (i == 0)
			snprintf(m.dst_device, sizeof(m.dst_device), "%s", dst.device_uuid);
		else
			snprintf(m.more + strlen(m.more), sizeof(m.more) - strlen(m.more),
				 "%s%s=%s", i > 1 ? "," : "", mem[i].id, ids[i]);
	}
	ret = gv_store_begin(d->st, err);
	if (!ret)
		ret = gv_store_next_id(d->st, "migration", &seq, err);
	snprintf(m.id, sizeof(m.id), "m-%lld", (long long)seq);
	snprintf(m.src, sizeof(m.src), "%s", mem[0].id);
	snprintf(m.dst, sizeof(m.dst), "%s", ids[0]);
	snprintf(m.src_device, sizeof(m.src_device), "%s", mem[0].device_uuid);
	snprintf(m.mode, sizeof(m.mode), "%s",
		 req->checkpoint ? "checkpoint" : gv_mig_mode_name(req->mode));
	m.downtime_limit_ms = req->downtime_limit_ms;
	m.pid = mem[0].wl_pid;
	ret = row_insert_end(d, &m, ret, err);
	if (ret)
		return ret;
	if (gvd_view_load(d, &v, NULL) == 0) {
		gs = gvd_view_gpu_by_uuid(&v, mem[0].gpu_uuid);
		gvd_view_free(&v);
	}
	ret = req->checkpoint ? run_checkpoint(d, &m, gs, http, err)
			      : run_driver_precopy(d, &m, req, mem[0].wl_starttime, gs, http, err);
	if (!ret) {
		snprintf(id_out, cap, "%s", m.id);
		*http = 202;
	}
	return ret;
}

int gvd_mig_start(struct gvd *d, const struct gv_migreq *req, char *id_out, size_t cap, int *http,
		  struct gv_err *err)
{
	struct gv_store_inst src, dst;
	struct gv_store_mig m;
	struct gv_apireq_create cr;
	struct gvd_view v;
	struct gvd_mig_run *r = NULL, *runs;
	struct mig_arg *a = NULL;
	char other[GV_STORE_ID_MAX], ctl[PATH_MAX];
	json_t *h = NULL;
	const char *dev, *why;
	int ret, gs, gd = -1, i, chttp;
	int64_t n;
	bool have_view = false, row = false, driver = false;

	*http = 500;
	memset(&m, 0, sizeof(m));
	reap_runs(d);
	ret = gv_store_inst_get(d->st, req->instance, &src, err);
	if (ret)
		return refuse(http, ret == -ENOENT ? 404 : 500, ret);
	ret = gvd_mig_active_for(d, src.id, other, sizeof(other), err);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return refuse(http, 409,
			      gv_err_set(err, EBUSY, "migration %s of %s is still running", other,
					 src.id));
	if (src.wl_pid <= 0 || !gvd_workload_alive(&src))
		return refuse(http, 409,
			      gv_err_set(err, ESRCH,
					 "instance %s has no workload to migrate (start "
					 "one with gpuvisor run --instance %s)",
					 src.id, src.id));
	if (src.wl_state != GV_WL_RUNNING)
		return refuse(http, 409,
			      gv_err_set(err, EBUSY, "the workload of %s is %s: resume it first",
					 src.id, gvd_wl_state_name(src.wl_state)));
	/* a workload on several GPUs moves as a whole through the driver */
	if (src.wl_span[0] || req->n_more)
		return start_span(d, req, &src, id_out, cap, http, err);
	ret = gvd_view_load(d, &v, err);
	if (ret)
		return ret;
	have_view = true;
	gs = gvd_view_gpu_by_uuid(&v, src.gpu_uuid);
	if (strncmp(req->to, "i-", 2) == 0) {
		ret = gv_store_inst_get(d->st, req->to, &dst, err);
		if (ret) {
			*http = ret == -ENOENT ? 404 : 500;
			goto out;
		}
		if (strcmp(dst.id, src.id) == 0) {
			ret = refuse(http, 400,
				     gv_err_set(err, EINVAL, "the destination is the source (%s)",
						src.id));
			goto out;
		}
		if (strcmp(dst.profile, src.profile) != 0 || dst.fb_mib != src.fb_mib) {
			ret = refuse(
				http, 400,
				gv_err_set(err, EINVAL,
					   "destination %s is a %s instance, the source a %s one: "
					   "migration needs the same profile",
					   dst.id, dst.profile, src.profile));
			goto out;
		}
		if (dst.wl_pid > 0 && gvd_workload_alive(&dst)) {
			ret = refuse(http, 409,
				     gv_err_set(err, EBUSY,
						"destination %s has a workload (pid %d)", dst.id,
						(int)dst.wl_pid));
			goto out;
		}
		ret = gvd_mig_active_for(d, dst.id, other, sizeof(other), err);
		if (ret > 0)
			ret = refuse(http, 409,
				     gv_err_set(err, EBUSY,
						"destination %s is part of running "
						"migration %s",
						dst.id, other));
		if (!ret && gvd_claim_check(d, dst.id, err))
			ret = refuse(http, 409, -EBUSY); /* a resume onto it is in flight */
		if (ret)
			goto out;
		gd = gvd_view_gpu_by_uuid(&v, dst.gpu_uuid);
	} else {
		gd = gvd_view_gpu_ref(&v, req->to, err);
		if (gd < 0) {
			ret = refuse(http, 404, gd);
			goto out;
		}
	}
	ret = same_model(&v, gs, gd, err);
	if (ret) {
		*http = 400;
		goto out;
	}
	/* a MIG device exists for the driver only if it was listed when the
	 * workload started (gvd_mig_env) */
	if (gv_profile_kind_is_mig(src.kind) && !req->checkpoint &&
	    (strncmp(req->to, "i-", 2) != 0 || dst.created > src.wl_since)) {
		ret = refuse(
			http, 409,
			gv_err_set(err, EXDEV,
				   "a MIG workload can move only to a %s instance that existed "
				   "when it started (its driver sees only the devices it was given "
				   "then): create one before starting it and give --to INSTANCE",
				   src.profile));
		goto out;
	}

	if (req->checkpoint) {
		/* the driver decides; the refusals gvd_workload_move would give
		 * are given before anything is made */
		if (src.kind == GV_PROFILE_MIG || src.kind == GV_PROFILE_MIG_VGPU) {
			ret = refuse(http, 409,
				     gv_err_set(err, ENOTSUP,
						"the workload of %s runs in a MIG "
						"instance, which the CUDA driver's "
						"checkpoint does not support",
						src.id));
			goto out;
		}
		dev = src.device_uuid;
		ctl[0] = '\0';
		goto checked;
	}
	/* the shim decides whether it can move what the workload uses */
	gvd_ctl_for(d, &src, ctl, sizeof(ctl));
	ret = gvd_ctl_hello(ctl, src.wl_pid, GVD_HELLO_MS, &h, err);
	if (ret || !json_is_true(json_object_get(h, "migratable"))) {
		/* not --migratable: its bulk can be pre-copied by gpuvisor-ckpt
		 * and the rest moved by the driver (the workload's bulk socket) */
		char reason[GV_ERR_MSG_MAX];

		why = json_string_value(json_object_get(h, "reason"));
		snprintf(reason, sizeof(reason), "%s",
			 ret   ? err->msg
			 : why ? why
			       : "(the shim gave no reason)");
		ret = driver_check(d, req, &src, reason, http, err);
		if (ret)
			goto out;
		driver = true;
		dev = src.device_uuid;
		ctl[0] = '\0'; /* a row of the driver path records no socket */
		goto checked;
	}
	if (json_is_true(json_object_get(h, "migrating"))) {
		ret = refuse(http, 409,
			     gv_err_set(err, EBUSY, "the workload of %s is being migrated already",
					src.id));
		goto out;
	}
	dev = json_string_value(json_object_get(h, "device"));

checked:
	runs = runs_of(d);
	if (!runs) {
		ret = gv_err_nomem(err);
		goto out;
	}
	for (i = 0; i < GVD_MIG_MAX_RUNNING && runs[i].used; i++)
		;
	if (i == GVD_MIG_MAX_RUNNING) {
		ret = refuse(http, 409,
			     gv_err_set(err, EBUSY, "%d migrations are running already",
					GVD_MIG_MAX_RUNNING));
		goto out;
	}
	r = &runs[i];
	a = gv_xcalloc(err, 1, sizeof(*a));
	if (!a) {
		ret = -ENOMEM;
		goto out;
	}

	/* the row names the destination before it exists: a crash between its
	 * creation and the row's next update then leaves an instance that the
	 * row's recovery (finish_failure) destroys, never one nobody owns */
	ret = gv_store_begin(d->st, err);
	if (ret)
		goto out;
	ret = gv_store_next_id(d->st, "migration", &n, err);
	if (!ret)
		snprintf(m.id, sizeof(m.id), "m-%lld", (long long)n);
	if (!ret && strncmp(req->to, "i-", 2) != 0) {
		ret = gv_store_next_id(d->st, "instance", &n, err);
		snprintf(m.dst, sizeof(m.dst), "i-%lld", (long long)n);
		m.dst_created = true;
	}
	snprintf(m.src, sizeof(m.src), "%s", src.id);
	snprintf(m.src_device, sizeof(m.src_device), "%s", dev ? dev : src.device_uuid);
	snprintf(m.mode, sizeof(m.mode), "%s",
		 req->checkpoint ? "checkpoint" : gv_mig_mode_name(req->mode));
	m.downtime_limit_ms = req->downtime_limit_ms;
	m.pid = src.wl_pid;
	snprintf(m.ctl, sizeof(m.ctl), "%s", ctl);
	ret = row_insert_end(d, &m, ret, err);
	if (ret)
		goto out;
	row = true;

	if (strncmp(req->to, "i-", 2) != 0) {
		memset(&cr, 0, sizeof(cr));
		snprintf(cr.profile, sizeof(cr.profile), "%s", src.profile);
		snprintf(cr.gpu, sizeof(cr.gpu), "%d", gd);
		cr.placement = -1;
		if (src.kind == GV_PROFILE_TIMESLICE && strcmp(src.profile, "timeslice") == 0)
			cr.framebuffer_mib = src.fb_mib;
		ret = gvd_instance_create_as(d, &cr, m.dst, &dst, &chttp, err);
		if (ret) {
			gv_err_prefix(err, "no room for a %s instance on gpu %d", src.profile, gd);
			*http = chttp;
			goto out;
		}
		if (d->crash_mig_dst_created)
			raise(SIGKILL);
	}
	snprintf(m.dst, sizeof(m.dst), "%s", dst.id);
	snprintf(m.dst_device, sizeof(m.dst_device), "%s", dst.device_uuid);
	ret = gv_store_mig_update(d->st, &m, err);
	if (ret) {
		if (m.dst_created)
			destroy_own(d, dst.id, &chttp, NULL);
		goto out;
	}

	if (req->checkpoint || driver) {
		ret = req->checkpoint
			      ? run_checkpoint(d, &m, gs, http, err)
			      : run_driver_precopy(d, &m, req, src.wl_starttime, gs, http, err);
		row = false; /* finished either way */
		if (!ret) {
			snprintf(id_out, cap, "%s", m.id);
			*http = 202;
		}
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->fd = -1;
	r->d = d;
	snprintf(r->id, sizeof(r->id), "%s", m.id);
	a->run = r;
	a->x.max_rounds = req->max_rounds;
	a->x.auto_converge = req->auto_converge;
	snprintf(a->x.inject, sizeof(a->x.inject), "%s", req->inject);
	ret = -pthread_create(&r->th, NULL, mig_thread, a);
	if (ret) {
		memset(r, 0, sizeof(*r));
		gv_err_set(err, -ret, "cannot start the migration thread");
		finish_failure(d, &m, GV_MIGST_FAILED, err->msg, NULL);
		row = false;
		goto out;
	}
	a = NULL;
	row = false;
	gvd_event(d, "migration.started", gs, src.id,
		  "%s: %s (pid %d, %s) -> %s on gpu %d (%s, %s, downtime limit %llu ms%s)", m.id,
		  src.id, (int)src.wl_pid, m.src_device, dst.id, gd, dst.device_uuid, m.mode,
		  (unsigned long long)m.downtime_limit_ms,
		  req->auto_converge ? ", auto-converge" : "");
	snprintf(id_out, cap, "%s", m.id);
	*http = 202;
out:
	if (row && gv_store_mig_delete(d->st, m.id, NULL) != 0)
		gvd_log(GVD_LOG_ERROR, "cannot remove refused migration %s", m.id);
	free(a);
	json_decref(h);
	if (have_view)
		gvd_view_free(&v);
	gv_store_mig_release(&m);
	return ret;
}

int gvd_mig_cancel(struct gvd *d, const char *id, int *http, struct gv_err *err)
{
	struct gv_store_mig m;
	struct gvd_mig_run *r;
	int ret = gv_store_mig_get(d->st, id, &m, err);

	*http = 500;
	if (ret)
		return refuse(http, ret == -ENOENT ? 404 : 500, ret);
	gv_store_mig_release(&m);
	r = run_find(d, id);
	if (!r || m.state != GV_MIGST_RUNNING)
		return refuse(http, 409,
			      gv_err_set(err, EALREADY, "migration %s is %s: nothing to cancel", id,
					 gv_store_mig_state_name(m.state)));
	r->cancelled = true;
	/* the shim aborts when its daemon hangs up before the switch */
	if (r->fd >= 0)
		shutdown(r->fd, SHUT_WR);
	*http = 202;
	return 0;
}

void gvd_mig_recover(struct gvd *d)
{
	struct gv_store_mig *arr = NULL;
	char dir[PATH_MAX];
	size_t n = 0, i;

	/* only the daemon writes here (it makes each registered workload a
	 * directory of its own, gvd_ctl_prepare); anyone may pass through to
	 * the one it was given, nobody but root lists them */
	gv_rundir_path(d->o.run_dir, GV_RUNDIR_CTL, NULL, dir, sizeof(dir));
	if (gvd_mkdir_p(dir, 0711, NULL) == 0 && chmod(dir, 0711) != 0)
		gvd_log(GVD_LOG_WARN, "cannot chmod %s: %s", dir, strerror(errno));
	pthread_mutex_lock(&d->lock);
	if (gv_store_mig_list(d->st, &arr, &n, NULL) != 0)
		n = 0;
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < n; i++) {
		if (!gv_store_mig_state_active(arr[i].state))
			continue;
		gvd_log(GVD_LOG_INFO, "migration %s was running when gpuvisord stopped: resolving",
			arr[i].id);
		resolve(d, arr[i].id, GV_MIGST_ABORTED, "gpuvisord restarted during the migration");
	}
	gv_store_mig_list_free(arr, n);
}

void gvd_mig_shutdown(struct gvd *d)
{
	struct gvd_mig_run copy[GVD_MIG_MAX_RUNNING], *runs;
	size_t i;

	pthread_mutex_lock(&d->lock);
	runs = d->mig_runs ? d->mig_runs->r : NULL;
	if (!runs) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	memcpy(copy, runs, sizeof(copy));
	for (i = 0; i < GVD_MIG_MAX_RUNNING; i++)
		if (runs[i].used && runs[i].fd >= 0)
			shutdown(runs[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < GVD_MIG_MAX_RUNNING; i++)
		if (copy[i].used)
			pthread_join(copy[i].th, NULL);
	pthread_mutex_lock(&d->lock);
	free(d->mig_runs);
	d->mig_runs = NULL;
	pthread_mutex_unlock(&d->lock);
}

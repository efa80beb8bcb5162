/* gv-mig-ctl: plays the daemon's side of a workload's migration control
 * socket (docs/migration.md), for the tests and tests/gpu/migrate-check.sh.
 *
 *   gv-mig-ctl hello SOCK                 wait up to 60 s for SOCK, print the answer
 *   gv-mig-ctl migrate SOCK TO [MODE [INJECT [ACCT]]]
 *                                         print each line; exit 0 when ok
 *   gv-mig-ctl drop SOCK TO N             disconnect after N progress lines
 *   gv-mig-ctl devmem NODE UUID PID       bytes PID holds on a simulated device
 *   gv-mig-ctl acct FILE PID              bytes PID holds in an accounting file
 * $GV_MIG_DOWNTIME_MS and $GV_MIG_MAX_ROUNDS go into migrate requests.
 *   gv-mig-ctl field JSON KEY             print a top-level member of JSON
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gpuvisor/acct.h"

static int connect_wait(const char *path, int secs)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timespec ts = { 0, 20 * 1000000L };

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (int i = 0; i < secs * 50; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "gv-mig-ctl: cannot connect to %s\n", path);
	return -1;
}

static int send_line(int fd, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	int rc = 0;

	json_decref(o);
	if (!s || dprintf(fd, "%s\n", s) < 0)
		rc = -1;
	free(s);
	return rc;
}

/* Reads one line into buf (NUL-terminated); 0 at EOF. */
static size_t read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n;
}

static json_t *migrate_req(const char *to, const char *mode)
{
	const char *d = getenv("GV_MIG_DOWNTIME_MS"), *r = getenv("GV_MIG_MAX_ROUNDS");
	json_t *req = json_pack("{s:s, s:s, s:s, s:i}", "op", "migrate", "to", to, "mode", mode,
				"downtime_ms", d ? atoi(d) : 300);

	if (r)
		json_object_set_new(req, "max_rounds", json_integer(atoi(r)));
	return req;
}

static int acct_bytes(const char *path, const char *pid)
{
	struct gv_acct *a;
	struct gv_acct_usage u[64];
	struct gv_err err = { 0 };
	unsigned long long bytes = 0;
	int n;

	if (gv_acct_open(path, &a, &err) < 0) {
		fprintf(stderr, "gv-mig-ctl: %s: %s\n", path, err.msg);
		return 1;
	}
	n = gv_acct_slots(a, u, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (u[i].pid == (pid_t)atol(pid))
			bytes += u[i].bytes;
	printf("%llu\n", bytes);
	gv_acct_close(a);
	return 0;
}

static int converse(int fd, long drop_after)
{
	static char line[1 << 20];
	long progress = 0;

	for (;;) {
		json_t *j;
		int ok;

		if (!read_line(fd, line, sizeof(line))) {
			fprintf(stderr, "gv-mig-ctl: connection closed without an answer\n");
			return 1;
		}
		j = json_loads(line, 0, NULL);
		if (!j) {
			fprintf(stderr, "gv-mig-ctl: not JSON: %s\n", line);
			return 1;
		}
		if (json_object_get(j, "progress")) {
			json_decref(j);
			if (getenv("GV_MIG_CTL_VERBOSE"))
				printf("%s\n", line);
			if (drop_after >= 0 && ++progress >= drop_after) {
				printf("dropped after %ld progress lines\n", progress);
				return 0;
			}
			continue;
		}
		ok = json_is_true(json_object_get(j, "ok"));
		json_decref(j);
		printf("%s\n", line);
		fflush(stdout);
		return ok ? 0 : 1;
	}
}

int main(int argc, char **argv)
{
	int fd, rc;

	if (argc >= 3 && !strcmp(argv[1], "hello")) {
		fd = connect_wait(argv[2], 60);
		if (fd < 0 || send_line(fd, json_pack("{s:s}", "op", "hello")) < 0)
			return 1;
		rc = converse(fd, -1);
		close(fd);
		return rc;
	}
	if (argc >= 4 && !strcmp(argv[1], "migrate")) {
		json_t *req = migrate_req(argv[3], argc > 4 ? argv[4] : "precopy");

		if (argc > 5 && argv[5][0] && strcmp(argv[5], "-"))
			json_object_set_new(req, "inject", json_string(argv[5]));
		if (argc > 6)
			json_object_set_new(req, "acct", json_string(argv[6]));
		fd = connect_wait(argv[2], 60);
		if (fd < 0 || send_line(fd, req) < 0)
			return 1;
		rc = converse(fd, -1);
		close(fd);
		return rc;
	}
	if (argc == 5 && !strcmp(argv[1], "drop")) {
		fd = connect_wait(argv[2], 60);
		if (fd < 0 || send_line(fd, migrate_req(argv[3], "precopy")) < 0)
			return 1;
		rc = converse(fd, atol(argv[4]));
		close(fd);
		return rc;
	}
	if (argc == 5 && !strcmp(argv[1], "devmem")) {
		char path[4096];

		if (gv_acct_sim_path(argv[2], argv[3], path, sizeof(path)) < 0)
			return 1;
		return acct_bytes(path, argv[4]);
	}
	if (argc == 4 && !strcmp(argv[1], "acct"))
		return acct_bytes(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "field")) {
		json_t *j = json_loads(argv[2], 0, NULL), *v;
		char *s;

		if (!j)
			return 1;
		v = json_object_get(j, argv[3]);
		if (json_is_string(v))
			printf("%s\n", json_string_value(v));
		else if (v && (s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT))) {
			printf("%s\n", s);
			free(s);
		}
		json_decref(j);
		return v ? 0 : 1;
	}
	fprintf(stderr, "usage: see the comment at the top of tests/migrate/mig_ctl_tool.c\n");
	return 2;
}

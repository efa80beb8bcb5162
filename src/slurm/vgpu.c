/* See vgpu.h. */
#include "vgpu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int gv_vgpu_parse(const char *arg, char names[GV_VGPU_MAX][GV_VGPU_NAME_MAX], int *n,
		  struct gv_err *err)
{
	const char *p = arg;
	int count = 0;

	*n = 0;
	if (!arg || !*arg)
		return gv_err_set(err, EINVAL, "--vgpu needs a profile (e.g. --vgpu=h100-20c)");
	for (;;) {
		size_t len = 0;

		while (p[len] && p[len] != ',') {
			if (!name_char_ok(p[len]))
				return gv_err_set(
					err, EINVAL,
					"--vgpu=%s: a profile name has only letters, digits, "
					"'.', '_' and '-'",
					arg);
			len++;
		}
		if (len == 0)
			return gv_err_set(err, EINVAL, "--vgpu=%s: empty profile name", arg);
		if (len >= GV_VGPU_NAME_MAX)
			return gv_err_set(err, EINVAL, "--vgpu=%s: profile name too long", arg);
		if (count == GV_VGPU_MAX)
			return gv_err_set(err, EINVAL, "--vgpu=%s: at most %d profiles per node",
					  arg, GV_VGPU_MAX);
		memcpy(names[count], p, len);
		names[count][len] = '\0';
		count++;
		if (!p[len])
			break;
		p += len + 1;
	}
	*n = count;
	return 0;
}

void gv_vgpu_owner(uint32_t job_id, char out[GV_VGPU_OWNER_MAX])
{
	snprintf(out, GV_VGPU_OWNER_MAX, "slurm:job:%" PRIu32, job_id);
}

int gv_vgpu_socket(const char *tmpl, const char *node, char *out, size_t cap, struct gv_err *err)
{
	size_t len = 0;
	const char *p;

	for (p = tmpl; *p; p++) {
		const char *add = p;
		size_t alen = 1;

		if (*p == '%') {
			if (p[1] == '%') {
				p++;
			} else if (p[1] == 'n') {
				if (!node || !*node)
					return gv_err_set(err, EINVAL,
							  "socket=%s: %%n but no node name "
							  "(SLURMD_NODENAME)",
							  tmpl);
				add = node;
				alen = strlen(node);
				p++;
			} else {
				return gv_err_set(err, EINVAL,
						  "socket=%s: only %%n and %%%% may follow %%",
						  tmpl);
			}
		}
		if (len + alen >= cap)
			return gv_err_set(err, ENAMETOOLONG, "socket=%s: the path is too long",
					  tmpl);
		memcpy(out + len, add, alen);
		len += alen;
	}
	if (len == 0)
		return gv_err_set(err, EINVAL, "socket= needs a path");
	out[len] = '\0';
	return 0;
}

int gv_vgpu_owned(const json_t *list_answer, const char *owner, char ids[][32], int max)
{
	const json_t *arr = json_object_get(list_answer, "instances");
	size_t i;
	int n = 0;

	for (i = 0; i < json_array_size(arr) && n < max; i++) {
		const json_t *in = json_array_get(arr, i);
		const char *o = json_string_value(json_object_get(in, "owner"));
		const char *id = json_string_value(json_object_get(in, "id"));

		if (o && id && strcmp(o, owner) == 0 && strlen(id) < 32)
			snprintf(ids[n++], 32, "%s", id);
	}
	return n;
}

int gv_vgpu_pick(int localid, int n)
{
	if (n <= 0 || localid < 0)
		return 0;
	return localid % n;
}

char gv_vgpu_stat_state(const char *stat_line)
{
	/* "pid (comm) S ...": comm may hold spaces and parentheses, so the
	 * state follows the last ')' */
	const char *rp = stat_line ? strrchr(stat_line, ')') : NULL;

	if (!rp || rp[1] != ' ' || !rp[2])
		return 0;
	return rp[2];
}

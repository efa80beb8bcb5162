/* Exportable VMM memory's descriptor: header and holders (sim_export.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sim_export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sim_export_hdr_parse(const void *buf, size_t len, uint64_t file_size,
			 struct sim_export_hdr *out)
{
	struct sim_export_hdr h;

	if (!buf || len < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != SIM_EXPORT_MAGIC || h.version != SIM_EXPORT_VERSION)
		return -EINVAL;
	if (!h.size || h.size % SIM_EXPORT_GRANULARITY)
		return -EINVAL;
	if (file_size < SIM_EXPORT_HDR_SIZE || file_size - SIM_EXPORT_HDR_SIZE != h.size)
		return -EINVAL;
	if (!(h.handle_types & SIM_EXPORT_POSIX_FD))
		return -EINVAL;
	if (out)
		*out = h;
	return 0;
}

int sim_export_mark(int fd, int role)
{
	struct flock l = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = role, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &l) < 0 ? -errno : 0;
}

bool sim_export_held_elsewhere(int fd)
{
	/* a write lock over both bytes conflicts with any other description's
	 * read lock; the caller's own description never conflicts */
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 2 };

	if (fcntl(fd, F_OFD_GETLK, &l) < 0)
		return true; /* cannot tell: keep the memory */
	return l.l_type != F_UNLCK;
}

int sim_export_reopen(int fd)
{
	char p[64];
	int r;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = open(p, O_RDWR | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

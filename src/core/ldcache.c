/* Library lookup in the loader's cache (ldcache.h). */
#include "gpuvisor/ldcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define HDR_LEN 48u
#define ENT_LEN 24u
#define FLAG_TYPE_MASK 0x00ffu
#define FLAG_ELF_LIBC6 0x0003u
#define FLAG_ARCH_MASK 0xff00u
#define FLAG_X8664_LIB64 0x0300u
#define FLAG_AARCH64_LIB64 0x0a00u

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* the cache is in the machine's byte order */
	return v;
}

/* Whether entry flags f name a library this process could load. */
static int arch_ok(uint32_t f)
{
	if ((f & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6)
		return 0;
#if defined(__x86_64__)
	return (f & FLAG_ARCH_MASK) == FLAG_X8664_LIB64;
#elif defined(__aarch64__)
	return (f & FLAG_ARCH_MASK) == FLAG_AARCH64_LIB64;
#else
	return 1;
#endif
}

/* The NUL-terminated string at off from base (within len), or NULL. */
static const char *str_at(const unsigned char *base, size_t len, uint32_t off)
{
	if (off >= len || !memchr(base + off, '\0', len - off))
		return NULL;
	return (const char *)base + off;
}

int gv_ldcache_find(const void *buf, size_t len, const char *soname, char *out, size_t cap,
		    struct gv_err *err)
{
	const unsigned char *p = buf, *hdr;
	size_t mlen = strlen(NEW_MAGIC), avail;
	uint32_t n, i;

	hdr = len >= mlen ? memmem(p, len, NEW_MAGIC, mlen) : NULL;
	if (!hdr)
		return gv_err_set(err, EINVAL, "not a loader cache (no \"%s\" header)", NEW_MAGIC);
	avail = len - (size_t)(hdr - p);
	if (avail < HDR_LEN)
		return gv_err_set(err, EINVAL, "loader cache: truncated header");
	n = rd32(hdr + 20);
	if ((uint64_t)n * ENT_LEN > avail - HDR_LEN)
		return gv_err_set(err, EINVAL, "loader cache: %u entries do not fit in the file",
				  n);
	for (i = 0; i < n; i++) {
		const unsigned char *e = hdr + HDR_LEN + (size_t)i * ENT_LEN;
		const char *key = str_at(hdr, avail, rd32(e + 4));
		const char *val = str_at(hdr, avail, rd32(e + 8));

		if (!key || !val)
			return gv_err_set(err, EINVAL, "loader cache: entry %u points outside", i);
		if (strcmp(key, soname) != 0 || !arch_ok(rd32(e)))
			continue;
		if (strlen(val) >= cap)
			return gv_err_set(err, ENAMETOOLONG, "%s: path too long", soname);
		memcpy(out, val, strlen(val) + 1);
		return 0;
	}
	return gv_err_set(err, ENOENT, "%s is not in the loader cache", soname);
}

int gv_ldcache_lookup(const char *path, const char *soname, char *out, size_t cap,
		      struct gv_err *err)
{
	struct stat st;
	void *m = MAP_FAILED;
	int fd, ret;

	if (!path)
		path = GV_LDCACHE_PATH;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gv_err_sys(err, "%s", path);
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		ret = gv_err_set(err, EINVAL, "%s: empty or unreadable", path);
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		ret = gv_err_sys(err, "%s", path);
		goto out;
	}
	ret = gv_ldcache_find(m, (size_t)st.st_size, soname, out, cap, err);
	if (ret && err)
		gv_err_prefix(err, "%s", path);
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	close(fd);
	return ret;
}

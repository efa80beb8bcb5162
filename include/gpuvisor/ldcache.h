/* gpuvisor: looking up libraries in the dynamic loader's cache
 * (/etc/ld.so.cache, written by ldconfig), as the loader and NVIDIA's
 * container tooling find the driver's user-space libraries: by SONAME,
 * for the machine's own architecture.
 *
 * Format read (glibc >= 2.32 writes only this one; older files carry it
 * after the old "ld.so-1.7.0" table, and it is found there too): the header
 * "glibc-ld.so.cache" "1.1", u32 entry count, u32 string table length, u8
 * flags, 3 pad, u32 extension offset, 3 x u32 unused (48 bytes), then the
 * entries of 24 bytes: i32 flags, u32 key (SONAME), u32 value (path), u32
 * unused, u64 hwcap. Key and value are offsets of NUL-terminated strings
 * from the start of that header. Every offset is checked against the
 * file's size: a damaged file gives -EINVAL, never a read out of it. */
#ifndef GPUVISOR_LDCACHE_H
#define GPUVISOR_LDCACHE_H

#include <stddef.h>

#include "gpuvisor/err.h"

#define GV_LDCACHE_PATH "/etc/ld.so.cache"

/* The path the cache in buf (len bytes) gives for soname, for this
 * machine's architecture (x86-64 or AArch64 64-bit libc6 entries; on other
 * machines any libc6 entry): 0 and out, -ENOENT when absent, -EINVAL when
 * buf is not a cache, -ENAMETOOLONG when out is too small. */
int gv_ldcache_find(const void *buf, size_t len, const char *soname, char *out, size_t cap,
		    struct gv_err *err);

/* The same on the file at path (GV_LDCACHE_PATH when NULL). */
int gv_ldcache_lookup(const char *path, const char *soname, char *out, size_t cap,
		      struct gv_err *err);

#endif

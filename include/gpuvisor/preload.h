/* What the libraries gpuvisor puts in front of a workload's driver
 * libraries share (the CUDA shim, src/shim; the NVML interposer,
 * src/nvml): their messages on stderr and the search for the real library
 * they stand in for. libc and libdl only: they load in any program. */
#ifndef GPUVISOR_PRELOAD_H
#define GPUVISOR_PRELOAD_H

#include <stdarg.h>
#include <stdbool.h>

/* "WHO: message" on stderr; a debug message only with $GPUVISOR_SHIM_DEBUG
 * set to anything but "" and "0". */
void gv_preload_vlog(const char *who, bool debug, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* The real library behind an interposer, as its messages name it. */
struct gv_preload_real {
	const char *who;     /* the interposer's log prefix: "gpuvisor-cuda" */
	const char *env;     /* the variable naming the real library */
	const char *soname;  /* searched for when env is unset */
	const char *self_is; /* env names the interposer itself: "this shim, not a driver" */
	const char *found;   /* the debug line's word for it: "real driver" */
	const char *none;    /* what the program gets without one */
	const void *self;    /* any address inside the interposer */
};

/* $env when set and not the interposer's own file, else the first soname
 * in the system library directories (Debian/Ubuntu multiarch, Fedora/RHEL,
 * the generic ones, NVIDIA's container toolkit mount point, WSL) that is
 * not the interposer (same device and inode as the file self lies in),
 * opened RTLD_NOW | RTLD_LOCAL so that its symbols never join the global
 * scope where they would compete with the interposer's. NULL, with the
 * reason logged, when there is none. */
void *gv_preload_open_real(const struct gv_preload_real *r);

#endif

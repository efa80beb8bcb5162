/* The descriptor of exportable VMM memory (cuMemCreate with
 * CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, sim_vmm.c): a memfd whose
 * first SIM_EXPORT_HDR_SIZE bytes describe the allocation and whose
 * contents follow. Another process receives it as a plain fd (over a Unix
 * socket, or /proc/PID/fd) and cuMemImportFromShareableHandle reads the
 * header to know what it holds; any file that is not such a memfd is
 * refused there.
 *
 * Who holds the memory is told by open file description (OFD) read locks
 * on the first bytes of the file: each descriptor handed out by
 * cuMemExportToShareableHandle is a description of its own holding a lock
 * on byte SIM_EXPORT_LOCK_FD, each imported handle one on byte
 * SIM_EXPORT_LOCK_IMPORT. The kernel drops a description's lock when its
 * last reference goes (the fd closed in every process it was passed to,
 * the mappings made from it gone), so sim_export_held_elsewhere() answers
 * "does anything but the caller's own description keep this memory" the
 * way the driver's reference count would.
 *
 * Standalone (no cuda.h): the fuzz target builds this file alone. */
#ifndef GV_SIM_EXPORT_H
#define GV_SIM_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_EXPORT_MAGIC 0x58565347u /* "GSVX" little-endian */
#define SIM_EXPORT_VERSION 1u
#define SIM_EXPORT_HDR_SIZE 4096u /* the contents start one page in */
#define SIM_EXPORT_GRANULARITY (2ull * 1024 * 1024)
#define SIM_EXPORT_POSIX_FD 1u /* CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR */

enum { SIM_EXPORT_LOCK_FD = 0, SIM_EXPORT_LOCK_IMPORT = 1 };

/* The header as it lies in the file (little-endian, the host's). */
struct sim_export_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t size;	       /* bytes of contents after the header */
	uint8_t dev_uuid[16];  /* the device's CUuuid */
	uint32_t handle_types; /* CUmemAllocationProp.requestedHandleTypes */
	uint32_t creator_pid;  /* informational */
};

/* Validates the first len bytes of a descriptor of file_size bytes: 0 and
 * *out filled, or -EINVAL (not an export of this version, a size that is
 * no multiple of the granularity or does not match the file, handle types
 * without the POSIX fd). */
int sim_export_hdr_parse(const void *buf, size_t len, uint64_t file_size,
			 struct sim_export_hdr *out);
/* Takes the read lock of role (SIM_EXPORT_LOCK_*) on fd's description:
 * 0 or a negative errno. */
int sim_export_mark(int fd, int role);
/* Whether a description other than fd's holds a lock of either role. */
bool sim_export_held_elsewhere(int fd);
/* A new description of the same file as fd (O_RDWR, close-on-exec), or a
 * negative errno. */
int sim_export_reopen(int fd);

#endif

/* gpuvisord: its own copies of a driver pre-copy's source bulk.
 *
 * Between the shim's release of its bulk and its map of the destination,
 * the pre-copy helper (gpuvisor-ckpt precopy) holds the only references to
 * the workload's source bulk memory. With --keep-fd it first hands
 * gpuvisord descriptors of every source region over a SOCK_SEQPACKET
 * socket, {"keep":[ids]} with the descriptors attached, and says when the
 * driver's restore starts ({"phase":"restoring"}) and has succeeded
 * ({"phase":"restored"}). When the helper dies in that window, gpuvisord
 * maps the source back itself (gvd_keep_map_back): the workload runs on
 * where it was, with its data as of the stop, instead of losing it.
 *
 * The descriptors keep the source memory allocated (an exported POSIX
 * descriptor holds its allocation: the driver's documented export rule;
 * its hold after the exporter's release is unproven on a GPU, written in
 * docs/migration.md). */
#ifndef GVD_KEEP_H
#define GVD_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvisor/err.h"

struct gvd_keep {
	int sock;      /* gpuvisord's end; -1 when none */
	int child;     /* the helper's end until it runs (closed after) */
	uint64_t *ids; /* region ids, in the order of fds */
	int *fds;
	size_t n, cap;
	bool lost;	/* a message or descriptor could not be kept */
	bool restoring; /* the helper started the driver's restore */
	bool restored;	/* and it succeeded */
};

/* A socket pair: k->child goes to the helper (--keep-fd). */
int gvd_keep_open(struct gvd_keep *k, struct gv_err *err);
/* After the helper has exited: everything it sent (never blocks). */
void gvd_keep_collect(struct gvd_keep *k);
/* Whether the helper handed over its source regions (and nothing of them
 * was lost): only then can they be mapped back. */
bool gvd_keep_usable(const struct gvd_keep *k);
/* Maps the kept regions back into the workload (owner's shim, on its
 * bulk control socket path) at their old addresses and lets it go. */
int gvd_keep_map_back(const struct gvd_keep *k, const char *path, pid_t owner, struct gv_err *err);
void gvd_keep_free(struct gvd_keep *k);

#endif

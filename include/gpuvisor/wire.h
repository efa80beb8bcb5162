/* gpuvisor: the migration stream format (wire and on-disk).
 *
 * A stream is a sequence of frames. Every frame is a 32-byte header and a
 * payload, all integers little-endian:
 *
 *   off size field
 *     0    4 magic "GVMW"
 *     4    1 version (GV_WIRE_VERSION)
 *     5    1 type (enum gv_wire_type)
 *     6    2 flags, 0 in version 1
 *     8    4 payload length (<= GV_WIRE_MAX_PAYLOAD)
 *    12    4 reserved, 0
 *    16    8 sequence number (0 for the first frame, +1 per frame)
 *    24    8 XXH64 of the payload, seeded with XXH64 (seed 0) of bytes 0..23
 *
 * Payload layouts are in docs/migration.md. The parser trusts nothing: every
 * length is checked against the bytes present and against the type's fixed
 * layout, reserved fields must be zero, strings must be printable ASCII,
 * and a chunk's data must match its XXH3-128 hash.
 *
 * Authentication (HELLO + AUTH) uses a keyed XXH3-128 (the shared token
 * expanded into an XXH3 secret) over both nonces. XXH3 is not a
 * cryptographic MAC: it keeps apart streams of different migrations and
 * peers without the token by accident or misconfiguration, not a determined
 * attacker. Run cross-host streams over a protected channel (TLS, SSH,
 * WireGuard); the checksums detect corruption, not forgery.
 *
 * Callers: none yet besides its tests (tests/unit/test_wire.c,
 * tests/fuzz/fuzz_wire.c). Migrations today stay on one host, where the
 * shim's endpoint copies device memory directly. This format is for what
 * comes next, and is kept so that its rules are settled and fuzzed before
 * then: the stream writer and reader of a cross-host migration (a
 * gv_mig_ops endpoint, migrate.h, whose copy callbacks encode chunks to a
 * peer gpuvisord instead of copying locally), and a checkpoint written to
 * disk as one stream and read back on resume (docs/migration.md, "Stream
 * format").
 */
#ifndef GPUVISOR_WIRE_H
#define GPUVISOR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuvisor/chunkhash.h"
#include "gpuvisor/err.h"

#define GV_WIRE_VERSION 1
#define GV_WIRE_HDR_SIZE 32
#define GV_WIRE_CHUNK_FIXED 40 /* chunk payload before its data */
#define GV_WIRE_CHUNK_MAX (64u << 20)
#define GV_WIRE_MAX_PAYLOAD (GV_WIRE_CHUNK_FIXED + GV_WIRE_CHUNK_MAX)
#define GV_WIRE_NONCE_SIZE 32
#define GV_WIRE_MAC_SIZE 16
#define GV_WIRE_ID_MAX 64
#define GV_WIRE_MSG_MAX 256
#define GV_WIRE_TOKEN_MIN 16

enum gv_wire_type {
	GV_WIRE_HELLO = 1,	 /* role, nonce, migration id */
	GV_WIRE_AUTH = 2,	 /* MAC over both nonces */
	GV_WIRE_REGION = 3,	 /* a region exists: id, size, chunk size */
	GV_WIRE_REGION_FREE = 4, /* a region vanished from the source */
	GV_WIRE_CHUNK = 5,	 /* whole chunk: region, offset, hash, data */
	GV_WIRE_ROUND = 6,	 /* a pre-copy round begins */
	GV_WIRE_STUN = 7,	 /* the source is stunned: final pass follows */
	GV_WIRE_SWITCH = 8,	 /* all sent: switch to the destination */
	GV_WIRE_END = 9,	 /* the stream ends normally */
	GV_WIRE_ABORT = 10,	 /* the stream ends: migration aborted */
};

enum gv_wire_role {
	GV_WIRE_ROLE_SENDER = 1,
	GV_WIRE_ROLE_RECEIVER = 2,
	GV_WIRE_ROLE_FILE = 3, /* an on-disk stream: no peer nonce */
};

struct gv_wire_frame {
	enum gv_wire_type type;
	uint64_t seq;
	union {
		struct {
			uint8_t role; /* enum gv_wire_role */
			uint8_t nonce[GV_WIRE_NONCE_SIZE];
			char id[GV_WIRE_ID_MAX + 1]; /* migration id, 1..64 chars 0x21..0x7e */
		} hello;
		struct {
			uint8_t mac[GV_WIRE_MAC_SIZE];
		} auth;
		struct {
			uint64_t id;
			uint64_t size;	     /* > 0 */
			uint64_t chunk_size; /* power of two, 64 KiB..64 MiB */
		} region;
		struct {
			uint64_t id;
		} region_free;
		struct {
			uint64_t region;
			uint64_t offset;
			uint32_t len;		   /* 1..GV_WIRE_CHUNK_MAX */
			struct gv_chunk_hash hash; /* XXH3-128 of data */
			const uint8_t *data;	   /* parse: points into the parsed buffer */
		} chunk;
		struct {
			uint32_t round; /* >= 1 */
			uint64_t bytes_dirty;
		} round;
		struct {
			uint64_t regions;
			uint64_t bytes_total;
		} sw;
		struct {
			int32_t error;		       /* positive errno, 1..4095 */
			char msg[GV_WIRE_MSG_MAX + 1]; /* 0x20..0x7e */
		} abort;
	} u;
};

/* Parses the frame at the start of buf[0..len). Returns:
 *   0               a valid frame: *out filled, *used = its size
 *   -EAGAIN         the bytes so far are a valid beginning; *used = the
 *                   total size needed (the header size while it is
 *                   incomplete, the frame size after)
 *   -EINVAL         malformed (reason in err); the stream cannot go on
 *   -EPROTONOSUPPORT another version of the format
 * out and *used are untouched on -EINVAL. A chunk's data pointer points
 * into buf. */
int gv_wire_parse_frame(const uint8_t *buf, size_t len, struct gv_wire_frame *out, size_t *used,
			struct gv_err *err);

/* Size of the encoded frame, 0 if f is invalid. */
size_t gv_wire_frame_size(const struct gv_wire_frame *f);

/* Encodes f into buf[0..cap): validated with the parser's rules (EINVAL),
 * ENOSPC when cap is too small. *len = bytes written. For a chunk, the hash
 * is computed from data (f->u.chunk.hash is ignored). */
int gv_wire_encode(const struct gv_wire_frame *f, uint8_t *buf, size_t cap, size_t *len,
		   struct gv_err *err);

const char *gv_wire_type_name(enum gv_wire_type t);

/* Fresh random nonce (getrandom). */
int gv_wire_nonce(uint8_t nonce[GV_WIRE_NONCE_SIZE], struct gv_err *err);

/* MAC for the AUTH frame of the side with role `role`: keyed XXH3-128 of
 * ("gpuvisor-migrate-v1", role, id, own nonce, peer nonce) with the token
 * (>= GV_WIRE_TOKEN_MIN bytes) expanded into an XXH3 secret. A FILE stream
 * passes its own nonce as the peer nonce too. */
int gv_wire_auth_mac(const void *token, size_t token_len, uint8_t role, const char *id,
		     const uint8_t own_nonce[GV_WIRE_NONCE_SIZE],
		     const uint8_t peer_nonce[GV_WIRE_NONCE_SIZE], uint8_t mac[GV_WIRE_MAC_SIZE],
		     struct gv_err *err);

/* Checks a received MAC in constant time: 0, or EACCES. */
int gv_wire_auth_check(const void *token, size_t token_len, uint8_t role, const char *id,
		       const uint8_t own_nonce[GV_WIRE_NONCE_SIZE],
		       const uint8_t peer_nonce[GV_WIRE_NONCE_SIZE],
		       const uint8_t mac[GV_WIRE_MAC_SIZE], struct gv_err *err);

/* Order rules of one direction of a stream, checked frame by frame:
 * sequence numbers from 0 without gaps; HELLO first, AUTH only right after
 * it; chunks only of declared, live regions, whole chunks at chunk-aligned
 * offsets; rounds increasing and only before the STUN; SWITCH after the
 * STUN with the live region count and size; nothing after END or ABORT. */
struct gv_wire_stream;

struct gv_wire_stream *gv_wire_stream_new(void);
void gv_wire_stream_free(struct gv_wire_stream *s);
/* 0, or EPROTO (with the reason) when f breaks the order; the stream is
 * then unusable. ENOMEM when a region cannot be recorded. */
int gv_wire_stream_check(struct gv_wire_stream *s, const struct gv_wire_frame *f,
			 struct gv_err *err);
/* True after END (a complete stream); false after ABORT or while open. */
bool gv_wire_stream_complete(const struct gv_wire_stream *s);

#endif

/* The migration stream format: frame encoder, strict frame parser, stream
 * order checker and the token MAC. Layouts: include/gpuvisor/wire.h and
 * docs/migration.md. */
#include "gpuvisor/wire.h"
#include "gpuvisor/nametab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* XXH3_generateSecret sits in the static-linking section of xxhash.h but is
 * exported by libxxhash (0.8.1+), which is what we link. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static const uint8_t wire_magic[4] = { 'G', 'V', 'M', 'W' };

/* Fixed payload sizes; the variable types give their fixed part. */
#define HELLO_FIXED 40
#define AUTH_SIZE GV_WIRE_MAC_SIZE
#define REGION_SIZE 24
#define REGION_FREE_SIZE 8
#define ROUND_SIZE 16
#define SWITCH_SIZE 16
#define ABORT_FIXED 8
#define ERRNO_MAX 4095
#define SECRET_SIZE 192

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool chunk_size_ok(uint64_t cs)
{
	return cs >= (64u << 10) && cs <= GV_WIRE_CHUNK_MAX && !(cs & (cs - 1));
}

/* id: 1..64 characters 0x21..0x7e; msg: 0..256 characters 0x20..0x7e. */
static bool text_ok(const uint8_t *s, size_t n, size_t min, size_t max, uint8_t lo)
{
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < lo || s[i] > 0x7e)
			return false;
	return true;
}

/* Chained so that header and payload need not be contiguous in memory. */
static uint64_t frame_checksum(const uint8_t *hdr, const uint8_t *payload, size_t plen)
{
	return XXH64(payload, plen, XXH64(hdr, 24, 0));
}

GV_NAMETAB_NAME(gv_wire_type, enum gv_wire_type, "unknown", { GV_WIRE_HELLO, "hello" },
		{ GV_WIRE_AUTH, "auth" }, { GV_WIRE_REGION, "region" },
		{ GV_WIRE_REGION_FREE, "region-free" }, { GV_WIRE_CHUNK, "chunk" },
		{ GV_WIRE_ROUND, "round" }, { GV_WIRE_STUN, "stun" }, { GV_WIRE_SWITCH, "switch" },
		{ GV_WIRE_END, "end" }, { GV_WIRE_ABORT, "abort" })

/* Payload rules shared by the parser (p = received payload) and the
 * encoder (f = frame to send): returns the expected payload length for the
 * fixed types, or checks the variable ones. */
static int payload_parse(enum gv_wire_type type, const uint8_t *p, size_t n,
			 struct gv_wire_frame *f, struct gv_err *err)
{
	const char *tn = gv_wire_type_name(type);

	switch (type) {
	case GV_WIRE_HELLO: {
		size_t idlen;

		if (n < HELLO_FIXED)
			return gv_err_set(err, EINVAL, "hello frame of %zu bytes is too short", n);
		idlen = p[1];
		if (n != HELLO_FIXED + idlen)
			return gv_err_set(err, EINVAL,
					  "hello frame of %zu bytes does not hold its %zu-byte id",
					  n, idlen);
		if (p[0] < GV_WIRE_ROLE_SENDER || p[0] > GV_WIRE_ROLE_FILE)
			return gv_err_set(err, EINVAL, "hello frame has unknown role %u", p[0]);
		if (!all_zero(p + 2, 6))
			return gv_err_set(err, EINVAL, "hello frame has nonzero reserved bytes");
		if (!text_ok(p + HELLO_FIXED, idlen, 1, GV_WIRE_ID_MAX, 0x21))
			return gv_err_set(
				err, EINVAL,
				"hello frame id must be 1 to %d printable characters without spaces",
				GV_WIRE_ID_MAX);
		f->u.hello.role = p[0];
		memcpy(f->u.hello.nonce, p + 8, GV_WIRE_NONCE_SIZE);
		memcpy(f->u.hello.id, p + HELLO_FIXED, idlen);
		f->u.hello.id[idlen] = '\0';
		return 0;
	}
	case GV_WIRE_AUTH:
		if (n != AUTH_SIZE)
			break;
		memcpy(f->u.auth.mac, p, AUTH_SIZE);
		return 0;
	case GV_WIRE_REGION:
		if (n != REGION_SIZE)
			break;
		f->u.region.id = get64(p);
		f->u.region.size = get64(p + 8);
		f->u.region.chunk_size = get64(p + 16);
		if (f->u.region.size == 0)
			return gv_err_set(err, EINVAL, "region %llu has size 0",
					  (unsigned long long)f->u.region.id);
		if (!chunk_size_ok(f->u.region.chunk_size))
			return gv_err_set(
				err, EINVAL,
				"region %llu has chunk size %llu (not a power of two from 64 KiB to 64 MiB)",
				(unsigned long long)f->u.region.id,
				(unsigned long long)f->u.region.chunk_size);
		return 0;
	case GV_WIRE_REGION_FREE:
		if (n != REGION_FREE_SIZE)
			break;
		f->u.region_free.id = get64(p);
		return 0;
	case GV_WIRE_CHUNK: {
		uint64_t len;
		struct gv_chunk_hash h;

		if (n < GV_WIRE_CHUNK_FIXED)
			return gv_err_set(err, EINVAL, "chunk frame of %zu bytes is too short", n);
		len = get32(p + 16);
		if (len == 0 || len != n - GV_WIRE_CHUNK_FIXED)
			return gv_err_set(err, EINVAL,
					  "chunk frame says %llu data bytes but carries %zu",
					  (unsigned long long)len, n - GV_WIRE_CHUNK_FIXED);
		if (get32(p + 20) != 0)
			return gv_err_set(err, EINVAL, "chunk frame has nonzero reserved bytes");
		if (get64(p + 8) > UINT64_MAX - len)
			return gv_err_set(err, EINVAL, "chunk frame offset %llu overflows",
					  (unsigned long long)get64(p + 8));
		h = gv_chunkhash_one(p + GV_WIRE_CHUNK_FIXED, (size_t)len);
		f->u.chunk.hash = gv_chunkhash_from_bytes(p + 24);
		if (!gv_chunkhash_equal(&h, &f->u.chunk.hash))
			return gv_err_set(
				err, EINVAL,
				"chunk of region %llu at offset %llu does not match its hash",
				(unsigned long long)get64(p), (unsigned long long)get64(p + 8));
		f->u.chunk.region = get64(p);
		f->u.chunk.offset = get64(p + 8);
		f->u.chunk.len = (uint32_t)len;
		f->u.chunk.data = p + GV_WIRE_CHUNK_FIXED;
		return 0;
	}
	case GV_WIRE_ROUND:
		if (n != ROUND_SIZE)
			break;
		if (get32(p + 4) != 0)
			return gv_err_set(err, EINVAL, "round frame has nonzero reserved bytes");
		f->u.round.round = get32(p);
		f->u.round.bytes_dirty = get64(p + 8);
		if (f->u.round.round == 0)
			return gv_err_set(err, EINVAL, "round frame has round 0");
		return 0;
	case GV_WIRE_STUN:
	case GV_WIRE_END:
		if (n != 0)
			break;
		return 0;
	case GV_WIRE_SWITCH:
		if (n != SWITCH_SIZE)
			break;
		f->u.sw.regions = get64(p);
		f->u.sw.bytes_total = get64(p + 8);
		return 0;
	case GV_WIRE_ABORT: {
		size_t mlen;
		int32_t e;

		if (n < ABORT_FIXED)
			return gv_err_set(err, EINVAL, "abort frame of %zu bytes is too short", n);
		e = (int32_t)get32(p);
		mlen = get16(p + 4);
		if (n != ABORT_FIXED + mlen)
			return gv_err_set(
				err, EINVAL,
				"abort frame of %zu bytes does not hold its %zu-byte reason", n,
				mlen);
		if (e < 1 || e > ERRNO_MAX)
			return gv_err_set(err, EINVAL, "abort frame has error %d (not an errno)",
					  (int)e);
		if (get16(p + 6) != 0)
			return gv_err_set(err, EINVAL, "abort frame has nonzero reserved bytes");
		if (!text_ok(p + ABORT_FIXED, mlen, 0, GV_WIRE_MSG_MAX, 0x20))
			return gv_err_set(
				err, EINVAL,
				"abort frame reason must be at most %d printable characters",
				GV_WIRE_MSG_MAX);
		f->u.abort.error = e;
		memcpy(f->u.abort.msg, p + ABORT_FIXED, mlen);
		f->u.abort.msg[mlen] = '\0';
		return 0;
	}
	}
	return gv_err_set(err, EINVAL, "%s frame has %zu payload bytes", tn, n);
}

int gv_wire_parse_frame(const uint8_t *buf, size_t len, struct gv_wire_frame *out, size_t *used,
			struct gv_err *err)
{
	struct gv_wire_frame f;
	size_t plen, have = len < 4 ? len : 4;
	int rc;

	memset(&f, 0, sizeof(f));
	if (!buf && len)
		return gv_err_set(err, EINVAL, "no buffer to parse");
	/* Reject garbage as early as the bytes allow: never wait for more
	 * input on a prefix that cannot become a frame. */
	if (memcmp(buf ? buf : wire_magic, wire_magic, have) != 0)
		return gv_err_set(err, EINVAL, "not a gpuvisor migration frame (bad magic)");
	if (len > 4 && buf[4] != GV_WIRE_VERSION)
		return gv_err_set(err, EPROTONOSUPPORT,
				  "migration stream version %u, this gpuvisor speaks %d", buf[4],
				  GV_WIRE_VERSION);
	if (len > 5 && (buf[5] < GV_WIRE_HELLO || buf[5] > GV_WIRE_ABORT))
		return gv_err_set(err, EINVAL, "unknown frame type %u", buf[5]);
	if (len < GV_WIRE_HDR_SIZE) {
		*used = GV_WIRE_HDR_SIZE;
		return -EAGAIN;
	}
	if (get16(buf + 6) != 0)
		return gv_err_set(err, EINVAL, "frame flags 0x%x are not defined in version %d",
				  get16(buf + 6), GV_WIRE_VERSION);
	if (get32(buf + 12) != 0)
		return gv_err_set(err, EINVAL, "frame header has nonzero reserved bytes");
	plen = get32(buf + 8);
	if (plen > GV_WIRE_MAX_PAYLOAD)
		return gv_err_set(err, EINVAL, "frame payload of %zu bytes exceeds %u", plen,
				  (unsigned)GV_WIRE_MAX_PAYLOAD);
	if (len - GV_WIRE_HDR_SIZE < plen) {
		*used = GV_WIRE_HDR_SIZE + plen;
		return -EAGAIN;
	}
	if (frame_checksum(buf, buf + GV_WIRE_HDR_SIZE, plen) != get64(buf + 24))
		return gv_err_set(err, EINVAL, "%s frame %llu fails its checksum",
				  gv_wire_type_name(buf[5]), (unsigned long long)get64(buf + 16));
	f.type = buf[5];
	f.seq = get64(buf + 16);
	rc = payload_parse(f.type, buf + GV_WIRE_HDR_SIZE, plen, &f, err);
	if (rc < 0)
		return rc;
	*out = f;
	*used = GV_WIRE_HDR_SIZE + plen;
	return 0;
}

static size_t payload_size(const struct gv_wire_frame *f)
{
	switch (f->type) {
	case GV_WIRE_HELLO:
		return HELLO_FIXED + strnlen(f->u.hello.id, GV_WIRE_ID_MAX + 1);
	case GV_WIRE_AUTH:
		return AUTH_SIZE;
	case GV_WIRE_REGION:
		return REGION_SIZE;
	case GV_WIRE_REGION_FREE:
		return REGION_FREE_SIZE;
	case GV_WIRE_CHUNK:
		return GV_WIRE_CHUNK_FIXED + (size_t)f->u.chunk.len;
	case GV_WIRE_ROUND:
		return ROUND_SIZE;
	case GV_WIRE_SWITCH:
		return SWITCH_SIZE;
	case GV_WIRE_ABORT:
		return ABORT_FIXED + strnlen(f->u.abort.msg, GV_WIRE_MSG_MAX + 1);
	case GV_WIRE_STUN:
	case GV_WIRE_END:
		return 0;
	}
	return SIZE_MAX;
}

size_t gv_wire_frame_size(const struct gv_wire_frame *f)
{
	size_t n = f ? payload_size(f) : SIZE_MAX;

	if (n > GV_WIRE_MAX_PAYLOAD)
		return 0;
	return GV_WIRE_HDR_SIZE + n;
}

static void payload_write(const struct gv_wire_frame *f, uint8_t *p, size_t n)
{
	memset(p, 0, n);
	switch (f->type) {
	case GV_WIRE_HELLO:
		p[0] = f->u.hello.role;
		p[1] = (uint8_t)(n - HELLO_FIXED);
		memcpy(p + 8, f->u.hello.nonce, GV_WIRE_NONCE_SIZE);
		memcpy(p + HELLO_FIXED, f->u.hello.id, n - HELLO_FIXED);
		break;
	case GV_WIRE_AUTH:
		memcpy(p, f->u.auth.mac, AUTH_SIZE);
		break;
	case GV_WIRE_REGION:
		put64(p, f->u.region.id);
		put64(p + 8, f->u.region.size);
		put64(p + 16, f->u.region.chunk_size);
		break;
	case GV_WIRE_REGION_FREE:
		put64(p, f->u.region_free.id);
		break;
	case GV_WIRE_CHUNK: {
		struct gv_chunk_hash h = gv_chunkhash_one(f->u.chunk.data, f->u.chunk.len);

		put64(p, f->u.chunk.region);
		put64(p + 8, f->u.chunk.offset);
		put32(p + 16, f->u.chunk.len);
		gv_chunkhash_to_bytes(&h, p + 24);
		memcpy(p + GV_WIRE_CHUNK_FIXED, f->u.chunk.data, f->u.chunk.len);
		break;
	}
	case GV_WIRE_ROUND:
		put32(p, f->u.round.round);
		put64(p + 8, f->u.round.bytes_dirty);
		break;
	case GV_WIRE_SWITCH:
		put64(p, f->u.sw.regions);
		put64(p + 8, f->u.sw.bytes_total);
		break;
	case GV_WIRE_ABORT:
		put32(p, (uint32_t)f->u.abort.error);
		put16(p + 4, (uint16_t)(n - ABORT_FIXED));
		memcpy(p + ABORT_FIXED, f->u.abort.msg, n - ABORT_FIXED);
		break;
	case GV_WIRE_STUN:
	case GV_WIRE_END:
		break;
	}
}

int gv_wire_encode(const struct gv_wire_frame *f, uint8_t *buf, size_t cap, size_t *len,
		   struct gv_err *err)
{
	struct gv_wire_frame check;
	size_t total, n;
	int rc;

	if (!f || !buf || !len)
		return gv_err_set(err, EINVAL, "encode needs a frame, a buffer and a length");
	if (f->type < GV_WIRE_HELLO || f->type > GV_WIRE_ABORT)
		return gv_err_set(err, EINVAL, "unknown frame type %d", (int)f->type);
	if (f->type == GV_WIRE_CHUNK &&
	    (f->u.chunk.len == 0 || f->u.chunk.len > GV_WIRE_CHUNK_MAX || !f->u.chunk.data))
		return gv_err_set(err, EINVAL, "chunk frame needs 1 to %u bytes of data",
				  (unsigned)GV_WIRE_CHUNK_MAX);
	total = gv_wire_frame_size(f);
	if (total == 0)
		return gv_err_set(err, EINVAL, "%s frame too large", gv_wire_type_name(f->type));
	if (total > cap)
		return gv_err_set(err, ENOSPC, "%s frame needs %zu bytes, buffer has %zu",
				  gv_wire_type_name(f->type), total, cap);
	n = total - GV_WIRE_HDR_SIZE;
	memcpy(buf, wire_magic, 4);
	buf[4] = GV_WIRE_VERSION;
	buf[5] = (uint8_t)f->type;
	put16(buf + 6, 0);
	put32(buf + 8, (uint32_t)n);
	put32(buf + 12, 0);
	put64(buf + 16, f->seq);
	payload_write(f, buf + GV_WIRE_HDR_SIZE, n);
	put64(buf + 24, frame_checksum(buf, buf + GV_WIRE_HDR_SIZE, n));
	/* What we send must pass our own parser: one set of rules. A chunk,
	 * whose hash was just computed from its data, needs only its offset
	 * checked (no second pass over up to 64 MiB). */
	if (f->type == GV_WIRE_CHUNK)
		rc = f->u.chunk.offset > UINT64_MAX - f->u.chunk.len
			     ? gv_err_set(err, EINVAL, "chunk frame offset overflows")
			     : 0;
	else
		rc = payload_parse(f->type, buf + GV_WIRE_HDR_SIZE, n, &check, err);
	if (rc < 0) {
		memset(buf, 0, total);
		return rc;
	}
	*len = total;
	return 0;
}

int gv_wire_nonce(uint8_t nonce[GV_WIRE_NONCE_SIZE], struct gv_err *err)
{
	size_t got = 0;

	while (got < GV_WIRE_NONCE_SIZE) {
		ssize_t r = getrandom(nonce + got, GV_WIRE_NONCE_SIZE - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return gv_err_sys(err, "getrandom");
		}
		got += (size_t)r;
	}
	return 0;
}

int gv_wire_auth_mac(const void *token, size_t token_len, uint8_t role, const char *id,
		     const uint8_t own_nonce[GV_WIRE_NONCE_SIZE],
		     const uint8_t peer_nonce[GV_WIRE_NONCE_SIZE], uint8_t mac[GV_WIRE_MAC_SIZE],
		     struct gv_err *err)
{
	static const char label[] = "gpuvisor-migrate-v1";
	uint8_t secret[SECRET_SIZE];
	uint8_t msg[sizeof(label) + 2 + GV_WIRE_ID_MAX + 2 * GV_WIRE_NONCE_SIZE];
	size_t idlen, n = 0;
	XXH128_hash_t h;
	struct gv_chunk_hash ch;
	int rc = 0;

	if (!token || token_len < GV_WIRE_TOKEN_MIN) {
		rc = gv_err_set(err, EINVAL, "migration token must be at least %d bytes",
				GV_WIRE_TOKEN_MIN);
		goto out;
	}
	idlen = id ? strnlen(id, GV_WIRE_ID_MAX + 1) : 0;
	if (!text_ok((const uint8_t *)id, idlen, 1, GV_WIRE_ID_MAX, 0x21)) {
		rc = gv_err_set(err, EINVAL, "migration id must be 1 to %d printable characters",
				GV_WIRE_ID_MAX);
		goto out;
	}
	if (XXH3_generateSecret(secret, sizeof(secret), token, token_len) != XXH_OK) {
		rc = gv_err_set(err, EINVAL, "cannot derive a key from the token");
		goto out;
	}
	memcpy(msg, label, sizeof(label));
	n = sizeof(label);
	msg[n++] = role;
	msg[n++] = (uint8_t)idlen;
	memcpy(msg + n, id, idlen);
	n += idlen;
	memcpy(msg + n, own_nonce, GV_WIRE_NONCE_SIZE);
	n += GV_WIRE_NONCE_SIZE;
	memcpy(msg + n, peer_nonce, GV_WIRE_NONCE_SIZE);
	n += GV_WIRE_NONCE_SIZE;
	h = XXH3_128bits_withSecret(msg, n, secret, sizeof(secret));
	ch.lo = h.low64;
	ch.hi = h.high64;
	gv_chunkhash_to_bytes(&ch, mac);
out:
	/* the derived key must not outlive the call */
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

int gv_wire_auth_check(const void *token, size_t token_len, uint8_t role, const char *id,
		       const uint8_t own_nonce[GV_WIRE_NONCE_SIZE],
		       const uint8_t peer_nonce[GV_WIRE_NONCE_SIZE],
		       const uint8_t mac[GV_WIRE_MAC_SIZE], struct gv_err *err)
{
	uint8_t want[GV_WIRE_MAC_SIZE];
	uint8_t diff = 0;
	int rc;

	rc = gv_wire_auth_mac(token, token_len, role, id, own_nonce, peer_nonce, want, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < GV_WIRE_MAC_SIZE; i++)
		diff |= (uint8_t)(want[i] ^ mac[i]);
	if (diff)
		return gv_err_set(err, EACCES, "migration peer failed authentication");
	return 0;
}

/* ---- stream order ---- */

struct wire_region {
	uint64_t id;
	uint64_t size;
	uint64_t chunk_size;
};

enum stream_state {
	ST_START,
	ST_HELLO,
	ST_BODY,
	ST_STUNNED,
	ST_SWITCHED,
	ST_ENDED,
	ST_ABORTED,
	ST_BROKEN
};

struct gv_wire_stream {
	enum stream_state state;
	uint64_t next_seq;
	uint32_t last_round;
	unsigned hellos;
	struct wire_region *reg; /* sorted by id: bsearch */
	size_t nreg, capreg;
	uint64_t bytes_total;
};

static int cmp_wreg(const void *a, const void *b)
{
	const struct wire_region *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static struct wire_region *stream_find(struct gv_wire_stream *s, uint64_t id)
{
	struct wire_region key = { .id = id };

	if (!s->nreg)
		return NULL;
	return bsearch(&key, s->reg, s->nreg, sizeof(*s->reg), cmp_wreg);
}

struct gv_wire_stream *gv_wire_stream_new(void)
{
	return calloc(1, sizeof(struct gv_wire_stream));
}

void gv_wire_stream_free(struct gv_wire_stream *s)
{
	if (!s)
		return;
	free(s->reg);
	free(s);
}

bool gv_wire_stream_complete(const struct gv_wire_stream *s)
{
	return s && s->state == ST_ENDED;
}

static int stream_add(struct gv_wire_stream *s, const struct gv_wire_frame *f, struct gv_err *err)
{
	size_t pos = 0;

	if (stream_find(s, f->u.region.id))
		return gv_err_set(err, EPROTO, "region %llu declared twice",
				  (unsigned long long)f->u.region.id);
	if (s->nreg == s->capreg) {
		size_t cap = s->capreg ? 2 * s->capreg : 16;
		struct wire_region *p = realloc(s->reg, cap * sizeof(*p));

		if (!p)
			return gv_err_set(err, ENOMEM, "out of memory for stream regions");
		s->reg = p;
		s->capreg = cap;
	}
	while (pos < s->nreg && s->reg[pos].id < f->u.region.id)
		pos++;
	memmove(s->reg + pos + 1, s->reg + pos, (s->nreg - pos) * sizeof(*s->reg));
	s->reg[pos].id = f->u.region.id;
	s->reg[pos].size = f->u.region.size;
	s->reg[pos].chunk_size = f->u.region.chunk_size;
	s->nreg++;
	s->bytes_total += f->u.region.size;
	return 0;
}

static int stream_body(struct gv_wire_stream *s, const struct gv_wire_frame *f, struct gv_err *err)
{
	struct wire_region *r;

	switch (f->type) {
	case GV_WIRE_REGION:
		return stream_add(s, f, err);
	case GV_WIRE_REGION_FREE:
		r = stream_find(s, f->u.region_free.id);
		if (!r)
			return gv_err_set(err, EPROTO, "free of undeclared region %llu",
					  (unsigned long long)f->u.region_free.id);
		s->bytes_total -= r->size;
		memmove(r, r + 1, (size_t)(s->reg + s->nreg - (r + 1)) * sizeof(*r));
		s->nreg--;
		return 0;
	case GV_WIRE_CHUNK: {
		uint64_t off = f->u.chunk.offset, want;

		r = stream_find(s, f->u.chunk.region);
		if (!r)
			return gv_err_set(err, EPROTO, "chunk of undeclared region %llu",
					  (unsigned long long)f->u.chunk.region);
		want = off < r->size ? r->size - off : 0;
		if (want > r->chunk_size)
			want = r->chunk_size;
		if (off % r->chunk_size || want == 0 || f->u.chunk.len != want)
			return gv_err_set(
				err, EPROTO,
				"chunk of region %llu at offset %llu, %u bytes, is not one whole chunk of it",
				(unsigned long long)r->id, (unsigned long long)off, f->u.chunk.len);
		return 0;
	}
	case GV_WIRE_ROUND:
		if (s->state != ST_BODY)
			return gv_err_set(err, EPROTO, "round marker after the stun");
		if (f->u.round.round <= s->last_round)
			return gv_err_set(err, EPROTO, "round %u after round %u", f->u.round.round,
					  s->last_round);
		s->last_round = f->u.round.round;
		return 0;
	case GV_WIRE_STUN:
		if (s->state != ST_BODY)
			return gv_err_set(err, EPROTO, "second stun marker");
		s->state = ST_STUNNED;
		return 0;
	case GV_WIRE_SWITCH:
		if (s->state != ST_STUNNED)
			return gv_err_set(err, EPROTO, "switch marker before the stun");
		if (f->u.sw.regions != s->nreg || f->u.sw.bytes_total != s->bytes_total)
			return gv_err_set(
				err, EPROTO,
				"switch marker says %llu regions of %llu bytes, the stream declared %zu of %llu",
				(unsigned long long)f->u.sw.regions,
				(unsigned long long)f->u.sw.bytes_total, s->nreg,
				(unsigned long long)s->bytes_total);
		s->state = ST_SWITCHED;
		return 0;
	default:
		return gv_err_set(err, EPROTO, "%s frame out of place", gv_wire_type_name(f->type));
	}
}

static int stream_step(struct gv_wire_stream *s, const struct gv_wire_frame *f, struct gv_err *err)
{
	int rc;

	if (s->state == ST_ENDED || s->state == ST_ABORTED)
		return gv_err_set(err, EPROTO, "%s frame after the end of the stream",
				  gv_wire_type_name(f->type));
	if (f->seq != s->next_seq)
		return gv_err_set(err, EPROTO, "frame %llu where frame %llu was due",
				  (unsigned long long)f->seq, (unsigned long long)s->next_seq);
	if (s->state == ST_START && f->type != GV_WIRE_HELLO)
		return gv_err_set(err, EPROTO, "stream starts with %s, not hello",
				  gv_wire_type_name(f->type));
	switch (f->type) {
	case GV_WIRE_HELLO:
		if (s->state != ST_START)
			return gv_err_set(err, EPROTO, "second hello frame");
		s->state = ST_HELLO;
		break;
	case GV_WIRE_AUTH:
		if (s->state != ST_HELLO)
			return gv_err_set(err, EPROTO, "auth frame not right after hello");
		s->state = ST_BODY;
		break;
	case GV_WIRE_ABORT:
		s->state = ST_ABORTED;
		break;
	case GV_WIRE_END:
		if (s->state != ST_SWITCHED)
			return gv_err_set(err, EPROTO, "end of stream before the switch marker");
		s->state = ST_ENDED;
		break;
	default:
		if (s->state == ST_HELLO)
			s->state = ST_BODY; /* a stream without authentication */
		if (s->state == ST_SWITCHED)
			return gv_err_set(err, EPROTO, "%s frame after the switch marker",
					  gv_wire_type_name(f->type));
		rc = stream_body(s, f, err);
		if (rc < 0)
			return rc;
		break;
	}
	s->next_seq++;
	return 0;
}

int gv_wire_stream_check(struct gv_wire_stream *s, const struct gv_wire_frame *f,
			 struct gv_err *err)
{
	int rc;

	if (!s || !f)
		return gv_err_set(err, EINVAL, "stream check needs a stream and a frame");
	if (s->state == ST_BROKEN)
		return gv_err_set(err, EPROTO, "stream already broken by an earlier frame");
	rc = stream_step(s, f, err);
	if (rc == -EPROTO)
		s->state = ST_BROKEN;
	return rc;
}

/* Tests of the migration stream format: round trips, incremental input,
 * every refusal of the strict parser, the token MAC and the order rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "gpuvisor/migrate.h"
#include "gpuvisor/wire.h"

#define KIB 1024u

static const char token[] = "0123456789abcdef-shared-token";
static uint8_t data_full[64 * KIB];
static uint8_t data_tail[1000];

static struct gv_wire_frame mk(enum gv_wire_type t, uint64_t seq)
{
	struct gv_wire_frame f;

	memset(&f, 0, sizeof(f));
	f.type = t;
	f.seq = seq;
	return f;
}

/* A complete, valid stream: hello, auth, two regions (one with a short
 * last chunk), rounds, a freed region, stun, switch, end. */
static size_t sample_frames(struct gv_wire_frame *fr)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(data_full); i++)
		data_full[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(data_tail); i++)
		data_tail[i] = (uint8_t)(i ^ 0x5a);
	fr[n] = mk(GV_WIRE_HELLO, n);
	fr[n].u.hello.role = GV_WIRE_ROLE_SENDER;
	memset(fr[n].u.hello.nonce, 0x11, GV_WIRE_NONCE_SIZE);
	strcpy(fr[n].u.hello.id, "mig-42");
	n++;
	fr[n] = mk(GV_WIRE_AUTH, n);
	memset(fr[n].u.auth.mac, 0x22, GV_WIRE_MAC_SIZE);
	n++;
	fr[n] = mk(GV_WIRE_REGION, n);
	fr[n].u.region.id = 7;
	fr[n].u.region.size = 64 * KIB + 1000;
	fr[n].u.region.chunk_size = 64 * KIB;
	n++;
	fr[n] = mk(GV_WIRE_REGION, n);
	fr[n].u.region.id = 3;
	fr[n].u.region.size = 128 * KIB;
	fr[n].u.region.chunk_size = 64 * KIB;
	n++;
	fr[n] = mk(GV_WIRE_ROUND, n);
	fr[n].u.round.round = 1;
	fr[n].u.round.bytes_dirty = 64 * KIB + 1000;
	n++;
	fr[n] = mk(GV_WIRE_CHUNK, n);
	fr[n].u.chunk.region = 7;
	fr[n].u.chunk.offset = 0;
	fr[n].u.chunk.len = sizeof(data_full);
	fr[n].u.chunk.data = data_full;
	n++;
	fr[n] = mk(GV_WIRE_CHUNK, n);
	fr[n].u.chunk.region = 7;
	fr[n].u.chunk.offset = 64 * KIB;
	fr[n].u.chunk.len = sizeof(data_tail);
	fr[n].u.chunk.data = data_tail;
	n++;
	fr[n] = mk(GV_WIRE_REGION_FREE, n);
	fr[n].u.region_free.id = 3;
	n++;
	fr[n] = mk(GV_WIRE_ROUND, n);
	fr[n].u.round.round = 2;
	fr[n].u.round.bytes_dirty = 1000;
	n++;
	fr[n] = mk(GV_WIRE_STUN, n);
	n++;
	fr[n] = mk(GV_WIRE_CHUNK, n);
	fr[n].u.chunk.region = 7;
	fr[n].u.chunk.offset = 64 * KIB;
	fr[n].u.chunk.len = sizeof(data_tail);
	fr[n].u.chunk.data = data_tail;
	n++;
	fr[n] = mk(GV_WIRE_SWITCH, n);
	fr[n].u.sw.regions = 1;
	fr[n].u.sw.bytes_total = 64 * KIB + 1000;
	n++;
	fr[n] = mk(GV_WIRE_END, n);
	n++;
	return n;
}

static void assert_same(const struct gv_wire_frame *a, const struct gv_wire_frame *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->seq, b->seq);
	switch (a->type) {
	case GV_WIRE_HELLO:
		assert_int_equal(a->u.hello.role, b->u.hello.role);
		assert_memory_equal(a->u.hello.nonce, b->u.hello.nonce, GV_WIRE_NONCE_SIZE);
		assert_string_equal(a->u.hello.id, b->u.hello.id);
		break;
	case GV_WIRE_AUTH:
		assert_memory_equal(a->u.auth.mac, b->u.auth.mac, GV_WIRE_MAC_SIZE);
		break;
	case GV_WIRE_REGION:
		assert_int_equal(a->u.region.id, b->u.region.id);
		assert_int_equal(a->u.region.size, b->u.region.size);
		assert_int_equal(a->u.region.chunk_size, b->u.region.chunk_size);
		break;
	case GV_WIRE_REGION_FREE:
		assert_int_equal(a->u.region_free.id, b->u.region_free.id);
		break;
	case GV_WIRE_CHUNK: {
		struct gv_chunk_hash h = gv_chunkhash_one(a->u.chunk.data, a->u.chunk.len);

		assert_int_equal(a->u.chunk.region, b->u.chunk.region);
		assert_int_equal(a->u.chunk.offset, b->u.chunk.offset);
		assert_int_equal(a->u.chunk.len, b->u.chunk.len);
		assert_memory_equal(a->u.chunk.data, b->u.chunk.data, a->u.chunk.len);
		assert_true(gv_chunkhash_equal(&h, &b->u.chunk.hash));
		break;
	}
	case GV_WIRE_ROUND:
		assert_int_equal(a->u.round.round, b->u.round.round);
		assert_int_equal(a->u.round.bytes_dirty, b->u.round.bytes_dirty);
		break;
	case GV_WIRE_SWITCH:
		assert_int_equal(a->u.sw.regions, b->u.sw.regions);
		assert_int_equal(a->u.sw.bytes_total, b->u.sw.bytes_total);
		break;
	case GV_WIRE_ABORT:
		assert_int_equal(a->u.abort.error, b->u.abort.error);
		assert_string_equal(a->u.abort.msg, b->u.abort.msg);
		break;
	default:
		break;
	}
}

/* Encodes frames back to back into a fresh buffer. */
static uint8_t *encode_all(const struct gv_wire_frame *fr, size_t n, size_t *total)
{
	size_t cap = 0, off = 0;
	uint8_t *buf;

	for (size_t i = 0; i < n; i++)
		cap += gv_wire_frame_size(&fr[i]);
	buf = malloc(cap);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		struct gv_err err = { 0 };

		assert_int_equal(gv_wire_encode(&fr[i], buf + off, cap - off, &len, &err), 0);
		assert_int_equal(len, gv_wire_frame_size(&fr[i]));
		off += len;
	}
	*total = off;
	return buf;
}

static void test_round_trip_every_type(void **state)
{
	struct gv_wire_frame fr[16], ab = mk(GV_WIRE_ABORT, 0), out;
	size_t n = sample_frames(fr), total, off = 0, used;
	struct gv_wire_stream *s = gv_wire_stream_new();
	struct gv_err err = { 0 };
	uint8_t *buf;
	uint8_t one[512];

	(void)state;
	buf = encode_all(fr, n, &total);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(gv_wire_parse_frame(buf + off, total - off, &out, &used, &err), 0);
		assert_same(&fr[i], &out);
		assert_int_equal(gv_wire_stream_check(s, &out, &err), 0);
		off += used;
	}
	assert_int_equal(off, total);
	assert_true(gv_wire_stream_complete(s));
	/* the abort frame, with an empty and a full-length reason */
	ab.u.abort.error = ENOSPC;
	strcpy(ab.u.abort.msg, "destination full: 3 regions of 80 GiB");
	assert_int_equal(gv_wire_encode(&ab, one, sizeof(one), &used, &err), 0);
	assert_int_equal(gv_wire_parse_frame(one, used, &out, &used, &err), 0);
	assert_same(&ab, &out);
	ab.u.abort.msg[0] = '\0';
	assert_int_equal(gv_wire_encode(&ab, one, sizeof(one), &used, &err), 0);
	assert_int_equal(gv_wire_parse_frame(one, used, &out, &used, &err), 0);
	assert_same(&ab, &out);
	memset(ab.u.abort.msg, 'x', GV_WIRE_MSG_MAX);
	ab.u.abort.msg[GV_WIRE_MSG_MAX] = '\0';
	assert_int_equal(gv_wire_encode(&ab, one, sizeof(one), &used, &err), 0);
	assert_int_equal(gv_wire_parse_frame(one, used, &out, &used, &err), 0);
	assert_same(&ab, &out);
	gv_wire_stream_free(s);
	free(buf);
}

/* Every prefix of a valid stream asks for more input, never fails, and
 * names the size it needs. */
static void test_incremental_input(void **state)
{
	struct gv_wire_frame fr[16], out;
	size_t n = sample_frames(fr), total, off = 0;
	struct gv_err err = { 0 };
	uint8_t *buf;

	(void)state;
	buf = encode_all(fr, n, &total);
	for (size_t i = 0; i < n; i++) {
		size_t size = gv_wire_frame_size(&fr[i]), used = 0;

		for (size_t k = 0; k < size; k++) {
			int rc = gv_wire_parse_frame(buf + off, k, &out, &used, &err);

			if (rc != -EAGAIN)
				fail_msg("frame %zu prefix %zu: rc %d (%s)", i, k, rc, err.msg);
			assert_int_equal(used, k < GV_WIRE_HDR_SIZE ? GV_WIRE_HDR_SIZE : size);
		}
		assert_int_equal(gv_wire_parse_frame(buf + off, size, &out, &used, &err), 0);
		assert_int_equal(used, size);
		off += size;
	}
	free(buf);
}

/* Re-seals a frame after a test modified it, so that the checksum is not
 * what refuses it. Layout from wire.h. */
static void reseal(uint8_t *frame)
{
	uint32_t plen = (uint32_t)frame[8] | (uint32_t)frame[9] << 8 | (uint32_t)frame[10] << 16 |
			(uint32_t)frame[11] << 24;
	uint64_t sum = XXH64(frame + GV_WIRE_HDR_SIZE, plen, XXH64(frame, 24, 0));

	for (int i = 0; i < 8; i++)
		frame[24 + i] = (uint8_t)(sum >> (8 * i));
}

static void set_plen(uint8_t *frame, uint32_t plen)
{
	for (int i = 0; i < 4; i++)
		frame[8 + i] = (uint8_t)(plen >> (8 * i));
}

/* Parses a modified frame and expects a refusal whose message contains
 * `why`, with out and used untouched. */
static void expect_refused(const uint8_t *frame, size_t len, int code, const char *why)
{
	struct gv_wire_frame out;
	struct gv_err err = { 0 };
	size_t used = 12345;
	int rc;

	memset(&out, 0x5c, sizeof(out));
	rc = gv_wire_parse_frame(frame, len, &out, &used, &err);
	if (rc != -code || !strstr(err.msg, why))
		fail_msg("expected -%d '%s', got %d '%s'", code, why, rc, err.msg);
	assert_int_equal(used, 12345);
	assert_int_equal(((uint8_t *)&out)[0], 0x5c);
}

static size_t encode_one(const struct gv_wire_frame *f, uint8_t *buf, size_t cap)
{
	struct gv_err err = { 0 };
	size_t len = 0;

	assert_int_equal(gv_wire_encode(f, buf, cap, &len, &err), 0);
	return len;
}

static void test_header_refusals(void **state)
{
	struct gv_wire_frame f = mk(GV_WIRE_STUN, 9);
	uint8_t good[GV_WIRE_HDR_SIZE], b[GV_WIRE_HDR_SIZE + 8];
	size_t len;

	(void)state;
	len = encode_one(&f, good, sizeof(good));
	assert_int_equal(len, GV_WIRE_HDR_SIZE);

	/* bad magic is refused from the first byte on */
	memcpy(b, good, len);
	b[0] = 'X';
	expect_refused(b, 1, EINVAL, "bad magic");
	expect_refused(b, len, EINVAL, "bad magic");
	memcpy(b, good, len);
	b[3] = 'w';
	expect_refused(b, 4, EINVAL, "bad magic");
	/* another version, from the fifth byte on */
	memcpy(b, good, len);
	b[4] = 2;
	expect_refused(b, 5, EPROTONOSUPPORT, "version 2");
	b[4] = 0;
	expect_refused(b, len, EPROTONOSUPPORT, "version 0");
	/* unknown types */
	memcpy(b, good, len);
	b[5] = 0;
	expect_refused(b, 6, EINVAL, "unknown frame type 0");
	b[5] = 11;
	expect_refused(b, len, EINVAL, "unknown frame type 11");
	/* flags and reserved header bytes */
	memcpy(b, good, len);
	b[7] = 0x80;
	reseal(b);
	expect_refused(b, len, EINVAL, "flags");
	memcpy(b, good, len);
	b[13] = 1;
	reseal(b);
	expect_refused(b, len, EINVAL, "reserved");
	/* a length over the limit is refused at once, not waited for */
	memcpy(b, good, len);
	set_plen(b, GV_WIRE_MAX_PAYLOAD + 1);
	expect_refused(b, len, EINVAL, "exceeds");
	set_plen(b, 0xffffffffu);
	expect_refused(b, len, EINVAL, "exceeds");
	/* checksums: header fields and payload are covered */
	memcpy(b, good, len);
	b[16] ^= 1; /* sequence number */
	expect_refused(b, len, EINVAL, "checksum");
	memcpy(b, good, len);
	b[30] ^= 1;
	expect_refused(b, len, EINVAL, "checksum");
	/* a payload the type does not allow */
	memcpy(b, good, len);
	set_plen(b, 8);
	memset(b + len, 0, 8);
	reseal(b);
	expect_refused(b, len + 8, EINVAL, "stun frame has 8 payload bytes");
	/* no buffer */
	{
		struct gv_wire_frame out;
		size_t used = 0;

		assert_int_equal(gv_wire_parse_frame(NULL, 0, &out, &used, NULL), -EAGAIN);
		assert_int_equal(used, GV_WIRE_HDR_SIZE);
		assert_int_equal(gv_wire_parse_frame(NULL, 5, &out, &used, NULL), -EINVAL);
	}
}

/* Modifies byte `at` of the payload of an encoded frame to v, reseals it
 * and expects a refusal. */
static void poke(const uint8_t *good, size_t len, size_t at, uint8_t v, const char *why)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	memcpy(b, good, len);
	b[GV_WIRE_HDR_SIZE + at] = v;
	reseal(b);
	expect_refused(b, len, EINVAL, why);
	free(b);
}

/* Changes the payload length by delta (keeping or cutting the bytes),
 * reseals, and expects a refusal. */
static void resize(const uint8_t *good, size_t len, int delta, const char *why)
{
	uint8_t *b = calloc(1, len + 16);

	assert_non_null(b);
	memcpy(b, good, len);
	set_plen(b, (uint32_t)((int)(len - GV_WIRE_HDR_SIZE) + delta));
	reseal(b);
	expect_refused(b, (size_t)((int)len + delta), EINVAL, why);
	free(b);
}

static void test_payload_refusals(void **state)
{
	struct gv_wire_frame fr[16], f;
	uint8_t b[GV_WIRE_HDR_SIZE + 512];
	uint8_t *big;
	size_t len;

	(void)state;
	sample_frames(fr);

	/* hello */
	len = encode_one(&fr[0], b, sizeof(b));
	poke(b, len, 0, 0, "unknown role 0");
	poke(b, len, 0, 4, "unknown role 4");
	poke(b, len, 1, 7, "does not hold");
	poke(b, len, 5, 1, "reserved");
	poke(b, len, 40, ' ', "printable");
	poke(b, len, 42, 0x7f, "printable");
	poke(b, len, 43, 0, "printable");
	resize(b, len, -1, "does not hold");
	resize(b, len, 1, "does not hold");
	resize(b, len, -(int)(len - GV_WIRE_HDR_SIZE) + 39, "too short");
	f = fr[0];
	f.u.hello.id[0] = '\0';
	len = encode_one(&fr[0], b, sizeof(b));
	{
		struct gv_err err = { 0 };
		size_t l2;

		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
		memset(f.u.hello.id, 'a', GV_WIRE_ID_MAX + 1);
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "id"));
	}
	/* auth */
	len = encode_one(&fr[1], b, sizeof(b));
	resize(b, len, -1, "auth frame has 15 payload bytes");
	resize(b, len, 1, "auth frame has 17 payload bytes");
	/* region */
	len = encode_one(&fr[2], b, sizeof(b));
	resize(b, len, -8, "region frame has 16 payload bytes");
	for (size_t i = 8; i < 16; i++)
		b[GV_WIRE_HDR_SIZE + i] = 0;
	reseal(b);
	expect_refused(b, len, EINVAL, "size 0");
	len = encode_one(&fr[2], b, sizeof(b));
	poke(b, len, 16, 1, "chunk size");    /* 64 KiB + 1 */
	poke(b, len, 18, 0, "chunk size");    /* 0 */
	poke(b, len, 18, 0x81, "chunk size"); /* 0x810000: not a power of two */
	poke(b, len, 19, 0x08, "chunk size"); /* 128 MiB + 64 KiB */
	/* region free */
	len = encode_one(&fr[7], b, sizeof(b));
	resize(b, len, 1, "region-free frame has 9 payload bytes");
	/* round */
	len = encode_one(&fr[4], b, sizeof(b));
	poke(b, len, 0, 0, "round 0");
	poke(b, len, 4, 1, "reserved");
	resize(b, len, -1, "round frame has 15");
	/* switch, end */
	len = encode_one(&fr[11], b, sizeof(b));
	resize(b, len, 8, "switch frame has 24");
	len = encode_one(&fr[12], b, sizeof(b));
	resize(b, len, 1, "end frame has 1");
	/* abort */
	f = mk(GV_WIRE_ABORT, 0);
	f.u.abort.error = EIO;
	strcpy(f.u.abort.msg, "copy failed");
	len = encode_one(&f, b, sizeof(b));
	poke(b, len, 0, 0, "not an errno");
	poke(b, len, 1, 0x10, "not an errno"); /* 4101 */
	poke(b, len, 3, 0x80, "not an errno"); /* negative */
	poke(b, len, 4, 12, "does not hold");
	poke(b, len, 6, 1, "reserved");
	poke(b, len, 8, '\n', "printable");
	poke(b, len, 9, 0xc3, "printable");
	resize(b, len, -(int)(len - GV_WIRE_HDR_SIZE) + 7, "too short");
	{
		struct gv_err err = { 0 };
		size_t l2;

		f.u.abort.error = 0;
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
		f.u.abort.error = EIO;
		memset(f.u.abort.msg, 'm', GV_WIRE_MSG_MAX + 1);
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
	}

	/* chunk */
	len = gv_wire_frame_size(&fr[6]);
	big = malloc(len + 16);
	assert_non_null(big);
	assert_int_equal(encode_one(&fr[6], big, len), len);
	poke(big, len, 40, (uint8_t)~big[GV_WIRE_HDR_SIZE + 40], "does not match its hash");
	poke(big, len, 24, (uint8_t)~big[GV_WIRE_HDR_SIZE + 24], "does not match its hash");
	poke(big, len, 16, 0xe7, "says 999 data bytes"); /* 1000 -> 999 */
	poke(big, len, 19, 1, "data bytes");
	poke(big, len, 20, 1, "reserved");
	resize(big, len, -1, "data bytes");
	resize(big, len, -(int)(len - GV_WIRE_HDR_SIZE) + 39, "too short");
	/* an empty chunk */
	{
		uint8_t e[GV_WIRE_HDR_SIZE + GV_WIRE_CHUNK_FIXED];

		memcpy(e, big, sizeof(e));
		memset(e + GV_WIRE_HDR_SIZE + 16, 0, 4);
		set_plen(e, GV_WIRE_CHUNK_FIXED);
		reseal(e);
		expect_refused(e, sizeof(e), EINVAL, "says 0 data bytes");
	}
	/* an offset that wraps around */
	memset(big + GV_WIRE_HDR_SIZE + 8, 0xff, 8);
	reseal(big);
	expect_refused(big, len, EINVAL, "overflows");
	free(big);
	{
		struct gv_err err = { 0 };
		size_t l2;

		f = fr[6];
		f.u.chunk.len = 0;
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
		f = fr[6];
		f.u.chunk.data = NULL;
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
		f = fr[6];
		f.u.chunk.offset = UINT64_MAX - 10;
		big = malloc(len);
		assert_non_null(big);
		assert_int_equal(gv_wire_encode(&f, big, len, &l2, &err), -EINVAL);
		free(big);
		f = fr[6];
		f.u.chunk.len = GV_WIRE_CHUNK_MAX + 1;
		assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &l2, &err), -EINVAL);
	}
}

static void test_encoder_refusals(void **state)
{
	struct gv_wire_frame fr[16], f;
	uint8_t b[64];
	size_t len = 77;
	struct gv_err err = { 0 };

	(void)state;
	sample_frames(fr);
	assert_int_equal(gv_wire_encode(&fr[0], b, 40, &len, &err), -ENOSPC);
	assert_int_equal(len, 77);
	assert_int_equal(gv_wire_encode(&fr[5], b, sizeof(b), &len, &err), -ENOSPC);
	f = mk((enum gv_wire_type)0, 0);
	assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &len, &err), -EINVAL);
	assert_int_equal(gv_wire_frame_size(&f), 0);
	f = mk(GV_WIRE_REGION, 0);
	f.u.region.size = 10;
	f.u.region.chunk_size = 4096;
	assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "chunk size"));
	f.u.region.chunk_size = 128u << 20; /* a power of two, too large */
	assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &len, &err), -EINVAL);
	f = mk(GV_WIRE_ROUND, 0);
	assert_int_equal(gv_wire_encode(&f, b, sizeof(b), &len, &err), -EINVAL);
	assert_int_equal(gv_wire_encode(NULL, b, sizeof(b), &len, &err), -EINVAL);
	assert_string_equal(gv_wire_type_name(GV_WIRE_REGION_FREE), "region-free");
	assert_string_equal(gv_wire_type_name((enum gv_wire_type)99), "unknown");
}

static void test_auth(void **state)
{
	uint8_t na[GV_WIRE_NONCE_SIZE], nb[GV_WIRE_NONCE_SIZE];
	uint8_t mac[GV_WIRE_MAC_SIZE], mac2[GV_WIRE_MAC_SIZE];
	struct gv_err err = { 0 };
	const size_t tl = sizeof(token) - 1;

	(void)state;
	assert_int_equal(gv_wire_nonce(na, &err), 0);
	assert_int_equal(gv_wire_nonce(nb, &err), 0);
	assert_memory_not_equal(na, nb, GV_WIRE_NONCE_SIZE);
	/* the sender proves the token over both nonces; the receiver checks */
	assert_int_equal(gv_wire_auth_mac(token, tl, GV_WIRE_ROLE_SENDER, "m1", na, nb, mac, &err),
			 0);
	assert_int_equal(
		gv_wire_auth_check(token, tl, GV_WIRE_ROLE_SENDER, "m1", na, nb, mac, &err), 0);
	/* deterministic */
	assert_int_equal(gv_wire_auth_mac(token, tl, GV_WIRE_ROLE_SENDER, "m1", na, nb, mac2, &err),
			 0);
	assert_memory_equal(mac, mac2, sizeof(mac));
	/* anything different fails */
	assert_int_equal(gv_wire_auth_check("0123456789abcdef-shared-tokeX", tl,
					    GV_WIRE_ROLE_SENDER, "m1", na, nb, mac, &err),
			 -EACCES);
	assert_non_null(strstr(err.msg, "authentication"));
	assert_int_equal(
		gv_wire_auth_check(token, tl, GV_WIRE_ROLE_RECEIVER, "m1", na, nb, mac, &err),
		-EACCES);
	assert_int_equal(
		gv_wire_auth_check(token, tl, GV_WIRE_ROLE_SENDER, "m2", na, nb, mac, &err),
		-EACCES);
	assert_int_equal(
		gv_wire_auth_check(token, tl, GV_WIRE_ROLE_SENDER, "m1", nb, na, mac, &err),
		-EACCES);
	mac[15] ^= 1;
	assert_int_equal(
		gv_wire_auth_check(token, tl, GV_WIRE_ROLE_SENDER, "m1", na, nb, mac, &err),
		-EACCES);
	/* weak tokens and bad ids are refused */
	assert_int_equal(gv_wire_auth_mac("short", 5, GV_WIRE_ROLE_SENDER, "m1", na, nb, mac, &err),
			 -EINVAL);
	assert_int_equal(
		gv_wire_auth_mac(token, tl, GV_WIRE_ROLE_SENDER, "has space", na, nb, mac, &err),
		-EINVAL);
	assert_int_equal(gv_wire_auth_mac(token, tl, GV_WIRE_ROLE_SENDER, NULL, na, nb, mac, &err),
			 -EINVAL);
}

/* Feeds frames 0..n-1 of fr with frame `bad` replaced by *repl (its seq
 * set to its position) and expects the stream checker to refuse it. */
static void expect_order_refused(const struct gv_wire_frame *fr, size_t bad,
				 const struct gv_wire_frame *repl, const char *why)
{
	struct gv_wire_stream *s = gv_wire_stream_new();
	struct gv_err err = { 0 };
	struct gv_wire_frame f;
	int rc;

	assert_non_null(s);
	for (size_t i = 0; i < bad; i++)
		assert_int_equal(gv_wire_stream_check(s, &fr[i], &err), 0);
	f = *repl;
	f.seq = bad;
	rc = gv_wire_stream_check(s, &f, &err);
	if (rc != -EPROTO || !strstr(err.msg, why))
		fail_msg("frame %zu: expected EPROTO '%s', got %d '%s'", bad, why, rc, err.msg);
	/* broken for good */
	assert_int_equal(gv_wire_stream_check(s, &fr[bad], &err), -EPROTO);
	assert_non_null(strstr(err.msg, "broken"));
	assert_false(gv_wire_stream_complete(s));
	gv_wire_stream_free(s);
}

static void seq_refused(const struct gv_wire_frame *fr, size_t at, uint64_t seq)
{
	struct gv_wire_stream *s = gv_wire_stream_new();
	struct gv_err err = { 0 };
	struct gv_wire_frame f = fr[at];
	char want[64];

	for (size_t i = 0; i < at; i++)
		assert_int_equal(gv_wire_stream_check(s, &fr[i], &err), 0);
	f.seq = seq;
	assert_int_equal(gv_wire_stream_check(s, &f, &err), -EPROTO);
	snprintf(want, sizeof(want), "frame %llu where frame %zu was due", (unsigned long long)seq,
		 at);
	assert_string_equal(err.msg, want);
	gv_wire_stream_free(s);
}

static void test_stream_order(void **state)
{
	struct gv_wire_frame fr[16], f;
	size_t n = sample_frames(fr);
	struct gv_wire_stream *s;
	struct gv_err err = { 0 };

	(void)state;
	/* sequence gap and replay */
	seq_refused(fr, 3, 7);
	seq_refused(fr, 3, 2);
	seq_refused(fr, 3, UINT64_MAX);
	/* hello first, once; auth only right after it */
	expect_order_refused(fr, 0, &fr[2], "not hello");
	expect_order_refused(fr, 3, &fr[0], "second hello");
	expect_order_refused(fr, 3, &fr[1], "auth frame not right after hello");
	/* regions and chunks */
	f = fr[2];
	expect_order_refused(fr, 3, &f, "declared twice");
	f = fr[5];
	f.u.chunk.region = 99;
	expect_order_refused(fr, 5, &f, "undeclared region 99");
	f = fr[5];
	f.u.chunk.offset = 4096;
	expect_order_refused(fr, 5, &f, "not one whole chunk");
	f = fr[6];
	f.u.chunk.offset = 128 * KIB; /* past the end */
	expect_order_refused(fr, 6, &f, "not one whole chunk");
	f = fr[5];
	f.u.chunk.len = 1000; /* a short chunk that is not the last */
	expect_order_refused(fr, 5, &f, "not one whole chunk");
	f = fr[7];
	f.u.region_free.id = 5;
	expect_order_refused(fr, 7, &f, "free of undeclared region 5");
	f = fr[10]; /* chunk of the freed region 3 after the stun */
	f.u.chunk.region = 3;
	f.u.chunk.offset = 0;
	f.u.chunk.len = sizeof(data_full);
	f.u.chunk.data = data_full;
	expect_order_refused(fr, 10, &f, "undeclared region 3");
	/* rounds and markers */
	f = fr[8];
	f.u.round.round = 1;
	expect_order_refused(fr, 8, &f, "round 1 after round 1");
	f = fr[8];
	expect_order_refused(fr, 10, &f, "round marker after the stun");
	expect_order_refused(fr, 10, &fr[9], "second stun");
	expect_order_refused(fr, 9, &fr[11], "switch marker before the stun");
	f = fr[11];
	f.u.sw.regions = 2;
	expect_order_refused(fr, 11, &f, "declared 1 of 66536");
	f = fr[11];
	f.u.sw.bytes_total = 1;
	expect_order_refused(fr, 11, &f, "switch marker says 1 regions of 1 bytes");
	expect_order_refused(fr, 11, &fr[12], "end of stream before the switch");
	expect_order_refused(fr, 12, &fr[10], "after the switch marker");
	f = mk(GV_WIRE_STUN, n);
	expect_order_refused(fr, n, &f, "after the end");

	/* an abort ends the stream, incomplete, at any point after hello */
	s = gv_wire_stream_new();
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(gv_wire_stream_check(s, &fr[i], &err), 0);
	f = mk(GV_WIRE_ABORT, 5);
	f.u.abort.error = EIO;
	assert_int_equal(gv_wire_stream_check(s, &f, &err), 0);
	assert_false(gv_wire_stream_complete(s));
	f = fr[5];
	f.seq = 6;
	assert_int_equal(gv_wire_stream_check(s, &f, &err), -EPROTO);
	gv_wire_stream_free(s);

	/* a stream without auth (e.g. on disk, checked elsewhere) is valid */
	s = gv_wire_stream_new();
	assert_int_equal(gv_wire_stream_check(s, &fr[0], &err), 0);
	for (size_t i = 2; i < n; i++) {
		f = fr[i];
		f.seq = i - 1;
		assert_int_equal(gv_wire_stream_check(s, &f, &err), 0);
	}
	assert_true(gv_wire_stream_complete(s));
	assert_int_equal(gv_wire_stream_check(NULL, &f, &err), -EINVAL);
	gv_wire_stream_free(s);
}

/* ---- the engine writing a stream, a receiver applying it ---- */

#define SREG 3

struct sender {
	uint8_t *src[SREG];
	uint64_t size[SREG];
	uint8_t *stream;
	size_t len, cap;
	uint64_t seq;
	unsigned pass, last_round;
	uint64_t rng;
	int fail_copy_at; /* copy call number that fails, -1: none */
	int copies;
};

static void emit(struct sender *s, struct gv_wire_frame *f)
{
	size_t need = gv_wire_frame_size(f), len = 0;
	struct gv_err err = { 0 };

	assert_true(need > 0);
	if (s->len + need > s->cap) {
		s->cap = (s->len + need) * 2;
		s->stream = realloc(s->stream, s->cap);
		assert_non_null(s->stream);
	}
	f->seq = s->seq++;
	assert_int_equal(gv_wire_encode(f, s->stream + s->len, s->cap - s->len, &len, &err), 0);
	s->len += len;
}

static int s_list(void *ctx, struct gv_mig_region *out, size_t cap, size_t *count,
		  struct gv_err *err)
{
	struct sender *s = ctx;

	/* the workload writes a few bytes between passes */
	for (int k = 0; k < 5 && s->pass > 0; k++) {
		s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
		s->src[k % SREG][(s->rng >> 20) % s->size[k % SREG]] = (uint8_t)(s->rng >> 56);
	}
	s->pass++;
	*count = SREG;
	for (size_t i = 0; i < SREG && i < cap; i++) {
		out[i].id = 100 + i;
		out[i].size = s->size[i];
	}
	return 0;
}

static int s_create(void *ctx, uint64_t id, uint64_t size, struct gv_err *err)
{
	struct gv_wire_frame f = mk(GV_WIRE_REGION, 0);

	f.u.region.id = id;
	f.u.region.size = size;
	f.u.region.chunk_size = 64 * KIB;
	emit(ctx, &f);
	return 0;
}

static int s_destroy(void *ctx, uint64_t id, struct gv_err *err)
{
	struct gv_wire_frame f = mk(GV_WIRE_REGION_FREE, 0);

	f.u.region_free.id = id;
	emit(ctx, &f);
	return 0;
}

static int s_hash(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		  struct gv_chunk_hash *out, struct gv_err *err)
{
	struct sender *s = ctx;

	return gv_chunkhash_range(s->src[id - 100], s->size[id - 100], cs, first, count, out, err);
}

static int s_copy(void *ctx, uint64_t id, uint64_t cs, uint64_t first, uint64_t count,
		  struct gv_chunk_hash *out, struct gv_err *err)
{
	struct sender *s = ctx;
	size_t r = (size_t)(id - 100);

	if (s->copies++ == s->fail_copy_at)
		return gv_err_set(err, ECONNRESET, "injected: connection lost");
	for (uint64_t c = first; c < first + count; c++) {
		struct gv_wire_frame f = mk(GV_WIRE_CHUNK, 0);

		f.u.chunk.region = id;
		f.u.chunk.offset = c * cs;
		f.u.chunk.len = (uint32_t)gv_chunkhash_chunk_len(s->size[r], cs, c);
		f.u.chunk.data = s->src[r] + c * cs;
		/* the receiver will hold exactly the bytes sent */
		if (out)
			out[c - first] = gv_chunkhash_one(f.u.chunk.data, f.u.chunk.len);
		emit(s, &f);
	}
	return 0;
}

static int s_stun(void *ctx, struct gv_err *err)
{
	struct gv_wire_frame f = mk(GV_WIRE_STUN, 0);

	emit(ctx, &f);
	return 0;
}

static int s_switch(void *ctx, struct gv_err *err)
{
	struct sender *s = ctx;
	struct gv_wire_frame f = mk(GV_WIRE_SWITCH, 0);

	f.u.sw.regions = SREG;
	f.u.sw.bytes_total = s->size[0] + s->size[1] + s->size[2];
	emit(s, &f);
	f = mk(GV_WIRE_END, 0);
	emit(s, &f);
	return 0;
}

static void s_resume(void *ctx)
{
}

static int s_release(void *ctx, struct gv_err *err)
{
	return 0;
}

static void s_aborted(void *ctx, const struct gv_err *why)
{
	struct gv_wire_frame f = mk(GV_WIRE_ABORT, 0);

	f.u.abort.error = why->code;
	snprintf(f.u.abort.msg, sizeof(f.u.abort.msg), "%s", why->msg);
	emit(ctx, &f);
}

static void s_progress(void *ctx, const struct gv_mig_progress *p)
{
	struct sender *s = ctx;
	struct gv_wire_frame f = mk(GV_WIRE_ROUND, 0);

	/* a round marker when the engine reports a new round (its first
	 * progress call of that round) */
	if (p->phase != GV_MIG_PHASE_PRECOPY || p->round <= s->last_round)
		return;
	s->last_round = p->round;
	f.u.round.round = p->round;
	f.u.round.bytes_dirty = p->bytes_dirty;
	emit(s, &f);
}

/* Receives the stream in pieces of odd sizes, as from a socket, checks
 * order, applies chunks. Returns true for a complete stream. */
static bool receive(const uint8_t *stream, size_t len, uint8_t *dst[SREG], uint64_t size[SREG],
		    int *aborted_errno)
{
	struct gv_wire_stream *st = gv_wire_stream_new();
	uint8_t *buf = malloc(len + 1);
	size_t have = 0, fed = 0, piece = 1;
	bool complete;

	assert_non_null(buf);
	while (fed < len || have > 0) {
		struct gv_wire_frame f;
		struct gv_err err = { 0 };
		size_t used = 0;
		int rc;

		if (fed < len) {
			size_t n = len - fed < piece ? len - fed : piece;

			memcpy(buf + have, stream + fed, n);
			have += n;
			fed += n;
			piece = piece * 3 + 7;
		}
		rc = gv_wire_parse_frame(buf, have, &f, &used, &err);
		if (rc == -EAGAIN) {
			assert_true(fed < len); /* a complete stream has no partial tail */
			continue;
		}
		assert_int_equal(rc, 0);
		if (gv_wire_stream_check(st, &f, &err) != 0)
			fail_msg("stream check: %s", err.msg);
		switch (f.type) {
		case GV_WIRE_REGION:
			dst[f.u.region.id - 100] = calloc(1, f.u.region.size);
			size[f.u.region.id - 100] = f.u.region.size;
			break;
		case GV_WIRE_REGION_FREE:
			free(dst[f.u.region_free.id - 100]);
			dst[f.u.region_free.id - 100] = NULL;
			break;
		case GV_WIRE_CHUNK:
			memcpy(dst[f.u.chunk.region - 100] + f.u.chunk.offset, f.u.chunk.data,
			       f.u.chunk.len);
			break;
		case GV_WIRE_ABORT:
			*aborted_errno = f.u.abort.error;
			break;
		default:
			break;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	complete = gv_wire_stream_complete(st);
	gv_wire_stream_free(st);
	free(buf);
	return complete;
}

static void run_stream(int fail_copy_at)
{
	struct sender s;
	struct gv_mig_ops ops = {
		.list_regions = s_list,
		.dst_create = s_create,
		.dst_destroy = s_destroy,
		.src_hash = s_hash,
		.copy = s_copy,
		.stun = s_stun,
		.switch_over = s_switch,
		.resume = s_resume,
		.src_release = s_release,
		.aborted = s_aborted,
		.progress = s_progress,
	};
	struct gv_mig_config cfg;
	struct gv_mig_report *rep = gv_mig_report_new();
	struct gv_err err = { 0 };
	struct gv_wire_frame hello = mk(GV_WIRE_HELLO, 0), auth = mk(GV_WIRE_AUTH, 0);
	uint8_t *dst[SREG] = { NULL };
	uint64_t dsize[SREG] = { 0 };
	int aborted = 0, rc;

	memset(&s, 0, sizeof(s));
	s.fail_copy_at = fail_copy_at;
	s.rng = 42;
	s.size[0] = 300 * KIB + 17;
	s.size[1] = 64 * KIB;
	s.size[2] = 1 * KIB;
	for (int i = 0; i < SREG; i++) {
		s.src[i] = malloc(s.size[i]);
		assert_non_null(s.src[i]);
		for (uint64_t b = 0; b < s.size[i]; b++)
			s.src[i][b] = (uint8_t)(b * 31 + (uint64_t)i);
	}
	hello.u.hello.role = GV_WIRE_ROLE_FILE;
	assert_int_equal(gv_wire_nonce(hello.u.hello.nonce, &err), 0);
	strcpy(hello.u.hello.id, "stream-test");
	emit(&s, &hello);
	assert_int_equal(gv_wire_auth_mac(token, sizeof(token) - 1, GV_WIRE_ROLE_FILE,
					  "stream-test", hello.u.hello.nonce, hello.u.hello.nonce,
					  auth.u.auth.mac, &err),
			 0);
	emit(&s, &auth);

	gv_mig_config_default(&cfg);
	cfg.chunk_size = 64 * KIB;
	cfg.max_copy_chunks = 2;
	cfg.downtime_limit_ns = 1; /* all rounds */
	cfg.max_rounds = 4;
	cfg.stall_rounds = 0;
	rc = gv_mig_run(&cfg, &ops, &s, rep, &err);

	if (fail_copy_at < 0) {
		assert_int_equal(rc, 0);
		assert_true(receive(s.stream, s.len, dst, dsize, &aborted));
		assert_int_equal(aborted, 0);
		for (int i = 0; i < SREG; i++) {
			assert_int_equal(dsize[i], s.size[i]);
			assert_memory_equal(dst[i], s.src[i], s.size[i]);
		}
		/* every chunk frame of the stream is counted in the report */
		assert_true(s.len > rep->bytes_precopy + rep->bytes_stun);
	} else {
		assert_int_equal(rc, -ECONNRESET);
		assert_false(receive(s.stream, s.len, dst, dsize, &aborted));
		assert_int_equal(aborted, ECONNRESET);
		for (int i = 0; i < SREG; i++)
			assert_null(dst[i]); /* every region freed again */
	}
	for (int i = 0; i < SREG; i++) {
		free(s.src[i]);
		free(dst[i]);
	}
	free(s.stream);
	gv_mig_report_free(rep);
}

/* The engine's callbacks map onto the stream format: a migration written
 * as a stream and read back in odd-sized pieces rebuilds the source
 * exactly; an aborted one frees every region and ends with the reason. */
static void test_engine_over_stream(void **state)
{
	(void)state;
	run_stream(-1);
	run_stream(0);
	run_stream(9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_incremental_input),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_payload_refusals),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_stream_order),
		cmocka_unit_test(test_engine_over_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

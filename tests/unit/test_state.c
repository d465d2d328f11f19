// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot state file (state/state.h): what the writer lays down,
 * what the reader gives back, and above all that the reader refuses every
 * file it should not trust. A snapshot may be truncated by a full disk or
 * damaged in transit, so every prefix and every single-bit flip of a valid
 * file is tried, each in a buffer of exactly its own size so that a build
 * with -fsanitize=address would catch a read past the end.
 *
 * The offsets below are the documented layout, written out here on purpose
 * rather than taken from state.c, so that the tests check the format too.
 */
#include "test.h"
#include "../../state/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR_LEN		24	/* "LVMMSNAP" major minor arch 0 */
#define HDR_MAJOR	8
#define HDR_MINOR	12
#define HDR_ARCH	16
#define SEC_HDR_LEN	40	/* name[32] version length */
#define SEC_VERSION	32
#define SEC_LENGTH	36
#define ENT_HDR_LEN	16	/* key len 0 */
#define ENT_LEN		8
#define TRAILER_LEN	48	/* "end" 0 4, crc, pad */

#define EM_X86_64	62

/* A KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE id, as vcpu.N holds. */
#define CORE_REG(i)	(0x6030000000100000ULL + 2 * (i))

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* After patching a file, make its checksum right again. */
static void fix_crc(uint8_t *b, size_t len)
{
	put_le32(b + len - 8, crc32_le(0, b, len - 8));
}

/* A copy of the writer's file that outlives it; NULL (and a failure) if none. */
static uint8_t *sw_take(struct state_writer *w, size_t *len)
{
	uint8_t *copy = NULL;

	if (CHECK_EQ_INT(sw_finish(w), 0)) {
		copy = malloc(w->len);
		if (CHECK(copy)) {
			memcpy(copy, w->buf, w->len);
			*len = w->len;
		}
	}
	sw_free(w);
	return copy;
}

/* A small file with the shapes that matter: u64, string, odd-length, empty. */
static uint8_t *sample_file(size_t *len)
{
	struct state_writer w;

	sw_init(&w);
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, 1, 0x0123456789abcdefULL);
	sw_put_str(&w, 2, "virt");
	sw_end(&w);
	sw_begin(&w, "vcpu.0", 2);
	for (int i = 0; i < 4; i++)
		sw_put_u64(&w, CORE_REG(i), 0x1000 * i);
	sw_put(&w, 0x10, "\x01\x02\x03", 3);
	sw_put(&w, 0x11, NULL, 0);
	sw_end(&w);
	sw_begin(&w, "empty", 0);
	sw_end(&w);
	return sw_take(&w, len);
}

/*
 * sr_open on a copy of buf in an allocation of exactly len bytes, closed
 * again at once: for files that must be refused.
 */
static int open_copy(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct state_reader r;
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!CHECK(copy))
		return -ENOMEM;
	memcpy(copy, buf, len);
	err[0] = '\0';
	ret = sr_open(&r, copy, len, err, errlen);
	if (ret) {
		/* A refused file leaves nothing to close or to look up. */
		CHECK(!r.sections);
		CHECK_EQ_INT(r.nr_sections, 0);
	}
	sr_close(&r);
	free(copy);
	return ret;
}

TEST(state_crc32_vectors)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof(ones));
	/* The IEEE 802.3 CRC that zlib, gzip and PNG use: the standard check value. */
	CHECK_EQ_U64(crc32_le(0, "123456789", 9), 0xcbf43926);
	CHECK_EQ_U64(crc32_le(0, "", 0), 0);
	CHECK_EQ_U64(crc32_le(0, "a", 1), 0xe8b7be43);
	CHECK_EQ_U64(crc32_le(0, "abc", 3), 0x352441c2);
	CHECK_EQ_U64(crc32_le(0, fox, strlen(fox)), 0x414fa339);
	CHECK_EQ_U64(crc32_le(0, zeros, sizeof(zeros)), 0x190a55ad);
	CHECK_EQ_U64(crc32_le(0, ones, sizeof(ones)), 0xff6cab0b);
	/* It chains: a CRC can be carried across buffers. */
	CHECK_EQ_U64(crc32_le(crc32_le(0, "1234", 4), "56789", 5), 0xcbf43926);
	CHECK_EQ_U64(crc32_le(crc32_le(0, fox, 10), fox + 10, strlen(fox) - 10), 0x414fa339);
}

/* Expected entries of the round trip, checked entry by entry with ss_next. */
struct expect {
	uint64_t key;
	const void *data;
	uint32_t len;
};

static void check_entries(const struct state_reader *r, const struct state_section *s,
			  const struct expect *e, unsigned int n)
{
	size_t pos = 0;
	uint64_t key;
	const void *data;
	uint32_t len;
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned int before = test_failure_count();
		const uint8_t *d;

		if (!CHECK(ss_next(s, &pos, &key, &data, &len)))
			break;
		d = data;
		CHECK_EQ_U64(key, e[i].key);
		if (CHECK_EQ_INT(len, e[i].len) && len)
			CHECK(!memcmp(data, e[i].data, len));
		/* Data is 8-byte aligned in the file and padded with zeros. */
		CHECK_EQ_U64((d - r->buf) % 8, 0);
		for (size_t j = len; j < pad8(len); j++)
			CHECK_EQ_INT(d[j], 0);
		if (test_failure_count() != before)
			FAIL("... in section \"%s\", entry %u", s->name, i);
	}
	CHECK_EQ_U64(pos, s->len);
	CHECK(!ss_next(s, &pos, &key, &data, &len));
	/* The end stays the end. */
	CHECK(!ss_next(s, &pos, &key, &data, &len));
}

#define NR_REGS 1000
#define NR_BLOBS 18

TEST(state_round_trip)
{
	static const char name32[] = "abcdefghijklmnopqrstuvwxyz.01234";
	static const char name31[] = "abcdefghijklmnopqrstuvwxyz.0123";
	static const uint8_t big_pattern_seed = 0x5a;
	struct expect vm[6], *regs, blobs[NR_BLOBS + 1], n32[1], n31[2];
	uint8_t vm_val[3][8], (*reg_val)[8], blob[NR_BLOBS][NR_BLOBS], *big;
	const struct state_section *s;
	struct state_writer w;
	struct state_reader r;
	size_t len, expect_len;
	char err[128] = "";
	uint8_t *file;
	uint64_t v;
	char str[64];

	regs = calloc(NR_REGS, sizeof(*regs));
	reg_val = calloc(NR_REGS, sizeof(*reg_val));
	big = malloc(4097);
	if (!CHECK(regs && reg_val && big))
		return;
	for (int i = 0; i < 4097; i++)
		big[i] = big_pattern_seed ^ i ^ (i >> 8);

	sw_init(&w);
	expect_len = HDR_LEN;

	/* Section "vm": u64s (both extremes), strings (one empty), an empty blob. */
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, 1, 0x0123456789abcdefULL);
	sw_put_u64(&w, 2, 0);
	sw_put_u64(&w, 0xffffffffffffffffULL, 0xffffffffffffffffULL);
	sw_put_str(&w, 4, "virt");
	sw_put_str(&w, 5, "");
	sw_put(&w, 6, NULL, 0);
	sw_end(&w);
	for (int i = 0; i < 8; i++) {
		vm_val[0][i] = 0xef - 0x22 * i;	/* 0x0123456789abcdef, little endian */
		vm_val[1][i] = 0;
		vm_val[2][i] = 0xff;
	}
	vm[0] = (struct expect){ 1, vm_val[0], 8 };
	vm[1] = (struct expect){ 2, vm_val[1], 8 };
	vm[2] = (struct expect){ 0xffffffffffffffffULL, vm_val[2], 8 };
	vm[3] = (struct expect){ 4, "virt", 4 };
	vm[4] = (struct expect){ 5, "", 0 };
	vm[5] = (struct expect){ 6, NULL, 0 };
	expect_len += SEC_HDR_LEN + 3 * (ENT_HDR_LEN + 8) + (ENT_HDR_LEN + 8) + 2 * ENT_HDR_LEN;

	/* Section "vcpu.0": many entries keyed by KVM register id. */
	sw_begin(&w, "vcpu.0", 3);
	for (int i = 0; i < NR_REGS; i++) {
		uint64_t val = (uint64_t)i * 0x0101010101010101ULL ^ 0x8000000000000000ULL;

		sw_put_u64(&w, CORE_REG(i), val);
		for (int j = 0; j < 8; j++)
			reg_val[i][j] = val >> (8 * j);
		regs[i] = (struct expect){ CORE_REG(i), reg_val[i], 8 };
	}
	sw_end(&w);
	expect_len += SEC_HDR_LEN + NR_REGS * (ENT_HDR_LEN + 8);

	/* Section "blob": every length from 0 to 17 crosses the padding, and a big one. */
	sw_begin(&w, "blob", 0);
	expect_len += SEC_HDR_LEN;
	for (int i = 0; i < NR_BLOBS; i++) {
		for (int j = 0; j < NR_BLOBS; j++)
			blob[i][j] = 0x80 | ((i << 3) ^ j);
		sw_put(&w, 100 + i, blob[i], i);
		blobs[i] = (struct expect){ 100 + i, blob[i], i };
		expect_len += ENT_HDR_LEN + pad8(i);
	}
	sw_put(&w, 1ULL << 63, big, 4097);
	blobs[NR_BLOBS] = (struct expect){ 1ULL << 63, big, 4097 };
	expect_len += ENT_HDR_LEN + 4104;
	sw_end(&w);

	/* A section with no entries at all. */
	sw_begin(&w, "empty", 7);
	sw_end(&w);
	expect_len += SEC_HDR_LEN;

	/* Names that fill the 32-byte field, with and without room for a NUL. */
	sw_begin(&w, name32, 0xffffffff);
	sw_put_str(&w, 0, name32);
	sw_end(&w);
	n32[0] = (struct expect){ 0, name32, 32 };
	expect_len += SEC_HDR_LEN + ENT_HDR_LEN + 32;
	sw_begin(&w, name31, 0x80000000);
	sw_put_u64(&w, 7, 0x0123456789abcdefULL);
	sw_put_str(&w, 8, "x");
	sw_end(&w);
	n31[0] = (struct expect){ 7, vm_val[0], 8 };
	n31[1] = (struct expect){ 8, "x", 1 };
	expect_len += SEC_HDR_LEN + 2 * ENT_HDR_LEN + 16;
	expect_len += TRAILER_LEN;

	file = sw_take(&w, &len);
	if (!file)
		goto out;

	/* The bytes are the documented layout. */
	CHECK_EQ_U64(len, expect_len);
	CHECK(!memcmp(file, "LVMMSNAP", 8));
	CHECK_EQ_U64(get_le32(file + HDR_MAJOR), STATE_MAJOR);
	CHECK_EQ_U64(get_le32(file + HDR_MINOR), STATE_MINOR);
	CHECK_EQ_U64(get_le32(file + HDR_ARCH), 0xb7);
	CHECK_EQ_U64(get_le32(file + 20), 0);
	CHECK(!memcmp(file + HDR_LEN, "vm\0\0", 4));
	CHECK_EQ_U64(get_le32(file + HDR_LEN + SEC_VERSION), 1);
	CHECK_EQ_U64(get_le32(file + HDR_LEN + SEC_LENGTH), 6 * ENT_HDR_LEN + 4 * 8);
	CHECK_EQ_U64(get_le64(file + HDR_LEN + SEC_HDR_LEN), 1);
	CHECK_EQ_U64(get_le32(file + HDR_LEN + SEC_HDR_LEN + ENT_LEN), 8);
	CHECK_EQ_U64(get_le32(file + HDR_LEN + SEC_HDR_LEN + 12), 0);
	CHECK_EQ_U64(get_le64(file + HDR_LEN + SEC_HDR_LEN + ENT_HDR_LEN), 0x0123456789abcdefULL);
	CHECK(!memcmp(file + len - TRAILER_LEN, "end", 4));
	CHECK_EQ_U64(get_le32(file + len - TRAILER_LEN + SEC_VERSION), 0);
	CHECK_EQ_U64(get_le32(file + len - TRAILER_LEN + SEC_LENGTH), 4);
	CHECK_EQ_U64(get_le32(file + len - 8), crc32_le(0, file, len - 8));
	CHECK_EQ_U64(get_le32(file + len - 4), 0);

	if (!CHECK_EQ_INT(sr_open(&r, file, len, err, sizeof(err)), 0)) {
		FAIL("sr_open: %s", err);
		goto out;
	}
	CHECK_EQ_U64(r.minor, STATE_MINOR);
	CHECK_EQ_INT(r.nr_sections, 6);
	if (r.nr_sections == 6) {
		/* In file order. */
		CHECK_STR(r.sections[0].name, "vm");
		CHECK_STR(r.sections[1].name, "vcpu.0");
		CHECK_STR(r.sections[2].name, "blob");
		CHECK_STR(r.sections[3].name, "empty");
		CHECK_STR(r.sections[4].name, name32);
		CHECK_STR(r.sections[5].name, name31);
	}

	s = sr_section(&r, "vm");
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 1);
		check_entries(&r, s, vm, 6);
		CHECK(ss_get_u64(s, 1, &v) && v == 0x0123456789abcdefULL);
		CHECK(ss_get_u64(s, 2, &v) && v == 0);
		CHECK(ss_get_u64(s, 0xffffffffffffffffULL, &v) && v == 0xffffffffffffffffULL);
		CHECK(ss_get_str(s, 4, str, sizeof(str)));
		CHECK_STR(str, "virt");
		CHECK(ss_get_str(s, 5, str, sizeof(str)));
		CHECK_STR(str, "");
	}
	s = sr_section(&r, "vcpu.0");
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 3);
		check_entries(&r, s, regs, NR_REGS);
		/* Lookup by key, out of order, finds every one. */
		for (int i = NR_REGS - 1; i >= 0; i -= 7) {
			if (!CHECK(ss_get_u64(s, CORE_REG(i), &v)))
				break;
			CHECK_EQ_U64(v, get_le64(reg_val[i]));
		}
	}
	s = sr_section(&r, "blob");
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 0);
		check_entries(&r, s, blobs, NR_BLOBS + 1);
	}
	s = sr_section(&r, "empty");
	if (CHECK(s)) {
		size_t pos = 0;
		uint64_t key;
		const void *data;
		uint32_t elen;

		CHECK_EQ_U64(s->version, 7);
		CHECK_EQ_U64(s->len, 0);
		CHECK(!ss_next(s, &pos, &key, &data, &elen));
		CHECK(!ss_get(s, 0, NULL));
		CHECK(!ss_get_u64(s, 0, &v));
	}
	s = sr_section(&r, name32);
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 0xffffffff);
		check_entries(&r, s, n32, 1);
		CHECK(ss_get_str(s, 0, str, sizeof(str)));
		CHECK_STR(str, name32);
	}
	s = sr_section(&r, name31);
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 0x80000000);
		check_entries(&r, s, n31, 2);
	}
	/* The trailer is not a section. */
	CHECK(!sr_section(&r, "end"));
	CHECK(!sr_section(&r, "nosuch"));
	CHECK(!sr_section(&r, ""));
	sr_close(&r);
	CHECK(!r.sections);
	CHECK_EQ_INT(r.nr_sections, 0);
out:
	free(file);
	free(big);
	free(reg_val);
	free(regs);
}

/* A file with no sections at all is valid: the header and the trailer. */
TEST(state_no_sections)
{
	struct state_writer w;
	struct state_reader r;
	char err[128] = "";
	uint8_t *file;
	size_t len;

	sw_init(&w);
	file = sw_take(&w, &len);
	if (!file)
		return;
	CHECK_EQ_U64(len, HDR_LEN + TRAILER_LEN);
	if (CHECK_EQ_INT(sr_open(&r, file, len, err, sizeof(err)), 0)) {
		CHECK_EQ_INT(r.nr_sections, 0);
		CHECK(!sr_section(&r, "vm"));
		sr_close(&r);
	} else {
		FAIL("sr_open: %s", err);
	}
	free(file);
}

TEST(state_section_lookups)
{
	static const char long_str[] = "0123456789012345678901234567890123456789"
				       "0123456789012345678901234567890123456789"
				       "01234567890123456789";	/* 100 */
	const struct state_section *s;
	struct state_writer w;
	struct state_reader r;
	char err[128] = "", buf[128];
	const uint8_t *d;
	uint8_t *file;
	uint32_t len;
	size_t flen;
	uint64_t v;

	sw_init(&w);
	sw_begin(&w, "dev", 1);
	sw_put_u64(&w, 10, 42);
	sw_put(&w, 11, "\x01\x02\x03\x04", 4);
	sw_put(&w, 12, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
	sw_put(&w, 13, NULL, 0);
	sw_put_str(&w, 14, "hello");
	sw_put_str(&w, 15, "");
	sw_put_str(&w, 16, long_str);
	sw_end(&w);
	sw_begin(&w, "dev.other", 1);
	sw_put_u64(&w, 99, 1);
	sw_end(&w);
	file = sw_take(&w, &flen);
	if (!file)
		return;
	if (!CHECK_EQ_INT(sr_open(&r, file, flen, err, sizeof(err)), 0)) {
		FAIL("sr_open: %s", err);
		free(file);
		return;
	}

	/* Names match whole, not by prefix either way. */
	CHECK(!sr_section(&r, "de"));
	CHECK(!sr_section(&r, "dev.oth"));
	CHECK(!sr_section(&r, "Dev"));
	CHECK(sr_section(&r, "dev.other"));
	s = sr_section(&r, "dev");
	if (!CHECK(s))
		goto out;
	CHECK_STR(s->name, "dev");

	/* ss_get */
	len = 1234;
	CHECK(!ss_get(s, 17, &len));
	CHECK(!ss_get(s, 99, &len));		/* a key of another section */
	CHECK(!ss_get(s, 17, NULL));
	d = ss_get(s, 12, &len);
	if (CHECK(d)) {
		CHECK_EQ_INT(len, 9);
		CHECK(!memcmp(d, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9));
	}
	CHECK(ss_get(s, 12, NULL) == d);
	len = 1234;
	CHECK(ss_get(s, 13, &len));		/* present, though empty */
	CHECK_EQ_INT(len, 0);

	/* ss_get_u64: only an 8-byte entry is a u64. */
	v = 0x5555;
	CHECK(ss_get_u64(s, 10, &v));
	CHECK_EQ_U64(v, 42);
	v = 0x5555;
	CHECK(!ss_get_u64(s, 11, &v));		/* 4 bytes */
	CHECK(!ss_get_u64(s, 12, &v));		/* 9 bytes */
	CHECK(!ss_get_u64(s, 13, &v));		/* 0 bytes */
	CHECK(!ss_get_u64(s, 14, &v));		/* 5 bytes */
	CHECK(!ss_get_u64(s, 17, &v));		/* missing */
	CHECK_EQ_U64(v, 0x5555);		/* and untouched each time */

	/* ss_get_str: needs room for the NUL too. */
	CHECK(ss_get_str(s, 14, buf, sizeof(buf)));
	CHECK_STR(buf, "hello");
	memset(buf, 'x', sizeof(buf));
	CHECK(ss_get_str(s, 14, buf, 6));
	CHECK_STR(buf, "hello");
	memset(buf, 'x', sizeof(buf));
	CHECK(!ss_get_str(s, 14, buf, 5));
	CHECK_EQ_INT(buf[5], 'x');		/* nothing written past size */
	CHECK(!ss_get_str(s, 14, buf, 0));
	CHECK(ss_get_str(s, 15, buf, 1));
	CHECK_STR(buf, "");
	CHECK(!ss_get_str(s, 15, buf, 0));
	CHECK(ss_get_str(s, 13, buf, sizeof(buf)));	/* an empty entry reads as "" */
	CHECK_STR(buf, "");
	CHECK(!ss_get_str(s, 16, buf, 100));
	CHECK(ss_get_str(s, 16, buf, 101));
	CHECK_STR(buf, long_str);
	CHECK(!ss_get_str(s, 17, buf, sizeof(buf)));

	/* ss_next walks them all in order, then stops. */
	{
		static const uint64_t keys[] = { 10, 11, 12, 13, 14, 15, 16 };
		static const uint32_t lens[] = { 8, 4, 9, 0, 5, 0, 100 };
		size_t pos = 0;
		unsigned int n = 0;
		const void *data;
		uint64_t key;

		while (ss_next(s, &pos, &key, &data, &len)) {
			if (!CHECK(n < 7))
				break;
			CHECK_EQ_U64(key, keys[n]);
			CHECK_EQ_INT(len, lens[n]);
			n++;
		}
		CHECK_EQ_INT(n, 7);
		CHECK_EQ_U64(pos, s->len);
		CHECK(!ss_next(s, &pos, &key, &data, &len));
	}
out:
	sr_close(&r);
	free(file);
}

/*
 * Writer misuse: each sets an error that sticks, so sw_finish reports it
 * however the rest of the file goes.
 */
static void check_misuse(int kind)
{
	static const char name33[] = "abcdefghijklmnopqrstuvwxyz.012345";
	unsigned int before = test_failure_count();
	struct state_writer w;

	sw_init(&w);
	switch (kind) {
	case 0:		/* an entry before any section */
		sw_put_u64(&w, 1, 1);
		sw_begin(&w, "vm", 1);
		sw_end(&w);
		break;
	case 1:		/* an entry after a section ended */
		sw_begin(&w, "vm", 1);
		sw_end(&w);
		sw_put_str(&w, 1, "late");
		break;
	case 2:		/* a section inside a section */
		sw_begin(&w, "vm", 1);
		sw_begin(&w, "vcpu.0", 1);
		sw_put_u64(&w, 1, 1);
		sw_end(&w);
		sw_end(&w);
		break;
	case 3:		/* a name that does not fit */
		sw_begin(&w, name33, 1);
		sw_end(&w);
		break;
	case 4:		/* an empty name */
		sw_begin(&w, "", 1);
		sw_end(&w);
		break;
	case 5:		/* the end of no section */
		sw_end(&w);
		break;
	case 6:		/* a section left open */
		sw_begin(&w, "vm", 1);
		sw_put_u64(&w, 1, 1);
		break;
	case 7:		/* two ends */
		sw_begin(&w, "vm", 1);
		sw_end(&w);
		sw_end(&w);
		break;
	case 8:		/* misuse, then everything right: the error still sticks */
		sw_put(&w, 1, "x", 1);
		sw_begin(&w, "vm", 1);
		sw_put_u64(&w, 1, 1);
		sw_end(&w);
		sw_begin(&w, "vcpu.0", 1);
		sw_end(&w);
		break;
	}
	CHECK_EQ_INT(sw_finish(&w), -EINVAL);
	CHECK_EQ_INT(w.error, -EINVAL);
	sw_free(&w);
	if (test_failure_count() != before)
		FAIL("... for misuse case %d", kind);
}

TEST(state_writer_misuse)
{
	struct state_writer w;

	for (int kind = 0; kind <= 8; kind++)
		check_misuse(kind);

	/* And the good path next to them, at the 32-character limit. */
	sw_init(&w);
	sw_begin(&w, "abcdefghijklmnopqrstuvwxyz.01234", 1);
	sw_end(&w);
	CHECK_EQ_INT(sw_finish(&w), 0);
	sw_free(&w);
}

TEST(state_reject_truncated)
{
	char err[128];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	for (size_t n = 0; n < len; n++) {
		int ret = open_copy(file, n, err, sizeof(err));

		if (ret != -EINVAL || !err[0]) {
			FAIL("a %zu-byte prefix of a %zu-byte file: sr_open returned %d (%s)",
			     n, len, ret, err);
		}
	}
	/* The whole file still opens, so the loop above tested something. */
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), 0);
	free(file);
}

/*
 * A CRC32 catches every single-bit error in what it covers; the rest of
 * the file must be covered by structure checks. Nothing may be accepted.
 */
TEST(state_reject_bit_flips)
{
	unsigned int accepted = 0;
	char err[128];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned int bits = 0;

		for (int bit = 0; bit < 8; bit++) {
			int ret;

			file[i] ^= 1 << bit;
			ret = open_copy(file, len, err, sizeof(err));
			file[i] ^= 1 << bit;
			if (ret != -EINVAL || !err[0]) {
				bits |= 1 << bit;
				accepted++;
			}
		}
		if (bits)
			FAIL("flipping bits 0x%02x of byte %zu (of %zu, %s) is accepted", bits, i,
			     len, i >= len - 4 ? "the trailer's pad after the CRC" : "covered");
	}
	if (accepted)
		FAIL("%u of %zu single-bit flips accepted", accepted, len * 8);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), 0);
	free(file);
}

TEST(state_reject_bad_magic)
{
	char err[128];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	/* Even with a good checksum over it. */
	for (int i = 0; i < 8; i++) {
		file[i] ^= 0x20;
		fix_crc(file, len);
		CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(err, "not an lvmm state file");
		file[i] ^= 0x20;
	}
	/* Not a snapshot at all. */
	memset(file, 0, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not an lvmm state file");
	memset(file, 'L', len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not an lvmm state file");
	free(file);
}

TEST(state_reject_other_major)
{
	static const uint32_t majors[] = { 0, STATE_MAJOR + 1, 0xffffffff };
	char err[128], want[32];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	for (unsigned int i = 0; i < sizeof(majors) / sizeof(majors[0]); i++) {
		put_le32(file + HDR_MAJOR, majors[i]);
		put_le32(file + HDR_MINOR, 3);
		fix_crc(file, len);
		CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(err, "version");
		snprintf(want, sizeof(want), "%u.3", majors[i]);
		CHECK_CONTAINS(err, want);
		CHECK(!strstr(err, "checksum"));
	}
	free(file);
}

TEST(state_reject_other_arch)
{
	char err[128];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	put_le32(file + HDR_ARCH, EM_X86_64);
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "architecture");
	CHECK_CONTAINS(err, "62");
	CHECK(!strstr(err, "checksum"));
	put_le32(file + HDR_ARCH, 0);
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "architecture");
	free(file);
}

/* A checksum that fails gets its own message. */
TEST(state_reject_bad_checksum)
{
	char err[128];
	uint8_t *file;
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	file[HDR_LEN + SEC_HDR_LEN + ENT_HDR_LEN] ^= 1;	/* a value byte */
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "checksum");
	free(file);
}

/*
 * Lengths that lie, behind a good checksum: only the structure checks can
 * catch these, and the reader must not walk off the end trusting them.
 */
TEST(state_reject_section_overrun)
{
	uint8_t *file, *sec;
	uint32_t slen, room;
	char err[128];
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	sec = file + HDR_LEN;				/* "vm" */
	slen = get_le32(sec + SEC_LENGTH);
	room = len - TRAILER_LEN - HDR_LEN - SEC_HDR_LEN;	/* to the trailer */
	{
		const uint32_t bad[] = {
			slen + 8, slen + 1, slen - 8, slen - 1, room - 8, room + 8,
			room + TRAILER_LEN, 0x80000000, 0xfffffff8, 0xffffffff,
		};

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			unsigned int before = test_failure_count();

			put_le32(sec + SEC_LENGTH, bad[i]);
			fix_crc(file, len);
			CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
			CHECK(err[0] && !strstr(err, "checksum"));
			if (test_failure_count() != before)
				FAIL("... section length %u (really %u): \"%s\"", bad[i], slen,
				     err);
		}
	}
	/* The last section, "empty", claiming the trailer. */
	sec = file + len - TRAILER_LEN - SEC_HDR_LEN;
	put_le32(file + HDR_LEN + SEC_LENGTH, slen);
	if (CHECK(!memcmp(sec, "empty", 6))) {
		put_le32(sec + SEC_LENGTH, TRAILER_LEN);
		fix_crc(file, len);
		CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
		put_le32(sec + SEC_LENGTH, 8);
		fix_crc(file, len);
		CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
		put_le32(sec + SEC_LENGTH, 0);
	}
	/* Restored, it opens: the rejections above were the lengths. */
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), 0);
	free(file);
}

TEST(state_reject_entry_overrun)
{
	uint8_t *file, *sec, *ent;
	uint32_t slen, elen;
	char err[128];
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	sec = file + HDR_LEN;				/* "vm": u64 then "virt" */
	slen = get_le32(sec + SEC_LENGTH);
	CHECK_EQ_INT(slen, 2 * (ENT_HDR_LEN + 8));
	ent = sec + SEC_HDR_LEN + ENT_HDR_LEN + 8;	/* "virt" */
	elen = get_le32(ent + ENT_LEN);
	CHECK_EQ_INT(elen, 4);
	{
		/* 9: the data fits the section, the padding to 16 does not. */
		const uint32_t bad[] = {
			9, 16, slen, 0x7fffffff, 0xfffffff8, 0xfffffff9, 0xffffffff,
		};

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			unsigned int before = test_failure_count();

			put_le32(ent + ENT_LEN, bad[i]);
			fix_crc(file, len);
			CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
			CHECK(err[0] && !strstr(err, "checksum"));
			if (test_failure_count() != before)
				FAIL("... entry length %u (really %u): \"%s\"", bad[i], elen, err);
		}
	}
	/* Lengths that stay inside the padding are the writer's own business. */
	put_le32(ent + ENT_LEN, 8);
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), 0);
	/* The first entry overrunning into the second is still inside the section. */
	put_le32(ent + ENT_LEN, elen);
	put_le32(sec + SEC_HDR_LEN + ENT_LEN, 8 + ENT_HDR_LEN + 8);
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), 0);
	/* ... but by one byte more, it is not. */
	put_le32(sec + SEC_HDR_LEN + ENT_LEN, 8 + ENT_HDR_LEN + 9);
	fix_crc(file, len);
	CHECK_EQ_INT(open_copy(file, len, err, sizeof(err)), -EINVAL);
	free(file);
}

/* Bytes after the trailer, or a trailer that is not last, are refused. */
TEST(state_reject_trailing_bytes)
{
	uint8_t *file, *longer;
	char err[128];
	size_t len;

	file = sample_file(&len);
	if (!file)
		return;
	longer = calloc(1, len + 8);
	if (CHECK(longer)) {
		memcpy(longer, file, len);
		CHECK_EQ_INT(open_copy(longer, len + 8, err, sizeof(err)), -EINVAL);
		CHECK_EQ_INT(open_copy(longer, len + 4, err, sizeof(err)), -EINVAL);
		CHECK_EQ_INT(open_copy(longer, len + 1, err, sizeof(err)), -EINVAL);
	}
	free(longer);
	free(file);
}

/*
 * A newer minor version adds sections (and entries) an older reader does
 * not know. It indexes them with the rest, and a reader that looks up only
 * the names it knows finds those as written.
 */
TEST(state_newer_minor_unknown_section)
{
	const struct state_section *s;
	struct state_writer w;
	struct state_reader r;
	char err[128] = "", str[16];
	uint8_t *file;
	uint64_t v;
	size_t len;

	sw_init(&w);
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, 1, 0xaaaa);
	sw_put_u64(&w, 0x1000, 0xbbbb);		/* a key only the newer version knows */
	sw_put_str(&w, 2, "virt");
	sw_end(&w);
	sw_begin(&w, "future.thing", 9);
	sw_put_str(&w, 1, "from tomorrow");
	sw_put(&w, 2, "\xde\xad\xbe", 3);
	sw_put_u64(&w, 3, 3);
	sw_end(&w);
	sw_begin(&w, "future.empty", 1);
	sw_end(&w);
	sw_begin(&w, "vcpu.0", 2);
	sw_put_u64(&w, CORE_REG(0), 0xcccc);
	sw_end(&w);
	file = sw_take(&w, &len);
	if (!file)
		return;
	put_le32(file + HDR_MINOR, STATE_MINOR + 1);
	fix_crc(file, len);

	if (!CHECK_EQ_INT(sr_open(&r, file, len, err, sizeof(err)), 0)) {
		FAIL("sr_open: %s", err);
		free(file);
		return;
	}
	CHECK_EQ_U64(r.minor, STATE_MINOR + 1);
	CHECK_EQ_INT(r.nr_sections, 4);
	CHECK(sr_section(&r, "future.thing"));
	CHECK(sr_section(&r, "future.empty"));
	s = sr_section(&r, "vm");
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 1);
		CHECK(ss_get_u64(s, 1, &v) && v == 0xaaaa);
		CHECK(ss_get_str(s, 2, str, sizeof(str)));
		CHECK_STR(str, "virt");
	}
	s = sr_section(&r, "vcpu.0");
	if (CHECK(s)) {
		CHECK_EQ_U64(s->version, 2);
		CHECK(ss_get_u64(s, CORE_REG(0), &v) && v == 0xcccc);
	}
	sr_close(&r);
	free(file);
}

// SPDX-License-Identifier: GPL-2.0
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LEN 24
#define SECTION_HDR_LEN (STATE_NAME_LEN + 8)
#define ENTRY_HDR_LEN 16
#define TRAILER_LEN (SECTION_HDR_LEN + 8)

uint32_t crc32_le(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = data;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
}

static uint8_t *sw_reserve(struct state_writer *w, size_t n)
{
	uint8_t *p;

	if (w->error)
		return NULL;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap < w->len + n)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			w->error = -ENOMEM;
			return NULL;
		}
		w->buf = p;
		w->cap = cap;
	}
	p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

void sw_init(struct state_writer *w)
{
	uint8_t *p;

	memset(w, 0, sizeof(*w));
	w->section = SIZE_MAX;
	p = sw_reserve(w, HEADER_LEN);
	if (!p)
		return;
	memcpy(p, STATE_MAGIC, 8);
	put_le32(p + 8, STATE_MAJOR);
	put_le32(p + 12, STATE_MINOR);
	put_le32(p + 16, STATE_ARCH_AARCH64);
}

void sw_free(struct state_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void sw_begin(struct state_writer *w, const char *name, uint32_t version)
{
	uint8_t *p;

	if (w->section != SIZE_MAX || strlen(name) > STATE_NAME_LEN || !*name) {
		w->error = w->error ?: -EINVAL;
		return;
	}
	p = sw_reserve(w, SECTION_HDR_LEN);
	if (!p)
		return;
	memcpy(p, name, strlen(name));
	put_le32(p + STATE_NAME_LEN, version);
	w->section = p - w->buf;
}

void sw_put(struct state_writer *w, uint64_t key, const void *data, uint32_t len)
{
	size_t padded = ((size_t)len + 7) & ~(size_t)7;
	uint8_t *p;

	if (w->section == SIZE_MAX) {
		w->error = w->error ?: -EINVAL;
		return;
	}
	p = sw_reserve(w, ENTRY_HDR_LEN + padded);
	if (!p)
		return;
	put_le64(p, key);
	put_le32(p + 8, len);
	if (len)
		memcpy(p + ENTRY_HDR_LEN, data, len);
}

void sw_put_u64(struct state_writer *w, uint64_t key, uint64_t val)
{
	uint8_t b[8];

	put_le64(b, val);
	sw_put(w, key, b, 8);
}

void sw_put_str(struct state_writer *w, uint64_t key, const char *s)
{
	sw_put(w, key, s, strlen(s));
}

void sw_end(struct state_writer *w)
{
	if (w->section == SIZE_MAX || w->error) {
		w->error = w->error ?: -EINVAL;
		return;
	}
	put_le32(w->buf + w->section + STATE_NAME_LEN + 4,
		 w->len - w->section - SECTION_HDR_LEN);
	w->section = SIZE_MAX;
}

int sw_finish(struct state_writer *w)
{
	uint8_t *p;

	if (w->section != SIZE_MAX)
		w->error = w->error ?: -EINVAL;
	p = sw_reserve(w, TRAILER_LEN);
	if (!p)
		return w->error;
	memcpy(p, "end", 3);
	put_le32(p + STATE_NAME_LEN + 4, 4);
	put_le32(p + SECTION_HDR_LEN, crc32_le(0, w->buf, w->len - 8));
	return w->error;
}

int sr_open(struct state_reader *r, const void *buf, size_t len, char *err, size_t errlen)
{
	const uint8_t *b = buf;
	size_t pos = HEADER_LEN;
	uint32_t crc;

	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	if (len < HEADER_LEN + TRAILER_LEN || memcmp(b, STATE_MAGIC, 8)) {
		snprintf(err, errlen, "not an lvmm state file (or truncated)");
		return -EINVAL;
	}
	if (get_le32(b + 8) != STATE_MAJOR) {
		snprintf(err, errlen, "state format version %u.%u, this lvmm reads %u.x",
			 get_le32(b + 8), get_le32(b + 12), STATE_MAJOR);
		return -EINVAL;
	}
	if (get_le32(b + 16) != STATE_ARCH_AARCH64) {
		snprintf(err, errlen, "snapshot of another architecture (ELF machine %u, not arm64)",
			 get_le32(b + 16));
		return -EINVAL;
	}
	r->minor = get_le32(b + 12);
	/* The trailer: last section, with the checksum of all before it. */
	if (memcmp(b + len - TRAILER_LEN, "end", 4) ||
	    get_le32(b + len - TRAILER_LEN + STATE_NAME_LEN + 4) != 4) {
		snprintf(err, errlen, "truncated state file (no end marker)");
		return -EINVAL;
	}
	crc = crc32_le(0, b, len - 8);
	/* The checksum covers all before it; the padding after it must be 0. */
	if (crc != get_le32(b + len - 8) || get_le32(b + len - 4)) {
		snprintf(err, errlen, "state file checksum mismatch (corrupt)");
		return -EINVAL;
	}
	while (pos < len - TRAILER_LEN) {
		struct state_section *s, *grown;
		uint32_t slen;

		if (len - TRAILER_LEN - pos < SECTION_HDR_LEN)
			goto bad;
		slen = get_le32(b + pos + STATE_NAME_LEN + 4);
		if (slen > len - TRAILER_LEN - pos - SECTION_HDR_LEN)
			goto bad;
		grown = realloc(r->sections, (r->nr_sections + 1) * sizeof(*s));
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			sr_close(r);
			return -ENOMEM;
		}
		r->sections = grown;
		s = &r->sections[r->nr_sections++];
		memset(s, 0, sizeof(*s));
		memcpy(s->name, b + pos, STATE_NAME_LEN);
		s->version = get_le32(b + pos + STATE_NAME_LEN);
		s->data = b + pos + SECTION_HDR_LEN;
		s->len = slen;
		/* Every entry must fit inside its section. */
		for (size_t epos = 0; epos < slen;) {
			uint32_t elen;

			if (slen - epos < ENTRY_HDR_LEN)
				goto bad;
			elen = get_le32(s->data + epos + 8);
			if (((uint64_t)elen + 7) / 8 * 8 > slen - epos - ENTRY_HDR_LEN)
				goto bad;
			epos += ENTRY_HDR_LEN + ((uint64_t)elen + 7) / 8 * 8;
		}
		pos += SECTION_HDR_LEN + slen;
	}
	if (pos != len - TRAILER_LEN)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "malformed state file (a section or entry overruns)");
	sr_close(r);
	return -EINVAL;
}

void sr_close(struct state_reader *r)
{
	free(r->sections);
	r->sections = NULL;
	r->nr_sections = 0;
}

const struct state_section *sr_section(const struct state_reader *r, const char *name)
{
	for (unsigned int i = 0; i < r->nr_sections; i++)
		if (!strcmp(r->sections[i].name, name))
			return &r->sections[i];
	return NULL;
}

bool ss_next(const struct state_section *s, size_t *pos, uint64_t *key, const void **data,
	     uint32_t *len)
{
	if (*pos >= s->len)
		return false;
	*key = get_le64(s->data + *pos);
	*len = get_le32(s->data + *pos + 8);
	*data = s->data + *pos + ENTRY_HDR_LEN;
	*pos += ENTRY_HDR_LEN + ((uint64_t)*len + 7) / 8 * 8;
	return true;
}

const void *ss_get(const struct state_section *s, uint64_t key, uint32_t *len)
{
	const void *data;
	size_t pos = 0;
	uint64_t k;
	uint32_t l;

	while (ss_next(s, &pos, &k, &data, &l)) {
		if (k == key) {
			if (len)
				*len = l;
			return data;
		}
	}
	return NULL;
}

bool ss_get_u64(const struct state_section *s, uint64_t key, uint64_t *val)
{
	uint32_t len;
	const uint8_t *p = ss_get(s, key, &len);

	if (!p || len != 8)
		return false;
	*val = get_le64(p);
	return true;
}

bool ss_get_str(const struct state_section *s, uint64_t key, char *buf, size_t size)
{
	uint32_t len;
	const char *p = ss_get(s, key, &len);

	if (!p || len >= size)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

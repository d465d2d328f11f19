// SPDX-License-Identifier: GPL-2.0
/*
 * Kernels as distributions ship them: a gzip'd Image (Image.gz, zlib) or an
 * EFI zboot image (vmlinuz.efi: a PE stub with a "zimg" header whose
 * payload is the Image, gzip or zstd), unpacked in memory. The output is
 * bounded (a compressed file must not expand past what the guest can hold),
 * and a file that is neither is left alone. Pure: unit-tested and fuzzed.
 */
#include "boot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* drivers/firmware/efi/libstub/zboot-header.S */
#define ZBOOT_TYPE_OFF		4	/* "zimg" */
#define ZBOOT_PAYLOAD_OFF	8
#define ZBOOT_PAYLOAD_SIZE	12
#define ZBOOT_COMP_TYPE		24	/* NUL-terminated, up to 32 bytes */
#define ZBOOT_HEADER_SIZE	64

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

static bool is_gzip(const uint8_t *p, size_t len)
{
	return len >= 18 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}

static bool is_zboot(const uint8_t *p, size_t len)
{
	return len >= ZBOOT_HEADER_SIZE && p[0] == 'M' && p[1] == 'Z' &&
	       !memcmp(p + ZBOOT_TYPE_OFF, "zimg", 4);
}

bool kernel_is_packed(const void *head, size_t len)
{
	const uint8_t *p = head;

	return (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	       (len >= 8 && p[0] == 'M' && p[1] == 'Z' && !memcmp(p + ZBOOT_TYPE_OFF, "zimg", 4));
}

/* The first output buffer: a guess from the input (kernels pack about 3:1), at least a page. */
static size_t start_size(size_t len, uint64_t max)
{
	uint64_t want = len < (1ULL << 40) ? (uint64_t)len * 4 : 1ULL << 42;

	if (want < 4096)
		want = 4096;
	return want < max ? want : max;
}

/* More room for output: the buffer doubled, up to max; past max the kernel is refused. */
static int out_grow(uint8_t **buf, size_t *cap, uint64_t max, char *err, size_t errlen)
{
	size_t want = *cap * 2 < max ? *cap * 2 : max;
	uint8_t *nb;

	if (*cap >= max) {
		snprintf(err, errlen, "unpacks to more than %llu MiB, the guest's RAM",
			 (unsigned long long)(max >> 20));
		return -EFBIG;
	}
	nb = realloc(*buf, want);
	if (!nb) {
		snprintf(err, errlen, "out of memory unpacking");
		return -ENOMEM;
	}
	*buf = nb;
	*cap = want;
	return 0;
}

/* A gzip stream (several members, as gzip -c a b makes, are one file). */
static int gunzip(const uint8_t *in, size_t len, uint64_t max, uint8_t **out, size_t *out_len,
		  char *err, size_t errlen)
{
	size_t cap = start_size(len, max), n = 0;
	z_stream z = { 0 };
	uint8_t *buf;
	int zr, ret = 0;

	buf = malloc(cap);
	if (!buf || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		snprintf(err, errlen, "out of memory unpacking");
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	for (;;) {
		if (n == cap && (ret = out_grow(&buf, &cap, max, err, errlen)))
			break;
		z.next_out = buf + n;
		z.avail_out = cap - n;
		zr = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (zr == Z_STREAM_END) {
			/* Another gzip member follows: go on with it; anything else is padding. */
			if (z.avail_in && is_gzip(z.next_in, z.avail_in) && inflateReset(&z) == Z_OK)
				continue;
			break;
		}
		if (zr == Z_OK || (zr == Z_BUF_ERROR && !z.avail_out))
			continue;	/* more to come, or room needed */
		snprintf(err, errlen, "gzip data is %s",
			 zr == Z_BUF_ERROR ? "cut short" : "corrupt");
		ret = -EINVAL;
		break;
	}
	inflateEnd(&z);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static int unzstd(const uint8_t *in, size_t len, uint64_t max, uint8_t **out, size_t *out_len,
		  char *err, size_t errlen)
{
	size_t cap = start_size(len, max), r = 1;
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { NULL, 0, 0 };
	ZSTD_DStream *ds = ZSTD_createDStream();
	uint8_t *buf = malloc(cap);
	int ret = 0;

	if (!ds || !buf) {
		ZSTD_freeDStream(ds);
		free(buf);
		snprintf(err, errlen, "zstd: out of memory");
		return -ENOMEM;
	}
	ZSTD_initDStream(ds);
	while (ib.pos < ib.size || r) {
		if (ob.pos == cap && (ret = out_grow(&buf, &cap, max, err, errlen)))
			break;
		ob.dst = buf;
		ob.size = cap;
		r = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(r)) {
			snprintf(err, errlen, "zstd data is corrupt (%s)", ZSTD_getErrorName(r));
			ret = -EINVAL;
			break;
		}
		/* Input used up with a frame unfinished: cut short. */
		if (ib.pos == ib.size && r && ob.pos < ob.size) {
			snprintf(err, errlen, "zstd data is cut short");
			ret = -EINVAL;
			break;
		}
	}
	ZSTD_freeDStream(ds);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*out_len = ob.pos;
	return 0;
}

int kernel_unpack(const void *file, size_t len, uint64_t max, void **out, size_t *out_len,
		  const char **kind, char *err, size_t errlen)
{
	const uint8_t *p = file;
	uint8_t *buf = NULL;
	size_t n = 0;
	int ret;

	*out = NULL;
	*out_len = 0;
	*kind = NULL;
	if (!max) {
		snprintf(err, errlen, "no room to unpack into");
		return -EFBIG;
	}
	if (is_gzip(p, len)) {
		*kind = "gzip";
		ret = gunzip(p, len, max, &buf, &n, err, errlen);
	} else if (is_zboot(p, len)) {
		uint32_t off = le32(p + ZBOOT_PAYLOAD_OFF), size = le32(p + ZBOOT_PAYLOAD_SIZE);
		char comp[33];

		memcpy(comp, p + ZBOOT_COMP_TYPE, 32);
		comp[32] = '\0';
		*kind = "EFI zboot";
		if (off < ZBOOT_HEADER_SIZE || off > len || size > len - off) {
			snprintf(err, errlen, "its zboot payload (0x%x bytes at 0x%x) is not inside the file",
				 size, off);
			return -EINVAL;
		}
		if (!strcmp(comp, "gzip")) {
			ret = gunzip(p + off, size, max, &buf, &n, err, errlen);
		} else if (!strcmp(comp, "zstd") || !strcmp(comp, "zstd22")) {
			ret = unzstd(p + off, size, max, &buf, &n, err, errlen);
		} else {
			snprintf(err, errlen, "its zboot payload is %.32s-compressed; lvmm unpacks gzip and zstd",
				 comp[0] ? comp : "(unnamed)");
			return -ENOTSUP;
		}
	} else {
		return 0;	/* not compressed */
	}
	if (ret)
		return ret;
	*out = buf;
	*out_len = n;
	return 0;
}

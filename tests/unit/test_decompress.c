// SPDX-License-Identifier: GPL-2.0
/*
 * Kernels as distributions ship them (boot/decompress.c): Image.gz and EFI
 * zboot images with gzip or zstd payloads unpack to the Image; damaged,
 * truncated and oversized ones are refused with the reason.
 */
#include "test.h"
#include "../../boot/boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* A fake Image: its header's magic and a recognisable body. */
static uint8_t *fake_image(size_t len)
{
	uint8_t *p = malloc(len);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 4096);
	memcpy(p + 56, "ARMd", 4);
	return p;
}

static size_t gzip_buf(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };

	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return cap - z.avail_out;
}

/* The zboot container of drivers/firmware/efi/libstub/zboot-header.S around payload. */
static size_t zboot(const uint8_t *payload, size_t plen, const char *comp, uint8_t *out)
{
	uint32_t off = 64, size = plen;

	memset(out, 0, 64);
	memcpy(out, "MZ\0\0zimg", 8);
	memcpy(out + 8, &off, 4);
	memcpy(out + 12, &size, 4);
	memcpy(out + 24, comp, strlen(comp));
	memcpy(out + 64, payload, plen);
	return 64 + plen;
}

static int unpack(const void *in, size_t len, uint64_t max, void **out, size_t *out_len,
		  const char **kind, char *err)
{
	err[0] = '\0';
	return kernel_unpack(in, len, max, out, out_len, kind, err, 256);
}

TEST(kernel_unpack_gzip)
{
	const size_t n = 3 << 20;
	uint8_t *img = fake_image(n), *gz = malloc(n + 4096), *two = malloc(2 * n + 8192);
	size_t glen = gzip_buf(img, n, gz, n + 4096), got;
	const char *kind;
	char err[256];
	void *out;

	CHECK_EQ_INT(unpack(gz, glen, 64 << 20, &out, &got, &kind, err), 0);
	CHECK_STR(kind, "gzip");
	if (CHECK_EQ_U64(got, n))
		CHECK(!memcmp(out, img, n));
	free(out);
	/* Padding after the stream (as some boot partitions have) is fine. */
	memset(gz + glen, 0, 512);
	CHECK_EQ_INT(unpack(gz, glen + 512, 64 << 20, &out, &got, &kind, err), 0);
	CHECK_EQ_U64(got, n);
	free(out);
	/* Two members (gzip -c a b) are one file. */
	memcpy(two, gz, glen);
	memcpy(two + glen, gz, glen);
	CHECK_EQ_INT(unpack(two, 2 * glen, 64 << 20, &out, &got, &kind, err), 0);
	CHECK_EQ_U64(got, 2 * n);
	free(out);
	/* Cut short, or damaged. */
	CHECK_EQ_INT(unpack(gz, glen / 2, 64 << 20, &out, &got, &kind, err), -EINVAL);
	CHECK_STR(err, "gzip data is cut short");
	CHECK(!out);
	gz[glen / 2] ^= 0xff;
	gz[glen / 2 + 1] ^= 0x55;
	CHECK_EQ_INT(unpack(gz, glen, 64 << 20, &out, &got, &kind, err), -EINVAL);
	CHECK_CONTAINS(err, "gzip data is");
	free(img);
	free(gz);
	free(two);
}

/* A small file that expands past the guest's RAM stops there (a zip bomb). */
TEST(kernel_unpack_bounded)
{
	const size_t n = 16 << 20;
	uint8_t *zeros = calloc(1, n), *gz = malloc(1 << 20);
	size_t glen = gzip_buf(zeros, n, gz, 1 << 20), got, zlen;
	uint8_t *zs = malloc(ZSTD_compressBound(n)), *zb = malloc(ZSTD_compressBound(n) + 64);
	const char *kind;
	char err[256];
	void *out;

	CHECK(glen < 64 << 10);
	CHECK_EQ_INT(unpack(gz, glen, 1 << 20, &out, &got, &kind, err), -EFBIG);
	CHECK_STR(err, "unpacks to more than 1 MiB, the guest's RAM");
	zlen = ZSTD_compress(zs, ZSTD_compressBound(n), zeros, n, 3);
	CHECK_EQ_INT(unpack(zb, zboot(zs, zlen, "zstd", zb), 1 << 20, &out, &got, &kind, err),
		     -EFBIG);
	free(zeros);
	free(gz);
	free(zs);
	free(zb);
}

TEST(kernel_unpack_zboot)
{
	const size_t n = 2 << 20;
	uint8_t *img = fake_image(n), *pl = malloc(ZSTD_compressBound(n) + n);
	uint8_t *file = malloc(ZSTD_compressBound(n) + n + 64);
	size_t plen, flen, got;
	const char *kind;
	char err[256];
	void *out;

	plen = gzip_buf(img, n, pl, ZSTD_compressBound(n) + n);
	flen = zboot(pl, plen, "gzip", file);
	CHECK_EQ_INT(unpack(file, flen, 64 << 20, &out, &got, &kind, err), 0);
	CHECK_STR(kind, "EFI zboot");
	if (CHECK_EQ_U64(got, n))
		CHECK(!memcmp(out, img, n));
	free(out);

	plen = ZSTD_compress(pl, ZSTD_compressBound(n), img, n, 19);
	flen = zboot(pl, plen, "zstd22", file);
	CHECK_EQ_INT(unpack(file, flen, 64 << 20, &out, &got, &kind, err), 0);
	if (CHECK_EQ_U64(got, n))
		CHECK(!memcmp(out, img, n));
	free(out);
	/* zstd cut short. */
	CHECK_EQ_INT(unpack(file, zboot(pl, plen / 2, "zstd", file), 64 << 20, &out, &got, &kind,
			    err), -EINVAL);
	CHECK_STR(err, "zstd data is cut short");

	/* An empty payload (the fuzzer's first find: a double free). */
	CHECK_EQ_INT(unpack(file, zboot(pl, 0, "gzip", file), 64 << 20, &out, &got, &kind, err),
		     -EINVAL);
	CHECK_STR(err, "gzip data is cut short");
	CHECK_EQ_INT(unpack(file, zboot(pl, 0, "zstd", file), 64 << 20, &out, &got, &kind, err),
		     -EINVAL);
	CHECK_STR(err, "zstd data is cut short");

	/* A payload outside the file, a compression lvmm does not unpack. */
	flen = zboot(pl, plen, "zstd", file);
	CHECK_EQ_INT(unpack(file, flen - 1, 64 << 20, &out, &got, &kind, err), -EINVAL);
	CHECK_CONTAINS(err, "its zboot payload");
	CHECK_EQ_INT(unpack(file, zboot(pl, plen, "lzma", file), 64 << 20, &out, &got, &kind, err),
		     -ENOTSUP);
	CHECK_STR(err, "its zboot payload is lzma-compressed; lvmm unpacks gzip and zstd");

	/* An Image, or anything else: not compressed, left alone. */
	CHECK_EQ_INT(unpack(img, n, 64 << 20, &out, &got, &kind, err), 0);
	CHECK(!out && !kind);
	free(img);
	free(pl);
	free(file);
}

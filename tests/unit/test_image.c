// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 Image header (Documentation/arch/arm64/booting.rst) and where
 * kernel, initrd and FDT land in guest RAM. The headers are synthetic: the
 * 64 bytes are all image_parse() looks at.
 */
#include "test.h"
#include "../../boot/boot.h"
#include "../../util.h"

#include <errno.h>
#include <string.h>

#define RAM 0x40000000ULL

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void make_header(uint8_t *h, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(h, 0, ARM64_IMAGE_HEADER_SIZE);
	put_le32(h, 0x91005a4d);	/* code0: "MZ" + add, as a real Image has */
	put_le32(h + 4, 0x14000000);	/* code1: b stext */
	put_le64(h + 8, text_offset);
	put_le64(h + 16, image_size);
	put_le64(h + 24, flags);
	put_le32(h + 56, ARM64_IMAGE_MAGIC);
	put_le32(h + 60, 0x40);		/* PE header offset */
}

TEST(image_header_normal)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	/* A modern kernel: text_offset 0, LE, 4K pages, anywhere in RAM. */
	make_header(h, 0, 0x2000000, 0xa);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x1800000, &img), 0);
	CHECK(img.has_header);
	CHECK(img.size_known);
	CHECK_EQ_U64(img.file_size, 0x1800000);
	CHECK_EQ_U64(img.text_offset, 0);
	CHECK_EQ_U64(img.image_size, 0x2000000);
	CHECK_EQ_U64(img.flags, 0xa);

	/* The header is read little endian whatever the host: every byte counts. */
	make_header(h, 0x80000, 0x0123456789ab000ULL, 0x2);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x1000, &img), 0);
	CHECK_EQ_U64(img.text_offset, 0x80000);
	CHECK_EQ_U64(img.image_size, 0x0123456789ab000ULL);
	CHECK_EQ_U64(img.flags, 0x2);

	/* A header longer than 64 bytes (the whole file) is fine too. */
	{
		uint8_t big[4096] = { 0 };

		make_header(big, 0x1000, 0x10000, 0);
		CHECK_EQ_INT(image_parse(big, sizeof(big), sizeof(big), &img), 0);
		CHECK(img.has_header);
		CHECK_EQ_U64(img.text_offset, 0x1000);
		CHECK_EQ_U64(img.image_size, 0x10000);
	}
}

TEST(image_size_below_file_size)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	/* The kernel needs at least the bytes we copy in. */
	make_header(h, 0, 0x100000, 0);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x180000, &img), 0);
	CHECK_EQ_U64(img.image_size, 0x180000);
}

TEST(image_old_kernel_without_size)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	/* Before 3.17 image_size was 0 and text_offset must be taken as 0x80000. */
	make_header(h, 0, 0, 0);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x900000, &img), 0);
	CHECK(img.has_header);
	CHECK(!img.size_known);
	CHECK_EQ_U64(img.text_offset, ARM64_DEFAULT_TEXT_OFFSET);
	CHECK_EQ_U64(img.image_size, 0x900000);

	make_header(h, 0x1000, 0, 0);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x900000, &img), 0);
	CHECK_EQ_U64(img.text_offset, 0x80000);
}

TEST(image_big_endian_refused)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	make_header(h, 0, 0x1000000, ARM64_IMAGE_FLAG_BE);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x800000, &img), -ENOEXEC);
	make_header(h, 0, 0x1000000, 0xb);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x800000, &img), -ENOEXEC);
	make_header(h, 0, 0, ARM64_IMAGE_FLAG_BE);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x800000, &img), -ENOEXEC);
}

TEST(image_bad_text_offset_refused)
{
	static const uint64_t bad[] = { 0x80010, 0x800, 1, 0x200000, 0x80000000ULL, UINT64_MAX };
	static const uint64_t good[] = { 0, 0x1000, 0x80000, 0x1ff000 };
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		make_header(h, bad[i], 0x1000000, 0);
		if (!CHECK_EQ_INT(image_parse(h, sizeof(h), 0x800000, &img), -ENOEXEC))
			FAIL("for text_offset 0x%llx", (unsigned long long)bad[i]);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		make_header(h, good[i], 0x1000000, 0);
		if (!CHECK_EQ_INT(image_parse(h, sizeof(h), 0x800000, &img), 0))
			FAIL("for text_offset 0x%llx", (unsigned long long)good[i]);
		CHECK_EQ_U64(img.text_offset, good[i]);
	}
}

TEST(image_flat_binary)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	/* Anything without the magic is loaded as is, at the old default offset. */
	make_header(h, 0, 0x1000000, 0xa);
	h[56] ^= 0xff;
	memset(&img, 0xa5, sizeof(img));
	CHECK_EQ_INT(image_parse(h, sizeof(h), 12345, &img), 0);
	CHECK(!img.has_header);
	CHECK(!img.size_known);
	CHECK_EQ_U64(img.text_offset, ARM64_DEFAULT_TEXT_OFFSET);
	CHECK_EQ_U64(img.image_size, 12345);
	CHECK_EQ_U64(img.file_size, 12345);
	CHECK_EQ_U64(img.flags, 0);

	/* The magic in big-endian byte order is not the magic. */
	make_header(h, 0, 0x1000000, 0);
	h[56] = 0x64;
	h[57] = 0x4d;
	h[58] = 0x52;
	h[59] = 0x41;
	CHECK_EQ_INT(image_parse(h, sizeof(h), 4096, &img), 0);
	CHECK(!img.has_header);
}

TEST(image_empty_file)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	make_header(h, 0, 0x1000000, 0);
	CHECK_EQ_INT(image_parse(h, 0, 0, &img), -ENODATA);
	CHECK_EQ_INT(image_parse(NULL, 0, 0, &img), -ENODATA);
}

TEST(image_short_file)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;

	/* Too short for a header even with the magic in place: a flat binary. */
	make_header(h, 0, 0x1000000, ARM64_IMAGE_FLAG_BE);
	CHECK_EQ_INT(image_parse(h, 60, 60, &img), 0);
	CHECK(!img.has_header);
	CHECK_EQ_U64(img.text_offset, 0x80000);
	CHECK_EQ_U64(img.image_size, 60);

	CHECK_EQ_INT(image_parse(h, 1, 1, &img), 0);
	CHECK(!img.has_header);
	CHECK_EQ_U64(img.image_size, 1);
}

static struct kernel_image kernel(uint64_t text_offset, uint64_t image_size)
{
	struct kernel_image img = {
		.file_size = image_size,
		.has_header = true,
		.size_known = true,
		.text_offset = text_offset,
		.image_size = image_size,
	};

	return img;
}

TEST(layout_normal)
{
	struct kernel_image img = kernel(0, 0x1234567);
	struct boot_layout l;
	uint64_t need = 0;

	CHECK_EQ_INT(boot_layout_compute(&img, 0x10000, RAM, 256 * SZ_1M, &l, &need), 0);
	CHECK_EQ_U64(l.kernel_gpa, RAM);
	CHECK_EQ_U64(l.kernel_end, RAM + 0x1234567);
	/* The initrd starts on the next page after the kernel's image_size. */
	CHECK_EQ_U64(l.initrd_gpa, RAM + 0x1235000);
	CHECK_EQ_U64(l.initrd_size, 0x10000);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 256 * SZ_1M - SZ_2M);
	/* The need is reported on success too. */
	CHECK_EQ_U64(need, ALIGN_UP(0x1235000ULL + 0x10000, SZ_2M) + SZ_2M);
}

TEST(layout_text_offset)
{
	struct kernel_image img = kernel(0x80000, 0x1000000);
	struct boot_layout l;

	CHECK_EQ_INT(boot_layout_compute(&img, 0x1000, RAM, SZ_1G, &l, NULL), 0);
	CHECK_EQ_U64(l.kernel_gpa, RAM + 0x80000);
	CHECK_EQ_U64(l.kernel_end, RAM + 0x1080000);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 0x1080000);
	CHECK_EQ_U64(l.fdt_gpa, RAM + SZ_1G - SZ_2M);
}

TEST(layout_no_initrd)
{
	struct kernel_image img = kernel(0, 0x1000000);
	struct boot_layout l;
	uint64_t need;

	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, 64 * SZ_1M, &l, &need), 0);
	CHECK_EQ_U64(l.initrd_gpa, 0);
	CHECK_EQ_U64(l.initrd_size, 0);
	CHECK_EQ_U64(need, 0x1000000 + SZ_2M);
}

TEST(layout_too_small)
{
	struct kernel_image img = kernel(0, 3 * SZ_1M);
	struct boot_layout l;
	uint64_t need = 0;

	/* Kernel to 3 MiB, rounded to 4 MiB, plus the FDT's 2 MiB. */
	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, 4 * SZ_1M, &l, &need), -ENOSPC);
	CHECK_EQ_U64(need, 6 * SZ_1M);

	/* A big initrd. */
	need = 0;
	CHECK_EQ_INT(boot_layout_compute(&img, 100 * SZ_1M, RAM, 64 * SZ_1M, &l, &need),
		     -ENOSPC);
	CHECK_EQ_U64(need, ALIGN_UP(3 * SZ_1M + 100 * SZ_1M, SZ_2M) + SZ_2M);

	/* need_bytes is optional. */
	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, SZ_1M, &l, NULL), -ENOSPC);
	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, 0, &l, NULL), -ENOSPC);
}

TEST(layout_exact_fit)
{
	struct kernel_image img = kernel(0x80000, 0x1f00000);
	uint64_t initrd = 0x300000, need = 0;
	struct boot_layout l;

	CHECK_EQ_INT(boot_layout_compute(&img, initrd, RAM, SZ_1G, &l, &need), 0);
	/* Kernel to 0x1f80000, initrd to 0x2280000, rounded to 0x2400000, + FDT. */
	CHECK_EQ_U64(need, 0x2600000);

	CHECK_EQ_INT(boot_layout_compute(&img, initrd, RAM, need, &l, NULL), 0);
	CHECK_EQ_U64(l.fdt_gpa, RAM + need - SZ_2M);
	CHECK(l.initrd_gpa + l.initrd_size <= l.fdt_gpa);
	/* One MiB less (sizes are whole MiB) does not do. */
	CHECK_EQ_INT(boot_layout_compute(&img, initrd, RAM, need - SZ_1M, &l, NULL), -ENOSPC);
}

/*
 * For every RAM size from "just fits" upwards, in MiB steps (odd ones
 * included): the FDT is the top 2 MiB-aligned 2 MiB, inside RAM, and
 * above the initrd.
 */
TEST(layout_fdt_placement)
{
	static const struct {
		uint64_t text_offset, image_size, initrd;
	} cases[] = {
		{ 0, 0x1234567, 0x10000 },
		{ 0x80000, 0x1000000, 0 },
		{ 0, SZ_2M, SZ_2M },
		{ 0x80000, 0x10000, 0x1fffff },
		{ 0, 0x1ff000, 1 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kernel_image img = kernel(cases[i].text_offset, cases[i].image_size);
		struct boot_layout l;
		uint64_t need, ram;

		if (!CHECK_EQ_INT(boot_layout_compute(&img, cases[i].initrd, RAM, SZ_1G, &l,
						      &need), 0))
			continue;
		CHECK(IS_ALIGNED(need, SZ_2M));
		for (ram = need - SZ_1M; ram <= need + 16 * SZ_1M; ram += SZ_1M) {
			int ret = boot_layout_compute(&img, cases[i].initrd, RAM, ram, &l, NULL);

			if (ram < need) {
				CHECK_EQ_INT(ret, -ENOSPC);
				continue;
			}
			if (!CHECK_EQ_INT(ret, 0))
				continue;
			CHECK(IS_ALIGNED(l.fdt_gpa, SZ_2M));
			CHECK(l.fdt_gpa + BOOT_FDT_MAX_SIZE <= RAM + ram);
			CHECK(l.fdt_gpa + BOOT_FDT_MAX_SIZE > RAM + ram - SZ_2M);
			CHECK(l.kernel_end <= l.fdt_gpa);
			CHECK(l.initrd_gpa + l.initrd_size <= l.fdt_gpa);
			if (cases[i].initrd) {
				CHECK(l.initrd_gpa >= l.kernel_end);
				CHECK(IS_ALIGNED(l.initrd_gpa, SZ_4K));
			}
		}
	}
}

TEST(layout_odd_ram_size)
{
	struct kernel_image img = kernel(0, 0x1000000);
	struct boot_layout l;

	/* 257 MiB: the FDT gets [254 MiB, 256 MiB), not the unaligned top. */
	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, 257 * SZ_1M, &l, NULL), 0);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 254 * SZ_1M);
}

/* What image_parse() gives a flat binary of this many bytes. */
static struct kernel_image flat(uint64_t file_size)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE] = { 0 };
	struct kernel_image img;

	image_parse(h, sizeof(h), file_size, &img);
	return img;
}

/*
 * A flat binary (a kvm-unit-tests .flat) has BSS and stack after the
 * end of its file: an initrd put right after the file was zeroed by the
 * program's own start-up. It must go to the top of the first 256 MiB (or of
 * RAM), below the FDT, as far from the kernel as it can be.
 */
TEST(layout_flat_binary_far_from_kernel)
{
	struct kernel_image img = flat(0x2a000);	/* 168 KiB, like selftest.flat */
	struct boot_layout l;
	uint64_t need = 0;

	CHECK(!img.size_known);
	CHECK_EQ_INT(boot_layout_compute(&img, 0x1234, RAM, 256 * SZ_1M, &l, &need), 0);
	CHECK_EQ_U64(l.kernel_gpa, RAM + 0x80000);
	CHECK_EQ_U64(l.kernel_end, RAM + 0xaa000);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 254 * SZ_1M);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 254 * SZ_1M - 0x2000);
	CHECK_EQ_U64(l.initrd_size, 0x1234);
	CHECK_EQ_U64(need, 4 * SZ_1M);

	/* More RAM: still below 256 MiB, where kvmtool puts them. */
	CHECK_EQ_INT(boot_layout_compute(&img, 0x1234, RAM, 4 * SZ_1G, &l, NULL), 0);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 254 * SZ_1M);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 254 * SZ_1M - 0x2000);

	/* Less RAM: at its top (an odd size rounds down to 2 MiB). */
	CHECK_EQ_INT(boot_layout_compute(&img, SZ_1M, RAM, 33 * SZ_1M, &l, NULL), 0);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 30 * SZ_1M);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 29 * SZ_1M);

	/* No initrd. */
	CHECK_EQ_INT(boot_layout_compute(&img, 0, RAM, 64 * SZ_1M, &l, NULL), 0);
	CHECK_EQ_U64(l.initrd_gpa, 0);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 62 * SZ_1M);
}

/* An Image with image_size 0 (before 3.17) is placed the same way. */
TEST(layout_image_size_zero_far_from_kernel)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct kernel_image img;
	struct boot_layout l;

	make_header(h, 0x80000, 0, 0);
	CHECK_EQ_INT(image_parse(h, sizeof(h), 0x900000, &img), 0);
	CHECK_EQ_INT(boot_layout_compute(&img, 0x400000, RAM, SZ_1G, &l, NULL), 0);
	CHECK_EQ_U64(l.kernel_end, RAM + 0x980000);
	CHECK_EQ_U64(l.fdt_gpa, RAM + 254 * SZ_1M);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 250 * SZ_1M);
}

/* For every RAM size and initrd, nothing overlaps and the initrd is as high as it goes. */
TEST(layout_unsized_never_after_file)
{
	static const uint64_t files[] = { 1, 0x1000, 0x2a123, SZ_2M, 0x5fff001 };
	static const uint64_t initrds[] = { 0, 1, 0xfff, 0x1001, SZ_2M, 0x3000000 };

	for (unsigned int f = 0; f < ARRAY_SIZE(files); f++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(initrds); i++) {
			struct kernel_image img = flat(files[f]);
			uint64_t need, ram;
			struct boot_layout l;

			boot_layout_compute(&img, initrds[i], RAM, SZ_1G, &l, &need);
			for (ram = SZ_1M; ram <= 300 * SZ_1M; ram += SZ_1M) {
				int ret = boot_layout_compute(&img, initrds[i], RAM, ram, &l, NULL);
				uint64_t top = ram < 256 * SZ_1M ? ram : 256 * SZ_1M;

				if (ram < need) {
					CHECK_EQ_INT(ret, -ENOSPC);
					continue;
				}
				if (!CHECK_EQ_INT(ret, 0))
					continue;
				CHECK(IS_ALIGNED(l.fdt_gpa, SZ_2M));
				CHECK(l.fdt_gpa + BOOT_FDT_MAX_SIZE <= RAM + top);
				CHECK(l.fdt_gpa + BOOT_FDT_MAX_SIZE > RAM + top - SZ_2M);
				CHECK(l.kernel_end <= l.fdt_gpa);
				if (!initrds[i])
					continue;
				CHECK(IS_ALIGNED(l.initrd_gpa, SZ_4K));
				CHECK(l.initrd_gpa >= l.kernel_end);
				CHECK(l.initrd_gpa + l.initrd_size <= l.fdt_gpa);
				CHECK(l.initrd_gpa + l.initrd_size + SZ_4K > l.fdt_gpa);
			}
		}
	}
}

/* An unsized kernel whose file and initrd do not fit below 256 MiB. */
TEST(layout_unsized_too_big)
{
	struct kernel_image img = flat(200 * SZ_1M);
	struct boot_layout l;

	CHECK_EQ_INT(boot_layout_compute(&img, 60 * SZ_1M, RAM, SZ_1G, &l, NULL), -EFBIG);
	CHECK_EQ_INT(boot_layout_compute(&img, 50 * SZ_1M, RAM, SZ_1G, &l, NULL), 0);
	CHECK_EQ_U64(l.initrd_gpa, RAM + 254 * SZ_1M - 50 * SZ_1M);
	/* A sized kernel of the same size is not limited to the window. */
	img = kernel(0, 200 * SZ_1M);
	CHECK_EQ_INT(boot_layout_compute(&img, 60 * SZ_1M, RAM, SZ_1G, &l, NULL), 0);
}

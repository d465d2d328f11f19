// SPDX-License-Identifier: GPL-2.0
#include "boot.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

int image_parse(const void *hdr, size_t hdr_len, uint64_t size, struct kernel_image *img)
{
	const uint8_t *h = hdr;

	memset(img, 0, sizeof(*img));
	img->file_size = size;
	if (size == 0)
		return -ENODATA;

	if (hdr_len < ARM64_IMAGE_HEADER_SIZE || le32(h + 56) != ARM64_IMAGE_MAGIC) {
		/* A flat binary, loaded where an old Image would go. */
		img->text_offset = ARM64_DEFAULT_TEXT_OFFSET;
		img->image_size = size;
		return 0;
	}
	img->has_header = true;
	img->text_offset = le64(h + 8);
	img->image_size = le64(h + 16);
	img->flags = le64(h + 24);
	img->size_known = img->image_size != 0;
	if (img->image_size == 0) {
		/* Kernels before 3.17: text_offset is 0x80000, size unknown. */
		img->text_offset = ARM64_DEFAULT_TEXT_OFFSET;
		img->image_size = size;
	}
	if (img->flags & ARM64_IMAGE_FLAG_BE)
		return -ENOEXEC;
	if (img->image_size < size)
		img->image_size = size;
	/* A text_offset past 2 MiB or unaligned is not an Image we understand. */
	if (img->text_offset >= SZ_2M || !IS_ALIGNED(img->text_offset, SZ_4K))
		return -ENOEXEC;
	return 0;
}

int boot_layout_compute(const struct kernel_image *img, uint64_t initrd_size,
			uint64_t ram_base, uint64_t ram_size,
			struct boot_layout *layout, uint64_t *need_bytes)
{
	uint64_t kernel_span, initrd_offset, need, top;

	memset(layout, 0, sizeof(*layout));
	kernel_span = img->text_offset + img->image_size;
	initrd_offset = ALIGN_UP(kernel_span, SZ_4K);
	/* RAM up to and including the FDT's 2 MiB-aligned 2 MiB at the top. */
	need = ALIGN_UP(initrd_offset + initrd_size, SZ_2M) + BOOT_FDT_MAX_SIZE;
	if (need_bytes)
		*need_bytes = need;

	if (!img->size_known && need > BOOT_UNSIZED_WINDOW)
		return -EFBIG;
	if (ram_size < need)
		return -ENOSPC;

	layout->kernel_gpa = ram_base + img->text_offset;
	layout->kernel_end = ram_base + kernel_span;
	layout->initrd_size = initrd_size;
	if (img->size_known) {
		layout->initrd_gpa = initrd_size ? ram_base + initrd_offset : 0;
		layout->fdt_gpa = ALIGN_DOWN(ram_base + ram_size, SZ_2M) - BOOT_FDT_MAX_SIZE;
		return 0;
	}
	/*
	 * The kernel's memory ends somewhere after its file: keep both out of
	 * its way, at the top of the window (need above says they fit).
	 */
	top = ram_size < BOOT_UNSIZED_WINDOW ? ram_size : BOOT_UNSIZED_WINDOW;
	layout->fdt_gpa = ALIGN_DOWN(ram_base + top, SZ_2M) - BOOT_FDT_MAX_SIZE;
	if (initrd_size)
		layout->initrd_gpa = ALIGN_DOWN(layout->fdt_gpa - initrd_size, SZ_4K);
	return 0;
}

static int classify_kernel_file(const char *path, char *why, size_t whylen)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, h, sizeof(h));
	close(fd);
	/* gzip'd and EFI zboot kernels are unpacked when loaded. */
	if (n > 0 && kernel_is_packed(h, n))
		return 0;
	if (n != (ssize_t)sizeof(h) || le32(h + 56) != ARM64_IMAGE_MAGIC) {
		snprintf(why, whylen, "%s is not an arm64 Image (nor gzip'd, nor EFI zboot)", path);
		return -ENOEXEC;
	}
	return 0;
}

int boot_find_host_kernel(char *buf, size_t len, char *why, size_t whylen)
{
	/* Each is a prefix, completed with the running kernel's release. */
	static const char *const prefixes[] = {
		"/boot/Image-", "/boot/vmlinux-", "/boot/vmlinuz-", "/boot/Image",
	};
	struct utsname u;
	bool explained = false;

	snprintf(why, whylen, "no kernel given (-k IMAGE)");
	if (uname(&u) < 0)
		return -ENOENT;
	if (strcmp(u.machine, "aarch64")) {
		snprintf(why, whylen,
			 "no kernel given (-k IMAGE), and the host's own kernel is for %s, not arm64",
			 u.machine);
		return -ENOENT;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(prefixes); i++) {
		bool versioned = prefixes[i][strlen(prefixes[i]) - 1] == '-';
		char tmp[256];

		snprintf(buf, len, "%s%s", prefixes[i], versioned ? u.release : "");
		if (!classify_kernel_file(buf, tmp, sizeof(tmp)))
			return 0;
		if (tmp[0] && !explained) {
			snprintf(why, whylen, "no kernel given (-k IMAGE), and %s", tmp);
			explained = true;
		}
	}
	if (!explained)
		snprintf(why, whylen,
			 "no kernel given (-k IMAGE), and no host kernel Image found in /boot for %s",
			 u.release);
	return -ENOENT;
}

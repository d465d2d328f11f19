/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The arm64 Linux booting protocol (Documentation/arch/arm64/booting.rst):
 * the Image header, where kernel, initrd and device tree go in guest RAM,
 * and the default kernel when none is given (image.c: pure logic, no KVM);
 * the kernel and initrd files opened and read into guest RAM (files.c).
 */
#ifndef LVMM_BOOT_H
#define LVMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_MAGIC 0x644d5241U	/* "ARM\x64" at offset 56 */
#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_DEFAULT_TEXT_OFFSET 0x80000ULL
#define ARM64_IMAGE_FLAG_BE (1ULL << 0)

/* The device tree gets the top 2 MiB-aligned 2 MiB of RAM (booting.rst). */
#define BOOT_FDT_MAX_SIZE 0x200000ULL

/*
 * A kernel that does not say how much memory it uses (a flat binary, or an
 * Image with image_size 0) has its BSS and stack somewhere after the end of
 * the file: FDT and initrd then go to the top of the first 256 MiB of RAM,
 * as kvmtool places them for every kernel (and within the 512 MiB that
 * kernels before 3.17 required of the FDT).
 */
#define BOOT_UNSIZED_WINDOW 0x10000000ULL

struct kernel_image {
	uint64_t file_size;
	bool has_header;	/* false: a flat binary, loaded at the default offset */
	bool size_known;	/* image_size came from the header (not 0) */
	uint64_t text_offset;
	uint64_t image_size;	/* memory the kernel needs from its load address */
	uint64_t flags;
};

/*
 * Parse the header of an arm64 Image from the first hdr_len bytes of a file
 * of file_size bytes. Returns 0 (has_header says whether a header was found;
 * without one the file is a flat binary), -ENODATA for an empty file,
 * -ENOEXEC for a header we cannot boot (big-endian, odd text_offset).
 */
int image_parse(const void *hdr, size_t hdr_len, uint64_t file_size,
		struct kernel_image *img);

struct boot_layout {
	uint64_t kernel_gpa;
	uint64_t kernel_end;	/* kernel_gpa + image_size */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint64_t fdt_gpa;
};

/*
 * Place kernel, initrd and FDT in RAM [ram_base, ram_base + ram_size).
 * The kernel goes at ram_base + text_offset (ram_base is 2 MiB aligned).
 * With a known image_size, the initrd goes right after it and the FDT in
 * the top 2 MiB of RAM. Without one (size_known false), the FDT goes in the
 * top 2 MiB of the first BOOT_UNSIZED_WINDOW of RAM and the initrd right
 * below it, as far from the kernel's file as they can be.
 * Returns -ENOSPC, with the smallest RAM size that would do in *need_bytes,
 * when they do not fit; -EFBIG when no RAM size would do (an unsized kernel
 * and its initrd larger than the window).
 */
int boot_layout_compute(const struct kernel_image *img, uint64_t initrd_size,
			uint64_t ram_base, uint64_t ram_size,
			struct boot_layout *layout, uint64_t *need_bytes);

/*
 * Find the running host's kernel as an uncompressed arm64 Image. Returns 0
 * with the path in buf, or -ENOENT with an explanation in why.
 */
int boot_find_host_kernel(char *buf, size_t len, char *why, size_t whylen);

/*
 * A kernel as distributions ship it (decompress.c): gzip (Image.gz) or an
 * EFI zboot image with a gzip or zstd payload, unpacked into a new buffer
 * *out of *out_len bytes (the caller frees it), at most max bytes; *kind
 * names what it was. Returns 0 with *out NULL for a file that is neither,
 * or -errno with the reason in err.
 */
int kernel_unpack(const void *file, size_t len, uint64_t max, void **out, size_t *out_len,
		  const char **kind, char *err, size_t errlen);
/* Do the first len bytes of a file (8 are enough) say gzip or EFI zboot? */
bool kernel_is_packed(const void *head, size_t len);

/* ---- The boot files (files.c) ------------------------------------------ */

struct guest_mem;

struct boot_file {
	const char *what;	/* "kernel", "initrd" */
	const char *path;
	int fd;
	uint64_t size;
	void *data;		/* unpacked in memory (a compressed kernel), else NULL */
};

struct boot_files {
	char host_kernel[256];	/* the host's kernel, when none was given */
	struct boot_file kernel, initrd;
	struct kernel_image image;
	struct boot_layout layout;
};

void boot_files_init(struct boot_files *b);
/*
 * Open the kernel (NULL: the host's; gzip'd and EFI zboot kernels are
 * unpacked) and the initrd (NULL: none), parse the kernel's header and
 * place both in RAM [ram_base, ram_base + ram_size). A kernel without the
 * arm64 Image header is refused unless flat (then it is a flat binary).
 * Returns 0 or -errno with the reason in err.
 */
int boot_files_open(struct boot_files *b, const char *kernel, const char *initrd, bool flat,
		    uint64_t ram_base, uint64_t ram_size, char *err, size_t errlen);
/* Read kernel and initrd straight into guest RAM at their places. */
int boot_files_load(struct boot_files *b, const struct guest_mem *ram, char *err, size_t errlen);
void boot_files_close(struct boot_files *b);

#endif

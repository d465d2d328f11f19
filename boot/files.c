// SPDX-License-Identifier: GPL-2.0
/* The kernel and initrd files: opened and checked, placed, read into guest RAM. */
#include "boot.h"
#include "../kvm/guest_mem.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void boot_files_init(struct boot_files *b)
{
	memset(b, 0, sizeof(*b));
	b->kernel.fd = b->initrd.fd = -1;
}

/* Open a boot file and check it is a non-empty regular file we can read. */
static int boot_file_open(struct boot_file *f, const char *what, const char *path, char *err,
			  size_t errlen)
{
	struct stat st;
	int ret;

	f->what = what;
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		/*
		 * A kernel in kvmtool's words: scripts written for lkvm (the
		 * kvm-unit-tests runner) probe with a missing kernel and look
		 * for this line before they run anything.
		 */
		if (!strcmp(what, "kernel"))
			snprintf(err, errlen, "Fatal: Unable to open kernel %s: %s", path,
				 strerror(-ret));
		else
			snprintf(err, errlen, "%s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s '%s' is not a regular file", what, path);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s '%s' is empty", what, path);
		return -EINVAL;
	}
	f->size = st.st_size;
	return 0;
}

/*
 * A gzip'd or EFI zboot kernel, unpacked into memory: f->data and f->size
 * become the Image. 0 also for a file that is neither (f->data NULL).
 */
static int unpack_kernel(struct boot_file *f, uint64_t max, char *err, size_t errlen)
{
	uint8_t magic[8];
	const char *kind;
	char why[256];
	void *file = NULL, *out;
	size_t len, out_len;
	ssize_t n;
	int ret;

	n = pread(f->fd, magic, sizeof(magic), 0);
	if (n < 0 || !kernel_is_packed(magic, n))
		return 0;
	ret = read_file(f->path, &file, &len);
	if (ret) {
		snprintf(err, errlen, "kernel '%s': %s", f->path, strerror(-ret));
		return ret;
	}
	ret = kernel_unpack(file, len, max, &out, &out_len, &kind, why, sizeof(why));
	free(file);
	if (ret) {
		snprintf(err, errlen, "kernel '%s' (%s): %s", f->path, kind ? kind : "compressed", why);
		return ret;
	}
	if (out && !out_len) {
		free(out);
		snprintf(err, errlen, "kernel '%s' (%s) unpacks to nothing", f->path, kind);
		return -EINVAL;
	}
	f->data = out;
	if (out) {
		pr_info("kernel '%s': %s, %llu MiB unpacked", f->path, kind,
			(unsigned long long)out_len >> 20);
		f->size = out_len;
	}
	return 0;
}

static int open_kernel(struct boot_files *b, const char *kernel, uint64_t max, char *err,
		       size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE];
	ssize_t n;
	int ret;

	if (!kernel) {
		if (boot_find_host_kernel(b->host_kernel, sizeof(b->host_kernel), err, errlen))
			return -ENOENT;
		kernel = b->host_kernel;
		pr_info("no --kernel given: booting the host's kernel %s", kernel);
	}
	ret = boot_file_open(&b->kernel, "kernel", kernel, err, errlen);
	ret = ret ?: unpack_kernel(&b->kernel, max, err, errlen);
	if (ret)
		return ret;
	if (b->kernel.data) {
		n = MIN(sizeof(hdr), b->kernel.size);
		memcpy(hdr, b->kernel.data, n);
	} else {
		n = pread(b->kernel.fd, hdr, sizeof(hdr), 0);
	}
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "kernel '%s': %s", kernel, strerror(-ret));
		return ret;
	}
	ret = image_parse(hdr, n, b->kernel.size, &b->image);
	if (ret == -ENOEXEC) {
		snprintf(err, errlen,
			 "kernel '%s' is an arm64 Image lvmm cannot boot (big-endian or a bad text_offset)",
			 kernel);
		return ret;
	}
	return 0;
}

int boot_files_open(struct boot_files *b, const char *kernel, const char *initrd, bool flat,
		    uint64_t ram_base, uint64_t ram_size, char *err, size_t errlen)
{
	uint64_t need;
	int ret;

	ret = open_kernel(b, kernel, ram_size, err, errlen);
	if (ret)
		return ret;
	kernel = b->kernel.path;
	/* Without the header it may be anything: a flat binary only when asked. */
	if (!b->image.has_header && !flat) {
		snprintf(err, errlen,
			 "kernel '%s' is not an arm64 Image (no Image header; not gzip or an EFI zboot image either): pass --flat to load it as a flat binary at 0x%llx",
			 kernel, (unsigned long long)(ram_base + b->image.text_offset));
		return -ENOEXEC;
	}
	if (initrd) {
		ret = boot_file_open(&b->initrd, "initrd", initrd, err, errlen);
		if (ret)
			return ret;
	}
	ret = boot_layout_compute(&b->image, b->initrd.size, ram_base, ram_size, &b->layout, &need);
	if (ret == -EFBIG) {
		snprintf(err, errlen,
			 "kernel '%s' does not give its size (no Image header, or image_size 0), so initrd and device tree go below %llu MiB, and the kernel file (%llu MiB)%s and the device tree (2 MiB) do not fit there",
			 kernel, BOOT_UNSIZED_WINDOW / SZ_1M,
			 (unsigned long long)ALIGN_UP(b->image.image_size, SZ_1M) / SZ_1M,
			 initrd ? " with the initrd" : "");
		return ret;
	}
	if (ret) {
		snprintf(err, errlen,
			 "guest memory of %llu MiB is too small for the kernel (%llu MiB)%s and the device tree (2 MiB): give at least %llu MiB (-m)",
			 (unsigned long long)(ram_size / SZ_1M),
			 (unsigned long long)ALIGN_UP(b->image.image_size, SZ_1M) / SZ_1M,
			 initrd ? " and initrd" : "",
			 (unsigned long long)ALIGN_UP(need, SZ_1M) / SZ_1M);
		return ret;
	}
	return 0;
}

/* Read a whole boot file straight into guest RAM (no bounce buffer). */
static int boot_file_load(struct boot_file *f, const struct guest_mem *ram, uint64_t gpa,
			  char *err, size_t errlen)
{
	void *dst = guest_mem_ptr(ram, gpa, f->size);
	uint64_t done = 0;

	if (!dst) {
		snprintf(err, errlen, "%s '%s': %llu bytes at 0x%llx lie outside guest RAM", f->what,
			 f->path, (unsigned long long)f->size, (unsigned long long)gpa);
		return -ERANGE;
	}
	if (f->data) {
		memcpy(dst, f->data, f->size);
		return 0;
	}
	while (done < f->size) {
		ssize_t n = pread(f->fd, (char *)dst + done, f->size - done, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;

			snprintf(err, errlen, "%s '%s': read failed: %s", f->what, f->path,
				 n < 0 ? strerror(-ret) : "file shrank while loading");
			return ret;
		}
		done += n;
	}
	return 0;
}

int boot_files_load(struct boot_files *b, const struct guest_mem *ram, char *err, size_t errlen)
{
	int ret = boot_file_load(&b->kernel, ram, b->layout.kernel_gpa, err, errlen);

	if (!ret && b->initrd.size)
		ret = boot_file_load(&b->initrd, ram, b->layout.initrd_gpa, err, errlen);
	return ret;
}

static void boot_file_close(struct boot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->data);
	f->data = NULL;
}

void boot_files_close(struct boot_files *b)
{
	boot_file_close(&b->initrd);
	boot_file_close(&b->kernel);
}

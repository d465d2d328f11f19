// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel unpacker (boot/decompress.c) on any file: gzip streams, EFI
 * zboot containers with gzip or zstd payloads, and everything else. What
 * comes out is bounded (8 MiB here: a bomb must stop there), and an
 * Image that unpacks is handed to the Image header parser.
 */
#include "fuzz.h"
#include "../../boot/boot.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t max = 8 << 20;
	struct kernel_image img;
	const char *kind;
	char err[256];
	size_t len;
	void *out;
	int ret;

	ret = kernel_unpack(data, size, max, &out, &len, &kind, err, sizeof(err));
	if (ret) {
		if (out || !err[0])
			__builtin_trap();	/* a failure leaves nothing and says why */
		return 0;
	}
	if (out) {
		if (len > max || !kind)
			__builtin_trap();
		image_parse(out, len < ARM64_IMAGE_HEADER_SIZE ? len : ARM64_IMAGE_HEADER_SIZE, len,
			    &img);
		free(out);
	}
	return 0;
}

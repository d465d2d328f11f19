// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot state file reader (migration/state.c): any bytes, as
 * `lvmm restore` would read them from a directory it was handed. Checked:
 * sr_open never reads outside the buffer, and every section it indexes can
 * be walked entry by entry within its own bounds.
 */
#include "fuzz.h"
#include "../../state/state.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_reader r;
	char err[256];

	/* A copy of exactly `size` bytes: ASan catches a read one past it. */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (sr_open(&r, buf, size, err, sizeof(err)) == 0) {
		for (unsigned int i = 0; i < r.nr_sections; i++) {
			const struct state_section *s = &r.sections[i];
			size_t pos = 0;
			uint64_t key, v;
			const void *d;
			uint32_t len;
			char str[64];

			if (sr_section(&r, s->name) == NULL)
				abort();	/* an indexed section must be found by name */
			while (ss_next(s, &pos, &key, &d, &len)) {
				if ((const uint8_t *)d < s->data || (const uint8_t *)d + len > s->data + s->len)
					abort();
				ss_get_u64(s, key, &v);
				ss_get_str(s, key, str, sizeof(str));
			}
		}
		sr_close(&r);
	}
	free(buf);
	return 0;
}

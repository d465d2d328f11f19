// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel's untrusted text (control/control.c): the bytes a
 * connection sent, made into a request line and parsed as the VM's
 * handler parses it; and the JSON helpers on both sides (the VM escapes
 * names and messages into replies, the client reads fields back out).
 * Checked: no sanitizer report; a parsed snapshot directory lies inside the
 * line and is absolute; escaping never overruns its buffer and, when
 * nothing was cut, json_get gives the text back.
 */
#include "fuzz.h"
#include "../../control/control.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_req req;
	char err[256], out[512];
	char *buf = malloc(size ? size : 1), *text;
	size_t outsize;
	int len;

	if (!buf)
		return 0;
	/* As serve_one has it: the bytes read so far, exactly. */
	memcpy(buf, data, size);
	len = control_take_line(buf, size);
	if (len >= 0) {
		if ((size_t)len >= size || strlen(buf) != (size_t)len)
			abort();
		if (control_parse_request(buf, &req, err, sizeof(err)) == 0 &&
		    req.op == CONTROL_SNAPSHOT &&
		    (req.dir < buf || req.dir >= buf + len || req.dir[0] != '/'))
			abort();
	}
	free(buf);

	/* The input as a C string, escaped into a buffer of fuzzed size, and read back. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	outsize = size ? 1 + data[0] % sizeof(out) : sizeof(out);
	{
		char *esc = malloc(outsize), reply[600], back[512];
		bool plain = true;

		if (!esc) {
			free(text);
			return 0;
		}
		json_escape(text, esc, outsize);
		if (strlen(esc) >= outsize)
			abort();
		for (const char *c = text; *c; c++)
			if ((unsigned char)*c < 0x20)
				plain = false;
		snprintf(reply, sizeof(reply), "{\"ok\":false,\"error\":\"%s\"}", esc);
		if (!json_get(reply, "error", back, sizeof(back)))
			abort();
		/* Nothing cut and nothing \u-escaped: the same text comes back. */
		if (plain && strlen(text) < sizeof(back) && strlen(esc) + 7 < outsize &&
		    strlen(reply) < sizeof(reply) - 1 && strcmp(back, text))
			abort();
		free(esc);
	}
	/* The input as a reply, fields looked up into small and large buffers. */
	json_get(text, "ok", out, 2);
	json_get(text, "error", out, sizeof(out));
	json_get(text, "snapshot", out, 1);
	free(text);
	return 0;
}

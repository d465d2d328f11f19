// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side helper of the VFIO GPIO test: open an evdev device, print
 * READY-LINE (so the test knows the key may be pressed now), then wait up
 * to TIMEOUT seconds for one key press and its release, printing each key
 * event and a summary:
 *
 *   evkey DEVICE TIMEOUT READY-LINE
 *   EVKEY code=116 value=1
 *   EVKEY code=116 value=0
 *   EVKEY-RESULT code=116 presses=1 releases=1
 *
 * Exit status 0 when a press and a release were seen, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned int code = 0;
	int presses = 0, releases = 0;
	long long deadline;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: evkey DEVICE TIMEOUT READY-LINE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("EVKEY-RESULT error=%s\n", strerror(errno));
		return 1;
	}
	printf("%s\n", argv[3]);
	fflush(stdout);
	deadline = now_ms() + atoi(argv[2]) * 1000LL;
	while (!(presses && releases)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct input_event ev;
		long long left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		while (read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
			if (ev.type != EV_KEY)
				continue;
			printf("EVKEY code=%u value=%d\n", ev.code, ev.value);
			code = ev.code;
			if (ev.value == 1)
				presses++;
			else if (ev.value == 0 && presses)
				releases++;
		}
	}
	printf("EVKEY-RESULT code=%u presses=%d releases=%d\n", code, presses, releases);
	return presses && releases ? 0 : 1;
}

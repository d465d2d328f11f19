// SPDX-License-Identifier: GPL-2.0
/*
 * The host terminal as the guest's console: raw mode while the guest runs,
 * restored on every way out (normal exit, error, fatal signal).
 */
#include "term.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

void term_restore(void)
{
	if (saved_fd < 0)
		return;
	tcsetattr(saved_fd, TCSANOW, &saved);
	saved_fd = -1;
}

static void term_fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw_begin(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &saved) < 0)
		return 0;
	raw = saved;
	/*
	 * Keys go to the guest as typed (Ctrl-C included, hence no ISIG);
	 * output processing stays on so our own messages keep their lines.
	 */
	raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag &= ~(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return 0;
	saved_fd = fd;
	atexit(term_restore);
	for (unsigned int i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], term_fatal_signal);
	return 1;
}

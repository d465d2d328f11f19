// SPDX-License-Identifier: GPL-2.0
/*
 * The quick guest's PID 1 (/virt/init in ~/.lvmm/NAME), built static for
 * arm64 and carried inside lvmm (init_blob.S). It runs in the guest, not in
 * lvmm: it mounts what a shell needs and the host's / (9p tag "hostfs") at
 * /host, brings the network up by DHCP, then either gives the console a
 * shell (the host's /bin/sh) or, for lvmm sandbox, runs one command and
 * leaves its exit status in /virt/sandbox/NAME/status. Either way the VM
 * powers off when it is done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHELL_PATH "/bin/sh"
static const char *const shell_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"TERM=linux",
	"PS1=\\u@\\h:\\w\\$ ",
	NULL,
};

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("lvmm-init: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void mount_one(const char *src, const char *dir, const char *type, unsigned long flags,
		      const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		say("mounting %s on %s: %s", type, dir, strerror(errno));
}

/* The value of NAME=... on the kernel command line, into buf ("" if absent). */
static void cmdline_value(const char *name, char *buf, size_t len)
{
	char line[4096], *p, *tok, *save;
	size_t n = strlen(name);
	int fd = open("/proc/cmdline", O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;

	buf[0] = '\0';
	if (fd >= 0)
		close(fd);
	if (got <= 0)
		return;
	line[got] = '\0';
	for (p = line; (tok = strtok_r(p, " \n", &save)); p = NULL) {
		if (!strncmp(tok, name, n) && tok[n] == '=') {
			snprintf(buf, len, "%s", tok + n + 1);
			return;
		}
	}
}

/* ---- the network: interfaces up, DHCP on each Ethernet one ---- */

struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64], file[128];
	uint8_t cookie[4];
	uint8_t options[312];
} __attribute__((packed));

enum { DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPACK = 5, DHCPNAK = 6 };

struct lease {
	uint32_t addr, mask, router, dns, server;	/* network byte order */
};

static int if_flags(int s, const char *ifname, short set)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= set;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static size_t dhcp_build(struct dhcp_msg *m, uint32_t xid, const uint8_t mac[6], int type,
			 const struct lease *offer)
{
	uint8_t *o = m->options;

	memset(m, 0, sizeof(*m));
	m->op = 1;
	m->htype = 1;
	m->hlen = 6;
	m->xid = xid;
	m->flags = htons(0x8000);	/* answer by broadcast: no address yet */
	memcpy(m->chaddr, mac, 6);
	memcpy(m->cookie, "\x63\x82\x53\x63", 4);
	*o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
	if (offer) {
		*o++ = 50, *o++ = 4, memcpy(o, &offer->addr, 4), o += 4;
		*o++ = 54, *o++ = 4, memcpy(o, &offer->server, 4), o += 4;
	}
	*o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6;	/* mask, router, DNS */
	*o++ = 255;
	return (size_t)(o - (uint8_t *)m);
}

/* The reply's message type (0: not ours or malformed), with its lease. */
static int dhcp_parse(const struct dhcp_msg *m, size_t len, uint32_t xid, struct lease *l)
{
	const uint8_t *o = m->options, *end = (const uint8_t *)m + len;
	int type = 0;

	if (len < offsetof(struct dhcp_msg, options) || m->op != 2 || m->xid != xid ||
	    memcmp(m->cookie, "\x63\x82\x53\x63", 4))
		return 0;
	l->addr = m->yiaddr;
	while (o < end && *o != 255) {
		uint8_t code = *o++, n;

		if (code == 0)
			continue;
		if (o >= end || o + 1 + *o > end)
			break;
		n = *o++;
		if (code == 53 && n >= 1)
			type = o[0];
		else if (code == 1 && n >= 4)
			memcpy(&l->mask, o, 4);
		else if (code == 3 && n >= 4)
			memcpy(&l->router, o, 4);
		else if (code == 6 && n >= 4)
			memcpy(&l->dns, o, 4);
		else if (code == 54 && n >= 4)
			memcpy(&l->server, o, 4);
		o += n;
	}
	return type;
}

/* Send type and wait up to a second for a reply of one of the wanted types. */
static int dhcp_exchange(int s, const struct dhcp_msg *out, size_t out_len, uint32_t xid,
			 int want, struct lease *l)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67),
				  .sin_addr = { INADDR_BROADCAST } };
	struct dhcp_msg in;

	if (sendto(s, out, out_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;
		int type;

		if (poll(&p, 1, 1000) <= 0)
			return -1;
		n = recv(s, &in, sizeof(in), 0);
		if (n < 0)
			return -1;
		type = dhcp_parse(&in, (size_t)n, xid, l);
		if (type == want || type == DHCPNAK)
			return type;
	}
}

static int dhcp(const char *ifname, const uint8_t mac[6], struct lease *l)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(68) };
	struct dhcp_msg m;
	uint32_t xid = (uint32_t)time(NULL) ^ ((uint32_t)mac[5] << 24 | mac[4]);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, ret = -1;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, &ifr, sizeof(ifr)) < 0 ||
	    bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		goto out;
	for (int tries = 0; tries < 4 && ret; tries++) {
		struct lease offer = { 0 };
		size_t n = dhcp_build(&m, xid, mac, DHCPDISCOVER, NULL);

		if (dhcp_exchange(s, &m, n, xid, DHCPOFFER, &offer) != DHCPOFFER)
			continue;
		n = dhcp_build(&m, xid, mac, DHCPREQUEST, &offer);
		memset(l, 0, sizeof(*l));
		if (dhcp_exchange(s, &m, n, xid, DHCPACK, l) == DHCPACK && l->addr)
			ret = 0;
	}
out:
	close(s);
	return ret;
}

static void set_addr(int s, const char *ifname, unsigned long req, uint32_t addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
	if (ioctl(s, req, &ifr) < 0)
		say("%s: setting an address: %s", ifname, strerror(errno));
}

static void configure(int s, const char *ifname, const struct lease *l)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	set_addr(s, ifname, SIOCSIFADDR, l->addr);
	if (l->mask)
		set_addr(s, ifname, SIOCSIFNETMASK, l->mask);
	if (l->router) {
		struct rtentry rt = { 0 };
		struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;

		((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
		((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
		gw->sin_family = AF_INET;
		gw->sin_addr.s_addr = l->router;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)ifname;
		if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			say("%s: adding the default route: %s", ifname, strerror(errno));
	}
	if (l->dns) {
		FILE *f = fopen("/etc/resolv.conf", "w");

		if (f) {
			fprintf(f, "nameserver %s\n", inet_ntop(AF_INET, &l->dns, a, sizeof(a)));
			fclose(f);
		}
	}
	inet_ntop(AF_INET, &l->addr, a, sizeof(a));
	inet_ntop(AF_INET, &l->router, g, sizeof(g));
	say("%s: %s by DHCP, gateway %s", ifname, a, g);
}

static void network_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct if_nameindex *ifs, *i;

	if (s < 0)
		return;
	if_flags(s, "lo", IFF_UP);
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		struct ifreq ifr = { 0 };
		struct lease l;

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (!strcmp(i->if_name, "lo") || ioctl(s, SIOCGIFHWADDR, &ifr) < 0 ||
		    ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
			continue;
		if (if_flags(s, i->if_name, IFF_UP) < 0)
			continue;
		if (dhcp(i->if_name, (const uint8_t *)ifr.ifr_hwaddr.sa_data, &l))
			say("%s: no DHCP answer; it stays unconfigured", i->if_name);
		else
			configure(s, i->if_name, &l);
	}
	if (ifs)
		if_freenameindex(ifs);
	close(s);
}

/* ---- the shell, or the sandbox's command ---- */

/* A child in a session of its own with the console as its terminal. */
static pid_t spawn(char *const argv[], const char *dir)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	setsid();
	int fd = open("/dev/console", O_RDWR);

	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 1);
		dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (dir && chdir(dir) < 0)
		say("%s: %s", dir, strerror(errno));
	signal(SIGINT, SIG_DFL);
	/* execvpe searches the PATH of init's own environment: set it there. */
	setenv("PATH", shell_env[0] + 5, 1);
	execvpe(argv[0], argv, (char *const *)shell_env);
	say("cannot run %s: %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* PID 1 reaps every orphan; returns the status of pid. */
static int wait_for(pid_t pid)
{
	int status;
	pid_t w;

	while ((w = wait(&status)) != pid) {
		if (w < 0 && errno != EINTR)
			return 1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* The sandbox's argv: NUL-separated words in FILE. */
static char **read_argv(const char *path)
{
	static char buf[65536];
	static char *argv[1024];
	int fd = open(path, O_RDONLY), n = 0;
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return NULL;
	buf[len] = '\0';
	for (char *p = buf; p < buf + len && n < 1023; p += strlen(p) + 1)
		argv[n++] = p;
	argv[n] = NULL;
	return argv;
}

static void write_status(const char *path, int status)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		say("%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%d\n", status);
	fclose(f);
}

int main(void)
{
	char sandbox[128], name[65], path[256];
	int status;

	mount_one("proc", "/proc", "proc", 0, NULL);
	mount_one("sysfs", "/sys", "sysfs", 0, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount_one("devpts", "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=666");
	mount_one("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
	mount_one("tmpfs", "/run", "tmpfs", 0, "mode=755");
	mount_one("hostfs", "/host", "9p", MS_RDONLY, "trans=virtio,version=9p2000.L");
	/* lvmm.name: the directory in ~/.lvmm that is our root, also the hostname. */
	cmdline_value("lvmm.name", name, sizeof(name));
	if (!name[0])
		snprintf(name, sizeof(name), "lvmm");
	sethostname(name, strlen(name));
	network_up();

	cmdline_value("lvmm.sandbox", sandbox, sizeof(sandbox));
	if (sandbox[0]) {
		char **argv;

		snprintf(path, sizeof(path), "/virt/sandbox/%s/argv", sandbox);
		argv = read_argv(path);
		if (!argv) {
			say("%s: %s", path, strerror(errno));
			status = 127;
		} else {
			status = wait_for(spawn(argv, "/root"));
		}
		snprintf(path, sizeof(path), "/virt/sandbox/%s/status", sandbox);
		write_status(path, status);
	} else {
		char *argv[] = { SHELL_PATH, NULL };

		printf("\nlvmm: a quick guest. The host's / is at /host (read-only); / is ~/.lvmm/%s on the host.\n"
		       "Leave with exit (or Ctrl-A x).\n\n", name);
		fflush(stdout);
		wait_for(spawn(argv, "/root"));
	}
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}

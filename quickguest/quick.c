// SPDX-License-Identifier: GPL-2.0
/* A run with nothing to boot from turned into a quick guest (quick.h). */
#include "quick.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The 9p tag the kernel mounts as root with root=/dev/root rootfstype=9p. */
#define ROOT_TAG "/dev/root"
#define HOST_TAG "hostfs"

bool quick_guest_wanted(const struct vm_config *cfg)
{
	const char *p = cfg->params;

	if (cfg->nodefaults || cfg->restore_dir || cfg->incoming || cfg->initrd || cfg->nr_disks ||
	    cfg->flat)
		return false;
	/* The user's own root= (an NFS root, a passed-through disk...) wins. */
	for (; p && (p = strstr(p, "root=")); p++) {
		if (p == cfg->params || p[-1] == ' ')
			return false;
	}
	return true;
}

/* Mode 0700 for ~/.lvmm: the guests' roots are the user's own. */
static int make_base(const char *home, char *out, size_t len, char *err, size_t errlen)
{
	if (!home || home[0] != '/') {
		snprintf(err, errlen,
			 "a quick guest (no disk or initrd given) keeps its root in ~/.lvmm, but $HOME is not set: set it, or give -d DISK or -i INITRD");
		return -ENOENT;
	}
	if ((size_t)snprintf(out, len, "%s/.lvmm", home) >= len) {
		snprintf(err, errlen, "$HOME is too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "the quick guest's directory: making %s: %s", out,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* The words of the sandbox's command, NUL-separated, for init. */
static int write_argv(const struct quick_guest *q, char *const *argv, char *err, size_t errlen)
{
	char path[PATH_MAX];
	FILE *f;
	int ret = 0;

	if (mkdir(q->sandbox_dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "lvmm sandbox: making %s: %s", q->sandbox_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/status", q->sandbox_dir);
	unlink(path);	/* a stale one must not pass for this run's */
	snprintf(path, sizeof(path), "%s/argv", q->sandbox_dir);
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "lvmm sandbox: writing %s: %s", path, strerror(-ret));
		return ret;
	}
	for (; *argv; argv++)
		fwrite(*argv, 1, strlen(*argv) + 1, f);
	if (fclose(f) != 0) {
		ret = -errno;
		snprintf(err, errlen, "lvmm sandbox: writing %s: %s", path, strerror(-ret));
	}
	return ret;
}

int quick_guest_setup(struct vm_config *cfg, struct quick_guest *q, const char *home,
		      const void *init, size_t init_len, char *const *sandbox_argv, char *err,
		      size_t errlen)
{
	char base[PATH_MAX];
	int ret;

	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", cfg->name_given ? cfg->name : "default");
	ret = make_base(home, base, sizeof(base), err, errlen);
	if (ret)
		return ret;
	if ((size_t)snprintf(q->dir, sizeof(q->dir), "%s/%s", base, q->name) >= sizeof(q->dir)) {
		snprintf(err, errlen, "$HOME is too long");
		return -ENAMETOOLONG;
	}
	ret = guestfs_prepare(q->dir, "/", init, init_len, err, errlen);
	if (ret)
		return ret;
	/* shares[] has room for these two beyond the user's LVMM_MAX_9P. */
	cfg->shares[cfg->nr_shares++] = (struct p9_config){ .dir = q->dir, .tag = ROOT_TAG };
	cfg->shares[cfg->nr_shares++] =
		(struct p9_config){ .dir = "/", .tag = HOST_TAG, .readonly = true };
	/* User-mode networking unless -n gave a network or mode=none, as lkvm run. */
	if (!cfg->nr_nets && !cfg->no_network) {
		struct net_config *n = &cfg->nets[cfg->nr_nets++];

		memset(n, 0, sizeof(*n));
		n->user = true;
		memcpy(n->mac, (uint8_t[]){ 0x02, 0x4c, 0x56, (uint8_t)(getpid() >> 8),
					   (uint8_t)getpid(), 0 }, 6);
	}
	snprintf(q->params, sizeof(q->params),
		 "root=" ROOT_TAG " rootfstype=9p rootflags=trans=virtio,version=9p2000.L rw init=/virt/init lvmm.name=%s",
		 q->name);
	if (sandbox_argv) {
		snprintf(q->sandbox_dir, sizeof(q->sandbox_dir), "%s/virt/sandbox/%s", q->dir,
			 cfg->name);
		ret = write_argv(q, sandbox_argv, err, errlen);
		if (ret)
			return ret;
		/* quiet: the command's output is what the user asked for. */
		snprintf(q->params + strlen(q->params), sizeof(q->params) - strlen(q->params),
			 " lvmm.sandbox=%s quiet", cfg->name);
	}
	cfg->quick_params = q->params;
	return 0;
}

int quick_guest_sandbox_status(const struct quick_guest *q, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[16] = "";
	int status = -1, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/status", q->sandbox_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *end;
			long v;

			buf[n] = '\0';
			v = strtol(buf, &end, 10);
			if (end != buf && v >= 0 && v <= 255)
				status = (int)v;
		}
	}
	if (status < 0)
		snprintf(err, errlen,
			 "lvmm sandbox: the guest ended without the command's exit status (%s): see its console output above",
			 path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/argv", q->sandbox_dir);
	unlink(path);
	rmdir(q->sandbox_dir);
	return status;
}

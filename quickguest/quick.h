/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The quick guest: what `lvmm run` boots when it is given nothing to boot
 * from (no disk, no initrd, no root=), as kvmtool's lkvm run does. Its root
 * is a per-VM directory on the host, ~/.lvmm/NAME (made on first use, like
 * lkvm setup), shared over 9p; the host's / is shared read-only beside it
 * and mounted at /host, and the directory's bin, lib, usr, ... are links
 * into it, so the guest runs the host's own programs. Its PID 1 is a small
 * static init lvmm carries inside itself (quickguest/init.c). The network
 * is user mode unless -n says otherwise. --nodefaults turns all of it off.
 *
 * lvmm sandbox runs one command in such a guest: the words go to
 * virt/sandbox/VM/argv in the directory, and init leaves the command's exit
 * status in virt/sandbox/VM/status.
 */
#ifndef LVMM_QUICKGUEST_QUICK_H
#define LVMM_QUICKGUEST_QUICK_H

#include "../options.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* The strings a quick guest's vm_config points into; lives as long as it. */
struct quick_guest {
	char name[LVMM_NAME_MAX + 1];	/* of the directory: --name, or "default" */
	char dir[3072];			/* ~/.lvmm/NAME */
	char sandbox_dir[3584];		/* DIR/virt/sandbox/VM, for lvmm sandbox */
	char params[512];		/* root=, init=, lvmm.* for the kernel */
};

/* Does cfg ask for a quick guest? (Nothing to boot from, no --nodefaults.) */
bool quick_guest_wanted(const struct vm_config *cfg);

/*
 * The directory (made or brought up to date, init written) and cfg turned
 * into a quick guest: the two 9p shares, user networking unless -n was
 * given, the kernel parameters. home is $HOME; init/init_len the guest's
 * init program. With sandbox_argv (NULL-terminated), the VM runs that
 * command instead of a shell. Returns 0, or -errno with a message in err.
 */
int quick_guest_setup(struct vm_config *cfg, struct quick_guest *q, const char *home,
		      const void *init, size_t init_len, char *const *sandbox_argv, char *err,
		      size_t errlen);

/*
 * After a sandbox VM ended: the command's exit status (0-255), or -1 when
 * it left none (a message in err). Its files are removed either way.
 */
int quick_guest_sandbox_status(const struct quick_guest *q, char *err, size_t errlen);

/*
 * Make or update the per-VM directory dir for a guest whose /host is the
 * host's directory host_root ("/"; a test passes another): directories,
 * links into /host for those of bin, sbin, lib, lib64, usr host_root has,
 * a minimal etc, and virt/init (rewritten only when it differs). Entries
 * the user made or changed are left alone. Returns 0 or -errno (err says).
 */
int guestfs_prepare(const char *dir, const char *host_root, const void *init, size_t init_len,
		    char *err, size_t errlen);

/* The init program lvmm carries (quickguest/init_blob.S; absent in unit tests). */
extern const unsigned char quick_init_start[], quick_init_end[];

#endif

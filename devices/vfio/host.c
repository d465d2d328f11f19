// SPDX-License-Identifier: GPL-2.0
/*
 * The host's side of a VFIO device, pure: what sysfs says about it (and
 * the one-line diagnosis when it is not ready), the devices that keep its
 * IOMMU group from being viable, and its host device tree node with the
 * properties the guest keeps. Everything takes a root prefix for /sys, so
 * the unit tests run it on a fake tree.
 */
#include "host.h"
#include "../../util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* snprintf for paths: -ENAMETOOLONG rather than a silently cut path. */
static int __printf(3, 4) pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The part of path after its last '/', into buf (cut to fit). */
static void basename_to(char *buf, size_t len, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (len) {
		size_t n = MIN(strlen(base), len - 1);

		memcpy(buf, base, n);
		buf[n] = '\0';
	}
}

/* A small sysfs attribute, without its trailing newline. */
static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return 0;
}

/*
 * The last component of the target of symlink dir/name. "" when it cannot
 * be read: sysfs has no such link (no driver, no group), which is what
 * every caller checks for.
 */
static void link_base(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	buf[0] = '\0';
	if (pathf(path, sizeof(path), "%s/%s", dir, name))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	basename_to(buf, len, target);
}

static bool is_vfio_driver(const char *driver)
{
	return !strcmp(driver, "vfio-platform") || !strcmp(driver, "vfio-amba");
}

/* Drivers that leave an IOMMU group viable: VFIO's own and pci-stub. */
static bool driver_keeps_group_viable(const char *driver)
{
	return !*driver || !strncmp(driver, "vfio", 4) || !strcmp(driver, "pci-stub");
}

static bool noiommu_enabled(const char *root)
{
	char path[PATH_MAX], val[8];

	if (pathf(path, sizeof(path), "%s/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
		  root))
		return false;
	return !read_attr(path, val, sizeof(val)) && (val[0] == 'Y' || val[0] == '1');
}

/* Where DEVICE lives: a sysfs path as given, or a name on either bus. */
static int find_device(const char *root, const char *device, char *real, char *err,
		       size_t errlen)
{
	static const char *const buses[] = { "platform", "amba" };
	char path[PATH_MAX];

	if (strchr(device, '/')) {
		if (realpath(device, real))
			return 0;
		snprintf(err, errlen, "vfio: %s: no such device", device);
		return -ENODEV;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(buses); i++) {
		if (!pathf(path, sizeof(path), "%s/sys/bus/%s/devices/%s", root, buses[i], device) &&
		    realpath(path, real))
			return 0;
	}
	snprintf(err, errlen,
		 "vfio: %s: no such device (looked in /sys/bus/platform/devices and /sys/bus/amba/devices)",
		 device);
	return -ENODEV;
}

int vfio_host_lookup(const char *root, const char *device, struct vfio_host_dev *hd,
		     char *err, size_t errlen)
{
	char path[PATH_MAX], group[32], gname[64];
	const char *want, *n;
	int ret;

	memset(hd, 0, sizeof(*hd));
	hd->group = -1;
	ret = find_device(root, device, hd->path, err, errlen);
	if (ret)
		return ret;
	basename_to(hd->name, sizeof(hd->name), hd->path);
	n = hd->name;

	link_base(hd->path, "subsystem", hd->bus, sizeof(hd->bus));
	if (!strcmp(hd->bus, "pci")) {
		snprintf(err, errlen, "vfio: %s: is a PCI device: pass it with --vfio-pci %s", n, n);
		return -EINVAL;
	}
	if (strcmp(hd->bus, "platform") && strcmp(hd->bus, "amba")) {
		snprintf(err, errlen, "vfio: %s: is a device of the '%s' bus; --vfio-platform takes platform and amba devices",
			 n, hd->bus[0] ? hd->bus : "unknown");
		return -EINVAL;
	}
	want = !strcmp(hd->bus, "amba") ? "vfio-amba" : "vfio-platform";
	link_base(hd->path, "driver", hd->driver, sizeof(hd->driver));
	if (hd->driver[0] && !is_vfio_driver(hd->driver)) {
		snprintf(err, errlen, "vfio: %s: bound to %s, not to %s; rebind it: echo %s > /sys/bus/%s/devices/%s/driver_override; echo %s > /sys/bus/%s/devices/%s/driver/unbind; echo %s > /sys/bus/%s/drivers_probe",
			 n, hd->driver, want, want, hd->bus, n, n, hd->bus, n, n, hd->bus);
		return -EBUSY;
	}
	link_base(hd->path, "iommu_group", group, sizeof(group));
	if (!hd->driver[0]) {
		if (!group[0] && !noiommu_enabled(root))
			snprintf(err, errlen, "vfio: %s: not bound to %s: it has no IOMMU group and no-IOMMU mode is not enabled (echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode, or boot with vfio.enable_unsafe_noiommu_mode=1; then echo %s > /sys/bus/%s/drivers_probe)",
				 n, want, n, hd->bus);
		else
			snprintf(err, errlen, "vfio: %s: not bound to any driver; bind it: echo %s > /sys/bus/%s/devices/%s/driver_override; echo %s > /sys/bus/%s/drivers_probe%s",
				 n, want, hd->bus, n, n, hd->bus,
				 strcmp(want, "vfio-platform") ? "" :
				 " (if that fails, dmesg says why: vfio-platform refuses a device without a reset handler unless vfio_platform.reset_required=0)");
		return -ENXIO;
	}
	if (!group[0] || sscanf(group, "%d", &hd->group) != 1) {
		snprintf(err, errlen, "vfio: %s: bound to %s but has no IOMMU group", n, hd->driver);
		return -ENODEV;
	}
	hd->noiommu = !pathf(path, sizeof(path), "%s/iommu_group/name", hd->path) &&
		      !read_attr(path, gname, sizeof(gname)) && !strcmp(gname, "vfio-noiommu");
	if (pathf(hd->group_dev, sizeof(hd->group_dev), "%s/dev/vfio/%s%d", root,
		  hd->noiommu ? "noiommu-" : "", hd->group))
		return -ENAMETOOLONG;
	if (pathf(path, sizeof(path), "%s/of_node", hd->path) || !realpath(path, hd->of_node))
		hd->of_node[0] = '\0';
	return 0;
}

/*
 * A PCI device given to --vfio-pci: it must exist, be bound to vfio-pci and
 * sit in a real IOMMU group (a no-IOMMU group could not translate the
 * device's DMA to guest RAM, so it is refused here).
 */
int vfio_host_lookup_pci(const char *root, const char *addr, struct vfio_host_dev *hd,
			 char *err, size_t errlen)
{
	char path[PATH_MAX], group[32], gname[64];
	const char *n;

	memset(hd, 0, sizeof(*hd));
	hd->group = -1;
	snprintf(hd->name, sizeof(hd->name), "%s", addr);
	n = hd->name;
	snprintf(hd->bus, sizeof(hd->bus), "pci");
	if (pathf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, addr) ||
	    !realpath(path, hd->path)) {
		snprintf(err, errlen, "vfio: %s: no such PCI device (not in /sys/bus/pci/devices; lspci -D lists them)",
			 n);
		return -ENODEV;
	}
	link_base(hd->path, "driver", hd->driver, sizeof(hd->driver));
	link_base(hd->path, "iommu_group", group, sizeof(group));
	if (strcmp(hd->driver, "vfio-pci")) {
		if (!group[0])
			snprintf(err, errlen, "vfio: %s: has no IOMMU group: the host has no IOMMU in front of it (or it is off: check dmesg for the SMMU/IOMMU driver); lvmm passes PCI devices through only behind an IOMMU",
				 n);
		else if (hd->driver[0])
			snprintf(err, errlen, "vfio: %s: bound to %s, not to vfio-pci; rebind it: echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/devices/%s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
				 n, hd->driver, n, n, n, n);
		else
			snprintf(err, errlen, "vfio: %s: not bound to any driver; bind it: echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe",
				 n, n, n);
		return group[0] ? -EBUSY : -ENODEV;
	}
	if (!group[0] || sscanf(group, "%d", &hd->group) != 1) {
		snprintf(err, errlen, "vfio: %s: bound to vfio-pci but has no IOMMU group", n);
		return -ENODEV;
	}
	if (!pathf(path, sizeof(path), "%s/iommu_group/name", hd->path) &&
	    !read_attr(path, gname, sizeof(gname)) && !strcmp(gname, "vfio-noiommu")) {
		snprintf(err, errlen, "vfio: %s: is in a no-IOMMU group: nothing would translate its DMA to guest RAM; lvmm passes PCI devices through only behind an IOMMU",
			 n);
		return -EPERM;
	}
	if (pathf(hd->group_dev, sizeof(hd->group_dev), "%s/dev/vfio/%d", root, hd->group))
		return -ENAMETOOLONG;
	return 0;
}

int vfio_group_blockers(const struct vfio_host_dev *hd, char *buf, size_t len)
{
	char dir[PATH_MAX], member[PATH_MAX], driver[64];
	struct dirent *de;
	size_t used = 0;
	int count = 0;
	DIR *d;

	buf[0] = '\0';
	if (pathf(dir, sizeof(dir), "%s/iommu_group/devices", hd->path))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, hd->name))
			continue;
		if (pathf(member, sizeof(member), "%s/%s", dir, de->d_name))
			continue;
		link_base(member, "driver", driver, sizeof(driver));
		if (driver_keeps_group_viable(driver))
			continue;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s (%s)", count ? ", " : "",
					 de->d_name, driver);
		count++;
	}
	closedir(d);
	return count;
}

/* compatible first, then by name: the guest's node reads like a .dts. */
static int prop_cmp(const void *a, const void *b)
{
	const struct vfio_dt_prop *pa = a, *pb = b;
	bool ca = !strcmp(pa->name, "compatible"), cb = !strcmp(pb->name, "compatible");

	if (ca != cb)
		return ca ? -1 : 1;
	return strcmp(pa->name, pb->name);
}

int vfio_dt_read_node(const char *of_node, struct vfio_guest_node *n, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t len;
	DIR *d;
	int ret = 0;

	basename_to(n->name, sizeof(n->name), of_node);
	n->name[strcspn(n->name, "@")] = '\0';
	d = opendir(of_node);
	if (!d) {
		ret = -errno;
		snprintf(err, errlen, "cannot read its device tree node %s: %s", of_node,
			 strerror(-ret));
		return ret;
	}
	while ((de = readdir(d))) {
		struct vfio_dt_prop *p;
		struct stat st;
		char *name;
		void *val;

		if (de->d_name[0] == '.' || !vfio_dt_prop_kept(de->d_name))
			continue;
		if (pathf(path, sizeof(path), "%s/%s", of_node, de->d_name) ||
		    stat(path, &st) || !S_ISREG(st.st_mode))
			continue;	/* a child node */
		ret = read_file(path, &val, &len);
		if (ret) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
			break;
		}
		p = realloc(n->props, (n->nr_props + 1) * sizeof(*p));
		if (p)
			n->props = p;
		if (!p || !(name = strdup(de->d_name))) {
			free(val);
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			break;
		}
		n->props[n->nr_props++] = (struct vfio_dt_prop){ name, val, len };
	}
	closedir(d);
	if (!ret && !vfio_dt_find(n, "compatible")) {
		snprintf(err, errlen, "its device tree node %s has no compatible property", of_node);
		ret = -EINVAL;
	}
	if (n->nr_props)
		qsort(n->props, n->nr_props, sizeof(*n->props), prop_cmp);
	return ret;
}

/*
 * Host properties that name other host nodes by phandle (clocks, resets,
 * pins, power domains, DMA, IOMMU, regulators, GPIOs, PHYs ...) mean nothing
 * in the guest; reg and interrupts are rewritten; name and phandle are the
 * host tree's bookkeeping. Everything else describes the device itself.
 */
bool vfio_dt_prop_kept(const char *name)
{
	static const char *const dropped[] = {
		"name", "phandle", "linux,phandle", "reg", "interrupts",
		"interrupts-extended", "interrupt-parent", "interrupt-map",
		"clocks", "clock-names", "assigned-clocks", "assigned-clock-rates",
		"assigned-clock-parents", "resets", "reset-names",
		"power-domains", "power-domain-names", "dmas", "dma-names",
		"iommus", "iommu-map", "iommu-map-mask", "msi-parent", "msi-map",
		"memory-region", "phys", "phy-names", "interconnects",
		"interconnect-names", "operating-points-v2", "nvmem-cells",
		"nvmem-cell-names", "mboxes", "mbox-names", "gpios", "gpio",
		"status",
	};
	static const char *const dropped_suffixes[] = { "-supply", "-gpios", "-gpio" };
	size_t len = strlen(name);

	for (unsigned int i = 0; i < ARRAY_SIZE(dropped); i++)
		if (!strcmp(name, dropped[i]))
			return false;
	if (!strncmp(name, "pinctrl-", 8))
		return false;
	for (unsigned int i = 0; i < ARRAY_SIZE(dropped_suffixes); i++) {
		size_t sl = strlen(dropped_suffixes[i]);

		if (len > sl && !strcmp(name + len - sl, dropped_suffixes[i]))
			return false;
	}
	return true;
}

const struct vfio_dt_prop *vfio_dt_find(const struct vfio_guest_node *n, const char *name)
{
	for (unsigned int i = 0; i < n->nr_props; i++)
		if (!strcmp(n->props[i].name, name))
			return &n->props[i];
	return NULL;
}

void vfio_guest_node_free(struct vfio_guest_node *n)
{
	for (unsigned int i = 0; i < n->nr_props; i++) {
		free(n->props[i].name);
		free(n->props[i].val);
	}
	free(n->props);
	n->props = NULL;
	n->nr_props = 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO passthrough logic that needs no VFIO: finding the host device in a
 * fake sysfs tree and the one-line diagnosis when it is not ready (wrong
 * driver, unbound, no-IOMMU mode off, group not viable), the host device
 * tree property filter, guest addresses for regions, the guest's nodes
 * parsed back with libfdt, and --vfio-platform parsing.
 */
#include "test.h"
#include "../../devices/device.h"
#include "../../devices/vfio/guest.h"
#include "../../devices/vfio/host.h"
#include "../../options.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a fake /sys ---------------------------------------------------------- */

struct tree {
	char root[128];
};

/* rel under the tree's root (in a buffer reused by the next call). */
static const char *at(struct tree *t, const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", t->root, rel);
	return buf;
}

static void mkdirs(struct tree *t, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", t->root, rel);
	for (char *s = p + strlen(t->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(struct tree *t, const char *rel, const void *data, size_t len)
{
	FILE *f = fopen(at(t, rel), "w");

	if (!CHECK(f))
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

static void link_to(struct tree *t, const char *rel, const char *target)
{
	const char *p = at(t, rel);

	unlink(p);
	CHECK_EQ_INT(symlink(target, p), 0);
}

static void tree_rm(struct tree *t)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	CHECK_EQ_INT(system(cmd), 0);
}

/* reg = <0 0x9010000 0 0x1000>, interrupts = <0 2 4> (SPI 2, level high) */
static const unsigned char pl031_reg[16] = {
	0, 0, 0, 0, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0,
};
static const unsigned char irq_cells[12] = { 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4 };
static const unsigned char phandle_8000[4] = { 0, 0, 0x80, 0 };
static const char primecell[] = "arm,pl031\0arm,primecell";

/*
 * QEMU virt's PL031 as an arm64 host shows it: on the amba bus, bound to
 * rtc-pl031, its node with a clock from the host's tree.
 */
static void tree_init(struct tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/lvmm-test-vfio-%d", (int)getpid());
	tree_rm(t);
	CHECK_EQ_INT(mkdir(t->root, 0755), 0);
	mkdirs(t, "sys/devices/platform/9010000.pl031");
	mkdirs(t, "sys/bus/amba/devices");
	mkdirs(t, "sys/bus/amba/drivers/rtc-pl031");
	mkdirs(t, "sys/bus/amba/drivers/vfio-amba");
	mkdirs(t, "sys/bus/platform/devices");
	mkdirs(t, "sys/bus/platform/drivers/vfio-platform");
	mkdirs(t, "sys/module/vfio/parameters");
	mkdirs(t, "sys/firmware/devicetree/base/pl031@9010000");
	put(t, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n", 2);
	link_to(t, "sys/bus/amba/devices/9010000.pl031", "../../../devices/platform/9010000.pl031");
	link_to(t, "sys/devices/platform/9010000.pl031/subsystem", "../../../bus/amba");
	link_to(t, "sys/devices/platform/9010000.pl031/driver", "../../../bus/amba/drivers/rtc-pl031");
	link_to(t, "sys/devices/platform/9010000.pl031/of_node",
		"../../../firmware/devicetree/base/pl031@9010000");
	put(t, "sys/firmware/devicetree/base/pl031@9010000/compatible", primecell, sizeof(primecell));
	put(t, "sys/firmware/devicetree/base/pl031@9010000/name", "pl031", 6);
	put(t, "sys/firmware/devicetree/base/pl031@9010000/reg", pl031_reg, sizeof(pl031_reg));
	put(t, "sys/firmware/devicetree/base/pl031@9010000/interrupts", irq_cells, sizeof(irq_cells));
	put(t, "sys/firmware/devicetree/base/pl031@9010000/clocks", phandle_8000, 4);
	put(t, "sys/firmware/devicetree/base/pl031@9010000/clock-names", "apb_pclk", 9);
}

/* What test-host.md's three echo commands do: vfio-amba, no-IOMMU group 0. */
static void tree_bind_vfio_amba(struct tree *t)
{
	mkdirs(t, "sys/kernel/iommu_groups/0/devices");
	put(t, "sys/kernel/iommu_groups/0/name", "vfio-noiommu\n", 13);
	link_to(t, "sys/kernel/iommu_groups/0/devices/9010000.pl031",
		"../../../../devices/platform/9010000.pl031");
	link_to(t, "sys/devices/platform/9010000.pl031/driver", "../../../bus/amba/drivers/vfio-amba");
	link_to(t, "sys/devices/platform/9010000.pl031/iommu_group", "../../../kernel/iommu_groups/0");
}

static int lookup(struct tree *t, const char *dev, struct vfio_host_dev *hd, char *err)
{
	err[0] = '\0';
	return vfio_host_lookup(t->root, dev, hd, err, 1024);
}

TEST(vfio_lookup_not_found)
{
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024];

	tree_init(&t);
	CHECK_EQ_INT(lookup(&t, "9999000.nothing", &hd, err), -ENODEV);
	CHECK_STR(err, "vfio: 9999000.nothing: no such device (looked in /sys/bus/platform/devices and /sys/bus/amba/devices)");
	CHECK_EQ_INT(lookup(&t, "/nonexistent/sys/devices/x", &hd, err), -ENODEV);
	CHECK_STR(err, "vfio: /nonexistent/sys/devices/x: no such device");
	tree_rm(&t);
}

TEST(vfio_lookup_wrong_driver_says_how_to_rebind)
{
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024];

	tree_init(&t);
	CHECK_EQ_INT(lookup(&t, "9010000.pl031", &hd, err), -EBUSY);
	CHECK_STR(err, "vfio: 9010000.pl031: bound to rtc-pl031, not to vfio-amba; rebind it: "
		  "echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override; "
		  "echo 9010000.pl031 > /sys/bus/amba/devices/9010000.pl031/driver/unbind; "
		  "echo 9010000.pl031 > /sys/bus/amba/drivers_probe");
	CHECK(!strchr(err, '\n'));
	tree_rm(&t);
}

TEST(vfio_lookup_unbound)
{
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024];

	tree_init(&t);
	unlink(at(&t, "sys/devices/platform/9010000.pl031/driver"));
	/* No IOMMU group: vfio-amba's probe fails unless no-IOMMU mode is on. */
	put(&t, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n", 2);
	CHECK_EQ_INT(lookup(&t, "9010000.pl031", &hd, err), -ENXIO);
	CHECK_CONTAINS(err, "vfio: 9010000.pl031: not bound to vfio-amba: it has no IOMMU group and no-IOMMU mode is not enabled");
	CHECK_CONTAINS(err, "echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
	CHECK_CONTAINS(err, "echo 9010000.pl031 > /sys/bus/amba/drivers_probe");

	put(&t, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n", 2);
	CHECK_EQ_INT(lookup(&t, "9010000.pl031", &hd, err), -ENXIO);
	CHECK_STR(err, "vfio: 9010000.pl031: not bound to any driver; bind it: "
		  "echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override; "
		  "echo 9010000.pl031 > /sys/bus/amba/drivers_probe");
	tree_rm(&t);
}

TEST(vfio_lookup_noiommu_group)
{
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024], want[PATH_MAX];

	tree_init(&t);
	tree_bind_vfio_amba(&t);
	if (!CHECK_EQ_INT(lookup(&t, "9010000.pl031", &hd, err), 0))
		FAIL("err: %s", err);
	CHECK_STR(hd.name, "9010000.pl031");
	CHECK_STR(hd.bus, "amba");
	CHECK_STR(hd.driver, "vfio-amba");
	CHECK_EQ_INT(hd.group, 0);
	CHECK(hd.noiommu);
	snprintf(want, sizeof(want), "%s/dev/vfio/noiommu-0", t.root);
	CHECK_STR(hd.group_dev, want);
	CHECK_CONTAINS(hd.of_node, "/sys/firmware/devicetree/base/pl031@9010000");

	/* The sysfs path works as well as the name. */
	if (!CHECK_EQ_INT(lookup(&t, at(&t, "sys/bus/amba/devices/9010000.pl031"), &hd, err), 0))
		FAIL("err: %s", err);
	CHECK_STR(hd.name, "9010000.pl031");
	tree_rm(&t);
}

/* A platform device in a real IOMMU group shared with others. */
TEST(vfio_lookup_iommu_group_and_blockers)
{
	static const char *const members[][2] = {
		{ "ff000000.dma", "vfio-platform" },	/* ours too: fine */
		{ "ff100000.usb", "dwc3" },		/* keeps the group from being viable */
		{ "ff200000.spi", NULL },		/* unbound: fine */
		{ "ff300000.i2c", "i2c-designware" },
	};
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024], want[PATH_MAX], rel[256], blockers[256];

	tree_init(&t);
	mkdirs(&t, "sys/kernel/iommu_groups/5/devices");
	mkdirs(&t, "sys/devices/platform/fe000000.eth");
	link_to(&t, "sys/bus/platform/devices/fe000000.eth", "../../../devices/platform/fe000000.eth");
	link_to(&t, "sys/devices/platform/fe000000.eth/subsystem", "../../../bus/platform");
	link_to(&t, "sys/devices/platform/fe000000.eth/driver",
		"../../../bus/platform/drivers/vfio-platform");
	link_to(&t, "sys/devices/platform/fe000000.eth/iommu_group", "../../../kernel/iommu_groups/5");
	link_to(&t, "sys/kernel/iommu_groups/5/devices/fe000000.eth",
		"../../../../devices/platform/fe000000.eth");
	for (unsigned int i = 0; i < ARRAY_SIZE(members); i++) {
		snprintf(rel, sizeof(rel), "sys/devices/platform/%s", members[i][0]);
		mkdirs(&t, rel);
		if (members[i][1]) {
			char target[128];

			snprintf(rel, sizeof(rel), "sys/devices/platform/%s/driver", members[i][0]);
			snprintf(target, sizeof(target), "../../../bus/platform/drivers/%s", members[i][1]);
			link_to(&t, rel, target);
		}
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/5/devices/%s", members[i][0]);
		snprintf(want, sizeof(want), "../../../../devices/platform/%s", members[i][0]);
		link_to(&t, rel, want);
	}
	if (!CHECK_EQ_INT(lookup(&t, "fe000000.eth", &hd, err), 0))
		FAIL("err: %s", err);
	CHECK_STR(hd.bus, "platform");
	CHECK_EQ_INT(hd.group, 5);
	CHECK(!hd.noiommu);
	snprintf(want, sizeof(want), "%s/dev/vfio/5", t.root);
	CHECK_STR(hd.group_dev, want);
	CHECK_STR(hd.of_node, "");

	CHECK_EQ_INT(vfio_group_blockers(&hd, blockers, sizeof(blockers)), 2);
	CHECK_CONTAINS(blockers, "ff100000.usb (dwc3)");
	CHECK_CONTAINS(blockers, "ff300000.i2c (i2c-designware)");
	CHECK(!strstr(blockers, "ff000000.dma"));
	CHECK(!strstr(blockers, "ff200000.spi"));
	CHECK(!strstr(blockers, "fe000000.eth"));

	/* Wrong driver on the platform bus: vfio-platform is the one to use. */
	link_to(&t, "sys/devices/platform/fe000000.eth/driver", "../../../bus/platform/drivers/stmmaceth");
	CHECK_EQ_INT(lookup(&t, "fe000000.eth", &hd, err), -EBUSY);
	CHECK_CONTAINS(err, "vfio: fe000000.eth: bound to stmmaceth, not to vfio-platform; rebind it: echo vfio-platform > /sys/bus/platform/devices/fe000000.eth/driver_override;");
	tree_rm(&t);
}

TEST(vfio_lookup_other_bus)
{
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024];

	tree_init(&t);
	mkdirs(&t, "sys/devices/pci0000:00/0000:00:01.0");
	mkdirs(&t, "sys/bus/pci");
	link_to(&t, "sys/devices/pci0000:00/0000:00:01.0/subsystem", "../../../bus/pci");
	CHECK_EQ_INT(lookup(&t, at(&t, "sys/devices/pci0000:00/0000:00:01.0"), &hd, err), -EINVAL);
	CHECK_STR(err, "vfio: 0000:00:01.0: is a PCI device: pass it with --vfio-pci 0000:00:01.0");
	tree_rm(&t);
}

/* --vfio-pci: bound to vfio-pci, in a real IOMMU group; each failure says the fix. */
TEST(vfio_lookup_pci)
{
	const char *dev = "sys/devices/pci0000:00/0000:00:01.0";
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024], want[PATH_MAX];

	tree_init(&t);
	CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "vfio: 0000:00:01.0: no such PCI device (not in /sys/bus/pci/devices; lspci -D lists them)");

	mkdirs(&t, dev);
	mkdirs(&t, "sys/bus/pci/devices");
	mkdirs(&t, "sys/bus/pci/drivers/nvme");
	mkdirs(&t, "sys/bus/pci/drivers/vfio-pci");
	link_to(&t, "sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");
	link_to(&t, "sys/devices/pci0000:00/0000:00:01.0/subsystem", "../../../bus/pci");
	/* No IOMMU in front of it: no group at all. */
	CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), -ENODEV);
	CHECK_CONTAINS(err, "vfio: 0000:00:01.0: has no IOMMU group: the host has no IOMMU in front of it");

	mkdirs(&t, "sys/kernel/iommu_groups/0/devices");
	link_to(&t, "sys/devices/pci0000:00/0000:00:01.0/iommu_group", "../../../kernel/iommu_groups/0");
	CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), -EBUSY);
	CHECK_STR(err, "vfio: 0000:00:01.0: not bound to any driver; bind it: echo vfio-pci > /sys/bus/pci/devices/0000:00:01.0/driver_override; echo 0000:00:01.0 > /sys/bus/pci/drivers_probe");

	link_to(&t, "sys/devices/pci0000:00/0000:00:01.0/driver", "../../../bus/pci/drivers/nvme");
	CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), -EBUSY);
	CHECK_STR(err, "vfio: 0000:00:01.0: bound to nvme, not to vfio-pci; rebind it: echo vfio-pci > /sys/bus/pci/devices/0000:00:01.0/driver_override; echo 0000:00:01.0 > /sys/bus/pci/devices/0000:00:01.0/driver/unbind; echo 0000:00:01.0 > /sys/bus/pci/drivers_probe");

	link_to(&t, "sys/devices/pci0000:00/0000:00:01.0/driver", "../../../bus/pci/drivers/vfio-pci");
	if (!CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), 0))
		FAIL("err: %s", err);
	CHECK_STR(hd.name, "0000:00:01.0");
	CHECK_STR(hd.bus, "pci");
	CHECK_STR(hd.driver, "vfio-pci");
	CHECK_EQ_INT(hd.group, 0);
	CHECK(!hd.noiommu);
	snprintf(want, sizeof(want), "%s/dev/vfio/0", t.root);
	CHECK_STR(hd.group_dev, want);

	/* vfio's no-IOMMU mode would take it, but its DMA would go untranslated. */
	put(&t, "sys/kernel/iommu_groups/0/name", "vfio-noiommu\n", 13);
	CHECK_EQ_INT(vfio_host_lookup_pci(t.root, "0000:00:01.0", &hd, err, sizeof(err)), -EPERM);
	CHECK_CONTAINS(err, "vfio: 0000:00:01.0: is in a no-IOMMU group");
	tree_rm(&t);
}

TEST(vfio_dt_property_filter)
{
	static const char *const kept[] = {
		"compatible", "gpio-controller", "#gpio-cells", "clock-frequency", "dma-coherent",
		"interrupt-names", "reg-names", "interrupt-controller", "#interrupt-cells",
		"arm,primecell-periphid", "max-frequency", "vendor,anything",
	};
	static const char *const dropped[] = {
		"name", "phandle", "linux,phandle", "reg", "interrupts", "interrupts-extended",
		"interrupt-parent", "clocks", "clock-names", "assigned-clocks", "resets",
		"reset-names", "pinctrl-0", "pinctrl-names", "power-domains", "dmas", "dma-names",
		"iommus", "vdd-supply", "reset-gpios", "wp-gpio", "gpios", "phys", "msi-parent",
		"memory-region", "status",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(kept); i++)
		if (!CHECK(vfio_dt_prop_kept(kept[i])))
			FAIL("%s should be kept", kept[i]);
	for (unsigned int i = 0; i < ARRAY_SIZE(dropped); i++)
		if (!CHECK(!vfio_dt_prop_kept(dropped[i])))
			FAIL("%s should be dropped", dropped[i]);
}

TEST(vfio_window)
{
	struct vfio_window w;
	uint64_t gpa;

	vfio_window_init(&w, 0x10000000, 0x30000000);
	CHECK_EQ_INT(vfio_window_alloc(&w, 0x1000, &gpa), 0);
	CHECK_EQ_U64(gpa, 0x10000000);
	/* At least 64 KiB apart, so 64 KiB-page guests map each on its own. */
	CHECK_EQ_INT(vfio_window_alloc(&w, 0x1000, &gpa), 0);
	CHECK_EQ_U64(gpa, 0x10010000);
	/* A 1 MiB region is aligned to 1 MiB, a 64 MiB one to 2 MiB. */
	CHECK_EQ_INT(vfio_window_alloc(&w, SZ_1M, &gpa), 0);
	CHECK_EQ_U64(gpa, 0x10100000);
	CHECK_EQ_INT(vfio_window_alloc(&w, 64 * SZ_1M, &gpa), 0);
	CHECK_EQ_U64(gpa, 0x10200000);
	/* What is left is 0x3fe00000 - 0x14200000; one byte more does not fit. */
	CHECK_EQ_INT(vfio_window_alloc(&w, 0x40000000 - 0x14200000 + 1, &gpa), -E2BIG);
	CHECK_EQ_INT(vfio_window_alloc(&w, SZ_1G, &gpa), -E2BIG);
	CHECK_EQ_INT(vfio_window_alloc(&w, 0x40000000 - 0x14200000, &gpa), 0);
	CHECK_EQ_U64(gpa, 0x14200000);
	CHECK_EQ_INT(vfio_window_alloc(&w, 0x1000, &gpa), -E2BIG);
	/* Sizes that would wrap the address space. */
	vfio_window_init(&w, 0x10000000, 0x30000000);
	CHECK_EQ_INT(vfio_window_alloc(&w, UINT64_MAX - 0xfff, &gpa), -E2BIG);
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		return NULL;
	return fdt_getprop(fdt, off, name, len);
}

static bool check_cells(const void *fdt, const char *path, const char *name,
			const uint32_t *want, int n, int line)
{
	int len;
	const fdt32_t *got = prop(fdt, path, name, &len);

	if (!got || len != n * 4) {
		test_fail(__FILE__, line, "%s:%s has length %d, want %d", path, name, got ? len : -1,
			  n * 4);
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (fdt32_to_cpu(got[i]) != want[i]) {
			test_fail(__FILE__, line, "%s:%s cell %d is 0x%x, want 0x%x", path, name, i,
				  fdt32_to_cpu(got[i]), want[i]);
			return false;
		}
	}
	return true;
}

#define CHECK_CELLS(fdt, path, name, ...)						\
	do {										\
		static const uint32_t want_[] = { __VA_ARGS__ };			\
		check_cells(fdt, path, name, want_, ARRAY_SIZE(want_), __LINE__);	\
	} while (0)

/* Build a tree with just the nodes under test in the root. */
static bool build(void *buf, size_t size, const struct vfio_guest_node *nodes, unsigned int nr)
{
	int ret;

	ret = fdt_create(buf, size);
	ret = ret ?: fdt_finish_reservemap(buf);
	ret = ret ?: fdt_begin_node(buf, "");
	ret = ret ?: fdt_property_u32(buf, "#address-cells", 2);
	ret = ret ?: fdt_property_u32(buf, "#size-cells", 2);
	for (unsigned int i = 0; !ret && i < nr; i++)
		ret = vfio_fdt_nodes(buf, &nodes[i]);
	ret = ret ?: fdt_end_node(buf);
	ret = ret ?: fdt_finish(buf);
	return CHECK_EQ_INT(ret, 0);
}

/* The PL031 and a PL061 with a power key, as lvmm gives them to a guest. */
TEST(vfio_fdt_amba_devices_and_gpio_keys)
{
	static const unsigned char pl061_reg[16] = {
		0, 0, 0, 0, 0x09, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0,
	};
	static const unsigned char two[4] = { 0, 0, 0, 2 };
	static const unsigned char host_phandle[4] = { 0, 0, 0x80, 5 };
	static const char pl061_compat[] = "arm,pl061\0arm,primecell";
	static const struct vfio_gpio_key keys[] = { { 3, 116 }, { 5, 28 } };
	struct vfio_guest_node nodes[2];
	struct tree t;
	char err[256];
	char buf[8192];
	const char *s;
	int len;

	tree_init(&t);
	mkdirs(&t, "sys/firmware/devicetree/base/pl061@9030000");
	mkdirs(&t, "sys/firmware/devicetree/base/pl061@9030000/child@0");
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/compatible", pl061_compat, sizeof(pl061_compat));
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/name", "pl061", 6);
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/reg", pl061_reg, sizeof(pl061_reg));
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/interrupts", irq_cells, sizeof(irq_cells));
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/clocks", phandle_8000, 4);
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/clock-names", "apb_pclk", 9);
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/gpio-controller", "", 0);
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/#gpio-cells", two, 4);
	put(&t, "sys/firmware/devicetree/base/pl061@9030000/phandle", host_phandle, 4);

	memset(nodes, 0, sizeof(nodes));
	if (!CHECK_EQ_INT(vfio_dt_read_node(at(&t, "sys/firmware/devicetree/base/pl031@9010000"),
					    &nodes[0], err, sizeof(err)), 0))
		FAIL("%s", err);
	if (!CHECK_EQ_INT(vfio_dt_read_node(at(&t, "sys/firmware/devicetree/base/pl061@9030000"),
					    &nodes[1], err, sizeof(err)), 0))
		FAIL("%s", err);
	CHECK_STR(nodes[0].name, "pl031");
	CHECK_EQ_INT(nodes[0].nr_props, 1);	/* compatible only */
	CHECK_STR(nodes[1].name, "pl061");
	CHECK_EQ_INT(nodes[1].nr_props, 3);	/* compatible, #gpio-cells, gpio-controller */
	if (nodes[1].nr_props)
		CHECK_STR(nodes[1].props[0].name, "compatible");

	/* What platform.c fills in from VFIO: regions, SPIs, phandles. */
	nodes[0].reg[0][0] = 0x10000000;
	nodes[0].reg[0][1] = 0x1000;
	nodes[0].nr_regs = 1;
	nodes[0].irqs[0] = (struct vfio_guest_irq){ 37, true };
	nodes[0].nr_irqs = 1;
	nodes[0].clk_phandle = 3;
	nodes[0].emit_clock = true;
	nodes[1].reg[0][0] = 0x10010000;
	nodes[1].reg[0][1] = 0x1000;
	nodes[1].nr_regs = 1;
	nodes[1].irqs[0] = (struct vfio_guest_irq){ 38, false };
	nodes[1].nr_irqs = 1;
	nodes[1].clk_phandle = 3;
	nodes[1].phandle = 4;
	nodes[1].keys = keys;
	nodes[1].nr_keys = ARRAY_SIZE(keys);
	nodes[1].index = 1;
	nodes[1].host_name = "9030000.pl061";
	if (!build(buf, sizeof(buf), nodes, 2))
		goto out;

	s = prop(buf, "/apb-pclk", "compatible", &len);
	CHECK_STR(s, "fixed-clock");
	CHECK_CELLS(buf, "/apb-pclk", "phandle", 3);
	CHECK_CELLS(buf, "/apb-pclk", "#clock-cells", 0);
	CHECK_CELLS(buf, "/apb-pclk", "clock-frequency", VFIO_APB_PCLK_HZ);

	s = prop(buf, "/pl031@10000000", "compatible", &len);
	CHECK(s && len == sizeof(primecell) && !memcmp(s, primecell, len));
	CHECK_CELLS(buf, "/pl031@10000000", "reg", 0, 0x10000000, 0, 0x1000);
	CHECK_CELLS(buf, "/pl031@10000000", "interrupts", 0, 5, FDT_IRQ_TYPE_LEVEL_HIGH);
	CHECK_CELLS(buf, "/pl031@10000000", "clocks", 3);
	CHECK_STR(prop(buf, "/pl031@10000000", "clock-names", &len), "apb_pclk");
	CHECK(!prop(buf, "/pl031@10000000", "name", &len));
	CHECK(!prop(buf, "/pl031@10000000", "phandle", &len));

	CHECK_CELLS(buf, "/pl061@10010000", "reg", 0, 0x10010000, 0, 0x1000);
	CHECK_CELLS(buf, "/pl061@10010000", "interrupts", 0, 6, FDT_IRQ_TYPE_EDGE_RISING);
	CHECK_CELLS(buf, "/pl061@10010000", "clocks", 3);
	CHECK_CELLS(buf, "/pl061@10010000", "phandle", 4);	/* ours, not the host's 0x8005 */
	CHECK_CELLS(buf, "/pl061@10010000", "#gpio-cells", 2);
	CHECK(prop(buf, "/pl061@10010000", "gpio-controller", &len) && len == 0);
	/* Host child nodes are not copied. */
	CHECK(fdt_path_offset(buf, "/pl061@10010000/child@0") < 0);
	/* One apb_pclk for all devices. */
	CHECK(fdt_path_offset(buf, "/apb-pclk") >= 0);

	CHECK_STR(prop(buf, "/gpio-keys-1", "compatible", &len), "gpio-keys");
	CHECK_CELLS(buf, "/gpio-keys-1/key-3", "linux,code", 116);
	CHECK_CELLS(buf, "/gpio-keys-1/key-3", "gpios", 4, 3, 0);
	CHECK_STR(prop(buf, "/gpio-keys-1/key-3", "label", &len), "9030000.pl061 line 3");
	CHECK_CELLS(buf, "/gpio-keys-1/key-5", "linux,code", 28);
	CHECK_CELLS(buf, "/gpio-keys-1/key-5", "gpios", 4, 5, 0);
out:
	vfio_guest_node_free(&nodes[0]);
	vfio_guest_node_free(&nodes[1]);
	tree_rm(&t);
}

TEST(vfio_dt_node_without_compatible)
{
	struct vfio_guest_node n;
	struct tree t;
	char err[256];

	tree_init(&t);
	unlink(at(&t, "sys/firmware/devicetree/base/pl031@9010000/compatible"));
	memset(&n, 0, sizeof(n));
	CHECK_EQ_INT(vfio_dt_read_node(at(&t, "sys/firmware/devicetree/base/pl031@9010000"), &n,
				       err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "has no compatible property");
	vfio_guest_node_free(&n);
	tree_rm(&t);
}

/*
 * The guest's node as the device is created: one apb_pclk for every AMBA
 * device (said by VFIO or by the host node's compatible), a phandle only
 * for gpio-keys, and the refusals that name the device.
 */
TEST(vfio_guest_node_build)
{
	struct vfio_config cfg = { .device = "9010000.pl031" };
	struct vfio_phandles ph = { .next = 3 };
	struct vfio_guest_node n[2];
	struct vfio_host_dev hd;
	struct tree t;
	char err[1024];

	tree_init(&t);
	tree_bind_vfio_amba(&t);
	memset(n, 0, sizeof(n));
	if (!CHECK_EQ_INT(lookup(&t, "9010000.pl031", &hd, err), 0))
		FAIL("err: %s", err);
	if (!CHECK_EQ_INT(vfio_guest_node_build(&n[0], &hd, true, &cfg, 0, &ph, err, sizeof(err)), 0))
		FAIL("err: %s", err);
	CHECK_STR(n[0].name, "pl031");
	CHECK_STR(n[0].host_name, "9010000.pl031");
	CHECK(n[0].emit_clock);
	CHECK_EQ_INT(n[0].clk_phandle, 3);
	CHECK_EQ_INT(n[0].phandle, 0);
	/* Not AMBA to VFIO, but an arm,primecell: the same clock, not a second one. */
	if (!CHECK_EQ_INT(vfio_guest_node_build(&n[1], &hd, false, &cfg, 1, &ph, err, sizeof(err)), 0))
		FAIL("err: %s", err);
	CHECK(!n[1].emit_clock);
	CHECK_EQ_INT(n[1].clk_phandle, 3);
	CHECK_EQ_INT(n[1].index, 1);
	CHECK_EQ_INT(ph.next, 3 + 1);
	vfio_guest_node_free(&n[0]);
	vfio_guest_node_free(&n[1]);

	cfg.keys[0] = (struct vfio_gpio_key){ 3, 116 };
	cfg.nr_keys = 1;
	CHECK_EQ_INT(vfio_guest_node_build(&n[0], &hd, true, &cfg, 0, &ph, err, sizeof(err)),
		     -EINVAL);
	CHECK_STR(err, "vfio: 9010000.pl031: gpio-key needs a GPIO controller, and its device tree node has no gpio-controller property");
	vfio_guest_node_free(&n[0]);

	hd.of_node[0] = '\0';
	CHECK_EQ_INT(vfio_guest_node_build(&n[0], &hd, true, &cfg, 0, &ph, err, sizeof(err)),
		     -ENOENT);
	CHECK_CONTAINS(err, "vfio: 9010000.pl031: has no device tree node (");
	vfio_guest_node_free(&n[0]);
	tree_rm(&t);
}

/* ---- --vfio-platform ------------------------------------------------------- */

static enum options_result parse(struct vm_config *cfg, char *errbuf, size_t errlen, ...)
{
	char *argv[32] = { (char *)"run" };
	enum options_result res;
	int argc = 1;
	va_list ap;
	FILE *err = fmemopen(errbuf, errlen, "w");
	FILE *out = fopen("/dev/null", "w");

	va_start(ap, errlen);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(errbuf, 0, errlen);
	res = options_parse_run(argc, argv, cfg, out, err);
	fclose(err);
	fclose(out);
	return res;
}

#define PARSE_VFIO(cfg, err, ...) parse(cfg, err, sizeof(err), __VA_ARGS__, (char *)NULL)

TEST(vfio_options)
{
	struct vm_config cfg;
	char err[512];

	CHECK_EQ_INT(PARSE_VFIO(&cfg, err, "--vfio-platform", "9030000.pl061,gpio-key=3:116",
				"--vfio-platform", "/sys/bus/amba/devices/9010000.pl031,no-mmap"),
		     OPTIONS_RUN);
	CHECK_STR(err, "");
	CHECK_EQ_INT(cfg.nr_vfio, 2);
	CHECK_STR(cfg.vfio[0].device, "9030000.pl061");
	CHECK(!cfg.vfio[0].no_mmap);
	CHECK_EQ_INT(cfg.vfio[0].nr_keys, 1);
	CHECK_EQ_INT(cfg.vfio[0].keys[0].line, 3);
	CHECK_EQ_INT(cfg.vfio[0].keys[0].code, 116);
	CHECK_STR(cfg.vfio[1].device, "/sys/bus/amba/devices/9010000.pl031");
	CHECK(cfg.vfio[1].no_mmap);
	CHECK_EQ_INT(cfg.vfio[1].nr_keys, 0);
	options_free(&cfg);

	CHECK_EQ_INT(PARSE_VFIO(&cfg, err, "--vfio-platform=9030000.pl061,gpio-key=3:116,gpio-key=4:114"),
		     OPTIONS_RUN);
	CHECK_EQ_INT(cfg.vfio[0].nr_keys, 2);
	CHECK_EQ_INT(cfg.vfio[0].keys[1].code, 114);
	options_free(&cfg);
}

TEST(vfio_options_errors)
{
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{ "", "--vfio-platform needs a device" },
		{ ",no-mmap", "--vfio-platform needs a device" },
		{ "x,gpio-key=3", "--vfio-platform x: unknown or bad option 'gpio-key=3'" },
		{ "x,gpio-key=3:0", "bad option 'gpio-key=3:0'" },
		{ "x,gpio-key=3:768", "bad option 'gpio-key=3:768'" },
		{ "x,gpio-key=a:116", "bad option 'gpio-key=a:116'" },
		{ "x,gpio-key=3:116x", "bad option 'gpio-key=3:116x'" },
		{ "x,gpio-key=4096:116", "bad option 'gpio-key=4096:116'" },
		{ "x,mmap", "unknown or bad option 'mmap'" },
		{ "x,gpio-key=3:116,gpio-key=3:114", "--vfio-platform x: GPIO line 3 has two keys" },
	};
	struct vm_config cfg;
	char err[512];

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!CHECK_EQ_INT(PARSE_VFIO(&cfg, err, "--vfio-platform", bad[i].arg), OPTIONS_ERROR) ||
		    !CHECK_CONTAINS(err, bad[i].msg))
			FAIL("for '%s'", bad[i].arg);
		options_free(&cfg);
	}
	CHECK_EQ_INT(PARSE_VFIO(&cfg, err, "--vfio-platform", "a", "--vfio-platform", "b",
				"--vfio-platform", "c", "--vfio-platform", "d", "--vfio-platform", "e",
				"--vfio-platform", "f", "--vfio-platform", "g", "--vfio-platform", "h",
				"--vfio-platform", "i"),
		     OPTIONS_ERROR);
	CHECK_CONTAINS(err, "at most 8 --vfio-platform devices");
	options_free(&cfg);
}

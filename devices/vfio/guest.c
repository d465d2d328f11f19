// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's side of a VFIO device, pure: addresses for its regions in
 * the guest's VFIO window, and its device tree node (the host's, with the
 * apb_pclk clock an AMBA PrimeCell needs and the gpio-keys asked for)
 * built and written into the FDT.
 */
#include "guest.h"
#include "../device.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

void vfio_window_init(struct vfio_window *w, uint64_t base, uint64_t size)
{
	w->base = w->next = base;
	w->end = base + size;
}

int vfio_window_alloc(struct vfio_window *w, uint64_t size, uint64_t *gpa)
{
	uint64_t align = SZ_64K, at;

	while (align < size && align < SZ_2M)
		align <<= 1;
	at = ALIGN_UP(w->next, align);
	if (at < w->next || at > w->end || size > w->end - at)
		return -E2BIG;
	*gpa = at;
	w->next = at + size;
	return 0;
}

static bool compatible_has(const struct vfio_dt_prop *p, const char *s)
{
	return p && fdt_stringlist_contains(p->val, p->len, s);
}

int vfio_guest_node_build(struct vfio_guest_node *node, const struct vfio_host_dev *hd,
			  bool amba, const struct vfio_config *cfg, unsigned int index,
			  struct vfio_phandles *ph, char *err, size_t errlen)
{
	const char *n = hd->name;
	char why[PATH_MAX + 128];
	int ret;

	if (!hd->of_node[0]) {
		snprintf(err, errlen, "vfio: %s: has no device tree node (%s/of_node): lvmm builds the guest's node from it",
			 n, hd->path);
		return -ENOENT;
	}
	ret = vfio_dt_read_node(hd->of_node, node, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "vfio: %s: %s", n, why);
		return ret;
	}
	node->index = index;
	node->host_name = hd->name;
	if (amba || compatible_has(vfio_dt_find(node, "compatible"), "arm,primecell")) {
		if (!ph->clk) {
			ph->clk = ph->next++;
			node->emit_clock = true;
		}
		node->clk_phandle = ph->clk;
	}
	if (cfg->nr_keys) {
		if (!vfio_dt_find(node, "gpio-controller")) {
			snprintf(err, errlen, "vfio: %s: gpio-key needs a GPIO controller, and its device tree node has no gpio-controller property",
				 n);
			return -EINVAL;
		}
		node->phandle = ph->next++;
		node->keys = cfg->keys;
		node->nr_keys = cfg->nr_keys;
	}
	return 0;
}

static int fdt_ret(int ret)
{
	if (!ret)
		return 0;
	return ret == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* The fixed clock AMBA PrimeCells need as apb_pclk (the AMBA bus reads their ID with it). */
static int fdt_apb_pclk(void *fdt, uint32_t phandle)
{
	int ret;

	ret = fdt_begin_node(fdt, "apb-pclk");
	ret = ret ?: fdt_property_string(fdt, "compatible", "fixed-clock");
	ret = ret ?: fdt_property_u32(fdt, "#clock-cells", 0);
	ret = ret ?: fdt_property_u32(fdt, "clock-frequency", VFIO_APB_PCLK_HZ);
	ret = ret ?: fdt_property_string(fdt, "clock-output-names", "clk24mhz");
	ret = ret ?: fdt_property_u32(fdt, "phandle", phandle);
	ret = ret ?: fdt_end_node(fdt);
	return fdt_ret(ret);
}

static int fdt_device(void *fdt, const struct vfio_guest_node *n)
{
	fdt64_t reg[VFIO_MAX_REGIONS * 2];
	fdt32_t irqs[VFIO_MAX_IRQS * 3];
	int ret;

	if (n->nr_regs)
		ret = device_fdt_begin_node(fdt, n->name, n->reg[0][0]);
	else
		ret = fdt_ret(fdt_begin_node(fdt, n->name));
	if (ret)
		return ret;
	for (unsigned int i = 0; !ret && i < n->nr_props; i++)
		ret = fdt_property(fdt, n->props[i].name, n->props[i].val, n->props[i].len);
	for (unsigned int i = 0; i < n->nr_regs; i++) {
		reg[2 * i] = cpu_to_fdt64(n->reg[i][0]);
		reg[2 * i + 1] = cpu_to_fdt64(n->reg[i][1]);
	}
	if (n->nr_regs)
		ret = ret ?: fdt_property(fdt, "reg", reg, n->nr_regs * 2 * sizeof(reg[0]));
	for (unsigned int i = 0; i < n->nr_irqs; i++) {
		/* GIC binding: <SPI number-32 flags>; the flags set the guest's trigger. */
		irqs[3 * i] = cpu_to_fdt32(0);
		irqs[3 * i + 1] = cpu_to_fdt32(n->irqs[i].intid - 32);
		irqs[3 * i + 2] = cpu_to_fdt32(n->irqs[i].level ? FDT_IRQ_TYPE_LEVEL_HIGH :
						 FDT_IRQ_TYPE_EDGE_RISING);
	}
	if (n->nr_irqs)
		ret = ret ?: fdt_property(fdt, "interrupts", irqs, n->nr_irqs * 3 * sizeof(irqs[0]));
	if (n->clk_phandle) {
		ret = ret ?: fdt_property_u32(fdt, "clocks", n->clk_phandle);
		ret = ret ?: fdt_property_string(fdt, "clock-names", "apb_pclk");
	}
	if (n->phandle)
		ret = ret ?: fdt_property_u32(fdt, "phandle", n->phandle);
	ret = ret ?: fdt_end_node(fdt);
	return fdt_ret(ret);
}

/* A gpio-keys node whose keys are lines of this (GPIO controller) device. */
static int fdt_gpio_keys(void *fdt, const struct vfio_guest_node *n)
{
	const struct vfio_dt_prop *cells_prop = vfio_dt_find(n, "#gpio-cells");
	unsigned int cells = 2;
	char name[32], label[96];
	int ret;

	if (cells_prop && cells_prop->len == 4)
		cells = fdt32_to_cpu(*(const fdt32_t *)cells_prop->val);
	if (cells < 1 || cells > 4)
		return -EINVAL;
	snprintf(name, sizeof(name), "gpio-keys-%u", n->index);
	ret = fdt_begin_node(fdt, name);
	ret = ret ?: fdt_property_string(fdt, "compatible", "gpio-keys");
	for (unsigned int i = 0; !ret && i < n->nr_keys; i++) {
		/* <&controller line 0...>: the flags cell 0 is active high. */
		fdt32_t gpios[5] = { cpu_to_fdt32(n->phandle), cpu_to_fdt32(n->keys[i].line) };

		snprintf(name, sizeof(name), "key-%u", n->keys[i].line);
		snprintf(label, sizeof(label), "%s line %u", n->host_name ? n->host_name : n->name,
			 n->keys[i].line);
		ret = fdt_begin_node(fdt, name);
		ret = ret ?: fdt_property_string(fdt, "label", label);
		ret = ret ?: fdt_property_u32(fdt, "linux,code", n->keys[i].code);
		ret = ret ?: fdt_property(fdt, "gpios", gpios, (1 + cells) * sizeof(gpios[0]));
		ret = ret ?: fdt_end_node(fdt);
	}
	ret = ret ?: fdt_end_node(fdt);
	return fdt_ret(ret);
}

int vfio_fdt_nodes(void *fdt, const struct vfio_guest_node *n)
{
	int ret = 0;

	if (n->emit_clock)
		ret = fdt_apb_pclk(fdt, n->clk_phandle);
	ret = ret ?: fdt_device(fdt, n);
	if (n->nr_keys)
		ret = ret ?: fdt_gpio_keys(fdt, n);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
#include "fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

static int fdt_prop_u64(void *fdt, const char *name, uint64_t v)
{
	fdt64_t c = cpu_to_fdt64(v);

	return fdt_property(fdt, name, &c, sizeof(c));
}

static int fdt_memory(void *fdt, const struct fdt_desc *d)
{
	fdt64_t reg[2] = { cpu_to_fdt64(d->ram_base), cpu_to_fdt64(d->ram_size) };
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)d->ram_base);
	ret = fdt_begin_node(fdt, name);
	ret = ret ?: fdt_property_string(fdt, "device_type", "memory");
	ret = ret ?: fdt_property(fdt, "reg", reg, sizeof(reg));
	ret = ret ?: fdt_end_node(fdt);
	return ret;
}

static int fdt_cpus(void *fdt, const struct fdt_desc *d)
{
	int ret;

	ret = fdt_begin_node(fdt, "cpus");
	ret = ret ?: fdt_property_u32(fdt, "#address-cells", 2);
	ret = ret ?: fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned int i = 0; !ret && i < d->nr_cpus; i++) {
		uint64_t hwid = d->mpidrs[i] & MPIDR_HWID_MASK;
		char name[32];

		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)hwid);
		ret = fdt_begin_node(fdt, name);
		ret = ret ?: fdt_property_string(fdt, "device_type", "cpu");
		ret = ret ?: fdt_property_string(fdt, "compatible", "arm,arm-v8");
		ret = ret ?: fdt_property_string(fdt, "enable-method", "psci");
		ret = ret ?: fdt_prop_u64(fdt, "reg", hwid);
		ret = ret ?: fdt_end_node(fdt);
	}
	ret = ret ?: fdt_end_node(fdt);
	return ret;
}

static int fdt_psci(void *fdt, const struct fdt_desc *d)
{
	static const char compat_1_0[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char compat_0_2[] = "arm,psci-0.2";
	int ret;

	ret = fdt_begin_node(fdt, "psci");
	if (d->psci_1_0)
		ret = ret ?: fdt_property(fdt, "compatible", compat_1_0, sizeof(compat_1_0));
	else
		ret = ret ?: fdt_property(fdt, "compatible", compat_0_2, sizeof(compat_0_2));
	ret = ret ?: fdt_property_string(fdt, "method", "hvc");
	ret = ret ?: fdt_end_node(fdt);
	return ret;
}

static int fdt_chosen(void *fdt, const struct fdt_desc *d)
{
	int ret;

	ret = fdt_begin_node(fdt, "chosen");
	if (d->bootargs)
		ret = ret ?: fdt_property_string(fdt, "bootargs", d->bootargs);
	if (d->initrd_size) {
		ret = ret ?: fdt_prop_u64(fdt, "linux,initrd-start", d->initrd_start);
		ret = ret ?: fdt_prop_u64(fdt, "linux,initrd-end",
					  d->initrd_start + d->initrd_size);
	}
	if (d->kaslr_seed)
		ret = ret ?: fdt_prop_u64(fdt, "kaslr-seed", d->kaslr_seed);
	if (d->stdout_path)
		ret = ret ?: fdt_property_string(fdt, "stdout-path", d->stdout_path);
	ret = ret ?: fdt_end_node(fdt);
	return ret;
}

static int to_errno(int fdt_ret)
{
	if (fdt_ret == -FDT_ERR_NOSPACE || fdt_ret == -ENOSPC)
		return -ENOSPC;
	return fdt_ret ? -EINVAL : 0;
}

int fdt_build(const struct fdt_desc *d, void *buf, size_t size)
{
	const struct device *dev;
	int ret;

	ret = fdt_create(buf, size);
	ret = ret ?: fdt_finish_reservemap(buf);
	ret = ret ?: fdt_begin_node(buf, "");
	ret = ret ?: fdt_property_string(buf, "compatible", "linux,dummy-virt");
	ret = ret ?: fdt_property_string(buf, "model", "lvmm");
	ret = ret ?: fdt_property_u32(buf, "#address-cells", 2);
	ret = ret ?: fdt_property_u32(buf, "#size-cells", 2);
	ret = ret ?: fdt_property_u32(buf, "interrupt-parent", GIC_PHANDLE);
	ret = ret ?: fdt_chosen(buf, d);
	ret = ret ?: fdt_memory(buf, d);
	ret = ret ?: fdt_cpus(buf, d);
	ret = ret ?: fdt_psci(buf, d);
	if (ret)
		return to_errno(ret);
	ret = timer_fdt_node(buf, &d->timer, d->gic.version, d->nr_cpus);
	ret = ret ?: gic_fdt_node(buf, &d->gic);
	if (ret)
		return to_errno(ret);
	if (d->devices) {
		device_for_each(d->devices, dev) {
			struct device *mdev = (struct device *)dev;

			if (!mdev->ops->fdt)
				continue;
			ret = mdev->ops->fdt(mdev, buf);
			if (ret)
				return to_errno(ret);
		}
	}
	ret = fdt_end_node(buf);
	ret = ret ?: fdt_finish(buf);
	return to_errno(ret);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's device tree: built with fdt_build() from a VM description,
 * parsed back with libfdt, and checked node by node against the bindings
 * the guest kernel reads. Expected values are written out as numbers where
 * they can be, rather than recomputed the way the code under test does.
 */
#include "test.h"
#include "../../fdt/fdt.h"
#include "../../board/memmap.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FDT_BUF_SIZE 0x10000
#define RAM_SIZE (256 * SZ_1M)
#define BOOTARGS "console=ttyS0 earlycon panic=-1"
#define STDOUT_PATH "/serial@9000000"
#define INITRD_START 0x48000000ULL
#define INITRD_SIZE 0x123456ULL

/* MPIDR_EL1 as KVM sets it for vCPU i: Aff0 = i % 16, Aff1 = i / 16, RES1 bit 31. */
static uint64_t kvm_mpidr(unsigned int i)
{
	return 0x80000000ULL | ((uint64_t)(i / 16) << 8) | (i % 16);
}

static uint64_t mpidrs[32];

struct vm {
	struct fdt_desc desc;
	struct device_list devices;
	struct device *uart;
	void *fdt;
};

/* A VM description like lvmm's own, with one UART. */
static bool vm_init(struct vm *vm, enum irqchip_model model, unsigned int nr_cpus,
		    bool initrd)
{
	struct uart_console_opts opts = { .in_fd = -1, .out_fd = -1 };
	struct fdt_desc *d = &vm->desc;

	memset(vm, 0, sizeof(*vm));
	for (unsigned int i = 0; i < ARRAY_SIZE(mpidrs); i++)
		mpidrs[i] = kvm_mpidr(i);
	device_list_init(&vm->devices);
	vm->uart = uart_create("uart0", UART0_BASE, 33, &opts);
	if (!CHECK(vm->uart))
		return false;
	device_list_add(&vm->devices, vm->uart);

	d->ram_base = RAM_BASE;
	d->ram_size = RAM_SIZE;
	d->nr_cpus = nr_cpus;
	d->mpidrs = mpidrs;
	gic_layout_for(model, nr_cpus, &d->gic);
	/* timer_default_ppis() lives with the KVM code: the same numbers. */
	d->timer.virt = TIMER_VIRT_INTID;
	d->timer.phys = TIMER_PHYS_INTID;
	d->psci_1_0 = true;
	d->bootargs = BOOTARGS;
	if (initrd) {
		d->initrd_start = INITRD_START;
		d->initrd_size = INITRD_SIZE;
	}
	d->stdout_path = STDOUT_PATH;
	d->devices = &vm->devices;
	vm->fdt = calloc(1, FDT_BUF_SIZE);
	return CHECK(vm->fdt);
}

static void vm_free(struct vm *vm)
{
	if (vm->uart)
		vm->uart->ops->free(vm->uart);
	free(vm->fdt);
}

/* Build and sanity-check the blob. */
static bool vm_build(struct vm *vm)
{
	int ret;

	if (!CHECK_EQ_INT(fdt_build(&vm->desc, vm->fdt, FDT_BUF_SIZE), 0))
		return false;
	if (!CHECK_EQ_INT(fdt_check_header(vm->fdt), 0))
		return false;
	ret = fdt_check_full(vm->fdt, FDT_BUF_SIZE);
	if (!CHECK_EQ_INT(ret, 0))
		FAIL("fdt_check_full: %s", fdt_strerror(ret));
	return ret == 0;
}

/* Property lookups that report what is missing, where the test asked. */

static const void *prop_at(const void *fdt, const char *path, const char *name, int *len,
			   const char *file, int line)
{
	const void *p;
	int off;

	off = fdt_path_offset(fdt, path);
	if (off < 0) {
		test_fail(file, line, "no node %s: %s", path, fdt_strerror(off));
		return NULL;
	}
	p = fdt_getprop(fdt, off, name, len);
	if (!p)
		test_fail(file, line, "%s has no property \"%s\"", path, name);
	return p;
}

static void hex(char *buf, size_t size, const void *data, int len)
{
	const uint8_t *p = data;
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < len && used + 4 < size; i++)
		used += snprintf(buf + used, size - used, "%s%02x",
				 i && !(i % 4) ? " " : "", p[i]);
}

static bool check_prop_bytes(const void *fdt, const char *path, const char *name,
			     const void *want, int want_len, const char *file, int line)
{
	char got_hex[256], want_hex[256];
	const void *p;
	int len;

	p = prop_at(fdt, path, name, &len, file, line);
	if (!p)
		return false;
	if (len == want_len && !memcmp(p, want, len))
		return true;
	hex(got_hex, sizeof(got_hex), p, len);
	hex(want_hex, sizeof(want_hex), want, want_len);
	test_fail(file, line, "%s:%s is <%s> (%d bytes), want <%s> (%d bytes)", path, name,
		  got_hex, len, want_hex, want_len);
	return false;
}

static bool check_cells(const void *fdt, const char *path, const char *name,
			const uint32_t *cells, int n, const char *file, int line)
{
	fdt32_t be[32];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return check_prop_bytes(fdt, path, name, be, n * 4, file, line);
}

static bool check_u64s(const void *fdt, const char *path, const char *name,
		       const uint64_t *vals, int n, const char *file, int line)
{
	fdt64_t be[16];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt64(vals[i]);
	return check_prop_bytes(fdt, path, name, be, n * 8, file, line);
}

static bool check_prop_str(const void *fdt, const char *path, const char *name,
			   const char *want, const char *file, int line)
{
	const char *p;
	int len;

	p = prop_at(fdt, path, name, &len, file, line);
	if (!p)
		return false;
	if (len == (int)strlen(want) + 1 && !memcmp(p, want, len))
		return true;
	test_fail(file, line, "%s:%s is \"%.*s\" (%d bytes), want \"%s\"", path, name,
		  len, p, len, want);
	return false;
}

static bool check_no_prop(const void *fdt, const char *path, const char *name,
			  const char *file, int line)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0) {
		test_fail(file, line, "no node %s: %s", path, fdt_strerror(off));
		return false;
	}
	if (fdt_getprop(fdt, off, name, NULL)) {
		test_fail(file, line, "%s has a property \"%s\" it should not have", path, name);
		return false;
	}
	return true;
}

static bool check_compatible(const void *fdt, const char *path, const char *compat,
			     const char *file, int line)
{
	int off = fdt_path_offset(fdt, path), ret;

	if (off < 0) {
		test_fail(file, line, "no node %s: %s", path, fdt_strerror(off));
		return false;
	}
	ret = fdt_node_check_compatible(fdt, off, compat);
	if (ret)
		test_fail(file, line, "%s is not compatible with \"%s\" (%d)", path, compat, ret);
	return ret == 0;
}

/* The names of a node's children, space separated, in tree order. */
static const char *children(const void *fdt, const char *path)
{
	static char buf[512];
	size_t used = 0;
	int off, node;

	buf[0] = '\0';
	off = fdt_path_offset(fdt, path);
	if (off < 0)
		return "(no such node)";
	fdt_for_each_subnode(node, fdt, off) {
		used += snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "",
				 fdt_get_name(fdt, node, NULL));
		if (used >= sizeof(buf))
			break;
	}
	return buf;
}

#define CELLS(...) (const uint32_t[]){ __VA_ARGS__ }, \
	(int)(sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))
#define U64S(...) (const uint64_t[]){ __VA_ARGS__ }, \
	(int)(sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

#define CHECK_CELLS(fdt, path, name, ...) \
	check_cells(fdt, path, name, CELLS(__VA_ARGS__), __FILE__, __LINE__)
#define CHECK_U64S(fdt, path, name, ...) \
	check_u64s(fdt, path, name, U64S(__VA_ARGS__), __FILE__, __LINE__)
#define CHECK_PROP_STR(fdt, path, name, want) \
	check_prop_str(fdt, path, name, want, __FILE__, __LINE__)
#define CHECK_PROP_BYTES(fdt, path, name, want, len) \
	check_prop_bytes(fdt, path, name, want, len, __FILE__, __LINE__)
#define CHECK_EMPTY_PROP(fdt, path, name) \
	check_prop_bytes(fdt, path, name, "", 0, __FILE__, __LINE__)
#define CHECK_NO_PROP(fdt, path, name) check_no_prop(fdt, path, name, __FILE__, __LINE__)
#define CHECK_COMPATIBLE(fdt, path, compat) \
	check_compatible(fdt, path, compat, __FILE__, __LINE__)

static void check_root(const void *fdt)
{
	int gic;

	CHECK_PROP_STR(fdt, "/", "compatible", "linux,dummy-virt");
	CHECK_CELLS(fdt, "/", "#address-cells", 2);
	CHECK_CELLS(fdt, "/", "#size-cells", 2);
	CHECK_CELLS(fdt, "/", "interrupt-parent", GIC_PHANDLE);
	/* The phandle everything's interrupts go to is the GIC's. */
	gic = fdt_node_offset_by_phandle(fdt, GIC_PHANDLE);
	CHECK_EQ_INT(gic, fdt_path_offset(fdt, "/intc@8000000"));
	CHECK(gic >= 0);
	CHECK_STR(children(fdt, "/"),
		  "chosen memory@40000000 cpus psci timer intc@8000000 serial@9000000");
}

static void check_chosen(const void *fdt, bool initrd)
{
	CHECK_PROP_STR(fdt, "/chosen", "bootargs", BOOTARGS);
	if (initrd) {
		CHECK_U64S(fdt, "/chosen", "linux,initrd-start", 0x48000000);
		CHECK_U64S(fdt, "/chosen", "linux,initrd-end", 0x48123456);
	} else {
		CHECK_NO_PROP(fdt, "/chosen", "linux,initrd-start");
		CHECK_NO_PROP(fdt, "/chosen", "linux,initrd-end");
	}
	CHECK_PROP_STR(fdt, "/chosen", "stdout-path", STDOUT_PATH);
	/* It names a node that exists. */
	CHECK(fdt_path_offset(fdt, STDOUT_PATH) >= 0);
}

static void check_memory(const void *fdt)
{
	CHECK_PROP_STR(fdt, "/memory@40000000", "device_type", "memory");
	CHECK_U64S(fdt, "/memory@40000000", "reg", 0x40000000, 0x10000000);
}

static void check_cpus(const void *fdt, unsigned int nr_cpus)
{
	char want[256] = "";
	size_t used = 0;

	CHECK_CELLS(fdt, "/cpus", "#address-cells", 2);
	CHECK_CELLS(fdt, "/cpus", "#size-cells", 0);
	for (unsigned int i = 0; i < nr_cpus; i++) {
		uint64_t hwid = mpidrs[i] & 0xff00ffffffULL;
		char path[64];

		used += snprintf(want + used, sizeof(want) - used, "%scpu@%llx",
				 i ? " " : "", (unsigned long long)hwid);
		snprintf(path, sizeof(path), "/cpus/cpu@%llx", (unsigned long long)hwid);
		CHECK_PROP_STR(fdt, path, "device_type", "cpu");
		CHECK_COMPATIBLE(fdt, path, "arm,arm-v8");
		CHECK_PROP_STR(fdt, path, "enable-method", "psci");
		CHECK_U64S(fdt, path, "reg", hwid);
	}
	/* One node per vCPU, in vCPU order, and nothing else. */
	CHECK_STR(children(fdt, "/cpus"), want);
}

static void check_psci(const void *fdt, bool psci_1_0)
{
	static const char list_1_0[] = "arm,psci-1.0\0arm,psci-0.2";

	if (psci_1_0) {
		CHECK_PROP_BYTES(fdt, "/psci", "compatible", list_1_0, sizeof(list_1_0));
		CHECK_COMPATIBLE(fdt, "/psci", "arm,psci-1.0");
	} else {
		CHECK_PROP_STR(fdt, "/psci", "compatible", "arm,psci-0.2");
	}
	CHECK_COMPATIBLE(fdt, "/psci", "arm,psci-0.2");
	CHECK_PROP_STR(fdt, "/psci", "method", "hvc");
}

static void check_timer(const void *fdt, int gic_version, unsigned int nr_cpus)
{
	/* GICv2 PPIs carry the mask of the CPUs they go to, in bits 8..15. */
	static const uint32_t v2_flags[] = { 0, 0x104, 0x304, 0x704, 0xf04, 0x1f04,
					     0x3f04, 0x7f04, 0xff04 };
	uint32_t f = gic_version == 2 ? v2_flags[nr_cpus] : 4;

	CHECK_PROP_STR(fdt, "/timer", "compatible", "arm,armv8-timer");
	/* Secure phys, non-secure phys, virt, hyp: PPI = INTID - 16. */
	CHECK_CELLS(fdt, "/timer", "interrupts",
		    1, 13, f, 1, 14, f, 1, 11, f, 1, 10, f);
	CHECK_EMPTY_PROP(fdt, "/timer", "always-on");
}

static void check_gic_common(const void *fdt, const char *path)
{
	CHECK_CELLS(fdt, path, "#interrupt-cells", 3);
	CHECK_EMPTY_PROP(fdt, path, "interrupt-controller");
	CHECK_CELLS(fdt, path, "#address-cells", 2);
	CHECK_CELLS(fdt, path, "#size-cells", 2);
	CHECK_EMPTY_PROP(fdt, path, "ranges");
	CHECK_CELLS(fdt, path, "phandle", GIC_PHANDLE);
}

static void check_gicv3(const void *fdt, unsigned int nr_cpus, bool its)
{
	const char *its_path = "/intc@8000000/msi-controller@8080000";

	CHECK_PROP_STR(fdt, "/intc@8000000", "compatible", "arm,gic-v3");
	CHECK_U64S(fdt, "/intc@8000000", "reg",
		   0x08000000, 0x10000, 0x080a0000, nr_cpus * 0x20000ULL);
	CHECK_CELLS(fdt, "/intc@8000000", "#redistributor-regions", 1);
	check_gic_common(fdt, "/intc@8000000");
	if (!its) {
		CHECK_STR(children(fdt, "/intc@8000000"), "");
		return;
	}
	CHECK_STR(children(fdt, "/intc@8000000"), "msi-controller@8080000");
	CHECK_PROP_STR(fdt, its_path, "compatible", "arm,gic-v3-its");
	CHECK_EMPTY_PROP(fdt, its_path, "msi-controller");
	CHECK_CELLS(fdt, its_path, "#msi-cells", 1);
	CHECK_U64S(fdt, its_path, "reg", 0x08080000, 0x20000);
	CHECK_CELLS(fdt, its_path, "phandle", GIC_ITS_PHANDLE);
}

static void check_gicv2(const void *fdt)
{
	CHECK_PROP_STR(fdt, "/intc@8000000", "compatible", "arm,cortex-a15-gic");
	CHECK_U64S(fdt, "/intc@8000000", "reg", 0x08000000, 0x1000, 0x08010000, 0x2000);
	CHECK_NO_PROP(fdt, "/intc@8000000", "#redistributor-regions");
	check_gic_common(fdt, "/intc@8000000");
	CHECK_STR(children(fdt, "/intc@8000000"), "");
}

static void check_serial(const void *fdt)
{
	CHECK_PROP_STR(fdt, "/serial@9000000", "compatible", "ns16550a");
	CHECK_U64S(fdt, "/serial@9000000", "reg", 0x09000000, 0x1000);
	/* SPI 1 (INTID 33), level high. */
	CHECK_CELLS(fdt, "/serial@9000000", "interrupts", 0, 1, 4);
	CHECK_CELLS(fdt, "/serial@9000000", "clock-frequency", 1843200);
}

static void check_tree(const void *fdt, enum irqchip_model model, unsigned int nr_cpus,
		       bool initrd)
{
	check_root(fdt);
	check_chosen(fdt, initrd);
	check_memory(fdt);
	check_cpus(fdt, nr_cpus);
	check_psci(fdt, true);
	check_timer(fdt, model == IRQCHIP_GICV2 ? 2 : 3, nr_cpus);
	if (model == IRQCHIP_GICV2)
		check_gicv2(fdt);
	else
		check_gicv3(fdt, nr_cpus, model == IRQCHIP_GICV3_ITS);
	check_serial(fdt);
}

static void build_and_check(enum irqchip_model model)
{
	static const unsigned int cpu_counts[] = { 1, 2, 4 };

	for (unsigned int i = 0; i < ARRAY_SIZE(cpu_counts); i++) {
		for (int initrd = 0; initrd <= 1; initrd++) {
			unsigned int before = test_failure_count();
			struct vm vm;

			if (vm_init(&vm, model, cpu_counts[i], initrd) && vm_build(&vm))
				check_tree(vm.fdt, model, cpu_counts[i], initrd);
			if (test_failure_count() != before)
				FAIL("for %s, %u vCPUs, %s initrd", irqchip_model_name(model),
				     cpu_counts[i], initrd ? "with" : "without");
			vm_free(&vm);
		}
	}
}

TEST(fdt_gicv3)
{
	build_and_check(IRQCHIP_GICV3);
}

TEST(fdt_gicv3_its)
{
	build_and_check(IRQCHIP_GICV3_ITS);
}

TEST(fdt_gicv2)
{
	build_and_check(IRQCHIP_GICV2);
}

TEST(fdt_gicv2_cpu_masks)
{
	/* Up to GICv2's 8 CPUs, the timer's PPI mask has one bit per CPU. */
	for (unsigned int n = 1; n <= GICV2_MAX_CPUS; n++) {
		struct vm vm;

		if (vm_init(&vm, IRQCHIP_GICV2, n, false) && vm_build(&vm)) {
			unsigned int before = test_failure_count();

			check_timer(vm.fdt, 2, n);
			check_cpus(vm.fdt, n);
			if (test_failure_count() != before)
				FAIL("for %u vCPUs", n);
		}
		vm_free(&vm);
	}
}

TEST(fdt_psci_0_2)
{
	struct vm vm;

	if (vm_init(&vm, IRQCHIP_GICV3, 1, false)) {
		vm.desc.psci_1_0 = false;
		if (vm_build(&vm)) {
			check_psci(vm.fdt, false);
			/* Only 0.2: a 1.0 driver must not bind. */
			CHECK(fdt_node_check_compatible(vm.fdt, fdt_path_offset(vm.fdt, "/psci"),
							"arm,psci-1.0") != 0);
		}
	}
	vm_free(&vm);
}

TEST(fdt_cpu_reg_is_mpidr_hwid)
{
	static const uint64_t odd[] = {
		0x80000000,		/* vCPU 0 */
		0x80000100,		/* Aff1 = 1 (vCPU 16) */
		0x81000003,		/* MT bit 24 and RES1 bit 31 are not hwid */
		0x2a80010203ULL,	/* Aff3 = 0x2a */
		0xffffffffffULL,
	};
	static const char *const names[] = {
		"cpu@0", "cpu@100", "cpu@3", "cpu@2a00010203", "cpu@ff00ffffff",
	};
	static const uint64_t regs[] = {
		0, 0x100, 0x3, 0x2a00010203ULL, 0xff00ffffffULL,
	};
	struct vm vm;

	if (!vm_init(&vm, IRQCHIP_GICV3, ARRAY_SIZE(odd), false))
		goto out;
	memcpy(mpidrs, odd, sizeof(odd));
	if (!vm_build(&vm))
		goto out;
	CHECK_STR(children(vm.fdt, "/cpus"),
		  "cpu@0 cpu@100 cpu@3 cpu@2a00010203 cpu@ff00ffffff");
	for (unsigned int i = 0; i < ARRAY_SIZE(odd); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/cpus/%s", names[i]);
		CHECK_U64S(vm.fdt, path, "reg", regs[i]);
	}
out:
	vm_free(&vm);
}

TEST(fdt_many_cpus)
{
	struct vm vm;

	/* Past 16 vCPUs, KVM moves to Aff1: cpu@100 and on. */
	if (vm_init(&vm, IRQCHIP_GICV3, 20, false) && vm_build(&vm)) {
		check_cpus(vm.fdt, 20);
		CHECK(fdt_path_offset(vm.fdt, "/cpus/cpu@103") >= 0);
		CHECK_U64S(vm.fdt, "/intc@8000000", "reg",
			   0x08000000, 0x10000, 0x080a0000, 20 * 0x20000);
	}
	vm_free(&vm);
}

TEST(fdt_optional_chosen)
{
	struct vm vm;

	/* No command line and no console: /chosen is there, and empty. */
	if (vm_init(&vm, IRQCHIP_GICV3, 1, false)) {
		vm.desc.bootargs = NULL;
		vm.desc.stdout_path = NULL;
		if (vm_build(&vm)) {
			int off = fdt_path_offset(vm.fdt, "/chosen");

			CHECK(off >= 0);
			CHECK_EQ_INT(fdt_first_property_offset(vm.fdt, off), -FDT_ERR_NOTFOUND);
		}
	}
	vm_free(&vm);
}

/* --kaslr-seed (kvmtool's): a 64-bit /chosen/kaslr-seed; none by default. */
TEST(fdt_kaslr_seed)
{
	struct vm vm;

	if (vm_init(&vm, IRQCHIP_GICV3, 1, false)) {
		if (vm_build(&vm))
			CHECK_NO_PROP(vm.fdt, "/chosen", "kaslr-seed");
	}
	vm_free(&vm);
	if (vm_init(&vm, IRQCHIP_GICV2, 1, true)) {
		vm.desc.kaslr_seed = 0x0123456789abcdefULL;
		if (vm_build(&vm))
			CHECK_U64S(vm.fdt, "/chosen", "kaslr-seed", 0x0123456789abcdefULL);
	}
	vm_free(&vm);
}

TEST(fdt_no_devices)
{
	struct vm vm;

	if (vm_init(&vm, IRQCHIP_GICV3, 1, false)) {
		vm.desc.devices = NULL;
		if (vm_build(&vm))
			CHECK_STR(children(vm.fdt, "/"),
				  "chosen memory@40000000 cpus psci timer intc@8000000");
	}
	vm_free(&vm);
}

/*
 * Every buffer size short of the blob gives -ENOSPC (never a crash, never
 * -EINVAL, never a truncated tree), and the exact size is enough.
 */
TEST(fdt_buffer_too_small)
{
	static const enum irqchip_model models[] = {
		IRQCHIP_GICV2, IRQCHIP_GICV3, IRQCHIP_GICV3_ITS,
	};

	for (unsigned int m = 0; m < ARRAY_SIZE(models); m++) {
		struct vm vm;
		uint32_t need;
		void *buf;

		if (!vm_init(&vm, models[m], 4, true) || !vm_build(&vm)) {
			vm_free(&vm);
			continue;
		}
		need = fdt_totalsize(vm.fdt);
		CHECK(need > 0 && need < FDT_BUF_SIZE);
		buf = malloc(need);
		for (uint32_t size = 0; buf && size < need; size++) {
			int ret = fdt_build(&vm.desc, buf, size);

			if (!CHECK_EQ_INT(ret, -ENOSPC)) {
				FAIL("for %s with a %u-byte buffer (%u needed)",
				     irqchip_model_name(models[m]), size, need);
				break;
			}
		}
		if (buf) {
			CHECK_EQ_INT(fdt_build(&vm.desc, buf, need), 0);
			CHECK_EQ_INT(fdt_check_full(buf, need), 0);
			CHECK(!memcmp(buf, vm.fdt, need));
		}
		free(buf);
		vm_free(&vm);
	}
}

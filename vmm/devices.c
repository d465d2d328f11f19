// SPDX-License-Identifier: GPL-2.0
/*
 * Device wiring: the devices the configuration asks for, each at the
 * address and SPI the board hands out, with one device_env through which
 * they reach guest RAM, ioeventfds, irqfds and memory slots.
 */
#include "devices.h"
#include "../devices/device.h"
#include "../devices/net/user.h"
#include "../devices/vfio/vfio.h"
#include "../devices/virtio/virtio.h"
#include "../irq/irq.h"
#include "../machine.h"
#include "../options.h"
#include "../devices/pci/pci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(LVMM_MAX_DISK_QUEUES <= VIRTIO_BLK_MAX_QUEUES, "a disk's queues fit the device");

static void device_set_irq_line(struct device *dev, int level)
{
	irqchip_set_spi(dev->irq_ctx, dev->irq, level);
}

static void console_quit(void *ctx)
{
	vm_request_exit(ctx, VM_EXIT_QUIT);
}

static int env_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct vmm *v = ctx;

	return vm_ioeventfd(&v->vm, gpa, len, datamatch, fd, assign);
}

static int env_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	struct vmm *v = ctx;

	if (assign)
		return irqchip_add_irqfd(v->irqchip, intid, fd, resample_fd);
	return irqchip_remove_irqfd(v->irqchip, fd);
}

static int env_map_mmio(void *ctx, uint64_t gpa, uint64_t size, void *host)
{
	struct vmm *v = ctx;

	if (!host)
		return vm_unmap_memory(&v->vm, gpa);
	return vm_map_memory(&v->vm, gpa, size, host);
}

static int env_msi_irqfd_add(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
			     uint32_t *gsi)
{
	struct vmm *v = ctx;

	return irqchip_add_msi_irqfd(v->irqchip, addr, data, devid, fd, gsi);
}

static int env_msi_irqfd_remove(void *ctx, uint32_t gsi, int fd)
{
	struct vmm *v = ctx;

	return irqchip_remove_msi_irqfd(v->irqchip, gsi, fd);
}

static unsigned int env_alloc_spi(void *ctx)
{
	struct vmm *v = ctx;

	return board_alloc_spi(&v->board);
}

static int alloc_spi(struct vmm *v, const char *name, unsigned int *spi, char *err,
		     size_t errlen)
{
	*spi = board_alloc_spi(&v->board);
	if (!*spi) {
		snprintf(err, errlen, "%s: no SPI left on the interrupt controller", name);
		return -ENOSPC;
	}
	return 0;
}

/* The UART, always there; the console only with --console serial. */
static int add_uart(struct vmm *v, char *err, size_t errlen)
{
	bool serial = v->cfg->console == CONSOLE_SERIAL;
	struct uart_console_opts opts = {
		.in_fd = serial ? STDIN_FILENO : -1,
		.out_fd = serial ? STDOUT_FILENO : -1,
		.escape = isatty(STDIN_FILENO),
		.marker = v->cfg->stats ? v->cfg->stats_marker : NULL,
		.on_quit = console_quit,
		.quit_ctx = &v->vm,
	};
	struct device *dev;
	unsigned int spi;
	int ret;

	ret = alloc_spi(v, "uart0", &spi, err, errlen);
	if (ret)
		return ret;
	if (fcntl(STDIN_FILENO, F_GETFD) < 0)
		opts.in_fd = -1;	/* started without stdin */
	dev = uart_create("uart0", v->board.uart_base, spi, &opts);
	if (!dev) {
		snprintf(err, errlen, "uart0: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	dev->set_irq = device_set_irq_line;
	dev->irq_ctx = v->irqchip;
	device_list_add(&v->devices, dev);
	v->console = dev;
	return 0;
}

/*
 * A virtio device's place: a virtio-mmio device's 0x200 window and SPI; a
 * virtio-pci function gets its slot, BARs and INTx SPI when it plugs in.
 */
static int add_tap_net(const char *name, const struct virtio_transport *t,
		       const struct net_config *nc, const struct device_env *env,
		       struct device **dev, char *err, size_t errlen)
{
	struct virtio_net_opts opts = { .tapif = nc->tapif };

	memcpy(opts.mac, nc->mac, 6);
	opts.vhost = nc->vhost;
	return virtio_net_create(name, t, &opts, env, dev, err, errlen);
}

static void user_net_free(void *un)
{
	usernet_free(un);
}

static void user_net_stats(void *un, char *buf, unsigned int len)
{
	usernet_stats(un, buf, len);
}

static const struct virtio_net_backend_ops user_net_ops = {
	.free = user_net_free,
	.stats = user_net_stats,
};

/* -n mode=user: virtio-net on a frame socket whose far end is libslirp. */
static int add_user_net(const char *name, const struct virtio_transport *t,
			const struct net_config *nc, const struct device_env *env,
			struct device **dev, char *err, size_t errlen)
{
	struct usernet *un;
	int fd, ret;

	ret = usernet_create(nc, &fd, &un, err, errlen);
	if (ret)
		return ret;
	ret = virtio_net_create_on_fd(name, t, fd, nc->mac, env, dev, err, errlen);
	if (ret) {
		usernet_free(un);
		return ret;
	}
	virtio_net_set_backend(*dev, un, &user_net_ops);
	/* slirp's connections are host sockets: they cannot be saved. */
	(*dev)->no_snapshot = "a user-mode network (-n mode=user) cannot be checkpointed (its connections are this process's host sockets)";
	return 0;
}

static int virtio_slot(struct vmm *v, const char *name, struct virtio_transport *t, char *err,
		       size_t errlen)
{
	int ret;

	if (t->kind == VIRTIO_TRANSPORT_PCI)
		return 0;
	ret = board_window_alloc(&v->board.virtio, VIRTIO_MMIO_SIZE, &t->base, err, errlen);
	return ret ?: alloc_spi(v, name, &t->intid, err, errlen);
}

/*
 * The PCI host, when a function needs it (virtio-pci, VFIO-PCI): an ECAM
 * host on the MMIO bus (config space and the 32-bit BAR window); MSI-X to
 * the ITS when there is one, else INTx.
 */
static int add_pci_host(struct vmm *v, struct device_env *env, struct pci_host **out,
			char *err, size_t errlen)
{
	bool its = v->irqchip->model == IRQCHIP_GICV3_ITS;
	int ret;

	ret = pci_host_create(its, env_alloc_spi, v, out);
	if (ret) {
		snprintf(err, errlen, "creating the PCI host: %s", strerror(-ret));
		return ret;
	}
	device_list_add(&v->devices, &(*out)->ecam);
	device_list_add(&v->devices, &(*out)->mem32);
	device_list_add(&v->devices, &(*out)->mem64);
	if (its) {
		env->msi_irqfd_add = env_msi_irqfd_add;
		env->msi_irqfd_remove = env_msi_irqfd_remove;
	}
	return 0;
}

/*
 * The virtio devices: each in its own virtio-mmio window with an SPI, or
 * with --virtio-transport pci a function on the PCI host.
 */
static int add_virtio_devices(struct vmm *v, struct device_env *env, struct pci_host *pci,
			      char *err, size_t errlen)
{
	const struct vm_config *cfg = v->cfg;
	struct virtio_transport t = { .kind = VIRTIO_TRANSPORT_MMIO };
	struct device *dev;
	char name[32];
	int ret = 0;

	if (cfg->virtio_transport == VIRTIO_OPT_PCI) {
		t.kind = VIRTIO_TRANSPORT_PCI;
		t.host = pci;
	}

	if (cfg->console == CONSOLE_VIRTIO) {
		struct virtio_console_opts opts = {
			.in_fd = fcntl(STDIN_FILENO, F_GETFD) < 0 ? -1 : STDIN_FILENO,
			.out_fd = STDOUT_FILENO,
			.escape = isatty(STDIN_FILENO),
			.on_quit = console_quit,
			.quit_ctx = &v->vm,
		};

		ret = virtio_slot(v, "virtio-console0", &t, err, errlen);
		ret = ret ?: virtio_console_create("virtio-console0", &t, &opts, env, &dev, err,
						   errlen);
		if (ret)
			return ret;
		device_list_add(&v->devices, dev);
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct virtio_blk_opts opts = {
			.path = cfg->disks[i].path,
			.readonly = cfg->disks[i].readonly,
			.serial = cfg->disks[i].serial,
			.queues = disk_queues(cfg, i),
		};

		snprintf(name, sizeof(name), "virtio-blk%u", i);
		ret = virtio_slot(v, name, &t, err, errlen);
		ret = ret ?: virtio_blk_create(name, &t, &opts, env, &dev, err, errlen);
		if (ret)
			return ret;
		device_list_add(&v->devices, dev);
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		snprintf(name, sizeof(name), "virtio-net%u", i);
		ret = virtio_slot(v, name, &t, err, errlen);
		ret = ret ?: cfg->nets[i].user ?
			add_user_net(name, &t, &cfg->nets[i], env, &dev, err, errlen) :
			add_tap_net(name, &t, &cfg->nets[i], env, &dev, err, errlen);
		if (ret)
			return ret;
		device_list_add(&v->devices, dev);
	}
	if (cfg->rng) {
		ret = virtio_slot(v, "virtio-rng0", &t, err, errlen);
		ret = ret ?: virtio_rng_create("virtio-rng0", &t, env, &dev, err, errlen);
		if (ret)
			return ret;
		device_list_add(&v->devices, dev);
	}
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		struct virtio_9p_opts opts = {
			.dir = cfg->shares[i].dir,
			.tag = cfg->shares[i].tag,
			.readonly = cfg->shares[i].readonly,
		};

		snprintf(name, sizeof(name), "virtio-9p%u", i);
		ret = virtio_slot(v, name, &t, err, errlen);
		ret = ret ?: virtio_9p_create(name, &t, &opts, env, &dev, err, errlen);
		if (ret)
			return ret;
		device_list_add(&v->devices, dev);
	}
	return 0;
}

/* VFIO platform/AMBA devices: regions in the board's VFIO window, an SPI per IRQ. */
static int add_vfio_devices(struct vmm *v, const struct device_env *env)
{
	struct vfio_env venv = {
		.dev = *env,
		.alloc_spi = env_alloc_spi,
		.window_base = v->board.vfio.base,
		.window_size = v->board.vfio.size,
		.first_phandle = VFIO_FIRST_PHANDLE,
		.root = "",
	};

	/* vfio_devices_create prints what is wrong itself. */
	return vfio_devices_create(v->cfg->vfio, v->cfg->nr_vfio, &venv, &v->devices);
}

/* VFIO-PCI devices: functions on the PCI host, MSI-X to the ITS or INTx. */
static int add_vfio_pci_devices(struct vmm *v, const struct device_env *env,
				struct pci_host *pci)
{
	struct vfio_env venv = { .dev = *env, .alloc_spi = env_alloc_spi, .root = "" };

	return vfio_pci_devices_create(v->cfg->vfio_pci, v->cfg->nr_vfio_pci, &venv, pci,
				       &v->devices);
}

/* Does any device of the configuration sit on the PCI host? */
static bool needs_pci_host(const struct vm_config *cfg)
{
	bool virtio = cfg->console == CONSOLE_VIRTIO || cfg->nr_disks || cfg->nr_nets || cfg->rng ||
		      cfg->nr_shares;

	return (cfg->virtio_transport == VIRTIO_OPT_PCI && virtio) || cfg->nr_vfio_pci;
}

int vmm_devices_create(struct vmm *v, char *err, size_t errlen)
{
	struct device_env env = {
		.mem = v->vm.ram,
		.ioeventfd = env_ioeventfd,
		.irqfd = env_irqfd,
		.map_mmio = env_map_mmio,
		.ctx = v,
	};
	struct pci_host *pci = NULL;
	struct device *dev;
	int ret;

	ret = add_uart(v, err, errlen);
	if (!ret && needs_pci_host(v->cfg))
		ret = add_pci_host(v, &env, &pci, err, errlen);
	ret = ret ?: add_virtio_devices(v, &env, pci, err, errlen);
	ret = ret ?: add_vfio_devices(v, &env);
	ret = ret ?: add_vfio_pci_devices(v, &env, pci);
	if (ret)
		return ret;

	device_for_each(&v->devices, dev) {
		if (!dev->mmio_size)
			continue;	/* e.g. VFIO: its regions are mapped or trapped apart */
		ret = mmio_bus_add(&v->vm.bus, dev);
		if (ret) {
			snprintf(err, errlen, "%s: cannot claim MMIO 0x%llx: %s", dev->name,
				 (unsigned long long)dev->mmio_base, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int vmm_devices_start(struct vmm *v, char *err, size_t errlen)
{
	struct device *dev;
	int ret;

	device_for_each(&v->devices, dev) {
		if (!dev->ops->start)
			continue;
		ret = dev->ops->start(dev);
		if (ret) {
			snprintf(err, errlen, "%s: %s", dev->name, strerror(-ret));
			return ret;
		}
	}
	v->devices_started = true;
	return 0;
}

/* Reverse the device list in place: teardown walks bring-up backwards. */
static void devices_reverse(struct device_list *list)
{
	struct device *prev = NULL, *dev = list->head, *next;

	list->tail = list->head ? &list->head->next : &list->head;
	while (dev) {
		next = dev->next;
		dev->next = prev;
		prev = dev;
		dev = next;
	}
	list->head = prev;
}

void vmm_devices_stop(struct vmm *v)
{
	struct device *dev;

	devices_reverse(&v->devices);
	if (v->devices_started)
		device_for_each(&v->devices, dev)
			if (dev->ops->stop)
				dev->ops->stop(dev);
}

void vmm_devices_free(struct vmm *v)
{
	struct device *dev, *next;

	for (dev = v->devices.head; dev; dev = next) {
		next = dev->next;
		dev->ops->free(dev);
	}
	v->devices.head = NULL;
}

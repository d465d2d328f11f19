/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device model: one ops table per device kind, one struct device per
 * instance. A device sees MMIO as offsets within its own window and raises
 * its interrupt through set_irq, which the VM wires to the vGIC; it knows
 * nothing of KVM, so device logic can be unit-tested on the build machine.
 */
#ifndef LVMM_DEVICE_H
#define LVMM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "../kvm/guest_mem.h"

struct device;
struct state_writer;
struct state_section;


/*
 * What the VM offers devices that offload to KVM, without the devices
 * knowing KVM: guest memory, ioeventfds (KVM signals fd when the guest
 * writes datamatch to gpa) and irqfds (KVM raises the SPI when fd is
 * signalled; resample_fd >= 0 for level, see irqchip_add_irqfd).
 */
struct device_env {
	struct guest_mem mem;
	int (*ioeventfd)(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign);
	int (*irqfd)(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign);
	/*
	 * Map host memory (e.g. a VFIO region mmap) into the guest at gpa with
	 * its own KVM memory slot; host == NULL removes the mapping at gpa.
	 */
	int (*map_mmio)(void *ctx, uint64_t gpa, uint64_t size, void *host);
	void *ctx;
	/*
	 * MSI through the ITS (NULL without one): route (addr, data, devid)
	 * as a GSI of type MSI and make fd an irqfd on it; remove undoes it.
	 */
	int (*msi_irqfd_add)(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
			     uint32_t *gsi);
	int (*msi_irqfd_remove)(void *ctx, uint32_t gsi, int fd);
};

struct device_ops {
	const char *kind;	/* "uart", ... */
	/* MMIO at offset within the device's window; len is 1, 2, 4 or 8. */
	void (*mmio_read)(struct device *dev, uint64_t offset, void *data, unsigned int len);
	void (*mmio_write)(struct device *dev, uint64_t offset, const void *data,
			   unsigned int len);
	/* Add the device's node under the FDT's root. Returns 0 or -errno. */
	int (*fdt)(struct device *dev, void *fdt);
	/* Start background work (threads) once the VM is about to run. */
	int (*start)(struct device *dev);
	/* Stop background work; the device must not call set_irq afterwards. */
	void (*stop)(struct device *dev);
	/* Undo everything create did (ioeventfds, irqfds, fds, memory). */
	void (*free)(struct device *dev);
	/*
	 * The device has no state (its save writes an empty section): a
	 * snapshot from before it existed restores without its section.
	 */
	bool stateless;
	/* One line of counters for --stats (may be NULL). */
	void (*stats)(struct device *dev, char *buf, unsigned int len);
	/*
	 * Snapshots. quiesce stops background work that touches guest memory
	 * or device state (requests in flight complete first); unquiesce
	 * starts it again. save writes a section named after the device; a
	 * device without save cannot be checkpointed. restore runs on a
	 * freshly created device, after the vGIC is restored.
	 */
	void (*quiesce)(struct device *dev);
	int (*unquiesce)(struct device *dev);
	int (*save)(struct device *dev, struct state_writer *w);
	int (*restore)(struct device *dev, const struct state_section *s, char *err,
		       unsigned int errlen);
	/*
	 * Dirty tracking of guest RAM (kvm/dirty.h) turned on or off: a device
	 * whose writes to guest RAM bypass lvmm (vhost) has the kernel log
	 * them into the same bitmap while it is on.
	 */
	void (*tracking_changed)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	char name[32];		/* instance name, e.g. "uart0" */
	char desc[96];		/* for messages: e.g. the host device passed through */
	/* Why a snapshot cannot hold it, when its own state lives outside (NULL: it can). */
	const char *no_snapshot;
	uint64_t mmio_base;
	uint64_t mmio_size;
	unsigned int irq;	/* GIC INTID of its SPI (32 and up), 0 if none */
	/* Drive the interrupt line; installed by whoever owns the irqchip. */
	void (*set_irq)(struct device *dev, int level);
	void *irq_ctx;
	struct device *next;
};

/* Devices of one VM, in the order they were added (FDT order). */
struct device_list {
	struct device *head;
	struct device **tail;
};

void device_list_init(struct device_list *list);
void device_list_add(struct device_list *list, struct device *dev);

#define device_for_each(list, dev) for (dev = (list)->head; dev; dev = dev->next)

/* FDT interrupt flags (include/dt-bindings/interrupt-controller/irq.h). */
#define FDT_IRQ_TYPE_EDGE_RISING 1
#define FDT_IRQ_TYPE_LEVEL_HIGH 4

/* Helpers for device FDT nodes: "interrupts" for an SPI, and "reg". */
int device_fdt_begin_node(void *fdt, const char *node, uint64_t base);
int device_fdt_reg(void *fdt, uint64_t base, uint64_t size);
int device_fdt_spi(void *fdt, unsigned int intid, unsigned int flags);

/*
 * 16550 UART console. out_fd receives the transmitted bytes; input is
 * pushed with uart_push_input (the console thread does it from stdin).
 */
struct uart_console_opts {
	int in_fd;		/* -1: no input */
	int out_fd;
	bool escape;		/* Ctrl-A x quits (stdin is a terminal) */
	const char *marker;	/* time the first appearance of this text */
	void (*on_quit)(void *ctx);
	void *quit_ctx;
};

struct device *uart_create(const char *name, uint64_t base, unsigned int irq,
			   const struct uart_console_opts *opts);
/* Queue input bytes for the guest; returns how many were taken (0: full). */
unsigned int uart_push_input(struct device *dev, const uint8_t *buf, unsigned int len);
/* Monotonic ns when the marker was first seen, 0 if never. */
uint64_t uart_marker_seen_ns(struct device *dev);

#define UART_MMIO_SIZE 0x1000
#define UART_CLOCK_HZ 1843200

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio 1.x: split virtqueues, the device core (core.c), two transports
 * (mmio.c: "version 2" registers; pci.c: virtio-pci modern capabilities)
 * and the devices on them (blk, console, rng, net). A transport owns the
 * registers, the queues' notify ioeventfds and the interrupt; each device
 * kind runs its own worker thread (or one per queue) that waits on those
 * eventfds.
 *
 * queue.c parses what the guest wrote into its rings and never trusts it:
 * every index and address is checked, and a malformed ring marks the device
 * broken (DEVICE_NEEDS_RESET) rather than crashing or hanging lvmm.
 */
#ifndef LVMM_VIRTIO_H
#define LVMM_VIRTIO_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../device.h"

/* Device IDs (virtio spec 5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_9P		9

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_VERSION_1	32

/* InterruptStatus bits. */
#define VIRTIO_ISR_QUEUE	1
#define VIRTIO_ISR_CONFIG	2

/* Split ring layout (virtio spec 2.7). Little-endian, as are our guests. */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

#define VIRTQ_MAX_SIZE 256

/*
 * A queue has two faces. The registers (num, *_gpa) are what the driver
 * writes while the queue is disabled; the live ring (size, desc, avail,
 * used) is what virtq_enable checked and only it is ever indexed. gen
 * counts the live rings given up (disable, reset, broken device): an
 * element carries the gen it was popped under, and virtq_push drops an
 * element from an older one instead of writing it into whatever ring the
 * queue has now.
 */
struct virtq {
	uint16_t num_max;	/* what the device offers */
	uint16_t num;		/* QueueNum as the driver wrote it */
	bool ready;		/* the driver enabled it and it passed checks */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t size;		/* the live ring's size, checked at enable */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	const struct guest_mem *mem;	/* where the rings and buffers live */
	uint64_t gen;
	uint16_t last_avail;	/* next avail entry to take */
	uint16_t used_idx;	/* our copy of used->idx */
	int notify_fd;		/* ioeventfd on QueueNotify for this queue */
	/* The host kernel serves the ring (vhost): the worker leaves notify_fd to it. */
	bool kicks_elsewhere;
};

/*
 * One popped descriptor chain: device-readable buffers first (out), then
 * device-writable ones (in), as host iovecs into guest RAM.
 */
struct virtq_elem {
	uint16_t head;
	uint64_t gen;		/* the queue's gen when it was popped */
	unsigned int n_out, n_in;
	uint32_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Check the rings the driver set up; 0 or -EINVAL (then the device is broken). */
int virtq_enable(struct virtq *q, const struct guest_mem *mem);
/* Give up the live ring: not ready, and elements popped from it go stale. */
void virtq_disable(struct virtq *q);
void virtq_reset(struct virtq *q);
/*
 * Take the next available chain. Returns 1 with *elem filled, 0 when the
 * ring is empty, -EINVAL for a malformed ring or chain.
 */
int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_elem *elem);
/* Whether e was popped from the queue's live ring (not one since given up). */
bool virtq_elem_live(const struct virtq *q, const struct virtq_elem *e);
/*
 * Return a chain to the driver with `len` bytes written into its buffers.
 * False, with nothing written, for an element that is not live any more.
 */
bool virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len);
/* Whether the driver has made buffers available that we have not taken. */
bool virtq_has_avail(struct virtq *q);
/* Whether the driver wants an interrupt for used buffers now. */
bool virtq_needs_interrupt(struct virtq *q);

/* Copy helpers over an element's iovecs. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset, const void *buf,
		    size_t len);

struct virtio_dev;

/* What one device kind adds to the transport. */
struct virtio_ops {
	const char *kind;		/* "virtio-blk" */
	uint32_t device_id;
	unsigned int nr_queues;		/* the kind's own count; a device may be made with more */
	uint16_t queue_max;
	/*
	 * One worker thread per queue instead of one for the device: the
	 * queues are served in parallel (virtio-blk's multiqueue).
	 */
	bool worker_per_queue;
	/* Config space read/write at offset within it (after 0x100). */
	void (*config_read)(struct virtio_dev *vdev, uint64_t off, void *data, unsigned int len);
	void (*config_write)(struct virtio_dev *vdev, uint64_t off, const void *data,
			     unsigned int len);
	/*
	 * The core runs one worker thread per device, or one per queue
	 * (worker_per_queue; worker w serves queue w). A worker waits on its
	 * queues' notify fds and on the device's own fds, which poll_fds
	 * fills in before each wait (VIRTIO_MAX_EXTRA_FDS at most, fd -1 for
	 * one not wanted now; called without the lock), then calls process
	 * with vdev->lock held and those fds' revents.
	 */
	unsigned int (*poll_fds)(struct virtio_dev *vdev, unsigned int worker, struct pollfd *extra);
	void (*process)(struct virtio_dev *vdev, unsigned int worker, const struct pollfd *extra);
	/* After the worker stopped: leave no request in flight. */
	void (*stopped)(struct virtio_dev *vdev);
	/*
	 * The driver reset the device (status 0) or it broke: finish or drop
	 * in-flight work so the queues can be forgotten. Called with vdev->lock
	 * held, from the vCPU thread.
	 */
	void (*reset)(struct virtio_dev *vdev);
	/*
	 * The driver changed the status or a queue's readiness, the device
	 * broke, the device started or stopped (running), or dirty
	 * tracking of guest RAM turned on or off: a device that hands its live
	 * rings to the host kernel (virtio-net's vhost=1) gives them or takes
	 * them back here. Lock held.
	 */
	void (*rings_changed)(struct virtio_dev *vdev);
	void (*free)(struct virtio_dev *vdev);
	void (*stats)(struct virtio_dev *vdev, char *buf, unsigned int len);
	/* Device-specific snapshot fields, keys from VIRTIO_KEY_DEVICE up. */
	void (*save)(struct virtio_dev *vdev, struct state_writer *w);
	int (*restore)(struct virtio_dev *vdev, const struct state_section *s, char *err,
		       unsigned int errlen);
};

#define VIRTIO_KEY_DEVICE 0x1000

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_MAX_EXTRA_FDS 3
#define VIRTIO_MMIO_SIZE 0x200

/* What a transport does for the core (mmio.c, pci.c). */
struct virtio_transport_ops {
	/*
	 * Send the interrupt for queue q's used buffers (q >= 0) or for a
	 * configuration change (q < 0); the ISR bit is already set. Called
	 * with vdev->lock held.
	 */
	void (*signal)(struct virtio_dev *vdev, int q);
	/* transport_fd became readable (worker thread, lock not held). */
	void (*transport_event)(struct virtio_dev *vdev);
	/*
	 * The eventfd that raises queue q's interrupt in KVM with nothing
	 * more from lvmm (virtio-pci: the queue's MSI-X vector's irqfd), or
	 * -1 where lvmm must raise it itself (an ISR bit, INTx, no vector).
	 * NULL: always -1. Lock held.
	 */
	int (*queue_irq_fd)(struct virtio_dev *vdev, unsigned int q);
};

struct virtio_dev {
	struct device dev;
	const struct virtio_ops *ops;
	const struct virtio_transport_ops *tops;
	struct device_env env;
	void *priv;
	void *tpriv;		/* the transport's own state */

	/*
	 * Protects the transport state and the queues: taken by MMIO accesses
	 * (vCPU threads) and by the worker while it touches the rings.
	 */
	pthread_mutex_t lock;
	unsigned int nr_queues;	/* fixed at creation: ops->nr_queues or more */
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status;
	atomic_uint isr;
	bool broken;
	unsigned int breaks;	/* times broken, for the log */
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	bool notify_wired[VIRTIO_MAX_QUEUES];	/* its ioeventfd is registered */
	int irq_fd;		/* virtio-mmio: irqfd, a write raises the device's SPI */
	int transport_fd;	/* polled by the worker for the transport; -1: none */
	atomic_ulong irqs_sent;

	int stop_efd;		/* readable: the workers must return */
	struct virtio_worker {
		struct virtio_dev *vdev;
		unsigned int idx;
		pthread_t thread;
	} workers[VIRTIO_MAX_QUEUES];
	unsigned int nr_workers;	/* running; 0: stopped */
	bool running;		/* between start and stop (lock held to change) */
};

/* How many worker threads the device runs: one, or one per queue. */
static inline unsigned int virtio_nr_workers(const struct virtio_dev *vdev)
{
	return vdev->ops->worker_per_queue ? vdev->nr_queues : 1;
}

static inline struct virtio_dev *virtio_of(struct device *dev)
{
	return (struct virtio_dev *)dev;
}

/* Where a device sits: a virtio-mmio window and SPI, or a function on a PCI host. */
enum virtio_transport_kind { VIRTIO_TRANSPORT_MMIO, VIRTIO_TRANSPORT_PCI };
struct pci_host;
struct virtio_transport {
	enum virtio_transport_kind kind;
	uint64_t base;		/* mmio: the register window */
	unsigned int intid;	/* mmio: the SPI */
	struct pci_host *host;	/* pci: the host bridge the function plugs into */
	unsigned int nr_queues;	/* 0: the device kind's own (virtio_ops.nr_queues) */
};

/*
 * Create the transport for a device kind: queue notify ioeventfds and the
 * interrupt are wired through env. Returns 0 or -errno.
 */
int virtio_transport_create(const char *name, const struct virtio_transport *t,
			    const struct virtio_ops *ops, uint64_t features,
			    const struct device_env *env, void *priv, struct virtio_dev **out);
int virtio_mmio_create(const char *name, uint64_t base, unsigned int intid,
		       const struct virtio_ops *ops, unsigned int nr_queues, uint64_t features,
		       const struct device_env *env, void *priv, struct virtio_dev **out);
int virtio_pci_create(const char *name, struct pci_host *host, const struct virtio_ops *ops,
		      unsigned int nr_queues, uint64_t features, const struct device_env *env, void *priv,
		      struct virtio_dev **out);

extern const struct virtio_ops virtio_transport_only_ops;

/* The core (core.c), for the transports. */
int virtio_core_init(struct virtio_dev *vdev, const char *name, const struct virtio_ops *ops,
		     unsigned int nr_queues, uint64_t features, const struct device_env *env, void *priv);
void virtio_core_release(struct virtio_dev *vdev);
int virtio_core_start(struct device *dev);
void virtio_core_stop(struct device *dev);
void virtio_core_stats(struct device *dev, char *buf, unsigned int len);
/* device_ops.tracking_changed: the device's rings_changed, lock held. */
void virtio_core_tracking_changed(struct device *dev);
/* Snapshot fields of the core and the device kind (lock held for save). */
void virtio_core_save(struct virtio_dev *vdev, struct state_writer *w);
int virtio_core_restore(struct virtio_dev *vdev, const struct state_section *s, char *err,
			unsigned int errlen);
struct virtq *virtio_selected_queue(struct virtio_dev *vdev);
void virtio_reset(struct virtio_dev *vdev);
/* The transport's queue_irq_fd answers may have changed (a vector, MSI-X on or off; lock held). */
void virtio_interrupts_changed(struct virtio_dev *vdev);
void virtio_write_status(struct virtio_dev *vdev, uint32_t val);
void virtio_write_queue_ready(struct virtio_dev *vdev, struct virtq *q, uint32_t val);
void virtio_set_half(uint64_t *v, int high, uint32_t val);
/* Signal an interrupt eventfd and count it. */
void virtio_signal_fd(struct virtio_dev *vdev, int fd);

/* The driver has set DRIVER_OK and not reset or broken the device. */
bool virtio_is_live(struct virtio_dev *vdev);
/*
 * Take the next chain of a live device's queue: 1, or 0 when there is none
 * (or the device is not live). A malformed chain breaks the device.
 */
int virtio_pop(struct virtio_dev *vdev, struct virtq *q, struct virtq_elem *elem);
/* Raise the used-buffer interrupt if the driver wants it (worker, lock held). */
void virtio_notify_used(struct virtio_dev *vdev, struct virtq *q);
/* Mark the device broken: DEVICE_NEEDS_RESET and a config interrupt (lock held). */
void virtio_set_broken(struct virtio_dev *vdev, const char *why);
/* Drain a notify eventfd (the worker woke up for it). */
void virtio_drain_eventfd(int fd);

/*
 * Device constructors (blk.c, console.c, rng.c, net.c): 0 or -errno, with
 * a message in err.
 */
struct virtio_blk_opts {
	const char *path;
	bool readonly;
	const char *serial;	/* NULL: derived from the file name */
	unsigned int queues;	/* 0 or 1: one; more: multiqueue, a worker each */
};
#define VIRTIO_BLK_MAX_QUEUES VIRTIO_MAX_QUEUES
int virtio_blk_create(const char *name, const struct virtio_transport *t,
		      const struct virtio_blk_opts *opts, const struct device_env *env,
		      struct device **out, char *err, size_t errlen);
struct virtio_console_opts {
	int in_fd;		/* -1: no input */
	int out_fd;
	bool escape;		/* Ctrl-A x quits (input is a terminal) */
	void (*on_quit)(void *ctx);
	void *quit_ctx;
};
int virtio_console_create(const char *name, const struct virtio_transport *t,
			  const struct virtio_console_opts *opts, const struct device_env *env,
			  struct device **out, char *err, size_t errlen);
struct virtio_net_opts {
	const char *tapif;
	uint8_t mac[6];
	bool vhost;		/* the host kernel's vhost-net serves the rings */
};
int virtio_net_create(const char *name, const struct virtio_transport *t,
		      const struct virtio_net_opts *opts, const struct device_env *env,
		      struct device **out, char *err, size_t errlen);
/* The same on an open frame fd (the user-mode network's socket, tests' socket pair); takes the fd. */
int virtio_net_create_on_fd(const char *name, const struct virtio_transport *t, int fd,
			    const uint8_t mac[6], const struct device_env *env,
			    struct device **out, char *err, size_t errlen);
/*
 * What serves the far end of the frame fd of a virtio_net_create_on_fd
 * device (the user-mode stack): freed after the fd is closed, when the
 * device is; stats appends to the device's --stats line.
 */
struct virtio_net_backend_ops {
	void (*free)(void *backend);
	void (*stats)(void *backend, char *buf, unsigned int len);
};
void virtio_net_set_backend(struct device *dev, void *backend,
			    const struct virtio_net_backend_ops *ops);
int virtio_rng_create(const char *name, const struct virtio_transport *t,
		      const struct device_env *env, struct device **out, char *err,
		      size_t errlen);
struct virtio_9p_opts {
	const char *dir;
	const char *tag;
	bool readonly;
};
int virtio_9p_create(const char *name, const struct virtio_transport *t,
		     const struct virtio_9p_opts *opts, const struct device_env *env,
		     struct device **out, char *err, size_t errlen);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO platform/AMBA passthrough: containers, groups and devices; regions
 * mapped into the guest (or trapped and forwarded); interrupts wired to
 * SPIs by irqfd, level ones with a resamplefd that VFIO uses to unmask the
 * host line once the guest has EOIed it. After setup, lvmm's threads take
 * no part in the device's MMIO (mapped regions) or interrupts.
 *
 * The devices of one VM share a context: one container per IOMMU kind
 * (type1 and no-IOMMU groups cannot share a container), each group opened
 * once however many of its devices are passed through, the guest address
 * window and the phandles. The last device freed closes it.
 */
#include "vfio.h"
#include "host.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/vfio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct vfio_container {
	int fd;
	bool iommu_set;
};

struct vfio_group {
	int id;
	bool noiommu;
	int fd;
	struct vfio_group *next;
};

struct vfio_ctx {
	unsigned int refs;
	struct vfio_container containers[2];	/* [0] type1, [1] no-IOMMU */
	struct vfio_group *groups;
	struct vfio_window window;
	uint32_t next_phandle;
	uint32_t clk_phandle;	/* the apb_pclk node's; 0 until an AMBA device needs it */
	const char *root;
};

struct vfio_region {
	uint64_t size;
	uint64_t offset;	/* in the device fd */
	uint32_t flags;
	uint64_t gpa;
	void *map;		/* the mmap when mapped into the guest, else NULL */
	bool slot;		/* map is in a KVM memory slot */
};

struct vfio_irq {
	unsigned int intid;
	bool level;
	int trigger_fd;		/* KVM raises the SPI when VFIO signals it */
	int resample_fd;	/* level: KVM signals it on EOI, VFIO unmasks */
	bool irqfd;		/* registered with the irqchip */
	bool armed;		/* handed to VFIO with SET_IRQS */
};

/* A region that is not mapped: guest accesses exit to lvmm and are forwarded. */
struct vfio_trap {
	struct device dev;
	int fd;			/* the owner's device fd (closed by the owner) */
	uint64_t offset;
	unsigned int region;
	char host_name[64];
	atomic_uint accesses;
	atomic_uint errors;
};

struct vfio_dev {
	struct device dev;	/* no MMIO window of its own: not on the bus */
	struct vfio_ctx *ctx;
	struct vfio_env env;
	struct vfio_host_dev host;
	const struct vfio_config *cfg;
	int fd;
	uint32_t flags;		/* VFIO_DEVICE_FLAGS_* */
	struct vfio_region regions[VFIO_MAX_REGIONS];
	unsigned int nr_regions;
	struct vfio_irq irqs[VFIO_MAX_IRQS];
	unsigned int nr_irqs;
	struct vfio_trap *traps[VFIO_MAX_REGIONS]; /* until they are on the device list */
	unsigned int nr_traps, nr_mapped;
	struct vfio_guest_node node;
	unsigned int index;	/* nth --vfio-platform */
};

static struct vfio_dev *to_vfio(struct device *dev)
{
	return (struct vfio_dev *)dev;
}

/* ---- container and groups ----------------------------------------------- */

static void ctx_put(struct vfio_ctx *ctx)
{
	if (--ctx->refs)
		return;
	/* Groups leave their container when closed; then the containers go. */
	while (ctx->groups) {
		struct vfio_group *g = ctx->groups;

		ctx->groups = g->next;
		close(g->fd);
		free(g);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(ctx->containers); i++)
		if (ctx->containers[i].fd >= 0)
			close(ctx->containers[i].fd);
	free(ctx);
}

static int container_open(struct vfio_ctx *ctx, const struct vfio_host_dev *hd,
			  struct vfio_container *c)
{
	char path[PATH_MAX];
	int ret;

	if (c->fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/dev/vfio/vfio", ctx->root);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		pr_err("vfio: %s: cannot open %s: %s", hd->name, path, strerror(-ret));
		return ret;
	}
	if (ioctl(c->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		pr_err("vfio: %s: %s has an API version lvmm does not know", hd->name, path);
		return -ENOTSUP;
	}
	return 0;
}

/* The IOMMU model for a container: no-IOMMU, or type1 (v2 preferred). */
static int container_iommu_type(const struct vfio_host_dev *hd, struct vfio_container *c)
{
	if (hd->noiommu) {
		if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) > 0)
			return VFIO_NOIOMMU_IOMMU;
		pr_err("vfio: %s: its group is a no-IOMMU group, but no-IOMMU mode is not enabled (echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode, or boot with vfio.enable_unsafe_noiommu_mode=1)",
		       hd->name);
		return -EPERM;
	}
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		return VFIO_TYPE1v2_IOMMU;
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		return VFIO_TYPE1_IOMMU;
	pr_err("vfio: %s: the host's VFIO offers no type1 IOMMU driver (is vfio_iommu_type1 loaded?)",
	       hd->name);
	return -ENOTSUP;
}

/* Guest RAM at its guest address as IOVA: the device may DMA to the guest. */
static int container_map_ram(const struct vfio_host_dev *hd, struct vfio_container *c,
			     const struct guest_mem *mem)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)mem->host,
		.iova = mem->gpa,
		.size = mem->size,
	};
	int ret;

	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		ret = -errno;
		pr_err("vfio: %s: mapping guest RAM for DMA (VFIO_IOMMU_MAP_DMA): %s", hd->name,
		       strerror(-ret));
		return ret;
	}
	return 0;
}

static int group_open_fd(const struct vfio_host_dev *hd)
{
	const char *dev = hd->group_dev;
	int fd, ret;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -ENOENT)
		pr_err("vfio: %s: %s does not exist (IOMMU group %d has no VFIO group device)",
		       hd->name, dev, hd->group);
	else if (ret == -EACCES && hd->noiommu)
		pr_err("vfio: %s: no permission to open %s (run as root: no-IOMMU groups also need CAP_SYS_RAWIO)",
		       hd->name, dev);
	else if (ret == -EACCES)
		pr_err("vfio: %s: no permission to open %s (run as root, or give this user the group: chown USER %s)",
		       hd->name, dev, dev);
	else if (ret == -EPERM && hd->noiommu)
		pr_err("vfio: %s: no permission to open %s: no-IOMMU groups need CAP_SYS_RAWIO (run as root)",
		       hd->name, dev);
	else if (ret == -EBUSY)
		pr_err("vfio: %s: %s is in use by another process", hd->name, dev);
	else
		pr_err("vfio: %s: cannot open %s: %s", hd->name, dev, strerror(-ret));
	return ret;
}

static int group_check_viable(const struct vfio_host_dev *hd, int fd)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char others[512];
	int ret;

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		ret = -errno;
		pr_err("vfio: %s: VFIO_GROUP_GET_STATUS: %s", hd->name, strerror(-ret));
		return ret;
	}
	if (status.flags & VFIO_GROUP_FLAGS_VIABLE)
		return 0;
	if (vfio_group_blockers(hd, others, sizeof(others)))
		pr_err("vfio: %s: IOMMU group %d is not viable: other devices in it are bound to host drivers: %s; bind them to a VFIO driver too, or unbind them",
		       hd->name, hd->group, others);
	else
		pr_err("vfio: %s: IOMMU group %d is not viable: another device in it is in use by the host",
		       hd->name, hd->group);
	return -EBUSY;
}

/* The group of hd in its container, opened once per VM. */
static int group_get(struct vfio_ctx *ctx, const struct vfio_host_dev *hd,
		     const struct guest_mem *mem, struct vfio_group **out)
{
	struct vfio_container *c = &ctx->containers[hd->noiommu];
	struct vfio_group *g;
	int ret, type;

	for (g = ctx->groups; g; g = g->next) {
		if (g->id == hd->group && g->noiommu == hd->noiommu) {
			*out = g;
			return 0;
		}
	}
	ret = group_open_fd(hd);
	if (ret < 0)
		return ret;
	g = calloc(1, sizeof(*g));
	if (!g) {
		close(ret);
		return -ENOMEM;
	}
	*g = (struct vfio_group){ .id = hd->group, .noiommu = hd->noiommu, .fd = ret };
	g->next = ctx->groups;
	ctx->groups = g;

	ret = group_check_viable(hd, g->fd);
	ret = ret ?: container_open(ctx, hd, c);
	if (ret)
		return ret;
	type = container_iommu_type(hd, c);
	if (type < 0)
		return type;
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd) < 0) {
		ret = -errno;
		if (ret == -EPERM && hd->noiommu)
			pr_err("vfio: %s: no-IOMMU groups need CAP_SYS_RAWIO (run as root)", hd->name);
		else
			pr_err("vfio: %s: VFIO_GROUP_SET_CONTAINER: %s", hd->name, strerror(-ret));
		return ret;
	}
	if (!c->iommu_set) {
		if (ioctl(c->fd, VFIO_SET_IOMMU, type) < 0) {
			ret = -errno;
			pr_err("vfio: %s: VFIO_SET_IOMMU: %s", hd->name, strerror(-ret));
			return ret;
		}
		c->iommu_set = true;
		/* No DMA without an IOMMU; type1 needs guest RAM mapped. */
		if (type != VFIO_NOIOMMU_IOMMU) {
			ret = container_map_ram(hd, c, mem);
			if (ret)
				return ret;
		}
	}
	*out = g;
	return 0;
}

/* ---- trapped regions ---------------------------------------------------- */

static void trap_error(struct vfio_trap *t, const char *what, uint64_t off, unsigned int len,
		       ssize_t n)
{
	if (atomic_fetch_add(&t->errors, 1) < 10)
		pr_warn("vfio: %s: guest %s of %u bytes at offset 0x%llx of region %u failed: %s",
			t->host_name, what, len, (unsigned long long)off, t->region,
			n < 0 ? strerror(errno) : "short transfer");
}

static void vfio_trap_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;
	ssize_t n = pread(t->fd, data, len, t->offset + off);

	atomic_fetch_add(&t->accesses, 1);
	if (n != (ssize_t)len)
		trap_error(t, "read", off, len, n);
}

static void vfio_trap_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;
	ssize_t n = pwrite(t->fd, data, len, t->offset + off);

	atomic_fetch_add(&t->accesses, 1);
	if (n != (ssize_t)len)
		trap_error(t, "write", off, len, n);
}

static void vfio_trap_stats(struct device *dev, char *buf, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;

	snprintf(buf, len, "host=%s region=%u trapped_accesses=%u errors=%u", t->host_name,
		 t->region, atomic_load(&t->accesses), atomic_load(&t->errors));
}

static void vfio_trap_free(struct device *dev)
{
	free(dev);
}

static const struct device_ops vfio_trap_ops = {
	.kind = "vfio-trap",
	.mmio_read = vfio_trap_read,
	.mmio_write = vfio_trap_write,
	.free = vfio_trap_free,
	.stats = vfio_trap_stats,
};

/* ---- the device ----------------------------------------------------------- */

static int set_irq_eventfd(int dev_fd, uint32_t index, uint32_t action, int32_t efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)] __attribute__((aligned(8)));
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
}

static int set_irq_none(int dev_fd, uint32_t index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.count = 0,
	};

	return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, &set) < 0 ? -errno : 0;
}

/*
 * Hand the eventfds to VFIO: the trigger (which KVM's irqfd already reads)
 * and, for level interrupts, the resamplefd as the unmask. The irqfds are
 * attached by now (after the vGIC's CTRL_INIT), the order KVM documents.
 */
static int vfio_dev_start(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);
	int ret;

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		struct vfio_irq *irq = &vd->irqs[i];

		ret = set_irq_eventfd(vd->fd, i, VFIO_IRQ_SET_ACTION_TRIGGER, irq->trigger_fd);
		if (!ret && irq->level) {
			ret = set_irq_eventfd(vd->fd, i, VFIO_IRQ_SET_ACTION_UNMASK,
					      irq->resample_fd);
			if (ret)
				set_irq_none(vd->fd, i);
		}
		if (ret) {
			pr_err("vfio: %s: IRQ %u: VFIO_DEVICE_SET_IRQS: %s", vd->host.name, i,
			       strerror(-ret));
			return ret;
		}
		irq->armed = true;
	}
	return 0;
}

/* Stop the host interrupts first: nothing signals the eventfds afterwards. */
static void vfio_dev_stop(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		struct vfio_irq *irq = &vd->irqs[i];

		if (!irq->armed)
			continue;
		set_irq_none(vd->fd, i);
		if (irq->level)
			set_irq_eventfd(vd->fd, i, VFIO_IRQ_SET_ACTION_UNMASK, -1);
		irq->armed = false;
	}
}

static void vfio_dev_free(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);
	void *ctx = vd->env.dev.ctx;

	vfio_dev_stop(dev);
	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		struct vfio_irq *irq = &vd->irqs[i];

		if (irq->irqfd)
			vd->env.dev.irqfd(ctx, irq->intid, irq->trigger_fd, irq->resample_fd,
					  false);
		if (irq->trigger_fd >= 0)
			close(irq->trigger_fd);
		if (irq->resample_fd >= 0)
			close(irq->resample_fd);
	}
	for (unsigned int i = 0; i < vd->nr_regions; i++) {
		struct vfio_region *r = &vd->regions[i];

		if (r->slot)
			vd->env.dev.map_mmio(ctx, r->gpa, r->size, NULL);
		if (r->map)
			munmap(r->map, r->size);
	}
	for (unsigned int i = 0; i < vd->nr_traps; i++)
		free(vd->traps[i]);
	if (vd->fd >= 0)
		close(vd->fd);
	vfio_guest_node_free(&vd->node);
	if (vd->ctx)
		ctx_put(vd->ctx);
	free(vd);
}

static int vfio_dev_fdt(struct device *dev, void *fdt)
{
	return vfio_fdt_nodes(fdt, &to_vfio(dev)->node);
}

static void vfio_dev_stats(struct device *dev, char *buf, unsigned int len)
{
	struct vfio_dev *vd = to_vfio(dev);
	unsigned int level = 0;

	for (unsigned int i = 0; i < vd->nr_irqs; i++)
		level += vd->irqs[i].level;
	snprintf(buf, len, "host=%s regions=%u mapped=%u trapped=%u irqs=%u level=%u",
		 vd->host.name, vd->nr_regions, vd->nr_mapped, vd->nr_regions - vd->nr_mapped,
		 vd->nr_irqs, level);
}

static const struct device_ops vfio_dev_ops = {
	.kind = "vfio",
	.fdt = vfio_dev_fdt,
	.start = vfio_dev_start,
	.stop = vfio_dev_stop,
	.free = vfio_dev_free,
	.stats = vfio_dev_stats,
};

static int device_open(struct vfio_dev *vd, struct vfio_group *g)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const char *n = vd->host.name;
	int ret;

	vd->fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, n);
	if (vd->fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			pr_err("vfio: %s: already in use (another VMM has it open)", n);
		else
			pr_err("vfio: %s: VFIO_GROUP_GET_DEVICE_FD: %s", n, strerror(-ret));
		return ret;
	}
	if (ioctl(vd->fd, VFIO_DEVICE_GET_INFO, &info) < 0) {
		ret = -errno;
		pr_err("vfio: %s: VFIO_DEVICE_GET_INFO: %s", n, strerror(-ret));
		return ret;
	}
	if (!(info.flags & (VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_AMBA))) {
		pr_err("vfio: %s: not a platform or AMBA device (VFIO device flags 0x%x)", n,
		       info.flags);
		return -EINVAL;
	}
	if (info.num_regions > VFIO_MAX_REGIONS || info.num_irqs > VFIO_MAX_IRQS) {
		pr_err("vfio: %s: has %u regions and %u interrupts; lvmm handles up to %d of each",
		       n, info.num_regions, info.num_irqs, VFIO_MAX_REGIONS);
		return -E2BIG;
	}
	vd->flags = info.flags;
	vd->nr_regions = info.num_regions;
	vd->nr_irqs = info.num_irqs;
	return 0;
}

static bool region_mappable(const struct vfio_dev *vd, const struct vfio_region *r)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	uint32_t need = VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ |
			VFIO_REGION_INFO_FLAG_WRITE;

	/* A read-only or odd-sized region would need a read-only slot: trap it. */
	return !vd->cfg->no_mmap && (r->flags & need) == need && r->size &&
	       IS_ALIGNED(r->size, page) && IS_ALIGNED(r->offset, page);
}

static int region_map(struct vfio_dev *vd, unsigned int i, struct vfio_region *r)
{
	int ret;

	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, vd->fd, r->offset);
	if (r->map == MAP_FAILED) {
		ret = -errno;
		r->map = NULL;
		pr_err("vfio: %s: region %u: mmap: %s", vd->host.name, i, strerror(-ret));
		return ret;
	}
	ret = vd->env.dev.map_mmio(vd->env.dev.ctx, r->gpa, r->size, r->map);
	if (ret) {
		pr_err("vfio: %s: region %u: KVM memory slot at 0x%llx: %s", vd->host.name, i,
		       (unsigned long long)r->gpa, strerror(-ret));
		return ret;
	}
	r->slot = true;
	vd->nr_mapped++;
	return 0;
}

static int region_trap(struct vfio_dev *vd, unsigned int i, struct vfio_region *r)
{
	struct vfio_trap *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->dev.ops = &vfio_trap_ops;
	snprintf(t->dev.name, sizeof(t->dev.name), "vfio%u-r%u", vd->index, i);
	t->dev.mmio_base = r->gpa;
	t->dev.mmio_size = r->size;
	t->fd = vd->fd;
	t->offset = r->offset;
	t->region = i;
	snprintf(t->host_name, sizeof(t->host_name), "%s", vd->host.name);
	vd->traps[vd->nr_traps++] = t;
	return 0;
}

static int regions_setup(struct vfio_dev *vd)
{
	struct vfio_window *w = &vd->ctx->window;
	uint64_t page = sysconf(_SC_PAGESIZE);
	int ret;

	for (unsigned int i = 0; i < vd->nr_regions; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };
		struct vfio_region *r = &vd->regions[i];

		if (ioctl(vd->fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0) {
			ret = -errno;
			pr_err("vfio: %s: region %u: VFIO_DEVICE_GET_REGION_INFO: %s",
			       vd->host.name, i, strerror(-ret));
			return ret;
		}
		r->size = info.size;
		r->offset = info.offset;
		r->flags = info.flags;
		/* Whole pages, so that no other device shares a guest page with it. */
		if (vfio_window_alloc(w, ALIGN_UP(r->size, page), &r->gpa)) {
			pr_err("vfio: %s: region %u (0x%llx bytes) does not fit in the guest's VFIO window 0x%llx-0x%llx (0x%llx bytes left)",
			       vd->host.name, i, (unsigned long long)r->size,
			       (unsigned long long)w->base, (unsigned long long)w->end - 1,
			       (unsigned long long)(w->end - w->next));
			return -E2BIG;
		}
		vd->node.reg[i][0] = r->gpa;
		vd->node.reg[i][1] = r->size;
		vd->node.nr_regs++;
		if (!r->size)
			continue;
		ret = region_mappable(vd, r) ? region_map(vd, i, r) : region_trap(vd, i, r);
		if (ret)
			return ret;
	}
	return 0;
}

static int irqs_setup(struct vfio_dev *vd)
{
	const struct vfio_env *env = &vd->env;
	const char *n = vd->host.name;
	int ret;

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };
		struct vfio_irq *irq = &vd->irqs[i];

		if (ioctl(vd->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0) {
			ret = -errno;
			pr_err("vfio: %s: IRQ %u: VFIO_DEVICE_GET_IRQ_INFO: %s", n, i,
			       strerror(-ret));
			return ret;
		}
		if (info.count != 1 || !(info.flags & VFIO_IRQ_INFO_EVENTFD)) {
			pr_err("vfio: %s: IRQ %u has %u vectors (flags 0x%x); lvmm wires one eventfd interrupt per index",
			       n, i, info.count, info.flags);
			return -ENOTSUP;
		}
		/*
		 * vfio-platform requests the host interrupt when the device is
		 * opened and reports a failure only on SET_IRQS: ask now (an
		 * idempotent "disable"), not once the VM is about to run.
		 */
		ret = set_irq_none(vd->fd, i);
		if (ret == -EINVAL) {
			pr_err("vfio: %s: IRQ %u: the host kernel cannot hand out this interrupt (Invalid argument); a host driver that used it as a chained interrupt (as GPIO and interrupt controller drivers do) leaves it so after unbinding: keep that driver from binding at boot (e.g. initcall_blacklist=)",
			       n, i);
			return ret;
		}
		if (ret) {
			pr_err("vfio: %s: IRQ %u: VFIO_DEVICE_SET_IRQS: %s", n, i, strerror(-ret));
			return ret;
		}
		irq->level = info.flags & VFIO_IRQ_INFO_AUTOMASKED;
		if (irq->level && !(info.flags & VFIO_IRQ_INFO_MASKABLE)) {
			pr_err("vfio: %s: IRQ %u is level-triggered but cannot be unmasked", n, i);
			return -ENOTSUP;
		}
		irq->intid = env->alloc_spi(env->dev.ctx);
		if (!irq->intid) {
			pr_err("vfio: %s: IRQ %u: no SPI left", n, i);
			return -ENOSPC;
		}
		irq->trigger_fd = eventfd(0, EFD_CLOEXEC);
		if (irq->trigger_fd >= 0 && irq->level)
			irq->resample_fd = eventfd(0, EFD_CLOEXEC);
		if (irq->trigger_fd < 0 || (irq->level && irq->resample_fd < 0)) {
			ret = -errno;
			pr_err("vfio: %s: IRQ %u: eventfd: %s", n, i, strerror(-ret));
			return ret;
		}
		/* Queued until the vGIC is initialised, then KVM_IRQFD (+RESAMPLE). */
		ret = env->dev.irqfd(env->dev.ctx, irq->intid, irq->trigger_fd,
				     irq->level ? irq->resample_fd : -1, true);
		if (ret) {
			pr_err("vfio: %s: IRQ %u: irqfd for SPI %u: %s", n, i, irq->intid,
			       strerror(-ret));
			return ret;
		}
		irq->irqfd = true;
		vd->node.irqs[i] = (struct vfio_guest_irq){ irq->intid, irq->level };
		vd->node.nr_irqs++;
	}
	if (vd->nr_irqs)
		vd->dev.irq = vd->irqs[0].intid;
	return 0;
}

static bool compatible_has(const struct vfio_dt_prop *p, const char *s)
{
	return p && fdt_stringlist_contains(p->val, p->len, s);
}

static int node_setup(struct vfio_dev *vd, unsigned int index)
{
	struct vfio_guest_node *node = &vd->node;
	struct vfio_ctx *ctx = vd->ctx;
	const char *n = vd->host.name;
	char err[PATH_MAX + 128];
	int ret;

	if (!vd->host.of_node[0]) {
		pr_err("vfio: %s: has no device tree node (%s/of_node): lvmm builds the guest's node from it",
		       n, vd->host.path);
		return -ENOENT;
	}
	ret = vfio_dt_read_node(vd->host.of_node, node, err, sizeof(err));
	if (ret) {
		pr_err("vfio: %s: %s", n, err);
		return ret;
	}
	node->index = index;
	node->host_name = vd->host.name;
	if ((vd->flags & VFIO_DEVICE_FLAGS_AMBA) ||
	    compatible_has(vfio_dt_find(node, "compatible"), "arm,primecell")) {
		if (!ctx->clk_phandle) {
			ctx->clk_phandle = ctx->next_phandle++;
			node->emit_clock = true;
		}
		node->clk_phandle = ctx->clk_phandle;
	}
	if (vd->cfg->nr_keys) {
		if (!vfio_dt_find(node, "gpio-controller")) {
			pr_err("vfio: %s: gpio-key needs a GPIO controller, and its device tree node has no gpio-controller property",
			       n);
			return -EINVAL;
		}
		node->phandle = ctx->next_phandle++;
		node->keys = vd->cfg->keys;
		node->nr_keys = vd->cfg->nr_keys;
	}
	return 0;
}

static int vfio_dev_create(struct vfio_ctx *ctx, const struct vfio_config *cfg, unsigned int index,
			   const struct vfio_host_dev *hd, const struct vfio_env *env,
			   struct device_list *list)
{
	struct vfio_group *g = NULL;
	struct vfio_dev *vd;
	int ret;

	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->dev.ops = &vfio_dev_ops;
	snprintf(vd->dev.name, sizeof(vd->dev.name), "vfio%u", index);
	vd->index = index;
	vd->ctx = ctx;
	ctx->refs++;
	vd->env = *env;
	vd->host = *hd;
	snprintf(vd->dev.desc, sizeof(vd->dev.desc), "passed-through %s", vd->host.name);
	vd->cfg = cfg;
	vd->fd = -1;
	for (unsigned int i = 0; i < VFIO_MAX_IRQS; i++)
		vd->irqs[i].trigger_fd = vd->irqs[i].resample_fd = -1;

	ret = group_get(ctx, hd, &env->dev.mem, &g);
	ret = ret ?: device_open(vd, g);
	ret = ret ?: regions_setup(vd);
	ret = ret ?: irqs_setup(vd);
	ret = ret ?: node_setup(vd, index);
	if (ret) {
		vfio_dev_free(&vd->dev);
		return ret;
	}
	/* The device (no MMIO window: on no bus), then its trapped regions. */
	device_list_add(list, &vd->dev);
	for (unsigned int i = 0; i < vd->nr_traps; i++)
		device_list_add(list, &vd->traps[i]->dev);
	vd->nr_traps = 0;
	return 0;
}

int vfio_devices_create(const struct vfio_config *cfgs, unsigned int nr,
			const struct vfio_env *env, struct device_list *list)
{
	struct vfio_host_dev *hds;
	struct vfio_ctx *ctx;
	char err[1024];
	int ret = 0;

	if (!nr)
		return 0;
	/* Every device must be ready before any is touched: look them all up first. */
	hds = calloc(nr, sizeof(*hds));
	if (!hds)
		return -ENOMEM;
	for (unsigned int i = 0; i < nr && !ret; i++) {
		ret = vfio_host_lookup(env->root, cfgs[i].device, &hds[i], err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			break;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(hds[i].path, hds[j].path)) {
				pr_err("vfio: %s: given twice", hds[i].name);
				ret = -EINVAL;
			}
		}
	}
	ctx = ret ? NULL : calloc(1, sizeof(*ctx));
	if (!ret && !ctx)
		ret = -ENOMEM;
	if (ret) {
		free(hds);
		return ret;
	}
	ctx->refs = 1;
	ctx->containers[0].fd = ctx->containers[1].fd = -1;
	ctx->root = env->root;
	ctx->next_phandle = env->first_phandle;
	vfio_window_init(&ctx->window, env->window_base, env->window_size);
	for (unsigned int i = 0; i < nr && !ret; i++)
		ret = vfio_dev_create(ctx, &cfgs[i], i, &hds[i], env, list);
	ctx_put(ctx);
	free(hds);
	return ret;
}

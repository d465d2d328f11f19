// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X: the capability, the table and the PBA of one function, and the
 * vectors' way out. Each vector has an eventfd the device signals; while the
 * vector is enabled and unmasked, a GSI route of type MSI (address, data and
 * the requester id as device id, for the ITS) carries it and the eventfd is
 * an irqfd on that GSI, so an interrupt never passes through lvmm.
 */
#include "pci.h"
#include "../../util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSIX_CTRL	2	/* message control, from the capability */
#define MSIX_TABLE	4
#define MSIX_PBA	8
#define MSIX_CAP_LEN	12

/*
 * The capability at cap (its ID and next pointer already there), its
 * table and PBA in bar, and nr vectors, each with its eventfd.
 */
static int msix_setup(struct pci_msix *m, struct pci_config *cfg, unsigned int cap,
		      unsigned int nr, unsigned int bar, uint32_t table_off, uint32_t pba_off,
		      const struct device_env *env)
{
	m->cfg = cfg;
	m->cap = cap;
	m->nr = nr;
	m->env = env;
	cfg->raw[cap + MSIX_CTRL] = nr - 1;
	cfg->raw[cap + MSIX_CTRL + 1] = 0;
	/* Only enable and function mask are the driver's. */
	cfg->wmask[cap + MSIX_CTRL] = 0;
	cfg->wmask[cap + MSIX_CTRL + 1] = (PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL) >> 8;
	for (unsigned int i = 0; i < 4; i++) {
		cfg->raw[cap + MSIX_TABLE + i] = (table_off | bar) >> (8 * i);
		cfg->raw[cap + MSIX_PBA + i] = (pba_off | bar) >> (8 * i);
		cfg->wmask[cap + MSIX_TABLE + i] = cfg->wmask[cap + MSIX_PBA + i] = 0;
	}
	for (unsigned int i = 0; i < nr; i++) {
		m->vec[i].ctrl = PCI_MSIX_ENTRY_MASKED;	/* masked at reset */
		m->vec[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vec[i].fd < 0) {
			int ret = -errno;

			pci_msix_free(m);
			return ret;
		}
	}
	return 0;
}

static bool msix_args_ok(unsigned int nr, unsigned int bar, uint32_t table_off, uint32_t pba_off)
{
	return nr && nr <= PCI_MSIX_MAX_VECTORS && bar < PCI_NR_BARS && !(table_off & 7) &&
	       !(pba_off & 7);
}

int pci_msix_init(struct pci_msix *m, struct pci_config *cfg, unsigned int nr, unsigned int bar,
		  uint32_t table_off, uint32_t pba_off, const struct device_env *env)
{
	int cap;

	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < PCI_MSIX_MAX_VECTORS; i++)
		m->vec[i].fd = -1;
	if (!msix_args_ok(nr, bar, table_off, pba_off))
		return -EINVAL;
	cap = pci_config_add_cap(cfg, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0)
		return cap;
	return msix_setup(m, cfg, cap, nr, bar, table_off, pba_off, env);
}

int pci_msix_init_at(struct pci_msix *m, struct pci_config *cfg, unsigned int cap,
		     unsigned int nr, unsigned int bar, uint32_t table_off, uint32_t pba_off,
		     const struct device_env *env)
{
	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < PCI_MSIX_MAX_VECTORS; i++)
		m->vec[i].fd = -1;
	if (!msix_args_ok(nr, bar, table_off, pba_off) || cap < 0x40 ||
	    cap + MSIX_CAP_LEN > PCI_CFG_SIZE)
		return -EINVAL;
	return msix_setup(m, cfg, cap, nr, bar, table_off, pba_off, env);
}

static uint16_t msix_ctrl(const struct pci_msix *m)
{
	return pci_config_read(m->cfg, m->cap + MSIX_CTRL, 2);
}

bool pci_msix_enabled(const struct pci_msix *m)
{
	return m->cfg && (msix_ctrl(m) & PCI_MSIX_CTRL_ENABLE);
}

static void vec_unroute(struct pci_msix *m, struct pci_msix_vec *v)
{
	if (!v->routed)
		return;
	v->routed = false;
	if (m->env->msi_irqfd_remove(m->env->ctx, v->gsi, v->fd))
		m->route_errors++;
}

void pci_msix_update(struct pci_msix *m)
{
	uint16_t ctrl = msix_ctrl(m);

	for (unsigned int i = 0; i < m->nr; i++) {
		struct pci_msix_vec *v = &m->vec[i];
		uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;
		bool want = (ctrl & PCI_MSIX_CTRL_ENABLE) && !(ctrl & PCI_MSIX_CTRL_MASKALL) &&
			    !(v->ctrl & PCI_MSIX_ENTRY_MASKED) && m->env->msi_irqfd_add;

		if (v->routed && (!want || addr != v->routed_addr || v->data != v->routed_data))
			vec_unroute(m, v);
		if (!want || v->routed)
			continue;
		/*
		 * KVM takes a signal that came while the irqfd was detached
		 * when it attaches it again: a pending vector fires on unmask.
		 */
		if (m->env->msi_irqfd_add(m->env->ctx, addr, v->data, m->devid, v->fd, &v->gsi)) {
			m->route_errors++;
			continue;
		}
		v->routed = true;
		v->routed_addr = addr;
		v->routed_data = v->data;
		m->routes_set++;
	}
}

void pci_msix_unroute_all(struct pci_msix *m)
{
	for (unsigned int i = 0; i < m->nr; i++)
		vec_unroute(m, &m->vec[i]);
}

void pci_msix_free(struct pci_msix *m)
{
	for (unsigned int i = 0; i < PCI_MSIX_MAX_VECTORS; i++) {
		if (m->vec[i].fd < 0)
			continue;
		if (m->env)
			vec_unroute(m, &m->vec[i]);
		close(m->vec[i].fd);
		m->vec[i].fd = -1;
	}
}

static uint32_t *entry_word(struct pci_msix *m, uint64_t off)
{
	struct pci_msix_vec *v;

	if (off / PCI_MSIX_ENTRY_SIZE >= m->nr)
		return NULL;
	v = &m->vec[off / PCI_MSIX_ENTRY_SIZE];
	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case 0: return &v->addr_lo;
	case 4: return &v->addr_hi;
	case 8: return &v->data;
	default: return &v->ctrl;
	}
}

/* The table takes aligned 4- and 8-byte accesses (PCI 3.0, 6.8.2). */
void pci_msix_table_read(struct pci_msix *m, uint64_t off, void *data, unsigned int len)
{
	uint32_t w[2] = { 0, 0 };

	memset(data, 0, len);
	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	for (unsigned int i = 0; i < len / 4; i++) {
		uint32_t *p = entry_word(m, off + 4 * i);

		w[i] = p ? *p : 0;
	}
	memcpy(data, w, len);
}

void pci_msix_table_write(struct pci_msix *m, uint64_t off, const void *data, unsigned int len)
{
	uint32_t w[2];

	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	memcpy(w, data, len);
	for (unsigned int i = 0; i < len / 4; i++) {
		uint32_t *p = entry_word(m, off + 4 * i);

		if (!p)
			continue;
		/* Only the mask bit of vector control is writable. */
		*p = (off + 4 * i) % PCI_MSIX_ENTRY_SIZE == 12 ? (w[i] & PCI_MSIX_ENTRY_MASKED) : w[i];
	}
	pci_msix_update(m);
}

/* A vector is pending when its eventfd holds a signal nothing delivered. */
static bool vec_pending(const struct pci_msix_vec *v)
{
	struct pollfd pfd = { .fd = v->fd, .events = POLLIN };

	return !v->routed && v->fd >= 0 && poll(&pfd, 1, 0) == 1;
}

void pci_msix_pba_read(struct pci_msix *m, uint64_t off, void *data, unsigned int len)
{
	uint64_t bits = 0;

	memset(data, 0, len);
	if ((len != 4 && len != 8) || (off & (len - 1)) || off >= 8)
		return;
	for (unsigned int i = 0; i < m->nr; i++)
		if (vec_pending(&m->vec[i]))
			bits |= 1ULL << i;
	bits >>= 8 * off;
	memcpy(data, &bits, len);
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The VM's devices made from its configuration, placed on its board. */
#ifndef LVMM_VMM_DEVICES_H
#define LVMM_VMM_DEVICES_H

#include <stddef.h>

struct vmm;

/*
 * The UART, the virtio-mmio devices and the VFIO devices, each given its
 * addresses and SPIs by the board, and their MMIO windows claimed on the
 * bus. Returns 0 or -errno with the reason in err (empty when the device
 * printed it itself).
 */
int vmm_devices_create(struct vmm *v, char *err, size_t errlen);
int vmm_devices_start(struct vmm *v, char *err, size_t errlen);
/* Stop them, in reverse order of creation (the list is reversed). */
void vmm_devices_stop(struct vmm *v);
void vmm_devices_free(struct vmm *v);

#endif

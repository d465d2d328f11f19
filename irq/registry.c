// SPDX-License-Identifier: GPL-2.0
/*
 * The irqchip models lvmm can create, one line each (irq.h says how a
 * model is added). Order does not matter: --irqchip auto's preference is
 * model.c's.
 */
#include "gic.h"

const struct irqchip_ops *const irqchip_models[] = {
	&gicv2_ops,
	&gicv3_ops,
	&gicv3_its_ops,
	NULL,
};

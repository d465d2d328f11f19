// SPDX-License-Identifier: GPL-2.0
/* Choosing the GIC model, and where its frames go in the guest memory map. */
#include "test.h"
#include "../../irq/irq.h"
#include "../../board/memmap.h"
#include "../../util.h"

#include <errno.h>
#include <string.h>

#define ALL_MODELS (IRQCHIP_MASK(IRQCHIP_GICV2) | IRQCHIP_MASK(IRQCHIP_GICV3) | \
		    IRQCHIP_MASK(IRQCHIP_GICV3_ITS))
#define V3_ONLY (IRQCHIP_MASK(IRQCHIP_GICV3) | IRQCHIP_MASK(IRQCHIP_GICV3_ITS))

TEST(irqchip_select_auto)
{
	static const struct {
		unsigned int offered;
		enum irqchip_model want;
	} cases[] = {
		{ ALL_MODELS, IRQCHIP_GICV3_ITS },
		{ V3_ONLY, IRQCHIP_GICV3_ITS },
		{ IRQCHIP_MASK(IRQCHIP_GICV3) | IRQCHIP_MASK(IRQCHIP_GICV2), IRQCHIP_GICV3 },
		{ IRQCHIP_MASK(IRQCHIP_GICV3), IRQCHIP_GICV3 },
		{ IRQCHIP_MASK(IRQCHIP_GICV3_ITS), IRQCHIP_GICV3_ITS },
		{ IRQCHIP_MASK(IRQCHIP_GICV2), IRQCHIP_GICV2 },
		{ IRQCHIP_MASK(IRQCHIP_GICV2) | IRQCHIP_MASK(IRQCHIP_GICV3_ITS),
		  IRQCHIP_GICV3_ITS },
	};
	char err[128];

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		enum irqchip_model chosen = IRQCHIP_AUTO;

		err[0] = '\0';
		if (!CHECK_EQ_INT(irqchip_select(IRQCHIP_AUTO, cases[i].offered, &chosen,
						 err, sizeof(err)), 0))
			FAIL("for offered 0x%x: %s", cases[i].offered, err);
		if (!CHECK_EQ_INT(chosen, cases[i].want))
			FAIL("for offered 0x%x", cases[i].offered);
	}
}

TEST(irqchip_select_auto_nothing_offered)
{
	enum irqchip_model chosen = IRQCHIP_AUTO;
	char err[128] = "";

	CHECK_EQ_INT(irqchip_select(IRQCHIP_AUTO, 0, &chosen, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "this host's KVM offers no in-kernel GIC (gicv2, gicv3)");
	/* The "auto" bit itself is not a model. */
	CHECK_EQ_INT(irqchip_select(IRQCHIP_AUTO, IRQCHIP_MASK(IRQCHIP_AUTO), &chosen,
				    err, sizeof(err)), -ENODEV);
}

TEST(irqchip_select_explicit)
{
	static const enum irqchip_model models[] = {
		IRQCHIP_GICV2, IRQCHIP_GICV3, IRQCHIP_GICV3_ITS,
	};
	char err[128];

	for (unsigned int i = 0; i < ARRAY_SIZE(models); i++) {
		enum irqchip_model chosen = IRQCHIP_AUTO;

		/* Asked for and present: that one, even when auto would pick another. */
		CHECK_EQ_INT(irqchip_select(models[i], ALL_MODELS, &chosen, err, sizeof(err)), 0);
		CHECK_EQ_INT(chosen, models[i]);
		chosen = IRQCHIP_AUTO;
		CHECK_EQ_INT(irqchip_select(models[i], IRQCHIP_MASK(models[i]), &chosen,
					    err, sizeof(err)), 0);
		CHECK_EQ_INT(chosen, models[i]);
	}
}

TEST(irqchip_select_explicit_absent)
{
	enum irqchip_model chosen = IRQCHIP_AUTO;
	char err[128] = "";

	CHECK_EQ_INT(irqchip_select(IRQCHIP_GICV2, V3_ONLY, &chosen, err, sizeof(err)),
		     -ENODEV);
	CHECK_STR(err, "irqchip gicv2 is not offered by this host's KVM (it offers: gicv3-its, gicv3)");

	CHECK_EQ_INT(irqchip_select(IRQCHIP_GICV3_ITS, IRQCHIP_MASK(IRQCHIP_GICV2) |
				    IRQCHIP_MASK(IRQCHIP_GICV3), &chosen, err, sizeof(err)),
		     -ENODEV);
	CHECK_STR(err, "irqchip gicv3-its is not offered by this host's KVM (it offers: gicv3, gicv2)");

	CHECK_EQ_INT(irqchip_select(IRQCHIP_GICV3, 0, &chosen, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "irqchip gicv3 is not offered by this host's KVM (it offers: none)");
}

TEST(irqchip_select_short_message_buffer)
{
	enum irqchip_model chosen;
	char err[16 + 8];

	/* Truncated, terminated, and nothing written past errlen. */
	memset(err, 'Z', sizeof(err));
	CHECK_EQ_INT(irqchip_select(IRQCHIP_GICV2, V3_ONLY, &chosen, err, 16), -ENODEV);
	CHECK_STR(err, "irqchip gicv2 i");
	for (unsigned int i = 16; i < sizeof(err); i++)
		CHECK_EQ_INT(err[i], 'Z');
}

TEST(irqchip_mask_names)
{
	char buf[64];

	irqchip_mask_names(0, buf, sizeof(buf));
	CHECK_STR(buf, "none");
	irqchip_mask_names(ALL_MODELS, buf, sizeof(buf));
	/* In auto's preference order, whatever the bit order. */
	CHECK_STR(buf, "gicv3-its, gicv3, gicv2");
	irqchip_mask_names(IRQCHIP_MASK(IRQCHIP_GICV2), buf, sizeof(buf));
	CHECK_STR(buf, "gicv2");
	irqchip_mask_names(IRQCHIP_MASK(IRQCHIP_GICV2) | IRQCHIP_MASK(IRQCHIP_GICV3_ITS),
			   buf, sizeof(buf));
	CHECK_STR(buf, "gicv3-its, gicv2");
	irqchip_mask_names(IRQCHIP_MASK(IRQCHIP_AUTO), buf, sizeof(buf));
	CHECK_STR(buf, "none");
	/* Bits beyond the models are ignored. */
	irqchip_mask_names(0xfff0 | IRQCHIP_MASK(IRQCHIP_GICV3), buf, sizeof(buf));
	CHECK_STR(buf, "gicv3");
}

TEST(irqchip_mask_names_short_buffer)
{
	/* Every truncation point of the longest list stays inside the buffer. */
	static const char full[] = "gicv3-its, gicv3, gicv2";

	for (size_t len = 1; len <= sizeof(full); len++) {
		char buf[sizeof(full) + 8];

		memset(buf, 'Z', sizeof(buf));
		irqchip_mask_names(ALL_MODELS, buf, len);
		if (!CHECK_EQ_U64(strnlen(buf, len), len - 1) ||
		    !CHECK(!strncmp(buf, full, len - 1)))
			FAIL("for len %zu: \"%.*s\"", len, (int)len, buf);
		for (size_t i = len; i < sizeof(buf); i++) {
			if (!CHECK_EQ_INT(buf[i], 'Z')) {
				FAIL("for len %zu: byte %zu overwritten", len, i);
				break;
			}
		}
	}
}

TEST(gic_layout_v3)
{
	struct gic_layout l;

	memset(&l, 0xa5, sizeof(l));
	gic_layout_for(IRQCHIP_GICV3, 4, &l);
	CHECK_EQ_INT(l.version, 3);
	CHECK(!l.its);
	CHECK_EQ_U64(l.dist_base, 0x08000000);
	CHECK_EQ_U64(l.dist_size, 0x10000);
	CHECK_EQ_U64(l.redist_base, 0x080a0000);
	CHECK_EQ_U64(l.redist_size, 4 * 0x20000);
	CHECK_EQ_U64(l.cpu_base, 0);
	CHECK_EQ_U64(l.cpu_size, 0);
	CHECK_EQ_U64(l.its_base, 0);
	CHECK_EQ_U64(l.its_size, 0);

	gic_layout_for(IRQCHIP_GICV3, 1, &l);
	CHECK_EQ_U64(l.redist_size, 0x20000);
}

TEST(gic_layout_v3_its)
{
	struct gic_layout l;

	gic_layout_for(IRQCHIP_GICV3_ITS, 2, &l);
	CHECK_EQ_INT(l.version, 3);
	CHECK(l.its);
	CHECK_EQ_U64(l.dist_base, 0x08000000);
	CHECK_EQ_U64(l.dist_size, 0x10000);
	CHECK_EQ_U64(l.its_base, 0x08080000);
	CHECK_EQ_U64(l.its_size, 0x20000);
	CHECK_EQ_U64(l.redist_base, 0x080a0000);
	CHECK_EQ_U64(l.redist_size, 2 * 0x20000);
	/* dist < ITS < redistributors, no overlap. */
	CHECK(l.dist_base + l.dist_size <= l.its_base);
	CHECK(l.its_base + l.its_size <= l.redist_base);
}

TEST(gic_layout_v2)
{
	struct gic_layout l;

	memset(&l, 0xa5, sizeof(l));
	gic_layout_for(IRQCHIP_GICV2, 8, &l);
	CHECK_EQ_INT(l.version, 2);
	CHECK(!l.its);
	CHECK_EQ_U64(l.dist_base, 0x08000000);
	CHECK_EQ_U64(l.dist_size, 0x1000);
	CHECK_EQ_U64(l.cpu_base, 0x08010000);
	CHECK_EQ_U64(l.cpu_size, 0x2000);
	CHECK_EQ_U64(l.redist_base, 0);
	CHECK_EQ_U64(l.redist_size, 0);
	CHECK(l.dist_base + l.dist_size <= l.cpu_base);
}

TEST(gic_max_cpus)
{
	static const enum irqchip_model v3[] = { IRQCHIP_GICV3, IRQCHIP_GICV3_ITS };
	struct gic_layout l;

	CHECK_EQ_U64(gic_max_cpus(IRQCHIP_GICV2), 8);
	for (unsigned int i = 0; i < ARRAY_SIZE(v3); i++) {
		unsigned int max = gic_max_cpus(v3[i]);

		/* 0x080a0000..0x09000000 in 128 KiB frames. */
		CHECK_EQ_U64(max, 123);
		/* The largest layout ends before the UART; one more would not. */
		gic_layout_for(v3[i], max, &l);
		CHECK(l.redist_base + l.redist_size <= GICV3_REDIST_END);
		CHECK(l.redist_base + l.redist_size <= UART0_BASE);
		gic_layout_for(v3[i], max + 1, &l);
		CHECK(l.redist_base + l.redist_size > GICV3_REDIST_END);
	}
}

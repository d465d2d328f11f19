/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The quick guest's init (quickguest/init.c, built static for arm64 by the
 * Makefile into build/quickguest/init), carried inside lvmm: guestfs.c
 * writes it to ~/.lvmm/NAME/virt/init.
 */
	.section .rodata.quick_init, "a"
	.balign 16
	.global quick_init_start
quick_init_start:
	.incbin "build/quickguest/init"
	.global quick_init_end
quick_init_end:
	.section .note.GNU-stack, "", %progbits

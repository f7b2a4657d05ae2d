/* SPDX-License-Identifier: MIT */
/*
 * The benchmark guest: a PVH ELF whose entry writes one byte to COM1 (the
 * "first guest instruction" the benchmark waits for), then halts for good.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18		/* name size, descriptor size, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long entry

	.section .text.entry, "ax"
	.code32
	.globl entry
entry:
	mov $0x3f8, %dx
	mov $'!', %al
	out %al, %dx
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

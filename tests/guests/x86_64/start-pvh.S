/* SPDX-License-Identifier: MIT */
/*
 * PVH entry of the test guests: the Xen ELF note 18 gives the 32-bit entry;
 * the VMM enters it in flat 32-bit protected mode with paging off and %ebx
 * pointing at the hvm_start_info. Switch to long mode and call pvh_main().
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* name size */
	.long 4			/* descriptor size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long pvh_start

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	mov %ebx, %esi
	lgdt gdt64_ptr
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER */
	rdmsr
	or $0x100, %eax			/* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG | PE */
	mov %eax, %cr0
	ljmp $0x08, $long_entry

	.code64
long_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $stack_top, %rsp
	mov %esi, %edi
	call pvh_main
	call reset_machine
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

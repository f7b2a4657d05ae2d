/* SPDX-License-Identifier: MIT */
/*
 * A test guest in bzImage format: a real-mode setup area (boot sector plus one
 * setup sector) carrying the Linux setup header (boot protocol 2.15, 64-bit
 * entry, relocatable), then the protected-mode part, linked at 1 MiB, whose
 * 64-bit entry is 0x200 bytes in, as in Linux's startup_64. The VMM enters it
 * in long mode with %rsi pointing at the zero page.
 */
	.section .setup, "a"
	.code16
setup_start:
	.org 0x1f1
	.byte 1				/* setup_sects */
	.word 0				/* root_flags */
	.long 0				/* syssize (unused by the VMM) */
	.word 0				/* ram_size */
	.word 0xffff			/* vid_mode */
	.word 0				/* root_dev */
	.word 0xaa55			/* boot_flag */
	.byte 0xeb, hdr_end - 0x202	/* jump; its offset is the header length */
	.ascii "HdrS"
	.word 0x020f			/* boot protocol 2.15 */
	.long 0				/* realmode_swtch */
	.word 0				/* start_sys_seg */
	.word 0				/* kernel_version */
	.byte 0				/* type_of_loader */
	.byte 0x01			/* loadflags: LOADED_HIGH */
	.word 0				/* setup_move_size */
	.long 0x100000			/* code32_start */
	.long 0				/* ramdisk_image */
	.long 0				/* ramdisk_size */
	.long 0				/* bootsect_kludge */
	.word 0				/* heap_end_ptr */
	.byte 0, 0			/* ext_loader_ver, ext_loader_type */
	.long 0				/* cmd_line_ptr */
	.long 0x7fffffff		/* initrd_addr_max */
	.long 0x200000			/* kernel_alignment */
	.byte 1				/* relocatable_kernel */
	.byte 21			/* min_alignment */
	.word 0x0001			/* xloadflags: XLF_KERNEL_64 */
	.long 2047			/* cmdline_size */
	.long 0				/* hardware_subarch */
	.quad 0				/* hardware_subarch_data */
	.long 0				/* payload_offset */
	.long 0				/* payload_length */
	.quad 0				/* setup_data */
	.quad 0x100000			/* pref_address */
	.long 0x200000			/* init_size */
	.long 0				/* handover_offset */
	.long 0				/* kernel_info_offset */
hdr_end:
	.org 0x400

	.section .text.entry, "ax"
	.code32
startup_32:
	/* The 32-bit entry is not used by virtkit-vm. */
	hlt
	jmp startup_32
	.org 0x200
	.code64
	.globl startup_64
startup_64:
	/* Zero .bss (the VMM copies only the file), then use our own stack. */
	mov %rsi, %r12
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	lea stack_top(%rip), %rsp
	lgdt gdt64_ptr(%rip)
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %r12, %rdi
	call bz_main
	call reset_machine
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

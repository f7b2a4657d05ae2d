/* SPDX-License-Identifier: MIT */
/*
 * Shared low-level pieces of the x86-64 test guests: identity page tables for
 * the first 4 GiB (built by the assembler, so the guest spends no
 * instructions on them), a GDT, a stub per interrupt vector, fatal exception
 * entry, and interrupts without IRET.
 *
 * Why no IRET: KVM's instruction emulator, which this project's kvm_pvm host
 * uses for non-PVM guests, implements IRET only in real mode. So interrupts
 * are taken only inside wait_irq() (IF is 0 everywhere else), and the handler
 * discards the interrupt frame and jumps back into wait_irq()'s caller.
 */
	.section .data
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + 3
	.fill 511, 8, 0
pdpt:
	.quad pd0 + 3
	.quad pd0 + 0x1000 + 3
	.quad pd0 + 0x2000 + 3
	.quad pd0 + 0x3000 + 3
	.fill 508, 8, 0
pd0:
	.set addr, 0
	.rept 2048
	.quad addr + 0x83
	.set addr, addr + 0x200000
	.endr

	.balign 16
	.globl gdt64, gdt64_ptr
gdt64:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00cf9b000000ffff	/* 0x18: 32-bit code */
gdt64_end:
gdt64_ptr:
	.word gdt64_end - gdt64 - 1
	.quad gdt64

	.section .bss
	.balign 16
	.globl stack_bottom, stack_top
stack_bottom:
	.skip 16384
stack_top:
	.globl irq_resume_rsp, irq_last_vector
irq_resume_rsp:
	.skip 8
irq_last_vector:
	.skip 8

	.section .text
	.code64
/* 256 stubs of 16 bytes each: push the vector, go to the common entry. */
	.balign 16
	.globl irq_stubs
irq_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	pushq $vec
	.if vec < 32
	jmp exc_common
	.else
	jmp irq_common
	.endif
	.set vec, vec + 1
	.endr

exc_common:
	/* Fatal: report the vector and the two words above it (error code / RIP). */
	mov (%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	lea stack_top(%rip), %rsp
	call guest_exception
1:	hlt
	jmp 1b

irq_common:
	mov (%rsp), %rax
	mov %rax, irq_last_vector(%rip)
	/* No EOI here: the caller acknowledges the device first, then calls lapic_eoi(),
	 * so a level-triggered line is low again when the IOAPIC sees the EOI. */
	mov irq_resume_rsp(%rip), %rsp
	jmp irq_resume

/* unsigned wait_irq(void) */
	.globl wait_irq
wait_irq:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, irq_resume_rsp(%rip)
	sti
1:	hlt
	jmp 1b
irq_resume:
	mov irq_last_vector(%rip), %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.section .note.GNU-stack, "", @progbits

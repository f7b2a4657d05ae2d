/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 hart's accessors of guest RAM: plain loads and stores of 1, 2, 4
 * or 8 bytes (unaligned allowed), instruction fetch, the A extension's atomics
 * and the `fence` rule (docs/threading.md, "Guest memory model").
 *
 * Guest RAM is outside the C memory model: harts on other threads and devices
 * touch it as the guest orders them (RVWMO, kept by the host's TSO plus the
 * fences below). Every C access to guest RAM made on a hart thread goes
 * through these functions, which ThreadSanitizer builds leave uninstrumented
 * (RV_GUEST_RAM): TSan then checks all of our own state and none of the
 * guest's. In other builds they are always inlined, a single host load or
 * store of the same size, as the fast paths need.
 */
#ifndef VK_VM_EMU_RISCV64_GUEST_RAM_H
#define VK_VM_EMU_RISCV64_GUEST_RAM_H

#include <stdbool.h>
#include <stdint.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define RV_GUEST_RAM static __attribute__((no_sanitize("thread"), noinline, unused))
#else
#define RV_GUEST_RAM static inline __attribute__((always_inline))
#endif

typedef uint16_t rv_u16_una __attribute__((aligned(1), may_alias));
typedef uint32_t rv_u32_una __attribute__((aligned(1), may_alias));
typedef uint64_t rv_u64_una __attribute__((aligned(1), may_alias));

/* Load size bytes (1, 2, 4 or 8) at p, zero-extended. */
RV_GUEST_RAM uint64_t rv_ram_load(const void *p, unsigned size)
{
	switch (size) {
	case 1:
		return *(const volatile uint8_t *)p;
	case 2:
		return *(const volatile rv_u16_una *)p;
	case 4:
		return *(const volatile rv_u32_una *)p;
	default:
		return *(const volatile rv_u64_una *)p;
	}
}

/* Store the low size bytes (1, 2, 4 or 8) of v at p. */
RV_GUEST_RAM void rv_ram_store(void *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(volatile rv_u16_una *)p = (uint16_t)v;
		break;
	case 4:
		*(volatile rv_u32_una *)p = (uint32_t)v;
		break;
	default:
		*(volatile rv_u64_una *)p = v;
		break;
	}
}

/*
 * `fence pred, succ` (imm: the instruction's fm:pred:succ field, bits 31:20).
 * The host (x86-64, TSO) keeps every order RVWMO asks for except an earlier
 * store before a later load: only a fence whose predecessor set has W and
 * whose successor set has R needs a host full fence. fence.tso (fm = 1000)
 * orders everything but W->R, so it needs none either. Device accesses (I, O)
 * are synchronous calls under the machine lock, already ordered.
 */
#define RV_FENCE_PAUSE 0x010u /* Zihintpause `pause`: fence w, 0 */
#define RV_FENCE_PW    (1u << 4)
#define RV_FENCE_SR    (1u << 1)
#define RV_FENCE_TSO   (8u << 8)
static inline bool rv_fence_needs_host_fence(uint32_t imm)
{
	return (imm & 0xf00) != RV_FENCE_TSO && (imm & RV_FENCE_PW) && (imm & RV_FENCE_SR);
}

static inline void rv_fence(uint32_t imm)
{
	if (rv_fence_needs_host_fence(imm))
#if defined(__x86_64__)
		/* mfence itself: it orders guest RAM, which is no concern of the C memory model
		 * (and GCC's ThreadSanitizer refuses atomic_thread_fence) */
		__asm__ __volatile__("mfence" ::: "memory");
#else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST); /* compiler barrier only */
}

#endif

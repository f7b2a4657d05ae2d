/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 real-time clock and CMOS RAM at ports 0x70 (index, bit 7
 * masks NMI) and 0x71 (data). Time registers follow the host's UTC clock
 * plus an offset the guest sets by writing them (with SET in register B);
 * BCD or binary and 12/24-hour modes as register B says. The update-in-
 * progress bit never reads as set, so readers never wait. No periodic, alarm
 * or update interrupts (their enable bits are stored but do nothing).
 *
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_RTC_H
#define VK_VM_HW_RTC_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71
#define RTC_CMOS_SIZE  128

struct rtc;

struct rtc *rtc_create(struct bus *pio, struct vk_error *err);
void rtc_destroy(struct rtc *r);

/* Set a byte of CMOS RAM (index >= 0x0e), e.g. the memory sizes firmware reads. */
void rtc_set_cmos(struct rtc *r, unsigned index, uint8_t value);

/* Record the guest RAM size in the CMOS memory-size bytes (what a BIOS would do). */
void rtc_set_memory_size(struct rtc *r, uint64_t below_4g, uint64_t above_4g);

#endif

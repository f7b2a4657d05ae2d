/* SPDX-License-Identifier: MIT */
/* The MC146818 RTC and CMOS RAM: time from the host clock plus a guest-set offset. */
#include "vm/hw/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG_SECONDS      0x00
#define REG_MINUTES      0x02
#define REG_HOURS        0x04
#define REG_DAY_OF_WEEK  0x06
#define REG_DAY_OF_MONTH 0x07
#define REG_MONTH        0x08
#define REG_YEAR         0x09
#define REG_A            0x0a
#define REG_B            0x0b
#define REG_C            0x0c
#define REG_D            0x0d
#define REG_CENTURY      0x32
#define REG_B_SET        0x80
#define REG_B_24H        0x02
#define REG_B_BINARY     0x04
#define REG_D_VRT        0x80
#define HOUR_PM          0x80

struct rtc {
	struct bus *pio;
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];
	int64_t offset; /* guest time - host time, seconds */
};

static uint8_t to_bcd(const struct rtc *r, unsigned v)
{
	if (r->cmos[REG_B] & REG_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & REG_B_BINARY)
		return v;
	return (unsigned)((v >> 4) * 10 + (v & 0xf));
}

static void rtc_now(const struct rtc *r, struct tm *tm)
{
	time_t t = time(NULL) + (time_t)r->offset;

	gmtime_r(&t, tm);
}

static uint8_t rtc_time_reg(const struct rtc *r, unsigned reg)
{
	struct tm tm;

	rtc_now(r, &tm);
	switch (reg) {
	case REG_SECONDS:
		return to_bcd(r, (unsigned)tm.tm_sec % 60);
	case REG_MINUTES:
		return to_bcd(r, (unsigned)tm.tm_min);
	case REG_HOURS:
		if (r->cmos[REG_B] & REG_B_24H)
			return to_bcd(r, (unsigned)tm.tm_hour);
		return (uint8_t)(to_bcd(r, (unsigned)(tm.tm_hour % 12 ? tm.tm_hour % 12 : 12)) |
		                 (tm.tm_hour >= 12 ? HOUR_PM : 0));
	case REG_DAY_OF_WEEK:
		return to_bcd(r, (unsigned)tm.tm_wday + 1);
	case REG_DAY_OF_MONTH:
		return to_bcd(r, (unsigned)tm.tm_mday);
	case REG_MONTH:
		return to_bcd(r, (unsigned)tm.tm_mon + 1);
	case REG_YEAR:
		return to_bcd(r, (unsigned)(tm.tm_year % 100));
	case REG_CENTURY:
		return to_bcd(r, (unsigned)(tm.tm_year + 1900) / 100);
	default:
		return 0;
	}
}

/* The guest wrote a time register: move the offset so that field reads back. */
static void rtc_set_time_reg(struct rtc *r, unsigned reg, uint8_t v)
{
	struct tm tm;
	unsigned val;
	time_t t;

	rtc_now(r, &tm);
	if (reg == REG_HOURS && !(r->cmos[REG_B] & REG_B_24H)) {
		val = from_bcd(r, v & 0x7f) % 12 + ((v & HOUR_PM) ? 12 : 0);
	} else {
		val = from_bcd(r, v);
	}
	switch (reg) {
	case REG_SECONDS:
		tm.tm_sec = (int)(val % 60);
		break;
	case REG_MINUTES:
		tm.tm_min = (int)(val % 60);
		break;
	case REG_HOURS:
		tm.tm_hour = (int)(val % 24);
		break;
	case REG_DAY_OF_MONTH:
		tm.tm_mday = (int)(val >= 1 && val <= 31 ? val : 1);
		break;
	case REG_MONTH:
		tm.tm_mon = (int)(val >= 1 && val <= 12 ? val - 1 : 0);
		break;
	case REG_YEAR:
		tm.tm_year = (tm.tm_year / 100) * 100 + (int)(val % 100);
		break;
	case REG_CENTURY:
		tm.tm_year = (int)(val % 100) * 100 - 1900 + tm.tm_year % 100;
		break;
	default:
		return; /* day of week follows from the date */
	}
	t = timegm(&tm);
	if (t != (time_t)-1)
		r->offset = (int64_t)t - (int64_t)time(NULL);
}

static bool rtc_is_time_reg(unsigned reg)
{
	return reg <= REG_YEAR || reg == REG_CENTURY;
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *r = opaque;
	unsigned reg = r->index;
	uint8_t v;

	if (offset == 0)
		return 0xff; /* the index register is write-only */
	if (rtc_is_time_reg(reg) && !(reg & 1 && reg < REG_DAY_OF_WEEK))
		return rtc_time_reg(r, reg);
	v = r->cmos[reg];
	if (reg == REG_A)
		v &= 0x7f; /* never update-in-progress */
	if (reg == REG_C)
		r->cmos[REG_C] = 0; /* reading clears the flags */
	return v;
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rtc *r = opaque;
	unsigned reg = r->index;
	uint8_t v = (uint8_t)value;

	if (offset == 0) {
		r->index = v & 0x7f; /* bit 7 masks NMI; nothing to mask here */
		return;
	}
	if (rtc_is_time_reg(reg) && !(reg & 1 && reg < REG_DAY_OF_WEEK)) {
		rtc_set_time_reg(r, reg, v);
		return;
	}
	switch (reg) {
	case REG_C:
	case REG_D:
		return; /* read-only */
	case REG_A:
		r->cmos[REG_A] = v & 0x7f;
		return;
	default:
		r->cmos[reg] = v;
	}
}

static const struct bus_ops rtc_ops = {.read = rtc_read, .write = rtc_write};

struct rtc *rtc_create(struct bus *pio, struct vk_error *err)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r) {
		vk_error_errno(err, ENOMEM, "RTC");
		return NULL;
	}
	r->pio = pio;
	r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[REG_B] = REG_B_24H;
	r->cmos[REG_D] = REG_D_VRT; /* the battery is fine */
	if (bus_register(pio, RTC_INDEX_PORT, 2, &rtc_ops, r, "rtc") < 0) {
		vk_error_set(err, EEXIST, "RTC: ports 0x70-0x71 are taken");
		free(r);
		return NULL;
	}
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	bus_unregister(r->pio, RTC_INDEX_PORT);
	free(r);
}

void rtc_set_cmos(struct rtc *r, unsigned index, uint8_t value)
{
	if (index >= 0x0e && index < RTC_CMOS_SIZE && index != REG_CENTURY)
		r->cmos[index] = value;
}

void rtc_set_memory_size(struct rtc *r, uint64_t below_4g, uint64_t above_4g)
{
	uint64_t ext_kb = below_4g > (1 << 20) ? (below_4g - (1 << 20)) >> 10 : 0;
	uint64_t above16 = below_4g > (16 << 20) ? (below_4g - (16 << 20)) >> 16 : 0;
	uint64_t high = above_4g >> 16;

	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	rtc_set_cmos(r, 0x15, 640 & 0xff); /* base memory, KiB */
	rtc_set_cmos(r, 0x16, 640 >> 8);
	rtc_set_cmos(r, 0x17, (uint8_t)ext_kb);
	rtc_set_cmos(r, 0x18, (uint8_t)(ext_kb >> 8));
	rtc_set_cmos(r, 0x30, (uint8_t)ext_kb);
	rtc_set_cmos(r, 0x31, (uint8_t)(ext_kb >> 8));
	rtc_set_cmos(r, 0x34, (uint8_t)above16);
	rtc_set_cmos(r, 0x35, (uint8_t)(above16 >> 8));
	rtc_set_cmos(r, 0x5b, (uint8_t)high);
	rtc_set_cmos(r, 0x5c, (uint8_t)(high >> 8));
	rtc_set_cmos(r, 0x5d, (uint8_t)(high >> 16));
}

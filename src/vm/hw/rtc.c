/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 RTC and CMOS RAM: time from the host clock plus a guest-set
 * offset; periodic, alarm and update-ended interrupts on a loop timer.
 */
#include "vm/hw/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "vm/loop.h"
#include "vm/registry.h"

#define REG_SECONDS      0x00
#define REG_ALARM_SEC    0x01
#define REG_MINUTES      0x02
#define REG_ALARM_MIN    0x03
#define REG_HOURS        0x04
#define REG_ALARM_HOUR   0x05
#define REG_DAY_OF_WEEK  0x06
#define REG_DAY_OF_MONTH 0x07
#define REG_MONTH        0x08
#define REG_YEAR         0x09
#define REG_A            0x0a
#define REG_B            0x0b
#define REG_C            0x0c
#define REG_D            0x0d
#define REG_CENTURY      0x32
#define REG_A_RATE       0x0f
#define REG_A_DV         0x70
#define REG_A_DV_32K     0x20 /* the divider runs on a 32.768 kHz time base */
#define REG_B_SET        0x80
#define REG_B_PIE        0x40
#define REG_B_AIE        0x20
#define REG_B_UIE        0x10
#define REG_B_24H        0x02
#define REG_B_BINARY     0x04
#define REG_C_IRQF       0x80
#define REG_C_FLAGS      0x70 /* PF, AF, UF: the same bits as their enables in B */
#define REG_C_PF         0x40
#define REG_C_AF         0x20
#define REG_C_UF         0x10
#define REG_D_VRT        0x80
#define HOUR_PM          0x80
#define ALARM_ANY        0xc0 /* an alarm byte with both top bits set matches any value */
#define NS               1000000000ull
#define PERIOD_MIN_NS    (NS / 1024) /* the fastest the host timer ticks */

struct rtc {
	struct bus *pio;
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];
	int64_t offset; /* guest time - host time, seconds */
	/* Interrupts, once rtc_set_irq() wired them (timer non-NULL). */
	struct irq_line irq;
	struct vm_timer *timer;
	int64_t last_sec;      /* the guest second of the last update cycle seen */
	uint64_t period_start; /* monotonic ns the periodic phase counts from */
	uint64_t periods;      /* periods elapsed since then at the last sync */
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

/* A time register's value for tm, in the mode register B selects. */
static uint8_t rtc_encode(const struct rtc *r, const struct tm *t, unsigned reg)
{
	const struct tm tm = *t;

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
	case REG_YEAR: /* from the full year: tm_year is negative before 1900 */
		return to_bcd(r, (unsigned)(tm.tm_year + 1900) % 100);
	case REG_CENTURY:
		return to_bcd(r, (unsigned)(tm.tm_year + 1900) / 100);
	default:
		return 0;
	}
}

static uint8_t rtc_time_reg(const struct rtc *r, unsigned reg)
{
	struct tm tm;

	rtc_now(r, &tm);
	return rtc_encode(r, &tm, reg);
}

/* ---- interrupts ---- */

/* The guest's current second (host real time plus the offset); *ns_left until the next. */
static int64_t rtc_guest_sec(const struct rtc *r, uint64_t *ns_left)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ns_left)
		*ns_left = NS - (uint64_t)ts.tv_nsec;
	return (int64_t)ts.tv_sec + r->offset;
}

static bool rtc_running(const struct rtc *r)
{
	return (r->cmos[REG_A] & REG_A_DV) == REG_A_DV_32K;
}

/* The periodic interrupt's period (register A's rate select), 0 when off. */
static uint64_t rtc_period_ns(const struct rtc *r)
{
	unsigned rate = r->cmos[REG_A] & REG_A_RATE;

	if (rate == 0 || !rtc_running(r))
		return 0;
	if (rate < 3)
		rate += 7; /* rates 1 and 2 are 256 and 128 Hz, as 8 and 9 */
	return (NS << (rate - 1)) >> 15;
}

static bool rtc_alarm_matches(const struct rtc *r, int64_t sec)
{
	static const unsigned regs[][2] = {{REG_ALARM_SEC, REG_SECONDS},
	                                   {REG_ALARM_MIN, REG_MINUTES},
	                                   {REG_ALARM_HOUR, REG_HOURS}};
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t a = r->cmos[regs[i][0]];

		if ((a & ALARM_ANY) != ALARM_ANY && a != rtc_encode(r, &tm, regs[i][1]))
			return false;
	}
	return true;
}

/* IRQF and the line follow the flags and their enables. */
static void rtc_update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[REG_C] & REG_C_FLAGS;

	if (c & r->cmos[REG_B])
		c |= REG_C_IRQF;
	r->cmos[REG_C] = c;
	irq_set(&r->irq, c & REG_C_IRQF);
}

/* Bring the flags up to now: periods elapsed, an update cycle (and the alarm) per new second. */
static void rtc_sync(struct rtc *r)
{
	uint64_t period = rtc_period_ns(r), n;
	int64_t sec;

	if (!r->timer)
		return;
	if (period) {
		n = (vk_now_ns() - r->period_start) / period;
		if (n != r->periods)
			r->cmos[REG_C] |= REG_C_PF;
		r->periods = n;
	}
	sec = rtc_guest_sec(r, NULL);
	if (sec != r->last_sec && rtc_running(r) && !(r->cmos[REG_B] & REG_B_SET)) {
		r->cmos[REG_C] |= REG_C_UF;
		if (rtc_alarm_matches(r, sec))
			r->cmos[REG_C] |= REG_C_AF;
	}
	r->last_sec = sec;
	rtc_update_irq(r);
}

/* Restart the periodic phase (register A changed). */
static void rtc_restart_period(struct rtc *r)
{
	r->period_start = vk_now_ns();
	r->periods = 0;
}

/* Arm the timer for the next event an enabled interrupt needs, or disarm it. */
static void rtc_arm(struct rtc *r)
{
	uint64_t now = vk_now_ns(), next = UINT64_MAX, period = rtc_period_ns(r), left;

	if (!r->timer)
		return;
	if ((r->cmos[REG_B] & REG_B_PIE) && period)
		next = VK_MAX(r->period_start + (r->periods + 1) * period, now + PERIOD_MIN_NS);
	if (r->cmos[REG_B] & (REG_B_AIE | REG_B_UIE)) {
		rtc_guest_sec(r, &left);
		next = VK_MIN(next, now + left + NS / 1000); /* just past the second */
	}
	if (next == UINT64_MAX)
		vm_timer_del(r->timer);
	else
		vm_timer_mod(r->timer, next);
}

static void rtc_timer(void *opaque)
{
	struct rtc *r = opaque;

	rtc_sync(r);
	rtc_arm(r);
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
	case REG_YEAR: /* keep the century; work on the full year, never negative here */
		tm.tm_year = ((tm.tm_year + 1900) / 100) * 100 + (int)(val % 100) - 1900;
		break;
	case REG_CENTURY:
		tm.tm_year = (int)(val % 100) * 100 + (tm.tm_year + 1900) % 100 - 1900;
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
	if (reg == REG_C)
		rtc_sync(r);
	v = r->cmos[reg];
	if (reg == REG_A)
		v &= 0x7f; /* never update-in-progress */
	if (reg == REG_C) {
		r->cmos[REG_C] = 0; /* reading clears the flags */
		irq_set(&r->irq, false);
	}
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
		rtc_sync(r);
		rtc_set_time_reg(r, reg, v);
		r->last_sec = rtc_guest_sec(r, NULL); /* a new time is no update cycle */
		rtc_arm(r);
		return;
	}
	switch (reg) {
	case REG_C:
	case REG_D:
		return; /* read-only */
	case REG_A:
		rtc_sync(r);
		if ((r->cmos[REG_A] ^ v) & (REG_A_RATE | REG_A_DV))
			rtc_restart_period(r);
		r->cmos[REG_A] = v & 0x7f;
		rtc_arm(r);
		return;
	case REG_B:
		rtc_sync(r);
		r->cmos[REG_B] = v;
		rtc_update_irq(r);
		rtc_arm(r);
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
	if (r->timer)
		vm_timer_free(r->timer);
	free(r);
}

int rtc_set_irq(struct rtc *r, struct vm_loop *loop, struct irq_line irq, struct vk_error *err)
{
	if (r->timer)
		return vk_error_set(err, EBUSY, "RTC: the interrupt is already wired");
	r->timer = vm_timer_new(loop, rtc_timer, r);
	if (!r->timer)
		return vk_error_errno(err, ENOMEM, "RTC timer");
	r->irq = irq;
	r->last_sec = rtc_guest_sec(r, NULL);
	rtc_restart_period(r);
	rtc_sync(r);
	rtc_arm(r);
	return 0;
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

/* ---- saving and restoring (registry.h) ---------------------------------------------- */

/*
 * The index register, the CMOS bytes (registers A-D among them) and the
 * guest's clock offset from the host's; the periodic phase starts afresh at
 * the restore (the guest sees at most one period stretched).
 */
static void rtc_state_save(void *opaque, struct vm_state_buf *b)
{
	struct rtc *r = opaque;

	vm_state_put_u8(b, r->index);
	vm_state_put_bytes(b, r->cmos, sizeof(r->cmos));
	vm_state_put_u64(b, (uint64_t)r->offset);
	vm_state_put_u64(b, (uint64_t)r->last_sec);
}

static int rtc_state_load(void *opaque, struct vm_state_rd *rd, uint32_t version,
                          struct vk_error *err)
{
	struct rtc *r = opaque;
	uint8_t index = vm_state_get_u8(rd);
	uint8_t cmos[RTC_CMOS_SIZE];
	int64_t offset, last;

	vm_state_get_bytes(rd, cmos, sizeof(cmos));
	offset = (int64_t)vm_state_get_u64(rd);
	last = (int64_t)vm_state_get_u64(rd);
	if (rd->bad)
		return 0;
	/* gmtime_r() must stay in range: +-10000 years of offset is plenty. */
	if (index >= RTC_CMOS_SIZE || offset > 316000000000ll || offset < -316000000000ll ||
	    (cmos[REG_C] & ~(REG_C_IRQF | REG_C_FLAGS)))
		return vk_error_set(err, EINVAL,
		                    "RTC: index 0x%x, clock offset %lld s or register C 0x%x is "
		                    "invalid",
		                    index, (long long)offset, cmos[REG_C]);
	r->index = index;
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->offset = offset;
	r->last_sec = last;
	return 0;
}

static int rtc_state_post_load(void *opaque, struct vk_error *err)
{
	struct rtc *r = opaque;

	if (!r->timer)
		return 0;
	rtc_restart_period(r);
	rtc_update_irq(r);
	rtc_arm(r);
	return 0;
}

static const struct vm_device_ops rtc_state_ops = {
        .kind = "mc146818 rtc",
        .version = 1,
        .save = rtc_state_save,
        .load = rtc_state_load,
        .post_load = rtc_state_post_load,
};

int rtc_register(struct rtc *r, struct vm_registry *reg, const char *name, struct vk_error *err)
{
	return vm_registry_add(reg, name, &rtc_state_ops, r, err);
}

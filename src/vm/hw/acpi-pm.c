/* SPDX-License-Identifier: MIT */
/* ACPI PM1 event/control registers, S5 power-off, the power button and the PM timer. */
#include "vm/hw/acpi-pm.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/registry.h"

#define PM1_TMR_BIT    (1u << 0)
#define PM1_GBL_BIT    (1u << 5)
#define PM1_SLPBTN_BIT (1u << 9)
#define PM1_RTC_BIT    (1u << 10)
/* Status bits with an enable of the same position: what raises the SCI. */
#define PM1_EVENTS      (PM1_TMR_BIT | PM1_GBL_BIT | ACPI_PM1_PWRBTN | PM1_SLPBTN_BIT | PM1_RTC_BIT)
#define PM1_CNT_BM_RLD  (1u << 1)
#define PM1_CNT_SLP_TYP (7u << 10)
#define PM_TMR_MASK     0xffffffu

struct acpi_pm {
	struct bus *pio;
	uint16_t base;
	uint8_t s5;
	struct irq_line sci;
	void (*poweroff)(void *opaque);
	void *opaque;
	uint16_t sts, en, cnt;
	uint64_t start_ns;
	bool logged;
};

static void pm_update(struct acpi_pm *pm)
{
	irq_set(&pm->sci, (pm->sts & pm->en & PM1_EVENTS) != 0);
}

static uint32_t pm_timer(const struct acpi_pm *pm)
{
	uint64_t ns = vk_now_ns() - pm->start_ns;
	uint64_t ticks = ns / 1000000000u * ACPI_PM_TIMER_HZ +
	                 ns % 1000000000u * ACPI_PM_TIMER_HZ / 1000000000u;

	return (uint32_t)ticks & PM_TMR_MASK;
}

/* The register an offset falls in, as the guest reads it. */
static uint32_t pm_reg(const struct acpi_pm *pm, unsigned reg, uint32_t timer)
{
	switch (reg) {
	case ACPI_PM1_STS:
		return pm->sts;
	case ACPI_PM1_EN:
		return pm->en;
	case ACPI_PM1_CNT:
		return pm->cnt | ACPI_PM1_SCI_EN; /* SLP_EN reads 0 */
	case ACPI_PM_TMR:
		return timer;
	default:
		return 0;
	}
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint32_t timer = offset + size > ACPI_PM_TMR ? pm_timer(pm) : 0;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)offset + i;
		unsigned reg = o >= ACPI_PM_TMR ? ACPI_PM_TMR : o & ~1u;

		v |= (uint64_t)((pm_reg(pm, reg, timer) >> (8 * (o - reg))) & 0xff) << (8 * i);
	}
	return v;
}

static void pm_sleep(struct acpi_pm *pm, unsigned typ)
{
	if (typ == pm->s5) {
		if (pm->poweroff)
			pm->poweroff(pm->opaque);
		return;
	}
	/* Only S5 exists: "wake up" at once so the guest's wait for WAK_STS ends. */
	vk_log_once(&pm->logged, VK_LOG_WARN,
	            "ACPI: the guest asked for sleep type %u; only S5 (%u) is supported", typ,
	            pm->s5);
	pm->sts |= ACPI_PM1_WAK_STS;
}

/* A write of the bytes in mask (val already in place) to one 16-bit register. */
static void pm_reg_write(struct acpi_pm *pm, unsigned reg, uint16_t val, uint16_t mask)
{
	switch (reg) {
	case ACPI_PM1_STS:
		pm->sts &= (uint16_t) ~(val & mask);
		break;
	case ACPI_PM1_EN:
		pm->en = (uint16_t)((pm->en & ~mask) | (val & mask & PM1_EVENTS));
		break;
	case ACPI_PM1_CNT:
		pm->cnt = (uint16_t)((pm->cnt & ~mask) |
		                     (val & mask & (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP)));
		if (val & mask & ACPI_PM1_SLP_EN)
			pm_sleep(pm, (pm->cnt & PM1_CNT_SLP_TYP) >> 10);
		break;
	default: /* reserved bytes and the read-only timer */
		break;
	}
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;

	for (unsigned reg = 0; reg < ACPI_PM_TMR; reg += 2) {
		uint16_t val = 0, mask = 0;

		for (unsigned i = 0; i < size; i++) {
			unsigned o = (unsigned)offset + i;

			if ((o & ~1u) != reg)
				continue;
			mask |= (uint16_t)(0xff << (8 * (o & 1)));
			val |= (uint16_t)(((value >> (8 * i)) & 0xff) << (8 * (o & 1)));
		}
		if (mask)
			pm_reg_write(pm, reg, val, mask);
	}
	pm_update(pm);
}

static const struct bus_ops acpi_pm_ops = {.read = pm_read, .write = pm_write};

struct acpi_pm *acpi_pm_create(struct bus *pio, uint16_t base, uint8_t s5_slp_typ,
                               struct irq_line sci, void (*poweroff)(void *opaque), void *opaque,
                               struct vk_error *err)
{
	struct acpi_pm *pm;

	if (s5_slp_typ > 7) {
		vk_error_set(err, EINVAL, "ACPI: SLP_TYP %u does not fit in 3 bits", s5_slp_typ);
		return NULL;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		vk_error_errno(err, ENOMEM, "ACPI PM");
		return NULL;
	}
	pm->pio = pio;
	pm->base = base;
	pm->s5 = s5_slp_typ;
	pm->sci = sci;
	pm->poweroff = poweroff;
	pm->opaque = opaque;
	pm->start_ns = vk_now_ns();
	if (bus_register(pio, base, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm") < 0) {
		vk_error_set(err, EEXIST, "ACPI PM: ports 0x%x-0x%x are taken", base,
		             base + ACPI_PM_LEN - 1);
		free(pm);
		return NULL;
	}
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	bus_unregister(pm->pio, pm->base);
	free(pm);
}

bool acpi_pm_power_button(struct acpi_pm *pm)
{
	if (!(pm->en & ACPI_PM1_PWRBTN))
		return false;
	pm->sts |= ACPI_PM1_PWRBTN;
	pm_update(pm);
	return true;
}

/* ---- saving and restoring (registry.h) ---------------------------------------------- */

/* PM1 status, enable and control, and the PM timer's count (it goes on from there). */
static void pm_state_save(void *opaque, struct vm_state_buf *b)
{
	struct acpi_pm *pm = opaque;

	vm_state_put_u16(b, pm->sts);
	vm_state_put_u16(b, pm->en);
	vm_state_put_u16(b, pm->cnt);
	vm_state_put_u64(b, vk_now_ns() - pm->start_ns);
}

static int pm_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                         struct vk_error *err)
{
	struct acpi_pm *pm = opaque;
	uint16_t sts = vm_state_get_u16(r), en = vm_state_get_u16(r), cnt = vm_state_get_u16(r);
	uint64_t ran = vm_state_get_u64(r);

	if (r->bad)
		return 0;
	if ((en & ~PM1_EVENTS) || (cnt & ~(PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP)))
		return vk_error_set(err, EINVAL, "ACPI PM: enable 0x%x or control 0x%x is invalid",
		                    en, cnt);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt;
	/* Modulo 2^64 like pm_timer()'s subtraction: only the low 24 bits of ticks show. */
	pm->start_ns = vk_now_ns() - ran;
	return 0;
}

static int pm_state_post_load(void *opaque, struct vk_error *err)
{
	pm_update(opaque);
	return 0;
}

static const struct vm_device_ops pm_state_ops = {
        .kind = "acpi-pm",
        .version = 1,
        .save = pm_state_save,
        .load = pm_state_load,
        .post_load = pm_state_post_load,
};

int acpi_pm_register(struct acpi_pm *pm, struct vm_registry *reg, const char *name,
                     struct vk_error *err)
{
	return vm_registry_add(reg, name, &pm_state_ops, pm, err);
}

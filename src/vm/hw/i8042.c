/* SPDX-License-Identifier: MIT */
/* The i8042 keyboard controller: command byte, self tests, output port reset, a keyboard. */
#include "vm/hw/i8042.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vm/registry.h"

#define STATUS_OBF    0x01 /* output buffer full */
#define STATUS_SYS    0x04 /* system flag, from the command byte */
#define STATUS_CMD    0x08 /* last write went to the command port */
#define STATUS_AUXB   0x20 /* the output byte comes from the aux port */

#define CTR_KBDINT    0x01
#define CTR_AUXINT    0x02
#define CTR_SYS       0x04
#define CTR_KBDDIS    0x10
#define CTR_AUXDIS    0x20
#define CTR_XLATE     0x40

#define OUTPORT_RESET 0x01 /* active low: 0 resets the CPU */
#define OUTPORT_A20   0x02

#define KBD_ACK       0xfa
#define KBD_RESEND    0xfe

#define FIFO_SIZE     32

struct i8042 {
	struct bus *pio;
	struct irq_line kbd_irq, aux_irq;
	void (*reset)(void *opaque);
	void *opaque;
	uint8_t status;
	uint8_t ctr;
	uint8_t outport;
	uint8_t pending_cmd; /* controller command waiting for its data byte, 0: none */
	uint8_t kbd_cmd;     /* keyboard command waiting for its argument, 0: none */
	/* Output FIFO: bytes with their source (bit 8 set: aux). */
	uint16_t fifo[FIFO_SIZE];
	unsigned head, count;
	bool logged;
};

static void i8042_update(struct i8042 *k)
{
	bool kbd = false, aux = false;

	k->status &= (uint8_t) ~(STATUS_OBF | STATUS_AUXB | STATUS_SYS);
	if (k->ctr & CTR_SYS)
		k->status |= STATUS_SYS;
	if (k->count) {
		bool from_aux = k->fifo[k->head] & 0x100;

		k->status |= STATUS_OBF | (from_aux ? STATUS_AUXB : 0);
		aux = from_aux && (k->ctr & CTR_AUXINT);
		kbd = !from_aux && (k->ctr & CTR_KBDINT);
	}
	/* A new byte after a read is a new rising edge (the ISA lines are edge-triggered). */
	irq_set(&k->kbd_irq, kbd);
	irq_set(&k->aux_irq, aux);
}

static void i8042_queue(struct i8042 *k, uint8_t byte, bool aux)
{
	if (k->count == FIFO_SIZE)
		return; /* the guest is not reading; drop, as a full controller would */
	k->fifo[(k->head + k->count++) % FIFO_SIZE] = byte | (aux ? 0x100 : 0);
	i8042_update(k);
}

static void i8042_do_reset(struct i8042 *k)
{
	if (k->reset)
		k->reset(k->opaque);
}

static void i8042_kbd_write(struct i8042 *k, uint8_t v)
{
	if (k->kbd_cmd) {
		/* The argument of LEDs / typematic / scancode set. */
		if (k->kbd_cmd == 0xf0 && v == 0) {
			i8042_queue(k, KBD_ACK, false);
			i8042_queue(k, 0x02, false); /* scancode set 2 */
		} else {
			i8042_queue(k, KBD_ACK, false);
		}
		k->kbd_cmd = 0;
		return;
	}
	switch (v) {
	case 0xff: /* reset and self-test */
		i8042_queue(k, KBD_ACK, false);
		i8042_queue(k, 0xaa, false);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		i8042_queue(k, KBD_ACK, false);
		i8042_queue(k, 0xab, false);
		i8042_queue(k, 0x83, false);
		break;
	case 0xee: /* echo */
		i8042_queue(k, 0xee, false);
		break;
	case 0xed: /* set LEDs */
	case 0xf0: /* scancode set */
	case 0xf3: /* typematic rate */
		k->kbd_cmd = v;
		i8042_queue(k, KBD_ACK, false);
		break;
	default: /* enable, disable, defaults, ... */
		i8042_queue(k, KBD_ACK, false);
		break;
	}
}

static void i8042_data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case 0x60: /* write command byte */
		k->ctr = v;
		i8042_update(k);
		break;
	case 0xd1: /* write output port */
		k->outport = v;
		if (!(v & OUTPORT_RESET))
			i8042_do_reset(k);
		break;
	case 0xd2: /* write keyboard output buffer */
		i8042_queue(k, v, false);
		break;
	case 0xd3: /* write aux output buffer */
		i8042_queue(k, v, true);
		break;
	case 0xd4: /* write to the aux device: there is no mouse */
		i8042_queue(k, KBD_RESEND, true);
		break;
	default:
		i8042_kbd_write(k, v);
		break;
	}
}

static void i8042_command(struct i8042 *k, uint8_t c)
{
	switch (c) {
	case 0x20: /* read command byte */
		i8042_queue(k, k->ctr, false);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_cmd = c;
		break;
	case 0xa7: /* disable aux */
		k->ctr |= CTR_AUXDIS;
		break;
	case 0xa8: /* enable aux */
		k->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case 0xa9: /* test aux port: OK */
	case 0xab: /* test keyboard port: OK */
		i8042_queue(k, 0x00, false);
		break;
	case 0xaa: /* controller self-test */
		i8042_queue(k, 0x55, false);
		break;
	case 0xad: /* disable keyboard */
		k->ctr |= CTR_KBDDIS;
		break;
	case 0xae: /* enable keyboard */
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case 0xc0: /* read input port: keyboard not locked */
		i8042_queue(k, 0x80, false);
		break;
	case 0xd0: /* read output port */
		i8042_queue(k, k->outport, false);
		break;
	default:
		/* 0xf0-0xff pulse output lines low for 6 us; bit 0 is the CPU reset. */
		if (c >= 0xf0) {
			if (!(c & OUTPORT_RESET))
				i8042_do_reset(k);
			break;
		}
		vk_log_once(&k->logged, VK_LOG_DEBUG, "i8042: command 0x%02x ignored", c);
		break;
	}
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = 0;

	if (k->count) {
		v = (uint8_t)k->fifo[k->head];
		k->head = (k->head + 1) % FIFO_SIZE;
		k->count--;
		/* Drop the line first so the next byte (if any) is a fresh edge. */
		irq_set(&k->kbd_irq, false);
		irq_set(&k->aux_irq, false);
		i8042_update(k);
	} else {
		/* Reading an empty buffer returns the last byte again. */
		v = (uint8_t)k->fifo[(k->head + FIFO_SIZE - 1) % FIFO_SIZE];
	}
	return v;
}

static void i8042_data_write_op(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct i8042 *k = opaque;

	k->status &= (uint8_t)~STATUS_CMD;
	i8042_data_write(k, (uint8_t)value);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;

	return k->status;
}

static void i8042_command_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct i8042 *k = opaque;

	k->status |= STATUS_CMD;
	i8042_command(k, (uint8_t)value);
}

static const struct bus_ops i8042_data_ops = {.read = i8042_data_read,
                                              .write = i8042_data_write_op};
static const struct bus_ops i8042_command_ops = {.read = i8042_status_read,
                                                 .write = i8042_command_write};

struct i8042 *i8042_create(struct bus *pio, struct irq_line kbd_irq, struct irq_line aux_irq,
                           void (*reset)(void *opaque), void *opaque, struct vk_error *err)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k) {
		vk_error_errno(err, ENOMEM, "i8042");
		return NULL;
	}
	k->pio = pio;
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->reset = reset;
	k->opaque = opaque;
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	k->outport = OUTPORT_RESET | OUTPORT_A20;
	if (bus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042-data") < 0) {
		vk_error_set(err, EEXIST, "i8042: port 0x60 is taken");
		free(k);
		return NULL;
	}
	if (bus_register(pio, I8042_COMMAND_PORT, 1, &i8042_command_ops, k, "i8042-command") < 0) {
		bus_unregister(pio, I8042_DATA_PORT);
		vk_error_set(err, EEXIST, "i8042: port 0x64 is taken");
		free(k);
		return NULL;
	}
	i8042_update(k);
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	bus_unregister(k->pio, I8042_DATA_PORT);
	bus_unregister(k->pio, I8042_COMMAND_PORT);
	free(k);
}

void i8042_send_ctrl_alt_del(struct i8042 *k)
{
	/* Scancode set 1 (what the guest sees through translation). */
	static const uint8_t seq[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};

	for (unsigned i = 0; i < sizeof(seq); i++)
		i8042_queue(k, seq[i], false);
}

/* ---- saving and restoring (registry.h) ---------------------------------------------- */

/* The status, command and output-port bytes, the commands waiting for data, the FIFO. */
static void i8042_state_save(void *opaque, struct vm_state_buf *b)
{
	struct i8042 *k = opaque;

	vm_state_put_u8(b, k->status);
	vm_state_put_u8(b, k->ctr);
	vm_state_put_u8(b, k->outport);
	vm_state_put_u8(b, k->pending_cmd);
	vm_state_put_u8(b, k->kbd_cmd);
	vm_state_put_u8(b, (uint8_t)k->count);
	for (unsigned i = 0; i < k->count; i++)
		vm_state_put_u16(b, k->fifo[(k->head + i) % FIFO_SIZE]);
}

static int i8042_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                            struct vk_error *err)
{
	struct i8042 *k = opaque;
	unsigned count;

	k->status = vm_state_get_u8(r);
	k->ctr = vm_state_get_u8(r);
	k->outport = vm_state_get_u8(r);
	k->pending_cmd = vm_state_get_u8(r);
	k->kbd_cmd = vm_state_get_u8(r);
	count = vm_state_get_u8(r);
	if (r->bad)
		return 0;
	if (count > FIFO_SIZE)
		return vk_error_set(err, EINVAL, "i8042: an output FIFO of %u bytes (at most %u)",
		                    count, FIFO_SIZE);
	k->head = 0;
	k->count = count;
	for (unsigned i = 0; i < count; i++) {
		k->fifo[i] = vm_state_get_u16(r);
		if (k->fifo[i] & ~0x1ffu)
			return vk_error_set(err, EINVAL, "i8042: FIFO entry 0x%x", k->fifo[i]);
	}
	return 0;
}

/* The lines as the state says (the board knows what it sent before the save). */
static int i8042_state_post_load(void *opaque, struct vk_error *err)
{
	i8042_update(opaque);
	return 0;
}

static const struct vm_device_ops i8042_state_ops = {
        .kind = "i8042",
        .version = 1,
        .save = i8042_state_save,
        .load = i8042_state_load,
        .post_load = i8042_state_post_load,
};

int i8042_register(struct i8042 *k, struct vm_registry *reg, const char *name, struct vk_error *err)
{
	return vm_registry_add(reg, name, &i8042_state_ops, k, err);
}

/* SPDX-License-Identifier: MIT */
/*
 * Asking a guest to power off on a board without a power button.
 *
 * 1. The guest agent, when the machine has an agent port: guest-sync first
 *    (is an agent there and listening?), then guest-shutdown, which lets the
 *    guest shut down its own way (qemu-ga runs `shutdown -P`). No answer to
 *    guest-sync within GP_AGENT_WAIT_NS: the agent is not running, go on to 2.
 * 2. Serial SysRq (Documentation/admin-guide/sysrq.rst): a break condition on
 *    the 16550 makes Linux's serial core take the next byte as a SysRq key
 *    (uart_handle_break(), uart_prepare_sysrq_char(); CONFIG_MAGIC_SYSRQ_SERIAL,
 *    only on the port that is the kernel's console). Three keys, one at a time:
 *      s  emergency sync: dirty data goes to the disks
 *      u  emergency remount read-only (which syncs again and quiesces journals)
 *      o  power off
 *    Each of s and u only queues work in the guest (emergency_sync(),
 *    emergency_remount()); o powers off without waiting for that work. So the
 *    next key waits until the guest prints the step's own line on its console
 *    ("Emergency Sync complete", "Emergency Remount complete", printk at the
 *    default level) or, for a guest whose console hides those (quiet),
 *    GP_STEP_WAIT_NS. A guest that takes the key says so on its console
 *    whatever its log level ("sysrq: Emergency Sync": __handle_sysrq() raises
 *    the console level for that line); one that has said nothing by then does
 *    not take SysRq (disabled, or the UART is not its console), and the
 *    sequence ends there rather than type more letters into its console.
 *
 * A key goes in only when the UART's receive FIFO has room (uart16550_inject),
 * retried every GP_RETRY_NS: a guest that does not read its serial line gets
 * nothing, rather than lost keys. A guest without SysRq sees a break and three
 * letters on its console; that is the price of asking one that has no agent.
 */
#include "vm/board/guest-poweroff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/guest-agent.h"
#include "vm/chardev.h"
#include "vm/hw/uart16550.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"

#define GP_AGENT_WAIT_NS (5 * 1000000000ull)
#define GP_STEP_WAIT_NS  (5 * 1000000000ull)
#define GP_RETRY_NS      (10 * 1000000ull)
#define GP_LINE_MAX      160

enum gp_step {
	GP_IDLE,
	GP_AGENT_SYNC,     /* guest-sync sent, waiting for its answer */
	GP_SYSRQ_SYNC,     /* break + s */
	GP_SYSRQ_REMOUNT,  /* break + u */
	GP_SYSRQ_POWEROFF, /* break + o */
	GP_DONE,           /* asked; the rest is the guest's */
};

struct guest_poweroff {
	struct vm_loop *loop;
	struct uart16550 *uart;    /* NULL: no serial line to send SysRq on */
	struct guest_agent *agent; /* NULL: no agent port */
	struct vm_timer *timer;
	void (*progress)(void *opaque, const char *method, const char *step);
	void *opaque;

	enum gp_step step;
	uint64_t deadline_ns; /* the step stops waiting for its completion then */
	bool step_done;       /* the step's completion was seen (console line, agent answer) */
	bool sysrq_seen;      /* the guest printed a "sysrq: " line since the first key */
	int keys[2];          /* what the step sends on the serial line: break, key */
	unsigned nkeys, keys_in;

	char line[GP_LINE_MAX]; /* the guest's console line being transmitted */
	size_t line_len;
};

static void gp_arm(struct guest_poweroff *p, uint64_t at)
{
	vm_timer_mod(p->timer, at);
}

/* Put what is left of the step's keys into the UART; false while some wait for room. */
static bool gp_push_keys(struct guest_poweroff *p)
{
	while (p->keys_in < p->nkeys) {
		if (uart16550_inject(p->uart, p->keys[p->keys_in]) < 0)
			return false;
		p->keys_in++;
	}
	return true;
}

static void gp_sysrq(struct guest_poweroff *p, enum gp_step step)
{
	static const char *const names[] = {
	        [GP_SYSRQ_SYNC] = "sync",
	        [GP_SYSRQ_REMOUNT] = "remount",
	        [GP_SYSRQ_POWEROFF] = "poweroff",
	};
	static const char keys[] = {
	        [GP_SYSRQ_SYNC] = 's',
	        [GP_SYSRQ_REMOUNT] = 'u',
	        [GP_SYSRQ_POWEROFF] = 'o',
	};

	p->step = step;
	p->step_done = false;
	p->keys[0] = UART16550_BREAK;
	p->keys[1] = keys[step];
	p->nkeys = 2;
	p->keys_in = 0;
	p->deadline_ns = vk_now_ns() + GP_STEP_WAIT_NS;
	p->progress(p->opaque, "sysrq", names[step]);
	if (!gp_push_keys(p)) {
		gp_arm(p, vk_now_ns() + GP_RETRY_NS);
	} else if (step == GP_SYSRQ_POWEROFF) {
		p->step = GP_DONE;
		vm_timer_del(p->timer);
	} else {
		gp_arm(p, p->deadline_ns);
	}
}

static void gp_timer(void *opaque)
{
	struct guest_poweroff *p = opaque;
	uint64_t now = vk_now_ns();

	switch (p->step) {
	case GP_AGENT_SYNC:
		if (now < p->deadline_ns)
			break;
		/* No agent answered: it is not running (yet, or at all). */
		if (!p->uart) {
			p->progress(p->opaque, "agent", "no-answer");
			p->step = GP_DONE;
			return;
		}
		p->progress(p->opaque, "sysrq", "fallback");
		p->sysrq_seen = false;
		gp_sysrq(p, GP_SYSRQ_SYNC);
		return;
	case GP_SYSRQ_SYNC:
	case GP_SYSRQ_REMOUNT:
	case GP_SYSRQ_POWEROFF:
		if (!gp_push_keys(p)) {
			gp_arm(p, now + GP_RETRY_NS);
			return;
		}
		if (p->step == GP_SYSRQ_POWEROFF) {
			p->step = GP_DONE;
			return;
		}
		if (!p->step_done && now < p->deadline_ns)
			break;
		if (!p->sysrq_seen) {
			/* It did not take the key: do not type the next ones into its console. */
			p->progress(p->opaque, "sysrq", "no-answer");
			p->step = GP_DONE;
			return;
		}
		gp_sysrq(p, p->step + 1);
		return;
	default:
		return;
	}
	gp_arm(p, p->deadline_ns);
}

static void gp_agent_synced(void *opaque)
{
	struct guest_poweroff *p = opaque;

	if (p->step != GP_AGENT_SYNC)
		return;
	guest_agent_shutdown(p->agent);
	p->step = GP_DONE;
	vm_timer_del(p->timer);
	p->progress(p->opaque, "agent", "shutdown");
}

/* The guest's console, byte by byte: look for the line that ends the current step. */
static void gp_tx_tap(void *opaque, uint8_t byte)
{
	struct guest_poweroff *p = opaque;
	const char *marker = NULL;

	if (byte != '\n' && byte != '\r') {
		if (p->line_len < GP_LINE_MAX - 1)
			p->line[p->line_len++] = (char)byte;
		return;
	}
	p->line[p->line_len] = '\0';
	p->line_len = 0;
	if (p->step == GP_SYSRQ_SYNC)
		marker = "Emergency Sync complete";
	else if (p->step == GP_SYSRQ_REMOUNT)
		marker = "Emergency Remount complete";
	if (p->step >= GP_SYSRQ_SYNC && p->step <= GP_SYSRQ_POWEROFF && strstr(p->line, "sysrq: "))
		p->sysrq_seen = true;
	if (marker && p->keys_in == p->nkeys && strstr(p->line, marker)) {
		p->step_done = true;
		gp_arm(p, vk_now_ns()); /* next key from the loop, not from inside a guest store */
	}
}

struct guest_poweroff *
guest_poweroff_new(struct vm_loop *loop, struct uart16550 *uart, struct guest_agent *agent,
                   void (*progress)(void *opaque, const char *method, const char *step),
                   void *opaque, struct vk_error *err)
{
	struct guest_poweroff *p = calloc(1, sizeof(*p));

	if (!p || !(p->timer = vm_timer_new(loop, gp_timer, p))) {
		free(p);
		vk_error_set(err, ENOMEM, "cannot set up the power-off request: out of memory");
		return NULL;
	}
	p->loop = loop;
	p->uart = uart;
	p->agent = agent;
	p->progress = progress;
	p->opaque = opaque;
	if (uart)
		uart16550_set_tx_tap(uart, gp_tx_tap, p);
	return p;
}

void guest_poweroff_free(struct guest_poweroff *p)
{
	if (!p)
		return;
	if (p->uart)
		uart16550_set_tx_tap(p->uart, NULL, NULL);
	vm_timer_free(p->timer);
	free(p);
}

int guest_poweroff_request(struct guest_poweroff *p, struct vk_error *err)
{
	if (p->step != GP_IDLE && p->step != GP_DONE)
		return 0; /* under way */
	if (p->agent) {
		p->step = GP_AGENT_SYNC;
		p->deadline_ns = vk_now_ns() + GP_AGENT_WAIT_NS;
		p->progress(p->opaque, "agent", "sync");
		gp_arm(p, p->deadline_ns);
		guest_agent_sync(p->agent, gp_agent_synced, p);
		return 0;
	}
	if (p->uart) {
		p->sysrq_seen = false;
		gp_sysrq(p, GP_SYSRQ_SYNC);
		return 0;
	}
	return vk_error_set(err, ENOTSUP,
	                    "this machine has no way to ask its guest to power off (no serial "
	                    "console, no guest agent)");
}

struct virtio_dev *guest_poweroff_agent_port(const char *console_spec, const struct vm_mem *mem,
                                             struct vm_loop *loop, struct guest_agent **agent,
                                             struct vk_error *err)
{
	struct virtio_console_port ports[2];
	unsigned n = 0;

	if (console_spec) {
		ports[n].chr = chardev_open(loop, console_spec, err);
		if (!ports[n].chr)
			return NULL;
		ports[n].id = 0;
		ports[n++].name = NULL;
	}
	ports[n].chr = guest_agent_open(loop, agent, err);
	if (!ports[n].chr) {
		if (n)
			chardev_close(ports[0].chr);
		return NULL;
	}
	ports[n].id = 1;
	ports[n++].name = GUEST_AGENT_PORT_NAME;
	return virtio_console_create_ports(mem, ports, n, err);
}

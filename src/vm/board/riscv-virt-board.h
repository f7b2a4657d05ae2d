/* SPDX-License-Identifier: MIT */
/*
 * Private to the riscv64 virt board's files (riscv-virt.c builds and runs the
 * machine, riscv-state.c saves and restores it): the board's state, and what
 * the two share. docs/threading.md says which lock guards which field.
 */
#ifndef VK_BOARD_RISCV_VIRT_BOARD_H
#define VK_BOARD_RISCV_VIRT_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/board/riscv-boot.h"
#include "vm/board/riscv-harts.h"
#include "vm/board/riscv-virt.h"
#include "vm/bus.h"
#include "vm/machine.h"
#include "vm/mem.h"
#include "vm/registry.h"

struct clint;
struct plic;
struct sifive_test;
struct chardev;
struct uart16550;
struct virtio_dev;
struct virtio_mmio;
struct guest_agent;
struct guest_poweroff;

/* Instructions a hart runs between two looks at its timer (MTIP). */
#define VIRT_SLICE 50000

enum virt_stop {
	VIRT_RUNNING,
	VIRT_STOP_POWEROFF,
	VIRT_STOP_RESET,
	VIRT_STOP_QUIT,
	VIRT_STOP_SIGNAL,
	VIRT_STOP_ERROR,
	VIRT_STOP_HTIF,
	VIRT_STOP_FINISH, /* the state was saved or migrated: finish_reason says which */
};

struct virt_board {
	const struct vm_machine_config *cfg;
	const struct vm_monitor *monitor;
	struct vm_mem mem;
	struct bus mmio;
	struct vm_loop *loop;

	unsigned nr_harts;
	struct rv_jit *jit; /* the binary translator, NULL: the harts interpret */
	struct rv_cpu *harts[VM_MAX_CPUS];
	struct rv_harts threads;
	bool threads_ready; /* threads initialized (rv_harts_init) */

	struct clint *clint;
	struct plic *plic;
	struct sifive_test *test;
	struct chardev *console; /* owned by the UART (which closes it); HTIF borrows it */
	struct uart16550 *uart;
	struct virtio_dev *virtio[VIRT_VIRTIO_COUNT];
	struct virtio_mmio *virtio_mmio[VIRT_VIRTIO_COUNT];
	unsigned nr_virtio;
	struct guest_agent *agent;       /* the agent port's host end, NULL: none */
	struct guest_poweroff *poweroff; /* powerdown: agent, else SysRq on the UART */
	int signal_fd;

	struct riscv_boot boot;
	/* The machine object: every hart and device, for reset, save and restore. */
	struct vm_registry reg;
	/* A hart's registry entry: the board and the hart's number. */
	struct virt_hart_ref {
		struct virt_board *b;
		unsigned h;
	} hart_ref[VM_MAX_CPUS];
	const char *finish_reason; /* VIRT_STOP_FINISH: "saved", "migrated" */

	/* Guest time: mtime = (host ns - clock_base_ns) / 100 (clock_base_ns atomic), frozen
	 * from the moment every hart has parked for a pause until the resume. */
	uint64_t clock_base_ns;
	uint64_t paused_at_ns;
	bool paused;         /* pause requested (the control socket) */
	bool pause_reported; /* ... and every hart parked: the paused event was sent */
	uint64_t start_ns;

	enum virt_stop stop;
	int exit_status;
	char stop_detail[256];
};

#define NS_PER_TICK (1000000000ull / VIRT_TIMEBASE_HZ)

/* The `time` CSR and the CLINT's clock (any thread). */
uint64_t virt_mtime(void *opaque);

/* Machine lock held: end the run (the first reason wins; see riscv-virt.c). */
void virt_request_stop(struct virt_board *b, enum virt_stop why, int status);

/* Put hart h at the firmware entry with the boot registers (a reset). */
void virt_reset_hart(struct virt_board *b, unsigned h);

/* riscv-state.c: enter the board's clock, every hart and every device in b->reg. */
int virt_state_register(struct virt_board *b, struct vk_error *err) VK_MUST_CHECK;

/* riscv-state.c: the state controls of struct vm_control_ops (machine.h). */
struct vm_registry *virt_ctl_registry(void *opaque);
int virt_ctl_cpus_stop(void *opaque, struct vk_error *err);
void virt_ctl_cpus_resume(void *opaque);
int virt_ctl_dirty_start(void *opaque, struct vk_error *err);
void virt_ctl_dirty_sync(void *opaque);
void virt_ctl_dirty_stop(void *opaque);
const char *virt_ctl_no_live(void *opaque);
void virt_ctl_finish(void *opaque, const char *reason);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * `virtkit-vm run`: parses the options, picks the board for the architecture
 * and is the board's monitor: the control socket goes on the loop the board
 * hands back (with the board's controls), the board's events go out on it,
 * and --stats is printed when the board detaches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm/board/board.h"
#include "vm/main/config.h"
#include "vm/main/control.h"

struct run_monitor {
	const struct vm_config *cfg;
	struct vm_control *control; /* NULL without --control */
};

static int run_attach(void *opaque, struct vm_loop *loop, const struct vm_control_ops *ops,
                      void *machine, struct vk_error *err)
{
	struct run_monitor *rm = opaque;

	if (!rm->cfg->control)
		return 0;
	rm->control = vm_control_create(loop, rm->cfg->control, ops, machine, err);
	return rm->control ? 0 : -EINVAL;
}

static void run_event(void *opaque, const char *event, const char *reason, const char *detail)
{
	struct run_monitor *rm = opaque;

	vm_control_event(rm->control, event, reason, detail);
}

static void run_detach(void *opaque, const struct vm_run_stats *stats)
{
	struct run_monitor *rm = opaque;

	if (rm->cfg->stats)
		vm_print_stats(stats);
	vm_control_destroy(rm->control);
	rm->control = NULL;
}

int vm_run_main(int argc, char **argv)
{
	struct vk_error err = {0};
	struct vm_config cfg;
	struct run_monitor rm = {.cfg = &cfg};
	const struct vm_monitor mon = {
	        .attach = run_attach,
	        .event = run_event,
	        .detach = run_detach,
	        .opaque = &rm,
	};
	int r;

	r = vm_config_parse(&cfg, argc, argv, &err);
	if (r < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg);
		return 2;
	}
	if (cfg.help) {
		printf("usage: ");
		vm_config_usage(stdout);
		printf("\nRuns one machine until the guest powers off (status 0), a signal or a\n"
		       "`quit` on the control socket. SIZE takes K, M, G, T (or KiB, MiB, GiB, "
		       "TiB).\n--memory beyond the host's RAM + swap is refused unless "
		       "--overcommit is given.\n--quiet hides the warning about an emulating "
		       "KVM.\nSee docs/virtkit-vm.md.\n");
		return 0;
	}
	if (vm_check_host_memory(&cfg, &err) < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg);
		return 2;
	}
	vm_warn_host_accel(&cfg);
	if (!strcmp(cfg.machine.arch, "riscv64"))
		r = riscv_virt_main(&cfg.machine, &mon, &err);
	else
		r = pc_main(&cfg.machine, &mon, &err);
	if (r < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg[0] ? err.msg : "failed");
		return 1;
	}
	return r;
}

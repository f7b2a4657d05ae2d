/* SPDX-License-Identifier: MIT */
/*
 * `virtkit-vm run`: parses the options, picks the board for the architecture
 * and is the board's monitor: the control socket goes on the loop the board
 * hands back (with the board's controls), the board's events go out on it,
 * and --stats is printed when the board detaches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/board/board.h"
#include "vm/main/config.h"
#include "vm/main/control.h"
#include "vm/main/migrate.h"
#include "vm/registry.h"
#include "vm/state.h"

struct run_monitor {
	const struct vm_config *cfg;
	struct vm_control *control;   /* NULL without --control */
	struct vm_migrator *migrator; /* save and migrate on the control socket */
	struct vm_state_in *in;       /* --restore / --incoming: the state to load */
	int in_fd;
	char *config; /* the machine's configuration as JSON (saved with its state) */
};

static int run_attach(void *opaque, struct vm_loop *loop, const struct vm_control_ops *ops,
                      void *machine, struct vk_error *err)
{
	struct run_monitor *rm = opaque;

	if (!rm->cfg->control)
		return 0;
	rm->control = vm_control_create(loop, rm->cfg->control, ops, machine, err);
	if (!rm->control)
		return -EINVAL;
	if (ops->registry) {
		rm->migrator = vm_migrator_new(loop, ops, machine, rm->config, err);
		if (!rm->migrator)
			return -ENOMEM;
		vm_control_set_migrator(rm->control, rm->migrator);
	}
	return 0;
}

/* The board built the machine: load the state into it (machine lock held, no CPU runs). */
static int run_restore(void *opaque, struct vm_registry *reg, struct vk_error *err)
{
	struct run_monitor *rm = opaque;
	uint64_t t0 = vk_now_ns(), ram = 0;
	int r = vm_registry_load(reg, rm->in, &ram, err);

	if (r == 0 && rm->cfg->incoming) {
		/* The source let go of the disks before it sent the end. */
		r = vm_registry_handover(reg, true, err);
	}
	if (rm->cfg->incoming && vm_incoming_answer(rm->in_fd, r, err) < 0 && r == 0)
		r = vk_error_set(err, EPIPE,
		                 "the source went away before the migration was confirmed");
	if (r < 0)
		return vk_error_prefix(err, "cannot restore the machine from %s",
		                       rm->cfg->restore ? rm->cfg->restore : rm->cfg->incoming);
	if (rm->cfg->stats)
		fprintf(stderr,
		        "virtkit-vm: restored %llu MiB of RAM (%llu bytes of state) in %llu ms\n",
		        (unsigned long long)(ram >> 20),
		        (unsigned long long)vm_state_in_bytes(rm->in),
		        (unsigned long long)((vk_now_ns() - t0) / 1000000));
	return 0;
}

/* --restore / --incoming: the state's header and configuration, applied to cfg. */
static int run_open_state(struct vm_config *cfg, struct run_monitor *rm, struct vk_error *err)
{
	struct vm_state_header h;
	char *config = NULL;
	int r = vm_incoming_open(cfg->restore, cfg->incoming, &rm->in_fd, err);

	if (r < 0)
		return r;
	rm->in = vm_state_in_new(rm->in_fd);
	if (!rm->in)
		return vk_error_set(err, ENOMEM, "out of memory");
	r = vm_state_read_start(rm->in, &h, &config, err);
	if (r == 0)
		r = vm_config_apply_saved(cfg, config, h.arch, h.board, err);
	if (r == 0 && h.ram_bytes != cfg->machine.memory)
		r = vk_error_set(err, EINVAL,
		                 "the machine state is corrupt: %llu bytes of RAM in its header, "
		                 "%llu in its configuration",
		                 (unsigned long long)h.ram_bytes,
		                 (unsigned long long)cfg->machine.memory);
	free(config);
	if (r < 0) {
		if (cfg->incoming)
			(void)vm_incoming_answer(rm->in_fd, r, err);
		return vk_error_prefix(err, "%s", cfg->restore ? cfg->restore : cfg->incoming);
	}
	cfg->machine.incoming = cfg->incoming != NULL;
	return 0;
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
	/* A job under way stops first (it may need the loop's lock). */
	vm_migrator_free(rm->migrator);
	rm->migrator = NULL;
	vm_control_destroy(rm->control);
	rm->control = NULL;
}

int vm_run_main(int argc, char **argv)
{
	struct vk_error err = {0};
	struct vm_config cfg;
	struct run_monitor rm = {.cfg = &cfg, .in_fd = -1};
	struct vm_monitor mon = {
	        .attach = run_attach,
	        .event = run_event,
	        .detach = run_detach,
	        .opaque = &rm,
	};
	int r;

	r = vm_config_parse(&cfg, argc, argv, &err);
	if (r == 0 && !cfg.help && (cfg.restore || cfg.incoming)) {
		r = run_open_state(&cfg, &rm, &err);
		mon.restore = run_restore;
	}
	if (r == 0 && !cfg.help && !(rm.config = vm_config_to_json(&cfg.machine)))
		r = vk_error_set(&err, ENOMEM, "out of memory");
	if (r < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg);
		r = 2;
		goto out;
	}
	if (cfg.help) {
		printf("usage: ");
		vm_config_usage(stdout);
		printf("\nRuns one machine until the guest powers off (status 0), a signal or a\n"
		       "`quit` on the control socket. SIZE takes K, M, G, T (or KiB, MiB, GiB, "
		       "TiB).\n--memory beyond the host's RAM + swap is refused unless "
		       "--overcommit is given.\n--quiet hides the warning about an emulating "
		       "KVM.\n--restore FILE runs a machine saved with the control socket's "
		       "`save`;\n--incoming unix:PATH|tcp:HOST:PORT waits for one sent with "
		       "`migrate`.\nSee docs/virtkit-vm.md.\n");
		r = 0;
		goto out;
	}
	if (vm_check_host_memory(&cfg, &err) < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg);
		if (cfg.incoming)
			(void)vm_incoming_answer(rm.in_fd, -ENOMEM, &err);
		r = 2;
		goto out;
	}
	vm_warn_host_accel(&cfg);
	if (!strcmp(cfg.machine.arch, "riscv64"))
		r = riscv_virt_main(&cfg.machine, &mon, &err);
	else
		r = pc_main(&cfg.machine, &mon, &err);
	if (r < 0) {
		fprintf(stderr, "virtkit-vm: %s\n", err.msg[0] ? err.msg : "failed");
		r = 1;
	}
out:
	vm_state_in_free(rm.in);
	if (rm.in_fd >= 0)
		close(rm.in_fd);
	free(rm.config);
	vm_config_release(&cfg);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * `virtkit-vm run` options: the machine they describe (handed to a board as a
 * board-neutral struct vm_machine_config) and what only the program uses (the
 * control socket, --stats).
 */
#ifndef VK_VM_CONFIG_H
#define VK_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "vm/machine.h"

struct json_object;

/* The options' numbers (config.c); vm_config.given has bit (option - VM_OPT_FIRST) set for
 * each option the command line gave. */
#define VM_OPT_FIRST       256
#define VM_GIVEN(cfg, opt) (((cfg)->given >> ((opt)-VM_OPT_FIRST)) & 1)

/* `run`'s options, in getopt's numbering. */
enum {
	OPT_ARCH = VM_OPT_FIRST,
	OPT_ACCEL,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_FIRMWARE,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
	OPT_CONSOLE,
	OPT_CONTROL,
	OPT_ON_RESET,
	OPT_STATS,
	OPT_VIRTIO_TRANSPORT,
	OPT_VIRTIO_CONSOLE,
	OPT_HELP,
	OPT_JIT,
	OPT_JIT_CACHE,
	OPT_OVERCOMMIT,
	OPT_AGENT,
	OPT_QUIET,
	OPT_BOOT,
	OPT_RESTORE,
	OPT_INCOMING,
};

struct vm_config {
	struct vm_machine_config machine; /* what the board builds */
	const char *control;              /* control socket path, NULL: none */
	bool stats;                       /* print run statistics on stderr at exit */
	bool help;                        /* --help: print the usage, run nothing */
	bool overcommit;                  /* --overcommit: guest RAM may exceed host RAM + swap */
	bool quiet;                       /* --quiet: no warning about the host (host.c) */
	const char *restore;              /* --restore FILE: the machine comes from a saved state */
	const char *incoming;             /* --incoming URI: ... from a migration, received there */
	uint64_t given;                   /* the options given (VM_GIVEN) */
	struct json_object *saved;        /* restore: the saved configuration the strings point
	                                   * into (freed with vm_config_release) */
};

/*
 * Parse `run` options (argv[0] is "run"). Returns 0 or -EINVAL with a sentence;
 * with --help, 0 and cfg->help set (nothing else checked).
 */
int vm_config_parse(struct vm_config *cfg, int argc, char **argv, struct vk_error *err);
/*
 * config-saved.c: the machine's configuration as JSON (the CONFIG record of a
 * saved state, state.h), and a run that restores one: the saved configuration
 * fills what the command line did not give; what it gave is checked against it
 * where it defines the machine (arch, memory, CPUs, devices) and replaces it
 * where it is the host's business (disk and network backends' paths, the
 * console, the translator). arch/board are the state header's.
 */
char *vm_config_to_json(const struct vm_machine_config *m);
int vm_config_apply_saved(struct vm_config *cfg, const char *json, const char *arch,
                          const char *board, struct vk_error *err) VK_MUST_CHECK;
void vm_config_release(struct vm_config *cfg);

/* `run`'s synopsis, from "virtkit-vm run" on (the options table's companion). */
void vm_config_usage(FILE *out);

/* The host architecture's default guest arch ("x86_64" on x86-64 hosts). */
const char *vm_default_arch(void);

/*
 * One line on stderr at the end of a run: wall time, guest instructions (0 when the
 * backend cannot count them), host RSS and the part of it beyond guest RAM.
 */
void vm_print_stats(const struct vm_run_stats *stats);

/* host.c: -ENOMEM with both numbers when guest RAM exceeds the host's RAM + swap. */
int vm_check_host_memory(const struct vm_config *cfg, struct vk_error *err) VK_MUST_CHECK;
/* host.c: one warning line when an x86_64 guest would run on an emulating KVM. */
void vm_warn_host_accel(const struct vm_config *cfg);

/* The commands (argv[0] is the command's name): return the process exit status. */
int vm_run_main(int argc, char **argv);
int vm_probe_main(int argc, char **argv);
void vm_probe_usage(FILE *out);
int vm_image_main(int argc, char **argv);
void vm_image_usage(FILE *out);

#endif

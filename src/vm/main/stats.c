/* SPDX-License-Identifier: MIT */
/* `--stats`: one line on stderr at the end of a run (wall time, instructions, RSS). */
#include "vm/main/config.h"

#include <stdio.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/mem.h"

void vm_print_stats(const struct vm_run_stats *stats)
{
	uint64_t instructions = stats->instructions;
	uint64_t wall_ns = vk_now_ns() - stats->start_ns;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned long size = 0, resident = 0;
	uint64_t rss, guest;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	rss = (uint64_t)resident * page;
	guest = vm_mem_resident(stats->memory);
	fprintf(stderr,
	        "virtkit-vm: stats: wall_ms=%llu instructions=%llu mips=%.1f rss_kib=%llu "
	        "guest_ram_rss_kib=%llu rss_overhead_kib=%llu\n",
	        (unsigned long long)(wall_ns / 1000000), (unsigned long long)instructions,
	        wall_ns ? (double)instructions * 1000.0 / (double)wall_ns : 0.0,
	        (unsigned long long)(rss >> 10), (unsigned long long)(guest >> 10),
	        (unsigned long long)((rss > guest ? rss - guest : 0) >> 10));
	if (stats->boot_detail[0])
		fprintf(stderr, "virtkit-vm: stats: %s\n", stats->boot_detail);
	if (stats->cpu_detail[0])
		fprintf(stderr, "virtkit-vm: stats: %s\n", stats->cpu_detail);
}

/* SPDX-License-Identifier: MIT */
/* virtkit-shim DIR: the per-instance shim as its own small executable (see shim.h). */
#include <stdio.h>
#include <sys/stat.h>

#include "daemon/shim-main.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: virtkit-shim RUNDIR (started by virtkitd)\n");
		return 2;
	}
	umask(0077);
	return shim_main(argv[1]);
}

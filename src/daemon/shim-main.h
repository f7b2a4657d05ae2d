/* SPDX-License-Identifier: MIT */
/*
 * The shim process itself (the protocol, its files in RUNDIR, is in shim.h):
 * the main of the small virtkit-shim executable and of `virtkitd __shim DIR`.
 * It needs nothing of the daemon but proc.h.
 */
#ifndef VKD_SHIM_MAIN_H
#define VKD_SHIM_MAIN_H

int shim_main(const char *dir);

#endif

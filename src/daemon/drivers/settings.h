/* SPDX-License-Identifier: MIT */
/* The drivers' copy of their settings (driver.h: drivers_init()), private to drivers/. */
#ifndef VKD_DRIVERS_SETTINGS_H
#define VKD_DRIVERS_SETTINGS_H

#include "daemon/driver.h"

extern struct driver_settings drv_settings;

#endif

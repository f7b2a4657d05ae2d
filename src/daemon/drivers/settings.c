/* SPDX-License-Identifier: MIT */
/* The settings every driver reads (see driver.h), set once at start-up. */
#include "daemon/drivers/settings.h"

struct driver_settings drv_settings;

void drivers_init(const struct driver_settings *s)
{
	drv_settings = *s;
}

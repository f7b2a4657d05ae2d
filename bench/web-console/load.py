#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Load the web console N times in headless Chromium; print the times and the ratio to the CLI.

  load.py BASE COOKIE N INSTANCES TMPDIR CLI_MS
"""
import shutil
import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

base, cookie, n, inst, tmp, cli_ms = sys.argv[1:7]
n, inst, cli_ms = int(n), int(inst), float(cli_ms)
opts = webdriver.ChromeOptions()
opts.binary_location = shutil.which("chromium")
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--no-first-run", "--window-size=1400,900", f"--user-data-dir={tmp}/profile"]:
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
try:
    drv.get(base + "/favicon.svg")
    drv.add_cookie({"name": "vk_ui", "value": cookie, "path": "/"})
    ready, dcl, load = [], [], []
    for i in range(n + 1):  # the first load warms the cache of nothing (no-store) but the browser
        drv.get(base + "/")
        end = time.time() + 30
        while time.time() < end:
            rows = drv.execute_script(
                "return window.vkReadyAt ? document.querySelectorAll('#rows tr').length : 0")
            if rows >= inst:
                break
            time.sleep(0.02)
        else:
            sys.exit(f"web-console: the table did not show {inst} rows")
        nav = drv.execute_script("return performance.getEntriesByType('navigation')[0].toJSON()")
        if i == 0:
            continue
        ready.append(drv.execute_script("return window.vkReadyAt"))
        dcl.append(nav["domContentLoadedEventEnd"])
        load.append(nav["loadEventEnd"])
finally:
    drv.quit()
med = statistics.median
print(f"page with {inst} instances: table drawn {med(ready):.0f} ms (median of {n}; "
      f"min {min(ready):.0f}, max {max(ready):.0f}), DOMContentLoaded {med(dcl):.0f} ms, "
      f"load {med(load):.0f} ms")
print(f"peer: virtkit list --all, same {inst}: {cli_ms:.1f} ms (median)")
print(f"ratio page/CLI: {med(ready) / cli_ms:.1f}")

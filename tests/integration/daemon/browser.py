#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web console in headless Chromium (Debian's chromium + chromedriver, Selenium).

  browser.py URL COOKIE TMPDIR BUILD FIRST
URL is `virtkit ui`'s address (its token already spent by the caller), COOKIE the session
cookie it gave. TAP lines numbered from FIRST go to stdout; "next N" to stderr at the end.
Without Chromium, chromedriver or Selenium the checks are skipped, saying which is missing.
The page: lists the instances, creates and starts a container from its form (shown
running), launches one from an image by the form (the caller imported "busybox"), starts and
stops one with its buttons, takes a command typed into the console terminal and shows its
output, runs one in the shell tab (exec) and shows its exit status, makes no request to another origin and trips no Content-Security-Policy rule. A
screenshot goes to BUILD/test-artifacts/ui.png.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

url, cookie, tmp, build, first = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
base = url.split("/?")[0]
n = first - 1
failed = 0
CHECKS = ["the page lists the instances", "a container made and started from the form runs",
          "a container launched from an image by the form runs, made from that image",
          "the launch's progress shows in the events, as an image's",
          "Start on a stopped container: it runs", "Stop: it stops",
          "a command typed into the console terminal: its output shows",
          "the shell tab (exec): a typed command's output, then its exit status",
          "no request to another origin", "no Content-Security-Policy violation",
          "a screenshot is saved"]


def tap(ok, name, detail=""):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:20]:
            print(f"# {line}")
    sys.stdout.flush()


def finish():
    print(f"next {n + 1}", file=sys.stderr)
    sys.exit(1 if failed else 0)


def skip_all(why):
    global n
    for c in CHECKS:
        n += 1
        print(f"ok {n} - {c} # SKIP {why}")
    finish()


chromium = shutil.which("chromium") or shutil.which("chromium-browser")
driver_bin = shutil.which("chromedriver")
if not chromium:
    skip_all("Chromium is not installed (deps/debian.txt: chromium)")
if not driver_bin:
    skip_all("chromedriver is not installed (deps/debian.txt: chromium-driver)")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    skip_all("Selenium is not installed (deps/debian.txt: python3-selenium)")

vkc = os.path.join(build, "src", "cli", "virtkit")


def vk(*args):
    return subprocess.run([vkc, *args], capture_output=True, text=True, timeout=60)


def wait(cond, timeout=30, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except Exception:  # the page is still changing under us
            pass
        time.sleep(step)
    return None


def click_row_button(name, action):
    """The table is rebuilt every 5 s (pollTable): a row's button found just before may be
    stale by the click; find it again until the click lands."""
    css = f'#rows tr[data-name="{name}"] button[data-action="{action}"]'
    if not wait(lambda: drv.find_element(By.CSS_SELECTOR, css).click() or True, 10):
        raise AssertionError(f"cannot click {action} of '{name}'")


opts = webdriver.ChromeOptions()
opts.binary_location = chromium
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--no-first-run", "--disable-default-apps", "--window-size=1400,900",
          f"--user-data-dir={tmp}/chromium-profile"]:
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
try:
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
except Exception as e:  # a Chromium that cannot start here is a finding, not a skip
    tap(False, "headless Chromium starts", e)
    finish()

rows = lambda: {r.get_attribute("data-name"): r.get_attribute("data-state")
                for r in drv.find_elements(By.CSS_SELECTOR, "#rows tr")}
try:
    # The cookie belongs to the origin: set it there, then load the page.
    drv.get(base + "/favicon.svg")
    drv.add_cookie({"name": "vk_ui", "value": cookie, "path": "/"})
    drv.get(base + "/")
    ready = wait(lambda: drv.execute_script("return document.body.dataset.ready === '1'"))
    listed = wait(lambda: rows().get("web") == "running")
    tap(bool(ready and listed), CHECKS[0], f"rows: {rows()}")

    # A container from the form, started by it.
    drv.find_element(By.ID, "new").click()
    form = drv.find_element(By.ID, "create-form")
    form.find_element(By.NAME, "name").send_keys("fromform")
    form.find_element(By.NAME, "rootfs").send_keys(os.path.join(tmp, "rootfs"))
    drv.find_element(By.ID, "create-ok").click()
    ok = wait(lambda: rows().get("fromform") == "running", 60)
    info = vk("info", "fromform", "--format", "json")
    state = json.loads(info.stdout).get("state") if info.returncode == 0 else info.stderr
    tap(bool(ok) and state == "running", CHECKS[1], f"page: {rows()}, daemon: {state}, "
        f"form error: {drv.find_element(By.ID, 'create-error').text}")

    # A container from an image: the form lists the daemon's images.
    drv.find_element(By.ID, "new").click()
    form = drv.find_element(By.ID, "create-form")
    form.find_element(By.CSS_SELECTOR, 'input[name="type"][value="image"]').click()
    picked = wait(lambda: [o for o in form.find_elements(By.CSS_SELECTOR, "#create-image option")
                           if o.text.startswith("busybox (container")])
    if picked:
        picked[0].click()
    name = form.find_element(By.NAME, "name")
    name.clear()
    name.send_keys("fromimage")
    form.find_element(By.NAME, "image-args").send_keys('/bin/sh -c trap "exit 0" TERM; while :; do sleep 1; done')
    drv.find_element(By.ID, "create-ok").click()
    ok = wait(lambda: rows().get("fromimage") == "running", 60)
    info = vk("info", "fromimage", "--format", "json")
    got = json.loads(info.stdout) if info.returncode == 0 else {"error": info.stderr}
    img = vk("image", "info", "busybox", "--format", "json")
    used = json.loads(img.stdout).get("used_by") if img.returncode == 0 else img.stderr
    tap(bool(picked and ok) and got.get("state") == "running" and used == ["fromimage"], CHECKS[2],
        f"option: {bool(picked)}, page: {rows()}, daemon: {got}, image used by: {used}, "
        f"form error: {drv.find_element(By.ID, 'create-error').text}")
    # The launch's progress events (an image's: no instance) are shown as such.
    events = lambda: drv.find_element(By.ID, "events").text
    shown = wait(lambda: "launch copy rootfs 100 %" in events(), 20)
    tap(bool(shown) and "undefined" not in events(), CHECKS[3], events()[-1500:])

    # Start and Stop buttons on a container defined by the CLI.
    sh = '["/bin/sh","-c","trap \\"exit 0\\" TERM; while :; do sleep 1; done"]'
    with open(os.path.join(tmp, "btn.json"), "w") as f:
        f.write(json.dumps({"name": "btn", "type": "container", "rootfs": os.path.join(tmp, "rootfs"),
                            "process": {"args": json.loads(sh), "terminal": False}}))
    made = vk("define", os.path.join(tmp, "btn.json"))
    if not wait(lambda: rows().get("btn") == "shutoff", 60):
        raise AssertionError(f"'btn' is not listed as shutoff: {rows()}; define: {made.stderr}")
    click_row_button("btn", "start")
    ok = wait(lambda: rows().get("btn") == "running", 60)
    tap(bool(ok), CHECKS[4], f"rows: {rows()}")
    click_row_button("btn", "stop")
    ok = wait(lambda: rows().get("btn") == "shutoff", 60)
    tap(bool(ok), CHECKS[5], f"rows: {rows()}")

    # The console terminal of the container made from the form (an interactive shell).
    click_row_button("fromform", "console")
    wait(lambda: "what you type" in drv.find_element(By.ID, "term-status").text, 20)
    area = drv.find_element(By.CSS_SELECTOR, "#terminal .xterm-helper-textarea")
    area.send_keys("echo typed-$((6*7))-in-browser\n")
    seen = wait(lambda: "typed-42-in-browser" in drv.execute_script("return window.vkTerminalText()"), 30)
    tap(bool(seen), CHECKS[6], drv.execute_script("return window.vkTerminalText()")[-800:])

    # The shell tab: /bin/sh through exec (a terminal), its exit status shown at the end.
    drv.find_element(By.ID, "tab-shell").click()
    wait(lambda: "/bin/sh in fromform" in drv.find_element(By.ID, "term-status").text, 20)
    area = drv.find_element(By.CSS_SELECTOR, "#terminal .xterm-helper-textarea")
    area.send_keys("echo shell-$((6*7))-by-exec\n")
    seen = wait(lambda: "shell-42-by-exec" in drv.execute_script("return window.vkTerminalText()"), 30)
    area.send_keys("exit 3\n")
    done = wait(lambda: '[exited: {"exit_code":3}]' in drv.execute_script("return window.vkTerminalText()"), 30)
    tap(bool(seen and done), CHECKS[7], drv.execute_script("return window.vkTerminalText()")[-800:])

    # Same origin only, and nothing the CSP had to stop.
    origin = urllib.parse.urlsplit(base)
    names = drv.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    other = [u for u in names if urllib.parse.urlsplit(u).netloc != origin.netloc]
    tap(not other and len(names) > 0, CHECKS[8], f"requests: {names}")
    logs = drv.get_log("browser")
    csp = [l["message"] for l in logs if "Content Security Policy" in l["message"]]
    tap(not csp, CHECKS[9], "\n".join(csp))

    art = os.path.join(build, "test-artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "ui.png")
    drv.save_screenshot(shot)
    tap(os.path.getsize(shot) > 10000, CHECKS[10], shot)
    print(f"# screenshot: {shot}")
except Exception as e:
    tap(False, "the browser session ran to its end", repr(e))
finally:
    drv.quit()
    vk("stop", "--force", "fromform")
    vk("stop", "--force", "fromimage")
finish()

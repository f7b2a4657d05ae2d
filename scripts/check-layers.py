#!/usr/bin/env python3
"""The layer map of docs/architecture.md, as a test (TAP).

Reads every `#include "..."` line of src/ and include/, resolves it the way the
compiler does (the including file's folder, then src/ and include/), and checks:
  1. each file includes only headers of its own group or of the groups its
     group may reach (LAYERS below, bottom-up: a group may reach only groups
     listed before it, and not all of them);
  2. no two modules (foo.c + foo.h count as one) include each other, directly or
     through others, across groups: the include graph between groups has no cycle.
Usage: check-layers.py [SOURCE_ROOT]. Exit status 0 when the map holds.
"""
import fnmatch
import os
import re
import sys

# (group, paths it owns, groups it may include besides itself, what the group is).
# A path is "folder/" (the files directly in it), "folder/**" (and below) or a
# glob of file names in one folder ("src/daemon/def*.[ch]"); every file belongs
# to exactly one group. Order is bottom-up: a group may only name groups before it.
VM = ["common", "vm-core", "vm-backend", "vm-hw", "vm-virtio", "vm-emu", "vm-kvm", "vm-boot"]
D = "src/daemon/"
LAYERS = [
    ("common", ["src/common/"], [], "error, log and string helpers"),
    ("public", ["include/virtkit/"], [], "libvirtkit's public header"),
    # virtkit-vm
    ("vm-core", ["src/vm/"], ["common"],
     "guest RAM, buses, the event loop, irq/chardev contracts, the board interface"),
    ("vm-backend", ["src/vm/backend/"], ["common", "vm-core"], "host backends"),
    ("vm-hw", ["src/vm/hw/"], ["common", "vm-core"], "emulated devices"),
    ("vm-virtio", ["src/vm/virtio/"], ["common", "vm-core", "vm-backend", "vm-hw"],
     "virtio core, transports, devices"),
    ("vm-emu", ["src/vm/emu/**"], ["common", "vm-core"], "the software CPU"),
    ("vm-kvm", ["src/vm/kvm/"], ["common", "vm-core"], "the KVM backend and its probe"),
    ("vm-boot", ["src/vm/boot/"], ["common", "vm-core", "vm-kvm"],
     "image formats (x86 loaders fill the KVM vCPU's entry state)"),
    ("vm-board", ["src/vm/board/"], VM, "machines built from a board-neutral description"),
    ("vm-main", ["src/vm/main/"], VM + ["vm-board"],
     "the program: options, control socket, --stats, probe command"),
    # virtkit-oci
    ("oci-stub", ["src/oci/stub/"], [], "the sealed init stub (no libc)"),
    ("oci-spec-default", ["src/oci/spec-default.[ch]"], [],
     "the default config.json, shared with the daemon"),
    ("oci-lib", ["src/oci/"], ["common", "oci-spec-default"], "the runtime's library"),
    ("oci-cmd", ["src/oci/cmd/"], ["common", "oci-spec-default", "oci-lib"],
     "runc's command line"),
    # the host side of networks (src/net/): addresses are pure, the rest talks to the kernel
    ("net-addr", ["src/net/addr.[ch]"], ["common"], "IPv4 addresses and subnets (pure)"),
    ("net", ["src/net/"], ["common", "net-addr"],
     "rtnetlink, taps, network namespaces, dnsmasq's files, the nftables table"),
    # virtkitd, bottom-up (docs/architecture.md: the daemon's layers)
    ("daemon-util", [D + "proc.[ch]", D + "paths.[ch]", D + "sqlite.[ch]"], ["common"],
     "process and file helpers, the daemon's folders, SQLite conventions"),
    ("daemon-model", [D + "def*.[ch]", D + "router.[ch]", D + "domxml*.[ch]",
                      D + "event.[ch]"], ["common", "net-addr"],
     "pure data: definitions, routes, domain XML, the event type"),
    ("shim-program", [D + "shim-main.[ch]", D + "shim-exe.c"], ["common", "daemon-util"],
     "the per-instance shim process"),
    ("daemon-store", [D + "store*.[ch]"], ["common", "daemon-util", "daemon-model"],
     "SQLite: definitions, states, the event log, the volumes"),
    ("daemon-events", [D + "events.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-store"], "the event bus"),
    ("daemon-console", [D + "console.[ch]"], ["common", "daemon-util"], "console hubs"),
    ("daemon-registry", [D + "instance.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-store"],
     "instances in memory, states, the job lock"),
    ("daemon-volumes", [D + "volumes*.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-store", "daemon-registry"],
     "the storage pool: volumes, who uses them, `virtkit-vm image`"),
    ("daemon-images", [D + "image*.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-store", "daemon-registry"],
     "images: import, verify, unpack, aliases, launched instances' storage"),
    ("daemon-shim", [D + "shim.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-registry"],
     "the daemon's side of the shim"),
    ("daemon-netstore", [D + "netstore.[ch]"], ["common", "daemon-util", "daemon-model"],
     "SQLite: networks and address reservations"),
    ("daemon-network", [D + "network*.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-registry", "daemon-netstore",
      "net-addr", "net"],
     "managed networks: bridges, dnsmasq, the firewall table, instances' links"),
    ("daemon-drivers", [D + "driver.h", D + "drivers/"],
     ["common", "daemon-util", "daemon-model", "daemon-registry", "daemon-volumes",
      "daemon-images", "daemon-shim", "daemon-network", "oci-spec-default"],
     "vm and container drivers"),
    ("daemon-monitor", [D + "monitor.[ch]"], ["common", "daemon-model", "daemon-registry"],
     "the exit monitor (calls back through a function it is given)"),
    ("daemon-lifecycle", [D + "lifecycle.[ch]", D + "lifecycle-*.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-console", "daemon-registry",
      "daemon-shim", "daemon-drivers", "daemon-monitor"],
     "jobs and lifecycle operations"),
    ("daemon-trust", [D + "trust.[ch]"], ["common"],
     "trusted client certificates and join tokens (the TLS listener's trust store)"),
    ("daemon-http", [D + "http.[ch]", D + "http-*.[ch]"], ["common", "daemon-util", "daemon-model"],
     "the HTTP transport: unix socket and TLS listeners (calls the handler it is given)"),
    ("daemon-api", [D + "api.[ch]", D + "api-*.[ch]"],
     ["common", "daemon-util", "daemon-model", "daemon-store", "daemon-events",
      "daemon-console", "daemon-registry", "daemon-volumes", "daemon-network", "daemon-images",
      "daemon-drivers",
      "daemon-lifecycle", "daemon-trust", "daemon-http"],
     "REST routes, JSON, streams, the TLS listener's rules"),
    ("daemon-main", [D + "main.c"],
     ["common", "daemon-util", "daemon-model", "shim-program", "daemon-store",
      "daemon-events", "daemon-registry", "daemon-volumes", "daemon-netstore", "daemon-network",
      "daemon-images", "daemon-drivers", "daemon-monitor", "daemon-lifecycle", "daemon-trust",
      "daemon-http",
      "daemon-api"],
     "start-up: the configuration, handed down to each layer"),
    # clients
    ("lib", ["src/lib/"], ["common", "public"], "libvirtkit"),
    ("cli", ["src/cli/"], ["common", "public"], "the virtkit command"),
]

DAEMON = [g for g, _, _, _ in LAYERS if g.startswith(("daemon", "shim"))]
VM_ALL = VM[1:] + ["vm-board", "vm-main"]

# Folders a group must never reach, whatever LAYERS allows: the sentence printed
# when one does (issue 18).
NEVER = [
    (["vm-hw", "vm-virtio"], ["vm-kvm", "vm-emu"], "devices never see a CPU backend"),
    (["vm-kvm"], ["vm-emu"], "the CPU backends never reach each other"),
    (["vm-emu"], ["vm-kvm"], "the CPU backends never reach each other"),
    (["vm-board", "vm-kvm"], ["vm-main"], "boards and the KVM backend never reach main/"),
    (["oci-lib", "oci-cmd", "oci-stub", "oci-spec-default"], VM_ALL + DAEMON,
     "the OCI runtime never reaches virtkit-vm or the daemon"),
    (["cli", "lib"], DAEMON, "the client side never reaches the daemon"),
]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def owns(pattern, path):
    folder, _, name = pattern.rpartition("/")
    pdir, _, pname = path.rpartition("/")
    if name == "**":
        return path.startswith(folder + "/")
    if name == "":
        return pdir == folder
    return pdir == folder and fnmatch.fnmatchcase(pname, name)


def group_of(path):
    """The group that owns a repository-relative path: a file-name pattern wins over a
    whole folder ("src/oci/spec-default.[ch]" over "src/oci/"); None when none does."""
    by_name = [n for n, pats, _, _ in LAYERS
               if any(owns(p, path) and not p.endswith(("/", "**")) for p in pats)]
    by_folder = [n for n, pats, _, _ in LAYERS if any(owns(p, path) for p in pats)]
    g = by_name or by_folder
    return g[0] if g else None


def sources(root):
    for top in ("src", "include"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def resolve(root, path, inc):
    for base in (os.path.dirname(path), "src", "include"):
        cand = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None  # generated (build folder) or a system header in quotes


def module(path):
    return os.path.splitext(path)[0]


def find_cycle(edges):
    """One cycle of a directed graph {node: set(nodes)}, as a list, or None."""
    colour, stack = {}, []

    def visit(n):
        colour[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if colour.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not colour.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        colour[n] = 2
        return None

    for n in sorted(edges):
        if not colour.get(n):
            c = visit(n)
            if c:
                return c
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    allowed = {name: set(deps) | {name} for name, _, deps, _ in LAYERS}
    order = [name for name, _, _, _ in LAYERS]
    problems = {name: [] for name in order}
    counts = {name: [0, 0] for name in order}
    unmapped = []
    group_edges = {}
    edge_example = {}

    for name, _, deps, _ in LAYERS:  # the table itself must point downwards
        for d in deps:
            if d not in order or order.index(d) >= order.index(name):
                problems[name].append(f"LAYERS: {name} may not name {d} (not below it)")

    for path in sources(root):
        g = group_of(path)
        if g is None:
            unmapped.append(path)
            continue
        counts[g][0] += 1
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for lineno, inc in ((text.count("\n", 0, m.start()) + 1, m.group(1))
                            for m in INCLUDE_RE.finditer(text)):
            target = resolve(root, path, inc)
            if target is None:
                continue
            tg = group_of(target)
            counts[g][1] += 1
            if tg is None:
                problems[g].append(f"{path}:{lineno}: includes {target}, which no layer owns")
                continue
            for froms, tos, why in NEVER:
                if g in froms and tg in tos:
                    problems[g].append(f"{path}:{lineno}: includes {target}: {why}")
                    break
            else:
                if tg not in allowed[g]:
                    problems[g].append(
                        f"{path}:{lineno}: includes {target} ({tg}), which {g} may not "
                        f"reach (it may reach: {', '.join(sorted(allowed[g] - {g})) or 'nothing'})")
            if tg != g:
                group_edges.setdefault(g, set()).add(tg)
                edge_example.setdefault((g, tg), f"{path}:{lineno} -> {target}")

    tests = []
    for name, prefixes, deps, what in LAYERS:
        nfiles, nincs = counts[name]
        desc = (f"{name} ({', '.join(prefixes)}; {what}): {nfiles} files, {nincs} includes, "
                f"reaches only {', '.join(deps) or 'itself'}")
        tests.append((not problems[name], desc, problems[name]))
    cycle = find_cycle(group_edges)
    tests.append((cycle is None, "no include cycle between groups",
                  [] if cycle is None else
                  ["cycle: " + " -> ".join(cycle)] +
                  [edge_example[(a, b)] for a, b in zip(cycle, cycle[1:])]))
    tests.append((not unmapped, "every source file belongs to a layer",
                  [f"{p}: no layer owns it (add it to LAYERS in scripts/check-layers.py)"
                   for p in unmapped]))

    print(f"1..{len(tests)}")
    failed = 0
    for i, (ok, desc, details) in enumerate(tests, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {desc}")
        for d in details:
            print(f"# {d}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

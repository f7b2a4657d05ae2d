#!/bin/bash
# SPDX-License-Identifier: MIT
# Images in the manager: the project's bootable riscv64 disk image and a busybox OCI image
# imported (with progress on a terminal and as events), three VMs and three containers
# launched from them, each writing only its own copy while the image stays byte-identical,
# delete refused while in use; bad images (truncated qcow2, wrong arch, wrong digests,
# escaping paths) refused with a clear error and nothing left behind; an import cut short by
# kill -9 of the daemon leaves nothing either.
. "$(dirname "$0")/lib.sh"
setup
VM_BINARY=$VK_BUILD/src/vm/virtkit-vm
MKOCI=$HERE/make-oci-image.py
export VIRTKIT_SOCKET=$SOCK
daemon_start || exit 1
IMAGES=$T/state/images

# leftovers: what an image folder holds besides the images named (none: empty).
leftovers() { ls -A "$IMAGES" | grep -vxF -f <(printf '%s\n' "$@") || true; }
seq_now() { curl -s --unix-socket "$SOCK" http://x/1.0 | json event_seq; }
events_since() { curl -s --max-time 20 --unix-socket "$SOCK" "http://x/1.0/events?since=$1&follow=0"; }
tree_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }
uuid_of() { vk --format json info "$1" | json uuid; }

# --- a VM image: the project's disk image --------------------------------------------------
guest=$("$VK_SRC/scripts/find-guest.sh" riscv64 2>"$T/why")
have_vm=0
if [ -z "$guest" ]; then
	skip "VM images" "$(cat "$T/why")"
elif [ ! -f /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin ]; then
	skip "VM images" "Debian's u-boot-qemu is not installed"
else
	have_vm=1
fi
if [ $have_vm = 1 ]; then
	mkdir -p "$T/vmimg"
	"$VK_SRC/scripts/build-disk-riscv64.sh" --append vk.mode=selftest "$guest" "$T/vmimg/disk.img" 2>"$T/build.log"
	cat >"$T/vmimg/metadata.json" <<EOF
{"arch": "riscv64", "boot": "disk", "disk": "disk.img", "memory": "256M", "cpus": 1,
 "description": "virtkit's riscv64 test guest (selftest)"}
EOF
	src_sha=$(sha256sum "$T/vmimg/disk.img" | cut -c1-64)
	seq0=$(seq_now)
	# On a terminal (script(1) gives the CLI one) the import shows its progress.
	script -qec "'$VKC' --socket '$SOCK' image import '$T/vmimg' --alias rv-guest" "$T/import.tty" \
		>/dev/null 2>&1
	check "import the disk image (VM): $(tr -d '\r' <"$T/import.tty" | grep -a Imported)" \
		grep -aq "Imported image [0-9a-f]\{12\} (vm, riscv64) as rv-guest" "$T/import.tty"
	check "progress on the terminal: a bar for 'copy disk' up to 100 %" \
		grep -aq "copy disk .*\[####################\] 100%" "$T/import.tty"
	events_since "$seq0" >"$T/events.json"
	check "progress events: copy disk at 100 %, then 'imported'" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
p = [e for e in ev if e["type"] == "image" and e["event"] == "progress" and e["stage"] == "copy disk"]
assert p and p[-1]["percent"] == 100 and p[-1]["done"] == p[-1]["total"] > 0, p
assert p[0]["operation"] == "import" and p[0]["subject"].endswith("/vmimg"), p[0]
assert any(e["event"] == "imported" for e in ev), ev' "$T/events.json"
	FP=$(vk --format json image info rv-guest | json fingerprint)
	check_eq "the image records its disk's sha256" "$src_sha" \
		"$(vk --format json image info rv-guest | json files.disk.sha256)"
	img_sha=$(sha256sum "$IMAGES/$FP/disk" | cut -c1-64)
	check_eq "the stored disk is the imported one" "$src_sha" "$img_sha"
	out=$(vk image import "$T/vmimg/metadata.json" 2>&1)
	check "the same image again (by its metadata file) is the same image: $out" \
		sh -c "printf '%s' '$out' | grep -q 'Already have image ${FP:0:12}'"

	for i in 1 2 3; do
		check "launch vm$i from the image" vk launch rv-guest "vm$i"
	done
	all_off() { for i in 1 2 3; do state_is "vm$i" shutoff || return 1; done; }
	i=0
	while [ $i -lt 600 ] && ! all_off; do sleep 0.2; i=$((i + 1)); done
	for i in 1 2 3; do
		vk logs "vm$i" >"$T/vm$i.log" 2>&1
		check "vm$i boots from its disk to 'SELFTEST 6 passed, 0 failed' and powers off" \
			sh -c "grep -q 'SELFTEST 6 passed, 0 failed' '$T/vm$i.log' &&
				[ \"\$('$VKC' --format json info vm$i | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"reason\"])')\" = shutdown ]"
		# Its write went to its own overlay's scratch partition (after the 16 MiB root).
		u=$(uuid_of "vm$i")
		qemu-img convert -f qcow2 -O raw "$T/state/storage/$u/disk.qcow2" "$T/vm$i.raw"
		check "vm$i's write is in its own disk (an overlay of the image)" \
			sh -c "dd if='$T/vm$i.raw' bs=512 skip=$((17 * 2048)) count=1 2>/dev/null | grep -q virtkit-block-check"
		rm -f "$T/vm$i.raw"
	done
	check_eq "the image's disk is byte-identical after three VMs ran on it" "$src_sha" \
		"$(sha256sum "$IMAGES/$FP/disk" | cut -c1-64)"
	vk launch rv-guest vm-nonet --network none --memory 512M --cpus 2 --no-start >/dev/null
	check_eq "--no-start --network none --memory --cpus: defined only, as asked" \
		"shutoff [] 536870912 2 disk qcow2" \
		"$(vk --format json info vm-nonet | python3 -c 'import json, sys
o = json.load(sys.stdin); d = o["definition"]
print(o["state"], d["networks"], d["memory"], d["cpus"], d["boot"], d["disks"][0]["format"])')"
	vk undefine vm-nonet >/dev/null
	out=$(vk image delete rv-guest 2>&1)
	rc=$?
	check "delete is refused while instances use the image (exit $rc: $out)" \
		sh -c "[ $rc -eq 5 ] && printf '%s' \"$out\" | grep -q \"in use by instances 'vm1', 'vm2', 'vm3'\""
	check "... and the image is still there" vk image info rv-guest
	vm1_storage=$T/state/storage/$(uuid_of vm1)
	check "undefine the three VMs" vk undefine vm1 vm2 vm3
	check "undefining an instance removes its disk" [ ! -e "$vm1_storage" ]
	check "then delete works" vk image delete rv-guest
	check_eq "and leaves nothing" "" "$(leftovers)"
fi

# --- a container image: busybox as an OCI archive --------------------------------------------
if ! pick_oci_runtime; then
	skip "container images" "$OCI_WHY"
else
	daemon_stop >/dev/null 2>&1
	daemon_start || exit 1
	make_rootfs "$T/bb"
	arch=$(python3 -c 'import platform; m = platform.machine(); print({"x86_64": "amd64", "aarch64": "arm64"}.get(m, m))')
	CFP=$(python3 "$MKOCI" "$T/oci" "$T/bb" --arch "$arch" --archive "$T/busybox.tar" --cmd sh)
	check "import busybox as an OCI archive" vk image import "$T/busybox.tar" --alias busybox
	out=$(vk image import "$T/oci" 2>&1)
	check "the same image as a layout folder is the same image (the manifest digest): $out" \
		sh -c "printf '%s' '$out' | grep -q 'Already have image ${CFP:0:12}'"
	check_eq "its fingerprint is the manifest's digest" "$CFP" \
		"$(vk --format json image info busybox | json fingerprint)"
	before=$(tree_hash "$IMAGES/$CFP/rootfs")
	daemon_stop >/dev/null 2>&1
	daemon_start || exit 1
	check "images outlive a daemon restart" vk image info busybox
	for i in 1 2 3; do
		check "launch c$i from the image" \
			vk launch busybox "c$i" -- sh -c "echo c$i-data >/root/mine; sleep 1000"
	done
	for i in 1 2 3; do
		wait_for sh -c "'$VKC' exec c$i -- cat /root/mine | grep -q c$i-data"
		check "c$i wrote its own file" sh -c "'$VKC' exec c$i -- cat /root/mine | grep -qx c$i-data"
	done
	check "c1 does not see c2's file (each has its own copy)" \
		sh -c "! '$VKC' exec c2 -- grep -q c1 /root/mine"
	check "the image's layers, in order: layer 2's file is there" \
		sh -c "'$VKC' exec c1 -- cat /etc/image-layer2 | grep -q 'from layer 2'"
	check "and its whiteout removed layer 1's file" \
		sh -c "! '$VKC' exec c1 -- test -e /etc/to-be-whited-out"
	check "the image config's environment" sh -c "'$VKC' exec c1 -- env | grep -qx IMAGE_TEST=1"
	check_eq "the image's tree is unchanged" "$before" "$(tree_hash "$IMAGES/$CFP/rootfs")"
	out=$(vk image delete busybox 2>&1)
	check "delete is refused while containers use it: $out" \
		sh -c "printf '%s' \"$out\" | grep -q 'in use by instances'"
	vk kill c1 c2 c3 >/dev/null 2>&1
	check "remove the containers" vk undefine c1 c2 c3
	check "then delete works" vk image delete busybox
	check_eq "and leaves nothing" "" "$(leftovers)"
fi

# --- aliases -------------------------------------------------------------------------------------
if [ -n "${OCI_RUNTIME:-}" ]; then
	vk image import "$T/busybox.tar" >/dev/null
	check "alias add" vk image alias add bb "${CFP:0:16}"
	out=$(vk image alias add bb "${CFP:0:16}" 2>&1)
	check "a taken alias is refused: $out" sh -c "printf '%s' '$out' | grep -q taken"
	check "the alias names the image" sh -c "'$VKC' image alias list | grep -q '^bb *$CFP'"
	check "alias delete" vk image alias delete bb
	out=$(vk image info bb 2>&1)
	check "the alias is gone: $out" grep -q "no image or alias 'bb'" <<<"$out"
	vk image delete "${CFP:0:12}" >/dev/null
fi

# --- bad images: a clear error, nothing left behind ---------------------------------------------
# bad NAME PATTERN SOURCE: the import fails, says PATTERN, and leaves no folder behind.
bad() {
	local name=$1 pattern=$2 src=$3 out rc
	out=$(vk image import "$src" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q -- "$pattern" && [ -z "$(leftovers)" ]; then
		ok "$name (exit $rc: $out)"
	else
		not_ok "$name (exit $rc)" "$out
leftovers: $(leftovers)"
	fi
}
mkdir -p "$T/bad"
head -c 4M /dev/urandom >"$T/bad/disk.raw"
qemu-img convert -f raw -O qcow2 "$T/bad/disk.raw" "$T/bad/full.qcow2"
head -c $(($(stat -c %s "$T/bad/full.qcow2") / 2)) "$T/bad/full.qcow2" >"$T/bad/disk.qcow2"
echo '{"arch": "riscv64", "disk": "disk.qcow2"}' >"$T/bad/truncated.json"
bad "a truncated qcow2 disk" "cannot be read at offset .*(a truncated or corrupt image)" \
	"$T/bad/truncated.json"
qemu-img create -f qcow2 -F raw -b "$T/bad/disk.raw" "$T/bad/over.qcow2" >/dev/null
echo '{"arch": "riscv64", "disk": "over.qcow2"}' >"$T/bad/backed.json"
bad "a qcow2 disk with a backing file" "has a backing file" "$T/bad/backed.json"
echo '{"arch": "arm64", "disk": "disk.raw"}' >"$T/bad/arch.json"
bad "an architecture virtkit does not run" "'arch' must be \"riscv64\" or \"x86_64\"" \
	"$T/bad/arch.json"
if [ -n "$guest" ]; then
	cp "$guest/Image" "$T/bad/Image"
	echo '{"arch": "x86_64", "boot": "kernel", "kernel": "Image", "disk": "disk.raw"}' \
		>"$T/bad/wrong-arch.json"
	bad "metadata that says x86_64 for a RISC-V kernel" \
		"'arch' says x86_64 but the kernel 'kernel' is a RISC-V Linux Image" "$T/bad/wrong-arch.json"
fi
echo '{"arch": "riscv64", "disk": "../disk.raw"}' >"$T/bad/escape.json"
bad "a metadata file naming a file outside its folder" "no absolute path, no '..'" \
	"$T/bad/escape.json"
echo '{"arch": "riscv64", "disk": "disk.raw", "kernel_": "x"}' >"$T/bad/field.json"
bad "an unknown metadata field" "unknown field 'kernel_'" "$T/bad/field.json"
make_rootfs "$T/bb2" 2>/dev/null || true
for b in "layer-digest:does not match its digest" "config-digest:does not match its digest" \
	"short-blob:bytes where its descriptor says" "dotdot:has a '..' in its name" \
	"abs-name:has an absolute name" "abs-symlink:leads outside the root file system through the symlink 'evil-link'" \
	"dotdot-symlink:leads outside the root file system through the symlink 'evil-link'" \
	"hardlink-out:points outside the root file system" "other-arch:is for architecture 'riscv64'"; do
	rm -rf "$T/badoci"
	python3 "$MKOCI" "$T/badoci" "$T/bb2" --bad "${b%%:*}" >/dev/null
	bad "OCI image: ${b%%:*}" "${b#*:}" "$T/badoci"
done
head -c 10000 /dev/urandom >"$T/bad/random.tar"
bad "a file that is no archive" "not a tar archive\|not a readable tar archive" "$T/bad/random.tar"
check "nothing was written outside an image's folder" \
	sh -c "[ -z \"\$(find '$T' /tmp -maxdepth 3 -name 'escaped*' 2>/dev/null)\" ]"

# --- an import cut short by kill -9 leaves nothing ------------------------------------------------
mkdir -p "$T/big"
truncate -s 2G "$T/big/disk.raw"
echo '{"arch": "riscv64", "disk": "disk.raw"}' >"$T/big/metadata.json"
s=$(seq_now)
vk image import "$T/big" >/dev/null 2>&1 &
importer=$!
copying() { events_since "$s" | grep -q '"stage":"copy disk"'; }
wait_for copying
daemon_kill9
wait $importer 2>/dev/null
if [ -z "$(ls -A "$IMAGES" | grep '^\.import-')" ]; then
	skip "an interrupted import leaves nothing" "the import was over before the kill"
else
	daemon_start || exit 1
	check_eq "an interrupted import leaves nothing after the restart" "" "$(leftovers)"
	check "and no image" sh -c "'$VKC' --format json image list | grep -q '\"images\":\[\]'"
fi
[ -n "$DAEMON_PID" ] || daemon_start
check_stop "the daemon stops cleanly"
done_testing

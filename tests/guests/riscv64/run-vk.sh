#!/bin/sh
# Run one bare-metal ISA test ELF through the real virtkit-vm (--firmware none, HTIF exit code),
# as a TAP line: run-vk.sh NAME ELF [CPUS] [JIT (on|off)].
name=$1
elf=$2
cpus=${3:-1}
jit=${4:-off}
vm="$VK_BUILD/src/vm/virtkit-vm"
out=$(timeout 60 "$vm" run --arch riscv64 --memory 64M --cpus "$cpus" --jit "$jit" --firmware none \
	--kernel "$elf" --console stdio </dev/null 2>&1)
rc=$?
echo "1..1"
if [ $rc -eq 0 ]; then
	echo "ok 1 - $name through virtkit-vm ($cpus hart(s), jit $jit)"
else
	echo "not ok 1 - $name through virtkit-vm ($cpus hart(s), jit $jit): exit status $rc (the number of the failing check)"
	echo "$out" | tail -n 5 | sed 's/^/# /'
	exit 1
fi

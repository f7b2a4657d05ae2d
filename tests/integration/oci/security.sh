#!/bin/bash
# Security: seccomp (actions, architectures, argument filters, notify),
# capabilities, no_new_privs, user/groups/umask, rlimits and oomScoreAdj
# (with this sandbox's missing CAP_SYS_RESOURCE), the runtime binary only
# reachable as a sealed memfd (CVE-2019-5736), no leaked descriptors and a
# cwd that must stay inside the container (CVE-2024-21626).
. "$(dirname "$0")/lib.sh"
setup

run_in() {
	name=$1; shift
	B=$(make_bundle "$name" "$@")
	oci run --bundle "$B" "$name" 2>&1
}
has_cap_sys_resource() { [ $(( 0x$(sed -n 's/^CapEff:\t//p' /proc/self/status) >> 24 & 1 )) = 1 ]; }

# seccomp (these filters name x86-64 architectures and syscalls)
if [ "$(uname -m)" = x86_64 ]; then
SC='linux.seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["fchmodat"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":2,"value":511,"op":"SCMP_CMP_EQ"}]},{"names":["chmod"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":1,"value":511,"op":"SCMP_CMP_EQ"}]},{"names":["sethostname"],"action":"SCMP_ACT_KILL_PROCESS"},{"names":["no_such_syscall_xyz"],"action":"SCMP_ACT_ERRNO"}]}'
out=$(run_in seccomp "$SC" 'process.args=["/bin/sh","-c","mkdir /dev/shm/d 2>&1; touch /dev/shm/f; chmod 755 /dev/shm/f && echo chmod755-ok; chmod 777 /dev/shm/f 2>&1; hostname x; echo sethostname=$?"]')
echo "$out" | grep -q "mkdir.*Operation not permitted" && ok "seccomp: SCMP_ACT_ERRNO denies mkdir with EPERM" || not_ok "seccomp errno" "$out"
echo "$out" | grep -q chmod755-ok && echo "$out" | grep -q "chmod.*Permission denied" && ok "seccomp: argument filter (mode == 0777 only) with errnoRet 13" || not_ok "seccomp args" "$out"
echo "$out" | grep -q "sethostname=159" && ok "seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS (status 159)" || not_ok "seccomp kill" "$out"
out=$(run_in seccompnnp "$SC" 'process.noNewPrivileges=false' 'process.args=["/bin/sh","-c","mkdir /dev/shm/d2 2>&1"]')
echo "$out" | grep -q "Operation not permitted" && ok "seccomp without noNewPrivileges (loaded while privileged)" || not_ok "seccomp without nnp" "$out"
ALLOW='"read","write","open","openat","close","fstat","newfstatat","stat","lstat","mmap","mprotect","munmap","brk","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access","execve","exit","exit_group","arch_prctl","getpid","getppid","getuid","geteuid","getgid","getegid","uname","fcntl","dup2","dup3","wait4","clone","clone3","fork","vfork","prlimit64","getrandom","set_tid_address","set_robust_list","rseq","readlink","getcwd","chdir","sigaltstack","futex","pipe","pipe2","lseek","getdents64","setpgid","getpgrp","kill","prctl","capget","capset","setgroups","setresuid","setresgid","close_range","statx","faccessat","faccessat2","readlinkat","pread64"'
out=$(run_in seccompdeny "linux.seccomp={\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[$ALLOW],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"sethostname\"],\"action\":\"SCMP_ACT_TRAP\"},{\"names\":[\"sched_getaffinity\"],\"action\":\"SCMP_ACT_LOG\"}]}" \
	'process.args=["/bin/sh","-c","echo allowed; mkdir /dev/shm/x 2>/dev/null; echo mkdir=$?; hostname y; echo trap=$?; nproc >/dev/null; echo log=$?"]' | tr '\n' ' ')
echo "$out" | grep -q "allowed mkdir=1 .*trap=159 log=0" && ok "seccomp: default-deny allowlist, SCMP_ACT_TRAP (SIGSYS) and SCMP_ACT_LOG" || not_ok "seccomp allowlist" "$out"
else
	skip "seccomp actions, argument filters, allowlist" "the filters are written for x86-64; this host is $(uname -m)"
fi
out=$(run_in seccompbad 'linux.seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_BOGUS"}]}' 'process.args=["/bin/true"]')
echo "$out" | grep -q "linux.seccomp.syscalls\[0\].action: unknown action 'SCMP_ACT_BOGUS'" && ok "seccomp: a bad action is reported with its field path" || not_ok "seccomp bad action" "$out"
python3 "$HERE/seccomp-listener.py" "$TMP/listener.sock" "$TMP/listener.out" & CLEANUP_PIDS="$CLEANUP_PIDS $!"
wait_for test -S "$TMP/listener.sock"
out=$(run_in notify "linux.seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$TMP/listener.sock\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}" \
	'process.args=["/bin/sh","-c","mkdir /dev/shm/n 2>&1; echo done"]')
grep -q "fds=1 id=notify" "$TMP/listener.out" 2>/dev/null && echo "$out" | grep -q "Function not implemented" && \
	ok "seccomp: SCMP_ACT_NOTIFY sends the notify fd and state to listenerPath" || not_ok "seccomp notify" "$out / $(cat "$TMP/listener.out" 2>&1)"

# capabilities
out=$(run_in caps 'process.args=["/bin/sh","-c","grep -E \"^Cap(Eff|Bnd)\" /proc/self/status; touch /dev/shm/c; chown 1000 /dev/shm/c 2>&1"]')
echo "$out" | grep -q "CapEff:.*0000000020000420" && echo "$out" | grep -q "CapBnd:.*0000000020000420" && ok "capabilities: only AUDIT_WRITE, KILL, NET_BIND_SERVICE" || not_ok "caps" "$out"
echo "$out" | grep -q "chown.*Operation not permitted" && ok "capabilities: chown without CAP_CHOWN fails" || not_ok "no CAP_CHOWN" "$out"
out=$(run_in capchown 'process.capabilities.bounding+=CAP_CHOWN' 'process.capabilities.effective+=CAP_CHOWN' 'process.capabilities.permitted+=CAP_CHOWN' \
	'process.args=["/bin/sh","-c","touch /dev/shm/c2; chown 1000 /dev/shm/c2 && stat -c %u /dev/shm/c2"]')
[ "$out" = 1000 ] && ok "capabilities: CAP_CHOWN granted works" || not_ok "CAP_CHOWN" "$out"
out=$(run_in capamb 'process.user={"uid":1000,"gid":1000}' 'process.capabilities.inheritable=["CAP_NET_BIND_SERVICE"]' \
	'process.args=["/bin/sh","-c","grep -E \"^Cap(Eff|Amb)\" /proc/self/status"]')
echo "$out" | grep -q "CapAmb:.*0000000000000400" && echo "$out" | grep -q "CapEff:.*0000000000000400" && ok "capabilities: ambient NET_BIND_SERVICE for a non-root user" || not_ok "ambient" "$out"
out=$(run_in nnp 'process.args=["grep","NoNewPrivs","/proc/self/status"]')
out2=$(run_in nnp0 'process.noNewPrivileges=false' 'process.args=["grep","NoNewPrivs","/proc/self/status"]')
echo "$out" | grep -q "1$" && echo "$out2" | grep -q "0$" && ok "noNewPrivileges true/false" || not_ok "nnp" "$out / $out2"

# user, groups, umask
out=$(run_in user 'process.user={"uid":1000,"gid":1000,"additionalGids":[5,6],"umask":63}' \
	'process.args=["/bin/sh","-c","id -u; id -g; id -G; echo $HOME; touch /dev/shm/u; stat -c %a /dev/shm/u"]' | tr '\n' ' ')
[ "$out" = "1000 1000 1000 5 6 /home/user 600 " ] && ok "user, additionalGids, HOME from /etc/passwd, umask" || not_ok "user" "$out"

# rlimits and oomScoreAdj
out=$(run_in rlim 'process.rlimits=[{"type":"RLIMIT_NOFILE","soft":100,"hard":200},{"type":"RLIMIT_CORE","soft":0,"hard":0}]' \
	'process.args=["/bin/sh","-c","ulimit -n; ulimit -Hn; ulimit -c"]' | tr '\n' ' ')
[ "$out" = "100 200 0 " ] && ok "rlimits" || not_ok "rlimits" "$out"
hard=$(ulimit -Hn)
out=$(run_in rlimup "process.rlimits=[{\"type\":\"RLIMIT_NOFILE\",\"soft\":$((hard * 2)),\"hard\":$((hard * 2))}]" 'process.args=["/bin/true"]')
if has_cap_sys_resource; then
	[ -z "$out" ] && ok "rlimits above the hard limit (CAP_SYS_RESOURCE held)" || not_ok "raise rlimit" "$out"
else
	echo "$out" | grep -q "needs CAP_SYS_RESOURCE" && ok "raising a hard rlimit without CAP_SYS_RESOURCE: clear error" || not_ok "rlimit EPERM" "$out"
	skip "raising a hard rlimit" "this sandbox lacks CAP_SYS_RESOURCE"
fi
check "rlimit failure leaves nothing behind" assert_clean rlimup
out=$(run_in oom 'process.oomScoreAdj=500' 'process.args=["cat","/proc/self/oom_score_adj"]')
[ "$out" = 500 ] && ok "oomScoreAdj 500" || not_ok "oomScoreAdj" "$out"
out=$(run_in oomneg 'process.oomScoreAdj=-500' 'process.args=["cat","/proc/self/oom_score_adj"]')
if has_cap_sys_resource; then
	[ "$out" = -500 ] && ok "negative oomScoreAdj" || not_ok "negative oomScoreAdj" "$out"
else
	echo "$out" | grep -q "oomScoreAdj to -500.*CAP_SYS_RESOURCE" && ok "negative oomScoreAdj without CAP_SYS_RESOURCE: clear error" || not_ok "oom EPERM" "$out"
	skip "negative oomScoreAdj" "this sandbox lacks CAP_SYS_RESOURCE"
fi

# CVE-2019-5736: no container process can reach the runtime binary
sealed() { # PID: its /proc/PID/exe is a write-sealed memfd that cannot be opened for writing
	python3 - "$1" <<'EOP'
import fcntl, os, sys
fd = os.open('/proc/%s/exe' % sys.argv[1], os.O_RDONLY)
seals = fcntl.fcntl(fd, 1034)   # F_GET_SEALS
assert seals & 0x8 and seals & 0x1, seals   # F_SEAL_WRITE, F_SEAL_SEAL
try:
    os.open('/proc/%s/exe' % sys.argv[1], os.O_WRONLY)
    sys.exit(1)
except OSError:
    pass
EOP
}
sum=$(sha256sum "$OCI" | cut -d' ' -f1)
out=$(run_in selfexe 'process.args=["/proc/self/exe","--version"]'); rc=$?
[ $rc = 125 ] && ! echo "$out" | grep -q virtkit-oci && ok "an entrypoint of /proc/self/exe reaches only the sealed init stub (status 125)" || not_ok "/proc/self/exe entrypoint" "rc=$rc $out"
printf '#!/proc/self/exe\n' >"$ROOTFS/evil"; chmod 755 "$ROOTFS/evil"
B=$(make_bundle evil 'process.args=["/evil"]')
oci run --bundle "$B" evil >/dev/null 2>&1; rc=$?
rm -f "$ROOTFS/evil"
[ $rc = 125 ] && [ "$(sha256sum "$OCI" | cut -d' ' -f1)" = "$sum" ] && \
	ok "#!/proc/self/exe reaches only the sealed stub; the host binary is unchanged" || not_ok "#!/proc/self/exe" "rc=$rc"
B=$(make_bundle created 'process.args=["/bin/sleep","30"]')
oci create --bundle "$B" created
oci exec created true 2>"$TMP/err" && not_ok "exec into a created container is refused" || \
	{ grep -q "cannot exec in a created container" "$TMP/err" && ok "exec into a created container (whose process is still the runtime) is refused" || not_ok "exec created" "$(cat "$TMP/err")"; }
oci delete -f created
B=$(make_bundle nopidns 'linux.namespaces=[{"type":"mount"},{"type":"ipc"},{"type":"uts"}]' 'process.args=["/bin/sleep","30"]')
oci create --bundle "$B" nopidns
pid=$(oci state nopidns | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
sealed "$pid" && ok "without a pid namespace of its own the runtime runs from a sealed memfd ($(readlink /proc/$pid/exe))" || not_ok "sealed without pidns" "$(readlink /proc/$pid/exe)"
oci delete -f nopidns
B=$(make_bundle execsealed 'process.args=["/bin/sleep","30"]')
oci run -d --bundle "$B" execsealed
oci exec execsealed sleep 3 & epid=$!
wait_for pgrep -f "^$OCI --root .* exec execsealed sleep 3"
rpid=$(pgrep -f "^$OCI --root .* exec execsealed sleep 3" | head -1)
sealed "$rpid" && ok "exec runs the runtime from a sealed memfd" || not_ok "exec sealed" "$(readlink /proc/$rpid/exe)"
kill $epid 2>/dev/null; wait $epid 2>/dev/null
oci delete -f execsealed

# LSMs: a profile or label is applied where the host runs that LSM and refused
# (create fails, nothing left behind) where it does not; never ignored.
# The attribute writes themselves are unit-tested (tests/unit/oci).
aa_enabled() { [ -d /sys/kernel/security/apparmor ] && grep -q Y /sys/module/apparmor/parameters/enabled 2>/dev/null; }
se_enabled() { awk '$3 == "selinuxfs" {f=1} END {exit !f}' /proc/self/mounts; }
if aa_enabled; then
	out=$(run_in apparmor 'process.apparmorProfile=unconfined' 'process.args=["cat","/proc/self/attr/current"]')
	echo "$out" | grep -q unconfined && ok "apparmorProfile applied (this host runs AppArmor)" || not_ok "apparmor applied" "$out"
else
	out=$(run_in apparmor 'process.apparmorProfile=vk-test-profile' 'process.args=["/bin/echo","ran"]'); rc=$?
	echo "$out" | grep -q "process.apparmorProfile 'vk-test-profile' cannot be applied: AppArmor is not enabled on this host" && \
		! echo "$out" | grep -q ran && ok "apparmorProfile on a host without AppArmor: create refuses it" || not_ok "apparmor refusal" "$out"
	check "a refused apparmorProfile leaves nothing behind" assert_clean apparmor
fi
if se_enabled; then
	skip "selinuxLabel and mountLabel refused" "this host runs SELinux (labels are policy-specific: not tested here)"
else
	out=$(run_in selinux 'process.selinuxLabel=system_u:system_r:container_t:s0' 'process.args=["/bin/echo","ran"]')
	echo "$out" | grep -q "process.selinuxLabel 'system_u:system_r:container_t:s0' cannot be applied: SELinux is not enabled on this host" && \
		! echo "$out" | grep -q ran && ok "selinuxLabel on a host without SELinux: create refuses it" || not_ok "selinux refusal" "$out"
	out=$(run_in mountlabel 'linux.mountLabel=system_u:object_r:container_file_t:s0' 'process.args=["/bin/echo","ran"]')
	echo "$out" | grep -q "linux.mountLabel 'system_u:object_r:container_file_t:s0' cannot be applied: SELinux is not enabled on this host" && \
		! echo "$out" | grep -q ran && ok "mountLabel on a host without SELinux: create refuses it" || not_ok "mountLabel refusal" "$out"
	check "refused labels leave nothing behind" assert_clean mountlabel
fi
if ! aa_enabled; then
	B=$(make_bundle lsmexec 'process.args=["/bin/sleep","30"]')
	oci run -d --bundle "$B" lsmexec
	out=$(oci exec --apparmor vk-test-profile lsmexec echo ran 2>&1)
	echo "$out" | grep -q "process.apparmorProfile 'vk-test-profile' cannot be applied" && ! echo "$out" | grep -q ran && \
		ok "exec --apparmor on a host without AppArmor is refused" || not_ok "exec --apparmor" "$out"
	echo '{"user":{"uid":0,"gid":0},"args":["/bin/echo","ran"],"cwd":"/","apparmorProfile":"vk-test-profile"}' >"$TMP/aaproc.json"
	out=$(oci exec --process "$TMP/aaproc.json" lsmexec 2>&1)
	echo "$out" | grep -q "process.apparmorProfile 'vk-test-profile' cannot be applied" && ! echo "$out" | grep -q ran && \
		ok "exec --process with apparmorProfile on a host without AppArmor is refused" || not_ok "exec process apparmor" "$out"
	oci delete -f lsmexec
fi

# CVE-2024-21626: no leaked descriptors, cwd checked
exec 7</
out=$(run_in fds 'process.args=["/bin/sh","-c","ls /proc/self/fd | tr \"\\n\" \" \""]')
[ "$out" = "0 1 2 3 " ] && ok "only stdio reaches the container (fd 7 of the caller does not)" || not_ok "fd leak" "$out"
B=$(make_bundle fdsexec 'process.args=["/bin/sleep","30"]')
oci run -d --bundle "$B" fdsexec
out=$(oci exec fdsexec sh -c 'ls /proc/self/fd | tr "\n" " "' 2>&1)
[ "$out" = "0 1 2 3 " ] && ok "exec: no leaked descriptors" || not_ok "exec fd leak" "$out"
oci delete -f fdsexec
out=$(run_in cwdleak 'process.cwd=/proc/self/fd/7' 'process.args=["/bin/sh","-c","pwd; ls"]')
echo "$out" | grep -q "process.cwd" && ! echo "$out" | grep -q "^bin$" && ok "cwd through a leaked fd (/proc/self/fd/7) is refused" || not_ok "cwd leak" "$out"
check "refused cwd leaves nothing behind" assert_clean cwdleak
exec 7<&-
exec 3</etc/hostname
B=$(make_bundle preserve 'process.args=["/bin/sh","-c","cat <&3"]')
out=$(oci run --preserve-fds 1 --bundle "$B" preserve 2>&1)
exec 3<&-
[ "$out" = "$(cat /etc/hostname)" ] && ok "--preserve-fds 1 passes fd 3" || not_ok "preserve-fds" "$out"
out=$(run_in nocwd 'process.cwd=/does/not/exist' 'process.args=["/bin/true"]')
echo "$out" | grep -q "cannot change to process.cwd '/does/not/exist'" && ok "a missing cwd is a clear error" || not_ok "missing cwd" "$out"
done_testing

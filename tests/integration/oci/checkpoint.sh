#!/bin/bash
# checkpoint and restore, the runtime's side, with the stand-in criu
# (criu-standin: records its arguments, writes an image folder, kills the
# dumped tree, starts a "restored" process): the exact CRIU command line for
# each runc flag, the container's states (gone after a checkpoint, running
# after restore, in its cgroups, criu-root unmounted), and the failures (CRIU
# failing, refused options, a restore that fails at any point): a clear
# error, the container unchanged, nothing left behind. The real CRIU is
# criu-real.sh.
. "$(dirname "$0")/lib.sh"
setup

STANDIN=$HERE/criu-standin
export CRIU_STANDIN_LOG=$TMP/criu.log
ck() { oci --criu "$STANDIN" "$@"; }
STANDIN_CK="timeout 20 $OCI --root $ROOT --criu $STANDIN"
last_criu() { tail -n 1 "$CRIU_STANDIN_LOG"; }
pid_of() { oci state "$1" 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
mkdir -p "$TMP/data"
echo masked-file >"$ROOTFS/etc/secret"
BINDM="mounts+={\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$TMP/data\",\"options\":[\"rbind\"]}"
B=$(make_bundle ck 'process.args=["/bin/sleep","600"]' "$BINDM" 'linux.maskedPaths=["/etc/secret"]')
IMG=$TMP/img
# The freezer CRIU stops the container with: v1 freezer, else the v2 cgroup.
freezer_of() {
	if [ -d "$(cg freezer "$1")" ]; then cg freezer "$1"; else echo "/sys/fs/cgroup/unified$CG_PREFIX/$1"; fi
}

# --- checkpoint: the command line and what becomes of the container
# (stdout to a file, stderr to a pipe: restore connects pipes again)
oci run -d --bundle "$B" ck </dev/null >"$TMP/ck.out" 2> >(cat >/dev/null) || not_ok "run ck"
P=$(pid_of ck)
FREEZER=$(freezer_of ck)
out=$(ck checkpoint --image-path "$IMG" ck 2>&1); rc=$?
[ $rc = 0 ] && ok "checkpoint: exit 0" || not_ok "checkpoint" "rc=$rc $out"
want="dump --images-dir $IMG --work-dir $IMG --log-file dump.log -v4 --root $ROOTFS --manage-cgroups=soft --tree $P --freeze-cgroup $FREEZER --external mnt\\[/data\\]:/data --external mnt\\[/etc/secret\\]:/etc/secret"
[ "$(last_criu)" = "$want" ] && ok "criu dump gets the tree, images, log, root, cgroups mode, freezer and the external bind mount and mask" ||
	not_ok "criu dump command line" "got:  $(last_criu)
want: $want"
oci state ck >/dev/null 2>&1 && not_ok "the checkpointed container is gone (as runc)" "$(oci state ck)" || ok "the checkpointed container is gone (as runc): state says it does not exist"
[ -d "/proc/$P" ] && ! grep -q '^State:.*Z' /proc/$P/status && not_ok "its process was killed" || ok "its process is gone"
check "no state, cgroup, mount or process is left" assert_clean ck
[ -f "$IMG/inventory.img" ] && [ -f "$IMG/descriptors.json" ] && ok "the image folder holds CRIU's images and descriptors.json" || not_ok "image folder" "$(ls "$IMG")"
grep -q '"masked":\["\\/etc\\/secret"\]' "$IMG/virtkit-oci.json" && ok "virtkit-oci.json records the masked file for restore" || not_ok "virtkit-oci.json" "$(cat "$IMG/virtkit-oci.json")"

# --- restore --detach --pid-file: the container comes back
out=$(ck restore --detach --bundle "$B" --image-path "$IMG" --pid-file "$TMP/pidfile" ck 2>&1); rc=$?
[ $rc = 0 ] && ok "restore --detach: exit 0" || not_ok "restore" "rc=$rc $out"
R=$(cat "$TMP/pidfile" 2>/dev/null)
want_start="restore --images-dir $IMG --work-dir $IMG --log-file restore.log -v4 --root $ROOT/ck/criu-root --manage-cgroups=soft --restore-detached --restore-sibling --pidfile $IMG/restore-ck.pid --cgroup-root "
case "$(last_criu)" in "$want_start"*) ok "criu restore: images, log, root at criu-root, detached sibling, pid file" ;;
*) not_ok "criu restore command line" "got:  $(last_criu)
want: $want_start..." ;; esac
PIPE=$(sed -n 's/.*"\(pipe:\[[0-9]*\]\)"\]$/\1/p' "$IMG/descriptors.json")
want_end="--external mnt\\[/data\\]:$TMP/data --external mnt\\[/etc/secret\\]:/dev/null --inherit-fd fd\\[2\\]:pipe:\\[${PIPE//[^0-9]/}\\]"
case "$(last_criu)" in *" $want_end") [ -n "$PIPE" ] && ok "criu restore maps the bind mount to its source, the mask to /dev/null, and its stderr pipe ($PIPE) to ours" ;;
*) not_ok "restore externals" "got: $(last_criu)" ;; esac
roots_ok=1
for d in $(cgroup_dirs ck); do
	h=${d#/sys/fs/cgroup/}; h=${h%%/*}
	case $h in unified) arg="--cgroup-root $CG_PREFIX/ck" ;; systemd) arg="--cgroup-root name=systemd:$CG_PREFIX/ck" ;; *) arg="--cgroup-root $h:$CG_PREFIX/ck" ;; esac
	case "$(last_criu)" in *" $arg "*) ;; *) roots_ok=0; diag "missing: $arg" ;; esac
done
[ $roots_ok = 1 ] && [ -n "$(cgroup_dirs ck)" ] && ok "criu restore puts the tasks in the container's cgroup of every hierarchy (--cgroup-root)" || not_ok "cgroup roots" "$(last_criu)"
[ "$(status_of ck)" = running ] && [ "$(pid_of ck)" = "$R" ] && ok "state: running, with the restored pid of the pid file ($R)" || not_ok "state after restore" "$(oci state ck 2>&1) pidfile=$R"
inall=1
for d in $(cgroup_dirs ck); do grep -qx "$R" "$d/cgroup.procs" || inall=0; done
[ $inall = 1 ] && ok "the restored process is in the container's cgroups" || not_ok "restored process cgroups" "$(cat /proc/$R/cgroup)"
grep -q "$ROOT/ck/criu-root" /proc/self/mountinfo && not_ok "criu-root unmounted" || ok "criu-root is unmounted after the restore"
[ -e "$ROOT/ck/criu-root" ] && not_ok "criu-root removed" || ok "and removed"
check "kill and delete the restored container" oci delete -f ck
check "nothing left after its delete" assert_clean ck

# --- each runc flag reaches criu (checkpoint with --leave-running keeps it)
oci run -d --bundle "$B" ck || not_ok "run ck again"
P=$(pid_of ck)
out=$(ck checkpoint --leave-running --image-path "$IMG" ck 2>&1)
case "$(last_criu)" in *" --tree $P --leave-running "*) ok "--leave-running: criu dump --leave-running" ;; *) not_ok "--leave-running" "$(last_criu) $out" ;; esac
[ "$(status_of ck)" = running ] && [ "$(pid_of ck)" = "$P" ] && ok "--leave-running: the container runs on, same pid" || not_ok "leave-running state" "$(oci state ck 2>&1)"
for pair in "--tcp-established|--tcp-established" "--ext-unix-sk|--ext-unix-sk" "--shell-job|--shell-job" \
	"--file-locks|--file-locks" "--tcp-skip-in-flight|--skip-in-flight" "--link-remap|--link-remap" \
	"--auto-dedup|--auto-dedup" "--empty-ns network|--empty-ns=net" "--manage-cgroups-mode full|--manage-cgroups=full" \
	"--manage-cgroups-mode ignore|--manage-cgroups=ignore" "--parent-path ../pre|--prev-images-dir ../pre --track-mem" \
	"--work-path $TMP/work|--work-dir $TMP/work --log-file dump.log"; do
	flag=${pair%%|*}; want=${pair#*|}
	out=$(ck checkpoint --leave-running --image-path "$IMG" $flag ck 2>&1); rc=$?
	case " $(last_criu) " in *" $want "*) [ $rc = 0 ] && ok "$flag: criu dump $want" || not_ok "$flag rc" "rc=$rc $out" ;;
	*) not_ok "$flag reaches criu as '$want'" "$(last_criu) $out" ;; esac
done
[ -f "$TMP/work/dump.log" ] && ok "--work-path: CRIU's log goes there" || not_ok "work path log" "$(ls "$TMP/work" 2>&1)"
ck checkpoint --pre-dump --image-path "$TMP/pre" ck >/dev/null 2>&1
case "$(last_criu)" in "pre-dump --images-dir $TMP/pre "*) [ "$(status_of ck)" = running ] && ok "--pre-dump: criu pre-dump, the container runs on" || not_ok "pre-dump state" ;;
*) not_ok "--pre-dump" "$(last_criu)" ;; esac
(cd "$TMP" && "$OCI" --root "$ROOT" --criu "$STANDIN" checkpoint --leave-running ck >/dev/null 2>&1)
case "$(last_criu)" in "dump --images-dir $TMP/checkpoint --work-dir $TMP/checkpoint "*) ok "the default --image-path is ./checkpoint (as runc)" ;; *) not_ok "default image path" "$(last_criu)" ;; esac
# criu from PATH when --criu is not given
mkdir -p "$TMP/bin" && ln -sf "$STANDIN" "$TMP/bin/criu"
PATH=$TMP/bin:$PATH timeout 20 "$OCI" --root "$ROOT" checkpoint --leave-running --image-path "$IMG" ck >/dev/null 2>&1
case "$(last_criu)" in "dump --images-dir $IMG "*) ok "without --criu, criu is found in PATH" ;; *) not_ok "criu from PATH" "$(last_criu)" ;; esac

# --- refusals and failures: a clear error, the container unchanged
lines=$(wc -l <"$CRIU_STANDIN_LOG")
refuse() { # NAME PATTERN ARGS...
	_name=$1 _pat=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc != 0 ] && echo "$out" | grep -q -- "$_pat"; then ok "$_name (exit $rc: $(echo "$out" | head -c 200))"; else not_ok "$_name" "rc=$rc $out"; fi
}
refuse "--lazy-pages is refused with the reason" "--lazy-pages is not supported by virtkit-oci" ck checkpoint --lazy-pages --image-path "$IMG" ck
refuse "--page-server is refused" "--page-server is not supported" ck checkpoint --page-server 127.0.0.1:1 --image-path "$IMG" ck
refuse "a bad --manage-cgroups-mode is refused" "expected soft, full, strict or ignore" ck checkpoint --manage-cgroups-mode bogus ck
refuse "restore refuses a checkpoint-only option" "option --leave-running is not one of restore's" ck restore --leave-running --bundle "$B" x
refuse "--lsm-profile is refused, not ignored" "--lsm-profile is not supported" ck restore --lsm-profile foo --bundle "$B" x
[ "$(wc -l <"$CRIU_STANDIN_LOG")" = "$lines" ] && ok "criu did not run for a refused option" || not_ok "criu ran for a refused option" "$(last_criu)"
out=$(CRIU_STANDIN_FAIL=dump ck checkpoint --image-path "$IMG" ck 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "cannot checkpoint container ck: criu dump failed (exit status 1): stand-in criu: dumping failed as asked (log: $IMG/dump.log)" &&
	ok "criu dump failing: its exit status and its first Error line ($out)" || not_ok "criu dump failure" "rc=$rc $out"
[ "$(status_of ck)" = running ] && [ "$(pid_of ck)" = "$P" ] && ok "after the failed dump the container runs on, unchanged" || not_ok "state after a failed dump" "$(oci state ck 2>&1)"
refuse "a missing criu: the reason and what to install" "cannot run $TMP/nope (install Debian's criu, or name it with --criu): No such file or directory" \
	oci --criu "$TMP/nope" checkpoint --image-path "$IMG" ck
[ "$(status_of ck)" = running ] && ok "the container still runs" || not_ok "runs after missing criu"
oci pause ck
out=$(ck checkpoint --leave-running --image-path "$IMG" ck 2>&1); rc=$?
case "$(last_criu)" in *" --tree $P --leave-running --freeze-cgroup "*) [ $rc = 0 ] && ok "a paused container is dumped through its freezer" || not_ok "paused checkpoint" "rc=$rc $out" ;;
*) not_ok "paused checkpoint command line" "$(last_criu) $out" ;; esac
[ "$(status_of ck)" = paused ] && ok "with --leave-running it stays paused" || not_ok "paused after checkpoint" "$(status_of ck)"
check "a paused container checkpointed: gone, nothing left" sh -c "$STANDIN_CK checkpoint --image-path $TMP/img-paused ck && ! $OCI --root $ROOT state ck"
check "nothing left of it" assert_clean ck
B2=$(make_bundle created 'process.args=["/bin/true"]')
oci create --bundle "$B2" created
refuse "a created (not started) container is refused" "it is created, not running" ck checkpoint --image-path "$IMG" created
oci delete -f created
refuse "a container that does not exist" "container does not exist" ck checkpoint --image-path "$IMG" nosuch
B3=$(make_bundle nomnt 'process.args=["/bin/sleep","600"]' 'linux.namespaces=[{"type":"pid"},{"type":"uts"}]' \
	'mounts=[]' 'linux.maskedPaths=[]' 'linux.readonlyPaths=[]' 'root.readonly=false')
oci run -d --bundle "$B3" nomnt
refuse "a container without its own mount namespace is refused" "checkpoint needs a mount namespace of the container's own" ck checkpoint --image-path "$IMG" nomnt
oci delete -f nomnt

# --- restore failures leave nothing behind
refuse "restore with CRIU failing: the error" "cannot restore container rf: criu restore failed (exit status 1): stand-in criu: restoring failed as asked (log: $IMG/restore.log)" \
	env CRIU_STANDIN_FAIL=restore "$OCI" --root "$ROOT" --criu "$STANDIN" restore -d --bundle "$B" --image-path "$IMG" --pid-file "$TMP/pf" rf
check "nothing left after it (state, cgroups, criu-root mount)" assert_clean rf ck
[ -e "$TMP/pf" ] && not_ok "no pid file after a failed restore" || ok "no pid file after a failed restore"
refuse "restore from a missing image folder" "cannot use --image-path '$TMP/none': No such file or directory" ck restore -d --bundle "$B" --image-path "$TMP/none" rm
check "nothing left after it" assert_clean rm ck
if VIRTKIT_OCI_FAIL_AT=criu ck restore -d --bundle "$B" --image-path "$IMG" fi1 >/dev/null 2>&1; then
	skip "restore failure injection" "this build has no VIRTKIT_OCI_FAIL_AT (release build)"
	oci delete -f fi1
else
	for step in criu pid-file; do
		refuse "restore fails at '$step' with its error" "injected failure at $step" env VIRTKIT_OCI_FAIL_AT=$step \
			"$OCI" --root "$ROOT" --criu "$STANDIN" restore -d --bundle "$B" --image-path "$IMG" --pid-file "$TMP/pf" "fail-$step"
		check "nothing left after a failure at '$step' (the restored process killed)" assert_clean "fail-$step" ck
	done
fi
oci run -d --bundle "$B" ck
refuse "restore over an existing container id" "container with id exists: ck" ck restore -d --bundle "$B" --image-path "$IMG" ck
oci pause ck
refuse "restore into the frozen cgroup of a paused container: refused, not hung" "the cgroup of container other is frozen" \
	ck restore -d --bundle "$B" --image-path "$IMG" other
[ -e "$ROOT/other" ] && not_ok "no state of it left" || ok "no state of it left"
[ "$(status_of ck)" = paused ] && ok "the paused container keeps its cgroup, frozen" || not_ok "paused container after refused restore" "$(status_of ck)"
oci resume ck
[ "$(status_of ck)" = running ] && ok "the existing container is untouched" || not_ok "existing container after refused restore"
oci delete -f ck

# --- foreground restore: waits for the process, returns its status, deletes the container
ck restore --bundle "$B" --image-path "$IMG" fg >/dev/null 2>&1 &
FG=$!
fg_running() { [ "$(status_of fg)" = running ]; }
wait_for fg_running && ok "foreground restore: the container runs" || not_ok "foreground restore running" "$(oci state fg 2>&1)"
oci kill fg KILL
wait $FG; rc=$?
[ $rc = 137 ] && ok "foreground restore returns the process's status (137 after SIGKILL)" || not_ok "foreground restore status" "rc=$rc"
check "and deletes the container: nothing left" assert_clean fg ck
done_testing

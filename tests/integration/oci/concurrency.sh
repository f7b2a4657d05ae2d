#!/bin/bash
# Concurrency: several containers created, started, run and deleted at the
# same time, with pipes on their stdio (as virtkitd's shim and podman's
# conmon give them), and lifecycle commands racing a create of the same id.
# Every container must run and exit with its status; nothing may be left
# behind (state directories, cgroups, mounts, processes).
. "$(dirname "$0")/lib.sh"
T=90 # several runtimes share two CPUs here, sanitizer builds are slower
setup
N=6

# In debug builds VIRTKIT_OCI_WAIT_AT=state-dir:FILE holds create right after
# its state directory appeared under the container's id, until FILE exists.
B=$(make_bundle probe 'process.args=["/bin/true"]')
VIRTKIT_OCI_FAIL_AT=state oci run --bundle "$B" probe >/dev/null 2>&1 && injection=false || injection=true
has_injection() { $injection; }

# A flock request on directory $1 is waiting (the runtime's lock on a container).
lock_waiter_on() {
	local ino
	ino=$(stat -c %i "$1" 2>/dev/null) || return 1
	grep -q -- "-> FLOCK .*:$ino " /proc/locks
}

# settled PID DIR: the command PID has either answered or waits for DIR's lock.
settled() { ! kill -0 "$1" 2>/dev/null || lock_waiter_on "$2"; }

# Commands that find a container while its create has made the directory but
# not written any state yet: they must wait for create, not take the
# container for a create that died ("cannot start a container that has
# stopped") or remove the directory under it.
race_create() {
	local cmd=$1 id=$2 B cpid pid crc rc
	B=$(make_bundle "$id" 'process.args=["echo","started"]') || return 1
	rm -f "$TMP/go"
	VIRTKIT_OCI_WAIT_AT=state-dir:$TMP/go oci create --bundle "$B" "$id" \
		</dev/null >"$TMP/$id.out" 2>"$TMP/$id.create-err" &
	cpid=$!
	if ! wait_for test -d "$ROOT/$id"; then
		touch "$TMP/go"; wait $cpid
		not_ok "$cmd while create holds $id" "no state directory appeared"
		return 1
	fi
	oci "$cmd" "$id" >"$TMP/$id.$cmd-out" 2>&1 &
	pid=$!
	wait_for settled $pid "$ROOT/$id"
	touch "$TMP/go"
	wait $cpid; crc=$?
	wait $pid; rc=$?
	if [ $crc = 0 ] && [ $rc = 0 ]; then
		ok "$cmd waits for a create of the same id in progress"
	else
		not_ok "$cmd waits for a create of the same id in progress" \
			"create rc=$crc: $(cat "$TMP/$id.create-err"); $cmd rc=$rc: $(cat "$TMP/$id.$cmd-out")"
	fi
}

if has_injection; then
	race_create start held-start
	wait_for eval '[ "$(status_of held-start)" = stopped ]'
	grep -qx started "$TMP/held-start.out" && ok "the container started by it ran" ||
		not_ok "the container started by it ran" "state $(status_of held-start), out: $(cat "$TMP/held-start.out")"
	oci delete held-start
	check "nothing left of it" assert_clean held-start
	race_create delete held-delete
	check "delete removed the container create made" assert_clean held-delete
else
	skip "start and delete during a create of the same id" "no VIRTKIT_OCI_WAIT_AT (release build)"
fi

# Two creates sharing a parent cgroup that one of them has just made: the
# other may find it before its cpuset.cpus/mems were filled (a fresh v1
# cpuset is empty, and nobody can join an empty one or its children). Here
# the parent is left empty on purpose.
CPUSET=/sys/fs/cgroup/cpuset
if [ -f "$CPUSET/cpuset.cpus" ]; then
	mkdir -p "$CPUSET$CG_PREFIX/emptyparent"
	B=$(make_bundle emptyparent 'process.args=["/bin/true"]' "linux.cgroupsPath=$CG_PREFIX/emptyparent/c")
	out=$(oci run --bundle "$B" emptyparent </dev/null 2>&1) &&
		ok "a container runs below a cpuset parent that is not filled yet" ||
		not_ok "a container runs below a cpuset parent that is not filled yet" "$out"
	out=$(assert_clean emptyparent emptyparent/c) && ok "nothing left of it" || not_ok "nothing left of it" "$out"
	rmdir "$CPUSET$CG_PREFIX/emptyparent"
else
	skip "a container below a cpuset parent not filled yet" "no v1 cpuset hierarchy"
fi

# A parent cgroup create found existing is removed (a concurrent delete of
# the container that made it) before create makes its own cgroup in it.
if has_injection; then
	dirs=$(ls -d /sys/fs/cgroup/*/ | sed "s|/\$|$CG_PREFIX/vanish|")
	mkdir -p $dirs
	B=$(make_bundle vanish 'process.args=["/bin/true"]' "linux.cgroupsPath=$CG_PREFIX/vanish/c")
	rm -f "$TMP/go" "$TMP/go.held"
	VIRTKIT_OCI_WAIT_AT=cgroup-parent:$TMP/go oci run --bundle "$B" vanish </dev/null \
		>"$TMP/vanish.out" 2>&1 &
	pid=$!
	wait_for test -e "$TMP/go.held"
	rmdir $dirs
	touch "$TMP/go"
	wait $pid && ok "create makes its cgroup when its parent went away meanwhile" ||
		not_ok "create makes its cgroup when its parent went away meanwhile" "$(cat "$TMP/vanish.out")"
	check "nothing left of it (the parent it made again included)" assert_clean vanish vanish
else
	skip "a parent cgroup removed during create" "no VIRTKIT_OCI_WAIT_AT (release build)"
fi

# Parallel creates with pipes on stdin and stdout, each started by a start
# that runs as soon as its create was launched (the create may still be
# running: start retries only while the container does not exist yet).
for k in $(seq $N); do
	make_bundle "p$k" 'process.args=["sh","-c","read x; echo \"$x-out\""]' >/dev/null
done
for k in $(seq $N); do
	({ echo "in$k"; sleep 1; } | oci create --bundle "$TMP/p$k" "p$k" 2>"$TMP/p$k.err" |
		cat >"$TMP/p$k.out") &
done
bad=""
for k in $(seq $N); do
	for try in $(seq 200); do
		out=$(oci start "p$k" 2>&1) && break
		case $out in *"does not exist"*) sleep 0.05 ;; *) break ;; esac
	done
	[ -n "$out" ] && bad="$bad p$k: $out $(cat "$TMP/p$k.err");"
done
[ -z "$bad" ] && ok "$N parallel creates with piped stdio all start" ||
	not_ok "$N parallel creates with piped stdio all start" "$bad"
wait
bad=""
for k in $(seq $N); do
	wait_for eval '[ "$(status_of p'"$k"')" = stopped ]'
	[ "$(cat "$TMP/p$k.out")" = "in$k-out" ] || bad="$bad p$k:'$(cat "$TMP/p$k.out")'($(status_of "p$k"))"
done
[ -z "$bad" ] && ok "each read its stdin pipe and wrote to its stdout pipe" ||
	not_ok "each read its stdin pipe and wrote to its stdout pipe" "$bad"
for k in $(seq $N); do oci delete "p$k" >/dev/null 2>&1 & done
wait
bad=""
for k in $(seq $N); do
	out=$(assert_clean "p$k") || bad="$bad p$k: $out;"
done
[ -z "$bad" ] && ok "parallel deletes leave nothing behind" || not_ok "parallel deletes leave nothing behind" "$bad"

# Parallel runs with piped stdio: each exits with its own status.
for k in $(seq $N); do
	make_bundle "r$k" "process.args=[\"sh\",\"-c\",\"read x; echo \\\"\$x-out\\\"; exit $((10 + k))\"]" >/dev/null
done
for k in $(seq $N); do
	({ echo "rin$k"; sleep 1; } | oci run --bundle "$TMP/r$k" "r$k" 2>"$TMP/r$k.err" | cat >"$TMP/r$k.out"
		echo "${PIPESTATUS[1]}" >"$TMP/r$k.rc") &
done
wait
bad=""
for k in $(seq $N); do
	[ "$(cat "$TMP/r$k.rc")" = $((10 + k)) ] && [ "$(cat "$TMP/r$k.out")" = "rin$k-out" ] ||
		bad="$bad r$k: rc $(cat "$TMP/r$k.rc") out '$(cat "$TMP/r$k.out")' $(cat "$TMP/r$k.err");"
	out=$(assert_clean "r$k") || bad="$bad r$k: $out;"
done
[ -z "$bad" ] && ok "$N parallel runs exit with their own status and leave nothing behind" ||
	not_ok "$N parallel runs exit with their own status and leave nothing behind" "$bad"

# Parallel creates of long-running containers, then parallel force-deletes.
for k in $(seq $N); do
	make_bundle "d$k" 'process.args=["sleep","60"]' >/dev/null
	# (its output goes to a file: the container keeps stdout open for as long as it runs)
	oci create --bundle "$TMP/d$k" "d$k" </dev/null >/dev/null 2>"$TMP/d$k.err" &
done
wait
for k in $(seq $N); do oci start "d$k" & done
wait
bad=""
for k in $(seq $N); do
	[ "$(status_of "d$k")" = running ] || bad="$bad d$k:$(status_of "d$k") $(cat "$TMP/d$k.err")"
done
[ -z "$bad" ] && ok "$N containers created and started in parallel run" || not_ok "$N containers run" "$bad"
for k in $(seq $N); do oci delete -f "d$k" & done
wait
bad=""
for k in $(seq $N); do
	out=$(assert_clean "d$k") || bad="$bad d$k: $out;"
done
[ -z "$bad" ] && ok "parallel force-deletes of running containers leave nothing behind" ||
	not_ok "parallel force-deletes of running containers leave nothing behind" "$bad"
done_testing

#!/bin/bash
# SPDX-License-Identifier: MIT
# Networks shared by VMs and containers (issue 14, docs/networks.md), end to end, in a
# network and mount namespace of the test's own (nothing reaches the host's interfaces or
# firewall; dnsmasq runs with no-resolv): a managed network (bridge, dnsmasq, nftables
# table), its errors (name taken, overlaps, reserved names, dnsmasq's own message, missing
# CAP_NET_ADMIN), a container and the shared riscv64 guest on it (DHCP lease and
# reservation, leases listing both, ping and HTTP both ways, DNS names, published ports on
# 127.0.0.1, on every address from another namespace, UDP, a clash), what the firewall keeps
# out (the LAN from the guests, an isolated network from everything, a guest from the
# host's loopback), dnsmasq restarted when it dies, daemon kill -9 (links kept, nothing
# duplicated), a host reboot simulated by deleting the bridge, dnsmasq and the table (all
# made again), delete refused while in use, and nothing left behind at the end.
if [ -z "${VK_NETNS_TEST:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
	command -v unshare >/dev/null || { echo "1..0 # SKIP unshare (util-linux) is missing"; exit 0; }
	VK_NETNS_TEST=1 exec unshare --net --mount --propagation private -- "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
setup
ip link set lo up
DNSMASQ_PIDS() { cat "$T"/run/networks/*/dnsmasq.pid 2>/dev/null; }
# dnsmasq daemonizes: take down what this test's networks started (their pid files), and
# unpin the containers' namespaces, then lib.sh's teardown (with the exit status kept).
on_exit() {
	local rc=$? f
	CLEANUP_PIDS="$(DNSMASQ_PIDS) $EXTRA_PIDS"
	for f in "$T"/run/netns/*; do [ -e "$f" ] && umount -l "$f"; done
	(exit $rc)
	teardown
}
EXTRA_PIDS= # namespaces and servers of the test's own (below)
trap on_exit EXIT
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] ||
	{ echo "1..0 # SKIP dnsmasq (Debian's dnsmasq-base) is not installed"; exit 0; }
[ -c /dev/net/tun ] || { echo "1..0 # SKIP /dev/net/tun is missing"; exit 0; }
pick_oci_runtime || { echo "1..0 # SKIP no OCI runtime: $OCI_WHY"; exit 0; }
PROBE=$VK_BUILD/tests/integration/daemon/netprobe
cp "$PROBE" "$T/rootfs/bin/netprobe"
mkdir -p "$T/rootfs/www" && echo hello-from-ct >"$T/rootfs/www/index.html"

# The shared riscv64 guest, when virtkit-vm boots it here.
G=$VK_SHARED/guests/riscv64
VM_OK=
if [ -x "$VK_BUILD/src/vm/virtkit-vm" ] && [ -f "$G/Image" ] && [ -f "$G/initramfs.cpio.gz" ]; then
	timeout -k 5 60 "$VK_BUILD/src/vm/virtkit-vm" run --arch riscv64 --memory 128M \
		--kernel "$G/Image" --initrd "$G/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 vk.mode=poweroff" --console "file:$T/probe.log" \
		</dev/null >"$T/probe.err" 2>&1
	grep -q VIRTKIT-GUEST-READY "$T/probe.log" 2>/dev/null && VM_OK=1
	VM_WHY="virtkit-vm cannot boot the shared guest: $(tail -n 1 "$T/probe.err")"
else
	VM_WHY="virtkit-vm or the shared riscv64 guest ($G) is missing"
fi
VM_BINARY=$VK_BUILD/src/vm/virtkit-vm
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
wait_for_long() {
	local i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
exit_of() { "$@" >/dev/null 2>&1; echo $?; }
ctx() { vk exec ct1 -- "$@"; }
bridge_addr() { ip -4 -o addr show dev "$1" 2>/dev/null | awk '{print $4}'; }
dnsmasq_alive() { local p; p=$(cat "$T/run/networks/$1/dnsmasq.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$(cat /proc/$p/comm)" = dnsmasq ]; }
# dnsmasq processes running with this network's configuration (zombies have no cmdline).
dnsmasq_count() {
	local n=0 p
	for p in $(ls /proc | grep -E '^[0-9]+$'); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q -- "--conf-file=$T/run/networks/$1/dnsmasq.conf" && n=$((n + 1))
	done
	echo $n
}
table() { nft list table ip virtkit 2>/dev/null; }
# udp_ask ADDR PORT: send "hi", print the answer (netprobe uecho answers "udp:hi").
UDP_ASK='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
try: print(s.recv(100).decode())
except OSError as e: print("no answer:", e)'
udp_ask() { python3 -c "$UDP_ASK" "$@"; }
# new_netns: a network namespace of the test's own, held by a sleeping process (its pid in
# NS_PID; nothing on the host's file system); nsin PID CMD... runs CMD in it.
new_netns() {
	unshare --net sleep 600 &
	NS_PID=$!
	EXTRA_PIDS="$EXTRA_PIDS $NS_PID"
	wait_for sh -c "[ \"\$(readlink /proc/$NS_PID/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
}
nsin() { local p=$1; shift; nsenter --net="/proc/$p/ns/net" "$@"; }

# --- a network, and what it is made of -----------------------------------------------------
# Something else on the DNS port (before any dnsmasq holds one): dnsmasq cannot start,
# and says why.
python3 -c 'import socket,time,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",53)); print("bound",flush=True); time.sleep(60)' >"$T/port53" &
HOLDER=$!
wait_for grep -q bound "$T/port53"
out=$(vk network create net1 --subnet 10.60.0.0/24 --no-dns-forward 2>&1)
kill $HOLDER 2>/dev/null
wait $HOLDER 2>/dev/null
check "dnsmasq failing to start: its message is relayed" \
	sh -c "printf '%s' \"\$1\" | grep -q \"cannot create network 'net1': dnsmasq failed to start for network 'net1': failed to create listening socket for 10.60.0.1: Address already in use\"" sh "$out"
diag "$out"
check "and nothing of it is left (no network, no bridge)" \
	sh -c "! $VKC --socket $SOCK network info net1 >/dev/null 2>&1 && ! ip link show vkbr1 >/dev/null 2>&1"
check "network create: NAT, a subnet, a DNS domain, no upstream resolver" \
	vk network create net0 --subnet 10.77.0.0/24 --dns-domain vk.test --no-dns-forward
check_eq "its bridge vkbr0 has the gateway address" 10.77.0.1/24 "$(bridge_addr vkbr0)"
check "and is up" sh -c "ip -o link show vkbr0 | grep -q ',UP'"
check "its dnsmasq runs" dnsmasq_alive net0
check "with no-resolv (no upstream resolver may be reached)" grep -qx no-resolv "$T/run/networks/net0/dnsmasq.conf"
check "the nftables table masquerades the subnet" sh -c "nft list table ip virtkit | grep -q 'ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade'"
check_eq "network list --format json" "net0 vkbr0 10.77.0.0/24 nat" \
	"$(vk network list --format json | python3 -c 'import json,sys; n=json.load(sys.stdin)["networks"][0]; print(n["name"], n["bridge"], n["subnet"], n["mode"])')"
check "network info" sh -c "$VKC --socket $SOCK network info net0 | grep -q 'Gateway: *10.77.0.1'"

# --- clear errors ----------------------------------------------------------------------------
out=$(vk network create net0 2>&1)
check_eq "a taken name: exit 5, said so" "5 virtkit: network 'net0' exists" "$(exit_of vk network create net0) $out"
out=$(vk network create net1 --subnet 10.77.0.128/25 2>&1)
check_eq "a subnet overlapping another network" \
	"virtkit: subnet 10.77.0.128/25 overlaps network 'net0' (10.77.0.0/24)" "$out"
# An interface of the "host" (a bridge: every kernel has them, not all have dummy links).
ip link add vkother0 type bridge && ip addr add 10.50.0.1/16 dev vkother0 && ip link set vkother0 up
out=$(vk network create net1 --subnet 10.50.3.0/24 2>&1)
check_eq "a subnet overlapping a route of the host" \
	"virtkit: subnet 10.50.3.0/24 overlaps the route to 10.50.0.0/16 on vkother0" "$out"
check_eq "'none' and 'host' are not network names" "1 1" \
	"$(exit_of vk network create none) $(exit_of vk network create host)"
check "a subnet with host bits is refused, naming the subnet meant" \
	sh -c "$VKC --socket $SOCK network create net1 --subnet 10.60.0.1/24 2>&1 | grep -q 'the subnet would be 10.60.0.0/24'"
# A daemon without CAP_NET_ADMIN (its own folders and socket).
if command -v setpriv >/dev/null; then
	setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$VKD" --socket "$T/np.sock" \
		--state-dir "$T/np-state" --run-dir "$T/np-run" --vm-binary "$FAKE_VM" \
		--oci-runtime /nonexistent >"$T/np.log" 2>&1 &
	NP=$!
	wait_for curl -sf --unix-socket "$T/np.sock" http://x/1.0
	out=$(timeout 20 "$VKC" --socket "$T/np.sock" network create np --subnet 10.61.0.0/24 2>&1)
	kill $NP; wait $NP 2>/dev/null
	check_eq "missing privileges are named" \
		"virtkit: cannot create network 'np': cannot create the bridge 'vkbr1': Operation not permitted (needs CAP_NET_ADMIN)" "$out"
	diag "$(grep -i warn "$T/np.log")"
else
	skip "missing privileges are named" "setpriv (util-linux) is missing"
fi

# --- a container and a VM on the network ---------------------------------------------------
CT_ARGS='["/bin/sh","-c","trap \"exit 0\" TERM; httpd -p 80 -h /www; netprobe uecho 53 & while :; do sleep 1; done"]'
ct_json ct1 "$CT_ARGS" false '"network":"net0","publish":["127.0.0.1:8080:80","8082:80","5353:53/udp"]' >"$T/ct1.json"
check "define a container on net0 publishing 127.0.0.1:8080:80, 8082:80 and 5353:53/udp" vk define "$T/ct1.json"
check "start it" vk start ct1
CT_IP=$(ctx ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
check "its eth0 has an address of the reserved range" sh -c "case '$CT_IP' in 10.77.0.[2-9]|10.77.0.[1-9][0-9]|10.77.0.1[0-2][0-9]) true;; *) false;; esac"
check "and the MAC the manager assigns" sh -c "$VKC --socket $SOCK exec ct1 -- cat /sys/class/net/eth0/address | grep -q '^52:54:00:'"
check "it pings the gateway without CAP_NET_RAW (ping_group_range)" ctx netprobe ping 10.77.0.1
check "its resolv.conf names the network's dnsmasq and domain" \
	sh -c "$VKC --socket $SOCK exec ct1 -- cat /etc/resolv.conf | tr '\n' ' ' | grep -q 'nameserver 10.77.0.1 search vk.test'"
check "its name resolves under the network's domain" sh -c "$VKC --socket $SOCK exec ct1 -- nslookup ct1.vk.test | grep -q '$CT_IP'"
check "info shows what it publishes" sh -c "$VKC --socket $SOCK info ct1 | grep -q 'Publish: *127.0.0.1:8080:80/tcp'"
check_eq "the published port answers on the namespace's 127.0.0.1" hello-from-ct \
	"$(curl -s --max-time 10 http://127.0.0.1:8080/)"
check_eq "and its UDP port" udp:hi "$(udp_ask 127.0.0.1 5353)"
ct_json ct5 "$CT_SHELL" false '"network":"net0","publish":["8082:81"]' >"$T/ct5.json"
out=$(vk launch "$T/ct5.json" 2>&1)
check "a second container publishing host port 8082 does not start, saying who has it" \
	sh -c "printf '%s' \"\$1\" | grep -q \"host port 8082/tcp is already published by 'ct1'\"" sh "$out"
diag "$out"
network_ifname() { echo "vk$(vk info "$1" --format json | json uuid | tr -d - | cut -c1-10)$2"; }
CT5_IF=$(network_ifname ct5 c0)
check "and leaves no veth, namespace or rule" sh -c "! ip link show $CT5_IF >/dev/null 2>&1 &&
	[ ! -e '$T/run/netns/$(vk info ct5 --format json | json uuid)' ] && ! nft list table ip virtkit | grep -q 'dport 8082 dnat to .*:81'"
vk undefine ct5 >/dev/null
vk restart ct1 --timeout 10 >/dev/null
check_eq "a restarted container keeps its address" "$CT_IP" \
	"$(ctx ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)"
# A bridge the user manages: the link only (addresses are the user's business).
ip link add vkuser0 type bridge && ip link set vkuser0 up
ct_json ct2 "$CT_SHELL" false '"network":"bridge:vkuser0"' >"$T/ct2.json"
check "a container on a bridge the user manages (bridge:vkuser0) starts" vk launch "$T/ct2.json"
check "its veth is a port of that bridge" sh -c "ip -o link show master vkuser0 | grep -q 'vk[0-9a-f]*c0'"
check_eq "and its eth0 has no address" "" "$(vk exec ct2 -- ip -4 -o addr show eth0)"
out=$(ct_json ct3 "$CT_SHELL" false '"network":"bridge:vknone0"' | vk launch - 2>&1)
check "a missing bridge is named" sh -c "printf '%s' \"\$1\" | grep -q \"there is no bridge 'vknone0'\"" sh "$out"
vk kill ct2 >/dev/null
check_eq "stopped, its veth is gone" "" "$(ip -o link show master vkuser0)"
vk undefine ct2 ct3 >/dev/null
if [ -n "$VM_OK" ]; then
	cat >"$T/vm2.json" <<EOF
{"name":"vm2","type":"vm","arch":"riscv64","memory":"128M","kernel":"$G/Image",
 "initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "networks":[{"type":"bridge","bridge":"vkuser0"}]}
EOF
	check "a VM on a bridge the user manages ({\"type\": \"bridge\"}) starts" vk launch "$T/vm2.json"
	VM2_IF=$(network_ifname vm2 t0)
	check_eq "its tap is the bridge's port" "$VM2_IF" \
		"$(ip -o link show master vkuser0 | awk -F': ' '{print $2}')"
	check "and virtkit-vm holds it (carrier)" wait_for sh -c "ip -o link show $VM2_IF | grep -q LOWER_UP"
	vk kill vm2 >/dev/null
	check "killed, its tap is gone" sh -c "! ip link show $VM2_IF >/dev/null 2>&1"
	vk undefine vm2 >/dev/null
else
	skip "a VM on a bridge the user manages" "$VM_WHY"
fi
ip link del vkuser0

if [ -n "$VM_OK" ]; then
	cat >"$T/vm1.json" <<EOF
{"name":"vm1","type":"vm","arch":"riscv64","memory":"128M","kernel":"$G/Image",
 "initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "networks":[{"type":"network","name":"net0"}]}
EOF
	check "define the shared riscv64 guest on net0 publishing 8081:80 (--publish)" \
		vk define "$T/vm1.json" --publish 8081:80
	VM_MAC=$(vk info vm1 --format json | json definition.networks.0.mac)
	check "it starts" vk start vm1
	booted() { "$VKC" --socket "$SOCK" logs vm1 | grep -q VIRTKIT-GUEST-READY; }
	check "the guest boots" wait_for_long booted
	ce() { console_expect vm1 "$1" "$2" >/dev/null; }
	# busybox udhcpc configures nothing by itself: a script of two lines does.
	ce "printf '#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet && echo lease-\$ip\n' >/tmp/dh; chmod +x /tmp/dh; echo scr''ipt-ok" script-ok
	check "its udhcpc gets a lease from the network's dnsmasq" \
		console_expect vm1 "ip link set eth0 up; udhcpc -i eth0 -n -q -t 10 -s /tmp/dh" "lease-10.77.0."
	VM_IP=$(vk network leases net0 --format json | python3 -c "import json,sys; print([l['ip'] for l in json.load(sys.stdin) if l['instance']=='vm1'][0])" 2>/dev/null)
	ce "mkdir -p /tmp/www; echo hello-from-vm >/tmp/www/index.html; httpd -p 80 -h /tmp/www; echo ht''tpd-ok" httpd-ok
	leases=$(vk network leases net0 --format json | python3 -c '
import json, sys
for l in sorted(json.load(sys.stdin), key=lambda l: l["instance"] or ""):
    print(l["instance"], l["type"], l["mac"], l["ip"], l["source"])')
	check_eq "network leases lists both, each with its instance, MAC and address" \
		"ct1 container $(ctx cat /sys/class/net/eth0/address) $CT_IP static
vm1 vm $VM_MAC $VM_IP dhcp" "$leases"
	check "the container pings the VM" ctx netprobe ping "$VM_IP"
	check_eq "and fetches a page from the VM's httpd" hello-from-vm "$(ctx wget -qO- "http://$VM_IP/")"
	check "the VM pings the container" console_expect vm1 "ping -c 1 -W 3 $CT_IP >/dev/null && echo vm-pi''ng-ok" vm-ping-ok
	# (nc: the guest's busybox wget connects but never sends its request, on any network)
	check "and fetches a page from it" console_expect vm1 "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc $CT_IP 80" hello-from-ct
	check "the container resolves the VM's name (search domain)" sh -c "$VKC --socket $SOCK exec ct1 -- nslookup vm1 | grep -q '$VM_IP'"
	check_eq "the VM's published port answers on 127.0.0.1" hello-from-vm \
		"$(curl -s --max-time 10 http://127.0.0.1:8081/)"
	check_eq "and to the container through the gateway's address (hairpin)" hello-from-vm \
		"$(ctx timeout 10 wget -qO- http://10.77.0.1:8081/)"
	check "the VM's tap is in hairpin mode" sh -c "bridge -d link show dev $(network_ifname vm1 t0) | grep -q 'hairpin on'"
	check_eq "a VM's XML names its network and publishes in virtkit's metadata" "2" \
		"$(vk dumpxml vm1 | grep -c -e "<source network=\"net0\"/>" -e '<virtkit:publish>8081:80/tcp</virtkit:publish>')"
else
	for t in "the shared riscv64 guest on net0: lease, leases, ping and HTTP both ways, its published port"; do
		skip "$t" "$VM_WHY"
	done
fi

# --- from elsewhere: a namespace of the test's own behind a veth, as a LAN ----------------
new_netns
LAN=$NS_PID
ip link add vklan0 type veth peer name vklan1 netns "$LAN"
ip addr add 192.168.222.1/24 dev vklan0 && ip link set vklan0 up
nsin "$LAN" sh -c 'ip link set lo up && ip link set vklan1 up && ip addr add 192.168.222.2/24 dev vklan1'
mkdir -p "$T/lan" && echo hello-from-lan >"$T/lan/index.html"
nsenter --net="/proc/$LAN/ns/net" busybox httpd -f -p 81 -h "$T/lan" &
EXTRA_PIDS="$EXTRA_PIDS $!"
check_eq "a port published on every address answers from the LAN" hello-from-ct \
	"$(nsin "$LAN" curl -s --max-time 10 http://192.168.222.1:8082/)"
check_eq "and its UDP port" udp:hi "$(nsin "$LAN" python3 -c "$UDP_ASK" 192.168.222.1 5353)"
check "a port published on 127.0.0.1 does not" \
	sh -c "! nsenter --net=/proc/$LAN/ns/net curl -s --max-time 5 http://192.168.222.1:8080/"
# (with br_netfilter loaded, as where Docker runs, only with hairpin mode on its port)
check_eq "a guest reaches its own published port through the gateway's address (hairpin)" \
	hello-from-ct "$(ctx timeout 10 wget -qO- http://10.77.0.1:8082/)"
check "its veth is in hairpin mode" sh -c "bridge -d link show dev $(network_ifname ct1 c0) | grep -q 'hairpin on'"
# The LAN has no route to the network: an answer comes back only if masqueraded.
check_eq "a NAT network's guest reaches the LAN, masqueraded" hello-from-lan \
	"$(ctx timeout 10 wget -qO- http://192.168.222.2:81/)"
nsin "$LAN" ip route add 10.77.0.0/24 via 192.168.222.1
check "the LAN, even with a route, does not reach the guest's unpublished port" \
	sh -c "! nsenter --net=/proc/$LAN/ns/net curl -s --max-time 3 http://$CT_IP/"

# --- CVE-2020-8558: a packet from the bridge for the host's 127.0.0.1 is dropped -----------
# A stranger on the bridge (a namespace with a veth on vkbr0) routes 127.0.0.1 to the
# gateway; a UDP service of the host on 127.0.0.1 records what reaches it.
new_netns
STR=$NS_PID
ip link add vkstr0 type veth peer name vkstr1 netns "$STR"
ip link set vkstr0 master vkbr0 up
nsin "$STR" sh -c 'ip link set lo up && ip link set vkstr1 up && ip addr add 10.77.0.250/24 dev vkstr1 &&
	sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.vkstr1.route_localnet=1 &&
	ip route del table local 127.0.0.0/8 && ip route del table local 127.0.0.1 &&
	ip route add 127.0.0.1/32 via 10.77.0.1 dev vkstr1'
python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5399))
while True: print(s.recv(100).decode(), flush=True)' >"$T/loopback.got" &
EXTRA_PIDS="$EXTRA_PIDS $!"
poke() { nsin "$STR" python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[1].encode(), ("127.0.0.1", 5399))' "$1"; }
poke guarded && sleep 1
check_eq "a guest cannot reach the host's loopback-only services" "" "$(cat "$T/loopback.got")"
nft flush chain ip virtkit guard
poke unguarded
check "without the guard rule it would (so the check above can fail)" \
	wait_for grep -qx unguarded "$T/loopback.got"

# --- an isolated network ------------------------------------------------------------------
check "an isolated network (its creation writes the table again)" \
	vk network create net2 --subnet 10.79.0.0/24 --isolated
poke guarded-again && sleep 1
check_eq "the guard is back" unguarded "$(cat "$T/loopback.got")"
ip link del vkstr0
ct_json ct4 "$CT_SHELL" false '"network":"net2"' >"$T/ct4.json"
check "a container on it starts" vk launch "$T/ct4.json"
CT4_NS=$T/run/netns/$(vk info ct4 --format json | json uuid)
CT4_IP=$(vk exec ct4 -- ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
check "it pings its gateway" vk exec ct4 -- netprobe ping 10.79.0.1
check "it has no default route" sh -c "! $VKC --socket $SOCK exec ct4 -- ip route | grep -q default"
# With one added by hand (root, in its namespace), the firewall still keeps it in.
nsin "$LAN" ip route add 10.79.0.0/24 via 192.168.222.1
nsenter --net="$CT4_NS" ip route add default via 10.79.0.1
check "even with a route, it reaches neither the LAN" \
	sh -c "! nsenter --net=$CT4_NS curl -s --max-time 3 http://192.168.222.2:81/"
check "nor the NAT network's guest" sh -c "! nsenter --net=$CT4_NS $PROBE ping $CT_IP"
check "and that guest does not reach it" sh -c "! $VKC --socket $SOCK exec ct1 -- netprobe ping $CT4_IP"
vk kill ct4 >/dev/null
vk undefine ct4 >/dev/null
check "delete the isolated network" vk network delete net2
ip link del vklan0

# --- dnsmasq dies: virtkitd starts it again ---------------------------------------------------
pid0=$(DNSMASQ_PIDS)
kill -9 "$pid0"
restarted() { [ "$(DNSMASQ_PIDS)" != "$pid0" ] && dnsmasq_alive net0; }
check "a dnsmasq that dies is started again" wait_for restarted
check_eq "one of it" 1 "$(dnsmasq_count net0)"
check "and it answers" sh -c "$VKC --socket $SOCK exec ct1 -- nslookup ct1.vk.test 10.77.0.1 | grep -q '$CT_IP'"

# Both reachable, whether the daemon runs or not: the check run after each disruption
# below (the container's side from its pinned namespace, without the daemon's exec).
CT_NS=$T/run/netns/$(vk info ct1 --format json | json uuid)
reachable() {
	[ "$(curl -s --max-time 10 http://127.0.0.1:8080/)" = hello-from-ct ] || return 1
	[ -z "$VM_OK" ] && return 0
	[ "$(curl -s --max-time 10 http://127.0.0.1:8081/)" = hello-from-vm ] &&
		nsenter --net="$CT_NS" "$PROBE" ping "$VM_IP" >/dev/null
}

# --- daemon kill -9 and restart ---------------------------------------------------------------
rules=$(table)
pid0=$(DNSMASQ_PIDS)
daemon_kill9
check "with the daemon killed, the guests stay reachable" reachable
daemon_start
check_eq "after the restart: the same dnsmasq, and one only" "$pid0 1" "$(DNSMASQ_PIDS) $(dnsmasq_count net0)"
check_eq "the table is the same, no rule twice" "$rules" "$(table)"
check "both still reachable" reachable
check_eq "the container is still running" running "$(state_of ct1)"

# --- a host reboot, simulated: bridge, dnsmasq, table and the networks' run folder gone ----------
# (RUN_DIR is a tmpfs after a reboot; the guests' own files there stay, since they run on.)
daemon_kill9
kill "$(DNSMASQ_PIDS)" 2>/dev/null
nft delete table ip virtkit
ip link del vkbr0
rm -rf "$T/run/networks"
check "with the bridge gone, the published ports are dead" sh -c '! curl -s --max-time 3 http://127.0.0.1:8080/ >/dev/null'
daemon_start
check_eq "the bridge is made again with its address" 10.77.0.1/24 "$(bridge_addr vkbr0)"
check "dnsmasq runs again" wait_for dnsmasq_alive net0
check "with its configuration and the reservations written again" \
	sh -c "grep -qx no-resolv '$T/run/networks/net0/dnsmasq.conf' && grep -q \"^$CT_IP ct1 \" '$T/run/networks/net0/addn-hosts'"
check_eq "one dnsmasq" 1 "$(dnsmasq_count net0)"
check_eq "the same table again" "$rules" "$(table)"
check "the running guests are back on the bridge: reachable" wait_for reachable
check "in hairpin mode again" sh -c "bridge -d link show dev $(network_ifname ct1 c0) | grep -q 'hairpin on'"

# --- delete while in use, then everything ---------------------------------------------------------
out=$(vk network delete net0 2>&1)
check_eq "network delete of a network in use: exit 5, naming who uses it" \
	"5 virtkit: network 'net0' is in use by instance 'ct1'" "$(exit_of vk network delete net0) $out"
check "the network is untouched" dnsmasq_alive net0
check "stop the container" vk stop ct1 --timeout 10
[ -n "$VM_OK" ] && check "stop the VM" vk kill vm1
check_eq "their published ports are gone from the table" "" "$(table | grep 'dnat to')"
check "undefine them" sh -c "$VKC --socket $SOCK undefine ct1 && { [ -z '$VM_OK' ] || $VKC --socket $SOCK undefine vm1; }"
check "network delete" vk network delete net0
check_eq "no bridge, tap or veth is left" "lo vkother0" "$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | paste -sd' ')"
check_eq "no dnsmasq is left" 0 "$(dnsmasq_count net0)"
check_eq "no nftables table is left" "" "$(nft list tables 2>/dev/null | grep virtkit)"
check_eq "no network namespace (or its resolv.conf) is left" "" "$(ls "$T/run/netns" 2>/dev/null)"
check_stop "the daemon stops cleanly"
done_testing

#!/bin/sh
# Runs inside the harness's dom0 as /test/run (tests/xen/run.sh packs it with the
# appliance's vifwall.img and vifwall.cfg). Speaks to the host through the serial console:
#   VWT: ok - ... / VWT: not ok - ...   one check each (the host numbers them)
#   VWT-T NAME SECONDS                  a timing
#   VWT: # ...                          a diagnostic
# The appliance is created exactly as a user would: vifwall.img copied to the path the
# generated vifwall.cfg names, `xl create vifwall.cfg`, guests whose vif says
# backend=<appliance>.
XL=/usr/lib/xen-4.17/bin/xl
CON=/var/log/xen/console
. /test/params          # APPLIANCE (its name), CYCLES (network-detach/attach rounds)

ok() { echo "VWT: ok - $*"; }
notok() { echo "VWT: not ok - $*"; }
diag() { echo "$*" | sed 's/^/VWT: # /'; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { echo "$(now) $1" | awk '{printf "%.1f", $1 - $2}'; }
xsr() { xenstore-read "$1" 2>/dev/null; }
# wait_for SECONDS CMD...: poll CMD every 0.25 s until it succeeds, for SECONDS of
# dom0 uptime (not a count of tries: under emulation each try takes its own time).
# console_type TEXT: type a line on the appliance's console, as `xl console` would
# (xenconsoled's pty for the domain; the image runs a shell there after Enter).
console_type() {
	_tty=$(xsr /local/domain/$aid/console/tty)
	[ -n "$_tty" ] && [ -e "$_tty" ] || return 1
	printf '\r%s\r' "$1" >"$_tty"
}

wait_for() {
	_end=$(echo "$(now) $1" | awk '{print int($1 + $2)}'); shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ] && return 1
		sleep 0.25
	done
}

# dom0 side of the appliance's uplink (uplink_mode = vif). dom0 plays "the outside":
# 10.0.0.254 on xenbr0, serving HTTP, so that guests' traffic toward the uplink shows.
brctl addbr xenbr0 && ip link set xenbr0 up && ip addr add 10.0.0.254/24 dev xenbr0
mkdir -p /tmp/www && echo "hello from dom0" >/tmp/www/index.html
busybox httpd -p 80 -h /tmp/www
diag "$($XL info | grep -E 'xen_version|total_memory|free_memory|nr_cpus')"

# --- the appliance, from the image, as a user would start it ---
# With two vCPUs (image.cfg ships 1): vifwalld runs two forwarding workers, so the vifs'
# frames are spread over both and every detach/attach below adds and removes ports
# while both run.
sed -i 's/^vcpus = .*/vcpus = 2/' /etc/xen/vifwall.cfg
t=$(now)
$XL create /etc/xen/vifwall.cfg >/tmp/xl-create.log 2>&1
rc=$?
check "xl create vifwall.cfg (pygrub boots the appliance's kernel from vifwall.img)" [ $rc = 0 ]
[ $rc = 0 ] || { diag "$(cat /tmp/xl-create.log)"; }
echo "VWT-T appliance-created $(since "$t")"
aid=$($XL domid "$APPLIANCE" 2>/dev/null)
state() { [ "$(xsr /local/domain/$aid/data/vifwall/state)" = up ]; }
if [ -n "$aid" ] && wait_for 120 state; then
	echo "VWT-T appliance-up $(since "$t")"
	ok "appliance reports state=up in xenstore (domain $aid)"
else
	notok "appliance reports state=up in xenstore within 120 s (domain ${aid:-none}, state '$(xsr /local/domain/$aid/data/vifwall/state)')"
	diag "appliance console (last 30 lines):"
	diag "$(tr -d '\r' <"$CON/guest-$APPLIANCE.log" | tail -30)"
fi
check "appliance console says 'vifwall appliance up'" grep -q "vifwall appliance up" "$CON/guest-$APPLIANCE.log"
mods=$(xsr /local/domain/$aid/data/vifwall/modules)
diag "appliance modules: $mods"
check "xen_netback is loaded in the appliance" sh -c "echo ' $mods ' | grep -q ' xen_netback '"
check "nf_tables is loaded in the appliance" sh -c "echo ' $mods ' | grep -q ' nf_tables '"
ports() { xsr /local/domain/$aid/data/vifwall/ports; }
# count NAME: how many of vifwalld's ports are called NAME
count() { ports | tr ' ' '\n' | grep -cx "$1"; }
check "appliance's uplink is up (netfront renamed 'uplink')" wait_for 10 sh -c "xenstore-read /local/domain/$aid/data/vifwall/netdevs | grep -q 'uplink:up'"
check "appliance's uplink vif vif$aid.0 is on dom0's xenbr0" wait_for 10 test -e /sys/class/net/xenbr0/brif/vif$aid.0
diag "supervisor: $(grep -m3 vifwall-supervise "$CON/guest-$APPLIANCE.log" | tr -d '\r' | tr '\n' '|')"
check "vifwalld runs and publishes its ports (uplink among them)" wait_for 30 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports 2>/dev/null | tr ' ' '\n' | grep -cx uplink)\" = 1 ]"
sleep 3
if grep -q "vifwalld exited" "$CON/guest-$APPLIANCE.log"; then
	notok "vifwalld stays up under the supervisor"
	diag "$(tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep -E 'vifwalld|supervise' | tail -15)"
else
	ok "vifwalld stays up under the supervisor"
fi
diag "vifwalld: $(tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep 'vifwalld:' | head -8 | tr '\n' '|')"

# --- guests whose vif names the appliance as its backend ---
# web2 serves HTTP; web1 pings web2, fetches from dom0 (allowed: the default rules accept
# anything toward the uplink) and from web2 (denied: guest-to-guest TCP is not accepted),
# then pings web2 from an address that is not its own (dropped by anti-spoofing).
guest_cfg() { # NAME N EXTRA: a PV guest (vmlinux ELF + busybox initramfs) on the appliance
	cat >/tmp/$1.cfg <<CFG
name = "$1"
type = "pv"
kernel = "/test/vmlinux"
ramdisk = "/test/guest.cpio.gz"
extra = "console=hvc0 quiet vw_ip=10.0.0.1$2/24 $3"
memory = ${MEM:-96}
vcpus = 1
vif = [ 'backend=$APPLIANCE,vifname=web$2,mac=00:16:3e:00:00:0$2,ip=10.0.0.1$2' ]
on_crash = "destroy"
CFG
}
# web1 also goes through the detach/attach cycles: its kernel keeps about 1.3 MB of
# every vif detached and attached again (measured from its MemAvailable: with 96 MB it
# ran out of memory after about 20 in all, counting the recovery checks' re-attach).
guest_cfg web1 1 "vw_ping=10.0.0.12 vw_fetch=10.0.0.254:80,10.0.0.12:80 vw_spoof=10.0.0.99"
guest_cfg web2 2 "vw_ping=10.0.0.11 vw_serve=80 vw_fetch=127.0.0.1:80"
tg=$(now)
for g in web2 web1; do
	$XL create /tmp/$g.cfg >/tmp/xl-$g.log 2>&1
	rc=$?
	check "xl create guest $g with vif backend=$APPLIANCE" [ $rc = 0 ]
	[ $rc = 0 ] || diag "$(cat /tmp/xl-$g.log)"
done
echo "VWT-T guests-created $(since "$tg")"
for g in web1 web2; do
	gid=$($XL domid $g 2>/dev/null)
	be=/local/domain/$aid/backend/vif/$gid/0
	if wait_for 90 sh -c "[ \"\$(xenstore-read $be/state 2>/dev/null)\" = 4 ]"; then
		echo "VWT-T $g-vif-connected $(since "$tg")"
		ok "$g's vif reaches Connected (backend state 4) through vifwalld's hotplug"
	else
		notok "$g's vif reaches Connected through vifwalld's hotplug: backend state $(xsr $be/state), frontend $(xsr /local/domain/$gid/device/vif/0/state), hotplug-status $(xsr $be/hotplug-status) $(xsr $be/hotplug-error)"
	fi
	check "$g's backend says hotplug-status = connected" [ "$(xsr $be/hotplug-status)" = connected ]
	check "vifwalld has exactly one port named $g (its vifname)" [ "$(count $g)" = 1 ]
done
diag "vifwalld ports: $(ports)"
# console GUEST PATTERN SECONDS: wait for a GUEST: line in a guest's console
console() { wait_for "$3" grep -q "GUEST: $2" "$CON/guest-$1.log"; }
if console web1 "ping 10.0.0.12 \(ok\|failed\)" 90 && grep -q "GUEST: ping 10.0.0.12 ok" "$CON/guest-web1.log"; then
	echo "VWT-T first-forwarded-web1-ping-web2 $(since "$t")"
	echo "VWT-T guest-create-to-web1-ping-web2 $(since "$tg")"
	ok "web1 pings web2 through the appliance (icmp echo accepted by the rules)"
else
	notok "web1 pings web2 through the appliance"
fi
check "web2 pings web1 through the appliance" sh -c "grep -q 'GUEST: ping 10.0.0.11 \(ok\|failed\)' $CON/guest-web2.log || sleep 30; grep -q 'GUEST: ping 10.0.0.11 ok' $CON/guest-web2.log"
console web1 "spoof-ping" 60
check "web1 fetches http://10.0.0.254/ from dom0 over the uplink (allowed: oifname uplink)" grep -q "GUEST: fetch 10.0.0.254:80 ok: hello from dom0" "$CON/guest-web1.log"
check "web2's own server answers on 127.0.0.1:80" sh -c "grep -q 'GUEST: fetch 127.0.0.1:80 \(ok\|failed\)' $CON/guest-web2.log || sleep 20; grep -q 'GUEST: fetch 127.0.0.1:80 ok: hello from 10.0.0.12' $CON/guest-web2.log"
check "web1 cannot fetch http://10.0.0.12/ from web2 (denied: no rule accepts guest-to-guest TCP)" grep -q "GUEST: fetch 10.0.0.12:80 failed" "$CON/guest-web1.log"
check "web1's ping from a spoofed source 10.0.0.99 is dropped" grep -q "GUEST: spoof-ping 10.0.0.12 from 10.0.0.99 failed" "$CON/guest-web1.log"
check "dom0 pings web1 through the uplink (10.0.0.254 -> 10.0.0.11)" wait_for 20 ping -c 1 -W 1 10.0.0.11
diag "web1 console: $(tr -d '\r' <$CON/guest-web1.log | grep GUEST: | tr '\n' '|')"
diag "web2 console: $(tr -d '\r' <$CON/guest-web2.log | grep GUEST: | tr '\n' '|')"

# --- network-detach / network-attach: exactly one port afterwards ---
gid1=$($XL domid web1 2>/dev/null)
# xl network-attach takes the vif's settings as separate KEY=VALUE arguments.
vifspec="backend=$APPLIANCE vifname=web1 mac=00:16:3e:00:00:01 ip=10.0.0.11"
td=$(now)
$XL network-detach web1 0 >/tmp/xl-nd.log 2>&1
rc=$?
echo "VWT-T network-detach $(since "$td")"
check "xl network-detach web1 0" [ $rc = 0 ]
[ $rc = 0 ] || diag "$(cat /tmp/xl-nd.log)"
check "after network-detach vifwalld has no port web1" wait_for 10 sh -c "! xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -qx web1"
check "after network-detach web1's backend directory is gone" wait_for 10 sh -c "! xenstore-exists /local/domain/$aid/backend/vif/$gid1/0"
check "the detached port's final counters show the spoofed frames dropped" wait_for 5 sh -c "tr -d '\r' <$CON/guest-$APPLIANCE.log | grep 'port web1 final counters' | grep -q 'spoof-'"
diag "$(tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep 'port web1 final counters' | tail -1)"
ta=$(now)
$XL -vvv network-attach web1 $vifspec >/tmp/xl-na.log 2>&1
rc=$?
echo "VWT-T network-attach $(since "$ta")"
check "xl network-attach web1 $vifspec" [ $rc = 0 ]
[ $rc = 0 ] || diag "$(grep -v 'DEBUG\|debug' /tmp/xl-na.log | tail -30; grep -i 'error\|fail' /tmp/xl-na.log | head -20)"
devid=$(xenstore-list /local/domain/$aid/backend/vif/$gid1 2>/dev/null | head -1)
check "after network-attach web1's new vif (devid ${devid:-none}) is Connected" wait_for 30 sh -c "[ \"\$(xenstore-read /local/domain/$aid/backend/vif/$gid1/${devid:-x}/state 2>/dev/null)\" = 4 ]"
check "after network-detach + network-attach vifwalld has exactly one port web1" wait_for 10 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -cx web1)\" = 1 ]"
diag "vifwalld ports: $(ports)"

# --- attach/detach cycles: no port, no directory, no xenstore watch left over ---
# watches: the appliance's xenstore watches as xenstored counts them (vifwalld's one
# on backend/vif plus netback's per vif), from `xenstore-control quota`.
watches() { xenstore-control quota "$aid" 2>/dev/null | sed -n 's/.*watches *: *\([0-9]*\).*/\1/p'; }
w0=$(watches)
np0=$(ports | wc -w)
# web1 keeps ~1.3 MB of guest memory per cycle (its own kernel, not the appliance):
# every REBOOT_EVERY cycles it is destroyed and created again (one more detach and
# attach for the appliance, with a fresh guest kernel), so 200 cycles fit in 96 MB.
REBOOT_EVERY=15
reboots=0
n=0 fails=0 tc=$(now)
while [ $n -lt "${CYCLES:-0}" ]; do
	if [ $n -gt 0 ] && [ $((n % REBOOT_EVERY)) = 0 ]; then
		$XL destroy web1
		no_web1() { [ "$(count web1)" = 0 ]; }
		wait_for 20 no_web1 || fails=$((fails + 1))
		$XL create /tmp/web1.cfg >/tmp/xl-web1.log 2>&1 || fails=$((fails + 1))
		gid1=$($XL domid web1 2>/dev/null)
		wait_for 120 sh -c "[ \"\$(xenstore-read /local/domain/$aid/backend/vif/$gid1/0/state 2>/dev/null)\" = 4 ]" ||
			{ fails=$((fails + 1)); diag "cycle $n: web1 (domain $gid1) did not connect after its reboot"; }
		reboots=$((reboots + 1))
	fi
	for op in detach attach; do
		if [ $op = detach ]; then
			$XL network-detach web1 "$($XL network-list web1 | awk 'NR==2 {print $1}')" >/tmp/xl-cycle.log 2>&1
		else
			$XL network-attach web1 $vifspec >/tmp/xl-cycle.log 2>&1
		fi
		if [ $? != 0 ]; then
			fails=$((fails + 1))
			[ $fails = 1 ] && diag "cycle $n: the first failing xl network-$op: $(tail -5 /tmp/xl-cycle.log | tr '\n' '|')"
		fi
	done
	n=$((n + 1))
	[ $((n % 25)) = 0 ] && diag "cycle $n of $CYCLES done, $(since "$tc") s, $fails failures, ports: $(ports)"
done
if [ "${CYCLES:-0}" -gt 0 ]; then
	echo "VWT-T cycles-$CYCLES $(since "$tc")"
	wait_for 20 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -cx web1)\" = 1 ]"
	nb=$(xenstore-list /local/domain/$aid/backend/vif/$gid1 2>/dev/null | wc -l)
	np=$(ports | wc -w)
	diag "after $CYCLES detach/attach cycles and $reboots reboots of web1 ($fails failures): ports '$(ports)', web1 backend dirs $nb, vifs in xl: $($XL network-list web1 | tail -n +2 | wc -l)"
	check "$CYCLES network-detach/attach cycles ($reboots guest reboots among them) without an xl failure" [ $fails = 0 ]
	clean() { [ "$np" = "$np0" ] && [ "$nb" = 1 ] && [ "$(count web1)" = 1 ]; }
	check "after $CYCLES cycles: the same ports as before ($np0: uplink web1 web2) and one backend directory for web1" clean
	w1=$(watches)
	diag "xenstored: the appliance's watches ${w0:-?} before the cycles, ${w1:-?} after; $(xenstore-control quota $aid 2>&1 | tr '\n' ' ' | tr -s ' ' | cut -c1-200)"
	same() { [ -n "$w0" ] && [ "$w0" = "$w1" ]; }
	check "after $CYCLES cycles the appliance holds as many xenstore watches as before (${w0:-?} -> ${w1:-?})" same
fi
memfree() { tr -d '\r' <"$CON/guest-$1.log" | sed -n 's/.*GUEST: memfree \([0-9]*\) kB.*/\1/p' | tail -1; }
diag "web1's available memory after the cycles: $(memfree web1) kB (guest kernel; it was $(tr -d '\r' <"$CON/guest-web1.log" | sed -n 's/.*GUEST: memfree \([0-9]*\) kB.*/\1/p' | head -1) kB)"
# --- further check groups (tests/xen/checks/*.sh), in name order ---
# Each is sourced with everything above in scope (aid, ports, count, check, wait_for,
# guest_cfg, console, $XL); it must leave web1 and web2 running and attached, with
# the same names, when it returns.
for c in /test/checks/*.sh; do
	[ -e "$c" ] || continue
	diag "check group $(basename "$c")"
	. "$c"
done

# --- xl destroy of a guest removes its port ---
gid2=$($XL domid web2 2>/dev/null)
td=$(now)
$XL destroy web2
echo "VWT-T destroy-web2 $(since "$td")"
check "after xl destroy web2 vifwalld has no port web2" wait_for 15 sh -c "! xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -qx web2"
check "after xl destroy web2 its backend directory is gone" wait_for 15 sh -c "! xenstore-exists /local/domain/$aid/backend/vif/$gid2"

$XL destroy web1
check "after xl destroy web1 only the uplink is left" wait_for 15 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports)\" = uplink ]"
check "no backend/vif directory is left in the appliance" wait_for 15 sh -c "[ -z \"\$(xenstore-list /local/domain/$aid/backend/vif 2>/dev/null)\" ]"
diag "appliance console (vifwalld, last 25 lines): $(tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep vifwalld | tail -25 | tr '\n' '|')"

# Logs for the host (tests/xen/run.sh files them under build/xen-test/).
$XL list | sed 's/^/VWLOG xl-list: /'
for f in "$CON"/guest-*.log; do
	n=$(basename "$f" .log)
	tr -d '\r' <"$f" | sed "s/^/VWLOG ${n#guest-}: /"
done
$XL dmesg | tail -40 | sed 's/^/VWLOG xl-dmesg: /'
$XL destroy "$APPLIANCE" 2>/dev/null

#!/bin/sh
# The guided tour `make demo` shows: runs inside the harness's dom0 as /test/run
# (tests/xen/run.sh --demo). Lines starting "VWD: " are the narration, which run.sh
# prints live; "VWT: ok/not ok" lines check that each step did what the narration says,
# so the tour fails loudly instead of telling a story that did not happen.
export PATH=/usr/lib/xen-4.17/bin:$PATH # xl
CON=/var/log/xen/console
. /test/params # APPLIANCE (its name)

say() { echo "VWD: "; echo "$*" | sed 's/^/VWD: ==> /'; }
line() { echo "$*" | sed 's/^/VWD:     /'; }
# run CMD...: show the command as typed in dom0, run it, show its output
run() {
	echo "VWD:   dom0# $*"
	"$@" >/tmp/demo-out 2>&1
	_rc=$?
	tr -d '\r' </tmp/demo-out | sed 's/^/VWD:     /'
	return $_rc
}
ok() { echo "VWT: ok - $*"; }
notok() { echo "VWT: not ok - $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { echo "$(now) $1" | awk '{printf "%.1f", $1 - $2}'; }
xsr() { xenstore-read "$1" 2>/dev/null; }
wait_for() { # SECONDS CMD...: poll CMD until it succeeds, for SECONDS of dom0 uptime
	_end=$(echo "$(now) $1" | awk '{print int($1 + $2)}'); shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ] && return 1
		sleep 0.25
	done
}
# guest_says GUEST PATTERN SECONDS: wait for a "GUEST: PATTERN" line on its console
guest_says() { wait_for "$3" grep -q "GUEST: $2" "$CON/guest-$1.log"; }
guest_line() { tr -d '\r' <"$CON/guest-$1.log" | grep "GUEST: $2" | tail -1 | sed 's/^.*GUEST: //'; }

say "Xen and dom0 are up inside QEMU (software emulation, no host network).
dom0 plays the outside world: 10.0.0.254 on its bridge xenbr0, serving HTTP."
brctl addbr xenbr0 && ip link set xenbr0 up && ip addr add 10.0.0.254/24 dev xenbr0
mkdir -p /tmp/www && echo "hello from dom0" >/tmp/www/index.html
busybox httpd -p 80 -h /tmp/www

say "Step 1: boot the appliance from the prebuilt image, as an operator would.
Its xl config (build/vifwall.cfg, made by 'make image'):"
grep -v '^#' /etc/xen/vifwall.cfg | grep . | sed 's/^/VWD:     /'
t=$(now)
run xl create /etc/xen/vifwall.cfg
check "xl create vifwall.cfg" [ $? = 0 ]
aid=$(xl domid "$APPLIANCE" 2>/dev/null)
up() { [ "$(xsr /local/domain/$aid/data/vifwall/state)" = up ] &&
	xsr /local/domain/$aid/data/vifwall/ports | grep -qw uplink; }
if [ -n "$aid" ] && wait_for 150 up; then
	echo "VWT-T appliance-up $(since "$t")"
	ok "the appliance boots and vifwalld runs (domain $aid)"
	line "The appliance (domain $aid) is up $(since "$t") s after xl create; vifwalld runs"
	line "under its supervisor and owns the uplink toward dom0's xenbr0."
else
	notok "the appliance boots and vifwalld runs within 150 s"
	tr -d '\r' <"$CON/guest-$APPLIANCE.log" | tail -20 | sed 's/^/VWD:     | /'
fi
run xl list

say "dom0 controls the appliance over a vchan with the vifwall CLI. It starts with the
default rules of its image; load the demo's, the same with a counter on every rule.
The appliance compiles them beside the running ones and swaps atomically:"
run cat /test/demo-rules.nft
run vifwall -d "$APPLIANCE" load /test/demo-rules.nft
check "vifwall -d $APPLIANCE load demo-rules.nft from dom0" [ $? = 0 ]

say "Step 2: two guests attach. Nothing but their vif line names the appliance:"
guest_cfg() { # NAME N EXTRA
	cat >/tmp/$1.cfg <<CFG
name = "$1"
type = "pv"
kernel = "/test/vmlinux"
ramdisk = "/test/guest.cpio.gz"
extra = "console=hvc0 quiet vw_ip=10.0.0.1$2/24 $3"
memory = 96
vcpus = 1
vif = [ 'backend=$APPLIANCE,vifname=web$2,mac=00:16:3e:00:00:0$2,ip=10.0.0.1$2' ]
on_crash = "destroy"
CFG
}
# web2 serves HTTP; web1 pings web2, fetches from dom0 and from web2, then tries a ping
# from an address that is not its own.
guest_cfg web1 1 "vw_ping=10.0.0.12 vw_fetch=10.0.0.254:80,10.0.0.12:80 vw_spoof=10.0.0.99"
guest_cfg web2 2 "vw_ping=10.0.0.11 vw_serve=80"
grep '^vif' /tmp/web1.cfg | sed 's/^/VWD:     web1.cfg: /'
grep '^vif' /tmp/web2.cfg | sed 's/^/VWD:     web2.cfg: /'
tg=$(now)
for g in web2 web1; do
	run xl create /tmp/$g.cfg
	check "xl create $g" [ $? = 0 ]
done
for g in web1 web2; do
	gid=$(xl domid $g 2>/dev/null)
	be=/local/domain/$aid/backend/vif/$gid/0
	connected() { [ "$(xsr $be/state)" = 4 ] && xsr /local/domain/$aid/data/vifwall/ports | grep -qw $g; }
	check "$g's vif is connected and is a port of vifwalld" wait_for 90 connected
done
line "vifwalld saw the vifs in xenstore, renamed them web1 and web2, turned on"
line "anti-spoofing from their mac= and ip=, and connected them ($(since "$tg") s)."
run vifwall -d "$APPLIANCE" ports

say "Step 3: an allowed and a denied connection."
if guest_says web1 "fetch 10.0.0.12:80 \(ok\|failed\)" 120; then
	line "web1 -> web2   ping:        $(guest_line web1 'ping 10.0.0.12')"
	line "web1 -> dom0   HTTP :80:    $(guest_line web1 'fetch 10.0.0.254:80')"
	line "web1 -> web2   HTTP :80:    $(guest_line web1 'fetch 10.0.0.12:80')"
fi
check "allowed: web1 pings web2 (icmp echo-request accept)" grep -q "GUEST: ping 10.0.0.12 ok" "$CON/guest-web1.log"
check "allowed: web1 fetches from dom0 over the uplink (oifname \"uplink\" accept)" \
	grep -q "GUEST: fetch 10.0.0.254:80 ok" "$CON/guest-web1.log"
check "denied: web1 cannot fetch from web2 (no rule accepts guest-to-guest TCP)" \
	grep -q "GUEST: fetch 10.0.0.12:80 failed" "$CON/guest-web1.log"
line "The denied connection hit the forward chain's 'policy drop'."

say "Step 4: web1 pretends to be 10.0.0.99. Anti-spoofing drops it before any rule runs."
guest_says web1 "spoof-ping 10.0.0.12 from 10.0.0.99" 60
line "web1: $(guest_line web1 'spoof-ping')"
check "spoofed: web1's ping from 10.0.0.99 is dropped" \
	grep -q "GUEST: spoof-ping 10.0.0.12 from 10.0.0.99 failed" "$CON/guest-web1.log"

say "Step 5: the counters: per port (with drop reasons) and per rule."
run vifwall -d "$APPLIANCE" stats
check "vifwall -d $APPLIANCE stats answers from dom0" [ $? = 0 ]
check "web1's counters show the spoofed frames dropped" grep -q "spoof" /tmp/demo-out
run vifwall -d "$APPLIANCE" show
check "vifwall -d $APPLIANCE show answers from dom0" [ $? = 0 ]

say "Step 6: shut down: the guests, then the appliance."
for g in web1 web2; do run xl destroy $g; done
run timeout 90 xl shutdown -w "$APPLIANCE"
check "the appliance shuts down cleanly (xl shutdown -w)" [ $? = 0 ]
wait_for 30 sh -c "! xl domid $APPLIANCE >/dev/null 2>&1"
run xl list
say "That was vifwall: an unprivileged Xen domain that terminates guests' vifs and
filters every frame against nftables rules in userspace. docs/ has the rest."

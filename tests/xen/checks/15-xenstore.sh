# Check group (sourced by dom0-test.sh with web1 and web2 up on the appliance):
# vifwalld loses its xenstore connection and resynchronises. xenstored itself cannot be
# restarted under a running Xen 4.17 (no live update in Debian's build), so vifwalld
# drops the connection from inside on SIGUSR2, the same code path a real loss takes;
# web2's vif is detached right after, so vifwalld must learn of it from the tree once
# it is back, not from a watch event. Leaves web1 and web2 attached.
lost() { tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep -c 'xenstore connection lost (asked to reconnect)'; }
back() { tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep -c 'hotplug: xenstore reconnected'; }
starts() { tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep -c "vifwall-supervise: starting vifwalld"; }
l0=$(lost) b0=$(back) ws0=$(watches) s0=$(starts)
console_type "" && sleep 1
console_type 'kill -USR2 $(cat /run/vifwall/vifwalld.pid)'
check "vifwalld drops its xenstore connection on SIGUSR2" wait_for 20 sh -c "[ \$(tr -d '\r' <$CON/guest-$APPLIANCE.log | grep -c 'xenstore connection lost (asked to reconnect)') -gt $l0 ]"
$XL network-detach web2 0 >/tmp/xl-xs.log 2>&1
check "xl network-detach web2 while vifwalld is away from xenstore" [ $? = 0 ]
check "vifwalld reconnects to xenstore" wait_for 20 sh -c "[ \$(tr -d '\r' <$CON/guest-$APPLIANCE.log | grep -c 'hotplug: xenstore reconnected') -gt $b0 ]"
check "after the reconnection vifwalld dropped web2's port (resynchronised from the tree)" wait_for 20 sh -c "! xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -qx web2"
$XL network-attach web2 backend=$APPLIANCE vifname=web2 mac=00:16:3e:00:00:02 ip=10.0.0.12 >/tmp/xl-xs.log 2>&1
check "xl network-attach web2 after the reconnection" [ $? = 0 ]
check "web2 is a port again, once" wait_for 30 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports | tr ' ' '\n' | grep -cx web2)\" = 1 ]"
check "dom0 pings web2 again" wait_for 60 sh -c "ping -c 1 -W 1 10.0.0.12 >/dev/null 2>&1"
check "vifwalld lived through it (the supervisor did not restart it)" [ "$(starts)" = "$s0" ]
ws1=$(watches)
diag "xenstore watches of the appliance: $ws0 before the reconnection, $ws1 after"
same_watches() { [ -n "$ws0" ] && [ "$ws0" = "$ws1" ]; }
check "the reconnection left no extra xenstore watch ($ws0 -> $ws1)" same_watches

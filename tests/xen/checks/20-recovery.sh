# Check group (sourced by dom0-test.sh with web1 and web2 up on the appliance):
# recovery. (1) vifwalld killed with SIGKILL inside the appliance: the supervisor
# restarts it, it adopts the vifs that are still there, traffic resumes, no re-attach.
# (2) the appliance destroyed and created again: dom0's `vifwall reattach --watch`
# gives the guests their vifs back, traffic resumes with no hand on the guests.
# (3) a guest rebooted: one port, traffic works. Leaves web1 and web2 attached.

pings() { ping -c 1 -W 1 "$1" >/dev/null 2>&1; }

# --- (1) vifwalld killed: the supervisor restarts it, no re-attach ---
check "before the kill: dom0 pings web1 and web2" sh -c "ping -c 1 -W 2 10.0.0.11 >/dev/null && ping -c 1 -W 2 10.0.0.12 >/dev/null"
starts() { tr -d '\r' <"$CON/guest-$APPLIANCE.log" | grep -c "vifwall-supervise: starting vifwalld"; }
s0=$(starts)
console_type "" && sleep 2
tk=$(now)
console_type 'kill -9 $(cat /run/vifwall/vifwalld.pid)'
check "vifwalld killed with SIGKILL through the appliance's console" wait_for 20 sh -c "tr -d '\r' <$CON/guest-$APPLIANCE.log | grep -q 'vifwalld exited with status 137'"
check "the supervisor starts vifwalld again" wait_for 30 sh -c "[ \$(tr -d '\r' <$CON/guest-$APPLIANCE.log | grep -c 'vifwall-supervise: starting vifwalld') -gt $s0 ]"
if wait_for 60 pings 10.0.0.11 && wait_for 30 pings 10.0.0.12; then
	echo "VWT-T vifwalld-kill-to-forwarding $(since "$tk")"
	ok "after the restart dom0 pings web1 and web2 again ($(since "$tk") s after the kill)"
else
	notok "after the restart dom0 pings web1 and web2 again"
fi
check "the restarted vifwalld adopted the vifs: exactly uplink web1 web2" sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports 2>/dev/null | tr ' ' '\n' | sort | tr '\n' ' ')\" = 'uplink web1 web2 ' ]"
check "no re-attach happened: web1's vif is still devid 0 on domain $aid" [ "$(xsr /local/domain/$($XL domid web1)/device/vif/0/backend-id)" = "$aid" ]

# --- (2) the appliance destroyed and created again: reattach ---
mkdir -p /var/lib/vifwall
vifwall reattach --watch --xl "$XL" -v >/tmp/reattach.log 2>&1 &
rpid=$!
recorded() { [ "$(grep -c '"guest"' /var/lib/vifwall/reattach.json 2>/dev/null)" = 2 ]; }
check "vifwall reattach --watch records the appliance's two vifs" wait_for 20 recorded
diag "record: $(tr -d '\n' </var/lib/vifwall/reattach.json 2>/dev/null | tr -s ' ' | cut -c1-300)"
old=$aid
$XL destroy "$APPLIANCE"
check "with the appliance destroyed nothing reaches web1 (fail-closed)" sh -c "! ping -c 2 -W 1 10.0.0.11 >/dev/null 2>&1"
tc=$(now)
$XL create /etc/xen/vifwall.cfg >/tmp/xl-recreate.log 2>&1
check "xl create vifwall.cfg again" [ $? = 0 ]
aid=$($XL domid "$APPLIANCE" 2>/dev/null)
if wait_for 150 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/state 2>/dev/null)\" = up ]"; then
	echo "VWT-T recreate-appliance-up $(since "$tc")"
fi
if wait_for 120 pings 10.0.0.11 && wait_for 60 pings 10.0.0.12; then
	echo "VWT-T recreate-to-forwarding $(since "$tc")"
	ok "guests are back by themselves: dom0 pings web1 and web2 $(since "$tc") s after xl create (domain $old -> $aid)"
else
	notok "guests are back by themselves after the appliance is created again"
	diag "reattach log: $(tr '\n' '|' </tmp/reattach.log | cut -c1-600)"
	diag "web1 console: $(tr -d '\r' <$CON/guest-web1.log | grep GUEST: | tail -4 | tr '\n' '|')"
fi
check "after the re-attach: exactly uplink web1 web2 as ports" wait_for 20 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports 2>/dev/null | tr ' ' '\n' | sort | tr '\n' ' ')\" = 'uplink web1 web2 ' ]"
check "web1's vif now names the new appliance (domain $aid)" [ "$(xsr /local/domain/$($XL domid web1)/device/vif/0/backend-id)" = "$aid" ]
diag "reattach log: $(tr '\n' '|' </tmp/reattach.log | cut -c1-400)"

# --- (3) a guest rebooted: one port, traffic ---
g2=$($XL domid web2)
$XL destroy web2
wait_for 15 sh -c "! xenstore-read /local/domain/$aid/data/vifwall/ports 2>/dev/null | tr ' ' '\n' | grep -qx web2"
$XL create /tmp/web2.cfg >/dev/null 2>&1
check "web2 rebooted (destroy + create): exactly one port web2" wait_for 60 sh -c "[ \"\$(xenstore-read /local/domain/$aid/data/vifwall/ports 2>/dev/null | tr ' ' '\n' | grep -cx web2)\" = 1 ]"
check "after the reboot dom0 pings web2" wait_for 60 pings 10.0.0.12
check "reattach forgot the destroyed guest's old domain $g2" wait_for 15 sh -c "! grep -q '\"domid\": $g2,' /var/lib/vifwall/reattach.json"
kill "$rpid" 2>/dev/null

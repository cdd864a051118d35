#!/bin/sh
# PCI passthrough experiment (issue 5 item 5), run inside the harness's dom0 as /test/run
# when tests/xen/run.sh is given --pci. QEMU gives the machine an emulated Intel NIC whose
# only network is an internal hub port (no host network). Steps, each reported:
# find the NIC, make it assignable (xl pci-assignable-add), create the appliance with
# pci= instead of vif=, and see whether its kernel gets the device and a netdev.
XL=/usr/lib/xen-4.17/bin/xl
CON=/var/log/xen/console
. /test/params
ok() { echo "VWT: ok - $*"; }
notok() { echo "VWT: not ok - $*"; }
diag() { echo "$*" | sed 's/^/VWT: # /'; }
xsr() { xenstore-read "$1" 2>/dev/null; }

diag "xl dmesg (IOMMU): $($XL dmesg | grep -i -E 'iommu|I/O virt|vt-d|dmar|amd-vi' | tr '\n' '|')"
diag "xl info virt_caps: $($XL info | grep -E 'virt_caps|xen_commandline' | tr '\n' '|')"
# The appliance's NIC is the e1000e (8086:10d3); dom0 keeps the e1000 (8086:100e).
nic=$(lspci -Dn -d 8086:10d3 | awk '{print $1; exit}')
if [ -z "$nic" ]; then
	notok "an emulated NIC is visible in dom0 (lspci: $(lspci -D | tr '\n' '|'))"
	exit 0
fi
ok "emulated NIC visible in dom0 at $nic: $(lspci -s "$nic" | cut -d' ' -f2-)"
modprobe xen-pciback
if $XL pci-assignable-add "$nic" >/tmp/pa.log 2>&1; then
	ok "xl pci-assignable-add $nic"
else
	notok "xl pci-assignable-add $nic: $(tr '\n' '|' </tmp/pa.log)"
fi
diag "assignable: $($XL pci-assignable-list 2>&1 | tr '\n' ' ')"
# The passthrough-mode image's own config, with the NIC's address on its pci= line.
sed -e "s/^pci *=.*/pci = [ '$nic' ]/" /etc/xen/vifwall.cfg >/tmp/vifwall-pci.cfg
# HARNESS SELF-TEST ONLY: the appliance's test mode gives its uplink 192.168.77.1/24.
echo 'extra = "vifwall.selftest=1"' >>/tmp/vifwall-pci.cfg
grep -q '^pci *=' /tmp/vifwall-pci.cfg || notok "vifwall.cfg of a passthrough image has a pci= line"
diag "config: $(grep -E '^(pci|vif|e820_host)' /tmp/vifwall-pci.cfg | tr '\n' '|')"
if $XL create /tmp/vifwall-pci.cfg >/tmp/xl-pci.log 2>&1; then
	ok "xl create the appliance with pci=['$nic']"
else
	notok "xl create the appliance with pci=['$nic']: $(tr '\n' '|' </tmp/xl-pci.log)"
	diag "xl dmesg tail: $($XL dmesg | tail -15 | tr '\n' '|')"
fi
aid=$($XL domid "$APPLIANCE" 2>/dev/null)
i=0
while [ -n "$aid" ] && [ "$(xsr /local/domain/$aid/data/vifwall/state)" != up ] && [ $i -lt 120 ]; do
	sleep 1; i=$((i + 1))
done
nd=$(xsr /local/domain/$aid/data/vifwall/netdevs)
diag "appliance netdevs: ${nd:-none}; pci backend: $(xenstore-ls /local/domain/0/backend/pci 2>/dev/null | head -20 | tr '\n' '|')"
case $nd in
*uplink:*) ok "the passed-through NIC is the appliance's uplink ($nd)" ;;
*) notok "the passed-through NIC appears in the appliance as a netdev (netdevs: ${nd:-none})" ;;
esac
# dom0's end of the wire: the e1000 it kept.
modprobe e1000
d0if=""
for d in /sys/class/net/*; do
	[ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = e1000 ] && d0if=${d##*/}
done
if [ -n "$d0if" ]; then
	ip addr add 192.168.77.2/24 dev "$d0if" && ip link set "$d0if" up
	i=0
	while [ $i -lt 30 ] && ! ping -c 1 -W 1 192.168.77.1 >/dev/null 2>&1; do i=$((i + 1)); done
	if [ $i -lt 30 ]; then
		ok "self-test: dom0 ($d0if) pings the appliance across the passed-through e1000e (after $i tries)"
	else
		notok "self-test: dom0 ($d0if) pings the appliance across the passed-through e1000e"
		diag "dom0 $d0if: $(ip -s link show "$d0if" | tr '\n' '|'); neigh: $(ip neigh | tr '\n' '|')"
	fi
else
	notok "dom0 has its own e1000 for the wire (netdevs: $(ls /sys/class/net | tr '\n' ' '))"
fi
sleep 2
diag "xl dmesg tail: $($XL dmesg | tail -10 | tr '\n' '|')"
for f in "$CON"/guest-*.log; do
	tr -d '\r' <"$f" | sed "s/^/VWLOG $(basename "$f" .log | sed 's/^guest-//'): /"
done
$XL destroy "$APPLIANCE" 2>/dev/null

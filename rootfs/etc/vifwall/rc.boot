#!/bin/sh
# Bring the vifwall appliance up (busybox init's sysinit, /etc/inittab).
# The root filesystem is read-only; everything that changes lives in tmpfs.
# Writes to the console (xl console vifwall), and publishes its state in xenstore under
# the appliance's own data/vifwall/ (readable from dom0):
#   state    booting, then up
#   netdevs  the appliance's network interfaces at boot ("name:operstate ...")
# vifwalld then publishes its ports there (data/vifwall/ports) and attaches the guests'
# vifs itself: no xl devd, no hotplug scripts.
export PATH=/usr/sbin:/usr/bin
. /etc/vifwall/appliance.conf
say() { echo "vifwall: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

# The initramfs moved /proc, /sys and /dev here; mount them only if booted without it.
[ -e /proc/mounts ] || mount -t proc proc /proc
grep -q ' /sys ' /proc/mounts || mount -t sysfs sys /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/vifwall /run/xenstored
hostname -F /etc/hostname
ip link set lo up

xs() { xenstore-write "data/vifwall/$1" "$2" 2>/dev/null; }
xs state booting

for m in $(cat /etc/vifwall/modules); do
	modprobe "$m" || say "cannot load module $m"
done
if [ "$UPLINK_MODE" = passthrough ]; then
	for m in $NIC_DRIVERS; do modprobe "$m" 2>/dev/null; done
fi

# The uplink: the first Ethernet netdev that is not a guest's vif (the netfront eth0 in
# vif mode, the passed-through NIC otherwise), renamed "uplink" for the rules.
uplink=""
i=0
while [ $i -lt 50 ]; do
	for d in /sys/class/net/*; do
		n=${d##*/}
		case $n in lo|vif*|uplink) continue ;; esac
		[ "$(cat "$d/type" 2>/dev/null)" = 1 ] && { uplink=$n; break; }
	done
	[ -n "$uplink" ] && break
	[ -e /sys/class/net/uplink ] && { uplink=uplink; break; }
	sleep 0.1; i=$((i + 1))
done
if [ -n "$uplink" ]; then
	[ "$uplink" != uplink ] && ip link set "$uplink" name uplink
	ip link set uplink up
	say "uplink ($UPLINK_MODE) is $uplink, now 'uplink', $(cat /sys/class/net/uplink/address)"
else
	say "no uplink netdev found ($UPLINK_MODE mode)"
fi

modules=$(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')
xs modules "$modules"
netdevs=""
for d in /sys/class/net/*; do netdevs="$netdevs ${d##*/}:$(cat "$d/operstate" 2>/dev/null)"; done
xs netdevs "${netdevs# }"
if grep -qw vifwall.selftest=1 /proc/cmdline; then
	say "HARNESS SELF-TEST MODE: test-only uplink address, not the product (tests/xen --pci)"
	/usr/lib/vifwall/selftest-hotplug &
fi
xs state up
say "vifwall appliance up in $(up) s: $(hostname), uplink=${uplink:+uplink}, modules: $modules"

#!/bin/bash
# Build the appliance image: build/vifwall.img and build/vifwall.cfg (`make image`).
#
# Usage: image/build.sh [IMAGE_CFG]        (default image.cfg; run as root from the top)
#
# What goes in (docs/image.md says why):
#   /boot/vmlinuz, /boot/initrd.img   Debian 12's kernel (linux-image-amd64) and a tiny
#                                     initramfs that mounts the disk read-only (image/initramfs-init)
#   /boot/grub/grub.cfg               read by pygrub (or pvgrub2) in dom0
#   /lib/modules/...                  only the modules image/modules.list + nic_drivers name
#   /bin/busybox and its applets      the userland (init, sh, ip, modprobe, ...)
#   vifwalld, vifwall, nft, xenstore  and exactly the shared libraries they link
#   everything under rootfs/          copied as it is (inittab, boot scripts, rules...)
# The disk is one ext4 filesystem, no partition table, made by mkfs.ext4 -d (no loop mount).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cfgfile=${1:-image.cfg}
build=${BUILD:-build}
cache=${XEN_CACHE:-$build/xen-cache}
export PATH="$PATH:/usr/sbin:/sbin"
t0=$SECONDS
step() { printf '[image %3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { echo "image: $*" >&2; exit 1; }

. image/config.sh
image_cfg_read "$cfgfile" || die "fix $cfgfile (see docs/image.md or man 5 image.cfg)"
[ "$(id -u)" = 0 ] || die "run as root (mkfs.ext4 -d must record root-owned files)"

step "settings from $cfgfile: uplink_mode=$CFG_uplink_mode memory=${CFG_memory}M vcpus=$CFG_vcpus size=${CFG_image_size}M"

step "kernel: linux-image-amd64 (apt-get download, cached in $cache)"
kpkg=$(image/fetch-deb.sh "$cache" linux-image-amd64)
xspkg=$(image/fetch-deb.sh "$cache" xenstore-utils)
kver=$(ls "$kpkg/lib/modules" | head -1)

stage="$build/image/root"
rm -rf "$build/image" && mkdir -p "$stage"

step "userland: busybox, libraries, programs"
# Debian's merged /usr: /bin, /sbin, /lib, /lib64 are links into /usr.
mkdir -p "$stage"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} "$stage"/{boot/grub,dev,proc,sys,run,tmp,var,etc,root,mnt}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
ln -s /run "$stage/var/run"; ln -s /tmp "$stage/var/tmp"
chmod 1777 "$stage/tmp"
cp /bin/busybox "$stage/usr/bin/busybox"
for a in $(/bin/busybox --list-full); do
	case $a in */busybox) continue ;; esac
	# Debian's busybox puts applets in bin, sbin, usr/bin, usr/sbin: all land in /usr.
	d=usr/$(dirname "${a#usr/}")
	[ -e "$stage/$d/$(basename "$a")" ] || ln -s /usr/bin/busybox "$stage/$d/$(basename "$a")"
done

progs=()
daemon_note=""
progs_dir=${PROGS_DIR:-$build}    # where make put vifwalld and vifwall
for p in vifwalld vifwall; do
	if [ -x "$progs_dir/$p" ]; then
		install -m 755 "$progs_dir/$p" "$stage/usr/sbin/$p"; progs+=("$stage/usr/sbin/$p")
	else
		daemon_note="$daemon_note $p"
	fi
done
install -m 755 /usr/sbin/nft "$stage/usr/sbin/nft"; progs+=("$stage/usr/sbin/nft")
install -m 755 "$xspkg/usr/bin/xenstore" "$stage/usr/bin/xenstore"; progs+=("$stage/usr/bin/xenstore")
for a in read write ls list rm watch exists chmod; do ln -s xenstore "$stage/usr/bin/xenstore-$a"; done

# The libraries: what the programs link, plus the ones vifwalld will link (issue 6),
# each with everything it links in turn. Taken from the build host (Debian 12, the same
# packages the programs were built against); copied under their soname.
# libgcc_s.so.1 is no link-time dependency: glibc dlopens it for pthread_cancel, which
# libxenstore's xs_close() calls to stop its reader thread (without it vifwalld aborts
# when it reconnects to xenstore).
want_libs="libnftables.so.1 libnftnl.so.11 libmnl.so.0 libpcap.so.0.8 libjansson.so.4
           libxenstore.so.4 libxenvchan.so.4.17 libxengnttab.so.1 libxenevtchn.so.1
           libgcc_s.so.1"
libs=$( { for l in $want_libs; do
		f=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ {print $NF; exit}')
		[ -n "$f" ] || die "library $l is not installed on the build host (make deps)"
		echo "$f"; ldd "$f"
	done
	for p in "${progs[@]}"; do ldd "$p"; done; } |
	sed -n -e 's/.*=> \(\/[^ ]*\).*/\1/p' -e 's/^\(\/[^ ]*\)$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*ld-linux[^ ]*\).*/\1/p' | sort -u)
for f in $libs; do
	name=$(basename "$f")
	case $f in
	*ld-linux-x86-64.so.2) cp -L "$f" "$stage/usr/lib64/$name"
		ln -sf ../../lib64/$name "$stage/usr/lib/x86_64-linux-gnu/$name" ;;
	*) cp -L "$f" "$stage/usr/lib/x86_64-linux-gnu/$name" ;;
	esac
done
# Every program must find every library inside the image.
for p in "${progs[@]}"; do
	missing=$(chroot "$stage" /usr/lib64/ld-linux-x86-64.so.2 --list "${p#"$stage"}" 2>&1 | grep 'not found' || true)
	[ -z "$missing" ] || die "$(basename "$p") in the image misses: $missing"
done
strip --strip-unneeded "$stage"/usr/lib/x86_64-linux-gnu/*.so* 2>/dev/null || true
strip --strip-unneeded "$stage"/usr/sbin/vifwall* 2>/dev/null || true

step "kernel modules ($kver)"
base_mods=$(sed -e 's/#.*//' image/modules.list | tr -s ' \n' ' ')
mods="$base_mods $CFG_nic_drivers"
for m in $CFG_nic_drivers; do
	modprobe -d "$kpkg" -S "$kver" --show-depends "$m" >/dev/null 2>&1 ||
		{ image/copy-modules.sh "$kpkg" /dev/null >/dev/null 2>&1 || true
		  modprobe -d "$kpkg" -S "$kver" --show-depends "$m" >/dev/null 2>&1 ||
		  die "$cfgfile:$CFG_LINE_nic_drivers: nic_drivers: kernel $kver has no module '$m'"; }
done
image/copy-modules.sh "$kpkg" "$stage" $mods >"$build/image/modules.txt"
# Loaded at boot, in this order (rc.boot reads it; NIC drivers only in passthrough mode).
echo "$base_mods" | tr ' ' '\n' | sed '/^$/d' >"$build/image/boot-modules"

step "boot: kernel, initramfs, grub.cfg"
cp "$kpkg/boot/vmlinuz-$kver" "$stage/boot/vmlinuz"
ird="$build/image/initrd"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot}
ln -s bin "$ird/sbin"
cp /bin/busybox "$ird/bin/busybox"
for a in sh mount umount modprobe switch_root sleep cat echo mkdir; do ln -s busybox "$ird/bin/$a"; done
image/copy-modules.sh "$kpkg" "$ird" xen-blkfront ext4 crc32c_generic >/dev/null
install -m 755 image/initramfs-init "$ird/init"
(cd "$ird" && find . | cpio --quiet -o -H newc | gzip -9) >"$stage/boot/initrd.img"
cat >"$stage/boot/grub/grub.cfg" <<GRUB
# vifwall appliance: read by pygrub (xl's bootloader="pygrub") or pvgrub2.
set default=0
set timeout=0
menuentry 'vifwall $kver' {
	linux /boot/vmlinuz root=/dev/xvda ro console=hvc0 quiet
	initrd /boot/initrd.img
}
GRUB

step "configuration: rootfs/, rules, appliance.conf"
# rootfs/ is copied as it is, except its README.
(cd rootfs && find . -type f ! -name README.md) | while read -r f; do
	install -D -m "$(stat -c %a "rootfs/$f")" "rootfs/$f" "$stage/$f"
done
install -D -m 644 "$CFG_rules" "$stage/etc/vifwall/rules.nft"
install -m 644 "$build/image/boot-modules" "$stage/etc/vifwall/modules"
echo "$CFG_hostname" >"$stage/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
cat >"$stage/etc/vifwall/appliance.conf" <<CONF
# Written by make image from $cfgfile; read by /etc/vifwall/rc.boot.
UPLINK_MODE=$CFG_uplink_mode
NIC_DRIVERS="$CFG_nic_drivers"
RULES=/etc/vifwall/rules.nft
# vifwalld's command line (vifwall-supervise runs it). Guests' vifs are not listed:
# vifwalld attaches them itself from xenstore (backend/vif) as they come and go.
# --ring-blocks 32: 4 MiB of receive ring a port (the default, 32 MiB a port, does not
# fit a 128 MiB domain: vifwalld was OOM-killed opening the uplink).
VIFWALLD_ARGS="--rules /etc/vifwall/rules.nft --uplink uplink --ring-blocks 32 --ctl /run/vifwall/ctl"
CONF
cat >"$stage/etc/vifwall/build-info" <<INFO
vifwall image built $(date -u +%Y-%m-%dT%H:%M:%SZ)
kernel $kver
source $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
daemon $( [ -z "$daemon_note" ] && echo "vifwalld and vifwall included" || echo "missing:$daemon_note")
INFO

step "filesystem: mkfs.ext4 -d into build/vifwall.img (${CFG_image_size} MiB)"
used=$(du -sm "$stage" | cut -f1)
img="$build/vifwall.img"
rm -f "$img.tmp"
# No newer ext4 features than pygrub's libext2fs and older dom0s read; no journal needed
# for a root mounted read-only. -E root_owner: files are root's whatever builds it.
if ! mkfs.ext4 -q -F -L vifwall -d "$stage" -O ^has_journal,^orphan_file,^metadata_csum_seed,^metadata_csum \
	-m 0 -N 2048 -E root_owner=0:0 "$img.tmp" "${CFG_image_size}M" >"$build/image/mkfs.log" 2>&1; then
	cat "$build/image/mkfs.log" >&2
	die "$cfgfile:$CFG_LINE_image_size: image_size = $CFG_image_size MiB is too small for ${used} MiB of files"
fi
mv "$img.tmp" "$img"

step "xl config: build/vifwall.cfg"
cfg="$build/vifwall.cfg"
{
cat <<XL
# xl config of the vifwall appliance (made by make image from $cfgfile).
# Copy vifwall.img to dom0, fix the disk path below, then: xl create vifwall.cfg
# Guests use it with: vif = [ 'backend=$CFG_hostname,vifname=web1,mac=00:16:3e:00:00:01,ip=10.0.0.11' ]

# The domain's name: guests name it in their vif's backend=.
name = "$CFG_hostname"
type = "pv"
# It serves other domains' vifs (xen-netback runs inside it).
driver_domain = 1
memory = $CFG_memory
vcpus = $CFG_vcpus

# EDIT: where vifwall.img lives in dom0. pygrub reads /boot/grub/grub.cfg from it.
disk = [ 'format=raw,vdev=xvda,access=rw,target=/var/lib/vifwall/vifwall.img' ]
bootloader = "pygrub"

on_crash = "restart"
on_poweroff = "destroy"
on_reboot = "restart"

XL
if [ "$CFG_uplink_mode" = vif ]; then
	cat <<XL
# Uplink: the appliance's own vif on dom0's bridge $CFG_uplink_bridge (EDIT the bridge
# name; it must exist in dom0). Inside the appliance it is the port "uplink".
vif = [ 'bridge=$CFG_uplink_bridge' ]
XL
else
	cat <<XL
# Uplink: a NIC the appliance owns. EDIT: its PCI address in dom0 (lspci -D); make it
# assignable first with: xl pci-assignable-add BDF . Without an IOMMU the appliance can
# DMA anywhere: it must then be trusted like dom0.
XL
	if [ -n "${CFG_pci_devices:-}" ]; then
		printf "pci = [ %s ]\n" "$(for d in $CFG_pci_devices; do printf "'%s'," "$d"; done | sed 's/,$//')"
	else
		echo "pci = [ '0000:03:00.0' ]"
	fi
	echo "# PV passthrough needs this in the domain's config:"
	echo "e820_host = 1"
fi
} >"$cfg"

raw=$(stat -c %s "$img")
step "compressing a copy to measure it (xz -T0)"
xzsize=$(xz -T0 -6 -c "$img" | wc -c)
step "done"
files_mb=$(du -sm --apparent-size "$stage" | cut -f1)
echo "  build/vifwall.img  $((raw / 1048576)) MiB raw, $((xzsize / 1024)) KiB xz, files ${files_mb} MiB"
echo "    kernel $(( $(stat -c %s "$stage/boot/vmlinuz") / 1024 )) KiB, initrd $(( $(stat -c %s "$stage/boot/initrd.img") / 1024 )) KiB," \
     "modules $(du -sk "$stage/usr/lib/modules" | cut -f1) KiB ($(grep -c . "$build/image/modules.txt") files)," \
     "libraries $(du -sk "$stage/usr/lib/x86_64-linux-gnu" | cut -f1) KiB"
echo "  build/vifwall.cfg  name=$CFG_hostname memory=$CFG_memory vcpus=$CFG_vcpus uplink=$CFG_uplink_mode"
[ -z "$daemon_note" ] || echo "  NOTE: not built, so not in the image:$daemon_note (run make first); the supervisor waits for it"

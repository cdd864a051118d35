#!/bin/bash
# Build (or find in the cache) everything the Xen-in-QEMU harness boots, except the
# appliance image itself (that is `make image`):
#
#   xen          the hypervisor, gunzipped (QEMU loads it as a multiboot kernel)
#   vmlinuz      dom0's kernel (Debian's linux-image-amd64, 6.1)
#   dom0.cpio    dom0's root: mmdebstrap --variant=essential + xen-utils-4.17 and friends,
#                trimmed, a subset of kernel modules. No /init: run.sh appends
#                tests/xen/dom0-init with the test's files (editing it rebuilds nothing).
#                Uncompressed: decompressing under emulation is slow.
#   vmlinux      the same kernel as an uncompressed ELF, for the test guests: xl create
#                then takes ~4 s instead of ~18 s (dom0 no longer decompresses it)
#   guest.cpio.gz the test guests' initramfs: busybox-static, xen-netfront, guest-init
#
# Usage: tests/xen/assets.sh CACHE      prints the directory holding them
# The directory is CACHE/assets-HASH, HASH covering this script, the inits, the package
# lists and the package versions, so a rerun with the same inputs takes a second.
set -euo pipefail
cache=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# libnftables1 libpcap0.8 libjansson4: what the vifwall CLI needs in dom0 (the dom0
# package); tcpdump: to read the captures it takes; jq: to check its JSON.
DOM0_PKGS="xen-utils-4.17 xenstore-utils kmod iproute2 iputils-ping busybox-static bridge-utils mount procps pciutils libnftables1 libpcap0.8 libjansson4 tcpdump jq"
# dom0's modules: Xen's device files, block and net backends, loop (file-backed disks),
# bridge (xenbr0), pciback (PCI passthrough), e1000 (dom0's end of the --pci test's wire).
DOM0_MODS="xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-blkback xen-netback
           loop bridge xen-pciback e1000"
GUEST_MODS="xen-netfront"

log() { echo "xen-assets: $*" >&2; }

kpkg=$("$top/image/fetch-deb.sh" "$cache" linux-image-amd64)
xpkg=$("$top/image/fetch-deb.sh" "$cache" xen-hypervisor-4.17-amd64)
key=$( { cat "$0" "$here/guest-init" "$top/image/copy-modules.sh";
         echo "$kpkg $xpkg $DOM0_PKGS"; dpkg-query -W busybox-static; } | sha256sum | cut -c1-16)
out="$cache/assets-$key"
if [ -e "$out/.done" ]; then echo "$out"; exit 0; fi

t0=$SECONDS
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
tmp="$out.tmp"

log "hypervisor and kernels"
gunzip -c "$xpkg"/boot/xen-*.gz >"$tmp/xen"
cp "$kpkg"/boot/vmlinuz-* "$tmp/vmlinuz"
# The bzImage's payload is an xz stream: find it, unpack it (trailing bytes are ignored).
python3 - "$tmp/vmlinuz" "$tmp/vmlinux" <<'PY'
import lzma, sys
data = open(sys.argv[1], "rb").read()
off = data.find(b"\xfd7zXZ\x00")
if off < 0:
    sys.exit("no xz payload in " + sys.argv[1])
d = lzma.LZMADecompressor()
elf = d.decompress(data[off:])
if elf[:4] != b"\x7fELF":
    sys.exit("payload is not an ELF")
open(sys.argv[2], "wb").write(elf)
PY

# dom0's root has its own cache entry (keyed by what makes it), so that changing the
# guests' side does not rerun mmdebstrap.
d0key=$( { sed -n '/^# dom0-root-begin/,/^# dom0-root-end/p' "$0"; cat "$top/image/copy-modules.sh";
           echo "$kpkg $xpkg $DOM0_PKGS $DOM0_MODS"; } | sha256sum | cut -c1-16)
d0="$cache/dom0-$d0key.cpio"
# dom0-root-begin
if [ ! -e "$d0" ]; then
	log "dom0 root (mmdebstrap, a few minutes the first time)"
	root="$tmp/dom0"
	mmdebstrap --variant=essential --quiet \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$(echo $DOM0_PKGS | tr ' ' ,)" \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		bookworm "$root" \
		"deb http://deb.debian.org/debian bookworm main" \
		"deb http://deb.debian.org/debian bookworm-updates main" \
		"deb http://deb.debian.org/debian-security bookworm-security main" >&2
	# Versions of the tools and the hypervisor must match (both come from the same suites).
	tv=$(chroot "$root" dpkg-query -W -f='${Version}' xen-utils-4.17)
	case $xpkg in *"$(echo "$tv" | tr ':+~' '___')"*) ;; *)
		log "warning: xen-utils-4.17 $tv differs from the hypervisor package $(basename "$xpkg")" ;;
	esac
	rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/zoneinfo \
		"$root"/usr/lib/udev/hwdb.bin "$root"/etc/udev/hwdb.bin "$root"/usr/share/perl* \
		"$root"/usr/lib/x86_64-linux-gnu/perl* "$root"/usr/share/i18n "$root"/usr/share/X11
	"$top/image/copy-modules.sh" "$kpkg" "$root" $DOM0_MODS >/dev/null
	ln -sf /usr/lib/xen-4.17/bin/xl "$root/usr/local/sbin/xl"
	mkdir -p "$root/var/lib/xen" "$root/var/log/xen/console" "$root/etc/xen/auto"
	(cd "$root" && find . | cpio --quiet -o -H newc) >"$d0.tmp" && mv "$d0.tmp" "$d0"
	rm -rf "$root"
fi
# dom0-root-end
ln "$d0" "$tmp/dom0.cpio" 2>/dev/null || cp "$d0" "$tmp/dom0.cpio"

log "guest initramfs"
g="$tmp/guest"
mkdir -p "$g"/{bin,dev,proc,sys,etc}
cp /bin/busybox "$g/bin/busybox"
for a in sh mount insmod modprobe ip ping sleep cat echo grep sed poweroff mkdir ls \
	 uname seq head tail cut tr httpd nc; do ln -s busybox "$g/bin/$a"; done
"$top/image/copy-modules.sh" "$kpkg" "$g" $GUEST_MODS >/dev/null
install -m 755 "$here/guest-init" "$g/init"
(cd "$g" && find . | cpio --quiet -o -H newc | gzip -1) >"$tmp/guest.cpio.gz"
rm -rf "$g"

touch "$tmp/.done"
rm -rf "$out" && mv "$tmp" "$out"
log "built $out in $((SECONDS - t0)) s: $(du -sh "$out" | cut -f1)"
echo "$out"

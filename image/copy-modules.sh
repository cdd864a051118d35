#!/bin/sh
# Copy kernel modules and everything they depend on from an unpacked linux-image package
# into a root tree, then index them there (depmod), so `modprobe NAME` works in that root.
#
# Usage: image/copy-modules.sh KPKG ROOT MODULE...
#   KPKG   a directory holding lib/modules/VERSION/ (from image/fetch-deb.sh)
#   ROOT   the tree to copy into (ROOT/lib/modules/VERSION/...)
#   MODULE module names as modprobe knows them (xen-netback, nf_tables, e1000e...)
# A module that is built into the kernel is fine (nothing to copy); an unknown one is an
# error naming it. Prints the module files it copied, one per line, on stdout.
set -eu
kpkg=$(cd "$1" && pwd) root=$2; shift 2
export PATH="$PATH:/usr/sbin:/sbin"
kver=$(ls "$kpkg/lib/modules" | head -1)
src="$kpkg/lib/modules/$kver"
# The package ships no modules.dep (its postinst makes it): index the full tree once.
if [ ! -e "$src/modules.dep.bin" ]; then
	depmod -b "$kpkg" "$kver"
fi
dst="$root/lib/modules/$kver"
mkdir -p "$dst"
for m in "$@"; do
	if ! out=$(modprobe -d "$kpkg" -S "$kver" --show-depends "$m" 2>&1); then
		echo "copy-modules: no module '$m' in kernel $kver" >&2
		exit 1
	fi
	echo "$out" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | sort -u | while read -r f; do
	rel=${f#"$src"/}
	mkdir -p "$dst/$(dirname "$rel")"
	cp "$f" "$dst/$rel"
	echo "$rel"
done
cp "$src/modules.order" "$src/modules.builtin" "$src/modules.builtin.modinfo" "$dst/" 2>/dev/null || true
depmod -b "$root" "$kver"

#!/bin/bash
# Build the dom0 package: `make install-dom0` into a staging root, a control file
# whose Depends are the Debian packages that ship the libraries vifwall links (found
# with objdump, ldd and dpkg -S, as dpkg-shlibdeps would, without versions), then dpkg-deb.
# Usage: dom0/make-deb.sh BUILD_DIR VERSION   -> BUILD_DIR/vifwall-dom0_VERSION_ARCH.deb
set -euo pipefail
build=$1 version=$2
arch=$(dpkg --print-architecture)
stage="$build/deb-dom0"
rm -rf "$stage"
make --no-print-directory BUILD="$build" DESTDIR="$stage" install-dom0 >/dev/null
# The libraries vifwall itself needs (NEEDED), not their own dependencies.
needed=$(objdump -p "$build/vifwall" | awk '/NEEDED/ {print $2}')
deps=$(ldd "$build/vifwall" | awk '/=> \// {print $1, $3}' | while read -r name lib; do
	grep -qxF "$name" <<<"$needed" || continue
	dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: vifwall-dom0
Version: $version
Architecture: $arch
Maintainer: vifwall developers <vifwall@localhost>
Depends: $deps, xen-utils-common
Section: admin
Priority: optional
Description: dom0 tools for the vifwall network-filtering driver domain
 vifwall -d DOMAIN controls a vifwall appliance from dom0 over a vchan (load rules,
 ports, stats, show); vifwall check and replay work on rule files offline; the
 vifwall-reattach service gives guests their vifs back when the appliance restarts.
CONTROL
echo "/etc/init.d/vifwall-reattach" >"$stage/DEBIAN/conffiles"
out="$build/vifwall-dom0_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "$out"

#!/bin/sh
# Fetch one Debian package with `apt-get download` and unpack it with `dpkg -x`, without
# installing it on the build host. Both the image build and the Xen harness use this.
#
# Usage: image/fetch-deb.sh CACHE PACKAGE
#   Resolves PACKAGE to its candidate version (a metapackage such as linux-image-amd64 is
#   followed to the one package it depends on), downloads it into CACHE/debs/, unpacks it
#   into CACHE/pkg/NAME_VERSION/ and prints that directory. Reruns find both and do nothing.
set -eu
cache=$1 pkg=$2
mkdir -p "$cache/debs" "$cache/pkg"

# linux-image-amd64 only depends on linux-image-6.1.0-N-amd64: follow it.
case $pkg in
linux-image-amd64)
	pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
	[ -n "$pkg" ] || { echo "fetch-deb: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
	;;
esac
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
case $ver in ""|"(none)") echo "fetch-deb: no candidate for $pkg (apt-get update?)" >&2; exit 1 ;; esac
dir="$cache/pkg/${pkg}_$(echo "$ver" | tr ':+~' '___')"
if [ ! -e "$dir/.done" ]; then
	deb=$(ls "$cache/debs/${pkg}_"*"$(echo "$ver" | sed 's/^[0-9]*://')"_*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		echo "fetch-deb: downloading $pkg $ver" >&2
		(cd "$cache/debs" && apt-get download -q "$pkg=$ver" >&2 2>/dev/null) ||
			(cd "$cache/debs" && apt-get download "$pkg=$ver" >&2)
		deb=$(ls "$cache/debs/${pkg}_"*.deb | head -1)
	fi
	rm -rf "$dir" && mkdir -p "$dir"
	dpkg -x "$deb" "$dir"
	touch "$dir/.done"
fi
echo "$dir"

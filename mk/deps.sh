#!/bin/sh
# Install what mk/packages.txt lists, only if something is missing.
# Usage: mk/deps.sh [--check]   (--check: exit 1 if something is missing)
set -eu
here=$(dirname "$0")
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt")

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0
[ "${1:-}" = "--check" ] && { echo "missing:$missing"; exit 1; }

if [ "$(id -u)" != 0 ]; then
	echo "vifwall: these Debian packages are missing:$missing" >&2
	echo "vifwall: run 'make deps' as root (it uses apt-get)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

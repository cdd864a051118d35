#!/bin/bash
# End-to-end test on real Xen: boots the Xen hypervisor and a dom0 inside QEMU (software
# emulation, no host network), creates the appliance from build/vifwall.img and
# build/vifwall.cfg exactly as a user would, attaches test guests to it, and checks what
# can be checked. `make check-xen` runs it (after `make image`).
#
# Usage: tests/xen/run.sh [--cycles N] [--pci|--iommu|--demo] [--timeout SECONDS]
#   --cycles N     network-detach/attach rounds of a guest's vif (default 200; the guest is
#                  rebooted every 15, as its kernel keeps ~1.3 MB per round)
#   --pci          instead: the PCI passthrough experiment (tests/xen/dom0-pci.sh), an
#                  emulated e1000e on an internal hub port given to the appliance
#   --iommu        the same on a q35 machine with QEMU's intel-iommu
#   --demo         instead: the guided tour of `make demo` (tests/xen/dom0-demo.sh), its
#                  narration printed live
# Prints TAP lines, timings, and ends with "N passed, N failed". Logs: build/xen-test/.
# dom0 gets 1024 MiB: its initramfs (~270 MB with the payload) must fit in half of it.
# QEMU runs under its recorded PID and is killed on timeout; nothing is left running.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/tap.sh
build=${BUILD:-build}
out="$build/xen-test"
cycles=200 timeout=2400 pci="" demo="" machine=()
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=$2; shift ;;
	--pci) pci=1 ;;
	--iommu) pci=1; machine=(-machine q35 -device intel-iommu,intremap=on) ;;
	--demo) demo=1 ;;
	--timeout) timeout=$2; shift ;;
	*) echo "usage: $0 [--cycles N] [--pci|--iommu|--demo] [--timeout SECONDS]" >&2; exit 2 ;;
	esac
	shift
done
# Count as we go, for the closing "N passed, N failed" line.
n_pass=0 n_fail=0
eval "_tap_ok() $(declare -f ok | sed 1d)"
eval "_tap_not_ok() $(declare -f not_ok | sed 1d)"
ok() { n_pass=$((n_pass + 1)); _tap_ok "$@"; }
not_ok() { n_fail=$((n_fail + 1)); _tap_not_ok "$@"; }
# finish: the closing line, then TAP's plan and exit status.
finish() { echo "$n_pass passed, $n_fail failed"; tap_done; }
need_root
t_start=$SECONDS
stamp() { echo "$((SECONDS - t_start))"; }

for f in "$build/vifwall.img" "$build/vifwall.cfg"; do
	[ -e "$f" ] || { not_ok "$f exists (run make image)"; finish; }
done
command -v qemu-system-x86_64 >/dev/null || { not_ok "qemu-system-x86_64 installed (make deps)"; finish; }

rm -rf "$out" && mkdir -p "$out"
echo "# assets (cached in $build/xen-cache)"
assets=$(tests/xen/assets.sh "$build/xen-cache") || { not_ok "harness assets build"; finish; }
echo "# assets ready after $(stamp) s: $assets"

# --pci/--iommu: an image of the same settings in passthrough mode, built beside the test.
img="$build/vifwall.img" xlcfg="$build/vifwall.cfg"
if [ -n "$pci" ]; then
	mkdir -p "$out/pt"
	sed -e 's/^uplink_mode *=.*/uplink_mode = passthrough/' image.cfg >"$out/pt/image.cfg"
	echo "# building a passthrough-mode image in $out/pt"
	BUILD="$out/pt" XEN_CACHE="$build/xen-cache" PROGS_DIR="$build" image/build.sh "$out/pt/image.cfg" >"$out/pt/build.log" 2>&1 ||
		{ not_ok "passthrough-mode image builds ($out/pt/build.log)"; finish; }
	img="$out/pt/vifwall.img" xlcfg="$out/pt/vifwall.cfg"
fi

# The appliance's name and the disk path dom0 must hold the image at, from its xl config.
name=$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$xlcfg" | head -1)
target=$(sed -n "s/^disk *=.*target=\([^',]*\).*/\1/p" "$xlcfg" | head -1)
[ -n "$name" ] && [ -n "$target" ] || { not_ok "vifwall.cfg names the domain and its disk"; finish; }

# The test's part of dom0's initramfs: appended to the cached dom0.cpio (the kernel
# unpacks concatenated archives in order).
p="$out/payload"
mkdir -p "$p/test" "$p/etc/xen" "$p$(dirname "$target")"
cp "$img" "$p$target"
cp "$xlcfg" "$p/etc/xen/vifwall.cfg"
# dom0's vifwall CLI (what `make install-dom0` installs): -d DOMAIN, reattach.
install -D -m 755 "$build/vifwall" "$p/usr/local/bin/vifwall"
# The rules the image boots with (image.cfg's rules), for checks that put them back.
install -m 644 "$(sed -n 's/^rules *= *//p' image.cfg)" "$p/test/default-rules.nft"
install -m 755 tests/xen/dom0-init "$p/init"
if [ -n "$pci" ]; then
	install -m 755 tests/xen/dom0-pci.sh "$p/test/run"
	# Two emulated NICs on one internal QEMU hub, no host network: an e1000e for the
	# appliance (passed through), an e1000 that dom0 keeps, so that dom0 can ping the
	# appliance across the "wire".
	nicargs=(-netdev hubport,id=pt0,hubid=0 -device e1000e,netdev=pt0
	         -netdev hubport,id=pt1,hubid=0 -device e1000,netdev=pt1)
elif [ -n "$demo" ]; then
	install -m 755 tests/xen/dom0-demo.sh "$p/test/run"
	install -m 644 tests/xen/demo-rules.nft "$p/test/"
	nicargs=()
else
	install -m 755 tests/xen/dom0-test.sh "$p/test/run"
	# Further check groups (control from dom0, recovery, ...), run in name order by
	# dom0-test.sh once the guests are up.
	mkdir -p "$p/test/checks"
	for c in tests/xen/checks/*.sh; do
		[ -e "$c" ] && install -m 644 "$c" "$p/test/checks/"
	done
	nicargs=()
fi
printf 'APPLIANCE=%s\nCYCLES=%s\n' "$name" "$cycles" >"$p/test/params"
cp "$assets/vmlinux" "$assets/guest.cpio.gz" "$p/test/"
(cd "$p" && find . | cpio --quiet -o -H newc) | cat "$assets/dom0.cpio" - >"$out/dom0-initrd.cpio"
rm -rf "$p"

log="$out/serial.log"
echo "# booting Xen + dom0 in QEMU (TCG, no network), serial: $log"
qemu-system-x86_64 -accel tcg,thread=multi,tb-size=512 -cpu qemu64 -smp 2 -m 2048 \
	-display none -monitor none -nic none -no-reboot -serial "file:$log" \
	"${machine[@]}" "${nicargs[@]}" \
	-kernel "$assets/xen" \
	-append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 noreboot" \
	-initrd "$assets/vmlinuz console=hvc0 earlyprintk=xen quiet,$out/dom0-initrd.cpio" \
	>"$out/qemu.log" 2>&1 &
qpid=$!
echo "$qpid" >"$out/qemu.pid"
trap 'kill "$qpid" 2>/dev/null' EXIT
# The tour's narration, live; tail ends with QEMU.
[ -n "$demo" ] && tail --pid="$qpid" -n +1 -F "$log" 2>/dev/null | sed -un 's/\r//g; s/^VWD: \{0,1\}//p' &

# Watch the serial log: note when each milestone appears (host wall clock since QEMU start).
declare -A seen=()
marks=("xen:(XEN) Xen version" "dom0-kernel:VWT-T dom0-kernel" "dom0:VWT-T dom0-up"
       "appliance:VWT-T appliance-up" "guest:VWT-T first-forwarded" "end:VWT-END")
scan_marks() {
	for m in "${marks[@]}"; do
		k=${m%%:*}
		[ -n "${seen[$k]:-}" ] && continue
		grep -qF "${m#*:}" "$log" 2>/dev/null && seen[$k]=$((SECONDS - t0))
	done
}
t0=$SECONDS timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
	scan_marks
	# dom0 powers off after VWT-END; Xen with noreboot then halts but QEMU stays.
	if [ -n "${seen[end]:-}" ] && grep -q "Hardware Dom0 shutdown\|Dom0 crashed" "$log"; then break; fi
	if [ $((SECONDS - t0)) -ge "$timeout" ]; then timed_out=1; break; fi
	sleep 0.5
done
kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
trap - EXIT
# QEMU may exit on its own between two polls (Xen halting after dom0 powers off):
# the log's last lines still count.
scan_marks
wall=$((SECONDS - t0))
rm -f "$out/dom0-initrd.cpio"

# Results and logs out of the serial console.
tr -d '\r' <"$log" >"$out/serial.txt"
grep '^VWLOG ' "$out/serial.txt" | while read -r _ who rest; do
	echo "$rest" >>"$out/${who%:}.log"
done
while read -r line; do
	case $line in
	"VWT: ok - "*) ok "${line#VWT: ok - }" ;;
	"VWT: not ok - "*) not_ok "${line#VWT: not ok - }" ;;
	"VWT: # "*) echo "# ${line#VWT: # }" ;;
	esac
done < <(grep '^VWT: ' "$out/serial.txt")
if [ $timed_out = 1 ]; then
	not_ok "the run ends within $timeout s (QEMU $qpid killed)"
else
	check "dom0 ran the whole test and powered off" test -n "${seen[end]:-}"
fi

echo "# timings (s since QEMU start, host clock): Xen up ${seen[xen]:--}, dom0 kernel" \
     "${seen[dom0-kernel]:--}, dom0 up ${seen[dom0]:--}, appliance up ${seen[appliance]:--}," \
     "first forwarded packet ${seen[guest]:--}, end ${seen[end]:--}; QEMU ran ${wall} s, harness total $(stamp) s"
grep '^VWT-T ' "$out/serial.txt" | sed 's/^VWT-T \([^ ]*\) \(.*\)/# in dom0: \1 \2 s/' |
	sed -e 's/appliance-created/xl create vifwall.cfg returned after/' \
	    -e 's/appliance-up/appliance up after xl create:/' -e 's/guest-up/guest up after xl create:/' \
	    -e 's/dom0-kernel/dom0 kernel uptime at init:/' -e 's/dom0-up/dom0 services up at uptime/'
echo "# logs: $out/ (serial.txt, $(cd "$out" && ls *.log 2>/dev/null | tr '\n' ' '))"
finish

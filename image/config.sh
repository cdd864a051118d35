# Read image.cfg strictly. Source this file, then call: image_cfg_read FILE
#
# Sets CFG_<key> for every setting and CFG_LINE_<key> to the line it came from. Stops
# (returns 1, messages "FILE:LINE: ..." on stderr) on an unknown setting, a repeated one,
# a line that is not KEY = VALUE, a value the setting does not accept, or a required
# setting that is missing. The settings, one per line, are documented in image.cfg(5)
# (docs/man/image.cfg.5) and docs/image.md.

# key:kind:required  (kinds are checked by _cfg_check below)
IMAGE_CFG_KEYS="uplink_mode:mode:1 uplink_bridge:ifname:0 nic_drivers:modules:0
pci_devices:bdfs:0 memory:mib:1 vcpus:vcpus:1 rules:file:1 hostname:hostname:1
image_size:size:1"

# _cfg_check KIND VALUE: 0 if VALUE is acceptable for KIND, else prints why.
_cfg_check() {
	local kind=$1 v=$2 w
	case $kind in
	mode) case $v in vif|passthrough) return 0 ;; esac
		echo "must be 'vif' or 'passthrough', not '$v'" ;;
	ifname) [[ $v =~ ^[A-Za-z0-9_.-]{1,15}$ ]] && return 0
		echo "'$v' is not a network interface name (1-15 of A-Z a-z 0-9 _ . -)" ;;
	modules)
		for w in $v; do
			[[ $w =~ ^[A-Za-z0-9_-]+$ ]] || { echo "'$w' is not a kernel module name"; return 1; }
		done
		return 0 ;;
	bdfs)
		for w in $v; do
			[[ $w =~ ^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
				{ echo "'$w' is not a PCI address like 0000:03:00.0"; return 1; }
		done
		return 0 ;;
	mib) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 64 ] && [ "$v" -le 65536 ] && return 0
		echo "must be a number of MiB from 64 to 65536, not '$v'" ;;
	vcpus) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && [ "$v" -le 64 ] && return 0
		echo "must be a number of vCPUs from 1 to 64, not '$v'" ;;
	size) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 16 ] && [ "$v" -le 4096 ] && return 0
		echo "must be a size in MiB from 16 to 4096, not '$v'" ;;
	file) [ -f "$v" ] && [ -r "$v" ] && return 0
		echo "no readable file '$v' (paths are relative to the top of the source tree)" ;;
	hostname) [[ $v =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] && return 0
		echo "'$v' is not a host name (a-z 0-9 -, up to 63)" ;;
	*) echo "internal: unknown kind $kind" ;;
	esac
	return 1
}

image_cfg_read() {
	local file=$1 n=0 line key val spec kind req why bad=0
	[ -r "$file" ] || { echo "$file: cannot read" >&2; return 1; }
	for spec in $IMAGE_CFG_KEYS; do unset "CFG_${spec%%:*}" "CFG_LINE_${spec%%:*}"; done
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		[[ $line =~ ^[[:space:]]*$ ]] && continue
		if ! [[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]]; then
			echo "$file:$n: not a 'key = value' line: $line" >&2; bad=1; continue
		fi
		key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		spec=$(printf '%s\n' $IMAGE_CFG_KEYS | grep "^$key:" || true)
		if [ -z "$spec" ]; then
			echo "$file:$n: unknown setting '$key' (known: $(printf '%s\n' $IMAGE_CFG_KEYS | cut -d: -f1 | tr '\n' ' '))" >&2
			bad=1; continue
		fi
		if [ -n "$(eval echo "\${CFG_LINE_$key:-}")" ]; then
			echo "$file:$n: '$key' is already set on line $(eval echo "\$CFG_LINE_$key")" >&2
			bad=1; continue
		fi
		kind=$(echo "$spec" | cut -d: -f2)
		# A list (modules, PCI addresses) may be empty; any other value may not.
		case $kind in modules|bdfs) ;; *) [ -n "$val" ] || { echo "$file:$n: $key: no value" >&2; bad=1; continue; } ;; esac
		if ! why=$(_cfg_check "$kind" "$val"); then
			echo "$file:$n: $key: $why" >&2; bad=1; continue
		fi
		printf -v "CFG_$key" '%s' "$val"
		printf -v "CFG_LINE_$key" '%s' "$n"
	done <"$file"
	for spec in $IMAGE_CFG_KEYS; do
		key=${spec%%:*} req=${spec##*:}
		if [ "$req" = 1 ] && [ -z "$(eval echo "\${CFG_LINE_$key:-}")" ]; then
			echo "$file: required setting '$key' is missing" >&2; bad=1
		fi
	done
	[ "${CFG_uplink_mode:-}" = vif ] && [ -z "${CFG_uplink_bridge:-}" ] &&
		{ echo "$file:$CFG_LINE_uplink_mode: uplink_mode = vif needs uplink_bridge" >&2; bad=1; }
	[ "${CFG_uplink_mode:-}" = passthrough ] && [ -z "${CFG_nic_drivers:-}" ] &&
		{ echo "$file:$CFG_LINE_uplink_mode: uplink_mode = passthrough needs nic_drivers" >&2; bad=1; }
	return $bad
}

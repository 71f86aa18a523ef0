#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Our modules load on the stock kernel in dependency order, refuse to load
# without disagg_net, refuse to unload while used, and unload without a trace.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

net=$(dg_module disagg_net) || exit 1
swap=$(dg_module disagg_swap) || exit 1
fs=$(dg_module disaggfs) || exit 1
dg_cleanup_push "rmmod disaggfs; rmmod disagg_swap; rmmod disagg_net"

for m in "$net" "$swap" "$fs"; do
	v=$(modinfo -F vermagic "$m" | cut -d' ' -f1)
	[ "$v" = "$DG_KVER" ] || fail "$(basename "$m") built for '$v', running $DG_KVER"
done
log "vermagic matches $DG_KVER"

err=$(insmod "$swap" 2>&1) && fail "disagg_swap loaded without disagg_net"
log "disagg_swap without disagg_net: refused ($err)"
dmesg | grep -q 'disagg_swap: Unknown symbol dg_sysfs_root' ||
	fail "no 'Unknown symbol' line for the refused load"
dmesg -C

insmod "$net" || fail "insmod disagg_net"
[ -d /sys/kernel/disagg ] || fail "/sys/kernel/disagg missing"
proto=$(cat /sys/kernel/disagg/protocol)
[[ $proto =~ ^[0-9]+\.[0-9]+$ ]] || fail "protocol reads '$proto'"
log "disagg_net loaded, protocol $proto"
insmod "$swap" || fail "insmod disagg_swap"
insmod "$fs" || fail "insmod disaggfs"

err=$(rmmod disagg_net 2>&1) && fail "disagg_net unloaded while disagg_swap uses it"
log "rmmod disagg_net while in use: refused ($err)"

rmmod disaggfs && rmmod disagg_swap && rmmod disagg_net || fail "rmmod"
[ -e /sys/kernel/disagg ] && fail "/sys/kernel/disagg left behind"
lsmod | grep -q '^disagg' && fail "modules left loaded: $(lsmod | grep '^disagg')"

# A second round catches state that survived the first unload.
insmod "$net" && insmod "$swap" && insmod "$fs" || fail "second load"
rmmod disaggfs && rmmod disagg_swap && rmmod disagg_net || fail "second unload"
for m in disagg_net disagg_swap disaggfs; do
	grep -q "$m: loaded" <(dmesg) || fail "no load message from $m"
	grep -q "$m: unloaded" <(dmesg) || fail "no unload message from $m"
done
log "loaded and unloaded twice, nothing left"

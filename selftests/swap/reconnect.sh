#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The network to a memory node breaks for a while and comes back, the
# node itself stays up: disagg_net notices, reconnects by itself with the
# same client id, the node hands our slabs back with their contents, and
# every page reads back intact. Reads during the outage fail with EIO
# (within the timeout) or succeed; they never return wrong data or hang.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"
swap_fill
dir=$SWAP_DIR
# Drop every packet both ways (taking the link down would also flush the
# test bed's policy routes).
blackhole() { tc qdisc "$1" dev dgl1 root netem loss 100% && tc qdisc "$1" dev dgh1 root netem loss 100%; }
dg_cleanup_push "tc qdisc del dev dgl1 root; tc qdisc del dev dgh1 root"

dmesg -C
modprobe sch_netem 2>/dev/null
blackhole add || skip "cannot drop packets with tc netem"
log "link to host 1 drops every packet"
for ((t = 0; t < 60; t++)); do
	dmesg | grep -q 'memory node m1: connection lost' && break
	# Reads meanwhile: right data or EIO, bounded.
	start=$SECONDS
	if timeout 60 dd if=/dev/dswap0 of="$dir/out" bs=4K count=1 skip=$((RANDOM % 8192)) \
		iflag=direct status=none 2>/dev/null; then :; else
		[ $? = 124 ] && fail "a read during the outage hung"
	fi
	[ $((SECONDS - start)) -le 30 ] || fail "a read during the outage took $((SECONDS - start)) s"
	sleep 1
done
dmesg | grep -q 'memory node m1: connection lost' || fail "the outage went unnoticed for 60 s"
log "outage noticed after $t s; m1 is $(cat /sys/kernel/disagg/memory_nodes/m1/state)"
sleep 2
blackhole del || fail "cannot heal the link"
for ((t = 0; t < 90; t++)); do
	[ "$(cat /sys/kernel/disagg/memory_nodes/m1/state)" = up ] && break
	sleep 1
done
[ "$(cat /sys/kernel/disagg/memory_nodes/m1/state)" = up ] ||
	fail "m1 not up 90 s after the link came back"
dmesg | grep -E 'disagg|dswap' | sed 's/^/  kernel: /'
dmesg | grep -q 'dswap0: node m1 kept all' || fail "m1 did not hand our slabs back"
dd if=/dev/dswap0 bs=1M count=32 iflag=direct status=none | cmp -s - "$dir/data" ||
	fail "data read back wrong after the reconnect"
log "reconnected after $t s; all 32 MiB read back intact"

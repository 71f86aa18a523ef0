# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the swap selftests: two memory nodes (disagg-memd over RDMA on
# remote hosts 1 and 2), disagg_net and disagg_swap loaded, both nodes added.
#
#   swap_setup [MEMD_CAPACITY]   everything above; fails the test on error
#   swap_node_stat NAME          the node's stat line
#   MEMD                         path of disagg-memd

MEMD=$DG_BINDIR/memd/disagg-memd
SWAP_SLAB=${SWAP_SLAB:-4M}
SWAP_QUEUES=${SWAP_QUEUES:-1}

swap_teardown() {
	swapoff /dev/dswap0 2>/dev/null
	echo 1 >/sys/block/dswap0/reset 2>/dev/null
	for n in m1 m2; do
		echo "$n" >/sys/kernel/disagg/memory_nodes/remove 2>/dev/null
	done
	rmmod disagg_swap 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}

swap_setup() {
	local cap=${1:-256M} i
	[ -x "$MEMD" ] || fail "$MEMD not built (run 'make daemons')"
	dg_cleanup_push swap_teardown
	hosts_up 2 || fail "cannot set up the remote hosts"
	insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
	insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
	for i in 1 2; do
		host_start "$i" "memd$i" "$MEMD" --listen "$(host_addr "$i"):7470" \
			--transport rdma --capacity "$cap" --slab-size "$SWAP_SLAB"
	done
	for i in 1 2; do
		host_wait_log "memd$i" "listening on" || fail "disagg-memd on host $i did not start"
	done
	for i in 1 2; do
		echo "name=m$i transport=rdma addr=$(host_addr "$i") port=7470 src=$(local_addr "$i") queues=$SWAP_QUEUES" \
			>/sys/kernel/disagg/memory_nodes/add || fail "adding memory node m$i failed"
		[ "$(cat /sys/kernel/disagg/memory_nodes/m$i/state)" = up ] ||
			fail "memory node m$i is not up"
	done
	echo "$SWAP_SLAB" >/sys/block/dswap0/slab_size || fail "setting slab_size"
}

swap_node_stat() {
	cat "/sys/kernel/disagg/memory_nodes/$1/stat"
}

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the swap selftests: two memory nodes (disagg-memd over RDMA on
# remote hosts 1 and 2), disagg_net and disagg_swap loaded, both nodes added.
#
#   swap_setup [MEMD_CAPACITY]   everything above; fails the test on error
#   swap_fill                    swap_setup 128M, then 32 MiB of random data
#                                written to a 48 MiB dswap0 (a copy in
#                                $SWAP_DIR/data); skips unless both nodes
#                                got slabs. Heartbeats every second and
#                                reconnect attempts at least every 500 ms,
#                                for the tests of failing nodes.
#   swap_node_stat NAME          the node's stat line
#   MEMD                         path of disagg-memd
#   SWAP_NODE_OPTS               more options for the memory nodes' "add"
#                                line (e.g. timeout_ms=2000)
#
# The daemons run with the key file of selftests/lib/keys.sh and the nodes
# are added with key=client: every swap test authenticates.

MEMD=$DG_BINDIR/memd/disagg-memd
SWAP_SLAB=${SWAP_SLAB:-4M}
SWAP_QUEUES=${SWAP_QUEUES:-1}
SWAP_NODE_OPTS=${SWAP_NODE_OPTS:-}

swap_teardown() {
	swapoff /dev/dswap0 2>/dev/null
	echo 1 >/sys/block/dswap0/reset 2>/dev/null
	for n in /sys/kernel/disagg/memory_nodes/*/; do
		n=$(basename "$n")
		echo "$n force" >/sys/kernel/disagg/memory_nodes/remove 2>/dev/null
	done
	rmmod disagg_swap 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}

swap_setup() {
	local cap=${1:-256M} i
	[ -x "$MEMD" ] || fail "$MEMD not built (run 'make daemons')"
	dg_cleanup_push swap_teardown
	keys_setup || fail "cannot make the test keys"
	keys_kernel client || fail "cannot add the kernel key"
	hosts_up 2 || fail "cannot set up the remote hosts"
	insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
	insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
	for i in 1 2; do
		host_start "$i" "memd$i" "$MEMD" --listen "$(host_addr "$i"):7470" \
			--transport rdma --capacity "$cap" --slab-size "$SWAP_SLAB" $DAEMON_KEYS
	done
	for i in 1 2; do
		host_wait_log "memd$i" "listening on" || fail "disagg-memd on host $i did not start"
	done
	for i in 1 2; do
		echo "name=m$i transport=rdma addr=$(host_addr "$i") port=7470 src=$(local_addr "$i") queues=$SWAP_QUEUES key=client $SWAP_NODE_OPTS" \
			>/sys/kernel/disagg/memory_nodes/add || fail "adding memory node m$i failed"
		[ "$(cat /sys/kernel/disagg/memory_nodes/m$i/state)" = up ] ||
			fail "memory node m$i is not up"
	done
	echo "$SWAP_SLAB" >/sys/block/dswap0/slab_size || fail "setting slab_size"
}

swap_fill() {
	local n s
	swap_setup 128M
	echo 48M >/sys/block/dswap0/disksize || fail "disksize"
	echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
	echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
	SWAP_DIR=$(mktemp -d)
	dg_cleanup_push "rm -rf $SWAP_DIR"
	head -c 32M /dev/urandom >"$SWAP_DIR/data"
	dd if="$SWAP_DIR/data" of=/dev/dswap0 bs=1M oflag=direct status=none ||
		fail "writing 32 MiB"
	for n in m1 m2; do
		read -r s _ < <(swap_node_stat $n)
		log "node $n holds $s slabs"
		[ "$s" -gt 0 ] || skip "all slabs landed on one node; nothing to compare"
	done
}

swap_node_stat() {
	cat "/sys/kernel/disagg/memory_nodes/$1/stat"
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The RDMA device under a memory node's connection goes away under load
# (the compute end's Soft-RoCE device is deleted, as a NIC that is
# unplugged or whose driver unbinds): with replicas=2 the workload goes on
# from the other copies without a bad page; the node turns down and keeps
# trying to reconnect; once a device is back on that link it is up again
# and the device rebuilds to ok; then both modules unload, which they
# cannot while a queue, memory region or protection domain is left on the
# device that went.
#
# SWAP_WSET_MB / SWAP_LIMIT_MB change the working set and the limit.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"

WSET_MB=${SWAP_WSET_MB:-64}
LIMIT_MB=${SWAP_LIMIT_MB:-16}
node=/sys/kernel/disagg/memory_nodes/m1
command -v rdma >/dev/null || skip "no rdma tool (iproute2)"

node_state() { cat "$node/state"; }
node_is() { [ "$(node_state)" = "$1" ]; }
dev_ok() { [ "$(swap_state)" = ok ] && [ "$(swap_degraded)" = 0 ]; }
workload_alive() {
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died $1"; }
}

swap_setup 256M
swap_require replicas state degraded_slabs
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
echo 2 >/sys/block/dswap0/replicas || fail "replicas=2 refused"
echo 0 >/sys/block/dswap0/rebuild_rate_mb || fail "rebuild_rate_mb=0 refused"
echo 256M >/sys/block/dswap0/disksize || fail "disksize"
swap_workload_start "$WSET_MB" "$LIMIT_MB"
read -r held _ < <(swap_node_stat m1)
[ "$held" -gt 0 ] || fail "m1 holds no slab"

dmesg -C
rdma link delete "$(local_rxe 1)" || fail "rdma link delete $(local_rxe 1)"
t0=$(swap_now)
log "$(local_rxe 1) deleted under m1 (holding $held slabs)"
swap_wait 30 node_is down || fail "m1 still '$(node_state)' 30 s after its device went"
log "m1 down $(swap_since "$t0") s after its device went"
workload_alive "after the device went"
# Going on from the other copies for a while, m1 unreachable.
sleep 5
workload_alive "with m1 unreachable"
node_is down || fail "m1 is '$(node_state)' with no device to reach it"

rdma link add "$(local_rxe 1)" type rxe netdev dgl1 || fail "rdma link add $(local_rxe 1)"
t0=$(swap_now)
swap_wait 60 node_is up || fail "m1 still '$(node_state)' 60 s after a device came back"
log "m1 up again $(swap_since "$t0") s after a device came back"
swap_wait 180 dev_ok ||
	fail "dswap0 still '$(swap_state)' with $(swap_degraded) degraded slabs 180 s after m1 came back"
log "dswap0 ok again $(swap_since "$t0") s after m1 came back"
swap_workload_stop
k=$(dmesg | grep -E 'WARNING:|BUG:|general protection|refcount_t|use-after-free' | head -n 3)
[ -z "$k" ] || fail "the kernel complained: $k"

timeout 300 swapoff /dev/dswap0 || fail "swapoff"
echo 1 >/sys/block/dswap0/reset || fail "reset"
for n in m1 m2; do
	echo "$n" >/sys/kernel/disagg/memory_nodes/remove || fail "removing $n"
done
timeout 60 rmmod disagg_swap || fail "rmmod disagg_swap"
timeout 60 rmmod disagg_net || fail "rmmod disagg_net after a device removal"
log "both modules unloaded"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Removing memory nodes under load, three nodes:
#  1. replicas=1: memcheck (working set four times its memory.max) runs;
#     "remove" of the node holding the most slabs returns at once, the node
#     turns draining, its slab count falls to 0, its directory goes, its
#     daemon has nothing of ours left in use; zero bad pages;
#  2. replicas=2: a node's daemon is SIGKILLed and the node dropped with
#     "NAME force" at once: the device rebuilds onto the two nodes left and
#     memcheck goes on without a bad page or a killed process.
#
# SWAP_WSET_MB / SWAP_LIMIT_MB change the working set and the limit.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
SWAP_NODES=3
. "$DG_SELFTESTS/swap/setup.sh"

WSET_MB=${SWAP_WSET_MB:-64}
LIMIT_MB=${SWAP_LIMIT_MB:-16}
nodes=/sys/kernel/disagg/memory_nodes

# The node (1-3) holding the most slabs, among the nodes present.
busiest() {
	local i s best=0 most=-1
	for ((i = 1; i <= 3; i++)); do
		[ -d "$nodes/m$i" ] || continue
		read -r s _ < <(swap_node_stat "m$i")
		[ "$s" -gt "$most" ] && most=$s best=$i
	done
	echo "$best"
}

swap_setup 256M
swap_require replicas state degraded_slabs
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
echo 0 >/sys/block/dswap0/rebuild_rate_mb || fail "rebuild_rate_mb=0 refused"

# 1. Drain under load.
echo 256M >/sys/block/dswap0/disksize || fail "disksize"
swap_workload_start "$WSET_MB" "$LIMIT_MB"
v=$(busiest)
read -r held _ < <(swap_node_stat "m$v")
[ "$held" -gt 0 ] || fail "no node holds a slab"
t0=$(swap_now)
timeout 10 sh -c "echo m$v >$nodes/remove" || fail "remove m$v failed or did not return at once"
# Slabs placed between the count above and the remove still count; from
# the remove on, the node takes no new copy and its count only falls.
read -r s _ < <(swap_node_stat "m$v" 2>/dev/null) && held=$s
log "remove m$v (holding $held slabs) returned after $(swap_since "$t0") s"
draining='' last=$held
while [ -d "$nodes/m$v" ]; do
	st=$(cat "$nodes/m$v/state" 2>/dev/null) && [ "$st" = draining ] && draining=1
	if read -r s _ < <(swap_node_stat "m$v" 2>/dev/null); then
		[ "$s" -le "$last" ] ||
			fail "m$v's slab count grew from $last to $s while draining"
		last=$s
	fi
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died during the drain"; }
	[ "$(swap_since "$t0" | cut -d. -f1)" -lt 180 ] ||
		fail "m$v still there 180 s after remove: state $st, $last slabs"
	sleep 0.2
done
took=$(swap_since "$t0")
[ -n "$draining" ] || fail "m$v went away without ever showing state 'draining'"
log "m$v drained: $held slabs ($((held * ${SWAP_SLAB%M})) MiB) moved in $took s, then removed"
memd_empty() { [ "$(swap_memd_field "$1" used)" = 0 ]; }
swap_wait 30 memd_empty "$v" ||
	fail "disagg-memd on host $v still has $(swap_memd_field "$v" used) bytes in use after the drain"
log "disagg-memd on host $v: nothing in use"
swap_workload_stop
read -r _ _ _ fr fw _ slabs _ </sys/block/dswap0/remote_stat
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed remote I/O during the drain: $fr reads, $fw writes"
[ "$(swap_state)" = ok ] || fail "state '$(swap_state)' after the drain, want ok"

# 2. replicas=2, a dead node dropped with force.
timeout 300 swapoff /dev/dswap0 || fail "swapoff"
echo 1 >/sys/block/dswap0/reset || fail "reset"
swap_node_add "$v"
echo 2 >/sys/block/dswap0/replicas || fail "replicas=2 refused"
echo 256M >/sys/block/dswap0/disksize || fail "disksize"
swap_workload_start "$WSET_MB" "$LIMIT_MB"
v=$(busiest)
read -r held _ < <(swap_node_stat "m$v")
swap_memd_kill "$v"
t0=$(swap_now)
timeout 10 sh -c "echo 'm$v force' >$nodes/remove" || fail "'m$v force' failed or did not return at once"
[ -d "$nodes/m$v" ] && fail "m$v still listed after 'm$v force'"
log "m$v (holding $held slabs) killed and dropped with force in $(swap_since "$t0") s"
seen=''
for ((;;)); do
	st=$(swap_state) deg=$(swap_degraded)
	[ "$st" = degraded ] && seen=1
	[ "$st" = ok ] && [ "$deg" = 0 ] && break
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died after m$v was dropped"; }
	[ "$(swap_since "$t0" | cut -d. -f1)" -lt 180 ] ||
		fail "still '$st' with $deg degraded slabs 180 s after dropping m$v"
	sleep 0.2
done
log "rebuilt onto the nodes left: ok $(swap_since "$t0") s after the drop" \
	"(degraded seen: ${seen:-no}); $(swap_remote_stat 11) slabs rebuilt"
[ -n "$seen" ] || [ "$(swap_remote_stat 11)" -gt 0 ] ||
	fail "m$v held $held slabs, yet nothing turned degraded nor was rebuilt"
swap_workload_stop
read -r _ _ _ fr fw _ </sys/block/dswap0/remote_stat
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed remote I/O: $fr reads, $fw writes"

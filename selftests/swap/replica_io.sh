#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# replicas=2 on two memory nodes, raw block I/O: every slab gets a copy on
# each node; with one node killed every byte still reads back (failover,
# no wait for the dead node), the device is degraded; when the node comes
# back empty the rebuild restores the copies (degraded_slabs back to 0),
# and then the other node dies: the data read back comes from the rebuilt
# copies, byte for byte.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"
swap_setup 128M
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
echo 4 >/sys/block/dswap0/replicas 2>/dev/null && fail "replicas=4 accepted"
echo 2 >/sys/block/dswap0/replicas || fail "replicas=2"
echo 32M >/sys/block/dswap0/disksize || fail "disksize"
echo 1 >/sys/block/dswap0/replicas 2>/dev/null && fail "replicas changed after disksize"
[ "$(cat /sys/block/dswap0/state)" = ok ] || fail "state $(cat /sys/block/dswap0/state)"
dir=$(mktemp -d)
dg_cleanup_push "rm -rf $dir"
head -c 16M /dev/urandom >"$dir/data"
dd if="$dir/data" of=/dev/dswap0 bs=1M oflag=direct status=none || fail "writing 16 MiB"
for n in m1 m2; do
	read -r s _ < <(swap_node_stat $n)
	[ "$s" = 4 ] || fail "node $n holds $s slabs, not 4 (one copy of each)"
done
[ "$(cat /sys/block/dswap0/degraded_slabs)" = 0 ] || fail "degraded with both nodes up"
log "4 slabs, a copy on each node"

node_is() { [ "$(cat "/sys/kernel/disagg/memory_nodes/$1/state")" = "$2" ]; }
wait_state() { swap_wait "$3" node_is "$1" "$2"; } # node state seconds
no_degraded() { [ "$(cat /sys/block/dswap0/degraded_slabs)" = 0 ]; }
check_all() { # what
	local start=$SECONDS
	timeout 120 dd if=/dev/dswap0 of="$dir/out" bs=1M count=16 iflag=direct status=none ||
		fail "$1: reading failed"
	cmp -s "$dir/out" "$dir/data" || fail "$1: data read back WRONG"
	log "$1: 16 MiB intact, read in $((SECONDS - start)) s"
}

kill -KILL "$(cat "$HOSTS_STATE/memd1.pid")"
check_all "m1 killed"
wait_state m1 down 30 || fail "m1 not down"
d=$(cat /sys/block/dswap0/degraded_slabs)
[ "$d" = 4 ] || fail "degraded_slabs $d with m1 down, not 4"
[ "$(cat /sys/block/dswap0/state)" = degraded ] || fail "state not degraded"

host_start 1 memd1 "$MEMD" --listen "$(host_addr 1):7470" --transport rdma \
	--capacity 128M --slab-size "$SWAP_SLAB" $DAEMON_KEYS
host_wait_log memd1 "listening on" || fail "memd1 did not restart"
wait_state m1 up 60 || fail "m1 not up again"
start=$SECONDS
swap_wait 120 no_degraded ||
	fail "still $(cat /sys/block/dswap0/degraded_slabs) degraded slabs 120 s after m1 came back"
log "rebuilt 4 slabs (16 MiB) in $((SECONDS - start)) s: $(cat /sys/block/dswap0/remote_stat)"
read -r s _ < <(swap_node_stat m1)
[ "$s" = 4 ] || fail "m1 holds $s slabs after the rebuild"

kill -KILL "$(cat "$HOSTS_STATE/memd2.pid")"
wait_state m2 down 30 || fail "m2 not down"
check_all "m2 killed after the rebuild"

# A dead node removed by force: its copies are dropped at once.
echo "m2 force" >/sys/kernel/disagg/memory_nodes/remove || fail "force removal"
[ -e /sys/kernel/disagg/memory_nodes/m2 ] && fail "m2 still listed"
check_all "m2 removed"
rmmod disagg_swap 2>/dev/null && fail "rmmod with a node added succeeded"
echo 1 >/sys/block/dswap0/reset || fail "reset"
echo m1 >/sys/kernel/disagg/memory_nodes/remove || fail "removing m1"
rmmod disagg_swap || fail "rmmod after removing every node"
log "pass"

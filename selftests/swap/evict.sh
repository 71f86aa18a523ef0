#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Eviction under load: two memory nodes, replicas=1, memcheck (working set
# four times its memory.max) running. The node holding the most slabs is
# shrunk at run time (dg-memclient --resize, as the admin key) to half of
# what it has in use; it asks for slabs back (MEM_EVICT), the client moves
# them to the other node and frees them, and the node's "used" falls to
# its new capacity or below and stays there. Zero bad pages, no process
# killed, no failed remote I/O.
#
# SWAP_WSET_MB / SWAP_LIMIT_MB change the working set and the limit.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"

WSET_MB=${SWAP_WSET_MB:-64}
LIMIT_MB=${SWAP_LIMIT_MB:-16}
slab=$((${SWAP_SLAB%M} << 20))

[ -x "$MEMCLIENT" ] || fail "$MEMCLIENT not built (run 'make daemons')"
"$MEMCLIENT" --help 2>&1 | grep -q -- --resize ||
	skip "dg-memclient has no --resize (DG_OP_MEM_RESIZE): eviction cannot be triggered"

swap_setup 256M
swap_require state rebuild_rate_mb
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 0 >/sys/block/dswap0/rebuild_rate_mb || fail "rebuild_rate_mb=0 refused"
echo 256M >/sys/block/dswap0/disksize || fail "disksize"
swap_workload_start "$WSET_MB" "$LIMIT_MB"

v=1 o=2
read -r s1 _ < <(swap_node_stat m1)
read -r s2 _ < <(swap_node_stat m2)
[ "$s2" -gt "$s1" ] && v=2 o=1
used=$(swap_memd_field "$v" used)
[ -n "$used" ] || fail "no STATUS from disagg-memd on host $v"
[ "$used" -ge $((2 * slab)) ] || fail "m$v has only $used bytes in use; nothing to evict"
cap=$((used / 2 / slab * slab))
read -r held _ < <(swap_node_stat "m$v")
read -r oheld _ < <(swap_node_stat "m$o")
out=$(timeout 30 "$MEMCLIENT" --connect "$(host_addr "$v"):7470" --transport rdma \
	--bind "$(local_addr "$v")" --key-file "$DG_KEYFILE" --identity admin --resize "$cap" 2>&1) ||
	fail "dg-memclient --resize $cap: $out"
t0=$(swap_now)
log "m$v: $held slabs, $((used >> 20)) MiB in use, shrunk to $((cap >> 20)) MiB (m$o holds $oheld slabs)"
c=$(swap_memd_field "$v" capacity)
[ "$c" = "$cap" ] || fail "STATUS capacity is $c after --resize $cap"
for ((;;)); do
	u=$(swap_memd_field "$v" used)
	[ -n "$u" ] && [ "$u" -le "$cap" ] && break
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died during the eviction"; }
	[ "$(swap_since "$t0" | cut -d. -f1)" -lt 180 ] ||
		fail "m$v still uses $u bytes 180 s after shrinking to $cap"
	sleep 1
done
read -r s _ < <(swap_node_stat "m$v")
read -r os _ < <(swap_node_stat "m$o")
log "m$v within its capacity after $(swap_since "$t0") s: $s slabs left there, m$o holds $os"
[ $((s * slab)) -le "$cap" ] || fail "the client still counts $s slabs on m$v, over its $cap bytes"
swap_workload_stop
u=$(swap_memd_field "$v" used)
[ "$u" -le "$cap" ] || fail "m$v went over its capacity again: $u bytes used, capacity $cap"
read -r _ _ _ fr fw _ </sys/block/dswap0/remote_stat
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed remote I/O: $fr reads, $fw writes"
grep -iE 'evict' "$HOSTS_LOGDIR/memd$v.log" | tail -n 3 | sed 's/^/  memd: /'

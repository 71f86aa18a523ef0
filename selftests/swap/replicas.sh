#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# replicas=2 on three memory nodes: memcheck, with a working set four times
# its cgroup's memory.max, checks every page over and over while one memory
# node after another is SIGKILLed and restarted (2 kills, 64 MiB in 16 MiB
# on a 128 MiB device; DG_LONG=1: 20 kills, 128 MiB in 32 MiB on 256 MiB).
# After each kill the device turns degraded (a count of slabs short of a
# copy), a rebuild copies them back and it returns to ok before the next
# kill. Zero bad pages, zero processes killed, no failed remote I/O. Logs
# the time each rebuild took and what rebuilding 64 MiB takes.
#
# SWAP_WSET_MB / SWAP_LIMIT_MB change the working set and the limit.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
SWAP_NODES=3
. "$DG_SELFTESTS/swap/setup.sh"

# The swap allocator spreads over the whole device as time goes on, so the
# device's size bounds what each rebuild copies.
KILLS=2 WSET_MB=64 LIMIT_MB=16 DISK_MB=128
[ "${DG_LONG:-0}" = 1 ] && KILLS=20 WSET_MB=128 LIMIT_MB=32 DISK_MB=256
WSET_MB=${SWAP_WSET_MB:-$WSET_MB}
LIMIT_MB=${SWAP_LIMIT_MB:-$LIMIT_MB}
slab_mb=${SWAP_SLAB%M}

swap_setup 256M
swap_require replicas state degraded_slabs rebuild_rate_mb
echo 2 >/sys/block/dswap0/replicas || fail "replicas=2 refused"
echo 0 >/sys/block/dswap0/rebuild_rate_mb || fail "rebuild_rate_mb=0 refused"
echo "${DISK_MB}M" >/sys/block/dswap0/disksize || fail "disksize"
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
[ "$(swap_state)" = ok ] || fail "state is '$(swap_state)' before any failure, want ok"
[ "$(swap_degraded)" = 0 ] || fail "degraded_slabs is $(swap_degraded) before any failure"

swap_workload_start "$WSET_MB" "$LIMIT_MB"
for ((i = 1; i <= 3; i++)); do
	read -r s _ < <(swap_node_stat "m$i")
	log "node m$i holds $s slabs"
done

rebuilt_mb=0 rebuild_s=0
for ((k = 1; k <= KILLS; k++)); do
	v=$(( (k - 1) % 3 + 1 ))
	read -r held _ < <(swap_node_stat "m$v")
	rb0=$(swap_remote_stat 11)
	swap_memd_kill "$v"
	t0=$(swap_now)
	# Degraded once the node is found dead (a heartbeat or a failed I/O).
	seen='' maxdeg=0 tdeg=''
	while [ "$(swap_since "$t0" | cut -d. -f1)" -lt 30 ]; do
		st=$(swap_state) deg=$(swap_degraded)
		[ "$deg" -gt "$maxdeg" ] && maxdeg=$deg
		if [ "$st" = degraded ] || [ "$deg" -gt 0 ]; then
			seen=1 tdeg=$(swap_now)
			break
		fi
		[ "$(swap_remote_stat 11)" != "$rb0" ] && break	# rebuilt already
		sleep 0.1
	done
	[ -n "$tdeg" ] || tdeg=$t0
	detect=$(awk -v a="$t0" -v b="$tdeg" 'BEGIN { printf "%.1f", b - a }')
	swap_memd_start "$v"
	# Back to ok: no slab short of a copy (the rebuild time), and the
	# restarted node up again.
	tok=''
	for ((;;)); do
		st=$(swap_state) deg=$(swap_degraded)
		[ "$deg" -gt "$maxdeg" ] && maxdeg=$deg
		[ "$st" = degraded ] && seen=1
		if [ "$st" = ok ] && [ "$deg" = 0 ]; then
			[ -n "$tok" ] || tok=$(swap_now)
			[ "$(cat /sys/kernel/disagg/memory_nodes/m$v/state)" = up ] && break
		else
			tok=''
		fi
		kill -0 "$SWAP_WL_PID" 2>/dev/null ||
			{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died during rebuild $k"; }
		[ "$(swap_since "$t0" | cut -d. -f1)" -lt 180 ] ||
			fail "kill $k (m$v): still '$st' with $deg degraded slabs after 180 s"
		sleep 0.2
	done
	took=$(awk -v a="$tdeg" -v b="$tok" 'BEGIN { printf "%.1f", b - a }')
	rb=$(( $(swap_remote_stat 11) - rb0 ))
	log "kill $k: m$v held $held slabs; degraded after $detect s (up to $maxdeg slabs short)," \
		"$rb slabs ($((rb * slab_mb)) MiB) rebuilt, ok again $took s later;" \
		"m$v up again $(swap_since "$t0") s after the kill"
	if [ "$held" -gt 0 ]; then
		[ -n "$seen" ] || [ "$rb" -gt 0 ] ||
			fail "kill $k: m$v held $held slabs but the device never turned degraded nor rebuilt any"
	fi
	rebuilt_mb=$((rebuilt_mb + rb * slab_mb))
	rebuild_s=$(awk -v a="$rebuild_s" -v b="$took" 'BEGIN { print a + b }')
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died after kill $k"; }
	tail -n 1 "$SWAP_DIR/memcheck.out" | sed 's/^/  /'
done

swap_workload_stop
read -r reads writes _ fr fw _ slabs _ _ deg rebuilt failovers _ </sys/block/dswap0/remote_stat
log "remote_stat: reads $reads writes $writes failed $fr/$fw slabs $slabs degraded $deg rebuilt $rebuilt read_failovers $failovers"
[ "$fr" = 0 ] || fail "$fr remote reads failed"
[ "$fw" = 0 ] || fail "$fw remote writes failed"
copies=0
for ((i = 1; i <= 3; i++)); do
	read -r s _ < <(swap_node_stat "m$i")
	copies=$((copies + s))
done
log "copies held by the three nodes: $copies for $slabs slabs"
if [ "$rebuilt_mb" -gt 0 ]; then
	log "rebuild: $rebuilt_mb MiB in $rebuild_s s in all;" \
		"time to rebuild 64 MiB: $(awk -v m="$rebuilt_mb" -v s="$rebuild_s" \
		'BEGIN { printf "%.1f", s * 64 / m }') s (under load, TCG, rxe)"
fi

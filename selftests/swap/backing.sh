#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# replicas=1 with a backing device (brd, or a loop device over tmpfs) and
# one memory node:
#  1. memcheck (working set four times its memory.max) runs while the only
#     memory node is SIGKILLed; it goes on for two passes with the node
#     dead, then the node is restarted: zero bad pages, no process killed,
#     and pages were read from the backing device;
#  2. idle with the node up, remote_stat's backing_lag_pages returns to 0,
#     also after 16 MiB more written to the raw device;
#  3. the raw device: 16 MiB of a pattern unique to every page written over
#     those 16 MiB with O_DIRECT, the node killed at once, every page read
#     back one by one with O_DIRECT: each is its pattern or fails with EIO,
#     never other data (above all not the older data the backing device
#     held for that page).
#
# SWAP_WSET_MB / SWAP_LIMIT_MB change the working set and the limit;
# SWAP_BACKING_PARTS="2 3" leaves part 1 out (for chasing a failure).
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
SWAP_NODES=1
. "$DG_SELFTESTS/swap/setup.sh"
pagecheck=$DG_PROJ/build/selftests/pagecheck
[ -x "$pagecheck" ] || fail "$pagecheck not built (run 'make selftests')"

WSET_MB=${SWAP_WSET_MB:-64}
LIMIT_MB=${SWAP_LIMIT_MB:-16}
LAG=13 BACKING_READS=14		# remote_stat columns

# The backing device: a RAM disk if brd is there, else a loop device over
# a tmpfs file. Both torn down after the swap device (cleanup runs last
# pushed first, and swap_setup pushes its teardown later).
if [ ! -e /sys/module/brd ] && modprobe brd rd_nr=1 rd_size=$((288 * 1024)) 2>/dev/null &&
	[ -b /dev/ram0 ]; then
	back=/dev/ram0
	dg_cleanup_push "rmmod brd"
else
	modprobe loop 2>/dev/null
	img=$(mktemp /tmp/dswap-back.XXXXXX)
	truncate -s 288M "$img" && back=$(losetup -f --show "$img") ||
		fail "neither brd nor a loop device for the backing device"
	dg_cleanup_push "losetup -d $back; rm -f $img"
fi
log "backing device: $back"

swap_setup 256M
swap_require backing_dev state
echo "$back" >/sys/block/dswap0/backing_dev || fail "backing_dev=$back refused"
echo 256M >/sys/block/dswap0/disksize || fail "disksize"
[ "$(cat /sys/block/dswap0/backing_dev)" = "$back" ] ||
	fail "backing_dev reads '$(cat /sys/block/dswap0/backing_dev)', want $back"
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
node=/sys/kernel/disagg/memory_nodes/m1
parts=${SWAP_BACKING_PARTS:-1 2 3}
part() { [[ " $parts " == *" $1 "* ]]; }
lag_zero() { [ "$(swap_remote_stat $LAG)" = 0 ]; }

# 1. The only memory node dies under load.
if part 1; then
swap_workload_start "$WSET_MB" "$LIMIT_MB"
read -r s _ < <(swap_node_stat m1)
log "m1 holds $s slabs; backing lag $(swap_remote_stat $LAG) pages"
swap_memd_kill 1
t0=$(swap_now)
swap_wait 30 grep -qx down "$node/state" || fail "m1 not down 30 s after its daemon died"
log "m1 down after $(swap_since "$t0") s; device state $(swap_state)"
p0=$(grep -c 'done at' "$SWAP_DIR/memcheck.out")
t1=$SECONDS
until [ "$(grep -c 'done at' "$SWAP_DIR/memcheck.out")" -ge $((p0 + 2)) ]; do
	kill -0 "$SWAP_WL_PID" 2>/dev/null ||
		{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck died with its memory node dead"; }
	((SECONDS - t1 < 300)) || fail "memcheck did not do two passes in 300 s with m1 dead"
	sleep 1
done
log "memcheck did two passes with m1 dead in $((SECONDS - t1)) s; backing_reads $(swap_remote_stat $BACKING_READS)"
swap_memd_start 1
swap_wait 60 grep -qx up "$node/state" || fail "m1 not up 60 s after its daemon restarted"
log "m1 up again; device state $(swap_state)"
swap_workload_stop
read -r reads writes _ fr fw _ _ _ _ _ _ _ lag breads _ </sys/block/dswap0/remote_stat
log "remote_stat: reads $reads writes $writes failed $fr/$fw backing_lag $lag backing_reads $breads"
[ "$breads" -gt 0 ] || fail "no page was read from the backing device"
[ "$fr" = 0 ] || fail "$fr remote reads failed"
timeout 300 swapoff /dev/dswap0 || fail "swapoff"
fi

# 2. Up and idle, the backing device catches up.
swap_wait 60 lag_zero ||
	fail "backing_lag_pages still $(swap_remote_stat $LAG) 60 s after the load ended"
"$pagecheck" write /dev/dswap0 0 4096 1 >/dev/null || fail "writing 16 MiB to the raw device"
t0=$(swap_now)
swap_wait 60 lag_zero ||
	fail "backing_lag_pages still $(swap_remote_stat $LAG) 60 s after writing 16 MiB"
log "16 MiB written; backing lag back at 0 after $(swap_since "$t0") s"
out=$(timeout 120 "$pagecheck" read --expect-intact /dev/dswap0 0 4096 1 2>&1) ||
	fail "16 MiB read back: $out"
log "$out"

# 3. Pages whose only remote copy dies before they reach the backing device:
# the pattern or EIO, never the older data the backing device has.
"$pagecheck" write /dev/dswap0 0 4096 2 >/dev/null && swap_memd_kill 1 ||
	fail "writing 16 MiB of a new pattern"
lag=$(swap_remote_stat $LAG)
pcout=$(mktemp)
dg_cleanup_push "rm -f $pcout"
"$pagecheck" read /dev/dswap0 0 4096 2 >"$pcout" 2>&1 &
pc=$!
dg_cleanup_push "kill -KILL $pc"
# A read stuck in the kernel ignores signals: watch it rather than wait.
swap_wait 300 eval "! kill -0 $pc" || {
	echo "pagecheck (pid $pc): $(grep State: "/proc/$pc/status"), after $(swap_remote_stat 1) reads; stack:"
	sed 's/^/  /' "/proc/$pc/stack" 2>/dev/null
	fail "reading the pages back hung: a read still in the kernel after 300 s"
}
wait "$pc"
rc=$?
sed 's/^/  /' "$pcout"
[ $rc = 0 ] || fail "a page read back other data than its pattern, not EIO"
log "killed with $lag pages not on the backing device yet: each page its pattern or EIO"
swap_no_kills

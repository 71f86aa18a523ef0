#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Swap to remote memory for real: a program whose working set is four times
# its memory cgroup's limit fills every page with a checksummed pattern and
# checks every byte several times in random and sequential order; the
# pages go remote to both memory nodes. swapoff then brings every page back
# intact, and after rmmod the memory nodes have all their capacity free.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
memcheck=$DG_PROJ/build/selftests/memcheck
[ -x "$memcheck" ] || fail "$memcheck not built (run 'make selftests')"
client=$DG_BINDIR/tools/dg-memclient
[ -x "$client" ] || fail "$client not built (run 'make daemons')"
. "$DG_SELFTESTS/swap/setup.sh"

LIMIT_MB=16
WSET_MB=64

swap_setup 256M
cg=/sys/fs/cgroup/dswap-test
dg_cleanup_push "rmdir $cg"
# zswap would keep pages in RAM, in front of us.
[ -w /sys/module/zswap/parameters/enabled ] && echo N >/sys/module/zswap/parameters/enabled

echo 256M >/sys/block/dswap0/disksize || fail "setting disksize"
mkswap /dev/dswap0 >/dev/null || fail "mkswap"
swapon -p 100 /dev/dswap0 || fail "swapon"
grep -q '^/dev/dswap0' /proc/swaps || fail "/dev/dswap0 not in /proc/swaps"

echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p "$cg" && echo "${LIMIT_MB}M" >"$cg/memory.max" || fail "cgroup set-up"
held=$(mktemp -u)
(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$memcheck" -p 3 --hold "$held" "$WSET_MB") &
pid=$!
dg_cleanup_push "kill $pid"

# The passes run at the speed of emulated RDMA: allow minutes.
for ((t = 0; t < 600; t++)); do
	[ -e "$held" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
[ -e "$held" ] || { wait "$pid"; fail "memcheck failed or did not finish its passes ($?)"; }
log "memcheck: ${WSET_MB} MiB checked 3 times under a ${LIMIT_MB} MiB limit"

read -r reads writes zr fr fw _ slabs pages xfers _ </sys/block/dswap0/remote_stat
log "remote_stat: reads $reads writes $writes (in $xfers transfers) zero_reads $zr failed $fr/$fw slabs $slabs pages $pages"
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed remote I/O"
[ "$writes" -ge $(( (WSET_MB - LIMIT_MB) * 256 )) ] ||
	fail "only $writes pages swapped out, expected at least $(( (WSET_MB - LIMIT_MB) * 256 ))"
[ "$reads" -gt 0 ] || fail "nothing was swapped in"
for n in m1 m2; do
	read -r nslabs nreads nwrites nerr _ < <(swap_node_stat "$n")
	log "node $n: slabs $nslabs reads $nreads writes $nwrites errors $nerr"
	[ "$nwrites" -gt 0 ] || fail "no pages went to node $n"
	[ "$nerr" = 0 ] || fail "node $n counted errors"
done
swaps=$(awk '$1 == "/dev/dswap0" {print $4}' /proc/swaps)
log "in swap now: $swaps KiB"

# swapoff brings every page back; then the program checks them all.
echo max >"$cg/memory.max"
timeout 300 swapoff /dev/dswap0 || fail "swapoff failed"
kill -USR1 "$pid"
wait "$pid"
rc=$?
[ $rc = 0 ] || fail "memcheck found wrong data (exit $rc)"
log "after swapoff every page is intact"

# Nothing left behind: reset, remove, unload; the nodes get everything back.
echo 1 >/sys/block/dswap0/reset || fail "reset"
for n in m1 m2; do
	echo "$n" >/sys/kernel/disagg/memory_nodes/remove || fail "removing $n"
done
rmmod disagg_swap && rmmod disagg_net || fail "rmmod"
for i in 1 2; do
	out=$(timeout 60 "$client" --connect "$(host_addr "$i"):7470" --transport rdma \
		--bind "$(local_addr "$i")" --key-file "$DG_KEYFILE" --identity admin \
		--slabs 0 --expect-all-free 2>&1) ||
		fail "memory node $i has capacity in use after rmmod: $out"
done
log "both memory nodes report all capacity free"

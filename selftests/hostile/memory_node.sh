#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A hostile memory node (dg-hostile over TCP) answers disagg_swap with
# malformed replies: adding it fails cleanly while its HELLO replies are
# bad; once added, random writes and reads of /dev/dswap0 fail or succeed
# but never hang, and the kernel logs no warning, while it sends tens of
# thousands of bad replies of every kind. Then a real disagg-memd takes
# its address: the node reconnects and the device works again, byte for
# byte. DG_HOSTILE_FULL=1 sends 100,000 bad replies here alone.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/hostile/lib.sh"
MEMD=$DG_BINDIR/memd/disagg-memd
[ -x "$MEMD" ] || skip "disagg-memd not built (run 'make daemons')"
BAD=${DG_HOSTILE_MEM_BAD:-50000}
[ "${DG_HOSTILE_FULL:-0}" = 1 ] && BAD=100000
SECS=${DG_HOSTILE_SECS:-45}
BAD_FRAMING=${DG_HOSTILE_FRAMING_BAD:-40}
SECS_FRAMING=${DG_HOSTILE_FRAMING_SECS:-15}
nodes=/sys/kernel/disagg/memory_nodes
node_opts="transport=tcp addr=$(host_addr 1) port=7470 src=$(local_addr 1) timeout_ms=1000"

teardown() {
	echo 1 >/sys/block/dswap0/reset
	echo h1 >$nodes/remove
	rmmod disagg_swap
	rmmod disagg_net
	hosts_down
}
dg_cleanup_push teardown
hosts_up 1 --no-rxe || fail "cannot set up the remote host"
modprobe rdma_cm 2>/dev/null	# disagg_net links against the RDMA core
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 200 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
log "seed $HOSTILE_SEED (DG_HOSTILE_SEED=$HOSTILE_SEED repeats this run)"

# Every HELLO reply bad: adding the node fails, within its timeout.
hostile_start 1 hello mem 7470 1000 --hello-pct 100 \
	--hello hello-major,hello-hdr-major,hello-features,hello-minor,hello-short,hello-long,hello-status,hello-garbage
for ((k = 0; k < 4; k++)); do
	t0=$SECONDS
	echo "name=hx $node_opts" >$nodes/add 2>/dev/null && fail "a node with a bad HELLO reply was added"
	((SECONDS - t0 <= 10)) || fail "adding a node with a bad HELLO took $((SECONDS - t0)) s"
done
[ -e $nodes/hx ] && fail "a failed node was left in $nodes"
host_stop hello
log "4 adds refused: $(hostile_report hello | head -n 1)"
HOSTILE_TOTAL=$(hostile_count hello)

# A node at that address that offers authentication but holds no key: with
# key=client every add fails (its proof is wrong, or its AUTH reply is
# malformed or never comes), within the timeout.
keys_setup || fail "cannot make the test keys"
keys_kernel client || fail "cannot add the kernel key"
hostile_start 1 auth mem 7470 1000 --auth
for ((k = 0; k < 6; k++)); do
	t0=$SECONDS
	echo "name=hx $node_opts key=client" >$nodes/add 2>/dev/null &&
		fail "a node that cannot prove the key was added"
	((SECONDS - t0 <= 10)) || fail "adding a node with a bad AUTH reply took $((SECONDS - t0)) s"
done
[ -e $nodes/hx ] && fail "a failed node was left in $nodes"
host_stop auth
log "6 adds with a key refused: $(hostile_report auth | head -n 1)"
HOSTILE_TOTAL=$((HOSTILE_TOTAL + $(hostile_count auth)))

# Good HELLO and MEM_INFO, then bad replies that keep the stream's framing
# (the bulk: stray, stale and duplicate ids, requests from the node, bad
# statuses, lengths and contents), then ones that break it or the HELLO
# (each costs a reconnect).
hostile_start 1 bulk mem 7470 "$BAD" --mode stray,answer --good-first 2 --burst 160
echo "name=h1 $node_opts" >$nodes/add || fail "adding the hostile node"
echo 4M >/sys/block/dswap0/slab_size || fail "slab_size"
echo 16M >/sys/block/dswap0/disksize || fail "disksize"
hostile_phase bulk "framed bad replies" "$SECS" dev /dev/dswap0 4096
n=$(hostile_count bulk)
[ "${n:-0}" -ge "$BAD" ] || fail "only ${n:-0} of $BAD bad replies sent in $SECS s"
hostile_start 1 framing mem 7470 "$BAD_FRAMING" --mode framing,silent --hello all --hello-pct 30
hostile_phase framing "stream-breaking and HELLO replies" "$SECS_FRAMING" dev /dev/dswap0 4096
log "h1 is $(cat $nodes/h1/state), stat $(cat $nodes/h1/stat)"

# A real node at the same address: the device works again.
dmesg -C
host_start 1 memd "$MEMD" --listen "$(host_addr 1):7470" --transport tcp \
	--capacity 64M --slab-size 4M
host_wait_log memd "listening on" || fail "disagg-memd did not start"
for ((t = 0; t < 30; t++)); do
	dmesg | grep -q 'memory node h1: reconnected' &&
		[ "$(cat $nodes/h1/state)" = up ] && break
	sleep 1
done
[ "$(cat $nodes/h1/state)" = up ] || fail "h1 not up 30 s after disagg-memd started"
dir=$(mktemp -d)
dg_cleanup_push "rm -rf $dir"
head -c 8M /dev/urandom >"$dir/data"
timeout 120 dd if="$dir/data" of=/dev/dswap0 bs=1M oflag=direct status=none ||
	fail "writing 8 MiB after the real node came back"
timeout 120 dd if=/dev/dswap0 bs=1M count=8 iflag=direct status=none | cmp -s - "$dir/data" ||
	fail "8 MiB read back wrong after the real node came back"
log "recovered after $t s: 8 MiB written and read back intact"
echo "hostile memory node: $HOSTILE_TOTAL malformed replies"

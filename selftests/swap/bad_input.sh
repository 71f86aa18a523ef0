#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input to disagg_swap's sysfs files gets the right error and exactly
# one log line, and changes nothing; adding an unreachable memory node
# fails within its timeout instead of hanging.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"
swap_setup 64M
nodes=/sys/kernel/disagg/memory_nodes
dev=/sys/block/dswap0

# expect FILE VALUE "strerror text": the write fails that way, logs one line.
# ("A\|B" in the text: either.) Few programs run: each costs a good part of
# a second under emulation.
expect() {
	local file=$1 val=$2 want=$3 err msgs n
	dmesg -C
	err=$( { printf '%s\n' "$val" >"$file"; } 2>&1 ) &&
		fail "writing '$val' to $file succeeded"
	[[ $err =~ ${want//\\|/|} ]] || fail "writing '$val' to $file: '$err', want '$want'"
	msgs=$(dmesg | grep 'disagg_swap:')
	n=${msgs//[!$'\n']/}
	n=$((${#n} + 1))
	[ -n "$msgs" ] || n=0
	[ "$n" = 1 ] || fail "writing '$val' to $file logged $n lines: $(dmesg | tail -n 3)"
	log "${file##*/} <- '$val': $want; ${msgs#\[*\] }"
}

einval="Invalid argument"
expect $nodes/add "garbage" "$einval"
expect $nodes/add "name=x addr=$(host_addr 1)" "$einval"
expect $nodes/add "name=x addr=$(host_addr 1) port=70000" "$einval"
expect $nodes/add "name=x addr=not-an-ip port=7470" "$einval"
expect $nodes/add "name=bad/name addr=$(host_addr 1) port=7470" "$einval"
expect $nodes/add "name=x transport=carrier-pigeon addr=$(host_addr 1) port=7470" "$einval"
expect $nodes/add "name=x addr=$(host_addr 1) port=7470 queues=99" "$einval"
expect $nodes/add "name=m1 addr=$(host_addr 1) port=7470 src=$(local_addr 1)" "File exists"
expect $nodes/remove "nosuchnode" "No such file or directory"
expect $dev/disksize "lots" "$einval"
expect $dev/disksize "0" "$einval"
expect $dev/slab_size "3M" "$einval"
expect $dev/replicas "4" "$einval"
expect $dev/replicas "0" "$einval"
expect $dev/replicas "-1" "$einval"
expect $dev/synchronous "2" "$einval"
expect $dev/synchronous "x" "$einval"
expect $dev/failover_ms "5" "$einval"
expect $dev/rebuild_rate_mb "fast" "$einval"
expect $dev/backing_dev "relative/path" "$einval"
expect $nodes/remove "m1 sideways" "$einval"
expect $dev/reset "0" "$einval"

# Unreachable node: nothing at that address; must fail within the timeout.
start=$SECONDS
expect $nodes/add "name=ghost addr=$DG_HOST_PREFIX.1.99 port=7470 src=$(local_addr 1) timeout_ms=2000" "No route to host\|timed out"
took=$((SECONDS - start))
[ $took -le 15 ] || fail "adding an unreachable node took $took s with a 2 s timeout"
start=$SECONDS
expect $nodes/add "name=closed addr=$(host_addr 1) port=7479 src=$(local_addr 1) timeout_ms=2000" "Connection refused\|No route to host\|timed out"
[ $((SECONDS - start)) -le 15 ] || fail "adding a node on a closed port took too long"
[ -e $nodes/ghost ] || [ -e $nodes/closed ] && fail "a failed node was left in $nodes"

# Knobs that cannot change after initialisation: -EBUSY.
echo 16M >$dev/disksize || fail "disksize"
expect $dev/disksize "32M" "Device or resource busy"
expect $dev/slab_size "8M" "Device or resource busy"
[ "$(cat $dev/disksize)" = $((16 << 20)) ] || fail "disksize changed by a refused write"
expect $dev/replicas "2" "Device or resource busy"
expect $dev/synchronous "1" "Device or resource busy"
[ "$(cat $dev/synchronous)" = 0 ] || fail "synchronous changed by a refused write"
expect $dev/backing_dev "/dev/null" "Device or resource busy"
data=$(mktemp)
dg_cleanup_push "rm -f $data"
head -c 16M /dev/urandom >"$data"
dd if="$data" of=/dev/dswap0 bs=1M oflag=direct status=none || fail "write to dswap0"
busy=
for n in m1 m2; do
	read -r slabs _ < <(swap_node_stat $n)
	[ "$slabs" -gt 0 ] && busy=$n
done
[ -n "$busy" ] || fail "no node holds a slab after writing 16 MiB"
# Removing a node that holds slabs drains it: they move, then it goes.
echo "$busy" >$nodes/remove || fail "removing $busy (a drain) failed"
for ((t = 0; t < 60; t++)); do
	[ -e $nodes/$busy ] || break
	sleep 1
done
[ -e $nodes/$busy ] && fail "$busy still there 60 s after remove ($(cat $nodes/$busy/state 2>/dev/null))"
dd if=/dev/dswap0 bs=1M count=16 iflag=direct status=none | cmp -s - "$data" ||
	fail "data read back wrong after draining $busy"
log "$busy drained in $t s; 16 MiB intact"
mkswap /dev/dswap0 >/dev/null && swapon /dev/dswap0 || fail "swapon"
expect $dev/reset "1" "Device or resource busy"
swapoff /dev/dswap0 || fail "swapoff"
echo 1 >$dev/reset || fail "reset after swapoff"
[ "$(cat $dev/disksize)" = 0 ] || fail "disksize not 0 after reset"
log "busy knobs refused; reset after swapoff works"

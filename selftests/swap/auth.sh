#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Authentication of memory nodes: a node added with the right key comes
# up; a missing, unknown or wrong key, a node that wants a key we do not
# give and a node that cannot prove ours each fail memory_nodes/add with
# their own errno and one log line from disagg_swap, within the timeout.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"
nodes=/sys/kernel/disagg/memory_nodes

dg_cleanup_push swap_teardown
keys_setup || fail "cannot make the test keys"
keys_kernel client || fail "cannot add the kernel key"
hosts_up 2 || fail "cannot set up the remote hosts"
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
# Host 1 requires keys; host 2 runs open (no --keys).
host_start 1 memd1 "$MEMD" --listen "$(host_addr 1):7470" --transport rdma \
	--capacity 64M --slab-size 4M $DAEMON_KEYS
host_start 2 memd2 "$MEMD" --listen "$(host_addr 2):7470" --transport rdma \
	--capacity 64M --slab-size 4M
host_wait_log memd1 "listening on" || fail "disagg-memd on host 1 did not start"
host_wait_log memd2 "listening on" || fail "disagg-memd on host 2 did not start"
grep -qi "warning.*key" "$HOSTS_LOGDIR/memd2.log" ||
	fail "an open disagg-memd did not warn that it has no keys"

# A wrong secret under a name the node knows, a name it does not know, and
# a secret too short to be one.
keyctl add logon disagg:other "$(keys_secret client)" @u >/dev/null || fail "keyctl other"
keyctl add logon disagg:stranger "$(keys_secret client)" @u >/dev/null || fail "keyctl stranger"
keyctl add logon disagg:short 0123456789 @u >/dev/null || fail "keyctl short"
dg_cleanup_push "keyctl unlink \$(keyctl search @u logon disagg:stranger) @u; keyctl unlink \$(keyctl search @u logon disagg:short) @u"

# expect OPTS "strerror text" "log pattern": adding fails that way, within
# 10 s (timeout 2 s), with one disagg_swap line and a disagg_net line
# matching the pattern.
expect() {
	local opts=$1 want=$2 why=$3 err start=$SECONDS msgs n
	dmesg -C
	err=$( { printf '%s\n' "$opts" >$nodes/add; } 2>&1 ) &&
		fail "adding '$opts' succeeded"
	[[ $err =~ $want ]] || fail "adding '$opts': '$err', want '$want'"
	[ $((SECONDS - start)) -le 10 ] || fail "adding '$opts' took $((SECONDS - start)) s"
	msgs=$(dmesg | grep -c 'disagg_swap:')
	[ "$msgs" = 1 ] || fail "adding '$opts' logged $msgs disagg_swap lines: $(dmesg | tail -n 4)"
	dmesg | grep 'disagg_net:' | grep -q "$why" ||
		fail "adding '$opts': no log line saying '$why': $(dmesg | tail -n 4)"
	n=$(dmesg | grep -c 'disagg_net:')
	[ "$n" -le 2 ] || fail "adding '$opts' logged $n disagg_net lines: $(dmesg | tail -n 4)"
	[ -e "$nodes/x" ] && fail "a failed node was left in $nodes"
	log "$want: $(dmesg | grep 'disagg_net:' | sed 's/^\[[^]]*\] //' | head -n 1)"
}

m1="name=x transport=rdma addr=$(host_addr 1) port=7470 src=$(local_addr 1) timeout_ms=2000"
m2="name=x transport=rdma addr=$(host_addr 2) port=7470 src=$(local_addr 2) timeout_ms=2000"
expect "$m1" "Permission denied" "requires a key"
expect "$m1 key=nosuch" "Required key not available" "no usable key"
expect "$m1 key=short" "Key was rejected" "cannot be used"
expect "$m1 key=other" "Key was rejected" "refused key"
expect "$m1 key=stranger" "Key was rejected" "refused key"
expect "$m2 key=client" "Permission denied" "does not authenticate"

# Nobody logged a secret.
for s in "$(keys_secret client)" "$(keys_secret other)"; do
	grep -q "$s" "$HOSTS_LOGDIR/memd1.log" && fail "disagg-memd logged a secret"
done
dmesg | grep -q "$(keys_secret client)" && fail "the kernel logged a secret"

# The right key: up, and I/O works on the authenticated node.
echo "name=m1 transport=rdma addr=$(host_addr 1) port=7470 src=$(local_addr 1) key=client" \
	>$nodes/add || fail "adding m1 with the right key failed"
[ "$(cat $nodes/m1/state)" = up ] || fail "m1 is not up"
[ "$(cat $nodes/m1/key)" = client ] || fail "m1/key shows '$(cat $nodes/m1/key)'"
dmesg | grep -q 'dswap-m1: connected over rdma.*authenticated' ||
	fail "no log line saying m1 authenticated"
echo 4M >/sys/block/dswap0/slab_size || fail "slab_size"
echo 16M >/sys/block/dswap0/disksize || fail "disksize"
head -c 8M /dev/urandom >/tmp/auth.data
dd if=/tmp/auth.data of=/dev/dswap0 bs=1M oflag=direct status=none || fail "writing 8 MiB"
dd if=/dev/dswap0 bs=1M count=8 iflag=direct status=none | cmp -s - /tmp/auth.data ||
	fail "8 MiB read back wrong from the authenticated node"
log "m1 up with key=client; 8 MiB written and read back intact"

# Another identity presenting the kernel's client id (which only the admin
# key's STATUS shows) gets a fresh namespace: nothing of the kernel's slabs,
# and the kernel's connection stays up with its pages intact.
memc() { # memc IDENTITY ARGS...
	local who=$1
	shift
	timeout 120 "$DG_BINDIR/tools/dg-memclient" --connect "$(host_addr 1):7470" \
		--bind "$(local_addr 1)" --transport rdma --timeout 60 \
		--key-file "$DG_KEYFILE" --identity "$who" "$@"
}
st=$(memc other --status 2>&1) || fail "status as other: $st"
echo "$st" | grep -q '"role":"swap"' && fail "STATUS showed the kernel's session to another identity: $st"
st=$(memc admin --status 2>&1) || fail "status as admin: $st"
cid=$(echo "$st" | grep -o '"client_id":"[0-9a-f]*","name":"dswap-m1"' | head -n 1 | cut -d'"' -f4)
[ -n "$cid" ] || fail "the admin's STATUS shows no client id: $st"
out=$(memc other --client-id "$cid" --slabs 1 --pages 8 --seed 5 2>&1) ||
	fail "the other identity's run failed: $(echo "$out" | tail -n 3)"
echo "$out" | grep -q "slabs resumed" && fail "another identity resumed the kernel's slabs: $out"
[ "$(cat $nodes/m1/state)" = up ] || fail "m1 went $(cat $nodes/m1/state) when another identity used its client id"
dd if=/dev/dswap0 bs=1M count=8 iflag=direct status=none | cmp -s - /tmp/auth.data ||
	fail "the kernel's pages changed after another identity used its client id"
rm -f /tmp/auth.data
log "identity 'other' with the kernel's client id $cid: fresh slabs, m1 up, 8 MiB intact"

# A reconnect authenticates again: the daemon restarted with the same key
# file takes the node back.
host_stop memd1
host_start 1 memd1 "$MEMD" --listen "$(host_addr 1):7470" --transport rdma \
	--capacity 64M --slab-size 4M $DAEMON_KEYS
host_wait_log memd1 "listening on" || fail "disagg-memd on host 1 did not restart"
for ((t = 0; t < 60; t++)); do
	[ "$(cat $nodes/m1/state)" = up ] && break
	sleep 1
done
[ "$(cat $nodes/m1/state)" = up ] || fail "m1 not up again after its daemon restarted"
log "m1 reconnected and authenticated again after a daemon restart ($t s)"

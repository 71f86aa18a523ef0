#!/bin/bash
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"
swap_setup 128M
client=$DG_BINDIR/tools/dg-memclient
echo 48M >/sys/block/dswap0/disksize || fail "disksize"
dir=$(mktemp -d)
head -c 32M /dev/urandom >"$dir/data"
dd if="$dir/data" of=/dev/dswap0 bs=1M oflag=direct status=none || fail "writing"
for n in m1 m2; do log "$n: $(swap_node_stat $n)"; done
read -r s1 _ < <(swap_node_stat m1)
timeout 60 "$client" --connect "$(host_addr 1):7470" --transport rdma --bind "$(local_addr 1)" \
	--key-file "$DG_KEYFILE" --identity admin --resize 4M || fail "resize"
for ((t = 0; t < 120; t++)); do
	read -r s _ < <(swap_node_stat m1)
	[ "$s" -le 1 ] && break
	sleep 1
done
log "after $t s: m1 $(swap_node_stat m1) m2 $(swap_node_stat m2)"
[ "$s" -le 1 ] || fail "m1 still holds $s slabs"
dd if=/dev/dswap0 bs=1M count=32 iflag=direct status=none | cmp - "$dir/data" || fail "WRONG data after eviction"
tail -5 "$HOSTS_LOGDIR/memd1.log"
dmesg | grep -i 'dswap\|memory node' | tail -5
echo 1 >/sys/block/dswap0/reset

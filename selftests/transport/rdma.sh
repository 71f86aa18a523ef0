#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The in-kernel RDMA transport (disagg_net) against disagg-memd on a remote
# host over Soft-RoCE: connect with the versioned handshake on several
# queue pairs, two-sided calls, one-sided RDMA WRITE and READ of pages
# checked byte for byte (disagg_net_test.ko does the kernel side), and
# bounded failure when the node is unreachable.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

memd=$DG_BINDIR/memd/disagg-memd
[ -x "$memd" ] || fail "$memd not built (run 'make daemons')"
net=$(dg_module disagg_net) || exit 1
test=$(dg_module disagg_net_test) || exit 1

dg_cleanup_push hosts_down
dg_cleanup_push "rmmod disagg_net_test; rmmod disagg_net"
hosts_up 1 || fail "cannot set up remote host 1"
insmod "$net" || fail "insmod disagg_net"

host_start 1 memd "$memd" --listen "$(host_addr 1):7470" --transport rdma \
	--capacity 64M --slab-size 4M
host_wait_log memd "listening on" || fail "disagg-memd did not start"

# 1. A full round: 256 pages over 2 queue pairs.
dmesg -C
out=$(timeout 120 insmod "$test" addr="$(host_addr 1):7470" src="$(local_addr 1)" \
	pages=256 queues=2 2>&1)
rc=$?
dmesg | grep -E 'disagg_net' | sed 's/^/  kernel: /'
[ $rc = 124 ] && fail "disagg_net_test hung"
[ $rc = 0 ] || fail "disagg_net_test failed: $out"
dmesg | grep -q 'disagg_net_test: 256 pages written and read back intact' ||
	fail "no data check in the kernel log"
dmesg | grep -q 'disagg_net: net-test: connected over rdma, 2 queues' ||
	fail "no connect line in the kernel log"
rmmod disagg_net_test
log "256 pages written and read back over 2 queue pairs"

# 2. Nothing listens on the port: refused quickly.
start=$SECONDS
out=$(timeout 60 insmod "$test" addr="$(host_addr 1):7479" src="$(local_addr 1)" \
	timeout_ms=2000 2>&1)
rc=$?
[ $rc = 124 ] && fail "connecting to a closed port hung"
[ $rc = 0 ] && fail "connecting to a closed port succeeded"
log "closed port: refused in $((SECONDS - start)) s ($out)"

# 3. An address nobody has: fails within the timeout (3 x 2 s + slack).
start=$SECONDS
out=$(timeout 60 insmod "$test" addr="$DG_HOST_PREFIX.1.99:7470" \
	src="$(local_addr 1)" timeout_ms=2000 2>&1)
rc=$?
took=$((SECONDS - start))
[ $rc = 124 ] && fail "connecting to an unreachable address hung"
[ $rc = 0 ] && fail "connecting to an unreachable address succeeded"
[ $took -le 15 ] || fail "unreachable address took $took s, timeout is 2 s"
log "unreachable address: failed in $took s ($out)"

# 4. Unload leaves nothing behind; memd sees every slab freed.
rmmod disagg_net || fail "rmmod disagg_net"
host_stop memd || fail "disagg-memd did not exit cleanly on SIGTERM"

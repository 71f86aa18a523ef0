#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TCP between our end and a remote host: 16 MiB of random data sent to a
# server bound to the host's address arrives byte for byte, and the veth
# counters show it crossed the link.
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
command -v socat >/dev/null || skip "socat not installed (run scripts/setup)"

dg_cleanup_push hosts_down
hosts_up 1 --no-rxe || fail "cannot set up remote host 1"

dir=$(mktemp -d)
dg_cleanup_push "rm -rf $dir"
head -c $((16 << 20)) /dev/urandom >"$dir/in"
read -r tx0 rx0 < <(host_link_bytes 1)

host_start 1 sink socat -u "TCP-LISTEN:7902,bind=$(host_addr 1),reuseaddr" "CREATE:$dir/out"
host_wait_port 1 7902 || fail "TCP sink did not start"
timeout 60 socat -u "FILE:$dir/in" "TCP:$(host_addr 1):7902,bind=$(local_addr 1)" ||
	fail "sending 16 MiB failed"
for ((i = 0; i < 100; i++)); do
	[ -f "$HOSTS_STATE/sink.pid" ] && kill -0 "$(cat "$HOSTS_STATE/sink.pid")" 2>/dev/null || break
	sleep 0.1
done
cmp "$dir/in" "$dir/out" || fail "received data differs from what was sent"
log "16 MiB arrived intact"

read -r tx1 rx1 < <(host_link_bytes 1)
log "veth dgh1 carried $((tx1 - tx0)) bytes out, $((rx1 - rx0)) bytes in"
[ $((rx1 - rx0)) -ge $((16 << 20)) ] || fail "only $((rx1 - rx0)) bytes reached the host end of the link"

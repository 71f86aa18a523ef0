#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RDMA between our end and a remote host over Soft-RoCE, with rdma-core's own
# tools: rping (SEND/RECV and RDMA READ/WRITE, data checked by rping -V) and
# ib_read_lat (4 KiB RDMA READs). The veth counters must show the bytes
# crossed the link.
#
# DG_TEST_BREAK_RXE=1 sets the hosts up without rxe, to prove this test
# fails with a clear message instead of hanging (net/rdma_broken_setup.sh).
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
for t in rping ib_read_lat rdma; do
	command -v "$t" >/dev/null || skip "$t not installed (run scripts/setup)"
done

flags=
[ "${DG_TEST_BREAK_RXE:-0}" = 1 ] && flags=--no-rxe
dg_cleanup_push hosts_down
hosts_up 1 $flags || fail "cannot set up remote host 1"

# The link must have an active RDMA port on both ends.
for dev in "$(local_rxe 1)" "$(host_rxe 1)"; do
	st=$(rdma link show "$dev/1" 2>/dev/null)
	[ -n "$st" ] || fail "no RDMA device $dev: Soft-RoCE (rdma_rxe) is not set up on the link"
	echo "$st" | grep -q 'state ACTIVE' || fail "RDMA device $dev is not active: $st"
done
log "rxe devices active: $(local_rxe 1) <-> $(host_rxe 1)"

read -r tx0 rx0 < <(host_link_bytes 1)

# rping: 20 round trips of 4 KiB, validated.
# The server listens through rdma_cm, which no port check sees: until it
# does, a connect is rejected, so retry that (bounded) rather than sleep.
host_start 1 rping-server rping -s -a "$(host_addr 1)" -p 7900 -C 20 -S 4096 -V
for try in $(seq 20); do
	out=$(timeout 60 rping -c -I "$(local_addr 1)" -a "$(host_addr 1)" -p 7900 -C 20 -S 4096 -V -v 2>&1)
	rc=$?
	[ $rc = 0 ] || ! echo "$out" | grep -q 'RDMA_CM_EVENT_REJECTED' && break
	sleep 0.5
done
[ $rc = 124 ] && fail "rping client hung for 60 s"
[ $rc = 0 ] || fail "rping client failed ($rc): $(echo "$out" | tail -n 3)"
pings=$(echo "$out" | grep -c 'ping data:')
[ "$pings" = 20 ] || fail "rping did $pings of 20 validated pings"
host_stop rping-server
log "rping: 20 validated 4 KiB pings"

# ib_read_lat: 4 KiB RDMA READs, connected with rdma_cm. perftest 4.5 on
# 6.12 sometimes fails to set up (seen: a crash inside librdmacm); that is
# the tool's, so it gets three tries, each logged.
for try in 1 2 3; do
	host_start 1 read-lat-server ib_read_lat -R -d "$(host_rxe 1)" -s 4096 -n 200 -p 7901 -F
	sleep 1
	out=$(timeout 120 ib_read_lat -R -d "$(local_rxe 1)" -s 4096 -n 200 -p 7901 -F "$(host_addr 1)" 2>&1)
	rc=$?
	host_stop read-lat-server
	[ $rc = 124 ] && fail "ib_read_lat hung for 120 s"
	[ $rc = 0 ] && break
	log "ib_read_lat try $try failed ($rc): $(echo "$out" | tail -n 2 | tr '\n' ' ')"
done
[ $rc = 0 ] || fail "ib_read_lat failed three times"
line=$(echo "$out" | awk '$1 == 4096 && $2 == 200')
[ -n "$line" ] || fail "ib_read_lat printed no result line: $(echo "$out" | tail -n 5)"
log "ib_read_lat 4096 B: $(echo "$line" | awk '{print "t_typical " $5 " us, t_99% " $8 " us"}')"

read -r tx1 rx1 < <(host_link_bytes 1)
# 20 x 4 KiB each way for rping (READ and WRITE), 200 x 4 KiB READ replies
# (at least; a failed try adds more).
moved=$(( (tx1 - tx0) + (rx1 - rx0) ))
need=$(( (20 * 2 + 200) * 4096 ))
log "veth dgh1 carried $((tx1 - tx0)) bytes out, $((rx1 - rx0)) bytes in"
[ "$moved" -ge "$need" ] || fail "only $moved bytes crossed the link, expected at least $need"

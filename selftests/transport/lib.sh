# SPDX-License-Identifier: GPL-2.0
# The in-kernel transport (disagg_net) against disagg-memd on a remote
# host, for one backend (sourced by rdma.sh and tcp.sh): connect with the
# versioned handshake, two-sided calls, page writes (synchronous and many
# asynchronous ones in flight) and reads checked byte for byte
# (disagg_net_test.ko does the kernel side), reconnecting by itself after
# the node is killed and restarted, and bounded failure when the node is
# unreachable.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

# transport_insmod ARGS...: load disagg_net_test, log its kernel lines.
transport_insmod() {
	local out rc
	dmesg -C
	out=$(timeout 240 insmod "$test" "$@" 2>&1)
	rc=$?
	dmesg | grep -E 'disagg_net' | sed 's/^/  kernel: /'
	[ $rc = 124 ] && fail "disagg_net_test hung"
	[ $rc = 0 ] || fail "disagg_net_test failed: $out"
	rmmod disagg_net_test
	return 0
}

transport_suite() { # rdma|tcp
	local tr=$1 start took rc out pid
	local memd=$DG_BINDIR/memd/disagg-memd
	[ -x "$memd" ] || fail "$memd not built (run 'make daemons')"
	net=$(dg_module disagg_net) || exit 1
	test=$(dg_module disagg_net_test) || exit 1

	dg_cleanup_push hosts_down
	dg_cleanup_push "rmmod disagg_net_test; rmmod disagg_net"
	if [ "$tr" = rdma ]; then
		hosts_up 1 || fail "cannot set up remote host 1"
	else
		hosts_up 1 --no-rxe || fail "cannot set up remote host 1"
	fi
	# insmod does not load what disagg_net needs (modprobe would).
	modprobe -a ib_core rdma_cm || fail "modprobe ib_core rdma_cm"
	insmod "$net" || fail "insmod disagg_net"

	host_start 1 memd "$memd" --listen "$(host_addr 1):7470" --transport "$tr" \
		--capacity 64M --slab-size 4M
	host_wait_log memd "listening on" || fail "disagg-memd did not start"

	# 1. A full round: 256 pages over 2 queues.
	transport_insmod transport="$tr" addr="$(host_addr 1):7470" \
		src="$(local_addr 1)" pages=256 queues=2
	dmesg | grep -q 'disagg_net_test: 256 pages written and read back intact' ||
		fail "no data check in the kernel log"
	dmesg | grep -q 'disagg_net_test: 256 pages read back asynchronously intact' ||
		fail "no asynchronous read check in the kernel log"
	dmesg | grep -q "disagg_net: net-test: connected over $tr" ||
		fail "no connect line in the kernel log"
	log "256 pages written (128 asynchronously) and read back (synchronously and asynchronously) over $tr"

	rout=$(mktemp)
	dg_cleanup_push "rm -f $rout"
	# 2. The node is killed and restarted: the connection comes back by
	# itself, says the node restarted, and works again.
	dmesg -C
	timeout 300 insmod "$test" transport="$tr" addr="$(host_addr 1):7470" \
		src="$(local_addr 1)" pages=64 queues=2 restart=1 \
		>"$rout" 2>&1 &
	pid=$!
	for ((t = 0; t < 600; t++)); do
		dmesg | grep -q 'waiting for the node to restart' && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	dmesg | grep -q 'waiting for the node to restart' ||
		fail "first round before the restart failed: $(cat "$rout")"
	kill -KILL "$(cat "$HOSTS_STATE/memd.pid")"
	rm -f "$HOSTS_STATE/memd.pid"
	sleep 1
	host_start 1 memd "$memd" --listen "$(host_addr 1):7470" --transport "$tr" \
		--capacity 64M --slab-size 4M
	host_wait_log memd "listening on" || fail "disagg-memd did not restart"
	wait $pid
	rc=$?
	dmesg | grep -E 'disagg_net' | sed 's/^/  kernel: /'
	[ $rc = 124 ] && fail "waiting for the reconnect hung"
	[ $rc = 0 ] || fail "reconnect round failed: $(cat "$rout")"
	dmesg | grep -q 'disagg_net_test: reconnected to the restarted node' ||
		fail "no reconnect line in the kernel log"
	[ "$(dmesg | grep -c 'pages written and read back intact')" = 2 ] ||
		fail "the round after the reconnect did not check its data"
	rmmod disagg_net_test
	log "memd killed and restarted: reconnected by itself, data checked again"

	# 3. Nothing listens on the port: refused quickly.
	start=$SECONDS
	out=$(timeout 60 insmod "$test" transport="$tr" addr="$(host_addr 1):7479" \
		src="$(local_addr 1)" timeout_ms=2000 2>&1)
	rc=$?
	[ $rc = 124 ] && fail "connecting to a closed port hung"
	[ $rc = 0 ] && fail "connecting to a closed port succeeded"
	log "closed port: refused in $((SECONDS - start)) s ($out)"

	# 4. An address nobody has: fails within the timeout (3 x 2 s + slack).
	start=$SECONDS
	out=$(timeout 60 insmod "$test" transport="$tr" addr="$DG_HOST_PREFIX.1.99:7470" \
		src="$(local_addr 1)" timeout_ms=2000 2>&1)
	rc=$?
	took=$((SECONDS - start))
	[ $rc = 124 ] && fail "connecting to an unreachable address hung"
	[ $rc = 0 ] && fail "connecting to an unreachable address succeeded"
	[ $took -le 15 ] || fail "unreachable address took $took s, timeout is 2 s"
	log "unreachable address: failed in $took s ($out)"

	# 5. Unload leaves nothing behind; memd sees every slab freed.
	rmmod disagg_net || fail "rmmod disagg_net"
	host_stop memd || fail "disagg-memd did not exit cleanly on SIGTERM"
}

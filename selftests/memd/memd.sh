#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disagg-memd on two remote hosts: over RDMA on host 1 and over TCP on host
# 2. On each, dg-memclient writes checksummed pages into slabs (RDMA WRITE or
# MEM_WRITE; over RDMA spread across 3 queue pairs in one protection domain,
# as the kernel client connects), reads them back (RDMA READ or MEM_READ)
# and verifies every byte; checks that keys and slab ids reach only their own slab (another
# connection's rkey, a guessed rkey, past the slab's end, a freed slab); that
# a client which vanishes and comes back with its client id gets its slabs
# back with their contents; that the node reports all capacity free after
# the clients leave; and that SIGTERM says BYE to a connected client, frees
# everything and exits 0. The daemon runs with keys: a client without a key,
# with a wrong secret or an unknown identity is refused; another identity
# presenting the same client id gets none of its slabs; STATUS shows a
# non-admin key nothing of other clients, the admin key everything.
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
. "$DG_SELFTESTS/lib/keys.sh"
dg_require_vm

MEMD=$DG_BINDIR/memd/disagg-memd
CLIENT=$DG_BINDIR/tools/dg-memclient
[ -x "$MEMD" ] && [ -x "$CLIENT" ] || skip "daemons not built (run 'make daemons')"
command -v rdma >/dev/null || skip "rdma (iproute2) not installed (run scripts/setup)"

PORT=7470
# Small for emulation: RDMA under TCG moves a 4 KiB page in ~150 us.
CAP=256M
SLAB=16M

dg_cleanup_push hosts_down
hosts_up 2 || fail "cannot set up remote hosts"
keys_setup || fail "cannot make the key file"
# The same identity with a wrong secret.
BADKEYS=$(mktemp /tmp/dg-badkeys.XXXXXX)
dg_cleanup_push "rm -f '$BADKEYS'"
chmod 600 "$BADKEYS"
echo "client $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$BADKEYS"

# wait_log NAME PATTERN [SECONDS]: until the daemon's log shows PATTERN.
wait_log() {
	local f=$HOSTS_LOGDIR/$1.log deadline=$((SECONDS + ${3:-10}))
	until grep -q -- "$2" "$f" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# anon I TRANSPORT ARGS...: dg-memclient against host I, without a key.
anon() {
	local i=$1 t=$2
	shift 2
	# Generous per-call timeout: under TCG, with other guests competing
	# for the host's CPUs, rxe retransmissions can stall for seconds.
	timeout 240 "$CLIENT" --connect "$(host_addr "$i"):$PORT" --bind "$(local_addr "$i")" \
		--transport "$t" --timeout 60 "$@"
}
# client I TRANSPORT ARGS...: the same as the identity "client".
client() {
	local i=$1 t=$2
	shift 2
	anon "$i" "$t" --key-file "$DG_KEYFILE" --identity client "$@"
}
# as NAME I TRANSPORT ARGS...: the same as the identity NAME.
as() {
	local who=$1 i=$2 t=$3
	shift 3
	anon "$i" "$t" --key-file "$DG_KEYFILE" --identity "$who" "$@"
}

# suite I TRANSPORT: every check against the memd on host I.
suite() {
	local i=$1 t=$2 name=memd-$2 out rc pid cpid id st
	# shellcheck disable=SC2086
	host_start "$i" "$name" "$MEMD" --listen "$(host_addr "$i"):$PORT" --transport "$t" \
		--capacity $CAP --slab-size $SLAB --grace 60 $DAEMON_KEYS
	wait_log "$name" "listening on" || fail "$name did not start"
	grep -q "authentication on: 3 keys" "$HOSTS_LOGDIR/$name.log" ||
		fail "$name did not load the keys"
	log "$name listening on $(host_addr "$i"):$PORT, with keys"

	# Who may not come in: no key, a wrong secret, an unknown identity.
	out=$(anon "$i" "$t" --slabs 1 --pages 8 2>&1) && fail "$t: a client without a key got in"
	echo "$out" | grep -q "Permission denied" || fail "$t: no key: $(echo "$out" | tail -n 2)"
	out=$(anon "$i" "$t" --key-file "$BADKEYS" --identity client --slabs 1 --pages 8 2>&1) &&
		fail "$t: a wrong secret got in"
	echo "$out" | grep -q "refused: Key was rejected" ||
		fail "$t: wrong secret: $(echo "$out" | tail -n 2)"
	grep -q 'authentication failed for identity "client"' "$HOSTS_LOGDIR/$name.log" ||
		fail "$t: the failed authentication was not logged"
	sed 's/^client /stranger /' "$BADKEYS" >"$BADKEYS.2" && chmod 600 "$BADKEYS.2" &&
		mv "$BADKEYS.2" "$BADKEYS"
	out=$(anon "$i" "$t" --key-file "$BADKEYS" --identity stranger --slabs 1 --pages 8 2>&1) &&
		fail "$t: an unknown identity got in"
	echo "$out" | grep -q "refused: Key was rejected" ||
		fail "$t: unknown identity: $(echo "$out" | tail -n 2)"
	sed 's/^stranger /client /' "$BADKEYS" >"$BADKEYS.2" && chmod 600 "$BADKEYS.2" &&
		mv "$BADKEYS.2" "$BADKEYS"
	log "$t: no key, a wrong secret and an unknown identity refused"

	# Data both ways, isolation, capacity free afterwards.
	out=$(client "$i" "$t" --slabs 3 --pages 192 --queues 3 --isolation --expect-all-free 2>&1)
	rc=$?
	echo "$out" | sed "s/^/  $t: /"
	[ $rc = 0 ] || fail "dg-memclient over $t failed ($rc)"
	echo "$out" | grep -q "node reports all" || fail "$t: capacity was not all free"
	if [ "$t" = rdma ]; then
		echo "$out" | grep -q "other client's rkey: ok" || fail "rdma: isolation not checked"
		grep -q "using device $(host_rxe "$i")" "$HOSTS_LOGDIR/$name.log" ||
			fail "memd did not use $(host_rxe "$i")"
	fi

	# A client that vanishes keeps its slabs for the grace period; coming
	# back with the same id it finds them, contents intact.
	id=$(printf '%x' $((0xd15a99 + i)))
	out=$(client "$i" "$t" --client-id "$id" --slabs 2 --pages 64 --seed 7 --keep 2>&1) ||
		fail "$t: run before the reconnect failed: $out"
	out=$(client "$i" "$t" --client-id "$id" --slabs 2 --pages 64 --seed 7 --expect-all-free 2>&1) ||
		fail "$t: run after the reconnect failed: $(echo "$out" | tail -n 5)"
	echo "$out" | grep -q "2 slabs resumed with their contents verified" ||
		fail "$t: slabs not resumed: $(echo "$out" | tail -n 5)"
	log "$t: reconnect within grace: 2 slabs resumed, contents verified, then freed"

	# Another identity with the same client id and tags gets fresh, zeroed
	# slabs, never the first one's; the first one still resumes its own.
	id=$(printf '%x' $((0xbad00 + i)))
	out=$(client "$i" "$t" --client-id "$id" --slabs 2 --pages 64 --seed 9 --keep 2>&1) ||
		fail "$t: run before the hijack failed: $out"
	out=$(as other "$i" "$t" --client-id "$id" --slabs 2 --pages 8 --seed 3 --keep 2>&1) ||
		fail "$t: the other identity's run failed: $(echo "$out" | tail -n 5)"
	echo "$out" | grep -q "slabs resumed" && fail "$t: another identity resumed the slabs"
	st=$(as other "$i" "$t" --status 2>&1) || fail "$t: status as other failed: $st"
	echo "$st" | grep -q '"identity":"client"' && fail "$t: status leaks identity client: $st"
	echo "$st" | grep -q '"auth":"on"' || fail "$t: status does not say auth is on: $st"
	st=$(as admin "$i" "$t" --status 2>&1) || fail "$t: status as admin failed: $st"
	echo "$st" | grep -q '"identity":"client"' || fail "$t: admin does not see client: $st"
	echo "$st" | grep -q '"identity":"other"' || fail "$t: admin does not see other: $st"
	out=$(client "$i" "$t" --client-id "$id" --slabs 2 --pages 64 --seed 9 2>&1) ||
		fail "$t: run after the hijack attempt failed: $(echo "$out" | tail -n 5)"
	echo "$out" | grep -q "2 slabs resumed with their contents verified" ||
		fail "$t: the owner lost its slabs: $(echo "$out" | tail -n 5)"
	out=$(as other "$i" "$t" --client-id "$id" --slabs 2 --pages 8 --seed 3 --expect-all-free 2>&1) ||
		fail "$t: the other identity's cleanup failed: $(echo "$out" | tail -n 5)"
	log "$t: same client id under another key: no takeover, no resume, no status leak"

	# SIGTERM: the connected client hears BYE; memd frees all, exits 0.
	client "$i" "$t" --slabs 1 --pages 8 --wait-bye 60 >"$HOSTS_LOGDIR/client-$t.out" 2>&1 &
	cpid=$!
	for ((n = 0; n < 100; n++)); do
		grep -q "waiting up to" "$HOSTS_LOGDIR/client-$t.out" && break
		sleep 0.2
	done
	grep -q "waiting up to" "$HOSTS_LOGDIR/client-$t.out" ||
		fail "$t: client did not get ready: $(cat "$HOSTS_LOGDIR/client-$t.out")"
	pid=$(cat "$HOSTS_STATE/$name.pid")
	rm -f "$HOSTS_STATE/$name.pid"
	kill -TERM "$pid"
	for ((n = 0; n < 100; n++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "$name ignored SIGTERM for 10 s"; }
	wait "$pid"
	rc=$?
	[ $rc = 0 ] || fail "$name exited $rc after SIGTERM"
	wait "$cpid" || fail "$t: client failed across shutdown: $(tail -n 5 "$HOSTS_LOGDIR/client-$t.out")"
	grep -q "node said bye" "$HOSTS_LOGDIR/client-$t.out" || fail "$t: client heard no bye"
	grep -q "freed 1 slabs (16 MiB); exiting" "$HOSTS_LOGDIR/$name.log" ||
		fail "$name did not free the client's slab on exit"
	if grep -E ': (error|warn): ' "$HOSTS_LOGDIR/$name.log" | grep -v 'closing$' | grep -q .; then
		fail "$name logged errors: $(grep -E ': (error|warn): ' "$HOSTS_LOGDIR/$name.log" | head -n 3)"
	fi
	log "$t: SIGTERM: client heard bye, memd freed everything and exited 0"
}

suite 1 rdma
suite 2 tcp
log "memd over rdma and tcp: all checks passed"

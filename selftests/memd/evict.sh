#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Eviction end to end without the kernel: disagg-memd with keys over RDMA
# (host 1) and TCP (host 2). A client (dg-memclient) writes checksummed
# pages into 3 slabs and vanishes (its slabs wait out --grace); a non-admin
# key may not resize the node (EPERM), the admin key may not pick a size
# that is not a slab multiple (EINVAL), then shrinks it to one slab
# (dg-memclient --resize). Over capacity, a new slab is refused (ENOSPC)
# and STATUS shows 2 slabs being evicted. The client comes back: it resumes
# its 3 slabs (contents verified), is asked for the 2 newest with MEM_EVICT
# (--answer-evict), reads each back intact before releasing it with
# MEM_FREE; memd frees them only then, is back within capacity, and at the
# end nothing is held or being evicted and memd logged no error.
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
. "$DG_SELFTESTS/lib/keys.sh"
dg_require_vm

MEMD=$DG_BINDIR/memd/disagg-memd
CLIENT=$DG_BINDIR/tools/dg-memclient
[ -x "$MEMD" ] && [ -x "$CLIENT" ] || skip "daemons not built (run 'make daemons')"
command -v rdma >/dev/null || skip "rdma (iproute2) not installed (run scripts/setup)"

PORT=7470
SLAB=16M

dg_cleanup_push hosts_down
hosts_up 2 || fail "cannot set up remote hosts"
keys_setup || fail "cannot make the key file"

# as NAME I TRANSPORT ARGS...: dg-memclient against host I as key NAME.
as() {
	local who=$1 i=$2 t=$3
	shift 3
	timeout 240 "$CLIENT" --connect "$(host_addr "$i"):$PORT" --bind "$(local_addr "$i")" \
		--transport "$t" --timeout 60 --key-file "$DG_KEYFILE" --identity "$who" "$@"
}

# suite I TRANSPORT
suite() {
	local i=$1 t=$2 name=evict-$2 out st id
	id=$(printf '%x' $((0xe71c7 + i)))
	# shellcheck disable=SC2086
	host_start "$i" "$name" "$MEMD" --listen "$(host_addr "$i"):$PORT" --transport "$t" \
		--capacity 64M --slab-size $SLAB --grace 120 --evict-grace 5 $DAEMON_KEYS
	host_wait_log "$name" "listening on" 10 || fail "$name did not start"

	out=$(as client "$i" "$t" --client-id "$id" --slabs 3 --pages 32 --seed 5 --keep 2>&1) ||
		fail "$t: first run failed: $(echo "$out" | tail -n 3)"

	out=$(as client "$i" "$t" --resize $SLAB 2>&1) && fail "$t: a non-admin key resized"
	echo "$out" | grep -q "Operation not permitted" || fail "$t: non-admin resize: $out"
	out=$(as admin "$i" "$t" --resize 24M 2>&1) && fail "$t: 24M (not a slab multiple) taken"
	echo "$out" | grep -q "Invalid argument" || fail "$t: unaligned resize: $out"
	out=$(as admin "$i" "$t" --resize $SLAB 2>&1) || fail "$t: resize to $SLAB: $out"
	log "$t: non-admin resize EPERM, unaligned EINVAL, admin shrank the node to one slab"

	out=$(as other "$i" "$t" --slabs 1 --pages 8 2>&1) && fail "$t: a slab handed out over capacity"
	echo "$out" | grep -q "No space left on device" || fail "$t: over capacity: $out"
	st=$(as admin "$i" "$t" --status 2>&1) || fail "$t: status: $st"
	echo "$st" | grep -q '"capacity":16777216,"free":0,"used":50331648,' ||
		fail "$t: status after the shrink: $st"
	echo "$st" | grep -q '"evicting":2,' || fail "$t: 2 slabs not being evicted: $st"
	log "$t: over capacity: ENOSPC for new slabs, STATUS shows 2 slabs being evicted"

	out=$(as client "$i" "$t" --client-id "$id" --slabs 3 --pages 32 --seed 5 \
		--answer-evict 2 --evict-wait 120 --expect-all-free 2>&1)
	echo "$out" | sed "s/^/  $t: /"
	echo "$out" | grep -q "^PASS$" || fail "$t: the evicted client failed"
	echo "$out" | grep -q "3 slabs resumed with their contents verified" ||
		fail "$t: slabs not resumed"
	[ "$(echo "$out" | grep -c 'MEM_EVICT of slab .* (tag [12]): pages verified, released')" = 2 ] ||
		fail "$t: the two newest slabs were not evicted"
	grep -q "within capacity again: 16 of 16 MiB used" "$HOSTS_LOGDIR/$name.log" ||
		fail "$t: memd did not get back within capacity"
	[ "$(grep -c 'released slab .* after MEM_EVICT' "$HOSTS_LOGDIR/$name.log")" = 2 ] ||
		fail "$t: memd did not log 2 releases"
	st=$(as admin "$i" "$t" --status 2>&1) || fail "$t: status: $st"
	echo "$st" | grep -q '"used":0,.*"evicting":0,' || fail "$t: status at the end: $st"
	if grep -E ': (error|warn): ' "$HOSTS_LOGDIR/$name.log" |
		grep -v -e 'closing$' -e 'MEM_RESIZE.*refused' | grep -q .; then
		fail "$name logged errors: $(grep -E ': (error|warn): ' "$HOSTS_LOGDIR/$name.log" | head -n 3)"
	fi
	log "$t: MEM_EVICT of the 2 newest slabs, data intact until MEM_FREE, node within capacity"
	host_stop "$name" || fail "$name did not stop on SIGTERM"
}

suite 1 rdma
suite 2 tcp
log "eviction over rdma and tcp: all checks passed"

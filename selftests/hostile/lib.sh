# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the hostile-node selftests (after lib/common.sh).
#
#   hostile_start I NAME ROLE PORT BAD [ARGS...]  dg-hostile on host I, daemon
#                                NAME, exiting after BAD malformed replies
#   hostile_pid NAME             its process id
#   hostile_wait NAME SECONDS    wait for it to exit (SIGTERM after SECONDS)
#   hostile_count NAME           malformed replies it reported
#   HOSTILE, HAMMER              paths of the programs
#   HOSTILE_SEED                 the schedule's seed ($DG_HOSTILE_SEED, or
#                                one drawn now and printed)
#
# DG_HOSTILE_FULL=1 runs more bad replies (see each test).

HOSTILE=$DG_BINDIR/tools/dg-hostile
HAMMER=$DG_PROJ/build/selftests/hammer
HOSTILE_SEED=${DG_HOSTILE_SEED:-$((RANDOM * 32768 + RANDOM))}

hostile_start() { # i name role port bad [args...]
	local i=$1 name=$2 role=$3 port=$4 bad=$5
	shift 5
	host_start "$i" "$name" "$HOSTILE" --listen "$(host_addr "$i"):$port" \
		--role "$role" --seed "$HOSTILE_SEED" --max-bad "$bad" "$@"
	host_wait_log "$name" "listening on" 10 || fail "dg-hostile ($name) did not start"
}

hostile_pid() { cat "$HOSTS_STATE/$1.pid"; }

hostile_wait() { # name seconds
	local pid end=$((SECONDS + $2))
	pid=$(hostile_pid "$1") || return 1
	# By the clock: each sleep(1) costs a good part of a second here.
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do
		sleep 0.2
	done
	host_stop "$1"
}

# hostile_phase NAME WHAT SECS HAMMER-ARGS...: run hammer against dg-hostile
# NAME until it exits (or SECS), stop it, print and add up its counts.
HOSTILE_TOTAL=0
hostile_phase() {
	local name=$1 what=$2 secs=$3 rc n t0=$SECONDS
	shift 3
	"$HAMMER" "$@" "$secs" "$(hostile_pid "$name")" &
	local hp=$! end=$((SECONDS + secs + 60))
	while kill -0 $hp 2>/dev/null && ((SECONDS < end)); do
		sleep 0.5
	done
	if kill -0 $hp 2>/dev/null; then
		echo "$what: hammer stuck for $((SECONDS - t0)) s in:"
		cat /proc/$hp/stack
		echo w >/proc/sysrq-trigger
		dmesg | tail -n 60
		kill -9 $hp
		fail "$what: I/O hung"
	fi
	wait $hp
	rc=$?
	[ $rc = 0 ] || fail "$what: hammer failed ($rc)"
	hostile_wait "$name" 5
	hostile_report "$name"
	n=$(hostile_count "$name")
	log "$what: ${n:-0} bad replies in $((SECONDS - t0)) s"
	HOSTILE_TOTAL=$((HOSTILE_TOTAL + ${n:-0}))
}

hostile_count() { # name
	sed -n 's/^dg-hostile: malformed \([0-9]*\) .*/\1/p' "$HOSTS_LOGDIR/$1.log" | tail -n 1
}

hostile_report() { # name
	grep '^dg-hostile: \(malformed\|by mode\)' "$HOSTS_LOGDIR/$1.log"
}

[ -x "$HOSTILE" ] || skip "dg-hostile not built (run 'make daemons')"
[ -x "$HAMMER" ] || skip "hammer not built (run 'make selftests')"

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side helpers of the benchmarks that boot a guest (scripts/bench-swap,
# scripts/bench-swap-apps). Under TCG anything else on the machine, another
# guest above all, skews every number: these wait for a quiet machine and
# record how quiet it was.
#
#   bench_wait_quiet NAME       wait (up to 30 min) until, for 30 s in a row,
#                               no QEMU has run and the 1-minute load average
#                               stayed under half the CPUs; warn if another
#                               QEMU runs now
#   bench_sampler_start FILE    every 10 s append "time load qemu-processes"
#   bench_sampler_stop
#   bench_host_line FILE CPUS   the table's "host:" line from such a FILE

_bench_busy() {
	pgrep qemu-system >/dev/null ||
		awk -v n="$(nproc)" '{ exit !($1 >= n / 2) }' /proc/loadavg
}

bench_wait_quiet() { # name
	local quiet=0 deadline=$((SECONDS + 1800))
	_bench_busy && echo "$1: waiting (up to 30 min) for the machine to be quiet" >&2
	while [ $quiet -lt 30 ] && [ $SECONDS -lt $deadline ]; do
		if _bench_busy; then quiet=0; else quiet=$((quiet + 5)); fi
		[ $quiet -lt 30 ] && sleep 5
	done
	[ $quiet -ge 30 ] || echo "$1: WARNING: the machine did not get quiet in 30 minutes; running anyway" >&2
	return 0
}

bench_warn_qemu() { # name
	if pgrep qemu-system >/dev/null; then
		echo "$1: WARNING: another QEMU is running on this machine; it will skew the numbers (--wait-quiet waits for it)" >&2
	fi
	return 0
}

BENCH_SAMPLER=
bench_sampler_start() { # file
	( while :; do
		printf '%s %s %s\n' "$(date +%s)" "$(cut -d' ' -f1 /proc/loadavg)" \
			"$(pgrep -c qemu-system || true)"
		sleep 10
	done ) >"$1" 2>/dev/null </dev/null &
	BENCH_SAMPLER=$!
}

bench_sampler_stop() {
	[ -n "$BENCH_SAMPLER" ] || return 0
	pkill -P "$BENCH_SAMPLER" 2>/dev/null || true
	kill "$BENCH_SAMPLER" 2>/dev/null || true
	wait "$BENCH_SAMPLER" 2>/dev/null || true
	BENCH_SAMPLER=
}

bench_host_line() { # file cpus
	[ -s "$1" ] || return 0
	# Our own guest is one QEMU; a sample with more saw another.
	awk -v cpus="${2:-?}" '{ n++; if ($3 > 1) busy++; if ($2 > max) max = $2 }
		END { printf "host:    %s CPUs, load average up to %s; other QEMU guests running in %d of %d samples%s\n",
			cpus, max, busy, n, busy ? " (NUMBERS SKEWED: rerun on a quiet machine)" : "" }' "$1"
}

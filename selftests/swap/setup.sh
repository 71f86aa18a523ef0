# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the swap selftests: two memory nodes (disagg-memd over RDMA on
# remote hosts 1 and 2; SWAP_NODES=3 for three), disagg_net and disagg_swap
# loaded, every node added (m1, m2, ...).
#
#   swap_setup [MEMD_CAPACITY]   everything above; fails the test on error
#   swap_fill                    swap_setup 128M, then 32 MiB of random data
#                                written to a 48 MiB dswap0 (a copy in
#                                $SWAP_DIR/data); skips unless both nodes
#                                got slabs. Heartbeats every second and
#                                reconnect attempts at least every 500 ms,
#                                for the tests of failing nodes.
#   swap_node_stat NAME          the node's stat line
#   swap_node_add I              add host I's memd as node mI
#   swap_memd_start I [CAP]      (re)start disagg-memd on host I and wait
#                                until it listens (CAP: swap_setup's)
#   swap_memd_kill I             SIGKILL it
#   swap_memd_status I           its STATUS JSON, as the admin key
#   swap_memd_field I FIELD      one number of it ("used", "capacity")
#   swap_remote_stat N           column N (1-based) of remote_stat
#   swap_wait SECONDS CMD...     retry CMD every 0.2 s; fails when it never held
#                                (CMD runs anew each time: a function, not
#                                "test $(...)", which is expanded only once)
#   swap_workload_start MIB LIM  swapon, then memcheck on MIB MiB in a memory
#                                cgroup of LIM MiB, passes going on until
#                                swap_workload_stop (its output in
#                                $SWAP_DIR/memcheck.out); returns once 3/4 of
#                                MIB - LIM MiB went to swap
#   swap_workload_stop           let memcheck finish its pass; fails the test
#                                unless it exited 0 with no bad page and the
#                                kernel killed no process
#   swap_require ATTR...         fails the test unless dswap0 has these sysfs files
#   swap_state / swap_degraded   dswap0's state and degraded_slabs
#   swap_now / swap_since T      seconds (with decimals); seconds since T
#   swap_no_kills                fails the test if the kernel log shows an
#                                OOM kill or a process killed by a signal
#   MEMD                         path of disagg-memd
#   SWAP_NODE_OPTS               more options for the memory nodes' "add"
#                                line (e.g. timeout_ms=2000)
#
# The daemons run with the key file of selftests/lib/keys.sh and the nodes
# are added with key=client: every swap test authenticates.

MEMD=$DG_BINDIR/memd/disagg-memd

# A failing swap test shows what the kernel said about it.
fail() {
	echo "FAIL: $*"
	if [ -n "${SWAP_WL_PID:-}" ] && [ -d "/proc/$SWAP_WL_PID" ]; then
		echo "memcheck (pid $SWAP_WL_PID): $(grep State: "/proc/$SWAP_WL_PID/status")," \
			"wchan $(cat "/proc/$SWAP_WL_PID/wchan" 2>/dev/null)"
		sed 's/^/  /' "/proc/$SWAP_WL_PID/stack" 2>/dev/null
	fi
	[ -r /sys/block/dswap0/remote_stat ] &&
		echo "remote_stat: $(cat /sys/block/dswap0/remote_stat); state $(cat /sys/block/dswap0/state 2>/dev/null)"
	echo "kernel log, last disagg lines (repeats counted):"
	dmesg | grep -E 'disagg|dswap|memory node|fatal signal|Out of memory|Killed process' |
		grep -v 'callbacks suppressed' | sed 's/^\[[ 0-9.]*\] //' |
		awk '/reconnect attempt/ && r++ >= 2 { next } { print }' | uniq -c |
		tail -n 40 | sed 's/^/  /'
	hosts_dump_logs
	exit 1
}
SWAP_SLAB=${SWAP_SLAB:-4M}
SWAP_QUEUES=${SWAP_QUEUES:-1}
SWAP_NODE_OPTS=${SWAP_NODE_OPTS:-}
SWAP_NODES=${SWAP_NODES:-2}
SWAP_CAP=256M
MEMCHECK=$DG_PROJ/build/selftests/memcheck
MEMCLIENT=$DG_BINDIR/tools/dg-memclient

swap_teardown() {
	local n
	swapoff /dev/dswap0 2>/dev/null
	echo 1 >/sys/block/dswap0/reset 2>/dev/null
	for n in /sys/kernel/disagg/memory_nodes/*/; do
		n=$(basename "$n")
		echo "$n force" >/sys/kernel/disagg/memory_nodes/remove 2>/dev/null
	done
	rmmod disagg_swap 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}

swap_memd_start() {
	local i=$1 cap=${2:-$SWAP_CAP}
	host_start "$i" "memd$i" "$MEMD" --listen "$(host_addr "$i"):7470" \
		--transport rdma --capacity "$cap" --slab-size "$SWAP_SLAB" $DAEMON_KEYS
	host_wait_log "memd$i" "listening on" || fail "disagg-memd on host $i did not start"
}

swap_memd_kill() {
	local f=$HOSTS_STATE/memd$1.pid
	[ -f "$f" ] || fail "no disagg-memd runs on host $1"
	kill -KILL "$(cat "$f")" || fail "cannot kill disagg-memd on host $1"
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

swap_memd_status() {
	timeout 30 "$MEMCLIENT" --connect "$(host_addr "$1"):7470" --transport rdma \
		--bind "$(local_addr "$1")" --key-file "$DG_KEYFILE" --identity admin --status
}

swap_memd_field() {
	# The node's own field comes first, before any per-identity one.
	swap_memd_status "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}

swap_setup() {
	local cap=${1:-256M} i
	[ -x "$MEMD" ] || fail "$MEMD not built (run 'make daemons')"
	SWAP_CAP=$cap
	dg_cleanup_push swap_teardown
	keys_setup || fail "cannot make the test keys"
	keys_kernel client || fail "cannot add the kernel key"
	hosts_up "$SWAP_NODES" || fail "cannot set up the remote hosts"
	insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
	insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
	for ((i = 1; i <= SWAP_NODES; i++)); do
		host_start "$i" "memd$i" "$MEMD" --listen "$(host_addr "$i"):7470" \
			--transport rdma --capacity "$cap" --slab-size "$SWAP_SLAB" $DAEMON_KEYS
	done
	for ((i = 1; i <= SWAP_NODES; i++)); do
		host_wait_log "memd$i" "listening on" || fail "disagg-memd on host $i did not start"
	done
	for ((i = 1; i <= SWAP_NODES; i++)); do
		swap_node_add "$i"
	done
	echo "$SWAP_SLAB" >/sys/block/dswap0/slab_size || fail "setting slab_size"
}

swap_node_add() {
	echo "name=m$1 transport=rdma addr=$(host_addr "$1") port=7470 src=$(local_addr "$1") queues=$SWAP_QUEUES key=client $SWAP_NODE_OPTS" \
		>/sys/kernel/disagg/memory_nodes/add || fail "adding memory node m$1 failed"
	[ "$(cat "/sys/kernel/disagg/memory_nodes/m$1/state")" = up ] ||
		fail "memory node m$1 is not up"
}

swap_fill() {
	local n s
	swap_setup 128M
	echo 48M >/sys/block/dswap0/disksize || fail "disksize"
	echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
	echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"
	SWAP_DIR=$(mktemp -d)
	dg_cleanup_push "rm -rf $SWAP_DIR"
	head -c 32M /dev/urandom >"$SWAP_DIR/data"
	dd if="$SWAP_DIR/data" of=/dev/dswap0 bs=1M oflag=direct status=none ||
		fail "writing 32 MiB"
	for n in m1 m2; do
		read -r s _ < <(swap_node_stat $n)
		log "node $n holds $s slabs"
		[ "$s" -gt 0 ] || skip "all slabs landed on one node; nothing to compare"
	done
}

swap_node_stat() {
	cat "/sys/kernel/disagg/memory_nodes/$1/stat"
}

swap_remote_stat() {
	awk -v c="$1" '{ print $c }' /sys/block/dswap0/remote_stat
}

swap_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

swap_no_kills() {
	local k
	k=$(dmesg | grep -E 'Out of memory|oom-kill|Killed process|invoked oom-killer|potentially unexpected fatal signal|memcheck.*(segfault|bus error)' | head -n 5)
	[ -z "$k" ] || fail "the kernel killed a process: $k"
}

# The number of KiB of /dev/dswap0 in use as swap (no program started:
# it is polled every 0.2 s).
_swap_used_kb() {
	local dev type size used _
	while read -r dev type size used _; do
		[ "$dev" = /dev/dswap0 ] && { echo "$used"; return; }
	done </proc/swaps
}

swap_workload_start() {
	local mib=$1 lim=$2 cg=/sys/fs/cgroup/dswap-test t used
	[ -x "$MEMCHECK" ] || fail "$MEMCHECK not built (run 'make selftests')"
	[ -n "${SWAP_DIR:-}" ] || { SWAP_DIR=$(mktemp -d); dg_cleanup_push "rm -rf $SWAP_DIR"; }
	# zswap would keep pages in RAM, in front of us.
	[ -w /sys/module/zswap/parameters/enabled ] && echo N >/sys/module/zswap/parameters/enabled
	mkswap /dev/dswap0 >/dev/null || fail "mkswap"
	swapon -p 100 /dev/dswap0 || fail "swapon"
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
	mkdir -p "$cg" && echo "${lim}M" >"$cg/memory.max" || fail "cgroup set-up"
	dg_cleanup_push "rmdir $cg"
	rm -f "$SWAP_DIR/stop"
	# A process that dies of SIGBUS or SIGSEGV (a failed swap-in) leaves a line.
	echo 1 >/proc/sys/kernel/print-fatal-signals
	(echo "$BASHPID" >"$cg/cgroup.procs" &&
		exec "$MEMCHECK" -p 1 --until "$SWAP_DIR/stop" "$mib") >"$SWAP_DIR/memcheck.out" 2>&1 &
	SWAP_WL_PID=$!
	SWAP_WL_MIB=$mib
	# Before swap_teardown's swapoff: gone, or swapoff cannot finish.
	dg_cleanup_push "kill -KILL $SWAP_WL_PID; swap_wait 10 eval '! kill -0 $SWAP_WL_PID'"
	t=$SECONDS
	for ((;;)); do
		used=$(_swap_used_kb)
		[ "${used:-0}" -ge $(( (mib - lim) * 768 )) ] && break
		kill -0 "$SWAP_WL_PID" 2>/dev/null ||
			{ cat "$SWAP_DIR/memcheck.out"; fail "memcheck ended while filling its memory"; }
		((SECONDS - t < 300)) || fail "memcheck did not fill $mib MiB in 300 s"
		sleep 0.2
	done
	log "memcheck: $mib MiB under a $lim MiB limit, $((used / 1024)) MiB in swap after $((SECONDS - t)) s"
}

swap_workload_stop() {
	local rc t
	touch "$SWAP_DIR/stop"
	t=$SECONDS
	# A pass takes a while at the speed of emulated RDMA.
	for ((;;)); do
		kill -0 "$SWAP_WL_PID" 2>/dev/null || break
		((SECONDS - t < 300)) || fail "memcheck did not finish its pass in 300 s"
		sleep 0.2
	done
	wait "$SWAP_WL_PID"
	rc=$?
	sed 's/^/  /' "$SWAP_DIR/memcheck.out"
	swap_no_kills
	[ $rc -lt 128 ] || fail "memcheck was killed by signal $((rc - 128))"
	[ $rc = 0 ] || fail "memcheck found wrong data (exit $rc)"
	grep -q ' 0 bad pages, 0 bad words$' "$SWAP_DIR/memcheck.out" ||
		fail "memcheck did not report a clean summary"
	log "memcheck: every page of $SWAP_WL_MIB MiB intact in every pass ($(grep -c 'done at' "$SWAP_DIR/memcheck.out") passes)"
}

swap_require() {
	local a
	for a in "$@"; do
		[ -e "/sys/block/dswap0/$a" ] ||
			fail "/sys/block/dswap0/$a is missing: this disagg_swap lacks the feature under test"
	done
}

swap_state() { cat /sys/block/dswap0/state; }
swap_degraded() { cat /sys/block/dswap0/degraded_slabs; }
swap_now() { echo "$EPOCHREALTIME"; }
swap_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

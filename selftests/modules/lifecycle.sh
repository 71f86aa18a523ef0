#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The whole life of the modules, over and over, leaves nothing behind.
#
# Refusals: rmmod disagg_swap while a dswap device is swapped on, and
# rmmod disaggfs while a mount is live, fail with "in use" and everything
# works afterwards; after the cycles, rmmod disagg_swap while a memory
# node is added (nothing else in use) fails too (an added node holds a
# module reference).
#
# A cycle: load disagg_net, disagg_swap and disaggfs; add a memory node
# (disagg-memd on host 1 over RDMA, with a key), set disksize, mkswap,
# swapon, and run memcheck under a cgroup memory.max a third of its
# working set so it really swaps (every byte checked); swapoff, reset,
# remove the node; mount disagg-stord's export (host 2, TCP, with a key),
# write files, read them back after dropping caches and on the node, byte
# for byte; umount; rmmod all three.
#
# A first cycle (0) warms up and checks the refusals; then the counted
# cycles. Before the first counted cycle and after the last, with the
# daemons running:
#   - /proc/slabinfo (after shrinking every cache, so per-CPU slabs do not
#     hide frees): caches of our own (disagg*, dg_*) absent both times;
#     rdma, ib and rxe caches exactly back; kmalloc-* within a small slack
#     (other kernel users allocate from them meanwhile: the journal-less
#     tmpfs, sysfs, the cgroup, TCP TIME_WAIT buckets, the log)
#   - /sys/module/*/refcnt of every module loaded before: exactly back
#   - disagg-memd STATUS (admin key): all capacity free, as many clients
#     (the STATUS connection itself) as before; disagg-stord likewise
#   - TCP sockets to the daemons' ports (not TIME_WAIT, not listening): 0
#   - `rdma resource show qp`: as many queue pairs as before
# Booted with slub_debug=U for kmalloc caches (DG_VM_APPEND), a kmalloc
# difference is followed by the allocation sites that hold more objects.
#
# Cycles: DG_LIFECYCLE_CYCLES (default 2); DG_LONG=1 makes it 100 (hours
# under TCG: run this file directly, not through run_tests, whose
# timeout for selftests/modules is for make check).
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

cycles=${DG_LIFECYCLE_CYCLES:-2}
[ "${DG_LONG:-0}" = 1 ] && cycles=${DG_LIFECYCLE_CYCLES:-100}
[[ $cycles =~ ^[1-9][0-9]*$ ]] || fail "bad DG_LIFECYCLE_CYCLES '$cycles'"

memcheck=$DG_PROJ/build/selftests/memcheck
memclient=$DG_BINDIR/tools/dg-memclient
fsclient=$DG_BINDIR/tools/dg-fsclient
memd=$DG_BINDIR/memd/disagg-memd
stord=$DG_BINDIR/stord/disagg-stord
for p in "$memcheck" "$memclient" "$fsclient" "$memd" "$stord"; do
	[ -x "$p" ] || fail "$p not built (run 'make daemons selftests')"
done
command -v jq >/dev/null || skip "jq not installed (run scripts/setup)"
net=$(dg_module disagg_net) || exit 1
swap=$(dg_module disagg_swap) || exit 1
fs=$(dg_module disaggfs) || exit 1

MEMD_PORT=7470
STORD_PORT=7471
LIMIT_MB=8
WSET_MB=24
mnt=/mnt/dg-lifecycle
cg=/sys/fs/cgroup/dg-lifecycle
work=$(mktemp -d)
exp_dir=$work/export

teardown() {
	swapoff /dev/dswap0 2>/dev/null
	echo 1 >/sys/block/dswap0/reset 2>/dev/null
	echo "m1 force" >/sys/kernel/disagg/memory_nodes/remove 2>/dev/null
	echo m1 >/sys/kernel/disagg/memory_nodes/remove 2>/dev/null
	umount -f "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	rmmod disaggfs 2>/dev/null
	rmmod disagg_swap 2>/dev/null
	rmmod disagg_net 2>/dev/null
	rmdir "$cg" 2>/dev/null
	hosts_down
	rm -rf "$work"
}
dg_cleanup_push teardown

keys_setup || fail "cannot make the test keys"
keys_kernel client || fail "cannot add the kernel key"
hosts_up 2 || fail "cannot set up the remote hosts"
# disagg_net needs the RDMA core; loaded now, so it is in the baseline.
modprobe -a ib_core rdma_cm || fail "modprobe ib_core rdma_cm"
[ -w /sys/module/zswap/parameters/enabled ] &&
	echo N >/sys/module/zswap/parameters/enabled	# zswap would keep pages in RAM
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p "$cg" "$exp_dir" "$mnt" || fail "cannot make $cg, $exp_dir, $mnt"
echo "${LIMIT_MB}M" >"$cg/memory.max" || fail "cgroup memory.max"

host_start 1 memd "$memd" --listen "$(host_addr 1):$MEMD_PORT" --transport rdma \
	--capacity 64M --slab-size 4M $DAEMON_KEYS
host_start 2 stord "$stord" --listen "$(host_addr 2):$STORD_PORT" --transport tcp \
	--root "$exp_dir" --squash none $DAEMON_KEYS
host_wait_log memd "listening on" || fail "disagg-memd did not start"
host_wait_log stord "listening" || fail "disagg-stord did not start"

memd_status() {
	timeout 60 "$memclient" --connect "$(host_addr 1):$MEMD_PORT" --transport rdma \
		--bind "$(local_addr 1)" --key-file "$DG_KEYFILE" --identity admin --status
}

# dg-fsclient prints the JSON as 'data: N bytes: "..."' with \xHH escapes.
stord_status() {
	local out
	out=$(timeout 60 "$fsclient" --connect "$(host_addr 2):$STORD_PORT" --transport tcp \
		--bind "$(local_addr 2)" --key-file "$DG_KEYFILE" --identity admin status) ||
		{ echo "$out"; return 1; }
	out=$(sed -n 's/^data: [0-9]* bytes: "\(.*\)"$/\1/p' <<<"$out")
	printf '%b\n' "$out"
}

# Open TCP connections to or from the daemons' ports.
daemon_sockets() {
	ss -Htan exclude time-wait exclude listening \
		"( sport = :$MEMD_PORT or dport = :$MEMD_PORT or sport = :$STORD_PORT or dport = :$STORD_PORT )" |
		wc -l
}

qp_count() {
	rdma resource show qp 2>/dev/null | grep -c 'lqpn'
}

# The caches worth comparing, "name active_objs objperslab" (after a shrink).
slab_snapshot() {
	local f
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
	awk 'NR > 2 && $1 ~ /^(kmalloc-|disagg|dg_|rxe|ib_|rdma|iw_|uverbs)/ { print $1, $2, $5 }' \
		/proc/slabinfo | sort
}

# With slub_debug=U (scripts/vm: DG_VM_APPEND=slub_debug=U,kmalloc-*), who
# holds each kmalloc cache's objects: "count callsite" lines, to name the
# allocation site of a difference.
slab_traces() { # dir
	local f n
	[ -d /sys/kernel/debug/slab ] ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for f in /sys/kernel/debug/slab/kmalloc-*/alloc_traces; do
		[ -r "$f" ] || continue
		n=${f%/alloc_traces}
		n=${n##*/}
		awk -v c="$n" '$1 ~ /^[0-9]+$/ { sub(/\+.*/, "", $2); n[c "/" $2] += $1 }
			       END { for (k in n) print k, n[k] }' "$f"
	done | sort >"$1/traces"
	[ -s "$1/traces" ]
}

modrefs() {
	local m
	for m in /sys/module/*/refcnt; do
		m=${m%/refcnt}
		echo "${m##*/} $(cat "$m/refcnt")"
	done | sort
}

cycle() { # number
	local c=$1
	insmod "$net" && insmod "$swap" && insmod "$fs" || fail "cycle $c: insmod"
	swap_phase "$c"
	fs_phase "$c"
	rmmod disaggfs && rmmod disagg_swap && rmmod disagg_net || fail "cycle $c: rmmod"
	lsmod | grep -q '^disagg' && fail "cycle $c: modules left loaded: $(lsmod | grep '^disagg')"
	if [ "$c" -le 2 ] || [ "$c" = "$cycles" ] || ! ((c % 10)); then
		log "cycle $c done at $((SECONDS - ${start:-$SECONDS})) s: $SWAP_LOG; files verified"
	fi
}

# Everything we compare, into directory $1.
snapshot() {
	local d=$1 s
	mkdir -p "$d"
	slab_snapshot >"$d/slab"
	modrefs >"$d/refcnt"
	s=$(memd_status) || fail "disagg-memd STATUS failed: $s"
	echo "$s" >"$d/memd.json"
	s=$(stord_status) || fail "disagg-stord STATUS failed: $s"
	echo "$s" >"$d/stord.json"
	daemon_sockets >"$d/sockets"
	slab_traces "$d"
	if command -v rdma >/dev/null && rdma resource show qp >/dev/null 2>&1; then
		qp_count >"$d/qps"
	else
		echo "no rdma tool" >"$d/qps"
	fi
}

# rmmod $1 must fail because the module is in use; $2 says by what.
refused_in_use() {
	local out
	out=$(rmmod "$1" 2>&1) && fail "rmmod $1 succeeded while $2"
	[[ $out == *"in use"* ]] || fail "rmmod $1 while $2: '$out', expected 'in use'"
	[ -d "/sys/module/$1" ] || fail "$1 gone after a refused rmmod"
	log "rmmod $1 while $2: refused ($out)"
}

swap_phase() { # cycle
	local c=$1 reads writes fr fw
	echo "name=m1 transport=rdma addr=$(host_addr 1) port=$MEMD_PORT src=$(local_addr 1) queues=1 key=client" \
		>/sys/kernel/disagg/memory_nodes/add || fail "cycle $c: adding memory node m1"
	[ "$(cat /sys/kernel/disagg/memory_nodes/m1/state)" = up ] ||
		fail "cycle $c: memory node m1 is not up"
	echo 4M >/sys/block/dswap0/slab_size || fail "cycle $c: slab_size"
	# Odd cycles swap in the zram way (synchronous), even ones through
	# the swap cache (the default): both paths load, work and unload.
	echo $((c % 2)) >/sys/block/dswap0/synchronous || fail "cycle $c: synchronous"
	echo 48M >/sys/block/dswap0/disksize || fail "cycle $c: disksize"
	mkswap /dev/dswap0 >/dev/null || fail "cycle $c: mkswap"
	swapon -p 100 /dev/dswap0 || fail "cycle $c: swapon"
	[ "$c" = 0 ] && refused_in_use disagg_swap "/dev/dswap0 is swapped on"

	(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$memcheck" -p 1 -s "$c" "$WSET_MB") ||
		fail "cycle $c: memcheck under memory.max ${LIMIT_MB}M failed ($?)"
	read -r reads writes _ fr fw _ </sys/block/dswap0/remote_stat
	[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "cycle $c: failed remote I/O ($fr reads, $fw writes)"
	[ "$writes" -ge $(( (WSET_MB - LIMIT_MB) * 256 )) ] && [ "$reads" -gt 0 ] ||
		fail "cycle $c: only $writes pages swapped out and $reads in"
	timeout 120 swapoff /dev/dswap0 || fail "cycle $c: swapoff"
	echo 1 >/sys/block/dswap0/reset || fail "cycle $c: reset"
	echo m1 >/sys/kernel/disagg/memory_nodes/remove || fail "cycle $c: removing m1"
	for ((t = 0; t < 100; t++)); do
		[ -e /sys/kernel/disagg/memory_nodes/m1 ] || break
		sleep 0.1
	done
	[ -e /sys/kernel/disagg/memory_nodes/m1 ] && fail "cycle $c: node m1 still there after remove"
	SWAP_LOG="memcheck ${WSET_MB} MiB under ${LIMIT_MB} MiB: $writes pages out, $reads in"
}

fs_phase() { # cycle
	local c=$1 f
	mount -t disaggfs "$(host_addr 2):$STORD_PORT" "$mnt" \
		-o "transport=tcp,src=$(local_addr 2),key=client" || fail "cycle $c: mount"
	[ "$c" = 0 ] && refused_in_use disaggfs "$mnt is mounted"
	head -c $((1 << 20)) /dev/urandom >"$work/a"
	head -c 12345 /dev/urandom >"$work/b"
	cp "$work/a" "$mnt/a" && cp "$work/b" "$mnt/b" || fail "cycle $c: writing files"
	head -c 10000 /dev/urandom >"$work/p"
	dd if="$work/p" of="$mnt/a" bs=1 seek=409000 conv=notrunc status=none ||
		fail "cycle $c: rewriting a range"
	dd if="$work/p" of="$work/a" bs=1 seek=409000 conv=notrunc status=none
	sync && echo 3 >/proc/sys/vm/drop_caches
	for f in a b; do
		cmp "$work/$f" "$mnt/$f" || fail "cycle $c: $f read back differs"
		cmp "$work/$f" "$exp_dir/$f" || fail "cycle $c: $f on the node differs"
	done
	rm "$mnt/a" "$mnt/b" || fail "cycle $c: unlink"
	[ -z "$(ls -A "$exp_dir")" ] || fail "cycle $c: the export is not empty: $(ls -A "$exp_dir")"
	umount "$mnt" || fail "cycle $c: umount"
}

# Cycle 0 warms up: whatever the first use of swap, the cgroup, RDMA from
# the kernel or a disaggfs mount loads or allocates for good (modules
# autoloaded, their sysfs, uverbs' tables) is there before the baseline.
# It also checks the refusals. A leak per cycle shows in the cycles after.
cycle 0
snapshot "$work/before"
log "before: $(wc -l <"$work/before/slab") caches watched, $(cat "$work/before/qps") queue pairs, $(cat "$work/before/sockets") daemon sockets"

start=$SECONDS
for ((c = 1; c <= cycles; c++)); do
	cycle "$c"
done

# Sockets close and slabs come back asynchronously to rmmod: give them a moment.
for ((t = 0; t < 50; t++)); do
	[ "$(daemon_sockets)" = 0 ] && break
	sleep 0.2
done
snapshot "$work/after"

# Our own caches: never there with the modules unloaded.
ours=$(awk '$1 ~ /^(disagg|dg_)/' "$work/after/slab")
[ -z "$ours" ] || fail "caches of ours left after rmmod: $ours"

# rdma/ib/rxe caches exactly back. kmalloc-* within a slack of four slabs'
# objects plus 2 %: other kernel users allocate from them meanwhile
# (measured with slub_debug=U: a few more kworkers, their stacks' vmap
# areas, memcg's per-slab bookkeeping for the cgroup), SLUB merges other
# caches of the same size into them (6.12: kmalloc-192 +63 of 588), and
# its active count, even after a shrink, moves by about a slab (kmalloc-16
# +65 with no allocation site holding more). The slack does not grow with
# the cycles: a leak of a few objects per cycle hides in 2 cycles, not in
# DG_LONG's 100; with slub_debug=U the sites show.
bad=$(join -a1 -a2 -e 0 -o 0,1.2,2.2,2.3 "$work/before/slab" "$work/after/slab" |
	awk '{ d = $3 - $2 }
	     $1 ~ /^kmalloc-/ { s = 4 * $4 + int($2 / 50); if (d > s) print $1, $2, "->", $3; next }
	     d != 0 { print $1, $2, "->", $3 }')
if [ -n "$bad" ]; then
	if [ -s "$work/after/traces" ]; then
		log "allocation sites holding more objects than before:"
		join -a2 -e 0 -o 0,1.2,2.2 "$work/before/traces" "$work/after/traces" |
			awk '$3 > $2 { print "  " $1, $2, "->", $3 }'
	fi
	fail "slab caches not back after $cycles cycles: $bad"
fi
log "slab caches: rdma/ib/rxe exactly back, kmalloc-* within the slack"
join "$work/before/slab" "$work/after/slab" |
	awk '$1 ~ /^kmalloc-/ && $4 != $2 { printf "  %s %+d", $1, $4 - $2 } END { print "" }' |
	sed 's/^/kmalloc changes:/'

bad=$(join "$work/before/refcnt" "$work/after/refcnt" | awk '$2 != $3 { print $1, $2, "->", $3 }')
[ -z "$bad" ] || fail "module reference counts changed: $bad"
new=$(join -v2 "$work/before/refcnt" "$work/after/refcnt" | awk '{ print $1 }' | tr '\n' ' ')
log "module reference counts back ($(wc -l <"$work/before/refcnt") modules)${new:+; loaded meanwhile: $new}"

for d in memd stord; do
	b=$(jq -r '.nr_clients' "$work/before/$d.json")
	a=$(jq -r '.nr_clients' "$work/after/$d.json")
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "$d: $a clients after, $b before (the STATUS connection itself)"
done
read -r cap free < <(jq -r '"\(.capacity) \(.free)"' "$work/after/memd.json")
[ "$cap" -gt 0 ] && [ "$free" = "$cap" ] || fail "disagg-memd: $free of $cap bytes free after the cycles"
log "disagg-memd: all $cap bytes free, no client left; disagg-stord: no client left"

[ "$(cat "$work/after/sockets")" = 0 ] ||
	fail "TCP connections to the daemons left: $(ss -Htan exclude time-wait exclude listening)"
log "no TCP connection to the daemons left"
if [ "$(cat "$work/before/qps")" = "no rdma tool" ]; then
	log "queue pairs not compared: 'rdma resource show qp' does not work here"
else
	[ "$(cat "$work/after/qps")" = "$(cat "$work/before/qps")" ] ||
		fail "queue pairs: $(cat "$work/before/qps") before, $(cat "$work/after/qps") after: $(rdma resource show qp)"
	log "queue pairs back to $(cat "$work/before/qps")"
fi

# An added memory node holds a module reference, even with no device set up.
insmod "$net" && insmod "$swap" || fail "insmod for the node check"
echo "name=m1 transport=rdma addr=$(host_addr 1) port=$MEMD_PORT src=$(local_addr 1) queues=1 key=client" \
	>/sys/kernel/disagg/memory_nodes/add || fail "adding memory node m1"
refused_in_use disagg_swap "memory node m1 is added"
echo m1 >/sys/kernel/disagg/memory_nodes/remove || fail "removing m1"
for ((t = 0; t < 100; t++)); do
	rmmod disagg_swap 2>/dev/null && break
	sleep 0.1
done
[ -d /sys/module/disagg_swap ] && fail "rmmod disagg_swap refused after the node was removed"
rmmod disagg_net || fail "rmmod disagg_net"
log "after removing the node, disagg_swap unloads"

# For runs outside run_tests (DG_LONG): it would catch these itself.
if dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|list_(add|del) corruption'; then
	fail "kernel warnings during the cycles"
fi
log "$cycles cycles in $((SECONDS - start)) s"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disagg-stord restarted in the middle of a copy, over TCP (host 1) and
# RDMA (host 2), on a hard mount: while cp copies a file into disaggfs, the
# daemon is killed (SIGKILL, a crash) and started again 2 s later; while cp
# copies it back out, the daemon is stopped (SIGTERM) and started again.
# Both copies must finish by themselves and be intact: byte for byte the
# source, through the mount after dropping the page cache and on the node.
#
# DG_FS_COPY_MB: size of the file (default 16).
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"

SIZE_MB=${DG_FS_COPY_MB:-16}

fs_setup 2
fs_reconnect_fast
src=/tmp/copy-src
head -c $((SIZE_MB << 20)) /dev/urandom >"$src" || fail "making the source file"

# restart_during T PID SIGNAL: wait a moment into the copy PID, kill the
# daemon with SIGNAL, start it again after 2 s; fail if PID ended first.
restart_during() {
	local t=$1 pid=$2 sig=$3
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "$t: the copy finished before the restart (make it bigger)"
	fs_stord_stop "$t" "$sig"
	log "$t: disagg-stord killed with SIG$sig in the middle of the copy"
	sleep 2
	kill -0 "$pid" 2>/dev/null || fail "$t: the copy ended while the daemon was down"
	fs_stord_start "$i" "$t" "$exp"
}

i=0
for t in $(fs_transports); do
	i=$((i + 1))
	exp=/tmp/export-copy-$t m=/mnt/dg-$t
	fs_fresh "$exp"
	fs_stord_start "$i" "$t" "$exp"
	fs_mount "$i" "$t" "$m" "hard"

	t0=$SECONDS
	cp "$src" "$m/copy" &
	cpid=$!
	restart_during "$t" $cpid KILL
	wait $cpid || fail "$t: cp into disaggfs failed across the restart"
	log "$t: copy in finished $((SECONDS - t0)) s after it started"
	cmp "$src" "$exp/copy" || fail "$t: the copy on the node differs from the source"
	fs_drop_caches
	cmp "$src" "$m/copy" || fail "$t: the copy read through the mount differs"

	fs_drop_caches
	t0=$SECONDS
	cp "$m/copy" /tmp/copy-back &
	cpid=$!
	restart_during "$t" $cpid TERM
	wait $cpid || fail "$t: cp out of disaggfs failed across the restart"
	log "$t: copy out finished $((SECONDS - t0)) s after it started"
	cmp "$src" /tmp/copy-back || fail "$t: the copy read back differs from the source"
	dmesg | grep -E "lost the storage node|storage node (back|restarted)" | tail -n 4 |
		sed "s/^/$t: /"
	rm -f /tmp/copy-back "$m/copy"
	umount "$m" || fail "$t: umount"
	fs_stord_stop "$t" || fail "$t: disagg-stord did not stop cleanly"
	log "$t: both copies intact"
done
rmmod disaggfs || fail "rmmod disaggfs"
log "all checks passed"
exit 0

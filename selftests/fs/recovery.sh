#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disaggfs across a storage daemon restart, over TCP: on a hard mount a
# read and an append issued while disagg-stord is down wait, then finish
# correctly once it is back; on a soft mount (timeo=3) a stat fails with
# EIO within the timeout, and works again after the restart. Then umount -f
# ends a hard mount's wait for a node that is gone.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

STORD=${DG_FS_STORD:-$DG_BINDIR/stord/disagg-stord}
[ -x "$STORD" ] || skip "disagg-stord not built (run 'make daemons')"
PORT=7471
EXP=/tmp/export-recovery

fs_teardown() {
	umount -f /mnt/dg-hard 2>/dev/null
	umount -f /mnt/dg-soft 2>/dev/null
	umount -l /mnt/dg-hard /mnt/dg-soft 2>/dev/null
	rmmod disaggfs 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}
dg_cleanup_push fs_teardown

hosts_up 1 --no-rxe || fail "cannot set up remote hosts"
modprobe rdma_cm 2>/dev/null	# disagg_net links against the RDMA core
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disaggfs)" || fail "insmod disaggfs"
A=$(host_addr 1):$PORT
mkdir -p "$EXP" /mnt/dg-hard /mnt/dg-soft

start() {
	: >"$HOSTS_LOGDIR/stord.log"
	host_start 1 stord "$STORD" --listen "$A" --root "$EXP" --transport tcp
	host_wait_log stord "listening" || fail "disagg-stord did not start"
}

start
mount -t disaggfs "$A" /mnt/dg-hard -o "src=$(local_addr 1),actimeo=1" ||
	fail "hard mount"
mount -t disaggfs "$A" /mnt/dg-soft -o "src=$(local_addr 1),soft,timeo=3,noac" ||
	fail "soft mount"
echo one >/mnt/dg-hard/f || fail "write before the restart"

host_stop stord || fail "disagg-stord did not stop"
sleep 2
out=$(mktemp)
(cat /mnt/dg-hard/f >"$out") &
p1=$!
(echo two >>/mnt/dg-hard/f && sync /mnt/dg-hard/f) &
p2=$!

t0=$SECONDS
stat /mnt/dg-soft/f >/dev/null 2>"$out.err" && fail "soft stat worked with the node down"
grep -q "Input/output error" "$out.err" || fail "soft stat: $(cat "$out.err"), want EIO"
((SECONDS - t0 <= 15)) || fail "soft stat took $((SECONDS - t0)) s with timeo=3"
log "soft: stat failed with EIO after $((SECONDS - t0)) s"

sleep 2
kill -0 $p1 2>/dev/null || fail "hard read did not wait for the node"
kill -0 $p2 2>/dev/null || fail "hard append did not wait for the node"
start
t0=$SECONDS
wait $p1 || fail "hard read failed after the restart"
wait $p2 || fail "hard append failed after the restart"
log "hard: read and append finished $((SECONDS - t0)) s after the restart"
# The read and the append race once the node is back: either order is fine.
case "$(cat "$out" | tr '\n' ' ')" in
"one " | "one two ") ;;
*) fail "hard read got '$(cat "$out")'" ;;
esac
[ "$(cat "$EXP/f" | tr '\n' ' ')" = "one two " ] || fail "node has '$(cat "$EXP/f")'"
[ "$(stat -c %s /mnt/dg-soft/f)" = 8 ] || fail "soft mount after the restart"
umount /mnt/dg-soft || fail "umount soft"

# umount -f ends the waits of a hard mount whose node is gone.
host_stop stord || fail "disagg-stord did not stop"
sleep 1
(cat /mnt/dg-hard/f >/dev/null 2>"$out.err"; echo $? >"$out.rc") &
p1=$!
sleep 3
kill -0 $p1 2>/dev/null || fail "hard read did not wait for the node"
umount -f /mnt/dg-hard 2>/dev/null	# busy while the read runs
t0=$SECONDS
wait $p1
[ "$(cat "$out.rc")" != 0 ] && grep -q "Input/output error" "$out.err" ||
	fail "read after umount -f: rc $(cat "$out.rc"), $(cat "$out.err")"
((SECONDS - t0 <= 5)) || fail "umount -f took $((SECONDS - t0)) s to end the read"
log "umount -f: the waiting read failed with EIO"
# Plain umount(8) would stat the mount point first, and wait like any
# request on a hard mount; with -f it unmounts.
umount -f /mnt/dg-hard || fail "umount -f with the node gone"
rmmod disaggfs || fail "rmmod disaggfs"
log "umount and rmmod clean"
exit 0

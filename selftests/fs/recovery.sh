#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disaggfs across a storage daemon restart, over TCP: on a hard mount a
# read and an append issued while disagg-stord is down wait, then finish
# correctly once it is back; on a soft mount (timeo=3) a stat fails with
# EIO within the timeout, and works again after the restart. Then umount -f
# ends a hard mount's wait for a node that is gone.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
EXP=/tmp/export-recovery

fs_setup 1 --no-rxe
fs_reconnect_fast
fs_stord_start 1 tcp "$EXP"
fs_mount 1 tcp /mnt/dg-hard "actimeo=1"
fs_mount 1 tcp /mnt/dg-soft "soft,timeo=3,noac"
echo one >/mnt/dg-hard/f || fail "write before the restart"

fs_stord_stop tcp || fail "disagg-stord did not stop"
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
fs_stord_start 1 tcp "$EXP"
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
fs_stord_stop tcp || fail "disagg-stord did not stop"
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

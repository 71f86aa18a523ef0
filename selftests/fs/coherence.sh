#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two mounts of one export act as two clients: close-to-open (a re-open
# sees the other's rewrite, also of the same size), O_APPEND from both,
# names changed by the other found again after the attribute timeout, a
# shared mapping written by one and read by the other, a truncate seen on
# open, and ESTALE (not the new file's data) from a descriptor whose file
# was renamed over.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

STORD=${DG_FS_STORD:-$DG_BINDIR/stord/disagg-stord}
PROBE=$DG_PROJ/build/selftests/fsprobe
[ -x "$STORD" ] || skip "disagg-stord not built (run 'make daemons')"
[ -x "$PROBE" ] || skip "fsprobe not built (run 'make selftests')"
EXP=/tmp/export-coherence

fs_teardown() {
	umount -l /mnt/dg-a /mnt/dg-b 2>/dev/null
	rmmod disaggfs 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}
dg_cleanup_push fs_teardown

hosts_up 1 --no-rxe || fail "cannot set up remote hosts"
modprobe rdma_cm 2>/dev/null	# disagg_net links against the RDMA core
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disaggfs)" || fail "insmod disaggfs"
A=$(host_addr 1):7471
mkdir -p "$EXP" /mnt/dg-a /mnt/dg-b
host_start 1 stord "$STORD" --listen "$A" --root "$EXP" --transport tcp
host_wait_log stord "listening" || fail "disagg-stord did not start"
for c in a b; do
	mount -t disaggfs "$A" /mnt/dg-$c -o "src=$(local_addr 1),actimeo=1" ||
		fail "mount $c"
done
a=/mnt/dg-a b=/mnt/dg-b

# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	log "ok: $1"
}

echo aaaa >$a/f
expect "b sees a's new file" "$(cat $b/f)" aaaa
sleep 0.05
echo bbbb >$a/f
expect "b's re-open sees a's rewrite of the same size" "$(cat $b/f)" bbbb
exec 3<$b/f
sleep 0.05
echo cccc >$a/f
expect "b's re-open while b holds it open" "$(cat $b/f)" cccc
exec 3<&-

echo 1 >>$a/g
echo 2 >>$b/g
echo 3 >>$a/g
expect "O_APPEND from both" "$(tr '\n' ' ' <$EXP/g)" "1 2 3 "

stat $b/f >/dev/null
mv $a/f $a/f2
echo new >$a/f
sleep 2.1
expect "b finds the name a reused" "$(cat $b/f)" new
expect "b finds a's renamed file" "$(cat $b/f2)" cccc
mkdir $a/dir
echo x >$a/dir/x
cat $b/dir/x >/dev/null
rm -r $a/dir
sleep 2.1
ls $b/dir >/dev/null 2>&1 && fail "b still lists a directory a removed"
log "ok: b sees a's rmdir"

"$PROBE" mmap-write $a/m 200000 5 >/dev/null || fail "mmap write on a"
"$PROBE" verify $b/m 200000 5 >/dev/null || fail "b reads a's mapped writes"
log "ok: b reads what a wrote through a shared mapping"

"$PROBE" write $a/t 300000 1 >/dev/null && "$PROBE" verify $b/t 300000 1 >/dev/null ||
	fail "b reads a's file"
truncate -s 1000 $a/t
expect "b's open sees a's truncate" "$(wc -c <$b/t)" 1000

echo victim >$a/v
exec 4<$a/v
echo replacement >$a/w
mv $a/w $a/v
cat <&4 >/dev/null 2>"$EXP.err" && fail "read from a file renamed over worked"
grep -q "Stale file handle" "$EXP.err" || fail "read from a file renamed over: $(cat "$EXP.err")"
exec 4<&-
log "ok: a descriptor of a file renamed over gets ESTALE"

umount $a || fail "umount a"
umount $b || fail "umount b"
rmmod disaggfs || fail "rmmod disaggfs"
exit 0

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
. "$(dirname "$0")/setup.sh"
[ -x "$FSPROBE" ] || skip "fsprobe not built (run 'make selftests')"
EXP=/tmp/export-coherence

fs_setup 1 --no-rxe
fs_stord_start 1 tcp "$EXP"
for c in a b; do
	fs_mount 1 tcp /mnt/dg-$c "actimeo=1"
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

"$FSPROBE" mmap-write $a/m 200000 5 >/dev/null || fail "mmap write on a"
"$FSPROBE" verify $b/m 200000 5 >/dev/null || fail "b reads a's mapped writes"
log "ok: b reads what a wrote through a shared mapping"

"$FSPROBE" write $a/t 300000 1 >/dev/null && "$FSPROBE" verify $b/t 300000 1 >/dev/null ||
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

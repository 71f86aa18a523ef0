#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Writeback errors reach fsync() and close(), over TCP. The export is ext4
# (no journal) on dm-flakey (fs/flakey.sh); data is written through the
# page cache, and the node's writes fail:
#   ENOSPC: the node's filesystem is full;
#   EIO:    the device fails every write (dm-flakey error_writes).
# For each error, with fsyncck:
#   errs      fsync fails with exactly that errno, a second fsync returns 0
#             (errseq: reported once per open file; with EIO once the
#             device writes again, see checks), close 0;
#   closeerr  close (no fsync) fails with it;
#   duperr    close of a dup fails with it and does not consume it: fsync
#             of the first descriptor fails with it too, then 0;
#   hold      the data is written back by sync(1) from another process,
#             fsync afterwards fails with it.
# Once the node can write again, new writes and fsyncs succeed and their
# data is on the node. Last, a busy node (one worker thread, more than 64
# WRITEs in flight: EAGAIN) costs no data and reports no error.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/flakey.sh"
FSYNCCK=$DG_PROJ/build/selftests/fsyncck
[ -x "$FSYNCCK" ] || skip "fsyncck not built (run 'make selftests')"

SIZE=65537
MNT=/mnt/dg-wberr
EXP=$FLAKEY_MNT/exp

fs_setup 1 --no-rxe
flakey_setup 32 -O ^has_journal
fs_stord_start 1 tcp "$EXP" --squash none
fs_mount 1 tcp "$MNT"

# checks ERR TAG: the four checks on files TAG-*, the node failing writes
# with ERR. With EIO, the device writes again for the fsync that must
# return 0 (an fsync is stable only once the node can write the file's
# metadata; while it cannot, every fsync fails), then fails again.
checks() {
	local err=$1 tag=$2 c out seed=1 pid k rc
	for c in errs closeerr duperr; do
		rm -f /tmp/wberr-go
		if [ $c = closeerr ]; then
			"$FSYNCCK" $c "$MNT/$tag-$c" $SIZE $seed "$err" >/tmp/wberr-out &
		else
			"$FSYNCCK" $c "$MNT/$tag-$c" $SIZE $seed "$err" /tmp/wberr-go >/tmp/wberr-out &
		fi
		pid=$!
		if [ $c != closeerr ]; then
			for ((k = 0; k < 300; k++)); do
				grep -q reported /tmp/wberr-out && break
				kill -0 $pid 2>/dev/null || break
				sleep 0.1
			done
			[ "$err" = EIO ] && flakey_mode pass
			touch /tmp/wberr-go
		fi
		wait $pid
		rc=$?
		[ "$err" = EIO ] && [ $c != closeerr ] && flakey_mode error
		out=$(grep -v reported /tmp/wberr-out | tr '\n' ' ')
		[ $rc = 0 ] || fail "$err: $c: $out"
		log "$err: $c: $out"
		seed=$((seed + 1))
	done
	rm -f /tmp/wberr-go
	"$FSYNCCK" hold "$MNT/$tag-hold" $SIZE $seed dirty /tmp/wberr-go >/tmp/wberr-hold &
	c=$!
	for ((k = 0; k < 100; k++)); do
		grep -q ready /tmp/wberr-hold && break
		sleep 0.1
	done
	sync
	touch /tmp/wberr-go
	wait $c || fail "$err: fsyncck hold failed"
	out=$(grep -v ready /tmp/wberr-hold)
	[ "$out" = "fsync=$err close=0" ] ||
		fail "$err: fsync after writeback by sync(1): '$out', want 'fsync=$err close=0'"
	log "$err: fsync after writeback by sync(1): $out"
}

# ENOSPC: fill the node's filesystem.
dd if=/dev/zero of="$FLAKEY_MNT/fill" bs=1M 2>/dev/null
sync -f "$FLAKEY_MNT"
dd if=/dev/zero of="$FLAKEY_MNT/fill2" bs=4k 2>/dev/null
sync -f "$FLAKEY_MNT"
log "node filesystem full: $(df -k --output=avail "$FLAKEY_MNT" | tail -n 1) KiB available"
checks ENOSPC nospc
rm -f "$FLAKEY_MNT/fill" "$FLAKEY_MNT/fill2"
sync -f "$FLAKEY_MNT"

# EIO: the device fails writes.
flakey_mode error
checks EIO eio
flakey_mode pass
# The export directory's own writeback failed too (the entries made while
# the device failed): the next fsync of it on the node reports that once,
# as FSYNC of any file in it would. The node's administrator sees it here.
sync "$EXP" 2>/dev/null && log "EIO: the node's directory reported no error of its own"

# The mount works again, and no old error is reported to new opens.
for c in fsync close; do
	out=$("$FSYNCCK" write "$MNT/after-$c" $SIZE 77 $c) || fail "write after the errors"
	case $c in
	fsync) [ "$out" = "fsync=0 close=0" ] ;;
	close) [ "$out" = "close=0" ] ;;
	esac || fail "after the errors: $c: '$out'"
	"$FSPROBE" verify "$EXP/after-$c" $SIZE 77 || fail "after the errors: $c: data on the node"
done
# The failed files can be written again, too.
out=$("$FSYNCCK" write "$MNT/eio-errs" $SIZE 78 fsync) || fail "rewrite eio-errs"
[ "$out" = "fsync=0 close=0" ] || fail "rewrite of eio-errs: '$out'"
"$FSPROBE" verify "$EXP/eio-errs" $SIZE 78 || fail "rewrite of eio-errs: data on the node"
log "after the errors: writes, fsync and close succeed, data on the node"
umount "$MNT" || fail "umount"
fs_stord_stop tcp

# A busy node is no error: with one worker thread, at most 4 requests
# queued per connection (--max-in-flight 4) and 4 files writing back 64
# WRITEs each at once, the node answers many with EAGAIN; every one must
# be sent again, no page lost. (disaggfs over TCP keeps at most 64 calls
# in flight, the node's default limit, so only a lower limit shows it.)
BUSY_MB=4
fs_fresh "$EXP"
for ((i = 1; i <= 4; i++)); do
	: >"$EXP/busy$i"	# made on the node: no lookup fails with ENOENT
done
fs_stord_start 1 tcp "$EXP" --squash none --threads 1 --max-in-flight 4
fs_mount 1 tcp "$MNT" max_inflight=64
pids=()
for ((i = 1; i <= 4; i++)); do
	"$FSYNCCK" write "$MNT/busy$i" $((BUSY_MB << 20)) $((500 + i)) fsync >"/tmp/wberr-busy$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "busy: fsyncck write failed"
done
for ((i = 1; i <= 4; i++)); do
	out=$(cat "/tmp/wberr-busy$i")
	[ "$out" = "fsync=0 close=0" ] || fail "busy: busy$i: '$out'"
	"$FSPROBE" verify "$EXP/busy$i" $((BUSY_MB << 20)) $((500 + i)) ||
		fail "busy: busy$i: data on the node"
done
umount "$MNT" || fail "umount"
fs_stord_stop tcp
line=$(grep -o 'served [0-9]* requests ([0-9]* errors), [0-9]* answered busy' \
	"$HOSTS_LOGDIR/stord-tcp.log" | tail -n 1)
busy=$(echo "$line" | sed 's/.*, \([0-9]*\) answered busy/\1/')
[ -n "$busy" ] || fail "busy: no request count in the node's log"
((busy > 0)) || fail "busy: the node never answered EAGAIN ($line); the test proves nothing"
log "busy: $line: every EAGAIN resent, fsync 0, data on the node"
exit 0

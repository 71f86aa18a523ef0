#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fsync honesty across a crash of the storage host, over TCP, hard mount.
# The export is ext4 on dm-flakey (fs/flakey.sh); a "crash" is SIGKILL of
# disagg-stord, then the device drops writes while ext4 is unmounted (its
# page cache, with everything not yet on the device, is lost), then it is
# mounted again (journal replay) and the daemon restarted.
#
# Files (pre-created and synced, so that only their data is at stake):
#   fsyncN  written, fsync()ed and closed before the crash
#   closeN  written and closed (no fsync) before the crash
#   wbN     written and written back (sync_file_range, no fsync) before
#           the crash; fsync()ed and closed after the restart
#   dirtyN  written, left dirty in the page cache over the crash; fsync()ed
#           and closed after the restart
# Then a second crash. Every file whose fsync() and close() returned 0 must
# then hold exactly its data on the node, byte for byte; the others may hold
# anything.
#
# The same round runs a second time against disagg-stord --async (WRITEs
# answered before the data is stable: the behaviour before issue 9): there
# files whose fsync or close returned 0 must be found damaged, or the test
# cannot tell an honest fsync from a dishonest one and fails.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/flakey.sh"
FSYNCCK=$DG_PROJ/build/selftests/fsyncck
[ -x "$FSYNCCK" ] || skip "fsyncck not built (run 'make selftests')"

N=3
SIZE=200001	# not a page multiple: the last page is partial
MNT=/mnt/dg-crash

# The node's filesystem writes back only when asked: what nobody synced
# is still in its page cache at the crash, so a dishonest fsync shows.
expire=$(cat /proc/sys/vm/dirty_expire_centisecs)
wbsec=$(cat /proc/sys/vm/dirty_writeback_centisecs)
restore_vm() {
	echo "$expire" >/proc/sys/vm/dirty_expire_centisecs
	echo "$wbsec" >/proc/sys/vm/dirty_writeback_centisecs
}
dg_cleanup_push restore_vm
echo 360000 >/proc/sys/vm/dirty_expire_centisecs
echo 0 >/proc/sys/vm/dirty_writeback_centisecs

fs_setup 1 --no-rxe
fs_reconnect_fast
flakey_setup 128

# seed_of GROUP I: the pattern of file GROUP I.
seed_of() {
	case $1 in
	fsync) echo $((100 + $2)) ;;
	close) echo $((200 + $2)) ;;
	wb) echo $((300 + $2)) ;;
	dirty) echo $((400 + $2)) ;;
	esac
}

# crash EXP OPTS...: crash the storage host and start disagg-stord again.
crash() {
	local exp=$1
	shift
	fs_stord_stop tcp KILL
	flakey_crash
	fs_stord_start 1 tcp "$exp" "$@"
}

# round NAME OPTS...: one round against disagg-stord OPTS; prints the
# number of files acknowledged (fsync and close returned 0) and damaged.
round() {
	local name=$1 exp=$FLAKEY_MNT/exp-$1 res=/tmp/crash-$1 g i pids=() f r out
	shift
	rm -rf "$res"
	mkdir -p "$res" "$exp"
	fs_stord_start 1 tcp "$exp" "$@"
	fs_mount 1 tcp "$MNT"
	for g in fsync close wb dirty; do
		for ((i = 1; i <= N; i++)); do
			: >"$MNT/$g$i" || fail "$name: create $g$i"
		done
	done
	sync "$MNT"/* || fail "$name: fsync of the empty files"
	flakey_sync

	for ((i = 1; i <= N; i++)); do
		for g in fsync close; do
			"$FSYNCCK" write "$MNT/$g$i" $SIZE "$(seed_of $g $i)" $g >"$res/$g$i" ||
				fail "$name: fsyncck write $g$i"
		done
		for g in wb dirty; do
			"$FSYNCCK" hold "$MNT/$g$i" $SIZE "$(seed_of $g $i)" $g "$res/go" \
				>"$res/$g$i" &
			pids+=($!)
		done
	done
	for f in "$res"/wb* "$res"/dirty*; do
		for ((i = 0; i < 300; i++)); do
			grep -q ready "$f" && break
			sleep 0.1
		done
		grep -q ready "$f" || fail "$name: $(basename "$f") not written in 30 s"
	done

	crash "$exp" "$@"
	touch "$res/go"
	for i in "${pids[@]}"; do
		wait "$i" || fail "$name: fsyncck hold failed"
	done
	crash "$exp" "$@"

	acked=0 damaged=0
	for g in fsync close wb dirty; do
		for ((i = 1; i <= N; i++)); do
			r=$(grep -v ready "$res/$g$i")
			[[ $r =~ ^(fsync=0\ )?close=0$ ]] || {
				log "$name: $g$i not acknowledged ($r): may hold anything"
				continue
			}
			acked=$((acked + 1))
			if ! out=$("$FSPROBE" verify "$exp/$g$i" $SIZE "$(seed_of $g $i)" 2>&1); then
				damaged=$((damaged + 1))
				log "$name: $g$i acknowledged ($r) but damaged: $out"
			fi
		done
	done
	umount "$MNT" || fail "$name: umount"
	fs_stord_stop tcp
	log "$name: $acked files acknowledged, $damaged of them damaged after the crashes"
}

round honest --squash none
((acked == 4 * N)) || fail "honest: only $acked of $((4 * N)) files acknowledged"
((damaged == 0)) || fail "honest: $damaged acknowledged files damaged by a crash"

# Self-check: the old behaviour must be caught.
round async --squash none --async
((damaged > 0)) || fail "async: no acknowledged file damaged; the test cannot fail"
log "async: the test catches a storage node that acknowledges unstable data"
exit 0

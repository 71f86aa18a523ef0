# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the disaggfs durability selftests (after setup.sh): the
# storage node's export on ext4 over a device-mapper device "dgflakey" on a
# loop device over a file in /tmp (tmpfs), so that a test can make the
# device lose or fail writes, as xfstests' dmflakey does.
#
#   flakey_setup SIZE_MB [MKFS_OPT...]   make and mount it on $FLAKEY_MNT
#                                        (torn down on exit)
#   flakey_mode pass|drop|error          table: linear (writes reach the
#                                        device), flakey drop_writes (writes
#                                        vanish, reported done), flakey
#                                        error_writes (writes fail with EIO)
#   flakey_crash                         a crash of the storage host, for
#                                        the filesystem: writes not yet on
#                                        the device are lost. Drops writes,
#                                        unmounts (the page cache is thrown
#                                        away with what it held), passes
#                                        writes again and mounts (journal
#                                        replay). Kill the daemon first.
#   flakey_sync                          sync the filesystem to the device

FLAKEY_DEV=dgflakey
FLAKEY_MNT=/tmp/flakey-mnt
FLAKEY_IMG=/tmp/flakey.img
FLAKEY_LOOP=
FLAKEY_SECTORS=
FLAKEY_MNT_OPTS=
# No udev in the guest: dmsetup makes the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1

flakey_teardown() {
	umount "$FLAKEY_MNT" 2>/dev/null
	dmsetup remove "$FLAKEY_DEV" 2>/dev/null
	[ -n "$FLAKEY_LOOP" ] && losetup -d "$FLAKEY_LOOP" 2>/dev/null
	rm -f "$FLAKEY_IMG"
}

flakey_setup() { # size_mb [mkfs options]
	local mb=$1
	shift
	command -v dmsetup >/dev/null || skip "no dmsetup"
	command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4"
	modprobe loop 2>/dev/null
	modprobe dm-mod 2>/dev/null
	modprobe dm-flakey 2>/dev/null || skip "no dm-flakey in this kernel"
	modprobe ext4 2>/dev/null
	dg_cleanup_push flakey_teardown
	truncate -s "${mb}M" "$FLAKEY_IMG" || fail "cannot make $FLAKEY_IMG"
	FLAKEY_LOOP=$(losetup -f --show "$FLAKEY_IMG") || fail "losetup"
	FLAKEY_SECTORS=$(blockdev --getsz "$FLAKEY_LOOP") || fail "blockdev"
	dmsetup create "$FLAKEY_DEV" --table "0 $FLAKEY_SECTORS linear $FLAKEY_LOOP 0" ||
		fail "dmsetup create"
	[ -b "/dev/mapper/$FLAKEY_DEV" ] || dmsetup mknodes "$FLAKEY_DEV"
	mkfs.ext4 -q -F -m 0 "$@" "/dev/mapper/$FLAKEY_DEV" || fail "mkfs.ext4"
	mkdir -p "$FLAKEY_MNT"
	# commit=60: the journal is committed by fsync and fdatasync, not
	# every 5 s, so what nobody synced is surely lost in a crash.
	FLAKEY_MNT_OPTS=commit=60
	[[ " $* " == *" ^has_journal "* ]] && FLAKEY_MNT_OPTS=defaults
	mount -t ext4 -o "$FLAKEY_MNT_OPTS" "/dev/mapper/$FLAKEY_DEV" "$FLAKEY_MNT" ||
		fail "mount ext4"
}

flakey_mode() { # pass|drop|error
	local t
	case $1 in
	pass) t="0 $FLAKEY_SECTORS linear $FLAKEY_LOOP 0" ;;
	drop) t="0 $FLAKEY_SECTORS flakey $FLAKEY_LOOP 0 0 180 1 drop_writes" ;;
	error) t="0 $FLAKEY_SECTORS flakey $FLAKEY_LOOP 0 0 180 1 error_writes" ;;
	*) fail "flakey_mode $1" ;;
	esac
	# --nolockfs: no freeze, which would write back the dirty data.
	dmsetup suspend --nolockfs "$FLAKEY_DEV" &&
		dmsetup load "$FLAKEY_DEV" --table "$t" &&
		dmsetup resume "$FLAKEY_DEV" || fail "dmsetup: cannot switch to $1"
}

flakey_sync() {
	sync -f "$FLAKEY_MNT" || fail "sync $FLAKEY_MNT"
}

flakey_crash() {
	flakey_mode drop
	umount "$FLAKEY_MNT" || fail "umount $FLAKEY_MNT in the crash"
	flakey_mode pass
	mount -t ext4 -o "$FLAKEY_MNT_OPTS" "/dev/mapper/$FLAKEY_DEV" "$FLAKEY_MNT" ||
		fail "mount ext4 after the crash"
}

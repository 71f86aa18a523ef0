#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# POSIX behaviour of disaggfs compared with a local tmpfs, over TCP (host 1)
# and RDMA (host 2): posixcmp runs one scripted sequence of operations on
# the mount and in a tmpfs directory and compares every result (return
# values, errno, stat fields, listings, contents, xattrs, readlink); where
# Documentation/fs.md documents a difference, the documented answer is
# expected. Then the mount is unmounted and mounted again (page cache gone)
# and the two trees must still be the same, and so must the node's export
# directory and the tmpfs tree.
#
# DG_FS_NFILES: entries of the large directory (default 3000, a few READDIRs
# of about 1,000 entries; the first 200 are created through the mount, the
# rest directly in the export). fs/smoke.sh lists 10,000.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
[ -x "$POSIXCMP" ] || skip "posixcmp not built (run 'make selftests')"

fs_setup 2
rc=0
i=0
for t in $(fs_transports); do
	i=$((i + 1))
	exp=/tmp/export-posix-$t ref=/tmp/ref-posix-$t m=/mnt/dg-$t
	fs_fresh "$exp" "$ref"
	fs_stord_start "$i" "$t" "$exp"
	# Set-ID bits as a local filesystem shows them.
	fs_mount "$i" "$t" "$m" trust_setid
	n=${DG_FS_NFILES:-3000}
	log "$t: posixcmp run ($n directory entries)"
	out=$(mktemp)
	t0=$SECONDS
	"$POSIXCMP" -n "$n" -e "$exp" run "$m" "$ref" >"$out" 2>&1
	st=$?
	# Only what is not "ok" (section headers, failures, the totals).
	grep -v '^ok ' "$out" | sed "s/^/$t: /"
	log "$t: posixcmp run: exit $st, $((SECONDS - t0)) s"
	[ "$st" = 0 ] || { log "FAIL: $t: posixcmp run"; rc=1; }
	fs_remount "$m"
	"$POSIXCMP" verify "$m" "$ref" >"$out" 2>&1 ||
		{ log "FAIL: $t: the trees differ after the remount"; rc=1; }
	sed "s/^/$t: after remount: /" "$out"
	"$POSIXCMP" verify "$exp" "$ref" >"$out" 2>&1 ||
		{ log "FAIL: $t: the node's export differs from tmpfs"; rc=1; }
	sed "s/^/$t: node's export: /" "$out"
	rm -f "$out"
	umount "$m" || fail "$t: umount"
	fs_stord_stop "$t" || fail "$t: disagg-stord did not stop cleanly"
done
[ "$rc" = 0 ] || fail "posixcmp found differences (see above)"
rmmod disaggfs || fail "rmmod disaggfs"
log "all checks passed"
exit 0

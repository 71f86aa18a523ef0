#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Concurrency on one disaggfs mount, over TCP (host 1) and RDMA (host 2):
# - writers: 4 processes at once, each writing its own file and its
#   disjoint, unaligned share of one shared file in random chunks;
# - mmap writers: 4 processes writing interleaved 1000-byte stripes of one
#   file through shared mappings;
# every file verified through the page cache, after dropping it, and on the
# node's export;
# - renames: a directory renamed back and forth (and a subdirectory of it)
#   while other processes open and stat paths below it (each must reach the
#   right file or fail ENOENT, never a decoy with the same leaf name), use a
#   descriptor opened before (never fails) and create and unlink through a
#   descriptor of the moving directory (never fails, nothing stray).
#
# DG_FS_CONC_MB: file size per writer (default 2); DG_FS_RENAME_S: seconds of
# renames (default 10).
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
[ -x "$FSLOAD" ] || skip "fsload not built (run 'make selftests')"

SIZE=$((${DG_FS_CONC_MB:-2} << 20))
RENAME_S=${DG_FS_RENAME_S:-10}
N=4

fs_setup 2
# A failure is reported and the next transport still runs.
failed=""
bad() {
	log "FAIL: $t: $*"
	failed="$failed $t"
}

# writers T M EXP: the concurrent writers and mmap writers on mount M.
writers() {
	local t=$1 m=$2 exp=$3 t0=$SECONDS
	mkdir "$m/w" || { bad "mkdir"; return; }
	"$FSLOAD" writers "$m/w" $N "$SIZE" 7 || { bad "concurrent writers"; return; }
	"$FSLOAD" writers-verify "$m/w" $N "$SIZE" 7 || bad "writers' data (cached)"
	"$FSLOAD" mmap-writers "$m/mapped" $N "$SIZE" 8 || { bad "mmap writers"; return; }
	"$FSLOAD" pattern-verify "$m/mapped" "$SIZE" 8 || bad "mmap writers' data (cached)"
	fs_drop_caches
	"$FSLOAD" writers-verify "$m/w" $N "$SIZE" 7 || bad "writers' data"
	"$FSLOAD" pattern-verify "$m/mapped" "$SIZE" 8 || bad "mmap writers' data"
	"$FSLOAD" writers-verify "$exp/w" $N "$SIZE" 7 || bad "writers' data on the node"
	"$FSLOAD" pattern-verify "$exp/mapped" "$SIZE" 8 || bad "mmap writers' data on the node"
	rm -r "$m/w" "$m/mapped" || bad "rm"
	log "$t: writers done, $((SECONDS - t0)) s"
}

# renames T M: the rename storm on mount M.
renames() {
	local t=$1 m=$2 exp=$3 t0=$SECONDS
	mkdir "$m/rn" || { bad "mkdir"; return; }
	"$FSLOAD" renames "$m/rn" "$RENAME_S" 2>&1 | sed "s/^/$t: /"
	if [ "${PIPESTATUS[0]}" != 0 ]; then
		bad "renames below a directory renamed meanwhile"
		log "$t: the mount's view: $(cd "$m/rn" && find . | sort | tr '\n' ' ')"
		log "$t: the node's tree:  $(cd "$exp/rn" && find . | sort | tr '\n' ' ')"
		dmesg | grep disaggfs | tail -n 5 | sed "s/^/$t: /"
	fi
	rm -r "$m/rn" || { bad "rm"; rm -r "$exp/rn"; }
	log "$t: renames done, $((SECONDS - t0)) s"
}

i=0
for t in $(fs_transports); do
	i=$((i + 1))
	exp=/tmp/export-conc-$t m=/mnt/dg-$t
	fs_fresh "$exp"
	fs_stord_start "$i" "$t" "$exp"
	fs_mount "$i" "$t" "$m"
	writers "$t" "$m" "$exp"
	renames "$t" "$m" "$exp"
	[ -z "$(ls -A "$exp")" ] || bad "left on the node: $(ls -A "$exp")"
	umount "$m" || fail "$t: umount"
	fs_stord_stop "$t" || fail "$t: disagg-stord did not stop cleanly"
done
[ -z "$failed" ] || fail "failures over:$failed (see above)"
rmmod disaggfs || fail "rmmod disaggfs"
log "all checks passed"
exit 0

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Data integrity of large files on disaggfs, over TCP (host 1) and RDMA
# (host 2): a dense file (every byte written first) and a sparse one (size
# set, then written here and there) get seeded random writes of random
# lengths at random offsets, through buffered writes, unaligned O_DIRECT
# writes and shared mappings, while a reference copy on tmpfs gets the same
# bytes. Each file must then equal its reference byte for byte: read through
# the page cache, read with O_DIRECT, read again after umount and mount
# (page cache gone), and on the node's export itself.
#
# Sizes: DG_FS_DENSE_MB (default 4), DG_FS_SPARSE_MB (default 8),
# DG_FS_RANDOM_OPS random writes per file (default 64, up to 256 KiB each,
# so they overlap and still leave holes in the sparse file); sized for
# emulation (TCG); on real machines use e.g. 64, 256 and 1000.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
[ -x "$FSLOAD" ] || skip "fsload not built (run 'make selftests')"

DENSE=$((${DG_FS_DENSE_MB:-4} << 20))
SPARSE=$((${DG_FS_SPARSE_MB:-8} << 20))
OPS=${DG_FS_RANDOM_OPS:-64}

fs_setup 2
i=0
for t in $(fs_transports); do
	i=$((i + 1))
	exp=/tmp/export-integrity-$t ref=/tmp/ref-integrity-$t m=/mnt/dg-$t
	fs_fresh "$exp" "$ref"
	fs_stord_start "$i" "$t" "$exp"
	fs_mount "$i" "$t" "$m"
	t0=$SECONDS
	"$FSLOAD" randwrite "$m/dense" "$ref/dense" "$DENSE" $((i * 10 + 1)) "$OPS" 262144 dense ||
		fail "$t: writing the dense file"
	"$FSLOAD" randwrite "$m/sparse" "$ref/sparse" "$SPARSE" $((i * 10 + 2)) "$OPS" 262144 sparse ||
		fail "$t: writing the sparse file"
	log "$t: written in $((SECONDS - t0)) s"
	for f in dense sparse; do
		"$FSLOAD" cmp "$m/$f" "$ref/$f" || fail "$t: $f through the page cache"
		"$FSLOAD" cmp "$m/$f" "$ref/$f" direct || fail "$t: $f with O_DIRECT"
	done
	fs_remount "$m"
	for f in dense sparse; do
		"$FSLOAD" cmp "$m/$f" "$ref/$f" || fail "$t: $f after the remount"
		"$FSLOAD" cmp "$exp/$f" "$ref/$f" || fail "$t: $f on the node"
	done
	log "$t: $(du -k "$exp/sparse" | cut -f1) KiB of the sparse file allocated on the node"
	log "$t: all copies the same, $((SECONDS - t0)) s"
	umount "$m" || fail "$t: umount"
	fs_stord_stop "$t" || fail "$t: disagg-stord did not stop cleanly"
	rm -rf "$exp" "$ref"
done
rmmod disaggfs || fail "rmmod disaggfs"
log "all checks passed"
exit 0

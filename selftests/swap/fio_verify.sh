#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fio writes the raw /dev/dswap0 at random with crc32c checksums in every
# block and verifies them all by reading back over RDMA; then again with
# 16 I/Os in flight (libaio), 4 KiB and 64 KiB blocks, whose reads take
# the asynchronous path.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
command -v fio >/dev/null || skip "fio not installed (run scripts/setup)"
. "$DG_SELFTESTS/swap/setup.sh"
swap_setup
echo 32M >/sys/block/dswap0/disksize || fail "setting disksize"

out=$(cd /tmp && timeout 240 fio --name=verify --filename=/dev/dswap0 --rw=randwrite \
	--bs=4k --size=32M --ioengine=psync --direct=1 --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 2>&1)
rc=$?
echo "$out" | grep -E 'err=|verify|WRITE:|READ:' | sed 's/^/  fio: /'
[ $rc = 0 ] || fail "fio verify failed ($rc)"
echo "$out" | grep -q 'err= 0' || fail "fio reported errors"
read -r reads writes _ fr fw _ slabs pages xfers _ </sys/block/dswap0/remote_stat
log "remote_stat: reads $reads writes $writes failed $fr/$fw slabs $slabs pages $pages"
[ "$writes" -ge 8192 ] || fail "only $writes pages written remotely"
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed I/O counted"
[ "$pages" = 8192 ] || fail "$pages pages remote, want 8192"

# Batching: 4 MiB in 1 MiB direct writes (256 consecutive pages a bio)
# goes out as runs of 16 pages, one transfer each.
read -r _ w0 _ _ _ _ _ _ x0 _ </sys/block/dswap0/remote_stat
dd if=/dev/urandom of=/dev/dswap0 bs=1M count=4 seek=8 oflag=direct status=none ||
	fail "writing 4 MiB"
read -r _ w1 _ _ _ _ _ _ x1 _ </sys/block/dswap0/remote_stat
log "4 MiB in 1 MiB bios: $((w1 - w0)) pages in $((x1 - x0)) transfers"
[ $((w1 - w0)) = 1024 ] || fail "$((w1 - w0)) pages written, want 1024"
[ $((x1 - x0)) = 64 ] || fail "$((x1 - x0)) transfers for 1024 pages, want 64 (16 pages each)"

# Reads nobody waits for one at a time go out asynchronously: the same
# blocks verified again with 16 reads in flight (libaio), 4 KiB and
# 64 KiB (16 pages, one transfer) each, every checksum checked.
for bs in 4k 64k; do
	out=$(cd /tmp && timeout 240 fio --name=averify --filename=/dev/dswap0 --rw=randwrite \
		--bs=$bs --size=16M --ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --verify_async=2 --verify_state_save=0 2>&1)
	rc=$?
	echo "$out" | grep -E 'err=|verify' | sed 's/^/  fio: /'
	[ $rc = 0 ] || fail "fio verify at QD16, bs=$bs, failed ($rc)"
	echo "$out" | grep -q 'err= 0' || fail "fio reported errors at QD16, bs=$bs"
done
read -r reads _ _ fr fw _ </sys/block/dswap0/remote_stat
[ "$fr" = 0 ] && [ "$fw" = 0 ] || fail "failed I/O counted after the QD16 passes"
log "QD16 verify passes (4 KiB and 64 KiB blocks) intact; $reads pages read in all"

# The disk's own I/O statistics (iostat, /proc/diskstats) count our bios.
read -r rios _ rsec _ wios _ wsec _ </sys/block/dswap0/stat
log "/sys/block/dswap0/stat: $rios reads ($rsec sectors), $wios writes ($wsec sectors)"
[ "$rios" -gt 0 ] && [ "$wios" -gt 0 ] && [ "$rsec" -ge $((rios * 8)) ] && [ "$wsec" -ge $((wios * 8)) ] ||
	fail "the disk's stat file does not count our I/O"

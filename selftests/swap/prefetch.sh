#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The prefetch cache on the raw /dev/dswap0 (one memory node, RDMA), page
# by page with O_DIRECT (pagecheck):
#  1. 16 MiB of a pattern unique to every page, read back in order: every
#     page intact, pages were read ahead and used (remote_stat prefetched,
#     prefetch_used > 0), and prefetched = used + wasted + still cached;
#  2. the same pages in a random order: every page intact, and next to no
#     page read ahead used;
#  3. invalidation by writes: a read in order stops with pages ahead of it
#     cached; 64 of them are overwritten with a new pattern: prefetch_wasted
#     grows (the cached ones are dropped) and the reads go on in order
#     through them and see the new pattern, then the old one after;
#     then a read in order where each page is overwritten (new pattern)
#     right after the read two pages before it: every page reads as its
#     new pattern;
#  4. invalidation by discards (if blkdiscard is there): the same with a
#     discard: the pages read as zeros;
#  5. prefetch=off: a read in order reads nothing ahead; bad knob values
#     are refused; prefetch_pages answers EBUSY after disksize.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
SWAP_NODES=1
. "$DG_SELFTESTS/swap/setup.sh"
pagecheck=$DG_PROJ/build/selftests/pagecheck
[ -x "$pagecheck" ] || fail "$pagecheck not built (run 'make selftests')"
PREFETCHED=15 USED=16 WASTED=17		# remote_stat columns
PAGES=4096

swap_setup 64M
SWAP_DIR=$(mktemp -d)
dg_cleanup_push "rm -rf $SWAP_DIR"
swap_require prefetch prefetch_pages
[ "$(cat /sys/block/dswap0/prefetch)" = trend ] ||
	fail "prefetch is '$(cat /sys/block/dswap0/prefetch)', want the default trend"
echo 32M >/sys/block/dswap0/disksize || fail "disksize"
pf() { awk -v a=$PREFETCHED -v b=$USED -v c=$WASTED '{ print $a, $b, $c }' /sys/block/dswap0/remote_stat; }
"$pagecheck" write /dev/dswap0 0 $PAGES 1 >/dev/null || fail "writing 16 MiB to the raw device"

# pcread ARGS...: pagecheck read, all intact, or the test fails.
pcread() {
	local out
	out=$(timeout 120 "$pagecheck" read --expect-intact "$@" 2>&1) ||
		{ echo "$out"; fail "pagecheck read $*: not every page intact"; }
	log "  $out"
}

# 1. In order.
pcread /dev/dswap0 0 $PAGES 1
read -r p u w < <(pf)
log "in order: prefetched $p used $u wasted $w"
[ "$p" -gt 0 ] && [ "$u" -gt 0 ] || fail "a read in order read nothing ahead, or used nothing of it"
[ "$u" -ge $((PAGES / 2)) ] || fail "only $u of $PAGES pages read in order came from the prefetch cache"
[ $((u + w)) -le "$p" ] || fail "used $u + wasted $w > prefetched $p"
[ $((p - u - w)) -le "$(cat /sys/block/dswap0/prefetch_pages)" ] ||
	fail "$((p - u - w)) pages cached, more than prefetch_pages"

# 2. At random.
pcread --random /dev/dswap0 0 $PAGES 1
read -r p2 u2 w2 < <(pf)
log "at random: prefetched $((p2 - p)) used $((u2 - u)) wasted $((w2 - w))"
[ $(((u2 - u) * 50)) -le $PAGES ] || fail "$((u2 - u)) pages read at random came from the prefetch cache"

# 3. Pages read ahead, then overwritten: the new data.
pcread /dev/dswap0 1000 100 1
read -r p3 u3 w3 < <(pf)
cached=$((p3 - u3 - w3))
log "read 1000-1099 in order: $cached pages cached"
[ "$cached" -gt 0 ] || fail "no page cached ahead of a read in order"
"$pagecheck" write /dev/dswap0 1100 64 2 >/dev/null || fail "overwriting pages 1100-1163"
read -r p4 u4 w4 < <(pf)
log "overwrote 1100-1163: wasted +$((w4 - w3))"
[ "$w4" -gt "$w3" ] || fail "overwriting cached pages dropped none of them"
pcread /dev/dswap0 1100 64 2
pcread /dev/dswap0 1164 100 1
# Each page overwritten just after the read before it: its read ahead is
# in flight or done when the write lands.
read -r _ _ w5 < <(pf)
out=$(timeout 120 "$pagecheck" chase /dev/dswap0 3600 496 1 4 2>&1) ||
	{ echo "$out"; fail "a page overwritten while read ahead read stale data"; }
read -r _ _ w6 < <(pf)
log "  $out"
log "chase: 496 pages each overwritten right after the read two pages before it: wasted +$((w6 - w5))"
[ "$w6" -gt "$w5" ] || fail "no page read ahead was dropped by the writes chasing the reads"

# 4. Pages read ahead, then discarded: zeros.
if command -v blkdiscard >/dev/null; then
	pcread /dev/dswap0 2000 100 1
	read -r _ _ w5 < <(pf)
	blkdiscard -o $((2100 * 4096)) -l $((64 * 4096)) /dev/dswap0 || fail "blkdiscard"
	read -r _ _ w6 < <(pf)
	[ "$w6" -gt "$w5" ] || fail "discarding cached pages dropped none of them"
	dd if=/dev/dswap0 of="$SWAP_DIR/z" bs=4096 skip=2100 count=64 iflag=direct status=none ||
		fail "reading the discarded pages"
	cmp -s "$SWAP_DIR/z" <(head -c $((64 * 4096)) /dev/zero) ||
		fail "discarded pages do not read as zeros: $(od -An -tx8 -N16 "$SWAP_DIR/z")"
	log "discarded 2100-2163 after a read ahead: wasted +$((w6 - w5)), zeros read"
else
	log "no blkdiscard: discard case not checked"
fi

# 5. Off, and the knobs.
echo off >/sys/block/dswap0/prefetch || fail "prefetch=off refused"
read -r p7 _ _ < <(pf)
pcread /dev/dswap0 3000 256 1
read -r p8 _ _ < <(pf)
[ "$p8" = "$p7" ] || fail "prefetch=off read $((p8 - p7)) pages ahead"
for v in on 1 "" trendy; do
	echo "$v" >/sys/block/dswap0/prefetch 2>/dev/null && fail "prefetch='$v' accepted"
done
echo 64 >/sys/block/dswap0/prefetch_pages 2>/dev/null && fail "prefetch_pages changed after disksize"
echo trend >/sys/block/dswap0/prefetch || fail "prefetch=trend refused"
echo 1 >/sys/block/dswap0/reset || fail "reset"
echo 99999 >/sys/block/dswap0/prefetch_pages 2>/dev/null && fail "prefetch_pages=99999 accepted"
echo 64 >/sys/block/dswap0/prefetch_pages || fail "prefetch_pages=64 refused before disksize"
echo 32M >/sys/block/dswap0/disksize || fail "disksize again"
"$pagecheck" write /dev/dswap0 0 1024 3 >/dev/null || fail "writing 4 MiB after reset"
pcread /dev/dswap0 0 1024 3
read -r p u w < <(pf)
log "prefetch_pages 64: prefetched $p used $u wasted $w"
[ "$u" -gt 0 ] || fail "nothing used with prefetch_pages 64"
[ $((p - u - w)) -le 64 ] || fail "$((p - u - w)) pages cached with prefetch_pages 64"
echo 256 >/sys/block/dswap0/prefetch_pages 2>/dev/null && fail "prefetch_pages changed after disksize"
log "pass"

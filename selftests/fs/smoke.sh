#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disaggfs smoke test: disagg-stord on remote host 1 (TCP) and host 2
# (RDMA); on each a mount that creates, writes, reads (after dropping the
# page cache), renames, links, lists, truncates, maps, does O_DIRECT,
# xattrs, statfs, reads an open-unlinked file, and removes everything;
# every result is checked against the export directory on the node.
# The first node runs from a config file (--config) with --metrics: its
# counts of the requests only the test's own commands make (MKDIR, RMDIR,
# LINK, SYMLINK, MKNOD) are exact, without errors, and stat after create
# and `ls -l` cost no GETATTR per file (entry replies, READDIRPLUS). The
# RDMA node serves --metrics too: with 2 CPUs, requests made from CPU 1
# while CPU 0 makes its own arrive on queue pair 1 and are answered there
# (DG_FEAT_MQ).
# Then umount and rmmod leave no slab cache behind.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
[ -x "$FSPROBE" ] || skip "fsprobe not built (run 'make selftests')"

fs_setup 2

# check WHAT CMD...: run CMD, fail the test with WHAT if it fails.
check() {
	local what=$1
	shift
	"$@" || fail "$what"
}

# mq_check METRICS MNT: 16 files made and removed from CPU 1 while CPU 0
# lists the mount (not directories: host 1's MKDIR count is exact): at
# least 16 requests arrive on queue pair 1 and as many replies leave on it.
mq_check() {
	local metrics=$1 m=$2 k rx tx rx0 n
	if [ "$(nproc)" -lt 2 ]; then
		log "rdma: one CPU, messages on one queue: not checked"
		return 0
	fi
	k='disagg_stord_rdma_queue_%s_total{queue="%s"}'
	host_metrics "$metrics" >/tmp/stord-mq.metrics || fail "rdma: no metrics at $metrics"
	metrics_read /tmp/stord-mq.metrics
	rx=${METRIC[$(printf "$k" received 1)]:-0}
	tx=${METRIC[$(printf "$k" sent 1)]:-0}
	taskset -c 0 sh -c 'for n in 1 2 3 4 5 6 7 8; do ls -a "$1" >/dev/null; done' sh "$m" &
	taskset -c 1 sh -c 'for n in $(seq 16); do : >"$1/mq$n"; done
		for n in $(seq 16); do rm "$1/mq$n"; done' sh "$m" ||
		fail "rdma: create/unlink from CPU 1"
	wait $! || fail "rdma: ls from CPU 0"
	host_metrics "$metrics" >/tmp/stord-mq.metrics || fail "rdma: no metrics at $metrics"
	metrics_read /tmp/stord-mq.metrics
	rx=$((${METRIC[$(printf "$k" received 1)]:-0} - rx))
	tx=$((${METRIC[$(printf "$k" sent 1)]:-0} - tx))
	rx0=${METRIC[$(printf "$k" received 0)]:-0}
	[ "$rx" -ge 16 ] && [ "$tx" -ge 16 ] && [ "$rx0" -gt 0 ] ||
		fail "rdma: queue 1 received $rx and sent $tx messages (want 16+), queue 0 $rx0 (want some)"
	log "rdma: CPU 1's requests on queue pair 1: $rx in, $tx out (queue 0: $rx0 in)"
}

# Requests stord counted for OP in a saved metrics page (0 when none).
req_count() { # file op
	metrics_read "$1"
	echo "${METRIC[disagg_stord_requests_total{op=\"$2\"\}]:-0}"
}

# Entry replies and READDIRPLUS (DG_FEAT_FSATTR), counted at the node:
# 20 times an exclusive create, close and lstat of the new file in a
# subdirectory cost exactly the 20 CREATEs (the lookup of an O_EXCL create
# asks nothing, the reply fills the cache of the file and of the
# directory, whose dentry each path walk revalidates: without the
# directory's attributes in the reply that was a GETATTR per walk);
# `ls -l` of 50 files made on the node costs
# one READDIRPLUS and no GETATTR per file (at most one: the mount root's
# own, should its 1-second attribute timeout run out between the two
# scrapes); a mount with nordirplus lists them with one READDIR; a
# listing asks for attributes beyond its first reply only once the
# directory had a lookup at the node (NFS's readdirplus heuristic).
round_trips() { # t exp m metrics
	local t=$1 exp=$2 m=$3 metrics=$4 k c g d u
	# The MKDIR's reply starts cs's attribute timeout (1 s here) just
	# before the creates, whose replies renew it.
	host_metrics "$metrics" >/tmp/rt0 || fail "$t: no metrics at $metrics"
	mkdir "$m/cs" || fail "$t: mkdir cs"
	"$FSPROBE" create-stat "$m/cs" 20 | sed "s/^/  $t: /"
	host_metrics "$metrics" >/tmp/rt1 || fail "$t: no metrics at $metrics"
	c=$(($(req_count /tmp/rt1 fs_create) - $(req_count /tmp/rt0 fs_create)))
	g=$(($(req_count /tmp/rt1 fs_getattr) - $(req_count /tmp/rt0 fs_getattr)))
	[ "$c/$g" = 20/0 ] || fail "$t: create + lstat: CREATE/GETATTR $c/$g, want 20/0"
	for k in $(seq 50); do : >"$exp/p$k"; done
	stat "$m" >/dev/null
	host_metrics "$metrics" >/tmp/rt2 || fail "$t: no metrics at $metrics"
	[ "$(ls -l "$m" | grep -c ' p[0-9]*$')" = 50 ] || fail "$t: ls -l: $(ls "$m")"
	host_metrics "$metrics" >/tmp/rt3 || fail "$t: no metrics at $metrics"
	d=$(($(req_count /tmp/rt3 fs_readdirplus) - $(req_count /tmp/rt2 fs_readdirplus)))
	d=$d/$(($(req_count /tmp/rt3 fs_readdir) - $(req_count /tmp/rt2 fs_readdir)))
	g=$(($(req_count /tmp/rt3 fs_getattr) - $(req_count /tmp/rt2 fs_getattr)))
	[ "$d" = 1/0 ] && [ "$g" -le 1 ] ||
		fail "$t: ls -l of 50 files: READDIRPLUS/READDIR $d, GETATTR $g, want 1/0, at most 1"
	# nordirplus: plain READDIR, a second mount of the same export.
	fs_mount 1 "$t" "$m-nrp" "nordirplus"
	grep -q " $m-nrp disaggfs .*,nordirplus" /proc/mounts || fail "$t: nordirplus not shown"
	[ "$(ls "$m-nrp" | grep -c '^p[0-9]*$')" = 50 ] || fail "$t: ls with nordirplus"
	host_metrics "$metrics" >/tmp/rt4 || fail "$t: no metrics at $metrics"
	umount "$m-nrp" || fail "$t: umount $m-nrp"
	d=$(($(req_count /tmp/rt4 fs_readdirplus) - $(req_count /tmp/rt3 fs_readdirplus)))
	d=$d/$(($(req_count /tmp/rt4 fs_readdir) - $(req_count /tmp/rt3 fs_readdir)))
	[ "$d" = 0/1 ] || fail "$t: ls with nordirplus: READDIRPLUS/READDIR $d, want 0/1"
	# The READDIRPLUS heuristic: listing 1200 names (more than one
	# reply's worth with attributes) asks for attributes in the first
	# reply only; after a lookup at the node in that directory, the whole
	# next listing carries them.
	mkdir "$exp/big" || fail "$t: mkdir big"
	for k in $(seq 1200); do : >"$exp/big/q$k"; done
	host_metrics "$metrics" >/tmp/rt5 || fail "$t: no metrics at $metrics"
	[ "$(ls "$m/big" | grep -c '^q[0-9]*$')" = 1200 ] || fail "$t: ls big"
	host_metrics "$metrics" >/tmp/rt6 || fail "$t: no metrics at $metrics"
	stat "$m/big/none" 2>/dev/null && fail "$t: stat big/none succeeded"
	[ "$(ls "$m/big" | grep -c '^q[0-9]*$')" = 1200 ] || fail "$t: ls big again"
	host_metrics "$metrics" >/tmp/rt7 || fail "$t: no metrics at $metrics"
	d=$(($(req_count /tmp/rt6 fs_readdirplus) - $(req_count /tmp/rt5 fs_readdirplus)))
	d=$d/$(($(req_count /tmp/rt6 fs_readdir) - $(req_count /tmp/rt5 fs_readdir)))
	[ "${d%/*}" = 1 ] && [ "${d#*/}" -ge 1 ] ||
		fail "$t: ls of 1200 names: READDIRPLUS/READDIR $d, want 1/>=1"
	k=$(($(req_count /tmp/rt7 fs_readdirplus) - $(req_count /tmp/rt6 fs_readdirplus)))
	k=$k/$(($(req_count /tmp/rt7 fs_readdir) - $(req_count /tmp/rt6 fs_readdir)))
	[ "${k%/*}" -ge 2 ] && [ "${k#*/}" = 0 ] ||
		fail "$t: ls after a lookup: READDIRPLUS/READDIR $k, want >=2/0"
	rm -r "$exp/big" || fail "$t: rm big on the node"
	# UNLINK's reply carries the directory (DG_FEAT_RMATTR): removing the
	# 20 files of cs costs no GETATTR of cs between them (without it, one
	# per file). The glob's READDIRPLUS refreshes the files; allow two
	# should the 1-second timeouts run out during the glob.
	host_metrics "$metrics" >/tmp/rt8 || fail "$t: no metrics at $metrics"
	rm "$m"/cs/cs-* || fail "$t: rm cs/cs-*"
	host_metrics "$metrics" >/tmp/rt9 || fail "$t: no metrics at $metrics"
	c=$(($(req_count /tmp/rt9 fs_unlink) - $(req_count /tmp/rt8 fs_unlink)))
	u=$(($(req_count /tmp/rt9 fs_getattr) - $(req_count /tmp/rt8 fs_getattr)))
	[ "$c" = 20 ] && [ "$u" -le 2 ] ||
		fail "$t: rm of 20 files: UNLINK/GETATTR $c/$u, want 20/at most 2"
	[ -z "$(ls -A "$exp/cs")" ] || fail "$t: cs not empty on the node: $(ls -A "$exp/cs")"
	rm -r "$m"/p* "$m/cs" || fail "$t: rm p* cs"
	log "$t: create + lstat x20: 20 CREATE, 0 GETATTR; ls -l of 50 files: 1 READDIRPLUS, $g GETATTR; ls of 1200: $d, after a lookup $k; rm x20: $u GETATTR"
}

suite() {
	local i=$1 t=$2 exp=/tmp/export-$2 m=/mnt/dg-$2 metrics op want got
	metrics=$(host_addr "$i"):9471
	if [ "$i" = 1 ]; then
		fs_stord_start_conf "$i" "$t" "$exp" "$metrics"
	elif [ "$t" = rdma ]; then
		fs_stord_start "$i" "$t" "$exp" --squash none --allow-setid \
			--allow-sys-xattrs --metrics "$metrics"
	else
		fs_stord_start "$i" "$t" "$exp"
	fi
	fs_mount "$i" "$t" "$m" "acregmin=1,acdirmin=1"
	grep " $m disaggfs " /proc/mounts | sed "s/^/  $t: /"
	[ "$t" = rdma ] && mq_check "$metrics" "$m"
	[ "$i" = 1 ] && round_trips "$t" "$exp" "$m" "$metrics"

	# Small file, through to the node.
	echo hello >"$m/f" || fail "$t: create f"
	[ "$(cat "$exp/f")" = hello ] || fail "$t: f did not reach the node"
	[ "$(cat "$m/f")" = hello ] || fail "$t: read back f"
	echo world >>"$m/f"
	[ "$(cat "$exp/f")" = "$(printf 'hello\nworld')" ] || fail "$t: append"

	# Bigger data: write, read after dropping the cache, compare with the node.
	check "$t: write 3 MB" "$FSPROBE" write "$m/big" 3000000 1
	cmp -s "$m/big" "$exp/big" || fail "$t: big differs on the node"
	echo 3 >/proc/sys/vm/drop_caches
	check "$t: verify big" "$FSPROBE" verify "$m/big" 3000000 1
	truncate -s 100000 "$m/big" || fail "$t: truncate"
	[ "$(stat -c %s "$exp/big")" = 100000 ] || fail "$t: truncate did not reach the node"
	[ "$(stat -c %s "$m/big")" = 100000 ] || fail "$t: size after truncate"
	cmp -s "$m/big" "$exp/big" || fail "$t: data after truncate"

	# Shared writable mapping, O_DIRECT.
	check "$t: mmap write" "$FSPROBE" mmap-write "$m/map" 1048576 2
	cmp -s "$m/map" "$exp/map" || fail "$t: mapped data did not reach the node"
	check "$t: O_DIRECT" "$FSPROBE" direct "$m/dio" 1048576 3
	cmp -s "$m/dio" "$exp/dio" || fail "$t: O_DIRECT data differs on the node"

	# Names: mkdir, rename (file, over a file, directory), link, symlink.
	mkdir -p "$m/d/sub" || fail "$t: mkdir"
	[ -d "$exp/d/sub" ] || fail "$t: mkdir did not reach the node"
	mv "$m/f" "$m/d/g" || fail "$t: rename"
	[ -e "$exp/f" ] && fail "$t: old name still on the node"
	[ "$(head -n 1 "$m/d/g")" = hello ] || fail "$t: renamed file"
	echo other >"$m/o"
	mv "$m/o" "$m/d/g" || fail "$t: rename over a file"
	[ "$(cat "$exp/d/g")" = other ] || fail "$t: rename over a file on the node"
	mv "$m/d" "$m/e" || fail "$t: rename a directory"
	[ "$(cat "$m/e/g")" = other ] || fail "$t: path under a renamed directory"
	ln "$m/e/g" "$m/e/h" || fail "$t: link"
	[ "$(stat -c %h "$m/e/g")" = 2 ] || fail "$t: link count"
	ln -s g "$m/e/s" || fail "$t: symlink"
	[ "$(readlink "$m/e/s")" = g ] || fail "$t: readlink"
	[ "$(cat "$m/e/s")" = other ] || fail "$t: follow symlink"
	echo one >"$m/x1" && echo two >"$m/x2" || fail "$t: create x1 x2"
	check "$t: renameat2" "$FSPROBE" exchange "$m/x1" "$m/x2"
	[ "$(cat "$exp/x1")$(cat "$m/x2")" = twoone ] || fail "$t: exchange on the node"
	rm "$m/x1" "$m/x2"
	mkfifo "$m/e/fifo" || fail "$t: mknod fifo"
	[ -p "$exp/e/fifo" ] && [ -p "$m/e/fifo" ] || fail "$t: fifo type"
	rm "$m/e/fifo"
	chmod 640 "$m/e/g" || fail "$t: chmod"
	[ "$(stat -c %a "$exp/e/g")" = 640 ] || fail "$t: chmod on the node"
	touch -d '2001-02-03 04:05:06' "$m/e/g" || fail "$t: utimes"
	[ "$(stat -c %Y "$exp/e/g")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] ||
		fail "$t: utimes on the node"
	[ "$(ls "$m/e" | tr '\n' ' ')" = "g h s sub " ] || fail "$t: readdir: $(ls "$m/e")"

	# user.* where the export's filesystem has them (tmpfs only from 6.6).
	ns=user
	"$FSPROBE" xattr-ok "$exp/e/g" user || ns=trusted
	check "$t: $ns.* xattrs" "$FSPROBE" xattr "$m/e/g" "$ns"
	check "$t: open-unlinked file" "$FSPROBE" unlinked "$m/e/u"
	df "$m" | sed "s/^/  $t: /"
	[ "$(stat -f -c %t "$m")" = 44474653 ] || fail "$t: statfs type"

	# Directories: 300 files created, listed and removed through the
	# mount; 10,000 made on the node and listed through the mount (one
	# READDIR carries about 1,000 of them).
	mkdir "$m/dir"
	check "$t: directory" "$FSPROBE" bigdir "$m/dir" 300
	rmdir "$m/dir" || fail "$t: rmdir"
	mkdir "$exp/big-dir" && "$FSPROBE" mkfiles "$exp/big-dir" "${DG_FS_NFILES:-10000}" >/dev/null ||
		fail "$t: making files on the node"
	check "$t: large directory" "$FSPROBE" readdir "$m/big-dir" "${DG_FS_NFILES:-10000}"
	rm -r "$exp/big-dir"

	# Remove everything.
	rm -r "$m/e" "$m/big" "$m/map" "$m/dio" || fail "$t: rm"
	[ -z "$(ls -A "$exp")" ] || fail "$t: left on the node: $(ls -A "$exp")"
	[ -z "$(ls -A "$m")" ] || fail "$t: left in the mount: $(ls -A "$m")"
	check "$t: umount" umount "$m"
	if [ "$i" = 1 ]; then
		# mkdir cs (round_trips), mkdir -p d/sub, mkdir dir; rm -r cs,
		# rmdir dir, rm -r e (e, e/sub); ln; ln -s; mkfifo.
		host_metrics "$metrics" >"/tmp/stord-$t.metrics" || fail "$t: no metrics at $metrics"
		metrics_read "/tmp/stord-$t.metrics"
		for want in fs_mkdir=4 fs_rmdir=4 fs_link=1 fs_symlink=1 fs_mknod=1; do
			op=${want%=*}
			got=${METRIC[disagg_stord_requests_total{op=\"$op\"\}]:-}/${METRIC[disagg_stord_request_errors_total{op=\"$op\"\}]:-}
			[ "$got" = "${want#*=}/0" ] ||
				fail "$t: stord metrics: $op requests/errors $got, want ${want#*=}/0"
		done
		log "$t: stord --config with --metrics: MKDIR 4, RMDIR 4, LINK 1, SYMLINK 1, MKNOD 1, no errors"
	fi
	log "$t: all checks passed"
	fs_stord_stop "$t"
}

n=0
for t in $(fs_transports); do
	n=$((n + 1))
	suite "$n" "$t"
done

check "rmmod disaggfs" rmmod disaggfs
grep -q disaggfs /proc/slabinfo 2>/dev/null && fail "disaggfs slab cache left behind"
log "umount and rmmod clean"
exit 0

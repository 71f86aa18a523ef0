#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disagg-stord on remote host 1, over TCP and then over RDMA: dg-fsclient
# sends ordinary requests (create, write, read back, readdir, rename) and a
# hostile suite (absolute paths, "..", NUL bytes, symlinks to /etc, to
# "../..", through /proc/self/root, malformed frames); every escape must be
# refused with EINVAL or EXDEV, and the files planted outside the root must
# be unread and unchanged afterwards. SIGTERM must end the daemon with 0.
# The daemon runs with keys: a client without a key or with a wrong secret
# is refused before any request. Over RDMA, one-sided file data too
# (DG_FEAT_RDMA_FS, dg-fsclient --rdma-fs): a 1 MB write and read back
# through 3 and 4 segments, checked byte for byte and against a two-sided
# read, the byte counters of --metrics exact, malformed segments refused,
# and a wrong rkey drops only that connection.
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
. "$DG_SELFTESTS/lib/keys.sh"
dg_require_vm

STORD=$DG_BINDIR/stord/disagg-stord
CLIENT=$DG_BINDIR/tools/dg-fsclient
[ -x "$STORD" ] && [ -x "$CLIENT" ] || skip "daemons not built (run 'make daemons')"
command -v rdma >/dev/null || skip "rdma (iproute2) not installed (run scripts/setup)"

PORT=7471
WORK=$(mktemp -d /tmp/stord-selftest.XXXXXX)
ROOT=$WORK/root
OUT=$WORK/outside
dg_cleanup_push "rm -rf '$WORK'"
dg_cleanup_push hosts_down
hosts_up 1 || fail "cannot set up remote hosts"
keys_setup || fail "cannot make the key file"
BADKEYS=$WORK/badkeys
(umask 077 && echo "client $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$BADKEYS")

# Files outside the root, with access times older than their contents so
# any read moves them.
plant() {
	rm -rf "$ROOT" "$OUT"
	mkdir -p "$ROOT/sub" "$OUT/dir"
	echo "outside secret" >"$OUT/secret"
	echo "more secret" >"$OUT/dir/secret2"
	touch -a -d @1000 "$OUT/secret" "$OUT/dir/secret2"
	ln -s "$OUT" "$ROOT/abs"
	ln -s "$OUT/secret" "$ROOT/abs_file"
	ln -s ../outside "$ROOT/rel"
	ln -s ../../outside "$ROOT/sub/up2"
	ln -s /etc "$ROOT/etc"
	ln -s "/proc/self/root$OUT" "$ROOT/magic"
	echo inside >"$ROOT/file"
}
outside_state() {
	find "$OUT" -printf '%p %m %U:%G %s %T@ %n\n' | sort
	stat -c '%n atime %X' "$OUT/secret" "$OUT/dir/secret2"
	md5sum "$OUT/secret" "$OUT/dir/secret2" 2>/dev/null | sed 's/ .*//'
	# Our own read above moved the access times: set them back.
	touch -a -d @1000 "$OUT/secret" "$OUT/dir/secret2"
}

anon() { # anon TRANSPORT ARGS...: dg-fsclient without a key
	local t=$1
	shift
	timeout 120 "$CLIENT" --connect "$(host_addr 1):$PORT" --bind "$(local_addr 1)" \
		--transport "$t" --timeout 60 "$@"
}
fsc() { # fsc TRANSPORT ARGS...: as the identity "client"
	local t=$1
	shift
	anon "$t" --key-file "$DG_KEYFILE" --identity client "$@"
}
# expect TRANSPORT ERR ARGS...: the request gets status ERR.
expect() {
	local t=$1 want=$2 out
	shift 2
	out=$(fsc "$t" --expect "$want" "$@" 2>&1) ||
		fail "$t: '$*' did not get $want: $(echo "$out" | tail -n 2)"
}

# expect_each TRANSPORT ERR ARGS...: expect TRANSPORT ERR for each ARGS (one
# string, split at spaces), two clients at a time (each connects on its own,
# mostly CPU-bound start-up under emulation; the guest has two CPUs).
expect_each() {
	local t=$1 want=$2 a failed=$WORK/failed pids=()
	shift 2
	: >"$failed"
	for a in "$@"; do
		# shellcheck disable=SC2086
		(out=$(fsc "$t" --expect "$want" $a 2>&1) ||
			echo "'$a' did not get $want: $(echo "$out" | tail -n 2)" >>"$failed") &
		pids+=($!)
		# Only our own: the daemon is a background job of this shell too.
		if [ ${#pids[@]} -ge 2 ]; then
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		fi
	done
	wait "${pids[@]}"
	[ ! -s "$failed" ] || fail "$t: $(head -n 3 "$failed")"
}

le() { # le VALUE BYTES: VALUE as BYTES little-endian bytes in hex
	local i out=
	for ((i = 0; i < $2; i++)); do
		out+=$(printf %02x $((($1 >> (8 * i)) & 255)))
	done
	echo "$out"
}
seg() { echo "$(le "$1" 8)$(le "$2" 4)$(le "$3" 4)"; } # seg ADDR LEN RKEY: a dg_fs_seg

# One-sided READ and WRITE over RDMA; @1: the daemon's --metrics address.
one_sided() {
	local metrics=$1 n=1000003 pat=$WORK/pattern got=$WORK/got two=$WORK/two out
	head -c $n /dev/urandom >"$pat"
	expect rdma 0 create os --mode 644
	out=$(fsc rdma --rdma-fs --segs 3 write os --data-file "$pat" --flags 1 2>&1) ||
		fail "rdma: one-sided write failed: $out"
	echo "$out" | grep -q "written: $n bytes" || fail "rdma: one-sided write: $out"
	cmp -s "$pat" "$ROOT/os" || fail "rdma: one-sided write differs on disk"
	out=$(fsc rdma --rdma-fs --segs 4 read os --count 1048576 --out "$got" 2>&1) ||
		fail "rdma: one-sided read failed: $out"
	echo "$out" | grep -q "one-sided: $n bytes in 4 segments" || fail "rdma: one-sided read: $out"
	cmp -s "$pat" "$got" || fail "rdma: one-sided read differs from the file"
	fsc rdma read os --offset 500000 --count 65536 --out "$two" >/dev/null ||
		fail "rdma: two-sided read failed"
	tail -c +500001 "$got" | head -c 65536 | cmp -s - "$two" ||
		fail "rdma: one-sided and two-sided reads differ"
	host_metrics "$metrics" >"$WORK/m1" || fail "rdma: no metrics at $metrics"
	metrics_read "$WORK/m1"
	[ "${METRIC[disagg_stord_rdma_write_bytes_total]}/${METRIC[disagg_stord_rdma_read_bytes_total]}" = $n/$n ] ||
		fail "rdma: metrics rdma_write/read_bytes ${METRIC[disagg_stord_rdma_write_bytes_total]}/${METRIC[disagg_stord_rdma_read_bytes_total]}, want $n/$n"
	log "rdma: one-sided write (3 segments) and read (4) of $n bytes: identical to the file and to a two-sided read; rdma_write/read_bytes $n/$n"

	# Malformed segments are refused before any transfer: 5 of them, more
	# than 1 MiB in all; a wrong rkey ends the connection, not the daemon.
	expect rdma EINVAL --rdma-fs read os --flags 0x100 --count 80 --data-hex \
		"$(seg 0x10000 16 1)$(seg 0x10000 16 1)$(seg 0x10000 16 1)$(seg 0x10000 16 1)$(seg 0x10000 16 1)"
	expect rdma EINVAL --rdma-fs write os --flags 0x100 --count 1200000 --data-hex \
		"$(seg 0x10000 600000 1)$(seg 0x100000 600000 1)"
	expect rdma EPROTO read os --flags 0x100 --count 16 --data-hex "$(seg 0x10000 16 1)"
	expect rdma closed --rdma-fs read os --flags 0x100 --count 4096 --data-hex \
		"$(seg 0x10000 4096 0x7badbad)"
	out=$(fsc rdma --rdma-fs --segs 2 read os --count 4096 --out "$got" 2>&1) ||
		fail "rdma: no one-sided read after a dropped client: $out"
	head -c 4096 "$pat" | cmp -s - "$got" || fail "rdma: read after a dropped client differs"
	host_metrics "$metrics" >"$WORK/m2" || fail "rdma: no metrics at $metrics"
	metrics_read "$WORK/m2"
	[ "${METRIC[disagg_stord_rdma_write_bytes_total]}/${METRIC[disagg_stord_rdma_bulk_errors_total]}" = $((n + 4096))/1 ] ||
		fail "rdma: after the hostile cases: rdma_write_bytes/bulk_errors $(grep -E 'rdma_(write_bytes|bulk_errors)_total ' "$WORK/m2" | tr '\n' ' ')"
	log "rdma: 5 segments, 1.2 MB of segments: EINVAL; segments without the feature: EPROTO; a wrong rkey: that client dropped, the next one served"
}

suite() {
	local t=$1 name=stord-$1 before after op p hex args out metrics=
	plant
	before=$(outside_state)
	[ "$t" = rdma ] && metrics=$(host_addr 1):9479
	# shellcheck disable=SC2086
	host_start 1 "$name" "$STORD" --listen "$(host_addr 1):$PORT" --transport "$t" \
		--root "$ROOT" --threads 4 --squash none $DAEMON_KEYS ${metrics:+--metrics "$metrics"}
	host_wait_log "$name" "listening on" || fail "$name did not start"
	log "$name listening on $(host_addr 1):$PORT, root $ROOT, with keys"

	# No key, or a wrong secret: refused before any request.
	out=$(anon "$t" getattr file 2>&1) && fail "$t: a client without a key got in"
	echo "$out" | grep -q "Permission denied" || fail "$t: no key: $out"
	out=$(anon "$t" --key-file "$BADKEYS" --identity client create stolen --mode 644 2>&1) &&
		fail "$t: a wrong secret got in"
	echo "$out" | grep -q "Key was rejected" || fail "$t: wrong secret: $out"
	[ ! -e "$ROOT/stolen" ] || fail "$t: a refused client created a file"
	log "$t: no key and a wrong secret refused"

	# Ordinary use.
	expect "$t" 0 mkdir d --mode 777
	expect "$t" 0 create d/f --mode 644 --as 1000:1000
	expect "$t" 0 write d/f --data "hello over $t" --flags 1 --as 1000:1000
	fsc "$t" read d/f --count 100 | grep -q "\"hello over $t\"" || fail "$t: read back failed"
	fsc "$t" readdir d --count 4096 | grep -q '"f"' || fail "$t: readdir misses d/f"
	expect "$t" 0 rename d/f --name2 d/g
	expect "$t" 0 fsync d/g
	expect "$t" ENOENT getattr d/f
	[ "$(cat "$ROOT/d/g")" = "hello over $t" ] || fail "$t: file content wrong on disk"
	[ "$(stat -c %u:%g "$ROOT/d/g")" = 1000:1000 ] || fail "$t: not the caller's"
	# A read as large as a message allows (64 KiB) over this transport.
	head -c 65536 /dev/urandom >"$ROOT/big"
	fsc "$t" read big --count 65536 | grep -q "data: 65536 bytes" || fail "$t: 64 KiB read failed"
	log "$t: create, write (sync), read back, 64 KiB read, readdir, rename, fsync: ok"

	# Malformed paths: EINVAL, for reading and changing ops alike.
	args=()
	for p in /etc/passwd / .. ../outside/secret a/../.. sub/../../outside/secret ./file \
		sub//x sub/; do
		for op in getattr "read --count 10" "write --data x" "create" "unlink" \
			"mkdir" "setattr --valid 1 --mode 777" "readdir --count 4096"; do
			args+=("$op $p")
		done
	done
	expect_each "$t" EINVAL "${args[@]}"
	expect "$t" EINVAL getattr --path-hex 66696c6500		# "file\0"
	expect "$t" EINVAL read --path-hex 72656c002f736563726574 --count 10	# "rel\0/secret"
	expect "$t" EINVAL rename file --name2 ../stolen
	expect "$t" EINVAL link file --name2 /tmp/stolen
	# Symlinks out of the root: EXDEV (ELOOP for the magic link).
	args=()
	for p in abs/secret rel/secret sub/up2/secret abs/dir/secret2 etc/passwd abs_file \
		rel/new; do
		args+=("read $p --count 100" "write $p --data pwned" "setattr $p --valid 8 --offset 0"
			"create $p/x")
	done
	expect_each "$t" EXDEV "${args[@]}"
	expect "$t" EXDEV read magic/secret --count 100	# absolute, so EXDEV first
	expect "$t" EXDEV statfs abs
	expect "$t" EXDEV fsync abs_file
	expect "$t" EXDEV link abs/secret --name2 stolen
	expect "$t" EOPNOTSUPP setattr abs_file --valid 1 --mode 777
	# A new symlink may point anywhere; following it is refused.
	expect "$t" 0 symlink evil --name2 /etc/shadow
	expect "$t" EXDEV read evil --count 10
	# Malformed frames: an unknown opcode (0x027f), lengths past the payload.
	expect "$t" EOPNOTSUPP raw --raw-hex 4447414702007f024c00000000000000050000000000000004000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000066696c65
	expect "$t" EINVAL raw --raw-hex 444741470200000248000000000000000600000000000000ffffffff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
	log "$t: hostile paths and frames refused"
	[ "$t" != rdma ] || one_sided "$metrics"

	after=$(outside_state)
	[ "$before" = "$after" ] || fail "$t: files outside the root changed or were read:
$(diff <(echo "$before") <(echo "$after"))"
	[ -L "$ROOT/abs" ] && [ -L "$ROOT/magic" ] || fail "$t: planted links are gone"
	fsc "$t" status | grep -q 'requests.x22:' || fail "$t: no status"
	host_stop "$name" || fail "$name did not exit on SIGTERM"
	grep -q "served .* requests" "$HOSTS_LOGDIR/$name.log" || fail "$name did not exit cleanly"
	if grep -E ': error: ' "$HOSTS_LOGDIR/$name.log" | grep -q .; then
		fail "$name logged errors: $(grep -E ': error: ' "$HOSTS_LOGDIR/$name.log" | head -n 3)"
	fi
	log "$t: files outside the root untouched; SIGTERM: clean exit"
}

suite tcp
suite rdma
log "stord over tcp and rdma: hostile suite passed"

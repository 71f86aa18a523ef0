#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A hostile storage node (dg-hostile over TCP) answers disaggfs with
# malformed replies: mounting fails cleanly while its HELLO replies are
# bad; once mounted (soft, timeo=1, noac), stat, readdir, read, write,
# xattrs, create, rename and unlink fail or succeed but never hang, and
# the kernel logs no warning, while it sends tens of thousands of bad
# replies of every kind. Then a real disagg-stord takes its address: the
# same mount (no remount) works again. DG_HOSTILE_FULL=1 sends 100,000 bad
# replies here alone.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/../fs/setup.sh"
. "$DG_SELFTESTS/hostile/lib.sh"
BAD=${DG_HOSTILE_FS_BAD:-50000}
[ "${DG_HOSTILE_FULL:-0}" = 1 ] && BAD=100000
SECS=${DG_HOSTILE_SECS:-45}
BAD_FRAMING=${DG_HOSTILE_FRAMING_BAD:-40}
SECS_FRAMING=${DG_HOSTILE_FRAMING_SECS:-15}
EXP=/tmp/export-hostile
MNT=/mnt/dg-hostile

fs_setup 1 --no-rxe
# dg-hostile runs open (no keys), so the mount names none, and so does the
# real disagg-stord that takes its address at the end.
FS_KEY=
DAEMON_KEYS=
fs_reconnect_fast
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
log "seed $HOSTILE_SEED (DG_HOSTILE_SEED=$HOSTILE_SEED repeats this run)"
src="$(host_addr 1):$FS_PORT"
mkdir -p $MNT

# Every HELLO reply bad: the mount fails, within the call timeout.
hostile_start 1 hello fs "$FS_PORT" 1000 --hello-pct 100 \
	--hello hello-major,hello-hdr-major,hello-features,hello-minor,hello-short,hello-long,hello-status,hello-garbage
for ((k = 0; k < 4; k++)); do
	t0=$SECONDS
	mount -t disaggfs "$src" $MNT -o "transport=tcp,src=$(local_addr 1),soft,timeo=1" 2>/dev/null &&
		fail "mounted a node with a bad HELLO reply"
	((SECONDS - t0 <= 15)) || fail "mounting a node with a bad HELLO took $((SECONDS - t0)) s"
done
host_stop hello
log "4 mounts refused: $(hostile_report hello | head -n 1)"
HOSTILE_TOTAL=$(hostile_count hello)

# A node that offers authentication but holds no key: every mount with
# key=client fails (wrong proof, malformed or missing AUTH reply) in time.
keys_kernel client || fail "cannot add the kernel key"
hostile_start 1 auth fs "$FS_PORT" 1000 --auth
for ((k = 0; k < 6; k++)); do
	t0=$SECONDS
	mount -w -t disaggfs "$src" $MNT -o "transport=tcp,src=$(local_addr 1),soft,timeo=1,key=client" 2>/dev/null &&
		fail "mounted a node that cannot prove the key"
	((SECONDS - t0 <= 15)) || fail "mounting a node with a bad AUTH reply took $((SECONDS - t0)) s"
done
host_stop auth
log "6 mounts with a key refused: $(hostile_report auth | head -n 1)"
HOSTILE_TOTAL=$((HOSTILE_TOTAL + $(hostile_count auth)))

# Good HELLO and root GETATTR, then bad replies that keep the stream's
# framing (the bulk), then ones that break it or the HELLO (each costs a
# reconnect).
hostile_start 1 bulk fs "$FS_PORT" "$BAD" --mode stray,answer --good-first 4 --burst 160
fs_mount 1 tcp $MNT "soft,timeo=1,noac"
hostile_phase bulk "framed bad replies" "$SECS" fs $MNT
n=$(hostile_count bulk)
[ "${n:-0}" -ge "$BAD" ] || fail "only ${n:-0} of $BAD bad replies sent in $SECS s"
hostile_start 1 framing fs "$FS_PORT" "$BAD_FRAMING" --mode framing --hello all --hello-pct 30
hostile_phase framing "stream-breaking and HELLO replies" "$SECS_FRAMING" fs $MNT

# A real node at the same address: the soft mount works again as it is,
# for paths below the root. The root itself had its identity (ino, dev)
# from the hostile node, and a mount's root that now names another file
# is ESTALE until a remount; the real node's root is another file.
fs_fresh "$EXP"
echo hello >"$EXP/file"
fs_stord_start 1 tcp "$EXP"
for ((t = 0; t < 30; t++)); do
	[ "$(cat $MNT/file 2>/dev/null)" = hello ] && break
	sleep 1
done
[ "$(cat $MNT/file 2>/dev/null)" = hello ] || fail "mount not usable 30 s after disagg-stord started"
head -c 200000 /dev/urandom >/tmp/hostile-data
cp /tmp/hostile-data $MNT/copy && sync $MNT/copy || fail "write after recovery"
cmp -s /tmp/hostile-data "$EXP/copy" || fail "the node holds other data"
fs_drop_caches
cmp -s /tmp/hostile-data $MNT/copy || fail "read back wrong after recovery"
log "recovered after $t s without a remount: read and write below the root work"
if ! ls $MNT >/dev/null 2>"$EXP.err"; then
	grep -q "Stale file handle" "$EXP.err" || fail "ls of the root after recovery: $(cat "$EXP.err")"
	log "the root is ESTALE (the hostile node gave it another identity): remount"
	# umount(8) stats the path first, which fails with ESTALE: -f skips that.
	umount $MNT 2>/dev/null || umount -f $MNT || fail "umount of the stale mount"
	mount -t disaggfs "$src" $MNT -o "transport=tcp,src=$(local_addr 1),soft,timeo=1,noac" ||
		fail "mount again"
fi
[ "$(ls $MNT | sort | tr '\n' ' ')" = "copy file " ] || fail "ls after recovery: $(ls $MNT)"
cmp -s /tmp/hostile-data $MNT/copy || fail "read back wrong after the remount"
log "ls, read and write work"
umount $MNT || fail "umount"
echo "hostile storage node: $HOSTILE_TOTAL malformed replies"

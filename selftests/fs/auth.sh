#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Authentication of storage nodes, over TCP and RDMA: a mount with the
# right key works; without a key, with a key the node refuses and with a
# key the kernel does not hold, mount fails with its own errno and a log
# line saying why, within the timeout; a mount against an open node that
# names a key is refused. Nothing logs a secret.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"

fs_setup 2
keyctl add logon disagg:other "$(keys_secret client)" @u >/dev/null || fail "keyctl other"

# refuse I TRANSPORT OPTS "strerror regex" "log pattern" (-w: no read-only
# retry after EACCES)
refuse() {
	local i=$1 t=$2 o="transport=$2,src=$(local_addr "$1"),soft,timeo=2$3" want=$4 why=$5 err
	local start=$SECONDS
	dmesg -C
	mkdir -p /mnt/dg-auth
	err=$(mount -w -t disaggfs "$(host_addr "$i"):$FS_PORT" /mnt/dg-auth -o "$o" 2>&1) &&
		{ umount /mnt/dg-auth; fail "$t: mount with '$o' succeeded"; }
	[ $((SECONDS - start)) -le 15 ] || fail "$t: mount with '$o' took $((SECONDS - start)) s"
	[[ $err =~ $want ]] || fail "$t: mount with '$o': '$err', want '$want'"
	dmesg | grep 'disagg_net:' | grep -q "$why" ||
		fail "$t: mount with '$o': no log line saying '$why': $(dmesg | tail -n 4)"
	log "$t: ${o#*timeo=2}: $want"
}

for t in $(fs_transports); do
	i=1
	[ "$t" = rdma ] && i=2
	fs_stord_start "$i" "$t" "/tmp/export-$t"
	# EACCES: mount(8) says "write-protected" after its read-only retry.
	refuse "$i" "$t" "" "Permission denied|write-protected" "requires a key"
	refuse "$i" "$t" ",key=other" "Key was rejected" "refused key"
	refuse "$i" "$t" ",key=nosuch" "Required key not available" "no usable key"
	fs_mount "$i" "$t" "/mnt/dg-$t"
	echo "authenticated $t" >"/mnt/dg-$t/f" || fail "$t: write through an authenticated mount"
	fs_drop_caches
	[ "$(cat "/tmp/export-$t/f")" = "authenticated $t" ] || fail "$t: the node has the wrong bytes"
	grep -q "key=client" /proc/mounts || fail "$t: /proc/mounts does not show key=client"
	umount "/mnt/dg-$t" || fail "$t: umount"
	fs_stord_stop "$t"
	log "$t: mounted with key=client, wrote, read back on the node"
	# The same node run open: a mount that names a key refuses it.
	host_start "$i" "stord-open-$t" "$STORD" --listen "$(host_addr "$i"):$FS_PORT" \
		--root "/tmp/export-$t" --transport "$t"
	host_wait_log "stord-open-$t" "listening" || fail "open disagg-stord did not start"
	refuse "$i" "$t" ",key=client" "Permission denied|write-protected" "does not authenticate"
	host_stop "stord-open-$t"
done
for s in "$(keys_secret client)" "$(keys_secret other)"; do
	grep -rq "$s" "$HOSTS_LOGDIR" && fail "a daemon logged a secret"
	dmesg | grep -q "$s" && fail "the kernel logged a secret"
done
exit 0

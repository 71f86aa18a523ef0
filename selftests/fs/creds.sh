#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The node acts with the caller's rights: disagg-stord with its default
# export options (root squashed to 65534) and a mount over TCP. An
# unprivileged user cannot read another user's 0600 file and owns what it
# creates on the node; root's files appear as 65534 and root cannot read
# a root 0600 file. A set-user-ID program put in the export shows without
# its bit and runs without it unless the mount has trust_setid. With
# --squash none but no --allow-devices, mknod of a character device is
# EPERM; with it, the device exists but cannot be opened unless trust_dev.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$(dirname "$0")/setup.sh"
command -v setpriv >/dev/null || skip "setpriv not installed"
EXP=/tmp/export-creds
M=/mnt/dg-creds
U=1000 OTHER=2000 GRP=3000

fs_setup 1 --no-rxe

# as UID [GROUPS] CMD...: run CMD as UID:UID with supplementary GROUPS
# ("" for none).
as() {
	local uid=$1 groups=$2
	shift 2
	if [ -n "$groups" ]; then
		setpriv --reuid="$uid" --regid="$uid" --groups="$groups" -- "$@"
	else
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
	fi
}
expect() { # WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	log "ok: $1"
}
start() { # mount-options stord-options...
	local o=$1
	shift
	fs_stord_start 1 tcp "$EXP" "$@"
	fs_mount 1 tcp "$M" "noac${o:+,$o}"
}
stop() {
	umount "$M" || fail "umount $M"
	fs_stord_stop tcp
}

fs_fresh "$EXP"
mkdir -m 1777 "$EXP/pub"
echo "other's secret" >"$EXP/pub/other"
chown $OTHER:$OTHER "$EXP/pub/other"
chmod 600 "$EXP/pub/other"
echo "group data" >"$EXP/pub/grp"
chown $OTHER:$GRP "$EXP/pub/grp"
chmod 640 "$EXP/pub/grp"
echo "root's secret" >"$EXP/pub/rootsecret"
chmod 600 "$EXP/pub/rootsecret"
# A set-user-ID root program, put there on the node itself.
cp "$(command -v id)" "$EXP/pub/suid-id"
chmod 4755 "$EXP/pub/suid-id"

# --- The defaults: root squashed.
start "" --squash root
grep " $M disaggfs " /proc/mounts | sed 's/^/  /'

got=$(as $U "" cat "$M/pub/other" 2>&1) && fail "uid $U read uid $OTHER's 0600 file: $got"
log "ok: uid $U cannot read uid $OTHER's 0600 file ($got)"
expect "uid $U with group $GRP reads a 0640 file of that group" \
	"$(as $U $GRP cat "$M/pub/grp")" "group data"
as $U "" cat "$M/pub/grp" >/dev/null 2>&1 && fail "uid $U without group $GRP read a 0640 file"

as $U "" sh -c "echo mine >'$M/pub/mine' && mkdir '$M/pub/mydir'" ||
	fail "uid $U cannot create in a 1777 directory"
expect "uid $U's file is its own on the node" "$(stat -c %u:%g "$EXP/pub/mine")" "$U:$U"
expect "uid $U's directory is its own on the node" "$(stat -c %u:%g "$EXP/pub/mydir")" "$U:$U"
expect "and so it shows on the client" "$(stat -c %u:%g "$M/pub/mine")" "$U:$U"
# Created 0444 and written through the same descriptor (nfsd's owner
# override on the node).
as $U "" sh -c "umask 0222; echo ro >'$M/pub/ro'" || fail "uid $U: write to its new 0444 file"
expect "a 0444 file written by its creator" "$(cat "$EXP/pub/ro")" ro

echo "root was here" >"$M/pub/byroot" || fail "root cannot create in a 1777 directory"
expect "root's new file is 65534's on the node" "$(stat -c %u:%g "$EXP/pub/byroot")" \
	"65534:65534"
got=$(cat "$M/pub/rootsecret" 2>&1) && fail "squashed root read a root 0600 file: $got"
log "ok: squashed root cannot read a root 0600 file ($got)"
(echo x >"$M/rootfile") 2>/dev/null && fail "squashed root created a file in the 0755 root"
log "ok: squashed root cannot create in a 0755 root directory"

# Set-user-ID: not shown, not honoured.
expect "a set-user-ID file shows without the bit" "$(stat -c %a "$M/pub/suid-id")" 755
expect "and runs without it" "$(as $U "" "$M/pub/suid-id" -u)" $U
stop

start trust_setid --squash root
expect "trust_setid: the bit shows" "$(stat -c %a "$M/pub/suid-id")" 4755
expect "trust_setid: and is honoured" "$(as $U "" "$M/pub/suid-id" -u)" 0
stop

# --- Devices: refused by the node, then not opened by the client.
start "" --squash none
mkfifo "$M/pub/fifo" || fail "mkfifo refused"
got=$(mknod "$M/pub/null" c 1 3 2>&1) && fail "mknod of a character device was allowed"
case $got in
*"not permitted"*) log "ok: mknod c refused ($got)" ;;
*) fail "mknod c: want EPERM, got: $got" ;;
esac
[ -e "$EXP/pub/null" ] && fail "the device exists on the node"
stop

start "" --squash none --allow-devices
mknod "$M/pub/null" c 1 3 || fail "mknod c with --allow-devices"
[ -c "$EXP/pub/null" ] || fail "no device on the node"
got=$(head -c 1 "$M/pub/null" 2>&1) && fail "the node's device opened without trust_dev"
log "ok: without trust_dev the device cannot be opened ($got)"
stop

start trust_dev --squash none --allow-devices
head -c 1 "$M/pub/null" >/dev/null || fail "trust_dev: cannot open the node's /dev/null"
log "ok: trust_dev: the device opens"
stop

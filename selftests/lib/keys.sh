# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Keys for the selftests: every swap and fs test authenticates. Sourced
# after common.sh.
#
#   keys_setup            make $DG_KEYFILE (mode 0600) with three identities:
#                         "client" (what the modules use), "other" (an
#                         unrelated client, for the hijack tests) and
#                         "admin" (marked admin: full STATUS); each secret
#                         is 64 random hex digits. Idempotent per test.
#   keys_secret NAME      print NAME's secret
#   keys_kernel NAME      put NAME's secret in the kernel as the logon key
#                         "disagg:NAME" in root's user keyring (@u), where
#                         memory_nodes/add and mount find it
#   keys_kernel_clear     unlink every disagg: key keys_kernel added
#   DAEMON_KEYS           "--keys $DG_KEYFILE" for a daemon's command line

DG_KEYFILE=${DG_KEYFILE:-}
DAEMON_KEYS=

_keys_rand() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

keys_setup() {
	[ -n "$DG_KEYFILE" ] && [ -f "$DG_KEYFILE" ] && return 0
	DG_KEYFILE=$(mktemp /tmp/dg-keys.XXXXXX) || return 1
	chmod 600 "$DG_KEYFILE"
	{
		echo "# disagg selftest keys: NAME SECRET [admin]"
		echo "client $(_keys_rand)"
		echo "other $(_keys_rand)"
		echo "admin $(_keys_rand) admin"
	} >"$DG_KEYFILE"
	DAEMON_KEYS="--keys $DG_KEYFILE"
	export DG_KEYFILE DAEMON_KEYS
	if declare -F dg_cleanup_push >/dev/null; then
		dg_cleanup_push keys_teardown
	fi
}

keys_secret() {
	awk -v n="$1" '$1 == n { print $2 }' "$DG_KEYFILE"
}

keys_kernel() {
	local s
	s=$(keys_secret "$1")
	[ -n "$s" ] || { echo "keys: no key '$1'" >&2; return 1; }
	keyctl add logon "disagg:$1" "$s" @u >/dev/null
}

keys_kernel_clear() {
	local n id
	for n in client other admin; do
		id=$(keyctl search @u logon "disagg:$n" 2>/dev/null) || continue
		keyctl unlink "$id" @u >/dev/null 2>&1
	done
}

keys_teardown() {
	keys_kernel_clear
	[ -n "$DG_KEYFILE" ] && rm -f "$DG_KEYFILE"
	DG_KEYFILE=
	DAEMON_KEYS=
}

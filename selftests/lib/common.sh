# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by every selftest. A test is one executable that prints what it
# does and exits 0 (pass), 4 (skip, kselftest's KSFT_SKIP) or anything else
# (fail); selftests/run_tests turns that into TAP.

set -u
KSFT_SKIP=4
DG_SELFTESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DG_PROJ=${DG_PROJ:-$(cd "$DG_SELFTESTS/.." && pwd)}
DG_KVER=${DG_KVER:-$(uname -r)}
DG_MODDIR=$DG_PROJ/build/modules/$DG_KVER
DG_BINDIR=$DG_PROJ/build/daemons

# shellcheck source=hosts.sh
. "$DG_SELFTESTS/lib/hosts.sh"
# shellcheck source=keys.sh
. "$DG_SELFTESTS/lib/keys.sh"

log() { echo "$*"; }
skip() { echo "SKIP: $*"; exit "$KSFT_SKIP"; }
fail() {
	echo "FAIL: $*"
	hosts_dump_logs
	exit 1
}

# Refuse to run outside a scripts/vm guest: tests load modules and change
# routing, which must never happen on the machine we build on.
dg_require_vm() {
	[ "${DG_IN_VM:-0}" = 1 ] || skip "runs only inside a scripts/vm guest"
}

# dg_module NAME: path of our built module NAME for the running kernel.
dg_module() {
	local f
	f=$(find "$DG_MODDIR" -name "$1.ko" 2>/dev/null | head -n 1)
	[ -n "$f" ] || fail "$1.ko not built for $DG_KVER (run 'make modules-all')"
	echo "$f"
}

# dg_cleanup_push CMD: run CMD on exit, last pushed first.
DG_CLEANUP=()
dg_cleanup_push() { DG_CLEANUP=("$1" "${DG_CLEANUP[@]}"); }
_dg_cleanup() {
	local c
	for c in "${DG_CLEANUP[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
}
trap _dg_cleanup EXIT

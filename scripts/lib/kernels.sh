# shellcheck shell=bash
# Find the Debian kernels installed on this machine. Sourced by scripts/*.
#
# A kernel is usable when /boot has its image and /lib/modules has its
# modules and build (headers) directory. Versions are found at run time,
# never hard-coded: "6.1" means the newest installed 6.1.x.

# dg_kernels: print usable kernel releases, oldest first.
dg_kernels() {
	local d rel
	for d in /lib/modules/*/; do
		rel=$(basename "$d")
		[ -e "/boot/vmlinuz-$rel" ] && [ -d "$d/build" ] && [ -e "$d/modules.dep" ] &&
			echo "$rel"
	done | sort -V
}

# dg_kernel_resolve SPEC: print the release for SPEC, which is a full release
# ("6.1.0-56-amd64"), a series ("6.1", "6.12") or "default" (newest 6.1).
dg_kernel_resolve() {
	local spec=${1:-default} rel
	[ "$spec" = default ] && spec=6.1
	if [ -e "/boot/vmlinuz-$spec" ]; then
		echo "$spec"
		return 0
	fi
	rel=$(dg_kernels | grep -E "^${spec//./\\.}([.-]|$)" | tail -n 1)
	if [ -z "$rel" ]; then
		echo "no installed kernel matches '$spec' (have: $(dg_kernels | tr '\n' ' '))" >&2
		return 1
	fi
	echo "$rel"
}

# dg_kdir_release KDIR: print the release (the name `uname -r` gives when
# that kernel runs) whose headers are at KDIR. Debian's kernel.release is
# not always that name, so match KDIR against /lib/modules/*/build first.
dg_kdir_release() {
	local kdir d
	kdir=$(realpath -q "$1") || return 1
	for d in /lib/modules/*/; do
		if [ "$(realpath -q "$d/build")" = "$kdir" ]; then
			basename "$d"
			return 0
		fi
	done
	cat "$kdir/include/config/kernel.release" 2>/dev/null
}

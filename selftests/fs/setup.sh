# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the disaggfs selftests (after lib/common.sh): disagg-stord on
# remote host I, disaggfs mounted from it over TCP or RDMA.
#
#   fs_setup N [--no-rxe]            N remote hosts, disagg_net and disaggfs
#                                    loaded; unmounts and unloads on exit
#   fs_stord_start I TRANSPORT EXP [OPT...]
#                                    disagg-stord on host I exporting EXP
#                                    (daemon name stord-TRANSPORT) with the
#                                    export options OPT (default: root's
#                                    rights, set-ID bits and trusted.*
#                                    xattrs, as the tests run as root and
#                                    compare with a local filesystem;
#                                    creds.sh tests the defaults)
#   fs_stord_start_conf I TRANSPORT EXP METRICS
#                                    the same with the default export options
#                                    from a config file (--config) that also
#                                    serves metrics at METRICS (ADDR:PORT)
#   fs_stord_stop TRANSPORT [SIG]    stop it (SIGTERM, or SIG, e.g. KILL)
#   fs_mount I TRANSPORT MNT [OPTS]  mount host I's export on MNT
#   fs_remount MNT                   umount and mount again, same options
#   fs_reconnect_fast                reconnect attempts at least every 500 ms
#                                    (for tests that restart disagg-stord)
#   fs_transports                    the transports to test ($DG_FS_TRANSPORTS,
#                                    default "tcp rdma")
#   fs_drop_caches                   sync and drop the page cache
#   fs_fresh DIR...                  remove DIRs and make them again, empty
#   STORD, FSPROBE, POSIXCMP, FSLOAD paths of the programs

STORD=${DG_FS_STORD:-$DG_BINDIR/stord/disagg-stord}
FSPROBE=$DG_PROJ/build/selftests/fsprobe
POSIXCMP=$DG_PROJ/build/selftests/posixcmp
FSLOAD=$DG_PROJ/build/selftests/fsload
FS_PORT=${FS_PORT:-7471}
# The key fs_mount names (selftests/lib/keys.sh); empty: none, for nodes
# that run without keys.
FS_KEY=${FS_KEY-client}
declare -A FS_MOUNT_ARGS=()

fs_transports() { echo "${DG_FS_TRANSPORTS:-tcp rdma}"; }

fs_teardown() {
	local m
	# -f, and no test of the path: a plain umount(8) or a stat of the
	# mount point waits like any request on a hard mount whose node is gone.
	awk '$3 == "disaggfs" { print $2 }' /proc/mounts | while read -r m; do
		umount -f "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rmmod disaggfs 2>/dev/null
	rmmod disagg_net 2>/dev/null
	hosts_down
}

fs_setup() {
	[ -x "$STORD" ] || skip "disagg-stord not built (run 'make daemons')"
	dg_cleanup_push fs_teardown
	keys_setup || fail "cannot make the test keys"
	keys_kernel client || fail "cannot add the kernel key"
	hosts_up "$@" || fail "cannot set up remote hosts"
	modprobe rdma_cm 2>/dev/null	# disagg_net links against the RDMA core
	insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
	insmod "$(dg_module disaggfs)" || fail "insmod disaggfs"
}

fs_stord_start() { # i transport export [options]
	local i=$1 t=$2 exp=$3 name=stord-$2
	shift 3
	[ $# -gt 0 ] || set -- --squash none --allow-setid --allow-sys-xattrs
	mkdir -p "$exp"
	host_start "$i" "$name" "$STORD" --listen "$(host_addr "$i"):$FS_PORT" \
		--root "$exp" --transport "$t" $DAEMON_KEYS "$@"
	host_wait_log "$name" "listening" || fail "$name did not start"
}

fs_stord_start_conf() { # i transport export metrics
	local i=$1 t=$2 exp=$3 name=stord-$2 conf=$HOSTS_STATE/stord-$2.conf
	mkdir -p "$exp" "$HOSTS_STATE"
	{
		echo "# written by fs_stord_start_conf (selftests/fs/setup.sh)"
		echo "listen = $(host_addr "$i"):$FS_PORT"
		echo "root = $exp"
		echo "transport = $t"
		echo "squash = none"
		echo "allow-setid = true"
		echo "allow-sys-xattrs = true"
		echo "metrics = $4"
		[ -n "$DAEMON_KEYS" ] && echo "keys = $DG_KEYFILE"
	} >"$conf"
	host_start "$i" "$name" "$STORD" --config "$conf"
	host_wait_log "$name" "listening" || fail "$name did not start"
}

fs_stord_stop() { # transport [signal]
	local name=stord-$1 f pid
	if [ -n "${2:-}" ]; then
		f=$HOSTS_STATE/$name.pid
		pid=$(cat "$f" 2>/dev/null) || return 0
		rm -f "$f"
		kill "-$2" "$pid" 2>/dev/null
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		wait "$pid" 2>/dev/null	# reap it without bash's "Killed" notice
		return 0
	fi
	host_stop "$name"
}

fs_mount() { # i transport mnt [opts]
	local i=$1 t=$2 m=$3 o="transport=$2,src=$(local_addr "$1")"
	[ -n "$FS_KEY" ] && o="$o,key=$FS_KEY"
	[ -n "${4:-}" ] && o="$o,$4"
	mkdir -p "$m"
	FS_MOUNT_ARGS[$m]="$(host_addr "$i"):$FS_PORT -o $o"
	mount -t disaggfs "$(host_addr "$i"):$FS_PORT" "$m" -o "$o" || fail "$t: mount $m"
}

fs_remount() { # mnt
	local m=$1
	umount "$m" || fail "umount $m"
	# shellcheck disable=SC2086
	mount -t disaggfs ${FS_MOUNT_ARGS[$m]} "$m" || fail "mount $m again"
}

fs_reconnect_fast() {
	echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms ||
		fail "cannot set disagg_net's reconnect_max_ms"
}

fs_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

fs_fresh() {
	rm -rf "$@" && mkdir -p "$@" || fail "cannot make $*"
}

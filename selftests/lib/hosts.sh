# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Remote hosts inside one guest. Sourced by selftests and scripts.
#
# Host i (1..N) is the far end of its own veth link:
#   compute side  dgl<i>  198.18.<i>.1   rxe device rxe_l<i>
#   remote host   dgh<i>  198.18.<i>.2   rxe device rxe_h<i>
# (198.18.0.0/15 is the range RFC 2544 sets aside for benchmark networks.)
#
# Why both ends stay in the initial network namespace: in 6.1, rdma_rxe
# opens its UDP socket there only, so an rxe device moved into another
# namespace never receives RoCE packets. Instead, policy routing sends
# traffic between the two local addresses over the veth wire: a rule per
# peer address for locally generated packets (iif lo) picks a table whose
# only route leaves by that veth, the local table moves below those rules,
# and accept_local=1 / rp_filter=0 let each end accept packets from an
# address that is local too. Packets arriving on the wire (iif dgX) reach
# the local table and are delivered to the peer's address.
#
#   hosts_up N [--no-rxe]      create hosts 1..N (--no-rxe: TCP only)
#   host_addr I / local_addr I addresses of host I and of our end of its link
#   host_rxe I / local_rxe I   rxe device names
#   host_start I NAME CMD...   start a daemon for host I, log in $HOSTS_LOGDIR/NAME.log
#   host_stop NAME             SIGTERM it (SIGKILL after 5 s); returns its status
#   host_wait_port I PORT [S]  wait until something listens on host I's PORT
#   host_wait_log NAME PAT [S] wait until daemon NAME's log shows PAT
#   host_link_bytes I          "tx rx" byte counters of the host end of link I
#   host_metrics ADDR:PORT     a daemon's --metrics page (OpenMetrics text)
#   metrics_read FILE          the samples of a saved page into METRIC:
#                              ${METRIC[name]}, ${METRIC[name{labels}]}
#   hosts_down                 stop every daemon and remove everything
#   hosts_dump_logs            print every daemon log (for failures)

DG_HOST_PREFIX=${DG_HOST_PREFIX:-198.18}
HOSTS_LOGDIR=${HOSTS_LOGDIR:-${DG_OUT:-/tmp}/logs}
HOSTS_STATE=${HOSTS_STATE:-/run/disagg-hosts}
HOSTS_N=0

host_addr() { echo "$DG_HOST_PREFIX.$1.2"; }
local_addr() { echo "$DG_HOST_PREFIX.$1.1"; }
host_rxe() { echo "rxe_h$1"; }
local_rxe() { echo "rxe_l$1"; }

_hosts_err() { echo "hosts: $*" >&2; }

# Every program started costs a good fraction of a second in an emulated
# guest, and a test sets hosts up and tears them down twice: sysctls are
# written directly, loaded modules not probed again, and the links, routes
# and rules made by one ip (and one rdma) process each.

_hosts_sysctl() { # key value
	echo "$2" >"/proc/sys/${1//.//}" 2>/dev/null || { _hosts_err "sysctl $1=$2 failed"; return 1; }
}

_hosts_modprobe() { # module
	[ -d "/sys/module/$1" ] || modprobe "$1"
}

hosts_up() {
	local n=$1 rxe=1 i l h b=
	[ "${2:-}" = --no-rxe ] && rxe=0
	[[ $n =~ ^[1-9][0-9]?$ ]] || { _hosts_err "bad host count '$n'"; return 1; }
	mkdir -p "$HOSTS_LOGDIR" "$HOSTS_STATE" || return 1
	_hosts_modprobe veth || { _hosts_err "modprobe veth failed"; return 1; }
	if [ "$rxe" = 1 ]; then
		_hosts_modprobe rdma_rxe || { _hosts_err "modprobe rdma_rxe failed: no Soft-RoCE"; return 1; }
		_hosts_modprobe rdma_ucm || { _hosts_err "modprobe rdma_ucm failed"; return 1; }
	fi
	_hosts_sysctl net.ipv4.conf.all.rp_filter 0 &&
	_hosts_sysctl net.ipv4.conf.default.rp_filter 0 &&
	_hosts_sysctl net.ipv4.conf.all.accept_local 1 &&
	_hosts_sysctl net.ipv4.conf.default.accept_local 1 || return 1
	# Recorded before anything changes: hosts_down undoes a partial set-up.
	echo "$n" >"$HOSTS_STATE/n"
	HOSTS_N=$n
	# Local table below the per-peer rules (once).
	if [[ $(ip rule show pref 1000) != *"lookup local"* ]]; then
		b+="rule add pref 1000 lookup local"$'\n'
		b+="rule del pref 0 lookup local"$'\n'
	fi
	for ((i = 1; i <= n; i++)); do
		l=dgl$i h=dgh$i
		b+="link add $l type veth peer name $h"$'\n'
		b+="address add $(local_addr "$i")/24 dev $l"$'\n'
		b+="address add $(host_addr "$i")/24 dev $h"$'\n'
		b+="link set $l up"$'\n'
		b+="link set $h up"$'\n'
		# Locally generated packets to the host leave by our end, and back.
		b+="route add $(host_addr "$i") dev $l src $(local_addr "$i") table $((100 + i))"$'\n'
		b+="rule add pref 100 to $(host_addr "$i") iif lo lookup $((100 + i))"$'\n'
		b+="route add $(local_addr "$i") dev $h src $(host_addr "$i") table $((200 + i))"$'\n'
		b+="rule add pref 100 to $(local_addr "$i") iif lo lookup $((200 + i))"$'\n'
	done
	ip -batch - <<<"$b" || { _hosts_err "ip could not set up the links, routes and rules"; return 1; }
	for ((i = 1; i <= n; i++)); do
		_hosts_sysctl "net.ipv4.conf.dgl$i.rp_filter" 0 &&
		_hosts_sysctl "net.ipv4.conf.dgh$i.rp_filter" 0 || return 1
	done
	if [ "$rxe" = 1 ]; then
		b=
		for ((i = 1; i <= n; i++)); do
			b+="link add $(local_rxe "$i") type rxe netdev dgl$i"$'\n'
			b+="link add $(host_rxe "$i") type rxe netdev dgh$i"$'\n'
		done
		rdma -b - <<<"$b" || { _hosts_err "rdma link add failed"; return 1; }
	fi
	# Wait for the links' carrier and IPv4 to be usable (DAD is v6 only).
	for ((i = 1; i <= n; i++)); do
		_hosts_wait 5 ping -c 1 -W 1 -I "$(local_addr "$i")" "$(host_addr "$i")" ||
			{ _hosts_err "host $i ($(host_addr "$i")) does not answer ping"; return 1; }
	done
}

_hosts_wait() { # seconds cmd... : retry cmd every 0.2 s until it succeeds
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

host_start() { # i name cmd...
	local i=$1 name=$2
	shift 2
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { _hosts_err "bad daemon name '$name'"; return 1; }
	mkdir -p "$HOSTS_LOGDIR" "$HOSTS_STATE"
	echo "# host $i ($(host_addr "$i")): $*" >"$HOSTS_LOGDIR/$name.log"
	setsid "$@" </dev/null >>"$HOSTS_LOGDIR/$name.log" 2>&1 &
	echo $! >"$HOSTS_STATE/$name.pid"
}

host_stop() { # name
	local f=$HOSTS_STATE/$1.pid pid rc=0 t
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((t = 0; t < 50; t++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		_hosts_err "daemon $1 ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null
		rc=1
	fi
	wait "$pid" 2>/dev/null
	return $rc
}

host_wait_port() { # i port [seconds]
	_hosts_wait "${3:-10}" bash -c "ss -Hltn 'src $(host_addr "$1"):$2' | grep -q ." ||
		{ _hosts_err "nothing listens on $(host_addr "$1"):$2"; return 1; }
}

host_wait_log() { # name pattern [seconds]
	_hosts_wait "${3:-30}" grep -q -- "$2" "$HOSTS_LOGDIR/$1.log" ||
		{ _hosts_err "daemon $1 never logged '$2'"; return 1; }
}

host_link_bytes() { # i
	local d=/sys/class/net/dgh$1/statistics
	echo "$(cat "$d/tx_bytes") $(cat "$d/rx_bytes")"
}

host_metrics() { # addr:port
	curl -sSf --max-time 10 "http://$1/metrics"
}

# No program started per sample: each costs a good fraction of a second
# in an emulated guest.
declare -gA METRIC=()
metrics_read() { # file
	local k v
	METRIC=()
	while read -r k v _; do
		[[ $k == \#* ]] || METRIC[$k]=$v
	done <"$1"
}

hosts_dump_logs() {
	local f
	for f in "$HOSTS_LOGDIR"/*.log; do
		[ -e "$f" ] || continue
		echo "----- $f"
		tail -n 50 "$f"
	done
}

hosts_down() {
	local f i n b=
	for f in "$HOSTS_STATE"/*.pid; do
		[ -e "$f" ] || continue
		host_stop "$(basename "$f" .pid)"
	done
	read -r n 2>/dev/null <"$HOSTS_STATE/n" || n=$HOSTS_N
	# Nothing was set up (or it is torn down already).
	[ "${n:-0}" -gt 0 ] 2>/dev/null || return 0
	b=
	for ((i = 1; i <= n; i++)); do
		[ -e "/sys/class/infiniband/$(local_rxe "$i")" ] && b+="link delete $(local_rxe "$i")"$'\n'
		[ -e "/sys/class/infiniband/$(host_rxe "$i")" ] && b+="link delete $(host_rxe "$i")"$'\n'
	done
	[ -n "$b" ] && rdma -f -b - <<<"$b" >/dev/null 2>&1
	b=
	for ((i = 1; i <= n; i++)); do
		b+="rule del pref 100 to $(host_addr "$i") iif lo lookup $((100 + i))"$'\n'
		b+="rule del pref 100 to $(local_addr "$i") iif lo lookup $((200 + i))"$'\n'
		b+="route flush table $((100 + i))"$'\n'
		b+="route flush table $((200 + i))"$'\n'
		[ -e "/sys/class/net/dgl$i" ] && b+="link del dgl$i"$'\n'
	done
	if [[ $(ip rule show pref 1000) == *"lookup local"* ]]; then
		b+="rule add pref 0 lookup local"$'\n'
		b+="rule del pref 1000 lookup local"$'\n'
	fi
	ip -force -batch - <<<"$b" >/dev/null 2>&1
	rm -f "$HOSTS_STATE/n"
	HOSTS_N=0
	return 0
}

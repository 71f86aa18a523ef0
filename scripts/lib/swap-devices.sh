# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The block devices the swap benchmarks compare, set up and torn down one
# at a time inside a scripts/vm guest. Sourced by scripts/lib/bench-swap-guest
# and scripts/lib/bench-swap-apps-guest, after selftests/lib/hosts.sh and
# hosts_up 1: every remote device is served from host 1's address and
# reached from ours, so all of them cross the same veth + Soft-RoCE link.
#
#   swapdev_up NAME SIZE_MB   set NAME up; SWAPDEV = its block device,
#                             SWAPDEV_DESC = one line saying what it is;
#                             on failure returns 1 with SWAPDEV_ERR set
#                             (call swapdev_down NAME all the same)
#   swapdev_down NAME         tear NAME down (quietly, whatever state it is in)
#   swapdev_down_all          tear every device down
#   swapdev_info NAME         key=value lines about NAME after use (counters)
#
# NAME is one of:
#   dswap      /dev/dswap0: disagg_net + disagg_swap, disagg-memd on host 1, RDMA
#   dswap-tcp  the same over disagg_net's TCP backend (disagg-memd --transport tcp)
#   nvme-rdma  nvmet exporting a brd ramdisk on host 1's address, nvme-rdma from ours
#   nvme-tcp   the same with nvmet-tcp / nvme-tcp
#   nbd        nbd-server on host 1's address serving a tmpfs file, nbd-client (TCP)
#   zram       local compressed RAM disk (the kernel's default compressor)
#   disk       the guest's virtio disk with serial dg-disk (scripts/vm --disk),
#              backed by a file on the machine running QEMU (cache=none)
#
# Needs: OUT (a directory for the set-up tools' output), DG_PROJ, DG_KVER.
# Uses only interfaces of the modules and daemons as they are on main:
# memory_nodes/add, dswap0's slab_size, disksize, reset and remote_stat.

SWAPDEV_MODDIR=$DG_PROJ/build/modules/$DG_KVER
SWAPDEV_MEMD=$DG_PROJ/build/daemons/memd/disagg-memd
SWAPDEV_NQN=nqn.2026-01.org.disagg:bench
SWAPDEV_NBD_PORT=10809
SWAPDEV_MEMD_PORT=7470
SWAPDEV_NVMET=/sys/kernel/config/nvmet
# shellcheck disable=SC2034 # read by the scripts that source this file
SWAPDEV='' SWAPDEV_DESC='' SWAPDEV_ERR=''

_swapdev_fail() { SWAPDEV_ERR=$*; return 1; }

# ---- dswap over RDMA or TCP
_swapdev_dswap_down() {
	{ echo 1 >/sys/block/dswap0/reset; } 2>/dev/null
	{ echo m1 >/sys/kernel/disagg/memory_nodes/remove; } 2>/dev/null
	rmmod disagg_swap 2>/dev/null
	rmmod disagg_net 2>/dev/null
	host_stop memd
}
_swapdev_dswap_up() { # transport size_mb
	local tr=$1 size=$2 m
	for m in drivers/disagg_net mm/disagg_swap; do
		[ -f "$SWAPDEV_MODDIR/$m.ko" ] ||
			_swapdev_fail "$SWAPDEV_MODDIR/$m.ko not built (make modules-all)" || return 1
	done
	[ -x "$SWAPDEV_MEMD" ] || _swapdev_fail "$SWAPDEV_MEMD not built (make daemons)" || return 1
	insmod "$SWAPDEV_MODDIR/drivers/disagg_net.ko" || _swapdev_fail "insmod disagg_net" || return 1
	insmod "$SWAPDEV_MODDIR/mm/disagg_swap.ko" || _swapdev_fail "insmod disagg_swap" || return 1
	host_start 1 memd "$SWAPDEV_MEMD" --listen "$(host_addr 1):$SWAPDEV_MEMD_PORT" \
		--transport "$tr" --capacity 512M --slab-size 4M
	host_wait_log memd 'listening on' 15 || _swapdev_fail "disagg-memd did not start" || return 1
	echo "name=m1 transport=$tr addr=$(host_addr 1) port=$SWAPDEV_MEMD_PORT src=$(local_addr 1)" \
		>/sys/kernel/disagg/memory_nodes/add || _swapdev_fail "adding memory node m1" || return 1
	[ "$(cat /sys/kernel/disagg/memory_nodes/m1/state)" = up ] ||
		_swapdev_fail "memory node m1 not up" || return 1
	echo 4M >/sys/block/dswap0/slab_size && echo "${size}M" >/sys/block/dswap0/disksize ||
		_swapdev_fail "slab_size/disksize" || return 1
	SWAPDEV=/dev/dswap0
	SWAPDEV_DESC="/dev/dswap0 ${size} MiB, 4 MiB slabs on disagg-memd at $(host_addr 1):$SWAPDEV_MEMD_PORT over $tr"
}

# ---- nvme-rdma / nvme-tcp: nvmet on host 1's address, brd behind it
_swapdev_nvme_down() {
	local q=$SWAPDEV_NQN n=$SWAPDEV_NVMET m
	nvme disconnect -n "$q" >/dev/null 2>&1
	rm -f "$n/ports/1/subsystems/$q" 2>/dev/null
	rmdir "$n/ports/1" 2>/dev/null
	{ echo 0 >"$n/subsystems/$q/namespaces/1/enable"; } 2>/dev/null
	rmdir "$n/subsystems/$q/namespaces/1" 2>/dev/null
	rmdir "$n/subsystems/$q" 2>/dev/null
	for m in nvme-rdma nvme-tcp nvmet-rdma nvmet-tcp nvmet nvme-fabrics nvme-core nvme-keyring nvme-auth; do
		modprobe -r "$m" 2>/dev/null
	done
	rmmod brd 2>/dev/null
}
_swapdev_nvme_find() { # print /dev/nvmeXnY of our subsystem
	local b
	for b in /sys/block/nvme*n*; do
		[ -e "$b" ] || continue
		[[ $(basename "$b") =~ ^nvme[0-9]+n[0-9]+$ ]] || continue	# skip hidden nvmeXcYnZ paths
		if [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$SWAPDEV_NQN" ] ||
			[ "$(cat "$b/device/device/subsysnqn" 2>/dev/null)" = "$SWAPDEV_NQN" ]; then
			echo "/dev/$(basename "$b")"
			return 0
		fi
	done
	return 1
}
_swapdev_nvme_up() { # rdma|tcp size_mb
	local tr=$1 size=$2 s=$SWAPDEV_NVMET/subsystems/$SWAPDEV_NQN p=$SWAPDEV_NVMET/ports/1
	command -v nvme >/dev/null || _swapdev_fail "nvme (nvme-cli) not installed" || return 1
	modprobe brd rd_nr=1 rd_size=$((size * 1024)) || _swapdev_fail "modprobe brd" || return 1
	modprobe nvmet && modprobe "nvmet-$tr" || _swapdev_fail "modprobe nvmet nvmet-$tr" || return 1
	[ -d "$SWAPDEV_NVMET" ] || _swapdev_fail "no $SWAPDEV_NVMET (configfs)" || return 1
	mkdir "$s" && echo 1 >"$s/attr_allow_any_host" &&
		mkdir "$s/namespaces/1" && echo /dev/ram0 >"$s/namespaces/1/device_path" &&
		echo 1 >"$s/namespaces/1/enable" || _swapdev_fail "nvmet subsystem" || return 1
	mkdir "$p" && echo "$tr" >"$p/addr_trtype" && echo ipv4 >"$p/addr_adrfam" &&
		host_addr 1 >"$p/addr_traddr" && echo 4420 >"$p/addr_trsvcid" &&
		ln -s "$s" "$p/subsystems/$SWAPDEV_NQN" || _swapdev_fail "nvmet $tr port" || return 1
	modprobe "nvme-$tr" || _swapdev_fail "modprobe nvme-$tr" || return 1
	if ! timeout 60 nvme connect -t "$tr" -a "$(host_addr 1)" -s 4420 -n "$SWAPDEV_NQN" \
		--host-traddr="$(local_addr 1)" >"$OUT/nvme-$tr-connect.txt" 2>&1; then
		_swapdev_fail "nvme connect: $(tail -n 1 "$OUT/nvme-$tr-connect.txt")"
		return 1
	fi
	_hosts_wait 15 _swapdev_nvme_find || _swapdev_fail "no block device for $SWAPDEV_NQN" || return 1
	SWAPDEV=$(_swapdev_nvme_find)
	SWAPDEV_DESC="$SWAPDEV = /dev/ram0 (${size} MiB) on host 1 ($(host_addr 1):4420) via nvmet-$tr"
}

# ---- nbd: nbd-server on host 1's address, tmpfs file behind it
_swapdev_nbd_down() {
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	host_stop nbd-server
	rmmod nbd 2>/dev/null
	rm -f /tmp/bench-nbd.img /tmp/bench-nbd.conf
}
_swapdev_nbd_up() { # size_mb
	local img=/tmp/bench-nbd.img conf=/tmp/bench-nbd.conf
	command -v nbd-server >/dev/null && command -v nbd-client >/dev/null ||
		_swapdev_fail "nbd-server/nbd-client not installed" || return 1
	modprobe nbd nbds_max=1 || _swapdev_fail "modprobe nbd" || return 1
	truncate -s "$1M" "$img" || _swapdev_fail "creating $img" || return 1
	cat >"$conf" <<-EOF
	[generic]
	    listenaddr = $(host_addr 1)
	    port = $SWAPDEV_NBD_PORT
	    allowlist = false
	[bench]
	    exportname = $img
	EOF
	host_start 1 nbd-server nbd-server -C "$conf" -d
	host_wait_port 1 $SWAPDEV_NBD_PORT 15 || _swapdev_fail "nbd-server does not listen" || return 1
	if ! timeout 60 nbd-client "$(host_addr 1)" $SWAPDEV_NBD_PORT /dev/nbd0 -N bench -b 4096 \
		>"$OUT/nbd-client.txt" 2>&1; then
		_swapdev_fail "nbd-client: $(tail -n 1 "$OUT/nbd-client.txt")"
		return 1
	fi
	_hosts_wait 15 bash -c '[ "$(cat /sys/block/nbd0/size)" -gt 0 ]' ||
		_swapdev_fail "/dev/nbd0 has no size" || return 1
	SWAPDEV=/dev/nbd0
	SWAPDEV_DESC="/dev/nbd0 = tmpfs file (${1} MiB) on host 1 ($(host_addr 1):$SWAPDEV_NBD_PORT) over TCP"
}

# ---- zram: local baseline
_swapdev_zram_down() {
	{ echo 1 >/sys/block/zram0/reset; } 2>/dev/null
	rmmod zram 2>/dev/null
}
_swapdev_zram_up() { # size_mb
	local alg
	modprobe zram num_devices=1 || _swapdev_fail "modprobe zram" || return 1
	echo "$1M" >/sys/block/zram0/disksize || _swapdev_fail "zram disksize" || return 1
	alg=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/block/zram0/comp_algorithm)
	SWAPDEV=/dev/zram0
	SWAPDEV_DESC="/dev/zram0 $1 MiB ($alg), local"
}

# ---- disk: the virtio disk scripts/vm --disk attaches
_swapdev_disk_find() {
	local b
	for b in /sys/block/vd*; do
		[ -e "$b" ] || continue
		[ "$(cat "$b/serial" 2>/dev/null)" = dg-disk ] && { echo "/dev/$(basename "$b")"; return 0; }
	done
	return 1
}
_swapdev_disk_up() { # size_mb
	local d sz
	# No udev in the guest loads the driver for us.
	[ -d /sys/module/virtio_blk ] || modprobe virtio_blk 2>/dev/null
	_hosts_wait 10 _swapdev_disk_find
	d=$(_swapdev_disk_find) || _swapdev_fail "no virtio disk with serial dg-disk (scripts/vm --disk)" || return 1
	sz=$(($(cat "/sys/block/$(basename "$d")/size") / 2048))
	[ "$sz" -ge "$1" ] || _swapdev_fail "$d has $sz MiB, less than $1" || return 1
	SWAPDEV=$d
	SWAPDEV_DESC="$d, virtio-blk ($sz MiB), a file on the machine running QEMU, cache=none"
}

swapdev_up() { # name size_mb
	# shellcheck disable=SC2034
	SWAPDEV='' SWAPDEV_DESC='' SWAPDEV_ERR=''
	case $1 in
	dswap) _swapdev_dswap_up rdma "$2" ;;
	dswap-tcp) _swapdev_dswap_up tcp "$2" ;;
	nvme-rdma) _swapdev_nvme_up rdma "$2" ;;
	nvme-tcp) _swapdev_nvme_up tcp "$2" ;;
	nbd) _swapdev_nbd_up "$2" ;;
	zram) _swapdev_zram_up "$2" ;;
	disk) _swapdev_disk_up "$2" ;;
	*) _swapdev_fail "unknown device $1" ;;
	esac
}

swapdev_down() { # name
	case $1 in
	dswap|dswap-tcp) _swapdev_dswap_down ;;
	nvme-rdma|nvme-tcp) _swapdev_nvme_down ;;
	nbd) _swapdev_nbd_down ;;
	zram) _swapdev_zram_down ;;
	esac
	return 0
}

swapdev_down_all() {
	_swapdev_nbd_down
	_swapdev_nvme_down
	_swapdev_dswap_down
	_swapdev_zram_down
}

swapdev_info() { # name
	case $1 in
	dswap|dswap-tcp)
		echo "remote_stat=$(cat /sys/block/dswap0/remote_stat 2>/dev/null)"
		echo "node_stat=$(cat /sys/kernel/disagg/memory_nodes/m1/stat 2>/dev/null)"
		;;
	zram)
		echo "comp_algorithm=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/block/zram0/comp_algorithm 2>/dev/null)"
		echo "mm_stat=$(cat /sys/block/zram0/mm_stat 2>/dev/null)"
		;;
	esac
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disaggctl on a compute node, as disagg-swap.service runs it: two memory
# nodes (disagg-memd over RDMA, with keys) and a swap.conf naming them;
#  1. `disaggctl swap up` adds both nodes (m1 with key_file: disaggctl puts
#     the secret in the keyrings itself; m2 with the key already there),
#     writes replicas, slab_size and disksize, mkswap, swapon with the
#     file's priority; a second run changes nothing;
#  2. memcheck swaps through it (every page checked);
#  3. `disaggctl status --json` reports the device (size, copies, priority,
#     counters equal to remote_stat), both nodes up, and the memory node's
#     own STATUS (its memd.conf in DISAGG_CONF_DIR, asked over RDMA as the
#     admin identity of its key file);
#  4. `disaggctl metrics` writes the same counters in node_exporter's format;
#     memd on host 1 runs from that memd.conf (--config: listen, transport,
#     capacity, slab-size, keys, metrics) and its --metrics page agrees
#     with its STATUS (capacity, used, slabs) and the workload (MEM_ALLOCs
#     at least the slabs, no error answered);
#  5. `disaggctl swap down` swaps off, resets the device and removes the
#     nodes; a bad swap.conf fails with a message naming file and key.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
. "$DG_SELFTESTS/swap/setup.sh"

CTL=$DG_BINDIR/ctl/disaggctl
[ -x "$CTL" ] || fail "$CTL not built (run 'make daemons')"
command -v jq >/dev/null || skip "jq is not installed"
[ -x "$MEMCHECK" ] || fail "$MEMCHECK not built (run 'make selftests')"

dg_cleanup_push swap_teardown
keys_setup || fail "cannot make the test keys"
keys_kernel client || fail "cannot add the kernel key"
hosts_up 2 || fail "cannot set up the remote hosts"
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
dir=$(mktemp -d)
dg_cleanup_push "rm -rf $dir"
# The memory node's config as its unit would read it: memd on host 1 runs
# from it (and disaggctl reads it for the daemon status), memd on host 2
# from the same options on its command line.
mkdir -p "$dir/etc"
METRICS=$(host_addr 1):9470
cat >"$dir/etc/memd.conf" <<EOC
# written by selftests/swap/ctl.sh
listen = $(host_addr 1):7470
transport = rdma
capacity = 128M
slab-size = 4M
keys = $DG_KEYFILE
metrics = $METRICS
EOC
host_start 1 memd1 "$MEMD" --config "$dir/etc/memd.conf"
host_start 2 memd2 "$MEMD" --listen "$(host_addr 2):7470" \
	--transport rdma --capacity 128M --slab-size 4M $DAEMON_KEYS
for i in 1 2; do
	host_wait_log "memd$i" "listening on" || fail "disagg-memd on host $i did not start"
done
# The nodes' key file: identity "client" only (what a compute node holds).
grep '^client ' "$DG_KEYFILE" >"$dir/client.keys" && chmod 600 "$dir/client.keys"
cat >"$dir/swap.conf" <<EOC
# written by selftests/swap/ctl.sh
[swap]
device = dswap0
disksize = 48M
slab_size = 4M
replicas = 2
priority = 77

[node.m1]
addr = $(host_addr 1)
src = $(local_addr 1)
queues = 1
key = client
key_file = $dir/client.keys

[node.m2]
addr = $(host_addr 2)
src = $(local_addr 2)
queues = 1
key = client
EOC
export DISAGG_CONF_DIR=$dir/etc
[ -w /sys/module/zswap/parameters/enabled ] && echo N >/sys/module/zswap/parameters/enabled

# 1. swap up.
"$CTL" swap up -c "$dir/swap.conf" >"$dir/up.out" 2>&1 || { cat "$dir/up.out"; fail "swap up failed"; }
cat "$dir/up.out"
for n in m1 m2; do
	[ "$(cat /sys/kernel/disagg/memory_nodes/$n/state 2>/dev/null)" = up ] || fail "node $n is not up"
done
[ "$(cat /sys/block/dswap0/disksize)" = $((48 << 20)) ] || fail "disksize $(cat /sys/block/dswap0/disksize)"
[ "$(cat /sys/block/dswap0/replicas)" = 2 ] || fail "replicas $(cat /sys/block/dswap0/replicas)"
[ "$(cat /sys/block/dswap0/slab_size)" = $((4 << 20)) ] || fail "slab_size $(cat /sys/block/dswap0/slab_size)"
prio=$(awk '$1 == "/dev/dswap0" { print $5 }' /proc/swaps)
[ "$prio" = 77 ] || fail "/dev/dswap0 is not swap with priority 77: $(cat /proc/swaps)"
"$CTL" swap up -c "$dir/swap.conf" >"$dir/up2.out" 2>&1 || { cat "$dir/up2.out"; fail "second swap up failed"; }
[ "$(cat "$dir/up2.out")" = "node m1: there already (up)
node m2: there already (up)
dswap0: sized already ($((48 << 20)) bytes)
dswap0: swap already on" ] || { cat "$dir/up2.out"; fail "second swap up changed something"; }
log "swap up: both nodes up, dswap0 48 MiB x2 copies, swap priority 77; again: nothing done"

# 2. A workload through it: 32 MiB in a 12 MiB cgroup, every page checked.
cg=/sys/fs/cgroup/dswap-ctl
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p "$cg" && echo 12M >"$cg/memory.max" || fail "cgroup set-up"
dg_cleanup_push "rmdir $cg"
(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$MEMCHECK" -p 2 32) >"$dir/memcheck.out" 2>&1 ||
	{ cat "$dir/memcheck.out"; fail "memcheck failed"; }
tail -n 1 "$dir/memcheck.out"

# 3. status --json against sysfs and the daemon.
"$CTL" status --json >"$dir/status.json" 2>"$dir/status.err" || { cat "$dir/status.err"; fail "status --json failed"; }
read -r -a rs </sys/block/dswap0/remote_stat
jq -e --argjson r "${rs[0]}" --argjson w "${rs[1]}" --argjson p "${rs[7]}" '
	(.devices | length) == 1 and .devices[0].name == "dswap0" and
	.devices[0].disksize == 50331648 and .devices[0].replicas == 2 and
	.devices[0].swap.priority == 77 and
	.devices[0].remote_stat.reads == $r and .devices[0].remote_stat.writes == $w and
	.devices[0].remote_stat.remote_pages == $p and $w > 0 and
	([.memory_nodes[] | .name + "=" + .state] == ["m1=up", "m2=up"]) and
	([.memory_nodes[] | .key] == ["client", "client"]) and
	.modules.disagg_swap == true' "$dir/status.json" >/dev/null ||
	{ cat "$dir/status.json"; fail "status --json does not match sysfs (remote_stat ${rs[*]})"; }
used=$(swap_memd_field 1 used)
jq -e --argjson u "$used" '(.daemons | length) == 1 and .daemons[0].reachable == true and
	.daemons[0].status.capacity == 134217728 and .daemons[0].status.used == $u and $u > 0' \
	"$dir/status.json" >/dev/null ||
	{ jq .daemons "$dir/status.json"; fail "status --json: memd's status missing or wrong (used $used)"; }
log "status --json: dswap0 reads ${rs[0]} writes ${rs[1]} remote pages ${rs[7]}; m1, m2 up; memd on host 1 reachable, used $used"
"$CTL" status >"$dir/status.txt" || fail "status failed"
grep -qE '^dswap0 +ok +48.0M +2 +prio 77' "$dir/status.txt" || { cat "$dir/status.txt"; fail "status table"; }

# 4. metrics, written as the textfile collector reads them.
"$CTL" metrics -o "$dir/disagg.prom" || fail "metrics failed"
read -r -a rs </sys/block/dswap0/remote_stat
for want in "disagg_swap_writes_total{device=\"dswap0\"} ${rs[1]}" \
	"disagg_swap_remote_pages{device=\"dswap0\"} ${rs[7]}" \
	"disagg_swap_active{device=\"dswap0\"} 1" \
	"disagg_swap_disksize_bytes{device=\"dswap0\"} 50331648" \
	"disagg_memory_node_state{node=\"m1\",state=\"up\"} 1" \
	"disagg_memory_node_state{node=\"m2\",state=\"up\"} 1"; do
	grep -qxF "$want" "$dir/disagg.prom" || { cat "$dir/disagg.prom"; fail "metrics: no line '$want'"; }
done
log "metrics: $(grep -c '^disagg_' "$dir/disagg.prom") samples, counters equal to remote_stat"

# memd's own --metrics (from its memd.conf) against its STATUS of step 3
# ($used; nothing ran since) and the workload.
host_metrics "$METRICS" >"$dir/memd.metrics" || fail "no metrics page at http://$METRICS/metrics"
metrics_read "$dir/memd.metrics"
p=disagg_memd_
slabs=${METRIC[${p}slabs]:-} allocs=${METRIC[${p}requests_total{op=\"mem_alloc\"\}]:-}
[ "${METRIC[${p}capacity_bytes]:-}" = 134217728 ] && [ "${METRIC[${p}slab_size_bytes]:-}" = 4194304 ] &&
	[ "${METRIC[${p}used_bytes]:-}" = "$used" ] &&
	[ "${METRIC[${p}free_bytes]:-}" = $((134217728 - used)) ] &&
	[ "$slabs" = $((used / 4194304)) ] && ((slabs > 0 && allocs >= slabs)) &&
	[ "${METRIC[${p}request_duration_seconds_count{op=\"mem_alloc\"\}]:-}" = "$allocs" ] &&
	[ "${METRIC[${p}evicting_slabs]:-}" = 0 ] &&
	((${METRIC[${p}requests_total{op=\"hello\"\}]:-0} >= 1)) &&
	[ "$(tail -n 1 "$dir/memd.metrics")" = "# EOF" ] ||
	{ grep -v '^#' "$dir/memd.metrics"; fail "memd metrics disagree with STATUS (used $used)"; }
errors=
for k in "${!METRIC[@]}"; do
	[[ $k == ${p}request_errors_total* ]] && [ "${METRIC[$k]}" != 0 ] && errors+=" $k ${METRIC[$k]}"
done
[ -z "$errors" ] || fail "memd answered errors:$errors"
log "memd --config with --metrics: used $used bytes in $slabs slabs as STATUS says, $allocs MEM_ALLOCs, no error"

# 5. swap down, and a bad config.
"$CTL" swap down -c "$dir/swap.conf" >"$dir/down.out" 2>&1 || { cat "$dir/down.out"; fail "swap down failed"; }
cat "$dir/down.out"
grep -q '^/dev/dswap0 ' /proc/swaps && fail "dswap0 still swap after swap down"
[ "$(cat /sys/block/dswap0/disksize)" = 0 ] || fail "disksize not reset"
[ -z "$(ls /sys/kernel/disagg/memory_nodes/ | grep -v -e add -e remove)" ] ||
	fail "nodes left after swap down: $(ls /sys/kernel/disagg/memory_nodes/)"
printf '[swap]\ndisksize = 48M\nreplica = 2\n[node.m1]\naddr = 1.2.3.4\n' >"$dir/bad.conf"
msg=$("$CTL" swap up -c "$dir/bad.conf" 2>&1)
rc=$?
[ "$rc" = 1 ] && [ "$msg" = "disaggctl: $dir/bad.conf: [swap] replica: unknown key" ] ||
	fail "bad config: exit $rc, '$msg'"
log "swap down: swap off, device reset, nodes removed; a bad key is named"

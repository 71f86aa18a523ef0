#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The memory pool (etcd): memory nodes register themselves, the compute
# node's agent (`disaggctl agent`, as disagg-pool.service runs it) follows.
#  1. etcd on our end of link 1; `disaggctl agent` from a swap.conf with
#     only a [pool] section (replicas=2); memd on hosts 1 and 2 start with
#     --registry and are added by the agent (time from start to "up");
#  2. memcheck swaps over them (32 MiB in a 12 MiB cgroup, passes going
#     on); memd on host 3 registers during the workload and is added;
#  3. SIGTERM to m1's memd: it marks itself draining, the agent drains it
#     (its copies move, m3 gets its first slabs), memd sees its clients go
#     and exits having revoked its lease: m1 gone from sysfs (time from
#     SIGTERM), memd exit status 0;
#  4. SIGKILL to m2's memd: its lease expires (3 s TTL), the agent drains
#     the dead node (its copies were dropped at once: replicas cover it);
#     memd restarted on host 1 joins again (copies are rebuilt onto it);
#  5. etcd SIGKILLed and restarted on the same data mid-workload: no node
#     is drained, the agent catches up (a node registered meanwhile is
#     added after the restart);
#  6. the workload ends with zero bad pages, no process killed; the agent
#     stops on SIGTERM leaving the nodes as they are.
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm
SWAP_NODES=3
. "$DG_SELFTESTS/swap/setup.sh"

CTL=$DG_BINDIR/ctl/disaggctl
ETCD=$(command -v etcd) || skip "etcd is not installed (etcd-server)"
[ -x "$CTL" ] || fail "$CTL not built (run 'make daemons')"
[ -x "$MEMD" ] || fail "$MEMD not built (run 'make daemons')"
TTL=3

dg_cleanup_push swap_teardown
keys_setup || fail "cannot make the test keys"
keys_kernel client || fail "cannot add the kernel key"
hosts_up 3 || fail "cannot set up the remote hosts"
insmod "$(dg_module disagg_net)" || fail "insmod disagg_net"
insmod "$(dg_module disagg_swap)" || fail "insmod disagg_swap"
echo 1000 >/sys/module/disagg_net/parameters/heartbeat_ms || fail "heartbeat_ms"
echo 500 >/sys/module/disagg_net/parameters/reconnect_max_ms || fail "reconnect_max_ms"

dir=$(mktemp -d)
dg_cleanup_push "rm -rf $dir"
EP=http://$(local_addr 1):2379

etcd_start() {
	host_start 1 etcd "$ETCD" --name pool-test --data-dir "$dir/etcd" \
		--listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls "http://$(local_addr 1):2380" \
		--initial-advertise-peer-urls "http://$(local_addr 1):2380" \
		--initial-cluster "pool-test=http://$(local_addr 1):2380" \
		--logger zap --log-level warn
	swap_wait 30 etcdctl --endpoints "$EP" endpoint health ||
		fail "etcd did not come up"
}

# memd on host I as pool node mI (rack=r1).
pool_memd_start() {
	host_start "$1" "memd$1" "$MEMD" --listen "$(host_addr "$1"):7470" \
		--transport rdma --capacity 64M --slab-size 4M $DAEMON_KEYS \
		--registry "$EP" --registry-name "m$1" --registry-ttl $TTL \
		--label rack=r1 --drain-timeout 60
}

node_state() { cat "/sys/kernel/disagg/memory_nodes/$1/state" 2>/dev/null; }
node_up() { [ "$(node_state "$1")" = up ]; }
node_gone() { [ ! -e "/sys/kernel/disagg/memory_nodes/$1" ]; }
node_slabs() { read -r s _ <"/sys/kernel/disagg/memory_nodes/$1/stat" && echo "$s"; }
node_has_slabs() { [ "$(node_slabs "$1")" -gt 0 ]; }
agent_said() { grep -q -- "$1" "$HOSTS_LOGDIR/agent.log"; }
registered() { etcdctl --endpoints "$EP" get --print-value-only "/disagg/memory/$1" | grep -q '"state":"up"'; }

etcd_start
cat >"$dir/swap.conf" <<EOC
# written by selftests/swap/pool.sh
[swap]
device = dswap0
disksize = 64M
slab_size = 4M
replicas = 2
priority = 50

[pool]
registry = $EP
match = rack=r1
key = client
queues = 1
state_file = $dir/pool-nodes
EOC
"$CTL" swap up --no-swapon -c "$dir/swap.conf" >"$dir/up.out" 2>&1 ||
	{ cat "$dir/up.out"; fail "swap up failed"; }
host_start 0 agent "$CTL" agent -c "$dir/swap.conf"
# Before swap_teardown removes the nodes: it would add them back.
dg_cleanup_push "host_stop agent"

# 1. Two nodes register; the agent adds them.
t0=$(swap_now)
pool_memd_start 1
pool_memd_start 2
for n in m1 m2; do
	swap_wait 30 node_up "$n" || fail "node $n never added (agent log: $(cat "$HOSTS_LOGDIR/agent.log"))"
done
log "registration: m1 and m2 up $(swap_since "$t0") s after their memd started"
registered m1 || fail "m1's record is not in etcd"
etcdctl --endpoints "$EP" get --print-value-only /disagg/memory/m1 | grep -qi 'secret\|key' &&
	fail "m1's record holds a key: $(etcdctl --endpoints "$EP" get /disagg/memory/m1)"

# 2. A workload; a third node registers meanwhile.
swap_workload_start 32 12
for n in m1 m2; do
	node_has_slabs "$n" || fail "node $n holds no slab: swap did not spread over the pool"
done
log "swap spread over the pool: m1 $(node_slabs m1) slabs, m2 $(node_slabs m2) slabs"
t0=$(swap_now)
pool_memd_start 3
swap_wait 30 node_up m3 || fail "node m3 never added"
t_m3=$(swap_now)
log "registration under load: m3 up $(swap_since "$t0") s after its memd started"

# 3. SIGTERM m1's memd: draining, drained, gone.
read -r held _ < <(swap_node_stat m1)
pid=$(cat "$HOSTS_STATE/memd1.pid")
rm -f "$HOSTS_STATE/memd1.pid"
t0=$(swap_now)
kill -TERM "$pid"
swap_wait 30 node_has_slabs m3 || fail "m3 got no slab while m1 drained"
log "first slab on m3 $(swap_since "$t_m3") s after it came up ($(swap_since "$t0") s after m1's SIGTERM)"
swap_wait 90 node_gone m1 || fail "m1 not removed 90 s after SIGTERM (state $(node_state m1), stat $(swap_node_stat m1))"
t_gone=$(swap_since "$t0")
swap_wait 30 eval "! kill -0 $pid" || fail "m1's memd did not exit after its clients left"
wait "$pid"
rc=$?
[ "$rc" = 0 ] || fail "m1's memd exited with $rc after SIGTERM"
registered m1 && fail "m1's record is still in etcd after its memd exited"
agent_said "node m1 left the pool: draining" || fail "the agent did not drain m1"
log "SIGTERM: m1 ($held slabs) drained and removed in $t_gone s, memd exited 0, record gone"

# 4. SIGKILL m2's memd: the lease expires, the agent drops the node.
t0=$(swap_now)
swap_memd_kill 2
swap_wait 60 node_gone m2 || fail "m2 not removed after its lease expired (state $(node_state m2), stat $(swap_node_stat m2))"
log "SIGKILL: m2 removed $(swap_since "$t0") s after its memd died (lease TTL $TTL s)"
pool_memd_start 1
swap_wait 30 node_up m1 || fail "m1 not added again after its memd restarted"
# The rebuild onto it goes on in the background (its time is replicas.sh's).
swap_wait 60 node_has_slabs m1 || fail "no copy rebuilt onto m1 (degraded_slabs $(swap_degraded))"
log "m1 back in the pool, rebuilding onto it (degraded_slabs $(swap_degraded))"

# 5. etcd dies and comes back; nothing moves meanwhile.
drains=$(grep -c ': draining$' "$HOSTS_LOGDIR/agent.log")
kill -KILL "$(cat "$HOSTS_STATE/etcd.pid")" || fail "cannot kill etcd"
rm -f "$HOSTS_STATE/etcd.pid"
sleep $((TTL + 2))
for n in m1 m3; do node_up "$n" || fail "node $n is $(node_state "$n") with etcd down"; done
etcd_start
pool_memd_start 2
swap_wait 60 node_up m2 || fail "m2 (registered after etcd's restart) never added"
for n in m1 m3; do
	registered "$n" || fail "$n did not register again after etcd's restart"
	node_up "$n" || fail "node $n is $(node_state "$n") after etcd's restart"
done
[ "$(grep -c ': draining$' "$HOSTS_LOGDIR/agent.log")" = "$drains" ] ||
	fail "the agent drained a node while etcd was away: $(cat "$HOSTS_LOGDIR/agent.log")"
agent_said "registry reachable again" || fail "the agent never said the registry was back"
log "etcd restarted: no node drained, the agent caught up (m2 added)"

# 6. The workload is intact; the agent stops leaving the nodes.
swap_workload_stop
host_stop agent || fail "the agent did not stop on SIGTERM"
for n in m1 m2 m3; do node_up "$n" || fail "node $n is $(node_state "$n") after the agent stopped"; done
grep -q 'cannot\|ignoring' "$HOSTS_LOGDIR/agent.log" &&
	{ cat "$HOSTS_LOGDIR/agent.log"; fail "the agent logged a failure"; }
log "agent log: $(wc -l <"$HOSTS_LOGDIR/agent.log") lines"
exit 0

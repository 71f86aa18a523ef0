// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disaggctl's configuration files, read with CLI11's INI/TOML reader (the
// format of the daemons' --config files: "key = value", '#' comments,
// [sections]):
//
//   /etc/disagg/swap.conf    the compute node's remote swap: one [swap]
//                            section (the device and its knobs) and a
//                            [node.NAME] section per memory node;
//   /etc/disagg/memd.conf,   the daemons' own files: disaggctl reads only
//   /etc/disagg/stord.conf   listen, transport and keys, to ask the local
//                            daemon for its status.
//
// Every error names the file, the section and the key.
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace disagg::ctl {

struct NodeConf {
	std::string name;
	std::string addr;
	unsigned port = 7470;
	std::string transport = "rdma";
	std::string src;		// "": any
	unsigned queues = 0;		// 0: the kernel's default
	unsigned timeout_ms = 0;	// 0: the kernel's default
	std::string key;		// "": no key
	std::string key_file;		// "": the key is in the keyrings already
};

// [pool]: memory nodes found in a registry (etcd) instead of listed here;
// `disaggctl agent` follows it (pool.hpp).
struct PoolConf {
	std::vector<std::string> registry;	// etcd endpoints, "http://HOST:PORT"
	std::string prefix = "/disagg/memory/";
	std::map<std::string, std::string> match;	// labels a node must carry
	NodeConf node;			// transport, src, queues, timeout_ms, key,
					// key_file for every pool node
	std::string state_file = "/run/disagg/pool-nodes";
	unsigned max_nodes = 64;	// the agent adds no more than this many
};

struct SwapConf {
	std::string device = "dswap0";
	std::string disksize;		// required, with a K/M/G/T suffix or bytes
	std::string slab_size;		// "": the kernel's default
	unsigned replicas = 0;		// 0: the kernel's default (1)
	int priority = 100;		// swapon priority, -1 (kernel picks) .. 32767
	std::string backing_dev;	// "": none
	std::optional<unsigned> synchronous;
	std::string prefetch;		// "", "off" or "trend"
	std::optional<unsigned> prefetch_pages;
	std::optional<unsigned> rebuild_rate_mb;
	std::optional<unsigned> failover_ms;
	std::vector<NodeConf> nodes;	// in the file's order
	std::optional<PoolConf> pool;
};

// @name is the file name for messages. Throws Error.
SwapConf parse_swap_conf(std::istream &in, const std::string &name);
SwapConf load_swap_conf(const std::string &path);

// The line written to memory_nodes/add for @n.
std::string node_add_line(const NodeConf &n);
// Checks of single values (Error with @what in the message).
void check_node_name(const std::string &name, const std::string &what);
void check_size(const std::string &v, const std::string &what);
// "KEY=VALUE[,KEY=VALUE...]", each of [A-Za-z0-9_.-], at most 16.
std::map<std::string, std::string> parse_labels(const std::string &v, const std::string &what);

// What disaggctl needs of a daemon's --config file.
struct DaemonConf {
	std::string listen;		// "ADDR[:PORT]"; "" if not set
	std::string transport = "rdma";
	std::string keys;		// key file; "" if the daemon is open
};
// nullopt when the file does not exist.
std::optional<DaemonConf> load_daemon_conf(const std::string &path);

// An identity of key file @path to ask a daemon's status with: the first
// marked admin, else the first; "" when the file has none.
std::string pick_status_identity(const std::string &path);

}  // namespace disagg::ctl

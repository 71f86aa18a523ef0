// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What disaggctl status, watch and metrics show: the compute node's swap
// devices (/sys/block/dswap*: every knob, state and remote_stat), memory
// nodes (/sys/kernel/disagg/memory_nodes), disaggfs mounts (/proc/mounts),
// and the local daemons' own STATUS JSON when their config files name them
// and they answer.
#pragma once

#include "sysfs.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace disagg::ctl {

// remote_stat's columns, in order (Documentation/ABI/testing/sysfs-block-dswap);
// columns the kernel appends later show up as "col_N".
extern const std::vector<std::string> kRemoteStatColumns;
// memory_nodes/NAME/stat's columns.
extern const std::vector<std::string> kNodeStatColumns;
// The modules whose /sys/module/NAME directory says they are loaded.
extern const std::vector<std::string> kModules;

struct DaemonTarget {
	std::string name;	// "disagg-memd", "disagg-stord"
	std::string config;	// its --config file
	bool stord = false;
};

// The compute node's side from @fs.
nlohmann::json collect(const Sysfs &fs);
// Each daemon's status: {"name","config","address","transport","reachable",
// "status": {...} | "error": "..."}; daemons whose config file is absent
// are left out. @timeout_ms bounds each connection and call.
nlohmann::json collect_daemons(const std::vector<DaemonTarget> &targets, int timeout_ms);

// The human tables of status (@j is collect()'s, with "daemons" if asked).
std::string render_table(const nlohmann::json &j);
// node_exporter textfile format (# HELP, # TYPE, samples) of collect()'s @j.
std::string render_metrics(const nlohmann::json &j);

// 8589934592 -> "8.0G".
std::string human_bytes(unsigned long long v);

}  // namespace disagg::ctl

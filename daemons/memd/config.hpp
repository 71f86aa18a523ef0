// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd's command line.
#pragma once

#include "daemon_config.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::memd {

inline constexpr std::uint64_t kDefaultSlabSize = 64ull << 20;
inline constexpr unsigned kDefaultGraceSec = 30;
inline constexpr unsigned kMaxGraceSec = 7 * 24 * 3600;
inline constexpr unsigned kDefaultEvictGraceSec = 30;
inline constexpr unsigned kMaxEvictGraceSec = 24 * 3600;
// --registry-ttl: etcd refuses leases much shorter than 2 s.
inline constexpr unsigned kDefaultRegistryTtlSec = 10;
inline constexpr unsigned kMinRegistryTtlSec = 2;
inline constexpr unsigned kMaxRegistryTtlSec = 3600;
inline constexpr unsigned kDefaultDrainTimeoutSec = 60;
inline constexpr unsigned kMaxDrainTimeoutSec = 24 * 3600;
inline constexpr std::size_t kMaxRegistryEndpoints = 16;

// listen_port is set from kMemdPort by the parser.
struct Config : DaemonConfig {
	Config() : DaemonConfig(TransportKind::kRdma) {}

	std::uint64_t capacity = 0;
	std::uint64_t slab_size = kDefaultSlabSize;
	unsigned grace_sec = kDefaultGraceSec;
	// A slab asked back with MEM_EVICT and not released this long is
	// asked for again.
	unsigned evict_grace_sec = kDefaultEvictGraceSec;
	// Bytes of slabs one identity may hold (all its clients together,
	// slabs in their grace period included); 0: no quota.
	std::uint64_t client_quota = 0;

	// --registry: etcd endpoints ("http://host:port"); empty: the node
	// registers nowhere (see registrar.hpp for the rest).
	std::vector<std::string> registry;
	std::string registry_prefix = "/disagg/memory/";
	// The node name in the record (default: the host name); the address
	// clients reach it at (default: the --listen address).
	std::string registry_name;
	std::string advertise;
	std::map<std::string, std::string> labels;
	unsigned registry_ttl_sec = kDefaultRegistryTtlSec;
	// SIGTERM with --registry: how long to wait for the slabs to go.
	unsigned drain_timeout_sec = kDefaultDrainTimeoutSec;
};

using ParseResult = DaemonArgs<Config>;

ParseResult parse_args(const std::vector<std::string> &args);
std::string usage(std::string_view prog);

}  // namespace disagg::memd

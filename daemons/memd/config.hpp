// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd's command line.
#pragma once

#include "daemon_config.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::memd {

inline constexpr std::uint64_t kDefaultSlabSize = 64ull << 20;
inline constexpr unsigned kDefaultGraceSec = 30;
inline constexpr unsigned kMaxGraceSec = 7 * 24 * 3600;
inline constexpr unsigned kDefaultEvictGraceSec = 30;
inline constexpr unsigned kMaxEvictGraceSec = 24 * 3600;

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
};

using ParseResult = DaemonArgs<Config>;

ParseResult parse_args(const std::vector<std::string> &args);
std::string usage(std::string_view prog);

}  // namespace disagg::memd

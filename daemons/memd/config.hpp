// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd's command line.
#pragma once

#include "cli.hpp"
#include "log.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace disagg::memd {

inline constexpr std::uint64_t kDefaultSlabSize = 64ull << 20;
inline constexpr unsigned kDefaultGraceSec = 30;
inline constexpr unsigned kMaxGraceSec = 7 * 24 * 3600;
inline constexpr unsigned kDefaultMaxClients = 64;
inline constexpr unsigned kMaxMaxClients = 4096;
inline constexpr unsigned kDefaultHeartbeatSec = 15;

struct Config {
	std::string listen_host = "0.0.0.0";
	std::uint16_t listen_port = 0;	// set from kMemdPort by the parser
	std::uint64_t capacity = 0;
	TransportKind transport = TransportKind::kRdma;
	std::uint64_t slab_size = kDefaultSlabSize;
	unsigned grace_sec = kDefaultGraceSec;
	unsigned max_clients = kDefaultMaxClients;
	// memd sends a HEARTBEAT to a client silent this long, so a dead
	// peer shows up as a transport error. 0: never.
	unsigned heartbeat_sec = kDefaultHeartbeatSec;
	log::Level log_level = log::Level::kInfo;
};

// Parsed command line, or why not. help: --help was given.
struct ParseResult {
	Config config;
	bool help = false;
	std::string error;	// empty on success
};

ParseResult parse_args(const std::vector<std::string> &args);
std::string usage(std::string_view prog);

}  // namespace disagg::memd

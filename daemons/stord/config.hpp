// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord's command line.
#pragma once

#include "cli.hpp"
#include "log.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::stord {

inline constexpr unsigned kDefaultMaxClients = 64;
inline constexpr unsigned kMaxMaxClients = 4096;
inline constexpr unsigned kDefaultThreads = 8;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr unsigned kDefaultFdCache = 256;
inline constexpr unsigned kMaxFdCache = 65536;
inline constexpr unsigned kDefaultHeartbeatSec = 15;

struct Config {
	std::string listen_host = "0.0.0.0";
	std::uint16_t listen_port = 0;	// set from kStordPort by the parser
	std::string root;
	TransportKind transport = TransportKind::kTcp;
	unsigned max_clients = kDefaultMaxClients;
	unsigned threads = kDefaultThreads;
	unsigned fd_cache = kDefaultFdCache;
	unsigned heartbeat_sec = kDefaultHeartbeatSec;
	log::Level log_level = log::Level::kInfo;
};

struct ParseResult {
	Config config;
	bool help = false;
	std::string error;	// empty on success
};

// Parses and checks that --root names a directory.
ParseResult parse_args(const std::vector<std::string> &args);
std::string usage(std::string_view prog);

}  // namespace disagg::stord

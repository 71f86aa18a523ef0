// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord's command line.
#pragma once

#include "creds.hpp"
#include "daemon_config.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::stord {

inline constexpr unsigned kDefaultThreads = 8;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr unsigned kDefaultFdCache = 256;
inline constexpr unsigned kMaxFdCache = 65536;

// listen_port is set from kStordPort by the parser.
struct Config : DaemonConfig {
	Config() : DaemonConfig(TransportKind::kTcp) {}

	std::string root;
	unsigned threads = kDefaultThreads;
	unsigned fd_cache = kDefaultFdCache;
	unsigned max_in_flight = 64;	// StorService::kMaxInFlight
	ExportOptions exp;	// --squash, --anon-uid, --allow-*, --cross-mounts
};

using ParseResult = DaemonArgs<Config>;

// Parses and checks that --root names a directory.
ParseResult parse_args(const std::vector<std::string> &args);
std::string usage(std::string_view prog);

}  // namespace disagg::stord

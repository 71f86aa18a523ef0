// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The part of the command line both daemons share: --listen, --transport,
// --max-clients, --keys, the limits on what peers may hold (--idle-timeout,
// --max-conns-per-identity, --max-conns-per-addr, --max-pinned) and
// --log-level, and the walk that fills in a daemon's
// Config (derived from DaemonConfig) from its arguments.
#pragma once

#include "cli.hpp"
#include "log.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace disagg {

inline constexpr unsigned kDefaultMaxClients = 64;
inline constexpr unsigned kMaxMaxClients = 4096;
inline constexpr unsigned kDefaultHeartbeatSec = 15;
inline constexpr unsigned kDefaultIdleTimeoutSec = 120;
inline constexpr unsigned kMaxIdleTimeoutSec = 7 * 24 * 3600;
inline constexpr unsigned kDefaultMaxConnsPerIdentity = 64;
inline constexpr unsigned kDefaultMaxConnsPerAddr = 16;
inline constexpr std::uint64_t kDefaultMaxPinned = 1ull << 30;

struct DaemonConfig {
	explicit DaemonConfig(TransportKind default_transport) : transport(default_transport) {}

	std::string listen_host = "0.0.0.0";
	std::uint16_t listen_port = 0;	// set to the daemon's port by the parser
	TransportKind transport;
	unsigned max_clients = kDefaultMaxClients;
	// The daemon sends a HEARTBEAT to a client silent this long, so a dead
	// peer shows up as a transport error. 0: never.
	unsigned heartbeat_sec = kDefaultHeartbeatSec;
	// A connection that sends no request this long is closed. 0: never.
	unsigned idle_timeout_sec = kDefaultIdleTimeoutSec;
	// Connections of one identity (after the handshake) and from one
	// address (at accept); 0: no limit.
	unsigned max_conns_per_identity = kDefaultMaxConnsPerIdentity;
	unsigned max_conns_per_addr = kDefaultMaxConnsPerAddr;
	// RDMA message buffers of all connections; 0: no limit.
	std::uint64_t max_pinned = kDefaultMaxPinned;
	log::Level log_level = log::Level::kInfo;
	// Key file (see auth.hpp); empty: no authentication, open to anyone.
	std::string keys_file;
};

// Parsed command line, or why not. help: --help was given.
template <class Config>
struct DaemonArgs {
	Config config;
	bool help = false;
	std::string error;	// empty on success
};

// Sets one of DaemonConfig's options (--listen with @default_port), or
// says that @name is unknown: "" or an error text. A daemon's own option
// setter falls back on this for every name it does not know.
std::string set_daemon_option(DaemonConfig &c, std::uint16_t default_port,
			      std::string_view name, std::string_view v);

// The end of a daemon's usage text: --heartbeat, the limits, --log-level
// and --help.
std::string daemon_usage_tail();

// Walks @args (see walk_options(), @is_flag too) into a Config whose
// listen_port starts as @default_port, through @set(config, name, value).
template <class Config>
DaemonArgs<Config> walk_daemon_args(const std::vector<std::string> &args,
				    std::uint16_t default_port,
				    std::string (*set)(Config &, std::string_view, std::string_view),
				    bool (*is_flag)(std::string_view) = nullptr)
{
	DaemonArgs<Config> r;
	r.config.listen_port = default_port;
	OptionWalk w = walk_options(
		args,
		[&r, set](std::string_view name, std::string_view v) {
			return set(r.config, name, v);
		},
		is_flag);
	r.help = w.help;
	r.error = std::move(w.error);
	return r;
}

}  // namespace disagg

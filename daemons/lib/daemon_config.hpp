// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The part of the command line both daemons share: --config, --listen,
// --transport, --max-clients, --keys, --heartbeat, the limits on what
// peers may hold (--idle-timeout, --max-conns-per-identity,
// --max-conns-per-addr, --max-pinned), --log-level and --metrics, parsed
// by CLI11 into a daemon's Config (derived from DaemonConfig).
#pragma once

#include "cli.hpp"
#include "log.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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
	// --metrics: OpenMetrics over HTTP on this address (port 0: any free
	// one, for tests); metrics_host empty: off.
	std::string metrics_host;
	std::uint16_t metrics_port = 0;
};

// Parsed command line, or why not. help: --help was given.
template <class Config>
struct DaemonArgs {
	Config config;
	bool help = false;
	std::string error;	// empty on success
};

// The options of a daemon: a CLI11 App (kept out of this header, which
// every service includes) with the options both daemons share, to which a
// daemon adds its own through the helpers below. Every option takes its
// value from the command line, else from the --config file (INI/TOML,
// "KEY = VALUE" with the long option's name as KEY), else its default.
class DaemonOptions {
public:
	// @c: filled in by parse(); its listen_port starts as @default_port.
	DaemonOptions(std::string_view prog, std::string_view description, DaemonConfig &c,
		      std::uint16_t default_port);
	~DaemonOptions();
	DaemonOptions(const DaemonOptions &) = delete;
	DaemonOptions &operator=(const DaemonOptions &) = delete;

	// An option with a value of type @type_name (shown in --help), given
	// to @set, which returns "" or why the value is bad.
	void add(const char *name, const char *type_name, std::string help,
		 std::function<std::string(const std::string &)> set, bool required = false);
	// An option that may be given more than once (each value to @set, in
	// order); in the config file one "KEY = VALUE" line per value, or
	// "KEY = V1,V2", or a TOML list "KEY = [\"V1\", \"V2\"]". Values on
	// the command line replace the file's.
	void add_list(const char *name, const char *type_name, std::string help,
		      std::function<std::string(const std::string &)> set);
	// "--name" alone sets @out; "name = true|false" in the config file.
	void add_flag(const char *name, bool &out, std::string help);
	// An unsigned number in [@lo, @hi].
	void add_uint(const char *name, const char *type_name, std::string help,
		      unsigned &out, std::uint64_t lo, std::uint64_t hi);
	// Help texts from here on are listed under @title.
	void group(std::string title);
	// Adds the shared options that come last in --help (--keys, the
	// limits, --log-level, --metrics); call it after the daemon's own.
	void add_tail();

	// "" or why @args (without the program name) do not parse; help set
	// when --help or -h was given.
	std::string parse(const std::vector<std::string> &args, bool &help);
	std::string help() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

}  // namespace disagg

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon_config.hpp"

namespace disagg {

std::string set_daemon_option(DaemonConfig &c, std::uint16_t default_port,
			      std::string_view name, std::string_view v)
{
	if (name == "--listen") {
		if (!parse_host_port(v, c.listen_host, c.listen_port, default_port))
			return invalid(name, v) + ": expected ADDR, ADDR:PORT or [ADDR]:PORT";
	} else if (name == "--transport") {
		return set_transport(name, v, c.transport);
	} else if (name == "--max-clients") {
		return set_uint(name, v, 1, kMaxMaxClients, c.max_clients);
	} else if (name == "--keys") {
		if (v.empty())
			return invalid(name, v) + ": expected a file";
		c.keys_file = std::string(v);
	} else if (name == "--idle-timeout") {
		return set_uint(name, v, 0, kMaxIdleTimeoutSec, c.idle_timeout_sec);
	} else if (name == "--max-conns-per-identity") {
		return set_uint(name, v, 0, kMaxMaxClients, c.max_conns_per_identity);
	} else if (name == "--max-conns-per-addr") {
		return set_uint(name, v, 0, kMaxMaxClients, c.max_conns_per_addr);
	} else if (name == "--max-pinned") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n > (1ull << 50))
			return invalid(name, v) + ": expected a size (K/M/G/T suffixes), 0 for no limit";
		c.max_pinned = *n;
	} else if (name == "--log-level") {
		return set_log_level(name, v, c.log_level);
	} else {
		return "unknown option '" + log::escape(name) + "'";
	}
	return {};
}

std::string daemon_usage_tail()
{
	return "  --keys FILE             clients must authenticate with a key from FILE\n"
	       "                          (NAME SECRET [admin] per line, mode 0600; SIGHUP\n"
	       "                          reloads it); without it anyone may connect\n"
	       "  --heartbeat SECONDS     probe clients silent this long, 0 never (default " +
	       std::to_string(kDefaultHeartbeatSec) + ")\n"
	       "  --idle-timeout SECONDS  close a connection that sends no request this long,\n"
	       "                          0 never (default " +
	       std::to_string(kDefaultIdleTimeoutSec) + ")\n"
	       "  --max-conns-per-identity N\n"
	       "                          connections of one key (one for all without --keys),\n"
	       "                          0 no limit (default " +
	       std::to_string(kDefaultMaxConnsPerIdentity) + ")\n"
	       "  --max-conns-per-addr N  connections from one address, 0 no limit (default " +
	       std::to_string(kDefaultMaxConnsPerAddr) + ")\n"
	       "  --max-pinned SIZE       RDMA message buffers of all connections together,\n"
	       "                          0 no limit (default 1G)\n"
	       "  --log-level LEVEL       error|warn|info|debug (default info)\n"
	       "  -h, --help              this text\n";
}

}  // namespace disagg

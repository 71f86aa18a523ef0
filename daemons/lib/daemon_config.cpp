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
	       "  --log-level LEVEL       error|warn|info|debug (default info)\n"
	       "  -h, --help              this text\n";
}

}  // namespace disagg

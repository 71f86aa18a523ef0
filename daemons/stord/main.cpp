// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord: the storage-node daemon. See config.cpp for the options and
// server.hpp for how the parts fit together.
#include "config.hpp"
#include "daemon_main.hpp"
#include "log.hpp"
#include "server.hpp"

using namespace disagg;

int main(int argc, char **argv)
{
	const DaemonMain<stord::Config> d{"disagg-stord", "stord", stord::parse_args, stord::usage};
	return daemon_main<stord::Server>(argc, argv, d, [](stord::Server &server,
							      const stord::Config &cfg) {
		LOG_INFO("listening on %s (%s), root %s, %u threads, fd cache %u, at most %u clients",
			 server.address().c_str(), to_string(cfg.transport),
			 log::escape(cfg.root).c_str(), cfg.threads, cfg.fd_cache, cfg.max_clients);
	});
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd: the memory-node daemon. See config.cpp for the options and
// server.hpp for how the parts fit together.
#include "config.hpp"
#include "daemon_main.hpp"
#include "log.hpp"
#include "server.hpp"

using namespace disagg;

int main(int argc, char **argv)
{
	const DaemonMain<memd::Config> d{"disagg-memd", "memd", memd::parse_args, memd::usage};
	return daemon_main<memd::Server>(argc, argv, d, [](memd::Server &server,
							     const memd::Config &cfg) {
		LOG_INFO("listening on %s (%s), capacity %llu MiB, slab size %llu MiB, grace %u s, "
			 "evict grace %u s, "
			 "at most %u clients",
			 server.address().c_str(), to_string(cfg.transport),
			 static_cast<unsigned long long>(cfg.capacity >> 20),
			 static_cast<unsigned long long>(cfg.slab_size >> 20), cfg.grace_sec,
			 cfg.evict_grace_sec,
			 cfg.max_clients);
	});
}

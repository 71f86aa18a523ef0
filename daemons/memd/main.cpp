// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd: the memory-node daemon. See config.cpp for the options and
// server.hpp for how the parts fit together.
#include "config.hpp"
#include "log.hpp"
#include "serve.hpp"
#include "server.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace disagg;

int main(int argc, char **argv)
{
	const std::string prog = argc > 0 ? argv[0] : "disagg-memd";
	memd::ParseResult pr = memd::parse_args(std::vector<std::string>(argv + 1, argv + argc));
	if (pr.help) {
		std::fputs(memd::usage(prog).c_str(), stdout);
		return 0;
	}
	if (!pr.error.empty()) {
		std::fprintf(stderr, "disagg-memd: %s\nTry '%s --help'.\n", pr.error.c_str(),
			     prog.c_str());
		return 2;
	}
	const memd::Config &cfg = pr.config;
	log::set_ident("memd");
	log::set_level(cfg.log_level);

	memd::Server server(cfg);
	// SIGTERM/SIGINT arrive through a signalfd on the event loop.
	const int sfd = watch_stop_signals(server.loop(), [&server] { server.request_stop(); });
	if (sfd < 0)
		return 1;
	std::string err;
	if (!server.start(err)) {
		LOG_ERR("%s", err.c_str());
		close(sfd);
		return 1;
	}
	LOG_INFO("listening on %s (%s), capacity %llu MiB, slab size %llu MiB, grace %u s, "
		 "at most %u clients",
		 server.address().c_str(), to_string(cfg.transport),
		 static_cast<unsigned long long>(cfg.capacity >> 20),
		 static_cast<unsigned long long>(cfg.slab_size >> 20), cfg.grace_sec,
		 cfg.max_clients);
	server.run();
	server.loop().remove(sfd);
	close(sfd);
	return 0;
}

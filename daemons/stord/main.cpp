// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord: the storage-node daemon. See config.cpp for the options and
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
	const std::string prog = argc > 0 ? argv[0] : "disagg-stord";
	stord::ParseResult pr = stord::parse_args(std::vector<std::string>(argv + 1, argv + argc));
	if (pr.help) {
		std::fputs(stord::usage(prog).c_str(), stdout);
		return 0;
	}
	if (!pr.error.empty()) {
		std::fprintf(stderr, "disagg-stord: %s\nTry '%s --help'.\n", pr.error.c_str(),
			     prog.c_str());
		return 2;
	}
	const stord::Config &cfg = pr.config;
	log::set_ident("stord");
	log::set_level(cfg.log_level);

	stord::Server server(cfg);
	const int sfd = watch_stop_signals(server.loop(), [&server] { server.request_stop(); });
	if (sfd < 0)
		return 1;
	std::string err;
	if (!server.start(err)) {
		LOG_ERR("%s", err.c_str());
		return 1;
	}
	LOG_INFO("listening on %s (%s), root %s, %u threads, fd cache %u, at most %u clients",
		 server.address().c_str(), to_string(cfg.transport),
		 log::escape(cfg.root).c_str(), cfg.threads, cfg.fd_cache, cfg.max_clients);
	server.run();
	server.loop().remove(sfd);
	close(sfd);
	return 0;
}

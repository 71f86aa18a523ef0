// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A daemon's main(), shared by disagg-memd and disagg-stord: the command
// line, logging, SIGTERM/SIGINT, SIGHUP (reload the keys), start, serve,
// and what systemd is told of it (notify.hpp). Exit status: 0 after an
// orderly stop or --help, 2 for bad arguments, 1 when it cannot start.
#pragma once

#include "daemon_config.hpp"
#include "log.hpp"
#include "notify.hpp"
#include "serve.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace disagg {

template <class Config>
struct DaemonMain {
	const char *name;	// "disagg-memd": in front of argument errors
	const char *ident;	// "memd": in front of log lines
	DaemonArgs<Config> (*parse_args)(const std::vector<std::string> &args);
	std::string (*usage)(std::string_view prog);
};

// Runs a Server (constructible from a Config, with start(), run(), loop(),
// request_stop() and reload_keys()) as the program. @started(server, config) runs once
// it listens, to log so; systemd hears READY=1 after it.
template <class Server, class Config, class Started>
int daemon_main(int argc, char **argv, const DaemonMain<Config> &d, Started &&started)
{
	const std::string prog = argc > 0 ? argv[0] : d.name;
	DaemonArgs<Config> pr = d.parse_args(std::vector<std::string>(argv + 1, argv + argc));
	if (pr.help) {
		std::fputs(d.usage(prog).c_str(), stdout);
		return 0;
	}
	if (!pr.error.empty()) {
		std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", d.name, pr.error.c_str(),
			     prog.c_str());
		return 2;
	}
	const Config &cfg = pr.config;
	log::set_ident(d.ident);
	log::set_level(cfg.log_level);

	Server server(cfg);
	// SIGTERM/SIGINT arrive through a signalfd on the event loop.
	const int sfd = watch_stop_signals(
		server.loop(),
		[&server] {
			// A server that drains first (disagg-memd --registry)
			// stops once drained; a second signal stops it now.
			if constexpr (requires { server.drain(); }) {
				if (server.drain()) {
					notify::stopping("draining: waiting for clients to move away");
					return;
				}
			}
			notify::stopping("stopping: saying BYE to the clients");
			server.request_stop();
		},
		[&server] {
			notify::reloading();
			server.reload_keys();
			notify::ready("listening on " + server.address());
		});
	if (sfd < 0)
		return 1;
	std::string err;
	if (!server.start(err)) {
		LOG_ERR("%s", err.c_str());
		close(sfd);
		return 1;
	}
	started(server, cfg);
	notify::ready("listening on " + server.address());
	server.run();
	server.loop().remove(sfd);
	close(sfd);
	return 0;
}

}  // namespace disagg

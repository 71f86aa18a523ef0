// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace disagg::stord {

std::string usage(std::string_view prog)
{
	std::string p(prog);
	return "usage: " + p + " --root DIR [options]\n"
		"Storage-node daemon: serves the files beneath DIR to disagg clients.\n"
		"  --root DIR              directory to export; required\n"
		"  --listen ADDR[:PORT]    address to listen on (default 0.0.0.0:" +
		std::to_string(proto::kStordPort) + ")\n"
		"  --transport tcp|rdma    transport (default tcp)\n"
		"  --max-clients N         concurrent connections (default " +
		std::to_string(kDefaultMaxClients) + ")\n"
		"  --threads N             worker threads doing file I/O (default " +
		std::to_string(kDefaultThreads) + ")\n"
		"  --fd-cache N            open files kept for READ/WRITE, 0 none (default " +
		std::to_string(kDefaultFdCache) + ")\n"
		"  --heartbeat SECONDS     probe clients silent this long, 0 never (default " +
		std::to_string(kDefaultHeartbeatSec) + ")\n"
		"  --log-level LEVEL       error|warn|info|debug (default info)\n"
		"  -h, --help              this text\n";
}

namespace {

std::string set_option(Config &c, std::string_view name, std::string_view v)
{
	if (name == "--listen") {
		if (!parse_host_port(v, c.listen_host, c.listen_port, proto::kStordPort))
			return invalid(name, v) + ": expected ADDR, ADDR:PORT or [ADDR]:PORT";
	} else if (name == "--root") {
		if (v.empty())
			return invalid(name, v) + ": expected a directory";
		c.root = v;
	} else if (name == "--transport") {
		return set_transport(name, v, c.transport);
	} else if (name == "--max-clients") {
		return set_uint(name, v, 1, kMaxMaxClients, c.max_clients);
	} else if (name == "--threads") {
		return set_uint(name, v, 1, kMaxThreads, c.threads);
	} else if (name == "--fd-cache") {
		return set_uint(name, v, 0, kMaxFdCache, c.fd_cache);
	} else if (name == "--heartbeat") {
		return set_uint(name, v, 0, 86400, c.heartbeat_sec);
	} else if (name == "--log-level") {
		return set_log_level(name, v, c.log_level);
	} else {
		return "unknown option '" + log::escape(name) + "'";
	}
	return {};
}

}  // namespace

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r;
	r.config.listen_port = proto::kStordPort;
	OptionWalk w = walk_options(args, [&r](std::string_view name, std::string_view v) {
		return set_option(r.config, name, v);
	});
	r.help = w.help;
	r.error = std::move(w.error);
	if (r.help || !r.error.empty())
		return r;
	if (r.config.root.empty()) {
		r.error = "--root is required";
		return r;
	}
	struct stat st;
	if (::stat(r.config.root.c_str(), &st) != 0)
		r.error = "--root " + log::escape(r.config.root) + ": " + std::strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		r.error = "--root " + log::escape(r.config.root) + ": not a directory";
	return r;
}

}  // namespace disagg::stord

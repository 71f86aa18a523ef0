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
		std::to_string(kDefaultFdCache) + ")\n" +
		daemon_usage_tail();
}

namespace {

std::string set_option(Config &c, std::string_view name, std::string_view v)
{
	if (name == "--root") {
		if (v.empty())
			return invalid(name, v) + ": expected a directory";
		c.root = v;
	} else if (name == "--threads") {
		return set_uint(name, v, 1, kMaxThreads, c.threads);
	} else if (name == "--fd-cache") {
		return set_uint(name, v, 0, kMaxFdCache, c.fd_cache);
	} else if (name == "--heartbeat") {
		return set_uint(name, v, 0, 86400, c.heartbeat_sec);
	} else {
		return set_daemon_option(c, proto::kStordPort, name, v);
	}
	return {};
}

}  // namespace

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r = walk_daemon_args(args, proto::kStordPort, set_option);
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

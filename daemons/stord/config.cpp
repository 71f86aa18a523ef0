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
		"  --max-in-flight N       requests of one connection queued or running, 1..64;\n"
		"                          more are answered EAGAIN and resent (default 64)\n"
		"Export options (requests act with the caller's uid, gid and groups):\n"
		"  --squash root|all|none  map uid 0 (root, default), everybody (all) or\n"
		"                          nobody (none) to the anonymous ids\n"
		"  --anon-uid N            anonymous uid (default 65534)\n"
		"  --anon-gid N            anonymous gid (default 65534)\n"
		"  --allow-devices         let MKNOD make character and block devices\n"
		"  --allow-setid           keep set-user-ID bits, and set-group-ID bits of\n"
		"                          files, in the modes clients set (else cleared)\n"
		"  --allow-sys-xattrs      let clients see and set trusted.* and security.*\n"
		"                          extended attributes\n"
		"  --cross-mounts          let paths cross into filesystems mounted beneath\n"
		"                          the root (else EXDEV)\n"
		"  --async                 answer WRITEs before their data is stable (unsafe:\n"
		"                          a crash of this host loses data clients were told\n"
		"                          was written, even after their fsync or close)\n" +
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
	} else if (name == "--max-in-flight") {
		return set_uint(name, v, 1, 64, c.max_in_flight);
	} else if (name == "--heartbeat") {
		return set_uint(name, v, 0, 86400, c.heartbeat_sec);
	} else if (name == "--squash") {
		if (v == "root")
			c.exp.squash = Squash::kRoot;
		else if (v == "all")
			c.exp.squash = Squash::kAll;
		else if (v == "none")
			c.exp.squash = Squash::kNone;
		else
			return invalid(name, v) + ": expected root, all or none";
	} else if (name == "--anon-uid" || name == "--anon-gid") {
		// Not -1, which the set*id calls take as "no change".
		auto n = parse_uint(v, 0, 0xfffffffeu);
		if (!n)
			return invalid(name, v) + ": expected an id below 4294967295";
		(name == "--anon-uid" ? c.exp.anon_uid : c.exp.anon_gid) =
			static_cast<std::uint32_t>(*n);
	} else if (name == "--allow-devices") {
		c.exp.allow_devices = true;
	} else if (name == "--allow-setid") {
		c.exp.allow_setid = true;
	} else if (name == "--allow-sys-xattrs") {
		c.exp.allow_sys_xattrs = true;
	} else if (name == "--cross-mounts") {
		c.exp.cross_mounts = true;
	} else if (name == "--async") {
		c.exp.async = true;
	} else {
		return set_daemon_option(c, proto::kStordPort, name, v);
	}
	return {};
}

bool is_flag(std::string_view name)
{
	return name == "--allow-devices" || name == "--allow-setid" ||
	       name == "--allow-sys-xattrs" || name == "--cross-mounts" ||
	       name == "--async";
}

}  // namespace

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r = walk_daemon_args(args, proto::kStordPort, set_option, is_flag);
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

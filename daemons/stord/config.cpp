// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace disagg::stord {

namespace {

// The options of @c, for parsing or for --help.
void add_options(DaemonOptions &o, Config &c)
{
	o.add("--root", "DIR", "directory to export; required",
	      [&c](const std::string &v) {
		      if (v.empty())
			      return invalid("--root", v) + ": expected a directory";
		      c.root = v;
		      return std::string();
	      },
	      true);
	o.add_uint("--threads", "N",
		   "worker threads doing file I/O (default " +
			   std::to_string(kDefaultThreads) + ")",
		   c.threads, 1, kMaxThreads);
	o.add_uint("--fd-cache", "N",
		   "open files kept for READ/WRITE, 0 none (default " +
			   std::to_string(kDefaultFdCache) + ")",
		   c.fd_cache, 0, kMaxFdCache);
	o.add_uint("--max-in-flight", "N",
		   "requests of one connection queued or running, 1..64; more are\n"
		   "answered EAGAIN and resent (default 64)",
		   c.max_in_flight, 1, 64);
	o.group("Export options (requests act with the caller's uid, gid and groups)");
	o.add("--squash", "root|all|none",
	      "map uid 0 (root, default), everybody (all) or nobody (none) to\n"
	      "the anonymous ids",
	      [&c](const std::string &v) {
		      if (v == "root")
			      c.exp.squash = Squash::kRoot;
		      else if (v == "all")
			      c.exp.squash = Squash::kAll;
		      else if (v == "none")
			      c.exp.squash = Squash::kNone;
		      else
			      return invalid("--squash", v) + ": expected root, all or none";
		      return std::string();
	      });
	// Not -1, which the set*id calls take as "no change".
	for (const char *name : {"--anon-uid", "--anon-gid"}) {
		const bool uid = std::string_view(name) == "--anon-uid";
		std::uint32_t &id = uid ? c.exp.anon_uid : c.exp.anon_gid;
		o.add(name, "N", std::string("anonymous ") + (uid ? "uid" : "gid") + " (default 65534)",
		      [name, &id](const std::string &v) {
			      std::optional<std::uint64_t> n = parse_uint(v, 0, 0xfffffffeu);
			      if (!n)
				      return invalid(name, v) + ": expected an id below 4294967295";
			      id = static_cast<std::uint32_t>(*n);
			      return std::string();
		      });
	}
	o.add_flag("--allow-devices", c.exp.allow_devices,
		   "let MKNOD make character and block devices");
	o.add_flag("--allow-setid", c.exp.allow_setid,
		   "keep set-user-ID bits, and set-group-ID bits of files, in the\n"
		   "modes clients set (else cleared)");
	o.add_flag("--allow-sys-xattrs", c.exp.allow_sys_xattrs,
		   "let clients see and set trusted.* and security.* extended\nattributes");
	o.add_flag("--cross-mounts", c.exp.cross_mounts,
		   "let paths cross into filesystems mounted beneath the root\n(else EXDEV)");
	o.add_flag("--async", c.exp.async,
		   "answer WRITEs before their data is stable (unsafe: a crash of\n"
		   "this host loses data clients were told was written, even after\n"
		   "their fsync or close)");
	o.add_tail();
}

constexpr const char *kDescription =
	"Storage-node daemon: serves the files beneath DIR to disagg clients.";

}  // namespace

std::string usage(std::string_view prog)
{
	Config c;
	DaemonOptions o(prog, kDescription, c, proto::kStordPort);
	add_options(o, c);
	return o.help();
}

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r;
	DaemonOptions o("disagg-stord", kDescription, r.config, proto::kStordPort);
	add_options(o, r.config);
	r.error = o.parse(args, r.help);
	if (r.help || !r.error.empty())
		return r;
	struct stat st;
	if (::stat(r.config.root.c_str(), &st) != 0)
		r.error = "--root " + log::escape(r.config.root) + ": " + std::strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		r.error = "--root " + log::escape(r.config.root) + ": not a directory";
	return r;
}

}  // namespace disagg::stord

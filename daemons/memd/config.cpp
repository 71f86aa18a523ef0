// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"


namespace disagg::memd {

namespace {

// The options of @c, for parsing or for --help.
void add_options(DaemonOptions &o, Config &c)
{
	using proto::kPageSize;
	o.add("--capacity", "SIZE",
	      "bytes to export (K/M/G/T suffixes); required; change it at runtime\n"
	      "with MEM_RESIZE (dg-memclient --resize); SIGHUP reloads --keys only",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n == 0 || *n % kPageSize)
			      return invalid("--capacity", v) +
				     ": expected a size, a nonzero multiple of 4096";
		      c.capacity = *n;
		      return std::string();
	      },
	      true);
	o.add("--slab-size", "SIZE", "largest slab, a page multiple (default 64M)",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n == 0 || *n % kPageSize || *n > (1ull << 40))
			      return invalid("--slab-size", v) +
				     ": expected a nonzero multiple of 4096, at most 1T";
		      c.slab_size = *n;
		      return std::string();
	      });
	o.add_uint("--grace", "SECONDS",
		   "keep a vanished client's slabs this long (default " +
			   std::to_string(kDefaultGraceSec) + ")",
		   c.grace_sec, 0, kMaxGraceSec);
	o.add_uint("--evict-grace", "SECONDS",
		   "ask again for a slab not released this long after MEM_EVICT\n(default " +
			   std::to_string(kDefaultEvictGraceSec) + ")",
		   c.evict_grace_sec, 1, kMaxEvictGraceSec);
	o.add("--client-quota", "SIZE",
	      "slab bytes one identity may hold (one for all clients without\n"
	      "--keys), 0 no quota (default 0)",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n % kPageSize)
			      return invalid("--client-quota", v) +
				     ": expected a size, a multiple of 4096 (0: no quota)";
		      c.client_quota = *n;
		      return std::string();
	      });
	o.add_tail();
}

constexpr const char *kDescription =
	"Memory-node daemon: exports DRAM to disagg clients in slabs.";

}  // namespace

std::string usage(std::string_view prog)
{
	Config c;
	DaemonOptions o(prog, kDescription, c, proto::kMemdPort);
	add_options(o, c);
	return o.help();
}

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r;
	DaemonOptions o("disagg-memd", kDescription, r.config, proto::kMemdPort);
	add_options(o, r.config);
	r.error = o.parse(args, r.help);
	if (r.help || !r.error.empty())
		return r;
	if (r.config.slab_size > r.config.capacity) {
		r.error = "--slab-size (" + std::to_string(r.config.slab_size) +
			  ") is larger than --capacity (" +
			  std::to_string(r.config.capacity) + ")";
		return r;
	}
	return r;
}

}  // namespace disagg::memd

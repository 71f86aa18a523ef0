// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"

#include <charconv>
#include <limits>

namespace disagg::memd {

std::string usage(std::string_view prog)
{
	std::string p(prog);
	return "usage: " + p + " --capacity SIZE [options]\n"
		"Memory-node daemon: exports DRAM to disagg clients in slabs.\n"
		"  --listen ADDR[:PORT]    address to listen on (default 0.0.0.0:" +
		std::to_string(proto::kMemdPort) + ")\n"
		"  --capacity SIZE         bytes to export (K/M/G/T suffixes); required;\n"
		"                          change it at runtime with MEM_RESIZE\n"
		"                          (dg-memclient --resize); SIGHUP reloads --keys only\n"
		"  --transport rdma|tcp    transport (default rdma)\n"
		"  --slab-size SIZE        largest slab, a page multiple (default 64M)\n"
		"  --grace SECONDS         keep a vanished client's slabs this long (default " +
		std::to_string(kDefaultGraceSec) + ")\n"
		"  --evict-grace SECONDS   ask again for a slab not released this long after\n"
		"                          MEM_EVICT (default " +
		std::to_string(kDefaultEvictGraceSec) + ")\n"
		"  --client-quota SIZE     slab bytes one identity may hold (one for all\n"
		"                          clients without --keys), 0 no quota (default 0)\n"
		"  --max-clients N         concurrent connections (default " +
		std::to_string(kDefaultMaxClients) + ")\n" +
		daemon_usage_tail();
}

namespace {

std::string set_option(Config &c, std::string_view name, std::string_view v)
{
	using proto::kPageSize;
	const std::string bad = invalid(name, v);
	if (name == "--capacity") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n == 0 || *n % kPageSize)
			return bad + ": expected a size, a nonzero multiple of 4096";
		c.capacity = *n;
	} else if (name == "--slab-size") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n == 0 || *n % kPageSize || *n > (1ull << 40))
			return bad + ": expected a nonzero multiple of 4096, at most 1T";
		c.slab_size = *n;
	} else if (name == "--client-quota") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n % kPageSize)
			return bad + ": expected a size, a multiple of 4096 (0: no quota)";
		c.client_quota = *n;
	} else if (name == "--grace") {
		std::optional<std::uint64_t> n = parse_uint(v, 0, kMaxGraceSec);
		if (!n)
			return bad + ": expected seconds, 0.." + std::to_string(kMaxGraceSec);
		c.grace_sec = static_cast<unsigned>(*n);
	} else if (name == "--evict-grace") {
		std::optional<std::uint64_t> n = parse_uint(v, 1, kMaxEvictGraceSec);
		if (!n)
			return bad + ": expected seconds, 1.." + std::to_string(kMaxEvictGraceSec);
		c.evict_grace_sec = static_cast<unsigned>(*n);
	} else if (name == "--heartbeat") {
		std::optional<std::uint64_t> n = parse_uint(v, 0, 86400);
		if (!n)
			return bad + ": expected seconds, 0..86400";
		c.heartbeat_sec = static_cast<unsigned>(*n);
	} else {
		return set_daemon_option(c, proto::kMemdPort, name, v);
	}
	return {};
}

}  // namespace

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r = walk_daemon_args(args, proto::kMemdPort, set_option);
	if (r.help || !r.error.empty())
		return r;
	if (r.config.capacity == 0) {
		r.error = "--capacity is required";
		return r;
	}
	if (r.config.slab_size > r.config.capacity) {
		r.error = "--slab-size (" + std::to_string(r.config.slab_size) +
			  ") is larger than --capacity (" +
			  std::to_string(r.config.capacity) + ")";
		return r;
	}
	return r;
}

}  // namespace disagg::memd

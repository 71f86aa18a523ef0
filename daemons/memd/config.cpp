// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"

#include <charconv>
#include <limits>

namespace disagg::memd {

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t lo,
					std::uint64_t hi)
{
	std::uint64_t v = 0;
	if (s.empty() || s.front() < '0' || s.front() > '9')
		return std::nullopt;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
		return std::nullopt;
	return v;
}

std::optional<std::uint64_t> parse_size(std::string_view s)
{
	std::size_t digits = 0;
	while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (digits == 0)
		return std::nullopt;
	std::optional<std::uint64_t> n =
		parse_uint(s.substr(0, digits), 0, std::numeric_limits<std::uint64_t>::max());
	if (!n)
		return std::nullopt;
	std::string_view suffix = s.substr(digits);
	unsigned shift = 0;
	if (!suffix.empty()) {
		switch (suffix.front()) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		case 'b': case 'B': break;
		default: return std::nullopt;
		}
		if (shift)
			suffix.remove_prefix(1);
		if (!(suffix.empty() || suffix == "B" || suffix == "b" ||
		      (shift && (suffix == "iB" || suffix == "ib"))))
			return std::nullopt;
	}
	if (shift && *n > (std::numeric_limits<std::uint64_t>::max() >> shift))
		return std::nullopt;
	return *n << shift;
}

bool parse_host_port(std::string_view s, std::string &host, std::uint16_t &port,
		     std::uint16_t default_port)
{
	std::string_view h = s, p;
	if (!s.empty() && s.front() == '[') {
		std::size_t close = s.find(']');
		if (close == std::string_view::npos)
			return false;
		h = s.substr(1, close - 1);
		std::string_view rest = s.substr(close + 1);
		if (!rest.empty()) {
			if (rest.front() != ':')
				return false;
			p = rest.substr(1);
			if (p.empty())
				return false;
		}
	} else if (std::size_t colon = s.rfind(':'); colon != std::string_view::npos) {
		if (s.find(':') != colon)
			return false;	// bare IPv6: needs brackets
		h = s.substr(0, colon);
		p = s.substr(colon + 1);
		if (p.empty())
			return false;
	}
	port = default_port;
	if (!p.empty()) {
		std::optional<std::uint64_t> v = parse_uint(p, 0, 65535);
		if (!v)
			return false;
		port = static_cast<std::uint16_t>(*v);
	}
	host = h.empty() ? "0.0.0.0" : std::string(h);
	return true;
}

const char *to_string(TransportKind t)
{
	return t == TransportKind::kRdma ? "rdma" : "tcp";
}

std::string usage(std::string_view prog)
{
	std::string p(prog);
	return "usage: " + p + " --capacity SIZE [options]\n"
		"Memory-node daemon: exports DRAM to disagg clients in slabs.\n"
		"  --listen ADDR[:PORT]    address to listen on (default 0.0.0.0:" +
		std::to_string(proto::kMemdPort) + ")\n"
		"  --capacity SIZE         bytes to export (K/M/G/T suffixes); required\n"
		"  --transport rdma|tcp    transport (default rdma)\n"
		"  --slab-size SIZE        largest slab, a page multiple (default 64M)\n"
		"  --grace SECONDS         keep a vanished client's slabs this long (default " +
		std::to_string(kDefaultGraceSec) + ")\n"
		"  --max-clients N         concurrent connections (default " +
		std::to_string(kDefaultMaxClients) + ")\n"
		"  --heartbeat SECONDS     probe clients silent this long, 0 never (default " +
		std::to_string(kDefaultHeartbeatSec) + ")\n"
		"  --log-level LEVEL       error|warn|info|debug (default info)\n"
		"  -h, --help              this text\n";
}

namespace {

// One option: its name and whether it takes a value.
bool takes_value(std::string_view name)
{
	return name != "--help" && name != "-h";
}

std::string set_option(Config &c, std::string_view name, std::string_view v)
{
	using proto::kPageSize;
	const std::string bad = "invalid " + std::string(name) + " '" +
				log::escape(v) + "'";
	if (name == "--listen") {
		if (!parse_host_port(v, c.listen_host, c.listen_port, proto::kMemdPort))
			return bad + ": expected ADDR, ADDR:PORT or [ADDR]:PORT";
	} else if (name == "--capacity") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n == 0 || *n % kPageSize)
			return bad + ": expected a size, a nonzero multiple of 4096";
		c.capacity = *n;
	} else if (name == "--transport") {
		if (v == "rdma")
			c.transport = TransportKind::kRdma;
		else if (v == "tcp")
			c.transport = TransportKind::kTcp;
		else
			return bad + ": expected rdma or tcp";
	} else if (name == "--slab-size") {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n == 0 || *n % kPageSize || *n > (1ull << 40))
			return bad + ": expected a nonzero multiple of 4096, at most 1T";
		c.slab_size = *n;
	} else if (name == "--grace") {
		std::optional<std::uint64_t> n = parse_uint(v, 0, kMaxGraceSec);
		if (!n)
			return bad + ": expected seconds, 0.." + std::to_string(kMaxGraceSec);
		c.grace_sec = static_cast<unsigned>(*n);
	} else if (name == "--max-clients") {
		std::optional<std::uint64_t> n = parse_uint(v, 1, kMaxMaxClients);
		if (!n)
			return bad + ": expected 1.." + std::to_string(kMaxMaxClients);
		c.max_clients = static_cast<unsigned>(*n);
	} else if (name == "--heartbeat") {
		std::optional<std::uint64_t> n = parse_uint(v, 0, 86400);
		if (!n)
			return bad + ": expected seconds, 0..86400";
		c.heartbeat_sec = static_cast<unsigned>(*n);
	} else if (name == "--log-level") {
		std::optional<log::Level> l = log::parse_level(v);
		if (!l)
			return bad + ": expected error, warn, info or debug";
		c.log_level = *l;
	} else {
		return "unknown option '" + log::escape(name) + "'";
	}
	return {};
}

}  // namespace

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r;
	r.config.listen_port = proto::kMemdPort;
	for (std::size_t i = 0; i < args.size(); i++) {
		std::string_view a = args[i];
		if (a == "-h" || a == "--help") {
			r.help = true;
			return r;
		}
		if (a.substr(0, 2) != "--") {
			r.error = "unexpected argument '" + log::escape(a) + "'";
			return r;
		}
		std::string_view name = a, value;
		bool have_value = false;
		if (std::size_t eq = a.find('='); eq != std::string_view::npos) {
			name = a.substr(0, eq);
			value = a.substr(eq + 1);
			have_value = true;
		}
		if (takes_value(name) && !have_value) {
			if (i + 1 >= args.size()) {
				r.error = "option '" + std::string(name) + "' needs a value";
				return r;
			}
			value = args[++i];
		}
		if (std::string e = set_option(r.config, name, value); !e.empty()) {
			r.error = std::move(e);
			return r;
		}
	}
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

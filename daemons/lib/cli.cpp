// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cli.hpp"

#include "log.hpp"

#include <charconv>
#include <limits>

namespace disagg {

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

std::string invalid(std::string_view name, std::string_view v)
{
	return "invalid " + std::string(name) + " '" + log::escape(v) + "'";
}

std::optional<TransportKind> parse_transport(std::string_view s)
{
	if (s == "rdma")
		return TransportKind::kRdma;
	if (s == "tcp")
		return TransportKind::kTcp;
	return std::nullopt;
}

}  // namespace disagg

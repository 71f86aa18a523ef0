// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Command-line pieces the daemons and tools share: numbers, sizes,
// addresses, the transport, and the walk over "--name value" options.
#pragma once

#include "log.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace disagg {

enum class TransportKind { kRdma, kTcp };

// "64M", "1G", "4096", "2t": bytes. Suffixes K/M/G/T are powers of 1024,
// either case, optionally followed by "iB" or "B". nullopt on anything
// else or on overflow.
std::optional<std::uint64_t> parse_size(std::string_view s);

// "ADDR", "ADDR:PORT", "[V6ADDR]:PORT", ":PORT". Port 0 is allowed (an
// ephemeral port, for tests).
bool parse_host_port(std::string_view s, std::string &host, std::uint16_t &port,
		     std::uint16_t default_port);

// Unsigned decimal in [lo, hi].
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t lo,
					std::uint64_t hi);

const char *to_string(TransportKind t);

// Common options. Each returns "" or an error text, and sets its value
// only on success.
std::string set_transport(std::string_view name, std::string_view v, TransportKind &out);
std::string set_log_level(std::string_view name, std::string_view v, log::Level &out);
std::string set_uint(std::string_view name, std::string_view v, std::uint64_t lo,
		     std::uint64_t hi, unsigned &out);
// "invalid NAME 'VALUE'" with the value escaped.
std::string invalid(std::string_view name, std::string_view v);

// Walks "--name value" and "--name=value" arguments, calling @set(name,
// value) for each; -h/--help stops the walk with help set. Every option but
// -h/--help takes a value, except those @is_flag says are flags: they are
// given alone ("--name", value "") and reject "--name=value".
struct OptionWalk {
	bool help = false;
	std::string error;	// empty on success
};
OptionWalk walk_options(const std::vector<std::string> &args,
			const std::function<std::string(std::string_view name,
							std::string_view value)> &set,
			bool (*is_flag)(std::string_view name) = nullptr);

}  // namespace disagg

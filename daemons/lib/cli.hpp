// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Values on the command lines of the daemons and tools: numbers, sizes,
// addresses, the transport. The options themselves are CLI11's (see
// daemon_config.hpp); these are the parsers their callbacks use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// "rdma" or "tcp".
std::optional<TransportKind> parse_transport(std::string_view s);
const char *to_string(TransportKind t);

// "invalid NAME 'VALUE'" with the value escaped.
std::string invalid(std::string_view name, std::string_view v);

}  // namespace disagg

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// log::escape() on its own, out of log.cpp (and its libsystemd): the
// command-line parsers of cli.cpp use it, and the test tools link those
// without the rest of the daemons' library (disagg_cli).
#include "log.hpp"

#include <cstdio>

namespace disagg::log {

std::string escape(std::string_view bytes)
{
	std::string out;
	for (char c : bytes) {
		const auto u = static_cast<unsigned char>(c);
		if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
			char buf[5];
			std::snprintf(buf, sizeof(buf), "\\x%02x", u);
			out += buf;
		} else {
			out += c;
		}
	}
	return out;
}

}  // namespace disagg::log

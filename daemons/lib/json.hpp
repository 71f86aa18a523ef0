// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// JSON through nlohmann-json: the status objects keep their keys in the
// order they are set (ordered_json), and come out compact, ASCII only.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace disagg {

using Json = nlohmann::ordered_json;

// A string value from bytes that need not be UTF-8 (names and identities
// from the network, paths): each byte becomes the code point of its value,
// so json_text() writes bytes 0x80..0xff as \u0080..\u00ff and nothing is
// lost or refused.
inline std::string json_bytes(std::string_view bytes)
{
	std::string out;
	out.reserve(bytes.size());
	for (char c : bytes) {
		const auto u = static_cast<unsigned char>(c);
		if (u < 0x80) {
			out += c;
		} else {
			out += static_cast<char>(0xc0 | (u >> 6));
			out += static_cast<char>(0x80 | (u & 0x3f));
		}
	}
	return out;
}

// Compact text, non-ASCII escaped as \uXXXX.
inline std::string json_text(const Json &j)
{
	return j.dump(-1, ' ', true);
}

}  // namespace disagg

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "json.hpp"

#include <cstdio>

namespace disagg {

std::string JsonWriter::quote(std::string_view bytes)
{
	std::string out = "\"";
	for (char c : bytes) {
		const auto u = static_cast<unsigned char>(c);
		if (c == '"' || c == '\\') {
			out += '\\';
			out += c;
		} else if (u < 0x20 || u >= 0x7f) {
			// Bytes, not UTF-8: each becomes its own code point.
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", u);
			out += buf;
		} else {
			out += c;
		}
	}
	return out + "\"";
}

void JsonWriter::key(std::string_view k)
{
	if (!first_.back())
		out_ += ',';
	first_.back() = false;
	if (!k.empty()) {
		out_ += quote(k);
		out_ += ':';
	}
}

JsonWriter &JsonWriter::begin_object(std::string_view k)
{
	key(k);
	out_ += '{';
	first_.push_back(true);
	return *this;
}

JsonWriter &JsonWriter::end_object()
{
	first_.pop_back();
	out_ += '}';
	return *this;
}

JsonWriter &JsonWriter::begin_array(std::string_view k)
{
	key(k);
	out_ += '[';
	first_.push_back(true);
	return *this;
}

JsonWriter &JsonWriter::end_array()
{
	first_.pop_back();
	out_ += ']';
	return *this;
}

JsonWriter &JsonWriter::str(std::string_view k, std::string_view v)
{
	key(k);
	out_ += quote(v);
	return *this;
}

JsonWriter &JsonWriter::num(std::string_view k, std::uint64_t v)
{
	key(k);
	out_ += std::to_string(v);
	return *this;
}

JsonWriter &JsonWriter::snum(std::string_view k, std::int64_t v)
{
	key(k);
	out_ += std::to_string(v);
	return *this;
}

JsonWriter &JsonWriter::boolean(std::string_view k, bool v)
{
	key(k);
	out_ += v ? "true" : "false";
	return *this;
}

JsonWriter &JsonWriter::null(std::string_view k)
{
	key(k);
	out_ += "null";
	return *this;
}

}  // namespace disagg

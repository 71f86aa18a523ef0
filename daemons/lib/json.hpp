// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A minimal JSON writer: objects, arrays, strings (any bytes, escaped to
// ASCII), unsigned and signed integers, booleans, null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace disagg {

class JsonWriter {
public:
	JsonWriter &begin_object(std::string_view key = {});
	JsonWriter &end_object();
	JsonWriter &begin_array(std::string_view key = {});
	JsonWriter &end_array();
	JsonWriter &str(std::string_view key, std::string_view v);
	JsonWriter &num(std::string_view key, std::uint64_t v);
	JsonWriter &snum(std::string_view key, std::int64_t v);
	JsonWriter &boolean(std::string_view key, bool v);
	JsonWriter &null(std::string_view key);

	const std::string &text() const { return out_; }

	static std::string quote(std::string_view bytes);

private:
	void key(std::string_view k);
	std::string out_;
	std::vector<bool> first_{true};	// per open container: nothing in it yet
};

}  // namespace disagg

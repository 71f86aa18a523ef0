// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "registry.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace disagg::registry {

namespace {

bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool all_name_chars(std::string_view s)
{
	return std::all_of(s.begin(), s.end(), name_char);
}

// @s shown in a message: at most 40 bytes, anything unprintable as '?'.
std::string shown(std::string_view s)
{
	std::string out;
	for (char c : s.substr(0, 40))
		out += (c >= 0x20 && c < 0x7f) ? c : '?';
	if (s.size() > 40)
		out += "...";
	return "\"" + out + "\"";
}

}  // namespace

std::string check_name(std::string_view name)
{
	if (name.empty() || name.size() > kMaxNameLen || !all_name_chars(name))
		return "node name " + shown(name) + " is not 1-31 of [A-Za-z0-9_.-]";
	return {};
}

std::string check_label(std::string_view key, std::string_view value)
{
	if (key.empty() || key.size() > kMaxLabelLen || !all_name_chars(key))
		return "label key " + shown(key) + " is not 1-63 of [A-Za-z0-9_.-]";
	if (value.empty() || value.size() > kMaxLabelLen || !all_name_chars(value))
		return "label value " + shown(value) + " is not 1-63 of [A-Za-z0-9_.-]";
	return {};
}

std::string check_addr(std::string_view addr)
{
	if (addr.find('\0') != std::string_view::npos)
		return "address " + shown(addr) + " is not a numeric IPv4 or IPv6 address";
	const std::string a(addr.substr(0, INET6_ADDRSTRLEN + 1));
	in_addr v4;
	in6_addr v6;
	if (addr.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET, a.c_str(), &v4) == 1) {
		if (v4.s_addr == htonl(INADDR_ANY))
			return "address " + shown(addr) + " is a wildcard";
		return {};
	}
	if (addr.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&v6))
			return "address " + shown(addr) + " is a wildcard";
		return {};
	}
	return "address " + shown(addr) + " is not a numeric IPv4 or IPv6 address";
}

std::string check_prefix(std::string_view p)
{
	if (p.empty() || p.size() > kMaxPrefixLen || p.front() != '/' || p.back() != '/' ||
	    !std::all_of(p.begin(), p.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
		return "key prefix " + shown(p) +
		       " must start and end with '/' (at most 255 printable characters, no spaces)";
	return {};
}

std::string record_key(std::string_view prefix, std::string_view name)
{
	std::string k(prefix);
	k += name;
	return k;
}

std::optional<std::string> name_of_key(std::string_view prefix, std::string_view key)
{
	if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix)
		return std::nullopt;
	std::string_view name = key.substr(prefix.size());
	if (!check_name(name).empty())
		return std::nullopt;
	return std::string(name);
}

std::string to_json(const NodeRecord &r)
{
	nlohmann::ordered_json j;
	j["name"] = r.name;
	j["addr"] = r.addr;
	j["port"] = r.port;
	j["transports"] = r.transports;
	j["capacity"] = r.capacity;
	j["free"] = r.free;
	j["server_id"] = r.server_id;
	j["state"] = r.state;
	j["labels"] = nlohmann::ordered_json::object();
	for (const auto &[k, v] : r.labels)
		j["labels"][k] = v;
	// ASCII only (the fields are checked to be), so never a UTF-8 throw.
	return j.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<NodeRecord> parse_record(std::string_view text, std::string *why)
{
	std::string dummy;
	std::string &err = why ? *why : dummy;
	auto fail = [&err](std::string e) -> std::optional<NodeRecord> {
		err = "record: " + std::move(e);
		return std::nullopt;
	};
	if (text.size() > kMaxRecordLen)
		return fail("longer than " + std::to_string(kMaxRecordLen) + " bytes");
	const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
	if (j.is_discarded())
		return fail("not JSON");
	if (!j.is_object())
		return fail("not a JSON object");

	// A string member, present, at most @max bytes.
	auto str = [&j](const char *name, std::size_t max, std::string &out) -> std::string {
		auto it = j.find(name);
		if (it == j.end())
			return std::string(name) + " missing";
		if (!it->is_string())
			return std::string(name) + " is not a string";
		const std::string &s = it->get_ref<const std::string &>();
		if (s.size() > max)
			return std::string(name) + " too long";
		out = s;
		return {};
	};
	// An unsigned integer member (not a float, not negative).
	auto num = [&j](const char *name, std::uint64_t &out) -> std::string {
		auto it = j.find(name);
		if (it == j.end())
			return std::string(name) + " missing";
		if (!it->is_number_unsigned())
			return std::string(name) + " is not an unsigned integer";
		out = it->get<std::uint64_t>();
		return {};
	};

	NodeRecord r;
	std::string e;
	if (!(e = str("name", kMaxNameLen + 1, r.name)).empty())
		return fail(e);
	if (!(e = check_name(r.name)).empty())
		return fail(e);
	if (!(e = str("addr", 64, r.addr)).empty())
		return fail(e);
	if (!(e = check_addr(r.addr)).empty())
		return fail(e);
	std::uint64_t port = 0;
	if (!(e = num("port", port)).empty())
		return fail(e);
	if (port < 1 || port > 65535)
		return fail("port " + std::to_string(port) + " is not 1..65535");
	r.port = static_cast<unsigned>(port);

	auto tr = j.find("transports");
	if (tr == j.end())
		return fail("transports missing");
	if (!tr->is_array() || tr->empty() || tr->size() > 2)
		return fail("transports is not a list of rdma, tcp");
	for (const auto &t : *tr) {
		if (!t.is_string() || (t != "rdma" && t != "tcp"))
			return fail("transports is not a list of rdma, tcp");
		const std::string s = t.get<std::string>();
		if (std::find(r.transports.begin(), r.transports.end(), s) != r.transports.end())
			return fail("transport " + s + " listed twice");
		r.transports.push_back(s);
	}

	if (!(e = num("capacity", r.capacity)).empty() || !(e = num("free", r.free)).empty())
		return fail(e);
	if (r.free > r.capacity)
		return fail("free (" + std::to_string(r.free) + ") above capacity (" +
			    std::to_string(r.capacity) + ")");
	if (!(e = str("server_id", 16, r.server_id)).empty())
		return fail(e);
	if (r.server_id.size() != 16 ||
	    !std::all_of(r.server_id.begin(), r.server_id.end(),
			 [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
		return fail("server_id is not 16 lowercase hex digits");
	if (!(e = str("state", 16, r.state)).empty())
		return fail(e);
	if (r.state != "up" && r.state != "draining")
		return fail("state " + shown(r.state) + " is not up or draining");

	// Labels are optional (none: {}).
	if (auto lb = j.find("labels"); lb != j.end()) {
		if (!lb->is_object())
			return fail("labels is not an object");
		if (lb->size() > kMaxLabels)
			return fail("more than " + std::to_string(kMaxLabels) + " labels");
		for (const auto &[k, v] : lb->items()) {
			if (!v.is_string())
				return fail("label " + shown(k) + " is not a string");
			const std::string &s = v.get_ref<const std::string &>();
			if (!(e = check_label(k, s)).empty())
				return fail(e);
			r.labels[k] = s;
		}
	}
	return r;
}

}  // namespace disagg::registry

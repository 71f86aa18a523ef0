// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The record a memory node (disagg-memd --registry) keeps in etcd, under
// @prefix + its name, attached to its lease:
//
//   /disagg/memory/mem1 ->
//   {"name":"mem1","addr":"198.18.1.2","port":7470,"transports":["rdma"],
//    "capacity":4294967296,"free":4227858432,"server_id":"6f0c2a9d1e4b7c35",
//    "state":"up","labels":{"rack":"r1","zone":"a"}}
//
// name: what a kernel node name takes (1-31 of [A-Za-z0-9_.-], mm/nodes.c);
// addr: a numeric IPv4 or IPv6 address, not a wildcard; port 1..65535;
// transports: a non-empty set of "rdma", "tcp"; free <= capacity (bytes);
// server_id: memd's server id, 16 lowercase hex digits (as in STATUS);
// state: "up" or "draining" (SIGTERM: clients should move away); labels:
// at most kMaxLabels, keys and values 1-63 of [A-Za-z0-9_.-]. Members
// not listed here are ignored (room for later fields). No secret ever goes
// into a record: whoever can read etcd can read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::registry {

inline constexpr const char *kDefaultPrefix = "/disagg/memory/";
inline constexpr std::size_t kMaxNameLen = 31;		// DSWAP_NODE_NAME_MAX
inline constexpr std::size_t kMaxLabels = 16;
inline constexpr std::size_t kMaxLabelLen = 63;
inline constexpr std::size_t kMaxPrefixLen = 255;
// Largest record text parse_record() looks at.
inline constexpr std::size_t kMaxRecordLen = 8192;

struct NodeRecord {
	std::string name, addr;
	unsigned port = 0;
	std::vector<std::string> transports;	// "rdma", "tcp"
	std::uint64_t capacity = 0, free = 0;
	std::string server_id;
	std::string state = "up";	// "up" | "draining"
	std::map<std::string, std::string> labels;

	bool operator==(const NodeRecord &) const = default;
};

std::string to_json(const NodeRecord &r);
// The record in @json, or nullopt and *@why (when not null) saying what is
// wrong with it.
std::optional<NodeRecord> parse_record(std::string_view json, std::string *why);

// "" or why @name is not a node name (1-31 of [A-Za-z0-9_.-]).
std::string check_name(std::string_view name);
// "" or why @key=@value is not a label.
std::string check_label(std::string_view key, std::string_view value);
// "" or why @addr is not a numeric, non-wildcard IPv4/IPv6 address.
std::string check_addr(std::string_view addr);
// "" or why @prefix is not a key prefix: starts and ends with '/', at most
// kMaxPrefixLen bytes of printable ASCII without spaces.
std::string check_prefix(std::string_view prefix);

// @prefix + @name.
std::string record_key(std::string_view prefix, std::string_view name);
// The node name of @key under @prefix, nullopt when @key is not
// @prefix + a valid name.
std::optional<std::string> name_of_key(std::string_view prefix, std::string_view key);

}  // namespace disagg::registry

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory-node record (daemons/lib/registry.cpp): round trip, and
// parse_record() against hostile JSON, one bad field at a time.
#include "registry.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace disagg::registry {
namespace {

using nlohmann::json;

NodeRecord sample()
{
	NodeRecord r;
	r.name = "mem-1.a_b";
	r.addr = "198.18.1.2";
	r.port = 7470;
	r.transports = {"rdma", "tcp"};
	r.capacity = 4ull << 30;
	r.free = 3ull << 30;
	r.server_id = "6f0c2a9d1e4b7c35";
	r.state = "up";
	r.labels = {{"rack", "r1"}, {"zone", "eu-1.a"}};
	return r;
}

json sample_json()
{
	return json::parse(to_json(sample()));
}

TEST(Registry, ToJsonIsTheDocumentedFormat)
{
	EXPECT_EQ(to_json(sample()),
		  R"({"name":"mem-1.a_b","addr":"198.18.1.2","port":7470,"transports":["rdma","tcp"],)"
		  R"("capacity":4294967296,"free":3221225472,"server_id":"6f0c2a9d1e4b7c35",)"
		  R"("state":"up","labels":{"rack":"r1","zone":"eu-1.a"}})");
	NodeRecord r = sample();
	r.labels.clear();
	r.state = "draining";
	EXPECT_NE(to_json(r).find(R"("state":"draining","labels":{}})"), std::string::npos);
}

TEST(Registry, RoundTrip)
{
	std::string why;
	std::optional<NodeRecord> r = parse_record(to_json(sample()), &why);
	ASSERT_TRUE(r) << why;
	EXPECT_EQ(*r, sample());
	NodeRecord v6 = sample();
	v6.addr = "fd00::1:2";
	v6.transports = {"tcp"};
	v6.labels.clear();
	v6.free = v6.capacity;
	v6.port = 65535;
	r = parse_record(to_json(v6), &why);
	ASSERT_TRUE(r) << why;
	EXPECT_EQ(*r, v6);
	// Members we do not know are ignored; labels may be left out.
	json j = sample_json();
	j["future"] = {{"x", 1}};
	j.erase("labels");
	r = parse_record(j.dump(), &why);
	ASSERT_TRUE(r) << why;
	EXPECT_TRUE(r->labels.empty());
	// A null why is fine.
	EXPECT_TRUE(parse_record(to_json(sample()), nullptr));
	EXPECT_FALSE(parse_record("{", nullptr));
}

// Each case: the sample with one member replaced (or removed: null
// value and remove set).
struct Bad {
	const char *member;
	json value;
	bool remove = false;
};

TEST(Registry, RejectsEveryBadField)
{
	const std::string s32(32, 'a'), s64(64, 'a');
	json many = json::object();
	for (int i = 0; i < 17; i++)
		many["k" + std::to_string(i)] = "v";
	const std::vector<Bad> cases = {
		{"name", nullptr, true}, {"name", nullptr}, {"name", 5}, {"name", ""},
		{"name", s32}, {"name", "a b"}, {"name", "a/b"}, {"name", "a\u00e9"},
		{"name", std::string("a\0b", 3)}, {"name", "a:b"}, {"name", json::array({"a"})},
		{"addr", nullptr, true}, {"addr", "host.example"}, {"addr", "0.0.0.0"},
		{"addr", "::"}, {"addr", "1.2.3"}, {"addr", "1.2.3.4.5"}, {"addr", "256.1.1.1"},
		{"addr", "1.2.3.4 "}, {"addr", " 1.2.3.4"}, {"addr", std::string("1.2.3.4\0x", 9)},
		{"addr", "fe80::1%eth0"}, {"addr", "[::1]"}, {"addr", "1.2.3.4:80"},
		{"addr", s64}, {"addr", ""}, {"addr", 16909060},
		{"port", nullptr, true}, {"port", 0}, {"port", 65536}, {"port", -1},
		{"port", "7470"}, {"port", 7470.5}, {"port", 1e3}, {"port", true},
		{"port", 18446744073709551615ull},
		{"transports", nullptr, true}, {"transports", json::array()},
		{"transports", "rdma"}, {"transports", json::array({"rdma", "rdma"})},
		{"transports", json::array({"udp"})}, {"transports", json::array({"RDMA"})},
		{"transports", json::array({1})}, {"transports", json::array({"rdma", "tcp", "tcp"})},
		{"transports", json::object({{"rdma", true}})},
		{"capacity", nullptr, true}, {"capacity", -1}, {"capacity", "1"},
		{"capacity", 1.0}, {"capacity", 1ull << 20},	// below free
		{"free", nullptr, true}, {"free", -5}, {"free", 5ull << 30}, {"free", "0"},
		{"server_id", nullptr, true}, {"server_id", ""}, {"server_id", "6f0c2a9d1e4b7c3"},
		{"server_id", "6f0c2a9d1e4b7c355"}, {"server_id", "6F0C2A9D1E4B7C35"},
		{"server_id", "6f0c2a9d1e4b7cxz"}, {"server_id", 12},
		{"state", nullptr, true}, {"state", "UP"}, {"state", "down"}, {"state", ""},
		{"state", 1}, {"state", "up "},
		{"labels", "rack=r1"}, {"labels", json::array()}, {"labels", many},
		{"labels", json::object({{"", "v"}})}, {"labels", json::object({{"k", ""}})},
		{"labels", json::object({{"k", 1}})}, {"labels", json::object({{"k", nullptr}})},
		{"labels", json::object({{"k", "a b"}})}, {"labels", json::object({{"k=v", "x"}})},
		{"labels", json::object({{s64, "v"}})}, {"labels", json::object({{"k", s64}})},
		{"labels", json::object({{"k", json::object()}})},
	};
	for (const Bad &b : cases) {
		json j = sample_json();
		if (b.remove)
			j.erase(b.member);
		else
			j[b.member] = b.value;
		std::string why;
		const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
		EXPECT_FALSE(parse_record(text, &why)) << b.member << ": " << text;
		EXPECT_NE(why.find("record: "), std::string::npos) << text;
	}
}

TEST(Registry, RejectsWhatIsNotARecord)
{
	std::string big = to_json(sample());
	big.insert(big.size() - 1, ",\"pad\":\"" + std::string(kMaxRecordLen, 'x') + "\"");
	for (const std::string &bad : std::vector<std::string>{
		     "", " ", "null", "[]", "\"x\"", "1", "{", "}", "{}", "{\"name\":",
		     to_json(sample()) + "x", "\xff\xfe{}", std::string(100000, '['),
		     std::string(4000, '[') + std::string(4000, ']'),
		     "{\"name\":\"m\",\"name\":" + std::string(3000, '[') + "}", big,
		     std::string(to_json(sample())).replace(0, 1, "[")}) {
		std::string why;
		EXPECT_FALSE(parse_record(bad, &why)) << bad.substr(0, 60);
		EXPECT_FALSE(why.empty());
	}
}

TEST(Registry, Checks)
{
	EXPECT_EQ(check_name("a"), "");
	EXPECT_EQ(check_name(std::string(31, 'z')), "");
	EXPECT_NE(check_name(std::string(32, 'z')), "");
	EXPECT_NE(check_name(""), "");
	EXPECT_NE(check_name("a\nb"), "");
	EXPECT_EQ(check_addr("127.0.0.1"), "");
	EXPECT_EQ(check_addr("::1"), "");
	EXPECT_NE(check_addr("localhost"), "");
	EXPECT_EQ(check_label("rack", "r-1.2_x"), "");
	EXPECT_NE(check_label("rack", "r 1"), "");
	EXPECT_EQ(check_prefix("/disagg/memory/"), "");
	EXPECT_EQ(check_prefix("/"), "");
	for (const char *bad : {"", "disagg/", "/disagg", "/a b/", "/a\x01/"})
		EXPECT_NE(check_prefix(bad), "") << bad;
	EXPECT_NE(check_prefix("/" + std::string(300, 'a') + "/"), "");
}

TEST(Registry, Keys)
{
	EXPECT_EQ(record_key(kDefaultPrefix, "mem1"), "/disagg/memory/mem1");
	EXPECT_EQ(name_of_key(kDefaultPrefix, "/disagg/memory/mem1"), "mem1");
	EXPECT_FALSE(name_of_key(kDefaultPrefix, "/disagg/memory/"));
	EXPECT_FALSE(name_of_key(kDefaultPrefix, "/disagg/memory/a/b"));
	EXPECT_FALSE(name_of_key(kDefaultPrefix, "/disagg/other/mem1"));
	EXPECT_FALSE(name_of_key(kDefaultPrefix, "/disagg/memory/" + std::string(32, 'a')));
}

}  // namespace
}  // namespace disagg::registry

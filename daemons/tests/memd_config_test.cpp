// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd's command line and --config file: sizes, addresses,
// defaults, and the errors that make it exit 2.
#include "config.hpp"
#include "proto.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace disagg::memd {
namespace {

TEST(MemdConfig, ParseSize)
{
	EXPECT_EQ(parse_size("4096"), 4096u);
	EXPECT_EQ(parse_size("4K"), 4096u);
	EXPECT_EQ(parse_size("64M"), 64ull << 20);
	EXPECT_EQ(parse_size("64m"), 64ull << 20);
	EXPECT_EQ(parse_size("2G"), 2ull << 30);
	EXPECT_EQ(parse_size("1T"), 1ull << 40);
	EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
	EXPECT_EQ(parse_size("1GB"), 1ull << 30);
	EXPECT_EQ(parse_size("512B"), 512u);
	EXPECT_EQ(parse_size("0"), 0u);
	for (const char *bad : {"", "M", "-1", "1X", "1.5G", " 1G", "1G ", "1Gi", "1KK",
				"99999999999999999999", "16777216T", "0x10"})
		EXPECT_FALSE(parse_size(bad).has_value()) << bad;
}

TEST(MemdConfig, ParseHostPort)
{
	std::string h;
	std::uint16_t p = 0;
	ASSERT_TRUE(parse_host_port("10.0.0.2:7000", h, p, 7470));
	EXPECT_EQ(h, "10.0.0.2");
	EXPECT_EQ(p, 7000);
	ASSERT_TRUE(parse_host_port("10.0.0.2", h, p, 7470));
	EXPECT_EQ(p, 7470);
	ASSERT_TRUE(parse_host_port(":0", h, p, 7470));
	EXPECT_EQ(h, "0.0.0.0");
	EXPECT_EQ(p, 0);
	ASSERT_TRUE(parse_host_port("[::1]:9", h, p, 7470));
	EXPECT_EQ(h, "::1");
	EXPECT_EQ(p, 9);
	for (const char *bad : {"1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:x", "::1", "[::1",
				"[::1]x", "h:1:2", "1.2.3.4:-1"})
		EXPECT_FALSE(parse_host_port(bad, h, p, 7470)) << bad;
}

ParseResult parse(std::initializer_list<const char *> args)
{
	std::vector<std::string> v;
	for (const char *a : args)
		v.emplace_back(a);
	return parse_args(v);
}

TEST(MemdConfig, Defaults)
{
	ParseResult r = parse({"--capacity", "1G"});
	ASSERT_EQ(r.error, "");
	const Config &c = r.config;
	EXPECT_EQ(c.capacity, 1ull << 30);
	EXPECT_EQ(c.listen_host, "0.0.0.0");
	EXPECT_EQ(c.listen_port, proto::kMemdPort);
	EXPECT_EQ(c.transport, TransportKind::kRdma);
	EXPECT_EQ(c.slab_size, 64ull << 20);
	EXPECT_EQ(c.grace_sec, 30u);
	EXPECT_EQ(c.heartbeat_sec, 15u);
	EXPECT_EQ(c.log_level, log::Level::kInfo);
	EXPECT_EQ(c.client_quota, 0u);
	EXPECT_EQ(c.idle_timeout_sec, 120u);
	EXPECT_EQ(c.max_conns_per_identity, 64u);
	EXPECT_EQ(c.max_conns_per_addr, 16u);
	EXPECT_EQ(c.max_pinned, 1ull << 30);
}

TEST(MemdConfig, Limits)
{
	ParseResult r = parse({"--capacity", "1G", "--client-quota", "256M", "--idle-timeout",
			       "30", "--max-conns-per-identity", "4", "--max-conns-per-addr", "2",
			       "--max-pinned", "64M"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.client_quota, 256ull << 20);
	EXPECT_EQ(r.config.idle_timeout_sec, 30u);
	EXPECT_EQ(r.config.max_conns_per_identity, 4u);
	EXPECT_EQ(r.config.max_conns_per_addr, 2u);
	EXPECT_EQ(r.config.max_pinned, 64ull << 20);
	r = parse({"--capacity", "1G", "--client-quota", "0", "--idle-timeout", "0",
		   "--max-conns-per-identity", "0", "--max-conns-per-addr", "0",
		   "--max-pinned", "0"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.client_quota, 0u);
	EXPECT_EQ(r.config.idle_timeout_sec, 0u);
	EXPECT_EQ(r.config.max_conns_per_identity, 0u);
	EXPECT_EQ(r.config.max_conns_per_addr, 0u);
	EXPECT_EQ(r.config.max_pinned, 0u);
	const std::string help = usage("disagg-memd");
	for (const char *opt : {"--client-quota SIZE", "--idle-timeout SECONDS",
				"--max-conns-per-identity N", "--max-conns-per-addr N",
				"--max-pinned SIZE"})
		EXPECT_NE(help.find(opt), std::string::npos) << opt;
}

TEST(MemdConfig, AllOptions)
{
	ParseResult r = parse({"--listen", "198.18.1.2:7000", "--capacity=256M", "--transport",
			       "tcp", "--slab-size", "16M", "--grace", "5", "--log-level", "debug",
			       "--max-clients", "3", "--heartbeat", "0"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.listen_host, "198.18.1.2");
	EXPECT_EQ(r.config.listen_port, 7000);
	EXPECT_EQ(r.config.capacity, 256ull << 20);
	EXPECT_EQ(r.config.transport, TransportKind::kTcp);
	EXPECT_EQ(r.config.slab_size, 16ull << 20);
	EXPECT_EQ(r.config.grace_sec, 5u);
	EXPECT_EQ(r.config.log_level, log::Level::kDebug);
	EXPECT_EQ(r.config.max_clients, 3u);
	EXPECT_EQ(r.config.heartbeat_sec, 0u);
}

// A config file with @text, removed at the end of the test.
class ConfFile {
public:
	explicit ConfFile(const std::string &text)
	{
		char tmpl[] = "/tmp/memd-conf-XXXXXX";
		const int fd = mkstemp(tmpl);
		EXPECT_GE(fd, 0);
		close(fd);
		path = tmpl;
		std::ofstream(path) << text;
	}
	~ConfFile() { std::remove(path.c_str()); }
	std::string path;
};

TEST(MemdConfig, ConfigFile)
{
	ConfFile f("# /etc/disagg/memd.conf\n"
		   "capacity = 256M\n"
		   "listen = 198.18.1.2:7000\n"
		   "transport = tcp\n"
		   "slab-size = \"16M\"\n"
		   "log-level = debug\n"
		   "client-quota = 64M\n"
		   "metrics = 127.0.0.1:9470\n");
	ParseResult r = parse_args({"--config", f.path});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.capacity, 256ull << 20);
	EXPECT_EQ(r.config.listen_host, "198.18.1.2");
	EXPECT_EQ(r.config.listen_port, 7000);
	EXPECT_EQ(r.config.transport, TransportKind::kTcp);
	EXPECT_EQ(r.config.slab_size, 16ull << 20);
	EXPECT_EQ(r.config.log_level, log::Level::kDebug);
	EXPECT_EQ(r.config.client_quota, 64ull << 20);
	EXPECT_EQ(r.config.metrics_host, "127.0.0.1");
	EXPECT_EQ(r.config.metrics_port, 9470);
	EXPECT_EQ(r.config.grace_sec, 30u);	// not in the file: the default

	// The command line wins over the file.
	r = parse_args({"--config", f.path, "--capacity", "128M", "--transport=rdma"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.capacity, 128ull << 20);
	EXPECT_EQ(r.config.transport, TransportKind::kRdma);
	EXPECT_EQ(r.config.slab_size, 16ull << 20);

	// A bad value, an unknown key or a missing file is an error.
	ConfFile bad("capacity = 1000\n");
	EXPECT_NE(parse_args({"--config", bad.path}).error.find("--capacity '1000'"),
		  std::string::npos);
	ConfFile unknown("capacity = 1G\ncapacty = 2G\n");
	const std::string e = parse_args({"--config", unknown.path}).error;
	EXPECT_NE(e.find("--config " + unknown.path + ": "), std::string::npos) << e;
	EXPECT_NE(e.find("capacty"), std::string::npos) << e;
	EXPECT_FALSE(parse_args({"--config", "/nonexistent/memd.conf"}).error.empty());
	// Without --capacity in either place.
	ConfFile none("grace = 5\n");
	EXPECT_FALSE(parse_args({"--config", none.path}).error.empty());
}

TEST(MemdConfig, Metrics)
{
	ParseResult r = parse({"--capacity", "1G"});
	EXPECT_EQ(r.config.metrics_host, "");	// off by default
	r = parse({"--capacity", "1G", "--metrics", ":9470"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.metrics_host, "0.0.0.0");
	EXPECT_EQ(r.config.metrics_port, 9470);
	r = parse({"--capacity", "1G", "--metrics", "[::1]:0"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.metrics_host, "::1");
	EXPECT_EQ(r.config.metrics_port, 0);
	for (const char *bad : {"127.0.0.1", "[::1]", "1.2.3.4:70000", ""})
		EXPECT_FALSE(parse({"--capacity", "1G", "--metrics", bad}).error.empty()) << bad;
}

TEST(MemdConfig, Help)
{
	EXPECT_TRUE(parse({"--help"}).help);
	EXPECT_TRUE(parse({"-h"}).help);
}

TEST(MemdConfig, Errors)
{
	const std::vector<std::vector<const char *>> bad = {
		{},					// no capacity
		{"--capacity"},				// no value
		{"--capacity", "0"},
		{"--capacity", "1000"},			// not a page multiple
		{"--capacity", "lots"},
		{"--capacity", "1G", "--transport", "udp"},
		{"--capacity", "1G", "--slab-size", "6000"},
		{"--capacity", "1G", "--slab-size", "0"},
		{"--capacity", "64M", "--slab-size", "128M"},	// slab > capacity
		{"--capacity", "1G", "--grace", "-1"},
		{"--capacity", "1G", "--grace", "soon"},
		{"--capacity", "1G", "--grace", "99999999"},
		{"--capacity", "1G", "--log-level", "loud"},
		{"--capacity", "1G", "--listen", "1.2.3.4:99999"},
		{"--capacity", "1G", "--max-clients", "0"},
		{"--capacity", "1G", "--client-quota", "1000"},	// not a page multiple
		{"--capacity", "1G", "--client-quota", "much"},
		{"--capacity", "1G", "--idle-timeout", "-5"},
		{"--capacity", "1G", "--idle-timeout", "99999999"},
		{"--capacity", "1G", "--max-conns-per-identity", "5000"},
		{"--capacity", "1G", "--max-conns-per-addr", "x"},
		{"--capacity", "1G", "--max-pinned", "2P"},
		{"--capacity", "1G", "--bogus", "1"},
		{"--capacity", "1G", "stray"},
	};
	for (const auto &args : bad) {
		std::vector<std::string> v(args.begin(), args.end());
		ParseResult r = parse_args(v);
		EXPECT_FALSE(r.error.empty()) << testing::PrintToString(v);
		EXPECT_FALSE(r.help);
	}
}

TEST(MemdConfig, Registry)
{
	ParseResult r = parse({"--capacity", "1G"});
	ASSERT_EQ(r.error, "");
	EXPECT_TRUE(r.config.registry.empty());	// off by default
	EXPECT_EQ(r.config.registry_prefix, "/disagg/memory/");
	EXPECT_EQ(r.config.registry_ttl_sec, 10u);
	EXPECT_EQ(r.config.drain_timeout_sec, 60u);
	EXPECT_EQ(r.config.advertise, "");

	r = parse({"--capacity", "1G", "--listen", "198.18.1.2", "--registry",
		   "http://10.0.0.1:2379,https://etcd-b:2379", "--registry-prefix", "/pool/a/",
		   "--registry-name", "mem-7", "--label", "rack=r1", "--label", "zone=eu.1",
		   "--label", "rack=r2", "--registry-ttl", "5", "--drain-timeout", "0"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.registry,
		  (std::vector<std::string>{"http://10.0.0.1:2379", "https://etcd-b:2379"}));
	EXPECT_EQ(r.config.registry_prefix, "/pool/a/");
	EXPECT_EQ(r.config.registry_name, "mem-7");
	EXPECT_EQ(r.config.advertise, "198.18.1.2");	// the --listen address
	EXPECT_EQ(r.config.labels,
		  (std::map<std::string, std::string>{{"rack", "r2"}, {"zone", "eu.1"}}));
	EXPECT_EQ(r.config.registry_ttl_sec, 5u);
	EXPECT_EQ(r.config.drain_timeout_sec, 0u);

	r = parse({"--capacity", "1G", "--listen", "10.0.0.1", "--registry-name", "m",
		   "--registry", "http://a:1", "--registry", "http://b:2,http://c:3"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.registry,
		  (std::vector<std::string>{"http://a:1", "http://b:2", "http://c:3"}));

	// Listening on a wildcard: --advertise is required.
	r = parse({"--capacity", "1G", "--registry", "http://127.0.0.1:2379",
		   "--registry-name", "m"});
	EXPECT_NE(r.error.find("give --advertise"), std::string::npos) << r.error;
	r = parse({"--capacity", "1G", "--registry", "http://127.0.0.1:2379", "--registry-name",
		   "m", "--advertise", "fd00::7"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.advertise, "fd00::7");
	// The name defaults to the host name (when it is a node name).
	char host[256] = "";
	gethostname(host, sizeof(host));
	r = parse({"--capacity", "1G", "--registry", "http://127.0.0.1:2379", "--advertise",
		   "10.1.1.1"});
	if (registry::check_name(host).empty())
		EXPECT_EQ(r.config.registry_name, host) << r.error;
	else
		EXPECT_NE(r.error.find("--registry-name"), std::string::npos) << r.error;

	const std::vector<std::vector<const char *>> bad = {
		{"--registry", ""}, {"--registry", "10.0.0.1:2379"}, {"--registry", "http://"},
		{"--registry", "http://a:1,"}, {"--registry", "http://a:1,,http://b:2"},
		{"--registry", "ftp://a:1"}, {"--registry", "http://a:1/v3"},
		{"--registry", "http://user@a:1"}, {"--registry", "http://a b:1"},
		{"--registry-prefix", "disagg/"}, {"--registry-prefix", "/disagg"},
		{"--registry-prefix", "/a b/"}, {"--registry-name", ""},
		{"--registry-name", "a/b"}, {"--registry-name", "abcdefghijabcdefghijabcdefghij12"},
		{"--advertise", "0.0.0.0"}, {"--advertise", "::"}, {"--advertise", "host.example"},
		{"--advertise", "1.2.3.4:7470"}, {"--label", "rack"}, {"--label", "=r1"},
		{"--label", "rack="}, {"--label", "ra ck=r1"}, {"--label", "rack=r/1"},
		{"--registry-ttl", "1"}, {"--registry-ttl", "3601"}, {"--registry-ttl", "x"},
		{"--drain-timeout", "-1"}, {"--drain-timeout", "86401"},
		{"--label", "a=1", "b=2"},	// one value per --label
	};
	for (const auto &args : bad) {
		std::vector<std::string> v = {"--capacity", "1G", "--listen", "10.0.0.1",
					      "--registry-name", "m", "--registry", "http://e:2379"};
		v.insert(v.end(), args.begin(), args.end());
		EXPECT_FALSE(parse_args(v).error.empty()) << testing::PrintToString(v);
	}
	// 16 labels at most.
	std::vector<std::string> v = {"--capacity", "1G"};
	for (int i = 0; i < 17; i++) {
		v.push_back("--label");
		v.push_back("k" + std::to_string(i) + "=v");
	}
	EXPECT_NE(parse_args(v).error.find("more than 16 labels"), std::string::npos);
	v.resize(v.size() - 2);
	EXPECT_EQ(parse_args(v).error, "");
}

TEST(MemdConfig, RegistryInAConfigFile)
{
	ConfFile f("capacity = 1G\n"
		   "listen = 0.0.0.0:7470\n"
		   "registry = http://10.0.0.1:2379,http://10.0.0.2:2379\n"
		   "registry-name = mem1\n"
		   "advertise = 198.18.1.2\n"
		   "label = rack=r1\n"
		   "label = zone=a\n"
		   "registry-ttl = 6\n"
		   "drain-timeout = 45\n");
	ParseResult r = parse_args({"--config", f.path});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.registry.size(), 2u);
	EXPECT_EQ(r.config.registry_name, "mem1");
	EXPECT_EQ(r.config.advertise, "198.18.1.2");
	EXPECT_EQ(r.config.labels,
		  (std::map<std::string, std::string>{{"rack", "r1"}, {"zone", "a"}}));
	EXPECT_EQ(r.config.registry_ttl_sec, 6u);
	EXPECT_EQ(r.config.drain_timeout_sec, 45u);
	// A TOML list works too; the command line's labels replace the file's.
	ConfFile toml("capacity = 1G\nlabel = [\"rack=r1\", \"zone=b\"]\n");
	r = parse_args({"--config", toml.path});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.labels,
		  (std::map<std::string, std::string>{{"rack", "r1"}, {"zone", "b"}}));
	r = parse_args({"--config", toml.path, "--label", "row=3"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.labels, (std::map<std::string, std::string>{{"row", "3"}}));
}

}  // namespace
}  // namespace disagg::memd

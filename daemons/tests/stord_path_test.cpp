// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord: path rules, the fd cache and the command line.
#include "config.hpp"
#include "fd_cache.hpp"
#include "path.hpp"
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace disagg::stord::test {
namespace {

TEST(StordPath, WellFormed)
{
	for (const char *p : {".", "a", "a/b", "a/b/c", "...", "a/..b", "..a", ".a/b.",
			      "with space", "\xff\x01"})
		EXPECT_EQ(check_path(p), 0) << p;
	EXPECT_EQ(check_path(std::string(kFsPathMax, 'a')), 0);
}

TEST(StordPath, Malformed)
{
	for (const char *p : {"", "/", "/a", "a/", "a//b", "./a", "a/.", "..", "../a", "a/..",
			      "a/../..", "a/./b", "//", "./", "/."})
		EXPECT_EQ(check_path(p), EINVAL) << p;
	EXPECT_EQ(check_path(std::string("a\0b", 3)), EINVAL);
	EXPECT_EQ(check_path(std::string(kFsPathMax + 1, 'a')), EINVAL);
}

TEST(StordPath, Split)
{
	EXPECT_EQ(split_path("a/b/c").parent, "a/b");
	EXPECT_EQ(split_path("a/b/c").name, "c");
	EXPECT_EQ(split_path("c").parent, ".");
	EXPECT_EQ(split_path("c").name, "c");
	EXPECT_EQ(split_path(".").parent, ".");
	EXPECT_EQ(split_path(".").name, ".");
}

TEST(StordPath, Within)
{
	EXPECT_TRUE(path_within("a", "a"));
	EXPECT_TRUE(path_within("a/b", "a"));
	EXPECT_TRUE(path_within("a/b/c", "a/b"));
	EXPECT_TRUE(path_within("x", "."));
	EXPECT_FALSE(path_within("ab", "a"));
	EXPECT_FALSE(path_within("a", "a/b"));
	EXPECT_FALSE(path_within("b/a", "a"));
}

std::shared_ptr<CachedFd> fd_entry()
{
	auto e = std::make_shared<CachedFd>();
	e->fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
	return e;
}

TEST(StordFdCache, LruBound)
{
	FdCache c(2);
	std::uint64_t g = 0;
	EXPECT_EQ(c.lookup("u", "a", g), nullptr);
	c.insert("u", "a", fd_entry(), g);
	c.lookup("u", "b", g);
	c.insert("u", "b", fd_entry(), g);
	EXPECT_NE(c.lookup("u", "a", g), nullptr);	// a is now the most recent
	c.insert("u", "c", fd_entry(), g);		// evicts b
	EXPECT_EQ(c.size(), 2u);
	EXPECT_NE(c.lookup("u", "a", g), nullptr);
	EXPECT_EQ(c.lookup("u", "b", g), nullptr);
	EXPECT_NE(c.lookup("u", "c", g), nullptr);
}

TEST(StordFdCache, InvalidateTree)
{
	FdCache c(16);
	std::uint64_t g = 0;
	for (const char *p : {"d", "d/x", "d/y/z", "dd", "e"}) {
		c.lookup("u", p, g);
		c.insert("u", p, fd_entry(), g);
	}
	c.invalidate("d");
	EXPECT_EQ(c.lookup("u", "d", g), nullptr);
	EXPECT_EQ(c.lookup("u", "d/x", g), nullptr);
	EXPECT_EQ(c.lookup("u", "d/y/z", g), nullptr);
	EXPECT_NE(c.lookup("u", "dd", g), nullptr);
	EXPECT_NE(c.lookup("u", "e", g), nullptr);
	c.invalidate(".");
	EXPECT_EQ(c.size(), 0u);
}

TEST(StordFdCache, EntriesArePerCaller)
{
	FdCache c(16);
	std::uint64_t g = 0;
	c.lookup("u", "d/f", g);
	c.insert("u", "d/f", fd_entry(), g);
	EXPECT_EQ(c.lookup("v", "d/f", g), nullptr);	// another caller's
	EXPECT_EQ(c.lookup("", "ud/f", g), nullptr);	// no prefix games
	c.insert("v", "d/f", fd_entry(), g);
	EXPECT_NE(c.lookup("u", "d/f", g), c.lookup("v", "d/f", g));
	EXPECT_EQ(c.size(), 2u);
	c.invalidate("d");	// for everybody
	EXPECT_EQ(c.size(), 0u);
}

TEST(StordFdCache, OpenThatRacedAnInvalidationIsNotKept)
{
	FdCache c(16);
	std::uint64_t g = 0;
	EXPECT_EQ(c.lookup("u", "f", g), nullptr);
	c.invalidate("other");	// a rename somewhere while "f" was being opened
	c.insert("u", "f", fd_entry(), g);
	std::uint64_t g2 = 0;
	EXPECT_EQ(c.lookup("u", "f", g2), nullptr);
	c.insert("u", "f", fd_entry(), g2);
	EXPECT_NE(c.lookup("u", "f", g2), nullptr);
}

TEST(StordFdCache, ZeroCapacityCachesNothing)
{
	FdCache c(0);
	std::uint64_t g = 0;
	c.lookup("u", "f", g);
	c.insert("u", "f", fd_entry(), g);
	EXPECT_EQ(c.size(), 0u);
}

ParseResult parse(std::vector<std::string> a) { return parse_args(a); }

TEST(StordConfig, DefaultsAndFlags)
{
	TempTree t;
	ParseResult r = parse({"--root", t.root});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.listen_port, kStordPort);
	EXPECT_EQ(r.config.transport, TransportKind::kTcp);
	EXPECT_EQ(r.config.threads, kDefaultThreads);
	EXPECT_EQ(r.config.fd_cache, kDefaultFdCache);
	r = parse({"--root=" + t.root, "--listen", "127.0.0.1:9", "--transport", "rdma",
		   "--threads", "3", "--fd-cache", "0", "--max-clients", "5",
		   "--log-level", "debug", "--heartbeat", "0"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.listen_host, "127.0.0.1");
	EXPECT_EQ(r.config.listen_port, 9);
	EXPECT_EQ(r.config.transport, TransportKind::kRdma);
	EXPECT_EQ(r.config.threads, 3u);
	EXPECT_EQ(r.config.fd_cache, 0u);
	EXPECT_EQ(r.config.max_clients, 5u);
	EXPECT_EQ(r.config.heartbeat_sec, 0u);
	EXPECT_TRUE(parse({"--help"}).help);
	r = parse({"--root", t.root, "--idle-timeout", "600", "--max-conns-per-identity", "8",
		   "--max-conns-per-addr", "4", "--max-pinned", "256M"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.idle_timeout_sec, 600u);
	EXPECT_EQ(r.config.max_conns_per_identity, 8u);
	EXPECT_EQ(r.config.max_conns_per_addr, 4u);
	EXPECT_EQ(r.config.max_pinned, 256ull << 20);
	const std::string help = usage("disagg-stord");
	for (const char *opt : {"--idle-timeout SECONDS", "--max-conns-per-identity N",
				"--max-conns-per-addr N", "--max-pinned SIZE"})
		EXPECT_NE(help.find(opt), std::string::npos) << opt;
}

TEST(StordConfig, ExportOptions)
{
	TempTree t;
	ParseResult r = parse({"--root", t.root});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.exp.squash, Squash::kRoot);
	EXPECT_EQ(r.config.exp.anon_uid, 65534u);
	EXPECT_EQ(r.config.exp.anon_gid, 65534u);
	EXPECT_FALSE(r.config.exp.allow_devices || r.config.exp.allow_setid ||
		     r.config.exp.allow_sys_xattrs || r.config.exp.cross_mounts ||
		     r.config.exp.async);
	r = parse({"--allow-devices", "--root", t.root, "--squash", "all", "--anon-uid=7",
		   "--anon-gid", "8", "--allow-setid", "--allow-sys-xattrs", "--cross-mounts",
		   "--async"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.exp.squash, Squash::kAll);
	EXPECT_EQ(r.config.exp.anon_uid, 7u);
	EXPECT_EQ(r.config.exp.anon_gid, 8u);
	EXPECT_TRUE(r.config.exp.allow_devices && r.config.exp.allow_setid &&
		    r.config.exp.allow_sys_xattrs && r.config.exp.cross_mounts &&
		    r.config.exp.async);
	EXPECT_NE(usage("disagg-stord").find("--async"), std::string::npos);
	EXPECT_EQ(r.config.max_in_flight, 64u);
	EXPECT_EQ(parse({"--root", t.root, "--max-in-flight", "4"}).config.max_in_flight, 4u);
	EXPECT_FALSE(parse({"--root", t.root, "--max-in-flight", "0"}).error.empty());
	EXPECT_FALSE(parse({"--root", t.root, "--max-in-flight", "65"}).error.empty());
	EXPECT_EQ(parse({"--root", t.root, "--squash", "none"}).config.exp.squash, Squash::kNone);
	// A flag takes true or false after '=' (as its key in a config file does).
	EXPECT_FALSE(parse({"--root", t.root, "--async=false"}).config.exp.async);
	EXPECT_TRUE(parse({"--root", t.root, "--async=true"}).config.exp.async);
	for (const auto &a : std::vector<std::vector<std::string>>{
		     {"--root", t.root, "--squash", "some"},
		     {"--root", t.root, "--anon-uid", "-1"},
		     {"--root", t.root, "--anon-gid", "4294967295"},
		     {"--root", t.root, "--allow-devices=maybe"},
		     {"--root", t.root, "--async=sometimes"},
	     })
		EXPECT_FALSE(parse(a).error.empty()) << testing::PrintToString(a);
}

TEST(StordConfig, ConfigFile)
{
	TempTree t;
	const std::string conf = t.root + "/../stord.conf";
	TempTree::write(conf, "root = " + t.root + "\n"
			"threads = 3\n"
			"squash = all\n"
			"async = true\n"
			"allow-devices = false\n"
			"cross-mounts = true\n");
	ParseResult r = parse({"--config", conf});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.root, t.root);
	EXPECT_EQ(r.config.threads, 3u);
	EXPECT_EQ(r.config.exp.squash, Squash::kAll);
	EXPECT_TRUE(r.config.exp.async);
	EXPECT_FALSE(r.config.exp.allow_devices);
	EXPECT_TRUE(r.config.exp.cross_mounts);
	EXPECT_FALSE(r.config.exp.allow_setid);
	r = parse({"--config", conf, "--threads", "5", "--allow-setid"});
	ASSERT_EQ(r.error, "");
	EXPECT_EQ(r.config.threads, 5u);
	EXPECT_TRUE(r.config.exp.allow_setid);
	TempTree::write(conf, "root = " + t.root + "\nsquash = some\n");
	EXPECT_FALSE(parse({"--config", conf}).error.empty());
	std::remove(conf.c_str());
}

TEST(StordConfig, Errors)
{
	TempTree t;
	TempTree::write(t.root + "/file", "x");
	for (const auto &a : std::vector<std::vector<std::string>>{
		     {},
		     {"--root"},
		     {"--root", t.root + "/missing"},
		     {"--root", t.root + "/file"},
		     {"--root", t.root, "--threads", "0"},
		     {"--root", t.root, "--transport", "udp"},
		     {"--root", t.root, "--listen", "1.2.3.4:99999"},
		     {"--root", t.root, "--bogus", "1"},
		     {"--root", t.root, "--idle-timeout", "soon"},
		     {"--root", t.root, "--max-conns-per-addr", "99999"},
		     {"--root", t.root, "--client-quota", "1G"},	// memd's
		     {"--root", t.root, "stray"},
	     })
		EXPECT_FALSE(parse(a).error.empty()) << testing::PrintToString(a);
}

}  // namespace
}  // namespace disagg::stord::test

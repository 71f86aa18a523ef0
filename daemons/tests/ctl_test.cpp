// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disaggctl against a fake sysfs tree in a temporary directory: swap.conf
// parsing, status JSON and metrics from known files, the exact lines
// written by node add/remove and swap up/down, and errors naming the file
// and the errno.
#include "config.hpp"
#include "ops.hpp"
#include "status.hpp"
#include "sysfs.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fsys = std::filesystem;
using namespace disagg::ctl;
using nlohmann::json;

namespace {

class CtlFakeTree : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/disaggctl-test.XXXXXX";
		ASSERT_NE(::mkdtemp(tmpl), nullptr);
		root_ = tmpl;
		put("sys/kernel/disagg/protocol", "2.0");
		put("sys/kernel/disagg/memory_nodes/add", "");
		put("sys/kernel/disagg/memory_nodes/remove", "");
		fsys::create_directories(root_ / "sys/module/disagg_net");
		fsys::create_directories(root_ / "sys/module/disagg_swap");
		const char *knobs[][2] = {{"disksize", "0"}, {"slab_size", "67108864"},
			{"replicas", "1"}, {"synchronous", "0"}, {"state", "unset"},
			{"degraded_slabs", "0"}, {"backing_dev", "none"}, {"prefetch", "trend"},
			{"prefetch_pages", "256"}, {"rebuild_rate_mb", "256"}, {"failover_ms", "1000"},
			{"reset", ""}};
		for (auto &k : knobs)
			put(std::string("sys/block/dswap0/") + k[0], k[1]);
		put("sys/block/dswap0/remote_stat",
		    "      10       20        3        1        2        4        5       17        6"
		    "        0        7        8        9       11       12       13       14       15");
		put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
		put("proc/mounts", "proc /proc proc rw 0 0\n"
				   "10.0.0.3:7471 /mnt/my\\040data disaggfs rw,transport=tcp 0 0\n");
	}
	void TearDown() override { fsys::remove_all(root_); }

	void put(const std::string &rel, const std::string &text)
	{
		fsys::create_directories((root_ / rel).parent_path());
		std::ofstream(root_ / rel) << text << (text.empty() ? "" : "\n");
	}
	std::string get(const std::string &rel)
	{
		std::ifstream in(root_ / rel);
		std::stringstream s;
		s << in.rdbuf();
		return s.str();
	}
	void add_node(const std::string &name, const std::string &state, const std::string &stat)
	{
		put("sys/kernel/disagg/memory_nodes/" + name + "/state", state);
		put("sys/kernel/disagg/memory_nodes/" + name + "/key", "none");
		put("sys/kernel/disagg/memory_nodes/" + name + "/stat", stat);
	}
	Sysfs fs() const { return Sysfs((root_ / "sys").string(), (root_ / "proc").string()); }

	fsys::path root_;
};

SwapConf parse(const std::string &text)
{
	std::istringstream in(text);
	return parse_swap_conf(in, "swap.conf");
}

// The message of the Error @fn throws, "" if none.
template <typename Fn> std::string error_of(Fn fn, int *err = nullptr)
{
	try {
		fn();
	} catch (const Error &e) {
		if (err)
			*err = e.err();
		return e.what();
	}
	return "";
}

const char *kConf = R"(# a comment
[swap]
device = dswap1
disksize = 8G
slab_size = 32M
replicas = 2
priority = 50
backing_dev = /dev/vdb
synchronous = 1
prefetch = off
prefetch_pages = 64
rebuild_rate_mb = 100
failover_ms = 500

[node.m1]
addr = 10.0.0.2
transport = tcp
key = client1
key_file = /etc/disagg/client1.keys

[node.m2.b]
addr = 10.0.0.3
port = 7480
src = 10.0.0.1
queues = 4
timeout_ms = 2000
)";

}  // namespace

TEST(CtlConfig, ParsesEveryKey)
{
	const SwapConf c = parse(kConf);
	EXPECT_EQ(c.device, "dswap1");
	EXPECT_EQ(c.disksize, "8G");
	EXPECT_EQ(c.slab_size, "32M");
	EXPECT_EQ(c.replicas, 2u);
	EXPECT_EQ(c.priority, 50);
	EXPECT_EQ(c.backing_dev, "/dev/vdb");
	EXPECT_EQ(c.synchronous, 1u);
	EXPECT_EQ(c.prefetch, "off");
	EXPECT_EQ(c.prefetch_pages, 64u);
	EXPECT_EQ(c.rebuild_rate_mb, 100u);
	EXPECT_EQ(c.failover_ms, 500u);
	ASSERT_EQ(c.nodes.size(), 2u);
	EXPECT_EQ(c.nodes[0].name, "m1");
	EXPECT_EQ(c.nodes[0].key_file, "/etc/disagg/client1.keys");
	EXPECT_EQ(node_add_line(c.nodes[0]), "name=m1 transport=tcp addr=10.0.0.2 port=7470 key=client1");
	EXPECT_EQ(c.nodes[1].name, "m2.b");
	EXPECT_EQ(node_add_line(c.nodes[1]),
		  "name=m2.b transport=rdma addr=10.0.0.3 port=7480 src=10.0.0.1 queues=4 timeout_ms=2000");
}

TEST(CtlConfig, Defaults)
{
	const SwapConf c = parse("[swap]\ndisksize = 1G\n[node.a]\naddr = 1.2.3.4\n");
	EXPECT_EQ(c.device, "dswap0");
	EXPECT_EQ(c.priority, 100);
	EXPECT_EQ(c.replicas, 0u);
	EXPECT_FALSE(c.synchronous.has_value());
	EXPECT_EQ(c.slab_size, "");
	EXPECT_EQ(node_add_line(c.nodes.at(0)), "name=a transport=rdma addr=1.2.3.4 port=7470");
}

TEST(CtlConfig, Errors)
{
	const std::string node = "[node.a]\naddr = 1.2.3.4\n";
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\nswapiness = 3\n" + node); }),
		  "swap.conf: [swap] swapiness: unknown key");
	EXPECT_EQ(error_of([&] { parse("[swap]\nreplicas = 1\n" + node); }),
		  "swap.conf: [swap] disksize is required");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1X\n" + node); }),
		  "swap.conf: [swap] disksize: \"1X\" is not a size (bytes, or a number with K, M, G or T)");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\nreplicas = 2\n" + node); }),
		  "swap.conf: [swap] replicas 2 needs as many nodes, the file has 1");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\nreplicas = 4\n" + node); }),
		  "swap.conf: [swap] replicas: \"4\" is not a number from 1 to 3");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n[node.a]\naddr = 1.2.3.4\ntransport = ib\n"); }),
		  "swap.conf: [node.a] transport: \"ib\" is not rdma or tcp");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n[node.a]\nport = 7470\n"); }),
		  "swap.conf: [node.a] addr is required");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n"); }),
		  "swap.conf: no [node.NAME] or [pool] section: memory nodes are needed");
	EXPECT_EQ(error_of([&] { parse("disksize = 1G\n" + node); }),
		  "swap.conf: disksize outside any section (sections: [swap], [node.NAME], [pool])");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n[node.a!]\naddr = 1.2.3.4\n"); }),
		  "swap.conf: [node.a!]: node name \"a!\" is not 1-31 of [A-Za-z0-9_.-]");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n[node.a]\naddr = 1.2.3.4\nkey_file = /k\n"); }),
		  "swap.conf: [node.a] key_file needs key (the identity)");
	int err = 0;
	EXPECT_EQ(error_of([&] { load_swap_conf("/nonexistent/swap.conf"); }, &err),
		  "cannot read /nonexistent/swap.conf: No such file or directory (ENOENT)");
	EXPECT_EQ(err, ENOENT);
}

TEST_F(CtlFakeTree, StatusJson)
{
	add_node("m1", "up", "3 100 200 1 1048576");
	put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/dswap0  partition\t65532\t1024\t100\n");
	const json j = collect(fs());
	EXPECT_EQ(j["protocol"], "2.0");
	EXPECT_EQ(j["modules"], json({{"disagg_net", true}, {"disagg_swap", true}, {"disaggfs", false}}));
	ASSERT_EQ(j["devices"].size(), 1u);
	const json &d = j["devices"][0];
	EXPECT_EQ(d["name"], "dswap0");
	EXPECT_EQ(d["disksize"], 0);
	EXPECT_EQ(d["slab_size"], 67108864);
	EXPECT_EQ(d["state"], "unset");
	EXPECT_EQ(d["backing_dev"], "none");
	EXPECT_EQ(d["swap"], json({{"priority", 100}, {"size_kb", 65532}, {"used_kb", 1024}}));
	const json &rs = d["remote_stat"];
	EXPECT_EQ(rs.size(), 18u);	// 17 named columns and one appended later
	EXPECT_EQ(rs["reads"], 10);
	EXPECT_EQ(rs["remote_pages"], 17);
	EXPECT_EQ(rs["prefetch_wasted"], 14);
	EXPECT_EQ(rs["col_17"], 15);
	ASSERT_EQ(j["memory_nodes"].size(), 1u);
	EXPECT_EQ(j["memory_nodes"][0], json({{"name", "m1"}, {"state", "up"}, {"key", "none"},
		{"slabs", 3}, {"reads", 100}, {"writes", 200}, {"errors", 1}, {"free_bytes", 1048576}}));
	ASSERT_EQ(j["mounts"].size(), 1u);
	EXPECT_EQ(j["mounts"][0], json({{"source", "10.0.0.3:7471"}, {"target", "/mnt/my data"},
		{"options", "rw,transport=tcp"}}));

	const std::string table = render_table(j);
	EXPECT_NE(table.find("dswap0  unset  0B        1         prio 100, 1.0M used"), std::string::npos) << table;
	EXPECT_NE(table.find("m1    up     none  3      100    200     1       1.0M"), std::string::npos) << table;
}

TEST_F(CtlFakeTree, StatusWithoutModules)
{
	fsys::remove_all(root_ / "sys");
	fsys::create_directories(root_ / "sys");
	const json j = collect(fs());
	EXPECT_TRUE(j["protocol"].is_null());
	EXPECT_TRUE(j["devices"].empty());
	EXPECT_TRUE(j["memory_nodes"].empty());
	EXPECT_NE(render_table(j).find("modules: none loaded"), std::string::npos);
}

TEST_F(CtlFakeTree, BadCounterNamesFile)
{
	put("sys/block/dswap0/remote_stat", "1 2 x");
	EXPECT_EQ(error_of([&] { collect(fs()); }),
		  (root_ / "sys/block/dswap0/remote_stat").string() + ": \"x\" is not a number");
}

TEST_F(CtlFakeTree, Metrics)
{
	add_node("m1", "draining", "3 100 200 1 1048576");
	const std::string m = render_metrics(collect(fs()));
	for (const char *line : {
		     "# TYPE disagg_swap_reads_total counter\n",
		     "disagg_swap_reads_total{device=\"dswap0\"} 10\n",
		     "# TYPE disagg_swap_remote_pages gauge\n",
		     "disagg_swap_remote_pages{device=\"dswap0\"} 17\n",
		     "disagg_swap_prefetch_used_total{device=\"dswap0\"} 13\n",
		     "disagg_swap_state{device=\"dswap0\",state=\"unset\"} 1\n",
		     "disagg_swap_active{device=\"dswap0\"} 0\n",
		     "disagg_memory_node_state{node=\"m1\",state=\"draining\"} 1\n",
		     "disagg_memory_node_reads_total{node=\"m1\"} 100\n",
		     "disagg_memory_node_free_bytes{node=\"m1\"} 1048576\n",
		     "disagg_module_loaded{module=\"disaggfs\"} 0\n",
		     "disagg_fs_mounts 1\n"})
		EXPECT_NE(m.find(line), std::string::npos) << line << "\nin:\n" << m;
	// Every sample's metric has exactly one HELP and one TYPE line.
	std::istringstream in(m);
	std::string l;
	std::map<std::string, int> types;
	while (std::getline(in, l))
		if (l.rfind("# TYPE ", 0) == 0)
			types[l.substr(7, l.find(' ', 7) - 7)]++;
	for (auto &[name, n] : types)
		EXPECT_EQ(n, 1) << name;
	EXPECT_EQ(types.size(), 4u + 17u + 1u + 5u + 2u);
}

TEST_F(CtlFakeTree, NodeAddRemoveWrites)
{
	std::ostringstream out;
	NodeConf n;
	n.name = "m7";
	n.addr = "192.0.2.7";
	n.port = 7471;
	n.transport = "tcp";
	n.key = "host-a";
	node_add(fs(), n, out);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/add"),
		  "name=m7 transport=tcp addr=192.0.2.7 port=7471 key=host-a\n");
	node_remove(fs(), "m7", false, out);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/remove"), "m7\n");
	node_remove(fs(), "m7", true, out);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/remove"), "m7 force\n");
	EXPECT_EQ(out.str(), "node m7: added (tcp 192.0.2.7:7471), ?\nnode m7: removed\nnode m7: removed\n");
	EXPECT_EQ(error_of([&] { node_remove(fs(), "bad/name", false, out); }),
		  "node remove: node name \"bad/name\" is not 1-31 of [A-Za-z0-9_.-]");
}

TEST_F(CtlFakeTree, WriteErrorsNameFileAndErrno)
{
	fsys::remove(root_ / "sys/kernel/disagg/memory_nodes/add");
	std::ostringstream out;
	NodeConf n;
	n.name = "m1";
	n.addr = "192.0.2.1";
	int err = 0;
	EXPECT_EQ(error_of([&] { node_add(fs(), n, out); }, &err),
		  "cannot write \"name=m1 transport=rdma addr=192.0.2.1 port=7470\" to " +
			  (root_ / "sys/kernel/disagg/memory_nodes/add").string() +
			  ": No such file or directory (ENOENT) (is disagg_swap loaded? modprobe disagg_swap)");
	EXPECT_EQ(err, ENOENT);
	// A directory where the file should be: open(O_WRONLY) says EISDIR.
	fsys::create_directories(root_ / "sys/kernel/disagg/memory_nodes/remove.d");
	EXPECT_EQ(error_of([&] { fs().write("kernel/disagg/memory_nodes/remove.d", "m1"); }, &err),
		  "cannot write \"m1\" to " + (root_ / "sys/kernel/disagg/memory_nodes/remove.d").string() +
			  ": Is a directory (EISDIR)");
	EXPECT_EQ(err, EISDIR);
	EXPECT_EQ(error_of([&] { fs().read("block/dswap9/disksize"); }, &err),
		  "cannot read " + (root_ / "sys/block/dswap9/disksize").string() +
			  ": No such file or directory (ENOENT)");
}

TEST_F(CtlFakeTree, SwapUpWritesKnobsInOrder)
{
	SwapConf c = parse(kConf);
	c.device = "dswap0";
	c.nodes.resize(1);
	c.nodes[0].key_file.clear();	// no keyrings in a unit test
	c.replicas = 1;
	std::ostringstream out;
	swap_up(fs(), c, SwapOptions{false, "mkswap"}, out);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/add"),
		  "name=m1 transport=tcp addr=10.0.0.2 port=7470 key=client1\n");
	EXPECT_EQ(get("sys/block/dswap0/disksize"), "8G\n");
	EXPECT_EQ(get("sys/block/dswap0/slab_size"), "32M\n");
	EXPECT_EQ(get("sys/block/dswap0/replicas"), "1\n");
	EXPECT_EQ(get("sys/block/dswap0/synchronous"), "1\n");
	EXPECT_EQ(get("sys/block/dswap0/backing_dev"), "/dev/vdb\n");
	EXPECT_EQ(get("sys/block/dswap0/prefetch"), "off\n");
	EXPECT_EQ(get("sys/block/dswap0/failover_ms"), "500\n");
	EXPECT_EQ(out.str(), "node m1: added (tcp 10.0.0.2:7470), ?\n"
			     "dswap0: slab_size 32M\ndswap0: replicas 1\ndswap0: synchronous 1\n"
			     "dswap0: prefetch_pages 64\ndswap0: backing_dev /dev/vdb\n"
			     "dswap0: prefetch off\ndswap0: rebuild_rate_mb 100\n"
			     "dswap0: failover_ms 500\ndswap0: disksize 8G\n");

	// Again with the node there and the device sized: nothing written.
	add_node("m1", "up", "0 0 0 0 0");
	put("sys/block/dswap0/disksize", "8589934592");
	put("sys/kernel/disagg/memory_nodes/add", "");
	out.str("");
	swap_up(fs(), c, SwapOptions{false, "mkswap"}, out);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/add"), "");
	EXPECT_EQ(out.str(), "node m1: there already (up)\ndswap0: sized already (8589934592 bytes)\n");
}

TEST_F(CtlFakeTree, SwapUpWithoutModule)
{
	fsys::remove_all(root_ / "sys/kernel/disagg/memory_nodes");
	std::ostringstream out;
	int err = 0;
	EXPECT_EQ(error_of([&] { swap_up(fs(), parse(kConf), SwapOptions{false, "mkswap"}, out); }, &err),
		  "no " + (root_ / "sys/kernel/disagg/memory_nodes/add").string() +
			  ": No such file or directory (ENOENT) (is disagg_swap loaded? modprobe disagg_swap)");
	EXPECT_EQ(err, ENOENT);
}

TEST_F(CtlFakeTree, SwapDownResetsAndRemoves)
{
	SwapConf c = parse("[swap]\ndisksize = 1G\n[node.m1]\naddr = 1.2.3.4\n[node.m2]\naddr = 1.2.3.5\n");
	put("sys/block/dswap0/disksize", "1073741824");
	add_node("m2", "up", "0 0 0 0 0");
	std::ostringstream out;
	swap_down(fs(), c, SwapOptions{false, "mkswap"}, out);
	EXPECT_EQ(get("sys/block/dswap0/reset"), "1\n");
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/remove"), "m2\n");
	// The fake node's directory stays: reported as draining.
	EXPECT_EQ(out.str(), "dswap0: reset\nnode m2: draining (up), removed when its copies have moved\n");
}

TEST(CtlStatus, HumanBytes)
{
	EXPECT_EQ(human_bytes(0), "0B");
	EXPECT_EQ(human_bytes(1023), "1023B");
	EXPECT_EQ(human_bytes(1536), "1.5K");
	EXPECT_EQ(human_bytes(8ull << 30), "8.0G");
}

TEST(CtlStatus, DaemonConfAndIdentity)
{
	char tmpl[] = "/tmp/disaggctl-conf.XXXXXX";
	ASSERT_NE(::mkdtemp(tmpl), nullptr);
	const fsys::path d = tmpl;
	std::ofstream(d / "memd.conf") << "# memd\nlisten = 10.0.0.2:7470\ncapacity = 8G\ntransport = tcp\nkeys = /etc/disagg/keys\n";
	std::ofstream(d / "keys") << "# NAME SECRET\nhost-a 0123456789abcdef0123\nops 0123456789abcdef0123 admin\n";
	std::ofstream(d / "keys2") << "host-a 0123456789abcdef0123\n";
	const auto dc = load_daemon_conf((d / "memd.conf").string());
	ASSERT_TRUE(dc.has_value());
	EXPECT_EQ(dc->listen, "10.0.0.2:7470");
	EXPECT_EQ(dc->transport, "tcp");
	EXPECT_EQ(dc->keys, "/etc/disagg/keys");
	EXPECT_FALSE(load_daemon_conf((d / "none.conf").string()).has_value());
	EXPECT_EQ(pick_status_identity((d / "keys").string()), "ops");
	EXPECT_EQ(pick_status_identity((d / "keys2").string()), "host-a");
	// A configured daemon that is not running: unreachable, with the error.
	std::ofstream(d / "memd2.conf") << "listen = 127.0.0.1:1\ntransport = tcp\n";
	const json j = collect_daemons({{"disagg-memd", (d / "memd2.conf").string(), false},
					{"disagg-stord", (d / "absent.conf").string(), true}}, 500);
	ASSERT_EQ(j.size(), 1u);
	EXPECT_EQ(j[0]["address"], "127.0.0.1:1");
	EXPECT_EQ(j[0]["reachable"], false);
	EXPECT_FALSE(j[0]["error"].get<std::string>().empty());
	fsys::remove_all(d);
}

TEST_F(CtlFakeTree, SwapDownStopsWhenResetFails)
{
	SwapConf c = parse("[swap]\ndisksize = 1G\n[node.m2]\naddr = 1.2.3.5\n");
	put("sys/block/dswap0/disksize", "1073741824");
	add_node("m2", "up", "0 0 0 0 0");
	fsys::remove(root_ / "sys/block/dswap0/reset");
	fsys::create_directories(root_ / "sys/block/dswap0/reset");	// write: EISDIR
	std::ostringstream out;
	int err = 0;
	EXPECT_EQ(error_of([&] { swap_down(fs(), c, SwapOptions{false, "mkswap"}, out); }, &err),
		  "cannot write \"1\" to " + (root_ / "sys/block/dswap0/reset").string() +
			  ": Is a directory (EISDIR)");
	EXPECT_EQ(err, EISDIR);
	EXPECT_EQ(get("sys/kernel/disagg/memory_nodes/remove"), "");	// nodes left alone
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// `disaggctl agent` (daemons/ctl/pool.cpp): the [pool] section of
// swap.conf, and the agent's decisions against a fake kernel node list,
// fed with registry records and events directly (no etcd): what it adds
// and with which options, what it drains and why, what it leaves alone,
// retries with backoff, the state file across restarts, hostile records.
// pool_scale_test runs the whole loop against a real etcd.
#include "config.hpp"
#include "pool.hpp"
#include "pool_fake.hpp"

#include <registry.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fsys = std::filesystem;
using namespace disagg::ctl;
using disagg::etcd::Event;
using disagg::etcd::KeyValue;
using disagg::registry::NodeRecord;
using Clock = Agent::Clock;

namespace {

SwapConf parse(const std::string &text)
{
	std::istringstream in(text);
	return parse_swap_conf(in, "swap.conf");
}

std::string error_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const Error &e) {
		return e.what();
	}
	return "";
}

TEST(PoolConfig, ParsesPool)
{
	const SwapConf c = parse("[swap]\ndisksize = 1G\nreplicas = 2\n"
				 "[pool]\nregistry = http://10.0.0.1:2379,http://10.0.0.2:2379\n"
				 "prefix = /dc1/mem/\nmatch = rack=r1,zone=z-2\ntransport = tcp\n"
				 "key = client\nkey_file = /etc/disagg/client.keys\nqueues = 2\n"
				 "src = 10.0.0.9\ntimeout_ms = 3000\nstate_file = /run/x/pool\n"
				 "max_nodes = 8\n");
	ASSERT_TRUE(c.pool);
	EXPECT_TRUE(c.nodes.empty());
	EXPECT_EQ(c.pool->registry,
		  (std::vector<std::string>{"http://10.0.0.1:2379", "http://10.0.0.2:2379"}));
	EXPECT_EQ(c.pool->prefix, "/dc1/mem/");
	EXPECT_EQ(c.pool->match, (std::map<std::string, std::string>{{"rack", "r1"}, {"zone", "z-2"}}));
	EXPECT_EQ(c.pool->node.transport, "tcp");
	EXPECT_EQ(c.pool->node.key, "client");
	EXPECT_EQ(c.pool->node.key_file, "/etc/disagg/client.keys");
	EXPECT_EQ(c.pool->node.queues, 2u);
	EXPECT_EQ(c.pool->node.src, "10.0.0.9");
	EXPECT_EQ(c.pool->node.timeout_ms, 3000u);
	EXPECT_EQ(c.pool->state_file, "/run/x/pool");
	EXPECT_EQ(c.pool->max_nodes, 8u);

	const SwapConf d = parse("[swap]\ndisksize = 1G\n[pool]\nregistry = http://h:2379\n");
	EXPECT_EQ(d.pool->prefix, "/disagg/memory/");
	EXPECT_EQ(d.pool->node.transport, "rdma");
	EXPECT_EQ(d.pool->state_file, "/run/disagg/pool-nodes");
	EXPECT_TRUE(d.pool->match.empty());
	EXPECT_EQ(d.pool->max_nodes, 64u);
}

TEST(PoolConfig, Errors)
{
	const std::string base = "[swap]\ndisksize = 1G\n[pool]\n";
	EXPECT_EQ(error_of([&] { parse(base + "prefix = /p/\n"); }),
		  "swap.conf: [pool] registry is required");
	EXPECT_EQ(error_of([&] { parse(base + "registry = 10.0.0.1:2379\n"); }),
		  "swap.conf: [pool] registry: \"10.0.0.1:2379\" is not http://HOST:PORT");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\nprefix = nope\n"); }),
		  "swap.conf: [pool] prefix: \"nope\" is not a key prefix (/.../, at most 128)");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\nmatch = rack\n"); }),
		  "swap.conf: [pool] match: \"rack\" is not KEY=VALUE of [A-Za-z0-9_.-]");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\nmatch = a=1,a=2\n"); }),
		  "swap.conf: [pool] match: label a given twice");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\naddr = 1.2.3.4\n"); }),
		  "swap.conf: [pool] addr: unknown key");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\nkey_file = /k\n"); }),
		  "swap.conf: [pool] key_file needs key (the identity)");
	EXPECT_EQ(error_of([&] { parse(base + "registry = http://h:1\nstate_file = run/x\n"); }),
		  "swap.conf: [pool] state_file: \"run/x\" is not an absolute path");
	EXPECT_EQ(error_of([&] { parse("[swap]\ndisksize = 1G\n"); }),
		  "swap.conf: no [node.NAME] or [pool] section: memory nodes are needed");
}

class PoolAgent : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/pool-test.XXXXXX";
		ASSERT_NE(::mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		conf_.registry = {"http://127.0.0.1:1"};
		conf_.node.key = "client";
		conf_.node.queues = 2;
		conf_.state_file = dir_ + "/state/pool-nodes";
	}
	void TearDown() override { fsys::remove_all(dir_); }

	static NodeRecord rec(const std::string &name, const std::string &addr, unsigned port = 7470)
	{
		NodeRecord r;
		r.name = name;
		r.addr = addr;
		r.port = port;
		r.transports = {"rdma", "tcp"};
		r.capacity = 1 << 30;
		r.free = 1 << 29;
		r.server_id = "0011223344556677";
		r.state = "up";
		return r;
	}
	KeyValue kv(const NodeRecord &r)
	{
		return KeyValue{disagg::registry::record_key(conf_.prefix, r.name),
				disagg::registry::to_json(r), 1, 7};
	}
	Event put(const NodeRecord &r) { return Event{Event::Type::kPut, kv(r)}; }
	Event del(const std::string &name)
	{
		return Event{Event::Type::kDelete,
			     KeyValue{disagg::registry::record_key(conf_.prefix, name), "", 2, 0}};
	}
	std::string state_file()
	{
		std::ifstream in(conf_.state_file);
		std::stringstream s;
		s << in.rdbuf();
		return s.str();
	}

	std::string dir_;
	PoolConf conf_;
	FakeKernel k_;
	std::ostringstream log_;
	Clock::time_point t0_ = Clock::now();
};

TEST_F(PoolAgent, AddsWhatThePoolOffersWithThePoolOptions)
{
	Agent a(conf_, k_, log_);
	a.resync({kv(rec("m1", "10.0.0.1")), kv(rec("m2", "fd00::2", 7000))});
	a.reconcile(t0_);
	ASSERT_EQ(k_.adds.size(), 2u);
	EXPECT_EQ(node_add_line(k_.adds[0]), "name=m1 transport=rdma addr=10.0.0.1 port=7470 queues=2 key=client");
	EXPECT_EQ(node_add_line(k_.adds[1]), "name=m2 transport=rdma addr=fd00::2 port=7000 queues=2 key=client");
	EXPECT_EQ(k_.names(), (std::vector<std::string>{"m1", "m2"}));
	EXPECT_EQ(state_file(), "m1 10.0.0.1 7470\nm2 fd00::2 7000\n");
	// Nothing more to do: no second add, no drain.
	a.reconcile(t0_);
	EXPECT_EQ(k_.adds.size(), 2u);
	EXPECT_TRUE(k_.drains.empty());
	// A refresh of a record (free bytes) changes nothing either.
	NodeRecord r = rec("m1", "10.0.0.1");
	r.free = 12345;
	a.update({put(r)});
	a.reconcile(t0_);
	EXPECT_EQ(k_.adds.size(), 2u);
	EXPECT_TRUE(k_.drains.empty());
}

TEST_F(PoolAgent, DrainsNodesThatLeaveAndForgetsThemWhenGone)
{
	Agent a(conf_, k_, log_);
	a.resync({kv(rec("m1", "10.0.0.1")), kv(rec("m2", "10.0.0.2")), kv(rec("m3", "10.0.0.3"))});
	a.reconcile(t0_);
	ASSERT_EQ(k_.names().size(), 3u);

	// m1 says draining (SIGTERM), m2's key goes (lease expired).
	NodeRecord d = rec("m1", "10.0.0.1");
	d.state = "draining";
	a.update({put(d), del("m2")});
	a.reconcile(t0_);
	EXPECT_EQ(k_.drains, (std::vector<std::string>{"m1", "m2"}));
	EXPECT_EQ(k_.state("m1"), "draining");
	// Not drained twice while the kernel drains.
	a.reconcile(t0_);
	EXPECT_EQ(k_.drains.size(), 2u);
	// The kernel finishes: the agent forgets them.
	k_.finish_drains();
	a.reconcile(t0_);
	EXPECT_EQ(a.owned().size(), 1u);
	EXPECT_EQ(state_file(), "m3 10.0.0.3 7470\n");
	// m1 comes back up (restarted): added again.
	a.update({put(rec("m1", "10.0.0.1"))});
	a.reconcile(t0_);
	EXPECT_EQ(k_.names(), (std::vector<std::string>{"m1", "m3"}));
}

TEST_F(PoolAgent, LeavesTheOperatorsNodesAlone)
{
	k_.nodes_["m1"] = "up";	// added by hand (or by swap.conf's [node.m1])
	k_.nodes_["hand"] = "up";
	Agent a(conf_, k_, log_);
	a.resync({kv(rec("m1", "10.0.0.1")), kv(rec("m2", "10.0.0.2"))});
	a.reconcile(t0_);
	ASSERT_EQ(k_.adds.size(), 1u);
	EXPECT_EQ(k_.adds[0].name, "m2");
	EXPECT_NE(log_.str().find("node m1 is in the pool and was added by hand: left alone"),
		  std::string::npos);
	// Said once, not at every pass.
	a.reconcile(t0_);
	const std::string l = log_.str();
	EXPECT_EQ(l.find("left alone"), l.rfind("left alone"));
	// The record goes: the agent's m2 drains, the operator's m1 stays.
	a.update({del("m1"), del("m2")});
	a.reconcile(t0_);
	EXPECT_EQ(k_.drains, (std::vector<std::string>{"m2"}));
	EXPECT_EQ(k_.state("m1"), "up");
	EXPECT_EQ(k_.state("hand"), "up");
}

TEST_F(PoolAgent, LabelsAndTransportSelectNodes)
{
	conf_.match = {{"rack", "r1"}};
	conf_.node.transport = "tcp";
	Agent a(conf_, k_, log_);
	NodeRecord in = rec("in", "10.0.0.1"), other = rec("other", "10.0.0.2"),
		   none = rec("none", "10.0.0.3"), rdma = rec("rdma", "10.0.0.4");
	in.labels = {{"rack", "r1"}, {"zone", "z"}};
	other.labels = {{"rack", "r2"}};
	rdma.labels = {{"rack", "r1"}};
	rdma.transports = {"rdma"};
	a.resync({kv(in), kv(other), kv(none), kv(rdma)});
	a.reconcile(t0_);
	EXPECT_EQ(k_.names(), (std::vector<std::string>{"in"}));
	EXPECT_EQ(k_.adds[0].transport, "tcp");
	EXPECT_NE(log_.str().find("ignoring rdma: it offers no tcp transport"), std::string::npos);
	// Moved to another rack: drained.
	in.labels = {{"rack", "r2"}};
	a.update({put(in)});
	a.reconcile(t0_);
	EXPECT_EQ(k_.drains, (std::vector<std::string>{"in"}));
}

TEST_F(PoolAgent, RetriesAFailedAddWithBackoff)
{
	k_.refuse["m1"] = ECONNREFUSED;
	Agent a(conf_, k_, log_);
	a.resync({kv(rec("m1", "10.0.0.1"))});
	a.reconcile(t0_);
	EXPECT_EQ(k_.tries["m1"], 1);
	a.reconcile(t0_ + std::chrono::milliseconds(900));
	EXPECT_EQ(k_.tries["m1"], 1);
	a.reconcile(t0_ + std::chrono::milliseconds(1000));
	EXPECT_EQ(k_.tries["m1"], 2);
	// Now 2 s.
	a.reconcile(t0_ + std::chrono::milliseconds(2900));
	EXPECT_EQ(k_.tries["m1"], 2);
	a.reconcile(t0_ + std::chrono::milliseconds(3000));
	EXPECT_EQ(k_.tries["m1"], 3);
	// The same failure is logged once.
	const std::string l = log_.str();
	EXPECT_EQ(l.find("cannot add node m1"), l.rfind("cannot add node m1"));
	EXPECT_TRUE(a.owned().empty());
	k_.refuse.clear();
	a.reconcile(t0_ + std::chrono::milliseconds(7000));
	EXPECT_EQ(k_.names(), (std::vector<std::string>{"m1"}));
	// Backoff is capped at 30 s.
	k_.refuse["m2"] = ETIMEDOUT;
	a.update({put(rec("m2", "10.0.0.2"))});
	auto t = t0_ + std::chrono::seconds(10);
	for (int i = 0; i < 12; i++) {
		a.reconcile(t);
		t += std::chrono::seconds(30);
	}
	EXPECT_EQ(k_.tries["m2"], 12);
}

TEST_F(PoolAgent, MovedNodeIsDrainedThenAddedAtItsNewAddress)
{
	Agent a(conf_, k_, log_);
	a.resync({kv(rec("m1", "10.0.0.1"))});
	a.reconcile(t0_);
	a.update({put(rec("m1", "10.0.0.7"))});
	a.reconcile(t0_);
	EXPECT_EQ(k_.drains, (std::vector<std::string>{"m1"}));
	EXPECT_EQ(k_.adds.size(), 1u);
	k_.finish_drains();
	a.reconcile(t0_);
	a.reconcile(t0_);
	ASSERT_EQ(k_.adds.size(), 2u);
	EXPECT_EQ(k_.adds[1].addr, "10.0.0.7");
	EXPECT_EQ(state_file(), "m1 10.0.0.7 7470\n");
}

TEST_F(PoolAgent, StateFileSurvivesARestartOfTheAgent)
{
	{
		Agent a(conf_, k_, log_);
		a.resync({kv(rec("m1", "10.0.0.1")), kv(rec("m2", "10.0.0.2"))});
		a.reconcile(t0_);
	}
	// A new agent: m2 left the pool meanwhile; it is still the agent's.
	Agent b(conf_, k_, log_);
	EXPECT_EQ(b.owned().size(), 2u);
	b.resync({kv(rec("m1", "10.0.0.1"))});
	b.reconcile(t0_);
	EXPECT_EQ(k_.drains, (std::vector<std::string>{"m2"}));
	EXPECT_EQ(k_.adds.size(), 2u);
	// A state file naming a node that is not there any more: forgotten.
	std::ofstream(conf_.state_file) << "gone 10.0.0.9 7470\nbad name!\n";
	Agent c(conf_, k_, log_);
	EXPECT_EQ(c.owned().size(), 1u);
	c.reconcile(t0_);
	EXPECT_TRUE(c.owned().empty());
}

TEST_F(PoolAgent, AddsNoMoreThanMaxNodes)
{
	conf_.max_nodes = 3;
	Agent a(conf_, k_, log_);
	std::vector<KeyValue> kvs;
	for (int i = 0; i < 50; i++)
		kvs.push_back(kv(rec("n" + std::to_string(i), "10.0.1." + std::to_string(i + 1))));
	a.resync(kvs);
	a.reconcile(t0_);
	a.reconcile(t0_);
	EXPECT_EQ(k_.adds.size(), 3u);
	EXPECT_NE(log_.str().find("the pool offers more than max_nodes 3 nodes"), std::string::npos);
	// One leaves: another takes its place.
	a.update({del(k_.adds[0].name)});
	a.reconcile(t0_);
	k_.finish_drains();
	a.reconcile(t0_);
	EXPECT_EQ(k_.adds.size(), 4u);
	EXPECT_EQ(k_.names().size(), 3u);
}

TEST_F(PoolAgent, HostileRecordsAreIgnored)
{
	Agent a(conf_, k_, log_);
	const std::string p = conf_.prefix;
	std::vector<KeyValue> kvs = {
		{p + "x1", "", 1, 0},
		{p + "x2", "{", 1, 0},
		{p + "x3", "[1,2,3]", 1, 0},
		{p + "x4", std::string(5 << 20, '{'), 1, 0},
		{p + "x5", R"({"name":"x5","addr":"10.0.0.1; rm -rf /","port":7470})", 1, 0},
	};
	// A valid record under another name's key.
	NodeRecord evil = rec("victim", "10.6.6.6");
	kvs.push_back({p + "x6", disagg::registry::to_json(evil), 1, 0});
	a.resync(kvs);
	a.reconcile(t0_);
	EXPECT_TRUE(k_.adds.empty());
	EXPECT_TRUE(a.wanted().empty());
	EXPECT_NE(log_.str().find("ignoring " + p + "x6: it names node victim"), std::string::npos);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd --registry against a private etcd: the record and its
// fields, free bytes following allocations, draining (in-process and the
// binary on SIGTERM), the drain timeout, and etcd going away and coming
// back without its data while the node keeps serving.
#include "etcd_test_util.hpp"
#include "memclient.hpp"
#include "memd_child.hpp"
#include "memd_test_util.hpp"
#include "registry.hpp"
#include "server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <thread>

extern char **environ;

namespace disagg::memd::test {
namespace {

using namespace std::chrono_literals;
using client::Conn;
using disagg::test::EtcdProcess;
using disagg::test::eventually;
using registry::NodeRecord;

// One etcd for the binary; each test its own prefix.
class MemdRegistry : public disagg::test::EtcdSuite {
protected:
	void SetUp() override
	{
		EtcdSuite::SetUp();
		log::set_level(log::Level::kWarn);
	}

	Config config() const
	{
		Config c;
		c.listen_host = "127.0.0.1";
		c.listen_port = 0;
		c.transport = TransportKind::kTcp;
		c.capacity = 64 * kMiB;
		c.slab_size = 4 * kMiB;
		c.grace_sec = 1;
		c.registry = {etcd_->endpoint()};
		c.registry_prefix = prefix_;
		c.registry_name = "mem-a";
		c.advertise = "127.0.0.1";
		c.labels = {{"rack", "r1"}, {"zone", "z.2"}};
		c.registry_ttl_sec = 2;
		c.drain_timeout_sec = 30;
		return c;
	}

	// The record under the test's prefix (nullopt: none), checked.
	std::optional<NodeRecord> record(const std::string &name = "mem-a",
					 std::int64_t *lease = nullptr) const
	{
		etcd::Client c({etcd_->endpoint()}, 2000ms);
		const etcd::Range r = c.get_prefix(prefix_);
		for (const etcd::KeyValue &kv : r.kvs) {
			if (kv.key != prefix_ + name)
				continue;
			std::string why;
			std::optional<NodeRecord> rec = registry::parse_record(kv.value, &why);
			EXPECT_TRUE(rec) << why << ": " << kv.value;
			if (lease)
				*lease = kv.lease;
			return rec;
		}
		return std::nullopt;
	}
	bool record_gone(std::chrono::milliseconds t) const
	{
		return eventually([&] { return !record(); }, t);
	}

};

// A memd in-process on 127.0.0.1, run() on a thread.
class Node {
public:
	explicit Node(const Config &c) : server_(std::make_unique<Server>(c))
	{
		std::string err;
		ok_ = server_->start(err);
		EXPECT_TRUE(ok_) << err;
		if (ok_)
			thread_ = std::thread([this] {
				server_->run();
				done_ = true;
			});
	}
	~Node() { stop(); }
	void stop()
	{
		if (!thread_.joinable())
			return;
		server_->request_stop();
		thread_.join();
	}
	bool stopped_within(std::chrono::milliseconds t)
	{
		if (!eventually([this] { return done_.load(); }, t))
			return false;
		thread_.join();
		return true;
	}
	Server &server() { return *server_; }
	std::unique_ptr<Conn> open(std::uint64_t id)
	{
		client::Options o;
		o.rdma = false;
		o.host = "127.0.0.1";
		o.port = server_->port();
		o.client_id = id;
		o.timeout_ms = 5000;
		std::string err;
		auto c = Conn::open(o, err);
		EXPECT_TRUE(c) << err;
		return c;
	}

private:
	std::unique_ptr<Server> server_;
	std::thread thread_;
	std::atomic<bool> done_{false};
	bool ok_ = false;
};

TEST_F(MemdRegistry, RecordAppearsWithItsFieldsAndFollowsFreeBytes)
{
	Node n(config());
	std::optional<NodeRecord> r;
	std::int64_t lease = 0;
	ASSERT_TRUE(eventually([&] { return (r = record("mem-a", &lease)).has_value(); }, 3000ms));
	EXPECT_EQ(r->name, "mem-a");
	EXPECT_EQ(r->addr, "127.0.0.1");
	EXPECT_EQ(r->port, n.server().port());
	EXPECT_EQ(r->transports, std::vector<std::string>{"tcp"});
	EXPECT_EQ(r->capacity, 64 * kMiB);
	EXPECT_EQ(r->free, 64 * kMiB);
	EXPECT_EQ(r->state, "up");
	EXPECT_EQ(r->labels, (std::map<std::string, std::string>{{"rack", "r1"}, {"zone", "z.2"}}));
	ASSERT_NE(n.server().registrar(), nullptr);
	EXPECT_EQ(lease, n.server().registrar()->lease());
	EXPECT_NE(lease, 0);
	// The server id of the record is the one clients see in HELLO.
	auto c = n.open(0x77);
	ASSERT_TRUE(c);
	char id[17];
	std::snprintf(id, sizeof(id), "%016llx",
		      static_cast<unsigned long long>(c->server().server_id));
	EXPECT_EQ(r->server_id, id);

	// Slabs taken: free follows within a few seconds.
	std::uint32_t st = 0;
	ASSERT_TRUE(c->alloc(4 * kMiB, 1, st)) << st;
	ASSERT_TRUE(c->alloc(4 * kMiB, 2, st)) << st;
	const auto t0 = std::chrono::steady_clock::now();
	EXPECT_TRUE(eventually([&] { r = record(); return r && r->free == 56 * kMiB; }, 4000ms))
		<< (r ? r->free : 0);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 4000ms);
	// The TTL is 2 s: the lease is kept alive past it, the same one.
	std::this_thread::sleep_for(2500ms);
	std::int64_t lease2 = 0;
	r = record("mem-a", &lease2);
	ASSERT_TRUE(r);
	EXPECT_EQ(lease2, lease);
	EXPECT_EQ(r->free, 56 * kMiB);

	// Stopped (request_stop, as after a second SIGTERM): the record goes
	// at once (the lease is revoked), not after the TTL.
	c.reset();
	n.stop();
	EXPECT_FALSE(record());
}

// drain(): state "draining" at once, the record stays while a slab is
// held, and goes (with the server) once the last slab is freed.
TEST_F(MemdRegistry, DrainWaitsForTheSlabsThenLeaves)
{
	Node n(config());
	ASSERT_TRUE(eventually([&] { return record().has_value(); }, 3000ms));
	auto c = n.open(0x78);
	ASSERT_TRUE(c);
	std::uint32_t st = 0;
	std::optional<proto::MemSlab> s = c->alloc(4 * kMiB, 1, st);
	ASSERT_TRUE(s) << st;
	ASSERT_TRUE(n.server().drain());
	EXPECT_FALSE(n.server().drain());	// once
	std::optional<NodeRecord> r;
	ASSERT_TRUE(eventually([&] { r = record(); return r && r->state == "draining"; }, 2000ms));
	// free follows as ever (at most one tick and one refresh later).
	EXPECT_TRUE(eventually([&] { r = record(); return r && r->free == 60 * kMiB; }, 3500ms));
	// Still serving while draining.
	std::this_thread::sleep_for(1000ms);
	r = record();
	ASSERT_TRUE(r);
	EXPECT_EQ(r->state, "draining");
	EXPECT_EQ(c->free(s->slab_id), 0u);
	const auto t0 = std::chrono::steady_clock::now();
	EXPECT_TRUE(record_gone(3000ms));
	EXPECT_TRUE(n.stopped_within(8000ms)) << "the server did not stop once drained";
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 8000ms);
}

TEST_F(MemdRegistry, DrainTimeoutLeavesWithSlabsHeld)
{
	Config cfg = config();
	cfg.drain_timeout_sec = 1;
	Node n(cfg);
	ASSERT_TRUE(eventually([&] { return record().has_value(); }, 3000ms));
	auto c = n.open(0x79);
	ASSERT_TRUE(c);
	std::uint32_t st = 0;
	ASSERT_TRUE(c->alloc(4 * kMiB, 1, st));
	// Let a tick see the slab before the drain starts.
	std::this_thread::sleep_for(1200ms);
	const auto t0 = std::chrono::steady_clock::now();
	ASSERT_TRUE(n.server().drain());
	EXPECT_TRUE(eventually([&] { auto r = record(); return r && r->state == "draining"; },
			       900ms));
	EXPECT_TRUE(record_gone(3000ms));
	EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
	EXPECT_TRUE(n.stopped_within(8000ms));
}

// etcd dies: the node keeps serving; etcd comes back without its data:
// the node registers again (new lease) within a few seconds.
TEST_F(MemdRegistry, SurvivesEtcdGoingAwayAndLosingItsData)
{
	START_ETCD_OR_SKIP(own);
	Config cfg = config();
	cfg.registry = {own.endpoint()};
	Node n(cfg);
	etcd::Client ec({own.endpoint()}, 2000ms);
	auto rec = [&]() -> std::optional<NodeRecord> {
		try {
			etcd::Range r = ec.get_prefix(prefix_);
			if (r.kvs.size() != 1)
				return std::nullopt;
			return registry::parse_record(r.kvs[0].value, nullptr);
		} catch (const etcd::Error &) {
			return std::nullopt;
		}
	};
	ASSERT_TRUE(eventually([&] { return rec().has_value(); }, 3000ms));
	const std::int64_t lease1 = n.server().registrar()->lease();
	own.stop();
	// Serving without etcd.
	auto c = n.open(0x7a);
	ASSERT_TRUE(c);
	std::uint32_t st = 0;
	ASSERT_TRUE(c->alloc(4 * kMiB, 1, st)) << st;
	std::string err;
	EXPECT_TRUE(c->info(err)) << err;
	std::this_thread::sleep_for(1500ms);
	ASSERT_TRUE(own.start(/*wipe=*/true));
	const auto t0 = std::chrono::steady_clock::now();
	std::optional<NodeRecord> r;
	ASSERT_TRUE(eventually([&] { r = rec(); return r && r->free == 60 * kMiB; }, 8000ms));
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 8000ms);
	EXPECT_NE(n.server().registrar()->lease(), lease1);
	EXPECT_NE(n.server().registrar()->lease(), 0);
}

// ---- the binary: SIGTERM drains


TEST_F(MemdRegistry, BinarySigtermMarksDrainingThenLeavesAndExits0)
{
	Child d = spawn({"--transport", "tcp", "--listen", "127.0.0.1:0", "--capacity", "32M",
			 "--slab-size", "4M", "--registry",
			 "http://127.0.0.1:" + std::to_string(disagg::test::free_port()) + "," +
				 etcd_->endpoint(),
			 "--registry-prefix", prefix_, "--registry-name", "mem-a", "--label", "rack=r9",
			 "--label", "row=2", "--registry-ttl", "2", "--drain-timeout", "20"});
	const std::string port = d.wait_for(std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"));
	ASSERT_FALSE(port.empty()) << d.stderr_text;
	std::optional<NodeRecord> r;
	ASSERT_TRUE(eventually([&] { return (r = record()).has_value(); }, 3000ms)) << d.stderr_text;
	EXPECT_EQ(r->port, static_cast<unsigned>(std::stoi(port)));
	EXPECT_EQ(r->labels, (std::map<std::string, std::string>{{"rack", "r9"}, {"row", "2"}}));
	client::Options o;
	o.rdma = false;
	o.port = static_cast<std::uint16_t>(std::stoi(port));
	o.client_id = 0x51;
	std::string err;
	auto c = Conn::open(o, err);
	ASSERT_TRUE(c) << err;
	std::uint32_t st = 0;
	std::optional<proto::MemSlab> s = c->alloc(4 * kMiB, 0, st);
	ASSERT_TRUE(s);
	std::this_thread::sleep_for(1100ms);	// a tick sees the slab
	ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
	ASSERT_TRUE(eventually([&] { r = record(); return r && r->state == "draining"; }, 2000ms));
	// Still serving: the client's slab is readable and freed.
	EXPECT_EQ(c->free(s->slab_id), 0u);
	EXPECT_TRUE(record_gone(3000ms));
	EXPECT_EQ(d.wait_exit(), 0) << d.stderr_text;
	EXPECT_NE(d.stderr_text.find("registry: drained: no slab held"), std::string::npos) << d.stderr_text;
	EXPECT_EQ(d.stderr_text.find(": error: "), std::string::npos) << d.stderr_text;
}

}  // namespace
}  // namespace disagg::memd::test

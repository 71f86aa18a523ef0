// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// `disaggctl agent`'s whole loop (run_agent) against a private etcd and a
// fake kernel node list:
//   - 500 registrations coming and going at random over 100 names (puts
//     with leases, draining records, deletes, records of another rack,
//     short leases left to expire): the kernel's list equals the nodes the
//     registry offers within kConverge of the last change, checked at four
//     pauses and at the end;
//   - etcd SIGKILLed: the kernel's list stays exactly as it was (no node
//     drained for want of a registry); restarted on the same data with
//     changes made meanwhile, the agent catches up within its backoff plus
//     kConverge.
// Skipped when /usr/bin/etcd is missing.
#include "etcd_test_util.hpp"
#include "pool.hpp"
#include "pool_fake.hpp"

#include <registry.hpp>

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace disagg::ctl;
using disagg::registry::NodeRecord;
namespace etcd = disagg::etcd;

namespace {

// The delay the agent is held to: from the registry's last change to the
// kernel's list matching it.
constexpr std::chrono::milliseconds kConverge{3000};

// The names the registry offers the agent now: records "up" in rack r1.
std::set<std::string> offered(etcd::Client &c, const std::string &prefix)
{
	std::set<std::string> s;
	for (const etcd::KeyValue &kv : c.get_prefix(prefix).kvs) {
		auto r = disagg::registry::parse_record(kv.value, nullptr);
		if (r && r->state == "up" && r->labels.count("rack") && r->labels.at("rack") == "r1")
			s.insert(r->name);
	}
	return s;
}

std::set<std::string> in_kernel(const FakeKernel &k)
{
	auto v = k.names();
	return {v.begin(), v.end()};
}

class PoolScale : public ::testing::Test {
protected:
	void start_agent(const std::string &endpoint)
	{
		conf_.registry = {endpoint};
		conf_.state_file = dir_ + "/pool-nodes";
		conf_.match = {{"rack", "r1"}};
		k_.instant_drain = true;
		agent_ = std::thread([this] { run_agent(conf_, k_, log_, stop_); });
	}
	void SetUp() override
	{
		char tmpl[] = "/tmp/pool-scale.XXXXXX";
		ASSERT_NE(::mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
	}
	void TearDown() override
	{
		stop_ = true;
		if (agent_.joinable())
			agent_.join();
		if (HasFailure())
			std::cout << "agent log:\n" << log_.str();
		std::filesystem::remove_all(dir_);
	}
	// Time until the kernel's list equals what the registry offers; fails
	// the test past kConverge (+ @extra).
	std::chrono::milliseconds converge(etcd::Client &c, std::chrono::milliseconds extra = {})
	{
		const auto t0 = std::chrono::steady_clock::now();
		// Short leases may expire meanwhile: the registry is read anew.
		std::set<std::string> want;
		const bool ok = disagg::test::eventually(
			[&] {
				want = offered(c, conf_.prefix);
				return in_kernel(k_) == want;
			},
			kConverge + extra);
		const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
			std::chrono::steady_clock::now() - t0);
		std::string diff;
		const std::set<std::string> have = in_kernel(k_);
		for (const std::string &n : have)
			if (!want.count(n))
				diff += " +" + n;
		for (const std::string &n : want)
			if (!have.count(n))
				diff += " -" + n;
		EXPECT_TRUE(ok) << "kernel has " << have.size() << " nodes, registry offers "
				<< want.size() << ":" << diff;
		return took;
	}

	std::string dir_;
	PoolConf conf_;
	FakeKernel k_;
	std::ostringstream log_;	// the agent thread's; read after join
	std::atomic<bool> stop_{false};
	std::thread agent_;
};

NodeRecord record(unsigned i, const std::string &state, const std::string &rack)
{
	NodeRecord r;
	r.name = "n" + std::to_string(i);
	r.addr = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
	r.port = 7470;
	r.transports = {"rdma"};
	r.capacity = 1ull << 34;
	r.free = 1ull << 33;
	r.server_id = "0123456789abcdef";
	r.state = state;
	r.labels = {{"rack", rack}};
	return r;
}

TEST_F(PoolScale, FiveHundredRegistrationsComingAndGoing)
{
	START_ETCD_OR_SKIP(etcd_proc);
	etcd::Client c({etcd_proc.endpoint()}, std::chrono::seconds(5));
	start_agent(etcd_proc.endpoint());

	std::mt19937 rng(20261207);
	std::uniform_int_distribution<unsigned> name(0, 99), op(0, 9);
	const std::int64_t lease = c.grant(60);
	std::chrono::milliseconds worst{0};
	unsigned puts = 0, deletes = 0, expiring = 0;

	for (int i = 1; i <= 500; i++) {
		const unsigned n = name(rng);
		const unsigned o = op(rng);
		const std::string key = disagg::registry::record_key(conf_.prefix, "n" + std::to_string(n));
		switch (o) {
		case 0: case 1: case 2:
			c.del(key);
			deletes++;
			break;
		case 3:
			c.put(key, disagg::registry::to_json(record(n, "draining", "r1")), lease);
			puts++;
			break;
		case 4:
			c.put(key, disagg::registry::to_json(record(n, "up", "r2")), lease);
			puts++;
			break;
		case 5:
			// Left to expire (a memd SIGKILLed): its own 2 s lease.
			c.put(key, disagg::registry::to_json(record(n, "up", "r1")), c.grant(2));
			expiring++;
			break;
		default:
			c.put(key, disagg::registry::to_json(record(n, "up", "r1")), lease);
			puts++;
			break;
		}
		if (i % 125 == 0)
			worst = std::max(worst, converge(c));
	}
	// The short leases expire (2 s, and etcd checks them every 500 ms).
	std::this_thread::sleep_for(std::chrono::milliseconds(3000));
	worst = std::max(worst, converge(c));
	EXPECT_GT(expiring, 0u);
	EXPECT_GT(deletes, 0u);
	EXPECT_GT(in_kernel(k_).size(), 10u);
	std::cout << "500 changes (" << puts << " puts, " << deletes << " deletes, " << expiring
		  << " short leases): kernel matched the registry within " << worst.count()
		  << " ms at worst; " << k_.adds.size() << " adds, " << k_.drains.size()
		  << " drains\n";
}

TEST_F(PoolScale, RegistryDownChangesNothingAndIsCaughtUp)
{
	START_ETCD_OR_SKIP(etcd_proc);
	etcd::Client c({etcd_proc.endpoint()}, std::chrono::seconds(5));
	start_agent(etcd_proc.endpoint());
	const std::int64_t lease = c.grant(60);
	for (unsigned i = 0; i < 20; i++)
		c.put(disagg::registry::record_key(conf_.prefix, "n" + std::to_string(i)),
		      disagg::registry::to_json(record(i, "up", "r1")), lease);
	converge(c);
	const auto before = k_.nodes();
	const std::size_t drains = k_.drains.size();

	etcd_proc.stop();
	std::this_thread::sleep_for(std::chrono::milliseconds(4000));
	EXPECT_EQ(k_.nodes(), before);
	EXPECT_EQ(k_.drains.size(), drains);

	ASSERT_TRUE(etcd_proc.start()) << "etcd did not start again";
	etcd::Client c2({etcd_proc.endpoint()}, std::chrono::seconds(5));
	c2.del(disagg::registry::record_key(conf_.prefix, "n0"));
	c2.put(disagg::registry::record_key(conf_.prefix, "n99"),
	       disagg::registry::to_json(record(99, "up", "r1")));
	// The agent's backoff after 4 s down is at most 8 s.
	const auto took = converge(c2, std::chrono::milliseconds(8000));
	EXPECT_EQ(in_kernel(k_).count("n0"), 0u);
	EXPECT_EQ(in_kernel(k_).count("n99"), 1u);
	std::cout << "caught up " << took.count() << " ms after etcd answered again\n";
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// memd's limits over the fake transport: --client-quota (EDQUOT, resume
// never refused, grace-period slabs counted, status), the idle timeout
// (the client's HEARTBEAT requests keep a connection, answers to our
// probes do not) and the per-identity connection limit (EUSERS), also
// with keys (quota and connections per key, STATUS for admins only).
#include "memd_test_util.hpp"

namespace disagg::memd::test {
namespace {

using std::chrono::seconds;

// ---------------------------------------------------------------- quota

TEST(MemdQuota, AllocBeyondQuotaIsEdquot)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.service->set_client_quota(8 * kMiB);
	ConnId c = h.client(1);
	h.alloc_ok(c, 4 * kMiB, 0);
	h.alloc_ok(c, 4 * kMiB, 1);
	EXPECT_EQ(h.alloc_err(c, 4 * kMiB, 2), static_cast<std::uint32_t>(EDQUOT));
	EXPECT_EQ(h.alloc_err(c, 4096, 2), static_cast<std::uint32_t>(EDQUOT));
	EXPECT_EQ(h.pool.used(), 8 * kMiB);
	// Asking again for a held tag is not an allocation.
	EXPECT_EQ(h.alloc_ok(c, 4 * kMiB, 1).flags, kSlabResumed);
	// Freeing makes room.
	MemSlab s0 = h.alloc_ok(c, 4 * kMiB, 0);
	ASSERT_EQ(h.call(c, Op::kMemFree, MemFree{s0.slab_id})->status(), 0u);
	h.alloc_ok(c, 4 * kMiB, 2);
	EXPECT_EQ(h.service->identity_used(""), 8 * kMiB);
}

TEST(MemdQuota, HugeSizeDoesNotWrap)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.service->set_client_quota(8 * kMiB);
	ConnId c = h.client(1);
	h.alloc_ok(c, 4 * kMiB, 0);
	EXPECT_EQ(h.alloc_err(c, ~0ull & ~4095ull, 1), static_cast<std::uint32_t>(EDQUOT));
}

TEST(MemdQuota, IsPerIdentityNotPerClientId)
{
	// Without keys every client is identity "": one budget for all.
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.service->set_client_quota(8 * kMiB);
	ConnId a = h.client(1);
	ConnId b = h.client(2);
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 0);
	EXPECT_EQ(h.alloc_err(a, 4 * kMiB, 1), static_cast<std::uint32_t>(EDQUOT));
	EXPECT_EQ(h.alloc_err(b, 4 * kMiB, 1), static_cast<std::uint32_t>(EDQUOT));
}

TEST(MemdQuota, GracePeriodSlabsCountUntilTheyExpire)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, /*grace=*/30, /*heartbeat=*/0);
	h.service->set_client_quota(8 * kMiB);
	ConnId a = h.client(1);
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(a, 4 * kMiB, 1);
	h.transport.drop(a);	// slabs wait for client 1
	ConnId b = h.client(2);
	EXPECT_EQ(h.alloc_err(b, 4 * kMiB, 0), static_cast<std::uint32_t>(EDQUOT));
	// Client 1 comes back within grace: its slabs are its own again.
	ConnId a2 = h.client(1);
	EXPECT_EQ(h.alloc_ok(a2, 4 * kMiB, 0).flags, kSlabResumed);
	h.transport.drop(a2);
	h.clock.advance(seconds(31));
	h.service->tick();
	EXPECT_EQ(h.pool.used(), 0u);
	h.alloc_ok(b, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 1);
}

TEST(MemdQuota, NoQuotaByDefault)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	ConnId c = h.client(1);
	for (unsigned i = 0; i < 16; i++)
		h.alloc_ok(c, 4 * kMiB, i);
	EXPECT_EQ(h.alloc_err(c, 4 * kMiB, 16), static_cast<std::uint32_t>(ENOSPC));
}

TEST(MemdQuota, StatusShowsUsedAndQuotaPerIdentity)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.service->set_client_quota(8 * kMiB);
	ConnId c = h.client(1);
	h.alloc_ok(c, 4 * kMiB, 0);
	std::string j = h.service->status_json();
	EXPECT_NE(j.find("\"client_quota\":8388608"), std::string::npos) << j;
	EXPECT_NE(j.find(R"("identities":[{"identity":"","conns":1,"used":4194304,)"
			 R"("quota":8388608}])"),
		  std::string::npos)
		<< j;
}

// ---------------------------------------------------------------- idle

TEST(MemdIdle, HeartbeatRequestsKeepAConnection)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/15, /*idle=*/120);
	ConnId c = h.client(1);
	// The kernel client's heartbeat: a request every 5 s, for an hour.
	for (int t = 0; t < 3600; t += 5) {
		h.clock.advance(seconds(5));
		h.service->tick();
		ASSERT_TRUE(h.transport.is_open(c)) << "closed after " << t << " s";
		ASSERT_EQ(h.call(c, Op::kHeartbeat)->status(), 0u);
	}
}

TEST(MemdIdle, AnswersToOurProbesAreNotActivity)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/15, /*idle=*/120);
	ConnId c = h.client(1);
	h.alloc_ok(c, 4 * kMiB, 0);
	int t = 0;
	for (; t < 300 && h.transport.is_open(c); t++) {
		h.clock.advance(seconds(1));
		h.service->tick();
		h.transport.settle();
		// Answer every probe at once, as the kernel does.
		while (auto g = h.next(c)) {
			if (g->hdr.opcode != static_cast<std::uint16_t>(Op::kHeartbeat))
				continue;
			Result<Bytes> ans = make_reply(Op::kHeartbeat, g->hdr.req_id);
			ASSERT_TRUE(ans.ok());
			h.transport.deliver(c, *ans);
		}
	}
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(t, 120);
	// Its slabs wait out the grace period like any vanished client's.
	EXPECT_EQ(h.pool.used(), 4 * kMiB);
}

TEST(MemdIdle, SilentConnectionIsClosedAfterTheTimeout)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/0, /*idle=*/60);
	ConnId c = h.client(1);
	ConnId ctl = h.client(0, Role::kCtl);
	h.clock.advance(seconds(59));
	h.service->tick();
	h.transport.settle();
	EXPECT_TRUE(h.transport.is_open(c));
	ASSERT_EQ(h.call(ctl, Op::kMemInfo)->status(), 0u);	// ctl is active
	h.clock.advance(seconds(1));
	h.service->tick();
	h.transport.settle();
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_TRUE(h.transport.is_open(ctl));
	EXPECT_EQ(h.service->nr_sessions(), 1u);
}

TEST(MemdIdle, ZeroDisables)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/0, /*idle=*/0);
	ConnId c = h.client(1);
	h.clock.advance(seconds(7 * 24 * 3600));
	h.service->tick();
	h.transport.settle();
	EXPECT_TRUE(h.transport.is_open(c));
}

// ---------------------------------------------------------------- conns per identity

TEST(MemdConnLimit, PerIdentityLimitRefusesWithEusers)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, 15, 120, /*per identity=*/2);
	ConnId a = h.client(1);
	ConnId b = h.client(0, Role::kCtl);
	EXPECT_EQ(h.transport.handshakes, 2u);	// the RDMA ring would grow
	ConnId c = h.transport.connect();
	auto g = h.call(c, Op::kHello, hello_body(3));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EUSERS));
	EXPECT_EQ(h.transport.handshakes, 2u);
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_TRUE(h.transport.is_open(a));
	EXPECT_TRUE(h.transport.is_open(b));
	EXPECT_EQ(h.service->nr_clients(), 2u);
	// A slot frees when one goes.
	h.transport.drop(b);
	h.client(3);
	EXPECT_EQ(h.service->nr_clients(), 2u);
}

TEST(MemdConnLimit, RefusedHelloDoesNotCount)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, 15, 120, /*per identity=*/1);
	ConnId bad = h.transport.connect();
	ASSERT_EQ(h.call(bad, Op::kHello, hello_body(0, Role::kSwap))->status(),
		  static_cast<std::uint32_t>(EINVAL));	// no client id
	h.client(1);
}

TEST(MemdConnLimit, ZeroMeansNoLimit)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, 15, 120, /*per identity=*/0);
	for (unsigned i = 1; i <= 100; i++)
		h.client(i);
	EXPECT_EQ(h.service->nr_clients(), 100u);
}

// ---------------------------------------------------------------- with keys

std::string status_of(Harness &h, ConnId c)
{
	auto g = h.call(c, Op::kStatus);
	if (!g || g->status())
		return {};
	ByteSpan d = g->body<Data>().bytes;
	return std::string(reinterpret_cast<const char *>(d.data()), d.size());
}

TEST(MemdKeyedLimits, QuotaIsSeparatePerIdentity)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.with_keys();
	h.service->set_client_quota(8 * kMiB);
	// The same client id under two keys: two owners, two budgets.
	ConnId a = h.client(1, Role::kSwap, "client");
	ConnId b = h.client(1, Role::kSwap, "other");
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(a, 4 * kMiB, 1);
	EXPECT_EQ(h.alloc_err(a, 4 * kMiB, 2), static_cast<std::uint32_t>(EDQUOT));
	h.alloc_ok(b, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 1);
	EXPECT_EQ(h.alloc_err(b, 4 * kMiB, 2), static_cast<std::uint32_t>(EDQUOT));
	EXPECT_EQ(h.service->identity_used("client"), 8 * kMiB);
	EXPECT_EQ(h.service->identity_used("other"), 8 * kMiB);
	EXPECT_EQ(h.service->identity_used(""), 0u);
	EXPECT_NE(h.owner(1, "client"), h.owner(1, "other"));
}

TEST(MemdKeyedLimits, QuotaCountsEveryClientIdOfAnIdentity)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, /*grace=*/30, /*heartbeat=*/0);
	h.with_keys();
	h.service->set_client_quota(8 * kMiB);
	ConnId a = h.client(1, Role::kSwap, "client");
	ConnId b = h.client(2, Role::kSwap, "client");
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 0);
	EXPECT_EQ(h.alloc_err(a, 4 * kMiB, 1), static_cast<std::uint32_t>(EDQUOT));
	EXPECT_EQ(h.alloc_err(b, 4 * kMiB, 1), static_cast<std::uint32_t>(EDQUOT));
	// Slabs in their grace period still count against their identity only.
	h.transport.drop(a);
	ConnId c = h.client(3, Role::kSwap, "client");
	EXPECT_EQ(h.alloc_err(c, 4 * kMiB, 0), static_cast<std::uint32_t>(EDQUOT));
	ConnId o = h.client(1, Role::kSwap, "other");
	h.alloc_ok(o, 4 * kMiB, 0);
	h.alloc_ok(o, 4 * kMiB, 1);
	// Once the grace period is over the budget is back.
	h.clock.advance(seconds(31));
	h.service->tick();
	h.alloc_ok(c, 4 * kMiB, 0);
}

TEST(MemdKeyedLimits, StatusIdentitiesForAdminsOnly)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.with_keys();
	h.service->set_client_quota(8 * kMiB);
	ConnId a = h.client(1, Role::kSwap, "client");
	ConnId b = h.client(1, Role::kSwap, "other");
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 0);
	h.alloc_ok(b, 4 * kMiB, 1);
	ConnId adm = h.client(0, Role::kCtl, "admin");
	std::string j = status_of(h, adm);
	EXPECT_NE(j.find(R"("identities":[{"identity":"admin","conns":1,"used":0,)"
			 R"("quota":8388608},{"identity":"client","conns":1,"used":4194304,)"
			 R"("quota":8388608},{"identity":"other","conns":1,"used":8388608,)"
			 R"("quota":8388608}])"),
		  std::string::npos)
		<< j;
	// Anyone else: its own identity's line, nothing of the others.
	j = status_of(h, a);
	EXPECT_NE(j.find(R"("identities":[{"identity":"client","conns":1,"used":4194304,)"
			 R"("quota":8388608}])"),
		  std::string::npos)
		<< j;
	EXPECT_EQ(j.find("\"other\""), std::string::npos) << j;
	EXPECT_EQ(j.find("\"admin\""), std::string::npos) << j;
	ConnId ctl = h.client(0, Role::kCtl, "other");
	j = status_of(h, ctl);
	EXPECT_NE(j.find(R"("identities":[{"identity":"other","conns":2,"used":8388608,)"),
		  std::string::npos)
		<< j;
	EXPECT_EQ(j.find("\"client\""), std::string::npos) << j;
}

TEST(MemdKeyedLimits, PerIdentityLimitIsCheckedAtAuth)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, 15, 120, /*per identity=*/1);
	h.with_keys();
	ConnId a = h.client(1, Role::kSwap, "client");
	EXPECT_EQ(h.transport.handshakes, 1u);
	// Connections that said HELLO but not AUTH yet count for nobody and
	// get no full ring.
	std::vector<ConnId> pending;
	for (unsigned i = 0; i < 3; i++) {
		ConnId c = h.transport.connect();
		auto g = h.call(c, Op::kHello, hello_body(10 + i, Role::kSwap,
							   kFeatRdma | kFeatAuth));
		ASSERT_TRUE(g && g->status() == 0);
		pending.push_back(c);
	}
	EXPECT_EQ(h.transport.handshakes, 1u);
	// A second connection of "client": its good AUTH is answered EUSERS.
	ConnId c = h.transport.connect();
	Hello hello = hello_body(2, Role::kSwap, kFeatRdma | kFeatAuth);
	auto g = h.call(c, Op::kHello, hello);
	ASSERT_TRUE(g && g->status() == 0);
	const HelloReply reply = g->body<HelloReply>();
	g = h.call(c, Op::kAuth,
		   disagg::test::auth_body(hello, reply, "client",
					   disagg::test::test_secret("client")));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EUSERS));
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(h.transport.handshakes, 1u);
	EXPECT_TRUE(h.transport.tokens.count(c) == 0);	// no join token either
	// Another identity is not held to "client"'s count.
	h.client(1, Role::kSwap, "other");
	EXPECT_EQ(h.transport.handshakes, 2u);
	EXPECT_TRUE(h.transport.is_open(a));
	// The pending ones are bounded by the handshake timeout.
	h.clock.advance(seconds(30));	// ServiceBase::kHelloTimeout
	h.service->tick();
	h.transport.settle();
	for (ConnId p : pending)
		EXPECT_FALSE(h.transport.is_open(p));
	EXPECT_TRUE(h.transport.is_open(a));
}

TEST(MemdKeyedLimits, IdleTimeoutWithKeys)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/0, /*idle=*/60);
	h.with_keys();
	ConnId a = h.client(1, Role::kSwap, "client");
	ConnId b = h.client(2, Role::kSwap, "client");
	for (int t = 0; t < 60; t += 5) {
		h.clock.advance(seconds(5));
		h.service->tick();
		ASSERT_EQ(h.call(a, Op::kHeartbeat)->status(), 0u);
	}
	h.transport.settle();
	EXPECT_TRUE(h.transport.is_open(a));
	EXPECT_FALSE(h.transport.is_open(b));
}

}  // namespace
}  // namespace disagg::memd::test

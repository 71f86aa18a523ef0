// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory node's protocol logic over the fake transport: handshake and
// negotiation, MEM_INFO/ALLOC/FREE, ENOSPC, page access bounds and
// ownership, keys per connection, resume within grace, BYE, STATUS,
// heartbeats, idle timeout and shutdown.
#include "memd_test_util.hpp"

#include <algorithm>
#include <cstring>

namespace disagg::memd::test {
namespace {

using std::chrono::seconds;

// ---------------------------------------------------------------- hello

TEST(MemdHello, NegotiatesMinorAndFeatures)
{
	Harness h(/*one_sided=*/true);
	ConnId c = h.transport.connect();
	Hello hello = hello_body(42, Role::kSwap, kFeatRdma | kFeatAuth);
	auto g = h.call(c, Op::kHello, hello);
	ASSERT_TRUE(g);
	ASSERT_EQ(g->status(), 0u);
	HelloReply r = g->body<HelloReply>();
	EXPECT_EQ(r.major, kMajor);
	EXPECT_EQ(r.minor, kMinor);
	EXPECT_EQ(r.features, kFeatRdma);	// auth not offered
	EXPECT_EQ(r.server_id, h.service->server_id());
	EXPECT_NE(r.server_id, 0u);
	EXPECT_TRUE(check_hello_reply(hello, r).ok());
	EXPECT_TRUE(h.transport.is_open(c));
	EXPECT_EQ(h.service->nr_clients(), 1u);
}

// DG_FEAT_MQ over RDMA: granted when offered, and the transport learns it
// before the join token is out; never over TCP.
TEST(MemdHello, MessagesOnSeveralQueues)
{
	Harness h(/*one_sided=*/true);
	ConnId c = h.transport.connect("fake-peer:1", 4, 42);
	auto g = h.call(c, Op::kHello, hello_body(42, Role::kSwap, kFeatRdma | kFeatMq));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features, kFeatRdma | kFeatMq);
	EXPECT_EQ(h.transport.mq.count(c), 1u);
	EXPECT_EQ(h.transport.tokens.count(c), 1u);

	ConnId d = h.transport.connect("fake-peer:2", 4, 43);
	g = h.call(d, Op::kHello, hello_body(43, Role::kSwap, kFeatRdma));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features, kFeatRdma);
	EXPECT_EQ(h.transport.mq.count(d), 0u);

	Harness t(/*one_sided=*/false);
	ConnId e = t.transport.connect();
	g = t.call(e, Op::kHello, hello_body(44, Role::kSwap, kFeatRdma | kFeatMq));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features, 0u);
	EXPECT_TRUE(t.transport.mq.empty());
}

// The per-queue rule of DG_FEAT_MQ both sides compute.
TEST(MemdHello, MessageQueueCredits)
{
	EXPECT_EQ(dg_mq_queues(1), 1u);
	EXPECT_EQ(dg_mq_queues(2), 1u);
	EXPECT_EQ(dg_mq_queues(4), 2u);
	EXPECT_EQ(dg_mq_queues(16), 8u);
	EXPECT_EQ(dg_mq_credits(2), 16u);
	EXPECT_EQ(dg_mq_credits(4), 8u);
	EXPECT_EQ(dg_mq_credits(6), 6u);	// 3 queues: 18 credits cover 16
	EXPECT_EQ(dg_mq_credits(16), 2u);
}

TEST(MemdHello, NoRdmaFeatureOnTcp)
{
	Harness h(/*one_sided=*/false);
	ConnId c = h.transport.connect();
	auto g = h.call(c, Op::kHello, hello_body(42, Role::kSwap, kFeatRdma));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features, 0u);
}

TEST(MemdHello, WrongMajorInHeaderIsRefusedAndClosed)
{
	Harness h;
	ConnId c = h.transport.connect();
	Bytes f = request(Op::kHello, 77, hello_body(1));
	f[offsetof(dg_hdr, major)] = std::byte{kMajor + 1};
	auto g = h.send(c, f);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->hdr.major, kMajor);
	EXPECT_EQ(g->hdr.opcode, static_cast<std::uint16_t>(Op::kHello) | kReplyBit);
	EXPECT_EQ(g->hdr.req_id, 77u);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTONOSUPPORT));
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(h.service->nr_sessions(), 0u);
}

TEST(MemdHello, WrongMajorInBodyIsRefusedAndClosed)
{
	Harness h;
	ConnId c = h.transport.connect();
	Hello hello = hello_body(1);
	hello.major = kMajor + 1;
	auto g = h.call(c, Op::kHello, hello);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTONOSUPPORT));
	EXPECT_FALSE(h.transport.is_open(c));
}

TEST(MemdHello, NewerMinorGetsOurs)
{
	Harness h;
	ConnId c = h.transport.connect();
	Hdr hdr;
	hdr.minor = kMinor + 3;
	hdr.opcode = static_cast<std::uint16_t>(Op::kHello);
	hdr.req_id = 5;
	Hello hello = hello_body(9);
	hello.minor = kMinor + 3;
	Result<Bytes> f = encode_message(Message{hdr, hello});
	ASSERT_TRUE(f.ok());
	auto g = h.send(c, *f);
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().minor, kMinor);
	EXPECT_EQ(g->hdr.minor, kMinor);
}

TEST(MemdHello, RefusedRolesAndIds)
{
	Harness h;
	ConnId fs = h.transport.connect();
	auto g = h.call(fs, Op::kHello, hello_body(1, Role::kFs));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTONOSUPPORT));
	EXPECT_FALSE(h.transport.is_open(fs));

	ConnId anon = h.transport.connect();
	g = h.call(anon, Op::kHello, hello_body(0, Role::kSwap));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EINVAL));
	EXPECT_FALSE(h.transport.is_open(anon));

	// ctl clients need no id.
	ConnId ctl = h.transport.connect();
	g = h.call(ctl, Op::kHello, hello_body(0, Role::kCtl));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), 0u);
}

TEST(MemdHello, RequestsBeforeHelloCloseTheConnection)
{
	Harness h;
	ConnId c = h.transport.connect();
	auto g = h.call(c, Op::kMemAlloc, MemAlloc{kMiB, 0});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTO));
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(h.pool.used(), 0u);
}

TEST(MemdHello, SecondHelloIsAnError)
{
	Harness h;
	ConnId c = h.client(5);
	auto g = h.call(c, Op::kHello, hello_body(6));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTO));
	EXPECT_TRUE(h.transport.is_open(c));
}

TEST(MemdHello, AuthIsNotOfferedWithoutKeys)
{
	Harness h;
	ConnId c = h.client(5);
	auto g = h.call(c, Op::kAuth, Auth{{}, "client"});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EOPNOTSUPP));
}

// ---------------------------------------------------------------- memory

TEST(MemdMem, InfoReportsCapacity)
{
	Harness h(false, 64 * kMiB, 4 * kMiB);
	ConnId c = h.client(1);
	MemInfo m = h.info(c);
	EXPECT_EQ(m.capacity, 64 * kMiB);
	EXPECT_EQ(m.free, 64 * kMiB);
	EXPECT_EQ(m.slab_size, 4 * kMiB);
	EXPECT_EQ(m.nr_clients, 1u);
	h.alloc_ok(c, 4 * kMiB, 0);
	h.client(2);
	m = h.info(c);
	EXPECT_EQ(m.free, 60 * kMiB);
	EXPECT_EQ(m.nr_clients, 2u);
}

TEST(MemdMem, AllocFreeRoundTrip)
{
	Harness h(true);
	ConnId c = h.client(1);
	MemSlab s = h.alloc_ok(c, 4 * kMiB, 17);
	EXPECT_NE(s.slab_id, 0u);
	EXPECT_EQ(s.tag, 17u);
	EXPECT_EQ(s.size, 4 * kMiB);
	EXPECT_NE(s.rkey, 0u);
	EXPECT_NE(s.addr, 0u);
	EXPECT_EQ(s.flags, 0u);
	EXPECT_EQ(h.transport.exposed(c), 1u);
	auto g = h.call(c, Op::kMemFree, MemFree{s.slab_id});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), 0u);
	EXPECT_EQ(h.transport.exposed(c), 0u);	// key withdrawn
	EXPECT_EQ(h.pool.used(), 0u);
	g = h.call(c, Op::kMemFree, MemFree{s.slab_id});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(ENOENT));
}

TEST(MemdMem, AllocIsIdempotentPerTag)
{
	Harness h(true);
	ConnId c = h.client(1);
	MemSlab a = h.alloc_ok(c, 4 * kMiB, 3);
	MemSlab b = h.alloc_ok(c, 4 * kMiB, 3);
	EXPECT_EQ(b.slab_id, a.slab_id);
	EXPECT_EQ(b.rkey, a.rkey);
	EXPECT_EQ(b.flags, kSlabResumed);
	EXPECT_EQ(h.transport.exposed(c), 1u);
	EXPECT_EQ(h.alloc_err(c, 2 * kMiB, 3), static_cast<std::uint32_t>(EEXIST));
	EXPECT_EQ(h.pool.used(), 4 * kMiB);
}

TEST(MemdMem, AllocErrors)
{
	Harness h(false, 16 * kMiB, 4 * kMiB);
	ConnId c = h.client(1);
	for (std::uint64_t t = 0; t < 4; t++)
		h.alloc_ok(c, 4 * kMiB, t);
	EXPECT_EQ(h.alloc_err(c, 4 * kMiB, 9), static_cast<std::uint32_t>(ENOSPC));
	EXPECT_EQ(h.alloc_err(c, 8 * kMiB, 10), static_cast<std::uint32_t>(EINVAL));
	EXPECT_EQ(h.info(c).free, 0u);
	// Another client is refused too, and learns nothing else.
	ConnId d = h.client(2);
	EXPECT_EQ(h.alloc_err(d, kPageSize, 0), static_cast<std::uint32_t>(ENOSPC));
}

TEST(MemdMem, ExposeFailureFreesTheNewSlab)
{
	Harness h(true);
	ConnId c = h.client(1);
	h.transport.expose_error = ENOMEM;
	EXPECT_EQ(h.alloc_err(c, kMiB, 0), static_cast<std::uint32_t>(ENOMEM));
	EXPECT_EQ(h.pool.used(), 0u);
}

TEST(MemdMem, CtlClientsCannotAllocate)
{
	Harness h;
	ConnId c = h.client(0, Role::kCtl);
	EXPECT_EQ(h.alloc_err(c, kMiB, 0), static_cast<std::uint32_t>(EPERM));
	auto g = h.call(c, Op::kMemFree, MemFree{1});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPERM));
	EXPECT_EQ(h.info(c).capacity, 64 * kMiB);
}

TEST(MemdMem, CannotFreeAnotherClientsSlab)
{
	Harness h;
	ConnId a = h.client(1);
	ConnId b = h.client(2);
	MemSlab s = h.alloc_ok(a, kMiB, 0);
	auto g = h.call(b, Op::kMemFree, MemFree{s.slab_id});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(ENOENT));
	EXPECT_EQ(h.pool.used(), kMiB);
}

TEST(MemdMem, KeysArePerConnection)
{
	Harness h(true);
	ConnId a = h.client(1);
	ConnId b = h.client(2);
	MemSlab sa = h.alloc_ok(a, kMiB, 0);
	MemSlab sb = h.alloc_ok(b, kMiB, 0);
	EXPECT_NE(sa.slab_id, sb.slab_id);
	EXPECT_NE(sa.rkey, sb.rkey);
	EXPECT_NE(sa.addr, sb.addr);
	EXPECT_EQ(h.transport.exposed(a), 1u);
	EXPECT_EQ(h.transport.exposed(b), 1u);
}

// ---------------------------------------------------------------- read/write

class MemdRw : public testing::Test {
protected:
	Harness h{false, 16 * kMiB, 4 * kMiB};
	ConnId c = h.client(1);
	MemSlab s = h.alloc_ok(c, 4 * kMiB, 0);

	std::uint32_t write(ConnId conn, std::uint64_t slab, std::uint64_t off, const Bytes &data)
	{
		auto g = h.call(conn, Op::kMemWrite,
				MemWrite{MemRw{slab, off, static_cast<std::uint32_t>(data.size())}, data});
		return g ? g->status() : 0xffffffff;
	}
	std::uint32_t read(ConnId conn, std::uint64_t slab, std::uint64_t off, std::uint32_t len,
			   Bytes *out = nullptr)
	{
		auto g = h.call(conn, Op::kMemRead, MemRw{slab, off, len});
		if (!g)
			return 0xffffffff;
		if (g->status() == 0 && out) {
			ByteSpan d = g->body<Data>().bytes;
			out->assign(d.begin(), d.end());
		}
		return g->status();
	}
};

TEST_F(MemdRw, WriteThenReadBack)
{
	Bytes data = pattern(kMaxRwLen, 3);
	ASSERT_EQ(write(c, s.slab_id, 0, data), 0u);
	Bytes last = pattern(kPageSize, 4);
	ASSERT_EQ(write(c, s.slab_id, s.size - kPageSize, last), 0u);
	Bytes got;
	ASSERT_EQ(read(c, s.slab_id, 0, kMaxRwLen, &got), 0u);
	EXPECT_EQ(got, data);
	ASSERT_EQ(read(c, s.slab_id, s.size - kPageSize, kPageSize, &got), 0u);
	EXPECT_EQ(got, last);
	// Untouched pages read as zeros.
	ASSERT_EQ(read(c, s.slab_id, 2 * kMiB, kPageSize, &got), 0u);
	EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_F(MemdRw, OutOfBounds)
{
	const Bytes page = pattern(kPageSize, 1);
	EXPECT_EQ(write(c, s.slab_id, s.size, page), static_cast<std::uint32_t>(EINVAL));
	EXPECT_EQ(read(c, s.slab_id, s.size, kPageSize), static_cast<std::uint32_t>(EINVAL));
	EXPECT_EQ(read(c, s.slab_id, s.size - kPageSize, 2 * kPageSize),
		  static_cast<std::uint32_t>(EINVAL));
	EXPECT_EQ(read(c, s.slab_id, (UINT64_MAX / kPageSize - 1) * kPageSize, kPageSize),
		  static_cast<std::uint32_t>(EINVAL));
	EXPECT_EQ(write(c, s.slab_id, 1ull << 40, page), static_cast<std::uint32_t>(EINVAL));
	// Misaligned offsets and lengths: MemdHostile.BadFields.
}

TEST_F(MemdRw, WrongAndForeignSlabIds)
{
	EXPECT_EQ(read(c, s.slab_id + 100, 0, kPageSize), static_cast<std::uint32_t>(ENOENT));
	EXPECT_EQ(read(c, 0, 0, kPageSize), static_cast<std::uint32_t>(ENOENT));
	ConnId other = h.client(2);
	ASSERT_EQ(write(c, s.slab_id, 0, pattern(kPageSize, 9)), 0u);
	EXPECT_EQ(read(other, s.slab_id, 0, kPageSize), static_cast<std::uint32_t>(ENOENT));
	EXPECT_EQ(write(other, s.slab_id, 0, pattern(kPageSize, 1)),
		  static_cast<std::uint32_t>(ENOENT));
	Bytes got;
	ASSERT_EQ(read(c, s.slab_id, 0, kPageSize, &got), 0u);
	EXPECT_EQ(got, pattern(kPageSize, 9));
	// A freed slab is gone.
	ASSERT_EQ(h.call(c, Op::kMemFree, MemFree{s.slab_id})->status(), 0u);
	EXPECT_EQ(read(c, s.slab_id, 0, kPageSize), static_cast<std::uint32_t>(ENOENT));
}

TEST(MemdRwRdma, MessagesAreRefusedOnOneSidedTransports)
{
	Harness h(true);
	ConnId c = h.client(1);
	MemSlab s = h.alloc_ok(c, kMiB, 0);
	auto g = h.call(c, Op::kMemRead, MemRw{s.slab_id, 0, kPageSize});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EOPNOTSUPP));
	Bytes page = pattern(kPageSize, 1);
	g = h.call(c, Op::kMemWrite, MemWrite{MemRw{s.slab_id, 0, kPageSize}, page});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EOPNOTSUPP));
}

// ---------------------------------------------------------------- reconnect

TEST(MemdResume, ReconnectWithinGraceResumes)
{
	Harness h(true, 16 * kMiB, 4 * kMiB, /*grace=*/30);
	ConnId c = h.client(0xabc);
	MemSlab s = h.alloc_ok(c, 4 * kMiB, 7);
	Slab *slab = h.pool.find(h.owner(0xabc), s.slab_id);
	ASSERT_NE(slab, nullptr);
	std::memset(slab->mem, 0x3c, kPageSize);
	h.transport.drop(c);	// vanished, no BYE
	EXPECT_EQ(h.service->nr_clients(), 0u);
	EXPECT_EQ(h.pool.used(), 4 * kMiB);

	h.clock.advance(seconds(20));
	h.service->tick();
	ConnId c2 = h.client(0xabc);
	MemSlab r = h.alloc_ok(c2, 4 * kMiB, 7);
	EXPECT_EQ(r.slab_id, s.slab_id);
	EXPECT_EQ(r.flags, kSlabResumed);
	EXPECT_EQ(r.addr, s.addr);
	EXPECT_NE(r.rkey, s.rkey);	// a new key, valid on the new connection
	EXPECT_EQ(h.transport.exposed(c2), 1u);
	EXPECT_EQ(h.pool.find(h.owner(0xabc), s.slab_id)->mem[0], std::byte{0x3c});
	// Attached again: no expiry while connected.
	h.clock.advance(seconds(100));
	h.service->tick();
	EXPECT_EQ(h.pool.used(), 4 * kMiB);
}

TEST(MemdResume, AfterGraceTheSlabsAreFreed)
{
	Harness h(false, 16 * kMiB, 4 * kMiB, /*grace=*/30);
	ConnId c = h.client(0xabc);
	MemSlab s = h.alloc_ok(c, 4 * kMiB, 7);
	h.transport.drop(c);
	h.clock.advance(seconds(31));
	h.service->tick();
	EXPECT_EQ(h.pool.used(), 0u);
	ConnId c2 = h.client(0xabc);
	MemSlab r = h.alloc_ok(c2, 4 * kMiB, 7);
	EXPECT_NE(r.slab_id, s.slab_id);
	EXPECT_EQ(r.flags, 0u);
	EXPECT_EQ(h.info(c2).free, 12 * kMiB);
}

TEST(MemdResume, UnclaimedSlabsStillExpireAfterReconnect)
{
	Harness h(false, 16 * kMiB, 4 * kMiB, /*grace=*/30);
	ConnId c = h.client(0xabc);
	h.alloc_ok(c, 4 * kMiB, 1);
	MemSlab keep = h.alloc_ok(c, 4 * kMiB, 2);
	h.transport.drop(c);
	ConnId c2 = h.client(0xabc);
	h.alloc_ok(c2, 4 * kMiB, 2);	// claims tag 2 only
	// Detached slabs are not reachable by id until claimed.
	auto g = h.call(c2, Op::kMemRead, MemRw{keep.slab_id - 1, 0, kPageSize});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(ENOENT));
	h.clock.advance(seconds(31));
	h.service->tick();
	EXPECT_EQ(h.pool.used(), 4 * kMiB);
	EXPECT_EQ(h.pool.slabs_of(h.owner(0xabc)).size(), 1u);
	EXPECT_EQ(h.pool.slabs_of(h.owner(0xabc))[0]->id, keep.slab_id);
}

// Only a connection of the same owner, (identity, client id), replaces a
// live one: see MemdAuthz.SameClientIdOfAnotherIdentityTakesNothing for
// another identity with the same id.
TEST(MemdResume, ANewConnectionOfTheSameOwnerReplacesALiveOne)
{
	Harness h(true);
	h.with_keys();
	ConnId c = h.client(0xabc);
	MemSlab s = h.alloc_ok(c, kMiB, 0);
	ConnId c2 = h.client(0xabc);	// the old one is presumed dead
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(h.transport.exposed(c), 0u);
	MemSlab r = h.alloc_ok(c2, kMiB, 0);
	EXPECT_EQ(r.slab_id, s.slab_id);
	EXPECT_EQ(r.flags, kSlabResumed);
	EXPECT_EQ(h.service->nr_clients(), 1u);
	EXPECT_EQ(h.pool.find(h.owner(0xabc), s.slab_id)->attached, true);
}

TEST(MemdResume, ByeFreesAtOnce)
{
	Harness h(true);
	ConnId c = h.client(0xabc);
	h.alloc_ok(c, kMiB, 0);
	h.alloc_ok(c, kMiB, 1);
	h.transport.deliver(c, request(Op::kBye, 99));
	EXPECT_TRUE(h.transport.sent(c).empty());	// BYE has no reply
	EXPECT_FALSE(h.transport.is_open(c));
	EXPECT_EQ(h.pool.used(), 0u);
	EXPECT_EQ(h.transport.unexposed, 2u);
}

TEST(MemdResume, ZeroGraceFreesOnDisconnect)
{
	Harness h(false, 16 * kMiB, 4 * kMiB, /*grace=*/0);
	ConnId c = h.client(0xabc);
	h.alloc_ok(c, kMiB, 0);
	h.transport.drop(c);
	EXPECT_EQ(h.pool.used(), 0u);
}

// ---------------------------------------------------------------- status etc.

// The whole node, as an admin sees it (what others see:
// MemdAuthz.StatusShowsOthersNothing).
TEST(MemdStatus, JsonDescribesTheNodeToAnAdmin)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30);
	h.with_keys();
	h.service->set_listen("198.18.1.2:7470");
	ConnId a = h.client(0x1111);
	h.alloc_ok(a, 4 * kMiB, 0);
	h.alloc_ok(a, 4 * kMiB, 1);
	ConnId b = h.client(0x2222);
	h.alloc_ok(b, 4 * kMiB, 0);
	h.transport.drop(b);
	ConnId ctl = h.client(0, Role::kCtl, "admin");
	auto g = h.call(ctl, Op::kStatus);
	ASSERT_TRUE(g && g->status() == 0);
	ByteSpan d = g->body<Data>().bytes;
	std::string j(reinterpret_cast<const char *>(d.data()), d.size());
	for (const char *want : {"\"capacity\":67108864", "\"free\":54525952", "\"used\":12582912",
				 "\"slab_size\":4194304", "\"grace_s\":30", "\"nr_clients\":2",
				 "\"slabs\":3", "\"transport\":\"fake\"",
				 "\"listen\":\"198.18.1.2:7470\"",
				 "\"client_id\":\"0000000000001111\"", "\"role\":\"swap\"",
				 "\"client_id\":\"0000000000002222\",\"identity\":\"client\","
				 "\"connected\":false,\"slabs\":1",
				 "\"expires_in_s\":30", "\"role\":\"ctl\"", "\"auth\":\"on\"",
				 "\"identity\":\"admin\""})
		EXPECT_NE(j.find(want), std::string::npos) << want << " not in " << j;
	EXPECT_EQ(j.front(), '{');
	EXPECT_EQ(j.back(), '}');
}

TEST(MemdStatus, NamesAreEscapedAndLongListsDropped)
{
	Harness h;
	ConnId c = h.transport.connect();
	std::string evil = "a\"b\\c\n\x01\xff";
	ASSERT_EQ(h.call(c, Op::kHello, hello_body(5, Role::kSwap, 0, evil))->status(), 0u);
	std::string j = h.service->status_json();
	// Bytes, not UTF-8: 0xff is the code point U+00FF.
	EXPECT_NE(j.find(R"("name":"a\"b\\c\n\u0001\u00ff")"), std::string::npos) << j;
	for (int i = 0; i < 50; i++)
		h.client(100 + i);
	std::string small = h.service->status_json(600);
	EXPECT_LE(small.size(), 600u);
	EXPECT_NE(small.find("\"clients_omitted\":51"), std::string::npos) << small;
}

TEST(MemdStatus, StatusFitsTheTransportsFrames)
{
	Harness h(true);
	FakeTransport small(true, 512);
	SlabPool pool(64 * kMiB, 4 * kMiB, h.clock, seconds(1));
	MemService svc(small, pool, ServiceOptions{});
	std::string err;
	small.listen("x", 0, &svc, err);
	std::vector<ConnId> cs;
	for (int i = 0; i < 20; i++) {
		ConnId c = small.connect();
		small.deliver(c, request(Op::kHello, 1, hello_body(1000 + i)));
		cs.push_back(c);
	}
	small.deliver(cs[0], request(Op::kStatus, 2));
	auto &q = small.sent(cs[0]);
	ASSERT_EQ(q.size(), 2u);
	EXPECT_LE(q.back().size(), 512u);
	EXPECT_TRUE(small.is_open(cs[0]));
}

TEST(MemdHeartbeat, AnsweredAndSent)
{
	// No idle timeout here (memd_limits_test.cpp has it).
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/15, /*idle=*/0);
	ConnId c = h.client(1);
	auto g = h.call(c, Op::kHeartbeat);
	EXPECT_EQ(g->status(), 0u);
	h.clock.advance(seconds(10));
	h.service->tick();
	EXPECT_FALSE(h.next(c));
	// Silent for a period: memd probes, once per period.
	h.clock.advance(seconds(5));
	h.service->tick();
	auto probe = h.next(c);
	ASSERT_TRUE(probe);
	EXPECT_EQ(probe->hdr.opcode, static_cast<std::uint16_t>(Op::kHeartbeat));
	EXPECT_FALSE(probe->hdr.is_reply());
	h.service->tick();
	EXPECT_FALSE(h.next(c));
	// Clients need not answer and are not closed for it.
	h.clock.advance(seconds(15));
	h.service->tick();
	EXPECT_TRUE(h.next(c));
	h.clock.advance(seconds(3600));
	h.service->tick();
	h.transport.settle();
	EXPECT_TRUE(h.transport.is_open(c));
	// An answer is a reply and gets none.
	Result<Bytes> ans = make_reply(Op::kHeartbeat, probe->hdr.req_id);
	ASSERT_TRUE(ans.ok());
	while (h.next(c))
		;
	h.transport.deliver(c, *ans);
	EXPECT_FALSE(h.next(c));
}

TEST(MemdHeartbeat, ConnectionsWithoutHelloAreClosed)
{
	Harness h(false, 64 * kMiB, 4 * kMiB, 30, /*heartbeat=*/0);
	ConnId c = h.client(1);
	h.alloc_ok(c, kMiB, 0);
	ConnId pre = h.transport.connect();	// never says hello
	h.clock.advance(seconds(29));
	h.service->tick();
	h.transport.settle();
	EXPECT_TRUE(h.transport.is_open(pre));
	h.clock.advance(seconds(1));
	h.service->tick();
	h.transport.settle();
	EXPECT_FALSE(h.transport.is_open(pre));
	EXPECT_TRUE(h.transport.is_open(c));
	EXPECT_FALSE(h.next(c));	// heartbeats off
}

TEST(MemdShutdown, SaysByeToEveryone)
{
	Harness h;
	ConnId a = h.client(1);
	ConnId b = h.client(2);
	ConnId pre = h.transport.connect();
	h.service->shutdown();
	for (ConnId c : {a, b}) {
		auto g = h.next(c);
		ASSERT_TRUE(g);
		EXPECT_EQ(g->hdr.opcode, static_cast<std::uint16_t>(Op::kBye));
	}
	EXPECT_FALSE(h.next(pre));
	h.transport.settle();
	EXPECT_EQ(h.transport.connections(), 0u);
	EXPECT_EQ(h.service->nr_sessions(), 0u);
}

}  // namespace
}  // namespace disagg::memd::test

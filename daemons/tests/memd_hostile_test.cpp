// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Malformed and hostile input to the memory node: truncated frames, huge
// lengths, garbage, bad fields, replies where requests belong, and a
// bounded fuzz run. The service must answer with an error or close the
// connection; it must never crash, never send a frame that does not
// decode, and never hand out memory it does not have.
#include "memd_test_util.hpp"
#include "rdma_transport.hpp"

#include <cstring>
#include <random>

namespace disagg::memd::test {
namespace {

Bytes with_u32(Bytes b, std::size_t off, std::uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = static_cast<std::byte>(v >> (8 * i));
	return b;
}

class MemdHostile : public testing::Test {
protected:
	Harness h;
	ConnId c = h.client(1);

	// @frame closes the connection without a reply.
	void expect_closed_silently(const Bytes &frame)
	{
		ConnId x = h.client(2);
		auto g = h.send(x, frame);
		EXPECT_FALSE(g) << "unexpected reply";
		EXPECT_FALSE(h.transport.is_open(x));
		EXPECT_TRUE(h.transport.is_open(c));
	}
	// @frame gets error @err and the connection stays.
	void expect_error(const Bytes &frame, std::uint32_t err)
	{
		auto g = h.send(c, frame);
		ASSERT_TRUE(g);
		EXPECT_EQ(g->status(), err);
		EXPECT_TRUE(h.transport.is_open(c));
	}
};

TEST_F(MemdHostile, ShortFrames)
{
	Bytes f = request(Op::kMemInfo, 1);
	for (std::size_t n : {0u, 1u, 4u, 23u})
		expect_closed_silently(Bytes(f.begin(), f.begin() + n));
}

TEST_F(MemdHostile, BadMagic)
{
	Bytes f = request(Op::kMemInfo, 1);
	f[0] = std::byte{'X'};
	expect_closed_silently(f);
}

TEST_F(MemdHostile, HugeLength)
{
	for (std::uint32_t len : {kMaxPayload + 1, 0x80000000u, 0xffffffffu})
		expect_closed_silently(with_u32(request(Op::kMemInfo, 1), offsetof(dg_hdr, length), len));
}

TEST_F(MemdHostile, TruncatedPayload)
{
	Bytes f = request(Op::kMemAlloc, 1, MemAlloc{kMiB, 0});
	f.resize(f.size() - 1);
	expect_closed_silently(f);
	// Length says more than a whole message transport delivered.
	expect_closed_silently(with_u32(request(Op::kMemInfo, 1), offsetof(dg_hdr, length), 100));
}

TEST_F(MemdHostile, TrailingBytes)
{
	Bytes f = request(Op::kMemInfo, 1);
	f.push_back(std::byte{0});
	expect_closed_silently(f);
}

TEST_F(MemdHostile, UnknownOpcodes)
{
	for (std::uint16_t op : {0x0000, 0x0006, 0x01ff, 0x0200, 0x7fff})
		expect_error(with_u32(request(Op::kMemInfo, 1), offsetof(dg_hdr, opcode), op),
			     EOPNOTSUPP);
	// MEM_EVICT goes from server to client only.
	expect_error(request(Op::kMemEvict, 1, MemFree{1}), EOPNOTSUPP);
}

TEST_F(MemdHostile, BadFields)
{
	// A status on a request.
	expect_error(with_u32(request(Op::kMemInfo, 1), offsetof(dg_hdr, status), 5), EINVAL);
	// Payload of the wrong size.
	Bytes f = request(Op::kMemFree, 1, MemFree{1});
	f.push_back(std::byte{0});
	f = with_u32(f, offsetof(dg_hdr, length), kMemFreeSize + 1);
	expect_error(f, EINVAL);
	// Reserved field set.
	f = request(Op::kMemRead, 1, MemRw{1, 0, kPageSize});
	f[kHdrSize + offsetof(dg_mem_rw, reserved)] = std::byte{1};
	expect_error(f, EINVAL);
	// Zero and unaligned sizes.
	f = request(Op::kMemAlloc, 1, MemAlloc{kMiB, 0});
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_alloc, size), 0), EINVAL);
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_alloc, size), 4097), EINVAL);
	// A huge allocation is refused by size, not attempted.
	Bytes big = request(Op::kMemAlloc, 1, MemAlloc{kMiB, 0});
	for (std::size_t i = 0; i < 8; i++)
		big[kHdrSize + offsetof(dg_mem_alloc, size) + i] = std::byte{0xff};
	big[kHdrSize + offsetof(dg_mem_alloc, size)] = std::byte{0};	// page aligned
	big[kHdrSize + offsetof(dg_mem_alloc, size) + 1] = std::byte{0};
	expect_error(big, EINVAL);
	// MEM_WRITE whose data is shorter than its len.
	Bytes page = pattern(kPageSize, 1);
	f = request(Op::kMemWrite, 1, MemWrite{MemRw{1, 0, kPageSize}, page});
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_rw, len), 2 * kPageSize), EINVAL);
	// Misaligned or empty ranges.
	f = request(Op::kMemRead, 1, MemRw{1, 0, kPageSize});
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_rw, offset), 100), EINVAL);
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_rw, len), 100), EINVAL);
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_rw, len), 0), EINVAL);
	// Read longer than one payload can carry.
	f = request(Op::kMemRead, 1, MemRw{1, 0, kPageSize});
	expect_error(with_u32(f, kHdrSize + offsetof(dg_mem_rw, len), 256 * kPageSize), EINVAL);
	EXPECT_EQ(h.pool.used(), 0u);
}

TEST_F(MemdHostile, BadHello)
{
	ConnId x = h.transport.connect();
	Bytes f = request(Op::kHello, 1, hello_body(3));
	Bytes longname = f;
	longname[kHdrSize + offsetof(dg_hello, name_len)] = std::byte{65};
	auto g = h.send(x, longname);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EINVAL));
	Bytes role = with_u32(f, kHdrSize + offsetof(dg_hello, role), 99);
	g = h.send(x, role);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EINVAL));
	// Still not past the handshake: anything else closes.
	g = h.send(x, request(Op::kMemInfo, 2));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTO));
	EXPECT_FALSE(h.transport.is_open(x));
}

TEST_F(MemdHostile, RepliesAreIgnored)
{
	Result<Bytes> r = make_reply(Op::kMemInfo, 1, MemInfo{1, 1, kPageSize, 0});
	ASSERT_TRUE(r.ok());
	h.transport.deliver(c, *r);
	EXPECT_TRUE(h.transport.sent(c).empty());
	Result<Bytes> e = make_error_reply(Op::kMemAlloc, 1, ENOSPC);
	h.transport.deliver(c, *e);
	EXPECT_TRUE(h.transport.sent(c).empty());
	EXPECT_TRUE(h.transport.is_open(c));
}

// Random bytes and mutated valid frames, on many connections: every reply
// decodes, accounting holds, nothing crashes.
TEST(MemdFuzz, MutatedFramesNeverBreakTheService)
{
	Harness h(false, 32 * kMiB, 4 * kMiB);
	std::mt19937_64 rng(12345);
	std::vector<Bytes> seeds = {
		request(Op::kHello, 1, hello_body(7)),
		request(Op::kMemInfo, 2),
		request(Op::kMemAlloc, 3, MemAlloc{4 * kMiB, 1}),
		request(Op::kMemAlloc, 3, MemAlloc{kPageSize, 2}),
		request(Op::kMemFree, 4, MemFree{1}),
		request(Op::kMemRead, 5, MemRw{1, 0, kPageSize}),
		request(Op::kMemWrite, 6, MemWrite{MemRw{1, 4096, kPageSize}, pattern(kPageSize, 1)}),
		request(Op::kStatus, 7),
		request(Op::kHeartbeat, 8),
	};
	ConnId c = h.client(7);
	std::size_t replies = 0, closes = 0;
	for (int i = 0; i < 20000; i++) {
		if (!h.transport.is_open(c)) {
			closes++;
			c = h.client(7 + (i % 3));
		}
		Bytes f;
		switch (rng() % 4) {
		case 0: {	// garbage
			f.resize(rng() % 200);
			for (auto &b : f)
				b = static_cast<std::byte>(rng());
			break;
		}
		default: {	// a valid frame with a few bytes changed
			f = seeds[rng() % seeds.size()];
			const int flips = 1 + static_cast<int>(rng() % 4);
			for (int k = 0; k < flips; k++) {
				std::size_t at = rng() % f.size();
				// Mostly payload and header fields, magic rarely.
				if (at < 4 && rng() % 8)
					at = 4 + rng() % (f.size() - 4);
				f[at] = static_cast<std::byte>(rng());
			}
			if (rng() % 16 == 0)
				f.resize(rng() % f.size());
			break;
		}
		}
		h.transport.deliver(c, f);
		while (auto g = h.next(c))
			replies++;
		ASSERT_LE(h.pool.used(), h.pool.capacity());
		if (i % 1000 == 0) {
			h.clock.advance(std::chrono::seconds(1));
			h.service->tick();
		}
	}
	EXPECT_GT(replies, 1000u);
	EXPECT_GT(closes, 10u);
	// The service still works.
	ConnId ok = h.client(99);
	EXPECT_EQ(h.info(ok).capacity, 32 * kMiB);
}

// Connect-request private data (struct dg_cm_private) is input from the
// network too.
TEST(MemdCmPrivate, Decodes)
{
	std::uint8_t p[56] = {};	// rdma_cm pads to its private data size
	CmPrivate out;
	ASSERT_TRUE(parse_cm_private(nullptr, 0, out));
	EXPECT_FALSE(out.present);
	ASSERT_TRUE(parse_cm_private(p, sizeof(p), out));
	EXPECT_FALSE(out.present);
	ASSERT_TRUE(parse_cm_private(p, 10, out));	// too short to be one
	EXPECT_FALSE(out.present);

	auto put = [&p](std::size_t off, std::uint64_t v, std::size_t n) {
		for (std::size_t i = 0; i < n; i++)
			p[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
	};
	put(offsetof(dg_cm_private, magic), kMagic, 4);
	put(offsetof(dg_cm_private, major), kMajor, 1);
	put(offsetof(dg_cm_private, qid), 2, 2);
	put(offsetof(dg_cm_private, nr_queues), 4, 2);
	put(offsetof(dg_cm_private, client_id), 0x1122334455667788ull, 8);
	ASSERT_TRUE(parse_cm_private(p, sizeof(p), out));
	EXPECT_TRUE(out.present);
	EXPECT_EQ(out.qid, 2);
	EXPECT_EQ(out.nr_queues, 4);
	EXPECT_EQ(out.client_id, 0x1122334455667788ull);
	EXPECT_EQ(out.token, Token{});
	for (std::size_t i = 0; i < kTokenLen; i++)
		p[offsetof(dg_cm_private, token) + i] = static_cast<std::uint8_t>(0xa0 + i);
	ASSERT_TRUE(parse_cm_private(p, sizeof(p), out));
	EXPECT_EQ(out.token[0], 0xa0);
	EXPECT_EQ(out.token[kTokenLen - 1], 0xa0 + kTokenLen - 1);
	// Queue 0 starts a session: it carries no token.
	put(offsetof(dg_cm_private, qid), 0, 2);
	EXPECT_FALSE(parse_cm_private(p, sizeof(p), out));
	put(offsetof(dg_cm_private, qid), 2, 2);

	auto bad = [&](std::size_t off, std::uint64_t v, std::size_t n) {
		std::uint8_t save[8];
		std::memcpy(save, p + off, n);
		put(off, v, n);
		EXPECT_FALSE(parse_cm_private(p, sizeof(p), out)) << off << " " << v;
		std::memcpy(p + off, save, n);
	};
	bad(offsetof(dg_cm_private, magic), 0x12345678, 4);
	bad(offsetof(dg_cm_private, major), kMajor + 1, 1);
	bad(offsetof(dg_cm_private, qid), 4, 2);		// qid >= nr_queues
	bad(offsetof(dg_cm_private, nr_queues), 0, 2);
	bad(offsetof(dg_cm_private, nr_queues), kRdmaMaxQueues + 1, 2);
	bad(offsetof(dg_cm_private, nr_queues), 0xffff, 2);
	bad(offsetof(dg_cm_private, reserved), 1, 1);
	ASSERT_TRUE(parse_cm_private(p, sizeof(p), out));
}

TEST(MemdCmPrivate, RandomBytesNeverCrash)
{
	std::mt19937_64 rng(7);
	std::uint8_t p[56];
	for (int i = 0; i < 20000; i++) {
		for (auto &b : p)
			b = static_cast<std::uint8_t>(rng());
		if (rng() % 2)
			std::memcpy(p, "DGAG", 4);
		CmPrivate out;
		if (parse_cm_private(p, rng() % sizeof(p), out) && out.present) {
			EXPECT_LT(out.qid, out.nr_queues);
			EXPECT_LE(out.nr_queues, kRdmaMaxQueues);
		}
	}
}

}  // namespace
}  // namespace disagg::memd::test

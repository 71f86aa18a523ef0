// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// One-sided file data (DG_FEAT_RDMA_FS, DG_FS_IO_SEGS): decode_fs_segs()'s
// bounds, and stord's segment path over the fake transport, which plays
// the client's registered memory: negotiation, READ and WRITE through
// staging slots, invalidation on request, slot exhaustion (requests wait,
// in order), refusals, and a failed transfer that drops the connection
// while the daemon serves the next client.
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

namespace disagg::stord::test {
namespace {

FsReq io_req(std::string_view path, std::uint32_t flags, std::uint32_t count, ByteSpan segs,
	     std::uint64_t offset = 0)
{
	FsReq r = req(path);
	r.flags = flags;
	r.count = count;
	r.offset = offset;
	r.data = segs;
	return r;
}

// The segments of @n equal pieces (the last takes the rest) of @mem.
std::vector<FsSeg> split(std::span<std::byte> mem, unsigned n, std::uint32_t rkey)
{
	std::vector<FsSeg> v;
	std::size_t pos = 0;
	for (unsigned i = 0; i < n; i++) {
		const std::size_t len = i + 1 == n ? mem.size() - pos : mem.size() / n;
		v.push_back(FsSeg{reinterpret_cast<std::uintptr_t>(mem.data() + pos),
				  static_cast<std::uint32_t>(len), rkey});
		pos += len;
	}
	return v;
}

Bytes pattern(std::size_t n, unsigned seed)
{
	Bytes b(n);
	std::uint32_t x = seed * 2654435761u + 1;
	for (auto &c : b) {
		x = x * 1103515245u + 12345u;
		c = static_cast<std::byte>(x >> 16);
	}
	return b;
}

TEST(FsSegs, DecodeBounds)
{
	std::byte mem[64];
	auto good = split({mem, sizeof(mem)}, 3, 7);
	Bytes b = encode_fs_segs(good);
	FsReq r = io_req("f", DG_FS_IO_SEGS, 64, b);
	Result<FsSegs> s = decode_fs_segs(r);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->nr, 3u);
	EXPECT_EQ(s->total, 64u);
	EXPECT_EQ(s->view()[2], good[2]);

	auto refused = [](const std::vector<FsSeg> &v, std::uint32_t count,
			  std::uint32_t flags = DG_FS_IO_SEGS, std::size_t cut = 0) {
		Bytes e = encode_fs_segs(v);
		e.resize(e.size() - cut);
		return !decode_fs_segs(io_req("f", flags, count, e));
	};
	EXPECT_TRUE(refused({}, 0));					// none
	EXPECT_TRUE(refused(good, 64, 0));				// no flag
	EXPECT_TRUE(refused(good, 63));					// sum != count
	EXPECT_TRUE(refused(good, 65));
	EXPECT_TRUE(refused(good, 64, DG_FS_IO_SEGS, 1));		// not whole records
	std::vector<FsSeg> five(5, FsSeg{0x1000, 1, 7});
	EXPECT_TRUE(refused(five, 5));					// 5 segments
	five.pop_back();
	EXPECT_FALSE(refused(five, 4));					// 4 are fine
	EXPECT_TRUE(refused({FsSeg{0x1000, 0, 7}, FsSeg{0x2000, 8, 7}}, 8));	// empty one
	EXPECT_TRUE(refused({FsSeg{UINT64_MAX - 3, 8, 7}}, 8));		// wraps
	EXPECT_TRUE(refused({FsSeg{UINT64_MAX - 7, 8, 7}}, 8));		// end is 2^64
	EXPECT_FALSE(refused({FsSeg{UINT64_MAX - 8, 8, 7}}, 8));	// end fits
	// 1 MiB in all at most, whatever the split.
	const std::uint32_t half = kFsRdmaIoMax / 2;
	EXPECT_FALSE(refused({FsSeg{0x1000, half, 7}, FsSeg{0x900000, half, 7}}, kFsRdmaIoMax));
	EXPECT_TRUE(refused({FsSeg{0x1000, half, 7}, FsSeg{0x900000, half + 1, 7}},
			    kFsRdmaIoMax + 1));
	EXPECT_TRUE(refused({FsSeg{0x1000, kFsRdmaIoMax + 1, 7}}, kFsRdmaIoMax + 1));
	// Lengths that would overflow a 32-bit sum.
	EXPECT_TRUE(refused({FsSeg{0x1000, 0x80000000u, 7}, FsSeg{0x1000, 0x80000000u, 7}}, 0));
	// Invalidation: one rkey for all.
	EXPECT_FALSE(refused(good, 64, DG_FS_IO_SEGS | DG_FS_IO_INVALIDATE));
	auto mixed = good;
	mixed[1].rkey = 8;
	EXPECT_FALSE(refused(mixed, 64));
	EXPECT_TRUE(refused(mixed, 64, DG_FS_IO_SEGS | DG_FS_IO_INVALIDATE));

	// The READ reply's count.
	Bytes rr = encode_fs_rdma_read_reply(4096);
	ASSERT_TRUE(decode_fs_rdma_read_reply(rr));
	EXPECT_EQ(*decode_fs_rdma_read_reply(rr), 4096u);
	rr[5] = std::byte{1};
	EXPECT_FALSE(decode_fs_rdma_read_reply(rr));		// reserved
	EXPECT_FALSE(decode_fs_rdma_read_reply(encode_fs_rdma_read_reply(kFsRdmaIoMax + 1)));
	EXPECT_FALSE(decode_fs_rdma_read_reply(ByteSpan(rr).first(4)));
}

// A one-sided harness with a client that was granted DG_FEAT_RDMA_FS and
// 2 MiB of "client memory" registered with the fake transport.
struct SegsHarness {
	SegsHarness() : h(4, false, 64, true), peer(2 * kFsRdmaIoMax)
	{
		c = h.transport.connect();
		auto g = h.call(c, Op::kHello, hello_body(9, Role::kFs, kFeatRdma | kFeatRdmaFs));
		EXPECT_TRUE(g && g->status() == 0);
		if (g) {
			EXPECT_TRUE(g->body<HelloReply>().features & kFeatRdmaFs);
		}
		rkey = h.transport.add_peer_region(c, peer);
	}
	std::span<std::byte> mem(std::size_t off, std::size_t len)
	{
		return std::span<std::byte>(peer).subspan(off, len);
	}
	std::unique_ptr<Got> io(Op op, std::string_view path, std::span<std::byte> buf,
				unsigned nsegs, std::uint32_t flags = 0, std::uint64_t offset = 0,
				std::uint32_t key = 0)
	{
		const Bytes segs = encode_fs_segs(split(buf, nsegs, key ? key : rkey));
		return h.call(c, op,
			      io_req(path, DG_FS_IO_SEGS | flags,
				     static_cast<std::uint32_t>(buf.size()), segs, offset));
	}

	ServiceHarness h;
	Bytes peer;
	ConnId c = 0;
	std::uint32_t rkey = 0;
};

TEST(StordSegs, Negotiation)
{
	// Granted over a one-sided transport, to fs clients that offer it.
	ServiceHarness rdma(2, false, 64, true);
	ConnId a = rdma.transport.connect();
	auto g = rdma.call(a, Op::kHello, hello_body(1, Role::kFs, kFeatRdma | kFeatRdmaFs));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features & (kFeatRdma | kFeatRdmaFs),
		  kFeatRdma | kFeatRdmaFs);
	ConnId b = rdma.transport.connect();
	g = rdma.call(b, Op::kHello, hello_body(2, Role::kCtl, kFeatRdma | kFeatRdmaFs));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_FALSE(g->body<HelloReply>().features & kFeatRdmaFs);
	// A client that did not offer it (the kernel's today): not granted,
	// and segments are EPROTO.
	ConnId old = rdma.transport.connect();
	g = rdma.call(old, Op::kHello, hello_body(3, Role::kFs, kFeatRdma | kFeatMq));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_FALSE(g->body<HelloReply>().features & kFeatRdmaFs);
	Bytes mem(64);
	const Bytes segs = encode_fs_segs(split(mem, 1, 1));
	EXPECT_EQ(rdma.call(old, Op::kFsRead, io_req("x", DG_FS_IO_SEGS, 64, segs))->status(),
		  unsigned{EPROTO});
	EXPECT_TRUE(rdma.transport.is_open(old));
	EXPECT_EQ(rdma.transport.bulk_pending(), 0u);

	// Never over a transport without one-sided access (TCP).
	ServiceHarness tcp;
	ConnId t = tcp.transport.connect();
	g = tcp.call(t, Op::kHello, hello_body(1, Role::kFs, kFeatRdma | kFeatRdmaFs));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(g->body<HelloReply>().features & (kFeatRdma | kFeatRdmaFs), 0u);
	EXPECT_EQ(tcp.call(t, Op::kFsWrite, io_req("x", DG_FS_IO_SEGS, 64, segs))->status(),
		  unsigned{EPROTO});
	EXPECT_FALSE(tcp.tree.root.empty() || fs::exists(tcp.tree.in_root("x")));
}

TEST(StordSegs, WriteThenReadOneSided)
{
	SegsHarness s;
	const std::size_t n = kFsRdmaIoMax - 4096 + 123;	// not a page multiple
	const Bytes data = pattern(n, 1);
	std::copy(data.begin(), data.end(), s.peer.begin());
	TempTree::write(s.h.tree.in_root("f"), "");
	auto g = s.io(Op::kFsWrite, "f", s.mem(0, n), 3, DG_FS_WRITE_SYNC);
	ASSERT_TRUE(g);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->body<FsWriteReply>().count, n);
	EXPECT_EQ(g->body<FsWriteReply>().attr.size, n);
	const std::string disk = TempTree::read(s.h.tree.in_root("f"));
	ASSERT_EQ(disk.size(), n);
	EXPECT_EQ(std::memcmp(disk.data(), data.data(), n), 0);
	EXPECT_EQ(s.h.service->rdma_read_bytes(), n);
	EXPECT_EQ(s.h.service->rdma_write_bytes(), 0u);

	// Read it back into the second MiB, in 2 segments; a READ asking for
	// more than the file has gets what there is, the rest untouched.
	std::fill(s.peer.begin() + kFsRdmaIoMax, s.peer.end(), std::byte{0xee});
	g = s.io(Op::kFsRead, "f", s.mem(kFsRdmaIoMax, kFsRdmaIoMax), 2);
	ASSERT_TRUE(g);
	ASSERT_EQ(g->status(), 0u);
	Result<std::uint32_t> got = decode_fs_rdma_read_reply(g->body<Data>().bytes);
	ASSERT_TRUE(got);
	EXPECT_EQ(*got, n);
	EXPECT_EQ(std::memcmp(s.peer.data() + kFsRdmaIoMax, data.data(), n), 0);
	EXPECT_EQ(s.peer[kFsRdmaIoMax + n], std::byte{0xee});
	EXPECT_EQ(s.h.service->rdma_write_bytes(), n);

	// With an offset, four segments, and compared with a two-sided read.
	g = s.io(Op::kFsRead, "f", s.mem(kFsRdmaIoMax, 10000), 4, 0, 5000);
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(*decode_fs_rdma_read_reply(g->body<Data>().bytes), 10000u);
	FsReq two = req("f");
	two.offset = 5000;
	two.count = 10000;
	g = s.h.call(s.c, Op::kFsRead, two);
	ASSERT_TRUE(g && g->status() == 0);
	const Data d = g->body<Data>();
	ASSERT_EQ(d.bytes.size(), 10000u);
	EXPECT_EQ(std::memcmp(s.peer.data() + kFsRdmaIoMax, d.bytes.data(), 10000), 0);
	// At EOF: 0 bytes, nothing moved.
	const std::uint64_t before = s.h.service->rdma_write_bytes();
	g = s.io(Op::kFsRead, "f", s.mem(0, 100), 1, 0, n);
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(*decode_fs_rdma_read_reply(g->body<Data>().bytes), 0u);
	EXPECT_EQ(s.h.service->rdma_write_bytes(), before);
	EXPECT_EQ(s.h.service->rdma_write_bytes(), n + 10000);
	// No invalidation unless asked for.
	EXPECT_TRUE(s.h.transport.invalidated[s.c].empty());
	EXPECT_EQ(s.h.transport.bulk_failures, 0u);
}

TEST(StordSegs, InvalidateOnRequest)
{
	SegsHarness s;
	TempTree::write(s.h.tree.in_root("f"), "some file data");
	auto g = s.io(Op::kFsRead, "f", s.mem(0, 100), 2, DG_FS_IO_INVALIDATE);
	ASSERT_TRUE(g && g->status() == 0);
	ASSERT_EQ(s.h.transport.invalidated[s.c].size(), 1u);
	EXPECT_EQ(s.h.transport.invalidated[s.c][0], s.rkey);
	g = s.io(Op::kFsWrite, "f", s.mem(0, 4), 1, DG_FS_IO_INVALIDATE);
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(s.h.transport.invalidated[s.c].size(), 2u);
	// An error reply is a plain send: the client invalidates itself.
	g = s.io(Op::kFsRead, "nonexistent", s.mem(0, 100), 1, DG_FS_IO_INVALIDATE);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), unsigned{ENOENT});
	EXPECT_EQ(s.h.transport.invalidated[s.c].size(), 2u);
	// Invalidation without segments is malformed.
	FsReq r = req("f");
	r.count = 10;
	r.flags = DG_FS_IO_INVALIDATE;
	EXPECT_EQ(s.h.call(s.c, Op::kFsRead, r)->status(), unsigned{EINVAL});
}

TEST(StordSegs, RefusedBeforeAnyTransfer)
{
	SegsHarness s;
	TempTree::write(s.h.tree.in_root("f"), "data");
	auto status = [&](Op op, const std::vector<FsSeg> &v, std::uint32_t count,
			  std::uint32_t flags = DG_FS_IO_SEGS) {
		const Bytes b = encode_fs_segs(v);
		return s.h.call(s.c, op, io_req("f", flags, count, b))->status();
	};
	const auto a = reinterpret_cast<std::uintptr_t>(s.peer.data());
	EXPECT_EQ(status(Op::kFsRead, std::vector<FsSeg>(5, FsSeg{a, 16, s.rkey}), 80),
		  unsigned{EINVAL});
	EXPECT_EQ(status(Op::kFsWrite,
			 {FsSeg{a, kFsRdmaIoMax, s.rkey}, FsSeg{a + kFsRdmaIoMax, 1, s.rkey}},
			 kFsRdmaIoMax + 1),
		  unsigned{EINVAL});
	EXPECT_EQ(status(Op::kFsRead, {FsSeg{a, 16, s.rkey}}, 17), unsigned{EINVAL});
	EXPECT_EQ(status(Op::kFsRead, {}, 0), unsigned{EINVAL});
	// Only READ and WRITE take segments.
	EXPECT_EQ(status(Op::kFsGetattr, {FsSeg{a, 16, s.rkey}}, 16), unsigned{EINVAL});
	EXPECT_EQ(s.h.transport.bulk_pending(), 0u);
	EXPECT_EQ(s.h.service->rdma_write_bytes() + s.h.service->rdma_read_bytes(), 0u);
	EXPECT_TRUE(s.h.transport.is_open(s.c));
	EXPECT_EQ(TempTree::read(s.h.tree.in_root("f")), "data");
}

TEST(StordSegs, SlotsRunOutRequestsWait)
{
	SegsHarness s;
	TempTree::write(s.h.tree.in_root("f"), "");
	constexpr unsigned kReqs = StorService::kStagingSlots + 3;
	constexpr std::size_t kLen = 64 * 1024;
	for (unsigned i = 0; i < kReqs; i++) {
		const Bytes p = pattern(kLen, 100 + i);
		std::copy(p.begin(), p.end(), s.peer.begin() + i * kLen);
	}
	// The network holds every transfer: only as many start as there are
	// slots, the rest wait (no reply, no spinning).
	s.h.transport.hold_bulk = true;
	std::vector<Bytes> segs;
	for (unsigned i = 0; i < kReqs; i++) {
		segs.push_back(encode_fs_segs(split(s.mem(i * kLen, kLen), 2, s.rkey)));
		s.h.transport.deliver(s.c, request(Op::kFsWrite, 1000 + i,
						   io_req("f", DG_FS_IO_SEGS, kLen, segs.back(),
							  i * kLen)));
	}
	for (int i = 0; i < 20; i++)
		s.h.loop.run_once(5);
	EXPECT_EQ(s.h.transport.bulk_pending(), StorService::kStagingSlots);
	EXPECT_TRUE(s.h.transport.sent(s.c).empty());
	// Let them go: every request is answered, the waiting ones too.
	s.h.transport.hold_bulk = false;
	std::set<std::uint64_t> ids;
	for (unsigned i = 0; i < kReqs; i++) {
		auto g = s.h.next(s.c);
		ASSERT_TRUE(g) << "reply " << i;
		EXPECT_EQ(g->status(), 0u);
		ids.insert(g->hdr.req_id);
	}
	EXPECT_EQ(ids.size(), kReqs);
	const std::string disk = TempTree::read(s.h.tree.in_root("f"));
	ASSERT_EQ(disk.size(), kReqs * kLen);
	EXPECT_EQ(std::memcmp(disk.data(), s.peer.data(), disk.size()), 0);
	EXPECT_EQ(s.h.service->rdma_read_bytes(), kReqs * kLen);
}

TEST(StordSegs, FailedTransferDropsTheConnection)
{
	SegsHarness s;
	TempTree::write(s.h.tree.in_root("f"), std::string(5000, 'x'));
	// A READ whose rkey the client does not hold: the RDMA WRITE fails,
	// the connection goes, no reply.
	const Bytes bad = encode_fs_segs(split(s.mem(0, 4096), 1, s.rkey + 1000));
	s.h.transport.deliver(s.c, request(Op::kFsRead, 77, io_req("f", DG_FS_IO_SEGS, 4096, bad)));
	EXPECT_FALSE(s.h.next(s.c, 500));
	EXPECT_FALSE(s.h.transport.is_open(s.c));
	EXPECT_EQ(s.h.transport.bulk_failures, 1u);
	EXPECT_EQ(s.h.service->rdma_write_bytes(), 0u);
	// A WRITE from beyond the client's region: the same, nothing written.
	SegsHarness t;
	TempTree::write(t.h.tree.in_root("f"), "keep");
	const auto end = reinterpret_cast<std::uintptr_t>(t.peer.data() + t.peer.size());
	const Bytes past = encode_fs_segs(std::vector<FsSeg>{FsSeg{end - 10, 20, t.rkey}});
	t.h.transport.deliver(t.c, request(Op::kFsWrite, 78, io_req("f", DG_FS_IO_SEGS, 20, past)));
	EXPECT_FALSE(t.h.next(t.c, 500));
	EXPECT_FALSE(t.h.transport.is_open(t.c));
	EXPECT_EQ(TempTree::read(t.h.tree.in_root("f")), "keep");
	// The daemon goes on: the next client is served.
	ConnId next = t.h.transport.connect();
	auto g = t.h.call(next, Op::kHello, hello_body(10, Role::kFs, kFeatRdma | kFeatRdmaFs));
	ASSERT_TRUE(g && g->status() == 0);
	const std::uint32_t key = t.h.transport.add_peer_region(next, t.peer);
	const Bytes ok = encode_fs_segs(split(std::span<std::byte>(t.peer).first(4), 1, key));
	g = t.h.call(next, Op::kFsRead, io_req("f", DG_FS_IO_SEGS, 4, ok));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_EQ(std::memcmp(t.peer.data(), "keep", 4), 0);
}

TEST(StordSegs, NoStagingIsEnomem)
{
	SegsHarness s;
	s.h.transport.bulk_register_error = ENOMEM;
	TempTree::write(s.h.tree.in_root("f"), "data");
	auto g = s.io(Op::kFsRead, "f", s.mem(0, 4), 1);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), unsigned{ENOMEM});
	// Two-sided I/O is unaffected.
	FsReq r = req("f");
	r.count = 4;
	EXPECT_EQ(s.h.call(s.c, Op::kFsRead, r)->status(), 0u);
}

// FsOps alone: a request with segments but no staging buffer is EPROTO
// (the service must have taken it).
TEST(StordSegs, OpsWithoutStagingRefuse)
{
	OpsHarness o;
	TempTree::write(o.tree.in_root("f"), "data");
	Bytes mem(16);
	const Bytes segs = encode_fs_segs(split(mem, 1, 1));
	EXPECT_EQ(o.status(Op::kFsRead, io_req("f", DG_FS_IO_SEGS, 16, segs)), unsigned{EPROTO});
	EXPECT_EQ(o.status(Op::kFsWrite, io_req("f", DG_FS_IO_SEGS, 16, segs)), unsigned{EPROTO});
	EXPECT_EQ(TempTree::read(o.tree.in_root("f")), "data");
}

}  // namespace
}  // namespace disagg::stord::test

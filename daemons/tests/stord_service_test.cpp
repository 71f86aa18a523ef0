// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord's service over the fake transport: handshake and roles,
// malformed messages, concurrency (a slow fsync does not hold up another
// client), request limits, and fd cache invalidation across renames.
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace disagg::stord::test {
namespace {

using namespace std::chrono_literals;

Bytes with_le(Bytes f, std::size_t off, std::uint32_t v, int width)
{
	for (int i = 0; i < width; i++)
		f[off + i] = static_cast<std::byte>(v >> (8 * i));
	return f;
}
Bytes with_u32(Bytes f, std::size_t off, std::uint32_t v) { return with_le(f, off, v, 4); }

TEST(StordService, HelloRolesAndStatus)
{
	ServiceHarness h;
	ConnId c = h.transport.connect();
	auto g = h.call(c, Op::kHello, hello_body(1, Role::kFs, kFeatRdma));
	ASSERT_TRUE(g && g->status() == 0);
	HelloReply r = g->body<HelloReply>();
	EXPECT_EQ(r.features, 0u);	// no RDMA on this transport
	EXPECT_EQ(r.server_id, h.service->server_id());
	EXPECT_EQ(h.call(c, Op::kHeartbeat)->status(), 0u);
	g = h.call(c, Op::kStatus);
	ASSERT_TRUE(g && g->status() == 0);
	Data d = g->body<Data>();
	std::string json(reinterpret_cast<const char *>(d.bytes.data()), d.bytes.size());
	for (const char *key : {"\"root\":", "\"nr_clients\":1", "\"requests\":", "\"errors\":",
				"\"fd_cache\":{\"size\":", "\"clients\":["})
		EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;

	// Swap clients belong to memd.
	ConnId s = h.transport.connect();
	g = h.call(s, Op::kHello, hello_body(2, Role::kSwap));
	EXPECT_EQ(g->status(), unsigned{EPROTONOSUPPORT});
	EXPECT_FALSE(h.transport.is_open(s));
	// ctl clients: status yes, files no.
	ConnId t = h.client(Role::kCtl);
	EXPECT_EQ(h.call(t, Op::kFsGetattr, req("."))->status(), unsigned{EPERM});
	EXPECT_EQ(h.call(t, Op::kStatus)->status(), 0u);
	// Before the hello: EPROTO and closed.
	ConnId u = h.transport.connect();
	EXPECT_EQ(h.call(u, Op::kFsGetattr, req("."))->status(), unsigned{EPROTO});
	EXPECT_FALSE(h.transport.is_open(u));
	// Memory-node opcodes are not served here.
	EXPECT_EQ(h.call(c, Op::kMemInfo)->status(), unsigned{EOPNOTSUPP});
	// BYE closes without a reply.
	h.transport.deliver(c, request(Op::kBye, 99));
	EXPECT_FALSE(h.transport.is_open(c));
}

// stord shares the handshake: with keys only an authenticated client gets
// in, and its identity is recorded.
TEST(StordService, AuthenticatedHandshake)
{
	ServiceHarness h(2, true);
	ConnId c = h.transport.connect();
	Hello hello = hello_body(1, Role::kFs, kFeatAuth);
	hello.nonce[0] = 42;
	auto g = h.call(c, Op::kHello, hello);
	ASSERT_TRUE(g && g->status() == 0);
	const HelloReply r = g->body<HelloReply>();
	EXPECT_EQ(r.features, kFeatAuth);
	// Nothing before AUTH.
	ConnId x = h.transport.connect();
	ASSERT_EQ(h.call(x, Op::kHello, hello)->status(), 0u);
	EXPECT_EQ(h.call(x, Op::kFsGetattr, req("."))->status(), unsigned{EACCES});
	EXPECT_FALSE(h.transport.is_open(x));
	// A wrong key.
	ConnId y = h.transport.connect();
	const HelloReply ry = h.call(y, Op::kHello, hello)->body<HelloReply>();
	g = h.call(y, Op::kAuth,
		   disagg::test::auth_body(hello, ry, "client", disagg::test::test_secret("other")));
	EXPECT_EQ(g->status(), unsigned{EKEYREJECTED});
	EXPECT_FALSE(h.transport.is_open(y));
	// No AUTH feature at all.
	ConnId z = h.transport.connect();
	EXPECT_EQ(h.call(z, Op::kHello, hello_body(1, Role::kFs, 0))->status(), unsigned{EACCES});
	EXPECT_FALSE(h.transport.is_open(z));

	g = h.call(c, Op::kAuth,
		   disagg::test::auth_body(hello, r, "client", disagg::test::test_secret("client")));
	ASSERT_TRUE(g && g->status() == 0);
	EXPECT_NE(g->body<AuthReply>().token, Token{});
	EXPECT_EQ(h.call(c, Op::kFsGetattr, req("."))->status(), 0u);
	g = h.call(c, Op::kStatus);
	Data d = g->body<Data>();
	std::string json(reinterpret_cast<const char *>(d.bytes.data()), d.bytes.size());
	EXPECT_NE(json.find("\"identity\":\"client\""), std::string::npos) << json;
	EXPECT_NE(json.find("\"auth\":\"on\""), std::string::npos) << json;
}

// With keys the per-identity limit is checked at AUTH: its reply is EUSERS.
TEST(StordService, PerIdentityLimitWithKeys)
{
	ServiceHarness h(2, true, /*per identity=*/1);
	auto auth = [&](ConnId c, const std::string &identity) {
		Hello hello = hello_body(1, Role::kFs, kFeatAuth);
		auto g = h.call(c, Op::kHello, hello);
		EXPECT_TRUE(g && g->status() == 0);
		const HelloReply r = g->body<HelloReply>();
		g = h.call(c, Op::kAuth, disagg::test::auth_body(hello, r, identity,
								 disagg::test::test_secret(identity)));
		return g ? g->status() : 0xffffffffu;
	};
	ConnId a = h.transport.connect();
	EXPECT_EQ(auth(a, "client"), 0u);
	ConnId b = h.transport.connect();
	EXPECT_EQ(auth(b, "client"), unsigned{EUSERS});
	EXPECT_FALSE(h.transport.is_open(b));
	ConnId c = h.transport.connect();
	EXPECT_EQ(auth(c, "other"), 0u);
	EXPECT_EQ(h.transport.handshakes, 2u);
	EXPECT_EQ(h.call(a, Op::kFsGetattr, req("."))->status(), 0u);
	// A slot frees when its connection goes.
	h.transport.drop(a);
	ConnId d = h.transport.connect();
	EXPECT_EQ(auth(d, "client"), 0u);
}

TEST(StordService, MalformedMessages)
{
	ServiceHarness h;
	ConnId c = h.client();
	TempTree::write(h.tree.in_root("f"), "x");
	const Bytes good = request(Op::kFsGetattr, 5, req("f"));
	auto status_of = [&](const Bytes &f) {
		auto g = h.send(c, f);
		return g ? g->status() : 0xffffffffu;
	};
	EXPECT_EQ(status_of(good), 0u);
	const std::size_t pl = kHdrSize + offsetof(dg_fs_req, path_len);
	// Lengths that do not add up to the payload, or overflow it.
	EXPECT_EQ(status_of(with_u32(good, pl, 2)), unsigned{EINVAL});
	EXPECT_EQ(status_of(with_u32(good, pl, 0)), unsigned{EINVAL});
	EXPECT_EQ(status_of(with_u32(good, pl, 0xffffffff)), unsigned{EINVAL});
	EXPECT_EQ(status_of(with_u32(good, kHdrSize + offsetof(dg_fs_req, name2_len), 0xfffffffe)),
		  unsigned{EINVAL});
	EXPECT_EQ(status_of(with_u32(good, kHdrSize + offsetof(dg_fs_req, data_len), 0x80000000)),
		  unsigned{EINVAL});
	// A payload shorter than a dg_fs_req.
	Bytes shortp(good.begin(), good.begin() + kHdrSize + 10);
	EXPECT_EQ(status_of(with_u32(shortp, offsetof(dg_hdr, length), 10)), unsigned{EINVAL});
	// NUL in the path.
	Bytes nul = good;
	nul[kHdrSize + kFsReqSize] = std::byte{0};
	EXPECT_EQ(status_of(nul), unsigned{EINVAL});
	// Oversized counts and data.
	FsReq r = req("f");
	r.count = kFsIoMax + 1;
	EXPECT_EQ(h.call(c, Op::kFsRead, r)->status(), unsigned{EINVAL});
	// Unknown opcodes, in the fs range and out of it.
	for (std::uint32_t op : {0x0215u, 0x02ffu, 0x0300u, 0x7fffu})
		EXPECT_EQ(status_of(with_le(good, offsetof(dg_hdr, opcode), op, 2)),
			  unsigned{EOPNOTSUPP}) << op;
	// A status on a request.
	EXPECT_EQ(status_of(with_u32(good, offsetof(dg_hdr, status), 5)), unsigned{EINVAL});
	EXPECT_TRUE(h.transport.is_open(c));
	// Framing errors close the connection: bad magic, trailing bytes,
	// a length beyond the frame.
	Bytes trailing = good;
	trailing.push_back(std::byte{0});
	for (const Bytes &f : {with_u32(good, 0, 0x12345678), trailing,
			       with_u32(good, offsetof(dg_hdr, length), 1u << 24)}) {
		ConnId x = h.client();
		h.transport.deliver(x, f);
		EXPECT_FALSE(h.transport.is_open(x));
	}
	// The daemon is fine.
	EXPECT_EQ(h.call(c, Op::kFsGetattr, req("f"))->status(), 0u);
}

TEST(StordService, SlowFsyncDoesNotBlockAnotherClient)
{
	ServiceHarness h(4);
	TempTree::write(h.tree.in_root("f"), "x");
	std::atomic<bool> release{false};
	std::atomic<int> slow{0};
	h.ops->test_hook = [&](const Hdr &hdr) {
		if (hdr.opcode != static_cast<std::uint16_t>(Op::kFsFsync))
			return;
		slow++;
		for (int i = 0; i < 500 && !release; i++)
			std::this_thread::sleep_for(10ms);
	};
	ConnId a = h.client(), b = h.client();
	// Client a piles up fsyncs: it may hold threads-1 workers, not all.
	for (int i = 0; i < 6; i++)
		h.transport.deliver(a, request(Op::kFsFsync, 100 + i, req("f")));
	for (int i = 0; i < 100 && slow < 3; i++)
		h.loop.run_once(10);
	EXPECT_EQ(slow.load(), 3);
	const auto t0 = std::chrono::steady_clock::now();
	auto g = h.call(b, Op::kFsGetattr, req("f"));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), 0u);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
	EXPECT_TRUE(h.transport.sent(a).empty());	// a's fsyncs still running
	release = true;
	for (int i = 0; i < 6; i++) {
		auto r = h.next(a);
		ASSERT_TRUE(r);
		EXPECT_EQ(r->status(), 0u);
	}
}

TEST(StordService, TooManyRequestsInFlightGetEagain)
{
	ServiceHarness h(1);
	std::atomic<bool> release{false};
	h.ops->test_hook = [&](const Hdr &) {
		while (!release)
			std::this_thread::sleep_for(1ms);
	};
	ConnId c = h.client();
	for (unsigned i = 0; i < StorService::kMaxInFlight; i++)
		h.transport.deliver(c, request(Op::kFsStatfs, i + 1, req(".")));
	auto g = h.send(c, request(Op::kFsStatfs, 1000, req(".")), 100);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->hdr.req_id, 1000u);
	EXPECT_EQ(g->status(), unsigned{EAGAIN});
	release = true;
	for (unsigned i = 0; i < StorService::kMaxInFlight; i++)
		ASSERT_TRUE(h.next(c));
	// A client that leaves with requests queued: they are dropped.
	release = false;
	ConnId d = h.client();
	for (unsigned i = 0; i < 10; i++)
		h.transport.deliver(d, request(Op::kFsStatfs, i + 1, req(".")));
	h.transport.drop(d);
	release = true;
	for (int i = 0; i < 20; i++)
		h.loop.run_once(5);
	EXPECT_EQ(h.call(c, Op::kFsStatfs, req("."))->status(), 0u);

	// --max-in-flight lowers the limit.
	h.service->set_max_in_flight(2);
	release = false;
	ConnId e = h.client();
	for (unsigned i = 0; i < 2; i++)
		h.transport.deliver(e, request(Op::kFsStatfs, i + 1, req(".")));
	g = h.send(e, request(Op::kFsStatfs, 1001, req(".")), 100);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->hdr.req_id, 1001u);
	EXPECT_EQ(g->status(), unsigned{EAGAIN});
	EXPECT_EQ(h.service->busy_replies(), 2u);
	release = true;
	for (unsigned i = 0; i < 2; i++)
		ASSERT_TRUE(h.next(e));
}

TEST(StordService, IdleTimeoutSparesClientsWaitingForReplies)
{
	ServiceHarness h(2);	// idle timeout 120 s (the default)
	TempTree::write(h.tree.in_root("f"), "x");
	std::atomic<bool> release{false};
	h.ops->test_hook = [&](const Hdr &hdr) {
		if (hdr.opcode != static_cast<std::uint16_t>(Op::kFsFsync))
			return;
		for (int i = 0; i < 500 && !release; i++)
			std::this_thread::sleep_for(10ms);
	};
	ConnId waiting = h.client(), silent = h.client();
	h.transport.deliver(waiting, request(Op::kFsFsync, 1, req("f")));
	h.loop.run_once(10);
	h.clock.advance(std::chrono::seconds(120));
	h.service->tick();
	h.transport.settle();
	EXPECT_FALSE(h.transport.is_open(silent));
	EXPECT_TRUE(h.transport.is_open(waiting));	// its fsync is running
	release = true;
	auto g = h.next(waiting);
	if (g && !g->hdr.is_reply())	// our HEARTBEAT probe came first
		g = h.next(waiting);
	ASSERT_TRUE(g);
	EXPECT_EQ(g->hdr.req_id, 1u);
	EXPECT_EQ(g->status(), 0u);
	// Answered and silent since: idle now.
	h.service->tick();
	h.transport.settle();
	EXPECT_FALSE(h.transport.is_open(waiting));
}

std::string read_via(ServiceHarness &h, ConnId c, const char *path)
{
	FsReq r = req(path);
	r.count = 100;
	auto g = h.call(c, Op::kFsRead, r);
	if (!g || g->status())
		return "error " + std::to_string(g ? g->status() : 0);
	Data d = g->body<Data>();
	return std::string(reinterpret_cast<const char *>(d.bytes.data()), d.bytes.size());
}

TEST(StordService, FdCacheNeverServesARenamedOrRemovedFile)
{
	ServiceHarness h;
	ConnId c = h.client();
	ASSERT_EQ(::mkdir(h.tree.in_root("d").c_str(), 0755), 0);
	TempTree::write(h.tree.in_root("d/a"), "AAA");
	TempTree::write(h.tree.in_root("d/b"), "BBB");
	EXPECT_EQ(read_via(h, c, "d/a"), "AAA");
	EXPECT_EQ(read_via(h, c, "d/b"), "BBB");
	EXPECT_EQ(h.cache.size(), 2u);
	// rename d/b over d/a: "d/a" now names the old b.
	FsReq r = req("d/b");
	r.name2 = "d/a";
	ASSERT_EQ(h.call(c, Op::kFsRename, r)->status(), 0u);
	EXPECT_EQ(read_via(h, c, "d/a"), "BBB");
	EXPECT_EQ(read_via(h, c, "d/b"), "error " + std::to_string(ENOENT));
	// Renaming the parent drops what is beneath it.
	r = req("d");
	r.name2 = "e";
	ASSERT_EQ(h.call(c, Op::kFsRename, r)->status(), 0u);
	EXPECT_EQ(read_via(h, c, "d/a"), "error " + std::to_string(ENOENT));
	EXPECT_EQ(read_via(h, c, "e/a"), "BBB");
	// Unlink and re-create: the new file, not the cached old one.
	ASSERT_EQ(h.call(c, Op::kFsUnlink, req("e/a"))->status(), 0u);
	ASSERT_EQ(h.call(c, Op::kFsCreate, req("e/a"))->status(), 0u);
	EXPECT_EQ(read_via(h, c, "e/a"), "");
	// Exchange swaps what both names read.
	TempTree::write(h.tree.in_root("x"), "XXX");
	TempTree::write(h.tree.in_root("y"), "YYY");
	EXPECT_EQ(read_via(h, c, "x"), "XXX");
	EXPECT_EQ(read_via(h, c, "y"), "YYY");
	const std::uint64_t hits = h.cache.hits();
	EXPECT_EQ(read_via(h, c, "x"), "XXX");
	EXPECT_EQ(h.cache.hits(), hits + 1);
	r = req("x");
	r.name2 = "y";
	r.flags = DG_FS_RENAME_EXCHANGE;
	ASSERT_EQ(h.call(c, Op::kFsRename, r)->status(), 0u);
	EXPECT_EQ(read_via(h, c, "x"), "YYY");
	EXPECT_EQ(read_via(h, c, "y"), "XXX");
}

TEST(StordService, WritesThroughTheCacheAreSeenByReads)
{
	ServiceHarness h;
	ConnId c = h.client();
	ASSERT_EQ(h.call(c, Op::kFsCreate, req("f"))->status(), 0u);
	for (int i = 0; i < 20; i++) {
		std::string s = "chunk" + std::to_string(i);
		FsReq w = req("f");
		Bytes b(reinterpret_cast<const std::byte *>(s.data()),
			reinterpret_cast<const std::byte *>(s.data()) + s.size());
		w.data = b;
		auto g = h.call(c, Op::kFsWrite, w);
		ASSERT_EQ(g->status(), 0u);
		EXPECT_EQ(read_via(h, c, "f").substr(0, s.size()), s);
	}
	EXPECT_EQ(h.cache.size(), 1u);
}

}  // namespace
}  // namespace disagg::stord::test

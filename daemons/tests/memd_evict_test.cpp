// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// MEM_RESIZE and eviction over the fake transport: resizing up and down,
// who may resize and what is refused, MEM_EVICT sent to the owner of the
// slab picked, memory freed only on the client's MEM_FREE, asking again
// after --evict-grace, ENOSPC while over capacity, disconnected owners
// (asked when back, or freed when their grace ends), and clients that
// answer ENOENT, EOPNOTSUPP, garbage or nothing: memd neither crashes nor
// frees their slabs.
#include "memd_test_util.hpp"
#include "service_base.hpp"

#include <deque>
#include <set>
#include <string>
#include <vector>

namespace disagg::memd::test {
namespace {

using std::chrono::seconds;

constexpr std::uint64_t kSlab = 4 * kMiB;

struct Evict {
	std::uint64_t req_id = 0;
	std::uint64_t slab_id = 0;
};

// The MEM_EVICTs among the frames sent to @c since the last look (other
// frames are dropped).
std::vector<Evict> evicts(Harness &h, ConnId c)
{
	std::vector<Evict> out;
	while (auto g = h.next(c)) {
		if (g->hdr.opcode != DG_OP_MEM_EVICT)
			continue;
		EXPECT_NE(g->hdr.req_id & kServerReqId, 0u) << "req_id " << g->hdr.req_id;
		out.push_back({g->hdr.req_id, g->body<MemFree>().slab_id});
	}
	return out;
}

void answer(Harness &h, ConnId c, const Evict &e, std::uint32_t status = 0)
{
	Result<Bytes> r = status ? make_error_reply(Op::kMemEvict, e.req_id, status)
				 : make_reply(Op::kMemEvict, e.req_id);
	ASSERT_TRUE(r.ok());
	h.transport.deliver(c, *r);
	EXPECT_TRUE(h.transport.is_open(c));
}

std::uint32_t resize(Harness &h, ConnId ctl, std::uint64_t capacity)
{
	auto g = h.call(ctl, Op::kMemResize, MemResize{capacity});
	return g ? g->status() : 0xffffffffu;
}

void tick(Harness &h, seconds s)
{
	h.clock.advance(s);
	h.service->tick();
	h.transport.settle();
}

std::string status(Harness &h, ConnId ctl)
{
	auto g = h.call(ctl, Op::kStatus);
	if (!g || g->status())
		return {};
	ByteSpan b = g->body<Data>().bytes;
	return std::string(reinterpret_cast<const char *>(b.data()), b.size());
}

// A harness with a short evict grace (10 s) and a ctl (admin) connection.
struct Evictd {
	Evictd()
	{
		h.service->set_evict_grace(seconds(10));
		ctl = h.client(0, Role::kCtl);
	}
	// A swap client holding @n slabs (tags 0..n-1).
	ConnId holder(std::uint64_t id, unsigned n, std::vector<MemSlab> *slabs = nullptr)
	{
		ConnId c = h.client(id);
		for (unsigned i = 0; i < n; i++) {
			MemSlab s = h.alloc_ok(c, kSlab, i);
			if (slabs)
				slabs->push_back(s);
		}
		return c;
	}
	Harness h{/*one_sided=*/false, 64 * kMiB, kSlab};
	ConnId ctl = 0;
};

// ------------------------------------------------------------- resize

TEST(MemdResize, GrowAndShrinkWithinWhatIsHeld)
{
	Evictd d;
	Harness &h = d.h;
	ConnId a = d.holder(1, 4);	// 16 MiB
	EXPECT_EQ(resize(h, d.ctl, 128 * kMiB), 0u);
	EXPECT_EQ(h.info(d.ctl).capacity, 128 * kMiB);
	EXPECT_EQ(h.info(d.ctl).free, 112 * kMiB);
	EXPECT_EQ(resize(h, d.ctl, 16 * kMiB), 0u);	// exactly what is held
	EXPECT_EQ(h.info(d.ctl).capacity, 16 * kMiB);
	EXPECT_EQ(h.info(d.ctl).free, 0u);
	EXPECT_TRUE(evicts(h, a).empty());
	EXPECT_EQ(h.service->evicting(), 0u);
	EXPECT_EQ(h.alloc_err(a, kSlab, 9), static_cast<std::uint32_t>(ENOSPC));
	EXPECT_EQ(resize(h, d.ctl, 20 * kMiB), 0u);
	h.alloc_ok(a, kSlab, 9);
}

TEST(MemdResize, MalformedOrOutOfRangeIsEinval)
{
	Evictd d;
	Harness &h = d.h;
	const std::uint64_t bad[] = {kSlab + kPageSize, 6 * kMiB, kSlab / 2, kPageSize,
				     (1ull << 50) + kSlab};
	for (std::uint64_t cap : bad)
		EXPECT_EQ(resize(h, d.ctl, cap), static_cast<std::uint32_t>(EINVAL)) << cap;
	// Zero, unaligned, reserved bytes, short and long payloads: the codec.
	auto raw = [&](Bytes f) {
		auto g = h.send(d.ctl, f);
		return g ? g->status() : 0xffffffffu;
	};
	Bytes f = request(Op::kMemResize, 1, MemResize{32 * kMiB});
	f.resize(kHdrSize);
	f[offsetof(dg_hdr, length)] = std::byte{0};	// no payload
	EXPECT_EQ(raw(f), static_cast<std::uint32_t>(EINVAL));
	f = request(Op::kMemResize, 2, MemResize{32 * kMiB});
	f.back() = std::byte{1};	// reserved
	EXPECT_EQ(raw(f), static_cast<std::uint32_t>(EINVAL));
	f = request(Op::kMemResize, 3, MemResize{32 * kMiB});
	f[kHdrSize] = std::byte{1};	// capacity not a page multiple
	EXPECT_EQ(raw(f), static_cast<std::uint32_t>(EINVAL));
	f = request(Op::kMemResize, 4, MemResize{32 * kMiB});
	for (std::size_t i = 0; i < 8; i++)
		f[kHdrSize + i] = std::byte{0};	// zero
	EXPECT_EQ(raw(f), static_cast<std::uint32_t>(EINVAL));
	f = request(Op::kMemResize, 5, MemResize{32 * kMiB});
	f.push_back(std::byte{0});
	f[offsetof(dg_hdr, length)] = std::byte{kMemResizeSize + 1};
	EXPECT_EQ(raw(f), static_cast<std::uint32_t>(EINVAL));
	EXPECT_TRUE(h.transport.is_open(d.ctl));
	EXPECT_EQ(h.pool.capacity(), 64 * kMiB);
	EXPECT_EQ(resize(h, d.ctl, kSlab), 0u);	// one slab is the least
}

TEST(MemdResize, OnlyAnAdminMayResize)
{
	{
		// Open daemon: ctl clients are admin, swap clients are not.
		Evictd d;
		ConnId a = d.holder(1, 0);
		EXPECT_EQ(resize(d.h, a, 32 * kMiB), static_cast<std::uint32_t>(EPERM));
		EXPECT_EQ(d.h.pool.capacity(), 64 * kMiB);
	}
	Harness h;
	h.with_keys();
	ConnId user = h.client(0, Role::kCtl, "client");
	ConnId swap = h.client(7, Role::kSwap, "other");
	ConnId admin = h.client(0, Role::kCtl, "admin");
	EXPECT_EQ(resize(h, user, 32 * kMiB), static_cast<std::uint32_t>(EPERM));
	EXPECT_EQ(resize(h, swap, 32 * kMiB), static_cast<std::uint32_t>(EPERM));
	EXPECT_EQ(h.pool.capacity(), 64 * kMiB);
	EXPECT_EQ(resize(h, admin, 32 * kMiB), 0u);
	EXPECT_EQ(h.pool.capacity(), 32 * kMiB);
	EXPECT_TRUE(h.transport.is_open(user));
}

// ------------------------------------------------------------- eviction

TEST(MemdEvict, NewestSlabOfTheBiggestHolderIsAskedAndFreedOnlyOnMemFree)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as, bs;
	ConnId a = d.holder(1, 3, &as);
	ConnId b = d.holder(2, 1, &bs);
	ASSERT_EQ(h.pool.used(), 16 * kMiB);

	EXPECT_EQ(resize(h, d.ctl, 12 * kMiB), 0u);
	std::vector<Evict> e = evicts(h, a);
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].slab_id, as[2].slab_id);	// A holds most; its newest
	EXPECT_TRUE(evicts(h, b).empty());
	EXPECT_EQ(h.service->evicting(), 1u);
	const std::string st = status(h, d.ctl);
	EXPECT_NE(st.find("\"capacity\":" + std::to_string(12 * kMiB)), std::string::npos) << st;
	EXPECT_NE(st.find("\"used\":" + std::to_string(16 * kMiB)), std::string::npos) << st;
	EXPECT_NE(st.find("\"evicting\":1,"), std::string::npos) << st;

	// Over capacity: nothing new, not even for another client.
	EXPECT_EQ(h.alloc_err(b, kSlab, 5), static_cast<std::uint32_t>(ENOSPC));
	EXPECT_EQ(h.alloc_err(a, kPageSize, 5), static_cast<std::uint32_t>(ENOSPC));
	// ... but a held tag is resumed.
	EXPECT_EQ(h.alloc_ok(b, kSlab, 0).slab_id, bs[0].slab_id);
	EXPECT_EQ(h.info(d.ctl).free, 0u);

	EXPECT_NE(st.find("\"evicting_acked\":0,"), std::string::npos) << st;
	// "I will give it back" frees nothing.
	answer(h, a, e[0]);
	EXPECT_NE(status(h, d.ctl).find("\"evicting_acked\":1,"), std::string::npos);
	EXPECT_EQ(h.pool.used(), 16 * kMiB);
	EXPECT_NE(h.pool.find(h.owner(1), as[2].slab_id), nullptr);
	tick(h, seconds(5));
	EXPECT_EQ(h.pool.used(), 16 * kMiB);
	EXPECT_TRUE(evicts(h, a).empty());

	// The client's MEM_FREE does.
	auto g = h.call(a, Op::kMemFree, MemFree{as[2].slab_id});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), 0u);
	EXPECT_EQ(h.pool.used(), 12 * kMiB);
	EXPECT_EQ(h.service->evicting(), 0u);
	EXPECT_NE(status(h, d.ctl).find("\"evicting\":0,"), std::string::npos);
	EXPECT_TRUE(evicts(h, a).empty());
	EXPECT_TRUE(evicts(h, b).empty());
	// Full, not over: still no room, until the capacity grows.
	EXPECT_EQ(h.alloc_err(b, kSlab, 5), static_cast<std::uint32_t>(ENOSPC));
	EXPECT_EQ(resize(h, d.ctl, 16 * kMiB), 0u);
	h.alloc_ok(b, kSlab, 5);
}

TEST(MemdEvict, SpreadOverClientsByWhatTheyHold)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as, bs;
	ConnId a = d.holder(1, 3, &as);
	ConnId b = d.holder(2, 3, &bs);
	EXPECT_EQ(resize(h, d.ctl, 16 * kMiB), 0u);	// two slabs too many
	std::vector<Evict> ea = evicts(h, a), eb = evicts(h, b);
	ASSERT_EQ(ea.size(), 1u);
	ASSERT_EQ(eb.size(), 1u);
	EXPECT_EQ(ea[0].slab_id, as[2].slab_id);
	EXPECT_EQ(eb[0].slab_id, bs[2].slab_id);
	EXPECT_NE(ea[0].req_id, eb[0].req_id);
	answer(h, a, ea[0]);
	answer(h, b, eb[0]);
	ASSERT_EQ(h.call(a, Op::kMemFree, MemFree{as[2].slab_id})->status(), 0u);
	EXPECT_EQ(h.pool.used(), 20 * kMiB);
	EXPECT_EQ(h.service->evicting(), 1u);
	ASSERT_EQ(h.call(b, Op::kMemFree, MemFree{bs[2].slab_id})->status(), 0u);
	EXPECT_EQ(h.pool.used(), 16 * kMiB);
	EXPECT_EQ(h.service->evicting(), 0u);
}

TEST(MemdEvict, AskedAgainAfterTheEvictGrace)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as;
	ConnId a = d.holder(1, 2, &as);
	EXPECT_EQ(resize(h, d.ctl, kSlab), 0u);
	std::vector<Evict> e = evicts(h, a);
	ASSERT_EQ(e.size(), 1u);
	answer(h, a, e[0]);
	tick(h, seconds(9));
	EXPECT_TRUE(evicts(h, a).empty());
	tick(h, seconds(2));
	std::vector<Evict> again = evicts(h, a);
	ASSERT_EQ(again.size(), 1u);
	EXPECT_EQ(again[0].slab_id, e[0].slab_id);
	EXPECT_NE(again[0].req_id, e[0].req_id);
	answer(h, a, again[0]);
	// Never taken by force, however long it takes.
	for (int i = 0; i < 20; i++) {
		tick(h, seconds(11));
		std::vector<Evict> x = evicts(h, a);
		ASSERT_EQ(x.size(), 1u);
		EXPECT_EQ(x[0].slab_id, e[0].slab_id);
		answer(h, a, x[0]);
		h.call(a, Op::kHeartbeat);	// not idle (the kernel's every 5 s)
	}
	EXPECT_EQ(h.pool.used(), 2 * kSlab);
	EXPECT_NE(h.pool.find(h.owner(1), e[0].slab_id), nullptr);
	ASSERT_EQ(h.call(a, Op::kMemFree, MemFree{e[0].slab_id})->status(), 0u);
	EXPECT_EQ(h.pool.used(), kSlab);
	EXPECT_EQ(h.service->evicting(), 0u);
}

TEST(MemdEvict, RefusalsAndGarbageNeverFreeTheSlab)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as, bs;
	ConnId a = d.holder(1, 2, &as);
	ConnId b = d.holder(2, 1, &bs);
	EXPECT_EQ(resize(h, d.ctl, 8 * kMiB), 0u);	// one slab too many
	std::vector<Evict> e = evicts(h, a);
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].slab_id, as[1].slab_id);

	// ENOENT: kept; another slab is picked in its place (A's older one;
	// A and B hold alike now, A comes first).
	answer(h, a, e[0], ENOENT);
	EXPECT_NE(h.pool.find(h.owner(1), as[1].slab_id), nullptr);
	std::vector<Evict> more = evicts(h, a);
	std::vector<Evict> mb = evicts(h, b);
	ASSERT_EQ(more.size() + mb.size(), 1u);
	const Evict second = more.empty() ? mb[0] : more[0];
	const ConnId second_conn = more.empty() ? b : a;

	// Garbage replies to it: a payload on an empty reply, the right
	// req_id with another opcode, unknown req_ids, a reply before any
	// request; none frees anything or closes the connection.
	Bytes junk = make_reply(Op::kMemEvict, second.req_id).value();
	junk.resize(kHdrSize + 8, std::byte{0x55});
	junk[offsetof(dg_hdr, length)] = std::byte{8};
	h.transport.deliver(second_conn, junk);
	ASSERT_TRUE(h.transport.is_open(second_conn));
	Result<Bytes> r = make_reply(Op::kMemFree, second.req_id);
	h.transport.deliver(second_conn, *r);
	r = make_reply(Op::kMemEvict, kServerReqId | 999999);
	h.transport.deliver(second_conn, *r);
	r = make_error_reply(Op::kMemEvict, 12345, 0x1ff);
	h.transport.deliver(second_conn, *r);
	EXPECT_TRUE(h.transport.is_open(second_conn));
	EXPECT_EQ(h.pool.used(), 12 * kMiB);
	EXPECT_EQ(h.pool.slab_count(), 3u);

	// EOPNOTSUPP (a client without eviction) on the re-ask: kept too.
	tick(h, seconds(11));
	for (ConnId c : {a, b})
		for (const Evict &x : evicts(h, c))
			answer(h, c, x, EOPNOTSUPP);
	// Silence: the reply timeout counts as a refusal.
	tick(h, seconds(11));
	tick(h, seconds(61));
	EXPECT_TRUE(h.transport.is_open(a));
	EXPECT_TRUE(h.transport.is_open(b));
	EXPECT_EQ(h.pool.used(), 12 * kMiB);
	EXPECT_EQ(h.pool.slab_count(), 3u);
	// A client asking memd to evict is told no.
	evicts(h, a);
	auto g = h.call(a, Op::kMemEvict, MemFree{bs[0].slab_id});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EOPNOTSUPP));
	EXPECT_NE(h.pool.find(h.owner(2), bs[0].slab_id), nullptr);

	// A client's MEM_FREE still brings the node back within capacity.
	evicts(h, a);
	ASSERT_EQ(h.call(a, Op::kMemFree, MemFree{as[1].slab_id})->status(), 0u);
	EXPECT_EQ(h.pool.used(), 8 * kMiB);
	EXPECT_EQ(h.service->evicting(), 0u);
}

TEST(MemdEvict, AFlaggedSlabOfAnotherClientIsNotFreedByItsMemFree)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as;
	ConnId a = d.holder(1, 2, &as);
	ConnId b = d.holder(2, 0);
	EXPECT_EQ(resize(h, d.ctl, kSlab), 0u);
	ASSERT_EQ(evicts(h, a).size(), 1u);
	auto g = h.call(b, Op::kMemFree, MemFree{as[1].slab_id});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(ENOENT));
	EXPECT_EQ(h.pool.used(), 2 * kSlab);
	EXPECT_EQ(h.service->evicting(), 1u);
}

TEST(MemdEvict, DisconnectedOwnerIsAskedWhenBack)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as, bs;
	ConnId a = d.holder(1, 2, &as);
	ConnId b = d.holder(2, 2, &bs);
	h.transport.drop(a);
	EXPECT_EQ(resize(h, d.ctl, 8 * kMiB), 0u);	// two slabs too many
	// The vanished client's slabs are picked; nobody is asked yet.
	EXPECT_EQ(h.service->evicting(), 2u);
	EXPECT_TRUE(h.service->is_evicting(as[0].slab_id));
	EXPECT_TRUE(h.service->is_evicting(as[1].slab_id));
	EXPECT_TRUE(evicts(h, b).empty());
	tick(h, seconds(20));
	EXPECT_TRUE(evicts(h, b).empty());
	EXPECT_EQ(h.pool.used(), 16 * kMiB);

	// A is back and resumes one slab: it is asked for it right away.
	ConnId a2 = h.client(1);
	EXPECT_TRUE(evicts(h, a2).empty());	// holds nothing on this connection yet
	MemSlab r = h.alloc_ok(a2, kSlab, 1);
	EXPECT_EQ(r.slab_id, as[1].slab_id);
	EXPECT_EQ(r.flags, kSlabResumed);
	std::vector<Evict> e = evicts(h, a2);
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].slab_id, as[1].slab_id);
	answer(h, a2, e[0]);
	ASSERT_EQ(h.call(a2, Op::kMemFree, MemFree{as[1].slab_id})->status(), 0u);
	// The slab it did not ask for again goes when its grace ends.
	tick(h, seconds(11));
	EXPECT_EQ(h.pool.used(), 8 * kMiB);
	EXPECT_EQ(h.service->evicting(), 0u);
	EXPECT_TRUE(evicts(h, b).empty());
}

TEST(MemdEvict, ClientThatDisconnectsForGoodCountsWhenItsGraceEnds)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as;
	ConnId a = d.holder(1, 2, &as);
	ConnId b = d.holder(2, 1);
	EXPECT_EQ(resize(h, d.ctl, 8 * kMiB), 0u);
	std::vector<Evict> e = evicts(h, a);
	ASSERT_EQ(e.size(), 1u);
	answer(h, a, e[0]);
	h.transport.drop(a);	// gone before releasing it
	EXPECT_EQ(h.pool.used(), 12 * kMiB);
	tick(h, seconds(29));
	EXPECT_EQ(h.pool.used(), 12 * kMiB);
	EXPECT_TRUE(evicts(h, b).empty());
	tick(h, seconds(2));	// --grace (30 s) over
	EXPECT_EQ(h.pool.used(), 4 * kMiB);
	EXPECT_EQ(h.service->evicting(), 0u);
	EXPECT_TRUE(evicts(h, b).empty());
	h.alloc_ok(b, kSlab, 1);
}

TEST(MemdEvict, ByeReleasesEvictedSlabs)
{
	Evictd d;
	Harness &h = d.h;
	ConnId a = d.holder(1, 2);
	EXPECT_EQ(resize(h, d.ctl, kSlab), 0u);
	ASSERT_EQ(evicts(h, a).size(), 1u);
	h.transport.deliver(a, request(Op::kBye, 1));
	EXPECT_EQ(h.pool.used(), 0u);
	EXPECT_EQ(h.service->evicting(), 0u);
}

TEST(MemdEvict, ReplacedConnectionIsAskedAgain)
{
	Evictd d;
	Harness &h = d.h;
	std::vector<MemSlab> as;
	ConnId a = d.holder(1, 2, &as);
	EXPECT_EQ(resize(h, d.ctl, kSlab), 0u);
	ASSERT_EQ(evicts(h, a).size(), 1u);
	// The same client again (its old connection is presumed dead).
	ConnId a2 = h.client(1);
	EXPECT_FALSE(h.transport.is_open(a));
	h.alloc_ok(a2, kSlab, 0);
	EXPECT_TRUE(evicts(h, a2).empty());	// tag 0 is not the one
	h.alloc_ok(a2, kSlab, 1);
	std::vector<Evict> e = evicts(h, a2);
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].slab_id, as[1].slab_id);
}

TEST(MemdEvict, RequestsInFlightPerClientAreBounded)
{
	Harness h(/*one_sided=*/false, 256 * kMiB, kPageSize * 16);
	ConnId ctl = h.client(0, Role::kCtl);
	ConnId a = h.client(1);
	for (unsigned i = 0; i < 40; i++)
		h.alloc_ok(a, kPageSize * 16, i);
	EXPECT_EQ(resize(h, ctl, kPageSize * 16), 0u);
	EXPECT_EQ(h.service->evicting(), 39u);
	std::deque<Evict> q;
	for (const Evict &x : evicts(h, a))
		q.push_back(x);
	EXPECT_EQ(q.size(), MemService::kMaxPending);
	// Each answer makes room for the next request.
	unsigned freed = 0;
	std::set<std::uint64_t> seen;
	while (!q.empty()) {
		const Evict x = q.front();
		q.pop_front();
		EXPECT_TRUE(seen.insert(x.slab_id).second) << "asked twice: " << x.slab_id;
		answer(h, a, x);
		for (const Evict &y : evicts(h, a))
			q.push_back(y);
		ASSERT_EQ(h.call(a, Op::kMemFree, MemFree{x.slab_id})->status(), 0u);
		freed++;
		for (const Evict &y : evicts(h, a))
			q.push_back(y);
	}
	EXPECT_EQ(freed, 39u);
	EXPECT_EQ(h.pool.used(), kPageSize * 16);
	EXPECT_EQ(h.service->evicting(), 0u);
}

}  // namespace
}  // namespace disagg::memd::test

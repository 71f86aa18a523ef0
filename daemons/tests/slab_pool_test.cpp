// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The slab pool: allocation against capacity, freeing, zeroing between
// owners, idempotent (owner, tag), and grace expiry on a fake clock.
#include "clock.hpp"
#include "proto.hpp"
#include "slab_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace disagg::memd {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
using std::chrono::seconds;

bool all_zero(const Slab &s)
{
	return std::all_of(s.mem, s.mem + s.size, [](std::byte b) { return b == std::byte{0}; });
}

class SlabPoolTest : public testing::Test {
protected:
	FakeClock clock;
	SlabPool pool{16 * kMiB, 4 * kMiB, clock, seconds(30)};
};

TEST_F(SlabPoolTest, StartsEmpty)
{
	EXPECT_EQ(pool.capacity(), 16 * kMiB);
	EXPECT_EQ(pool.free_bytes(), 16 * kMiB);
	EXPECT_EQ(pool.used(), 0u);
	EXPECT_EQ(pool.slab_count(), 0u);
	EXPECT_EQ(pool.slab_size(), 4 * kMiB);
}

TEST_F(SlabPoolTest, AllocAndFree)
{
	AllocOutcome a = pool.alloc(1, 0, 4 * kMiB);
	ASSERT_EQ(a.err, 0);
	ASSERT_NE(a.slab, nullptr);
	EXPECT_FALSE(a.resumed);
	EXPECT_EQ(a.slab->owner, 1u);
	EXPECT_EQ(a.slab->tag, 0u);
	EXPECT_EQ(a.slab->size, 4 * kMiB);
	EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.slab->mem) % proto::kPageSize, 0u);
	EXPECT_EQ(pool.used(), 4 * kMiB);
	EXPECT_EQ(pool.free_bytes(), 12 * kMiB);
	const std::uint64_t id = a.slab->id;
	EXPECT_EQ(pool.find(1, id), a.slab);
	EXPECT_EQ(pool.free(1, id), 0);
	EXPECT_EQ(pool.free_bytes(), 16 * kMiB);
	EXPECT_EQ(pool.find(1, id), nullptr);
	EXPECT_EQ(pool.free(1, id), ENOENT);
}

TEST_F(SlabPoolTest, SmallerSlabsAllowedLargerNot)
{
	EXPECT_EQ(pool.alloc(1, 0, proto::kPageSize).err, 0);
	EXPECT_EQ(pool.alloc(1, 1, 4 * kMiB + proto::kPageSize).err, EINVAL);
	EXPECT_EQ(pool.alloc(1, 2, 0).err, EINVAL);
	EXPECT_EQ(pool.alloc(1, 3, 1000).err, EINVAL);
	EXPECT_EQ(pool.used(), proto::kPageSize);
}

TEST_F(SlabPoolTest, CapacityIsEnforced)
{
	for (std::uint64_t t = 0; t < 4; t++)
		ASSERT_EQ(pool.alloc(1, t, 4 * kMiB).err, 0);
	EXPECT_EQ(pool.alloc(2, 0, 4 * kMiB).err, ENOSPC);
	EXPECT_EQ(pool.alloc(2, 0, proto::kPageSize).err, ENOSPC);
	EXPECT_EQ(pool.free_bytes(), 0u);
	// Freeing makes room again.
	Slab *s = pool.slabs_of(1).empty() ? nullptr : const_cast<Slab *>(pool.slabs_of(1)[0]);
	ASSERT_NE(s, nullptr);
	ASSERT_EQ(pool.free(1, s->id), 0);
	EXPECT_EQ(pool.alloc(2, 0, 4 * kMiB).err, 0);
}

TEST_F(SlabPoolTest, OtherOwnersSlabIsInvisible)
{
	AllocOutcome a = pool.alloc(1, 0, kMiB);
	ASSERT_EQ(a.err, 0);
	EXPECT_EQ(pool.find(2, a.slab->id), nullptr);
	EXPECT_EQ(pool.free(2, a.slab->id), ENOENT);
	EXPECT_NE(pool.find(1, a.slab->id), nullptr);
	// The same tag of another owner is another slab.
	AllocOutcome b = pool.alloc(2, 0, kMiB);
	ASSERT_EQ(b.err, 0);
	EXPECT_NE(b.slab->id, a.slab->id);
	EXPECT_FALSE(b.resumed);
}

TEST_F(SlabPoolTest, NewSlabsAreZeroedAfterUse)
{
	// Fill every byte of capacity, free it all, allocate again: zeros.
	std::vector<std::uint64_t> ids;
	for (std::uint64_t t = 0; t < 4; t++) {
		AllocOutcome a = pool.alloc(1, t, 4 * kMiB);
		ASSERT_EQ(a.err, 0);
		EXPECT_TRUE(all_zero(*a.slab));
		std::memset(a.slab->mem, 0xab, a.slab->size);
		ids.push_back(a.slab->id);
	}
	for (std::uint64_t id : ids)
		ASSERT_EQ(pool.free(1, id), 0);
	for (std::uint64_t t = 0; t < 4; t++) {
		AllocOutcome a = pool.alloc(2, t, 4 * kMiB);
		ASSERT_EQ(a.err, 0);
		EXPECT_TRUE(all_zero(*a.slab)) << "slab " << t << " of a new owner holds old bytes";
	}
}

TEST_F(SlabPoolTest, AllocIsIdempotentPerTag)
{
	AllocOutcome a = pool.alloc(1, 5, 2 * kMiB);
	ASSERT_EQ(a.err, 0);
	std::memset(a.slab->mem, 0x5a, 4096);
	AllocOutcome b = pool.alloc(1, 5, 2 * kMiB);
	ASSERT_EQ(b.err, 0);
	EXPECT_TRUE(b.resumed);
	EXPECT_EQ(b.slab, a.slab);
	EXPECT_EQ(b.slab->mem[0], std::byte{0x5a});
	EXPECT_EQ(pool.used(), 2 * kMiB);
	// The same tag with another size is a conflict.
	EXPECT_EQ(pool.alloc(1, 5, kMiB).err, EEXIST);
}

TEST_F(SlabPoolTest, GraceKeepsThenFrees)
{
	AllocOutcome a = pool.alloc(1, 0, kMiB);
	ASSERT_EQ(a.err, 0);
	std::memset(a.slab->mem, 0x77, kMiB);
	const std::uint64_t id = a.slab->id;
	pool.detach(1);
	EXPECT_FALSE(pool.find(1, id)->attached);
	clock.advance(seconds(29));
	EXPECT_EQ(pool.expire(), 0u);
	EXPECT_EQ(pool.used(), kMiB);
	// Back in time: the same slab, contents intact, attached again.
	AllocOutcome b = pool.alloc(1, 0, kMiB);
	ASSERT_EQ(b.err, 0);
	EXPECT_TRUE(b.resumed);
	EXPECT_EQ(b.slab->id, id);
	EXPECT_TRUE(b.slab->attached);
	EXPECT_EQ(b.slab->mem[kMiB - 1], std::byte{0x77});
	// Attached slabs never expire.
	clock.advance(seconds(3600));
	EXPECT_EQ(pool.expire(), 0u);
	// Detached again and past the grace: freed.
	pool.detach(1);
	clock.advance(seconds(30));
	EXPECT_EQ(pool.expire(), 1u);
	EXPECT_EQ(pool.used(), 0u);
	EXPECT_EQ(pool.find(1, id), nullptr);
	AllocOutcome c = pool.alloc(1, 0, kMiB);
	ASSERT_EQ(c.err, 0);
	EXPECT_FALSE(c.resumed);
	EXPECT_NE(c.slab->id, id);
	EXPECT_TRUE(all_zero(*c.slab));
}

TEST_F(SlabPoolTest, ExpiryIsPerOwnerDeadline)
{
	ASSERT_EQ(pool.alloc(1, 0, kMiB).err, 0);
	ASSERT_EQ(pool.alloc(2, 0, kMiB).err, 0);
	ASSERT_EQ(pool.alloc(3, 0, kMiB).err, 0);
	pool.detach(1);
	clock.advance(seconds(10));
	pool.detach(2);
	clock.advance(seconds(25));	// 1 is past its 30 s, 2 is not
	EXPECT_EQ(pool.expire(), 1u);
	EXPECT_TRUE(pool.slabs_of(1).empty());
	EXPECT_EQ(pool.slabs_of(2).size(), 1u);
	EXPECT_EQ(pool.slabs_of(3).size(), 1u);
	std::vector<OwnerUsage> u = pool.usage();
	ASSERT_EQ(u.size(), 2u);
	EXPECT_EQ(u[0].owner, 2u);
	EXPECT_TRUE(u[0].deadline.has_value());
	EXPECT_EQ(u[0].attached, 0u);
	EXPECT_EQ(u[1].owner, 3u);
	EXPECT_FALSE(u[1].deadline.has_value());
	EXPECT_EQ(u[1].attached, 1u);
}

TEST(SlabPoolZeroGrace, DetachThenExpireFreesAtOnce)
{
	FakeClock clock;
	SlabPool pool(8 * kMiB, 4 * kMiB, clock, seconds(0));
	ASSERT_EQ(pool.alloc(1, 0, kMiB).err, 0);
	pool.detach(1);
	EXPECT_EQ(pool.expire(), 1u);
	EXPECT_EQ(pool.used(), 0u);
}

TEST_F(SlabPoolTest, ReleaseAndClear)
{
	ASSERT_EQ(pool.alloc(1, 0, kMiB).err, 0);
	ASSERT_EQ(pool.alloc(1, 1, kMiB).err, 0);
	ASSERT_EQ(pool.alloc(2, 0, kMiB).err, 0);
	EXPECT_EQ(pool.release(1), 2u);
	EXPECT_EQ(pool.used(), kMiB);
	EXPECT_EQ(pool.release(1), 0u);
	pool.clear();
	EXPECT_EQ(pool.used(), 0u);
	EXPECT_EQ(pool.slab_count(), 0u);
}

TEST(SlabPoolLimits, SlabsPerOwnerAreBounded)
{
	FakeClock clock;
	const std::uint64_t page = proto::kPageSize;
	SlabPool pool((kMaxSlabsPerOwner + 1) * page, page, clock, seconds(1));
	for (std::uint64_t t = 0; t < kMaxSlabsPerOwner; t++)
		ASSERT_EQ(pool.alloc(1, t, page).err, 0) << t;
	EXPECT_EQ(pool.alloc(1, kMaxSlabsPerOwner, page).err, ENOSPC);
	EXPECT_EQ(pool.alloc(2, 0, page).err, 0);
}

}  // namespace
}  // namespace disagg::memd

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory a node exports, handed out in slabs.
//
// Each slab is its own anonymous mapping. memd never reuses slab memory
// itself: a freed slab is unmapped, its pages go back to the kernel, and a
// new slab is a new mapping that the kernel fills with zeros. So slabs are
// zeroed on free, by construction, and no client ever sees another's bytes.
//
// A slab belongs to an owner (the client_id from the client's hello) and
// carries the owner's tag. Allocation is idempotent per (owner, tag). When an
// owner's connection ends its slabs are detached and get a deadline of
// now + grace; an owner that asks for the tag again before the deadline gets
// the same slab back (resumed), and expire() frees the rest. Capacity is
// counted in bytes of slabs handed out. It may change at runtime
// (set_capacity()); below what is handed out, used() stays above it until
// owners free slabs, and alloc() refuses new ones meanwhile.
//
// Not thread-safe: the daemon's event loop is the only user.
#pragma once

#include "clock.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace disagg::memd {

// Bounds that keep a hostile client from building huge tables.
inline constexpr std::size_t kMaxSlabsPerOwner = 1u << 14;
inline constexpr std::size_t kMaxSlabs = 1u << 15;	// below vm.max_map_count

struct Slab {
	std::uint64_t id = 0;
	std::uint64_t owner = 0;
	std::uint64_t tag = 0;
	std::uint64_t size = 0;
	std::byte *mem = nullptr;
	bool attached = true;	// held by a live connection of its owner
	TimePoint deadline{};	// when !attached: freed at this time
};

struct AllocOutcome {
	int err = 0;		// 0 or a positive errno
	Slab *slab = nullptr;
	bool resumed = false;	// the owner already held this tag
};

// Per-owner totals, for status output.
struct OwnerUsage {
	std::uint64_t owner = 0;
	std::size_t slabs = 0;
	std::size_t attached = 0;
	std::uint64_t bytes = 0;
	std::optional<TimePoint> deadline;	// earliest, of detached slabs
};

class SlabPool {
public:
	SlabPool(std::uint64_t capacity, std::uint64_t max_slab_size,
		 const Clock &clock, Duration grace);
	~SlabPool();
	SlabPool(const SlabPool &) = delete;
	SlabPool &operator=(const SlabPool &) = delete;

	// The owner's slab for @tag, new (zeroed) or the one it holds. Errors:
	// EINVAL (size 0, not a page multiple, above the slab size), EEXIST
	// (tag held with another size), ENOSPC (capacity or slab count),
	// ENOMEM (the host has no memory). A held slab is attached again.
	AllocOutcome alloc(std::uint64_t owner, std::uint64_t tag, std::uint64_t size);

	// Free the owner's slab @id: 0, or ENOENT when the owner has no such
	// slab (another owner's slab is reported the same way).
	int free(std::uint64_t owner, std::uint64_t id);

	// The owner's slab @id, or nullptr.
	Slab *find(std::uint64_t owner, std::uint64_t id);
	// Whether the owner holds a slab for @tag (alloc() would resume it).
	bool holds(std::uint64_t owner, std::uint64_t tag) const
	{
		return by_tag_.contains({owner, tag});
	}

	// Detach all of an owner's slabs with a deadline of now + grace.
	void detach(std::uint64_t owner);
	// Free all of an owner's slabs now; returns how many.
	std::size_t release(std::uint64_t owner);
	// Free detached slabs whose deadline has passed; returns how many.
	std::size_t expire();
	// Free everything.
	void clear();

	// A new capacity; nothing is freed (see MemService's eviction).
	void set_capacity(std::uint64_t bytes) { capacity_ = bytes; }
	std::uint64_t capacity() const { return capacity_; }
	std::uint64_t used() const { return used_; }
	// 0 while over capacity.
	std::uint64_t free_bytes() const { return used_ < capacity_ ? capacity_ - used_ : 0; }
	bool over_capacity() const { return used_ > capacity_; }
	std::uint64_t slab_size() const { return max_slab_; }
	std::size_t slab_count() const { return slabs_.size(); }
	Duration grace() const { return grace_; }
	const Clock &clock() const { return clock_; }

	// Every slab, by id (ids grow: the last is the newest).
	const std::map<std::uint64_t, Slab> &slabs() const { return slabs_; }
	std::vector<OwnerUsage> usage() const;
	// The owner's slabs, in id order.
	std::vector<const Slab *> slabs_of(std::uint64_t owner) const;

private:
	struct Unmap {
		std::uint64_t size;
		void operator()(std::byte *p) const;
	};
	void erase(std::map<std::uint64_t, Slab>::iterator it);

	std::uint64_t capacity_;
	const std::uint64_t max_slab_;
	const Clock &clock_;
	const Duration grace_;
	std::uint64_t used_ = 0;
	std::uint64_t next_id_ = 1;
	std::map<std::uint64_t, Slab> slabs_;	// by id
	// (owner, tag) -> id, and (owner, id) for per-owner walks.
	std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> by_tag_;
	std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> by_owner_;
	std::map<std::uint64_t, std::size_t> owner_count_;
};

}  // namespace disagg::memd

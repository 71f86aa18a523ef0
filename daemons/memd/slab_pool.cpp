// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "slab_pool.hpp"

#include "log.hpp"
#include "proto.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace disagg::memd {

namespace {

// A zero-filled anonymous mapping of @size bytes, or nullptr.
std::byte *map_zeroed(std::uint64_t size)
{
	void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return nullptr;
	// Fewer page-table and MR entries for big slabs; a hint only.
	if (size >= (2u << 20))
		(void)::madvise(p, size, MADV_HUGEPAGE);
	// Slab contents never belong in a core dump.
	(void)::madvise(p, size, MADV_DONTDUMP);
	return static_cast<std::byte *>(p);
}

}  // namespace

SlabPool::SlabPool(std::uint64_t capacity, std::uint64_t max_slab_size,
		   const Clock &clock, Duration grace)
	: capacity_(capacity), max_slab_(max_slab_size), clock_(clock), grace_(grace)
{
}

SlabPool::~SlabPool() { clear(); }

AllocOutcome SlabPool::alloc(std::uint64_t owner, std::uint64_t tag,
			     std::uint64_t size)
{
	if (size == 0 || size % proto::kPageSize || size > max_slab_)
		return {EINVAL};
	if (auto t = by_tag_.find({owner, tag}); t != by_tag_.end()) {
		Slab &s = slabs_.at(t->second);
		if (s.size != size)
			return {EEXIST};
		s.attached = true;
		s.deadline = {};
		return {0, &s, true};
	}
	if (size > free_bytes() || slabs_.size() >= kMaxSlabs ||
	    owner_count_[owner] >= kMaxSlabsPerOwner)
		return {ENOSPC};
	std::byte *mem = map_zeroed(size);
	if (!mem) {
		LOG_WARN_RL("cannot map a %llu-byte slab: %s",
			    static_cast<unsigned long long>(size), std::strerror(errno));
		return {ENOMEM};
	}
	const std::uint64_t id = next_id_++;
	Slab &s = slabs_[id];
	s = Slab{id, owner, tag, size, mem, true, {}};
	by_tag_[{owner, tag}] = id;
	by_owner_[{owner, id}] = id;
	owner_count_[owner]++;
	used_ += size;
	return {0, &s, false};
}

void SlabPool::erase(std::map<std::uint64_t, Slab>::iterator it)
{
	Slab &s = it->second;
	// Unmapping is the zeroing: the pages go back to the kernel.
	if (::munmap(s.mem, s.size) != 0)
		LOG_ERR("munmap of slab %llu failed: %s",
			static_cast<unsigned long long>(s.id), std::strerror(errno));
	used_ -= s.size;
	by_tag_.erase({s.owner, s.tag});
	by_owner_.erase({s.owner, s.id});
	if (auto c = owner_count_.find(s.owner); c != owner_count_.end() && --c->second == 0)
		owner_count_.erase(c);
	slabs_.erase(it);
}

int SlabPool::free(std::uint64_t owner, std::uint64_t id)
{
	auto it = slabs_.find(id);
	if (it == slabs_.end() || it->second.owner != owner)
		return ENOENT;
	erase(it);
	return 0;
}

Slab *SlabPool::find(std::uint64_t owner, std::uint64_t id)
{
	auto it = slabs_.find(id);
	if (it == slabs_.end() || it->second.owner != owner)
		return nullptr;
	return &it->second;
}

void SlabPool::detach(std::uint64_t owner)
{
	const TimePoint deadline = clock_.now() + grace_;
	for (auto it = by_owner_.lower_bound({owner, 0});
	     it != by_owner_.end() && it->first.first == owner; ++it) {
		Slab &s = slabs_.at(it->second);
		if (s.attached) {
			s.attached = false;
			s.deadline = deadline;
		}
	}
}

std::size_t SlabPool::release(std::uint64_t owner)
{
	std::vector<std::uint64_t> ids;
	for (auto it = by_owner_.lower_bound({owner, 0});
	     it != by_owner_.end() && it->first.first == owner; ++it)
		ids.push_back(it->second);
	for (std::uint64_t id : ids)
		erase(slabs_.find(id));
	return ids.size();
}

std::size_t SlabPool::expire()
{
	const TimePoint now = clock_.now();
	std::size_t n = 0;
	for (auto it = slabs_.begin(); it != slabs_.end();) {
		auto next = std::next(it);
		if (!it->second.attached && it->second.deadline <= now) {
			erase(it);
			n++;
		}
		it = next;
	}
	return n;
}

void SlabPool::clear()
{
	while (!slabs_.empty())
		erase(slabs_.begin());
}

std::vector<OwnerUsage> SlabPool::usage() const
{
	std::vector<OwnerUsage> out;
	for (const auto &[key, id] : by_owner_) {
		const Slab &s = slabs_.at(id);
		if (out.empty() || out.back().owner != s.owner)
		{
			OwnerUsage u;
			u.owner = s.owner;
			out.push_back(u);
		}
		OwnerUsage &u = out.back();
		u.slabs++;
		u.bytes += s.size;
		if (s.attached)
			u.attached++;
		else if (!u.deadline || s.deadline < *u.deadline)
			u.deadline = s.deadline;
	}
	return out;
}

std::vector<const Slab *> SlabPool::slabs_of(std::uint64_t owner) const
{
	std::vector<const Slab *> out;
	for (auto it = by_owner_.lower_bound({owner, 0});
	     it != by_owner_.end() && it->first.first == owner; ++it)
		out.push_back(&slabs_.at(it->second));
	return out;
}

}  // namespace disagg::memd

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "fd_cache.hpp"

#include "path.hpp"

namespace disagg::stord {

// The length of @who (at most 255 bytes: 2 + DG_FS_NGROUPS ids), @who,
// then the path: no two (who, path) pairs share a key.
std::string FdCache::key_of(std::string_view who, std::string_view path)
{
	std::string k(1, static_cast<char>(who.size()));
	k.append(who);
	k.append(path);
	return k;
}

std::shared_ptr<CachedFd> FdCache::lookup(std::string_view who, std::string_view path,
					  std::uint64_t &gen)
{
	std::lock_guard<std::mutex> g(lock_);
	gen = gen_;
	auto it = map_.find(key_of(who, path));
	if (it == map_.end()) {
		misses_++;
		return nullptr;
	}
	hits_++;
	lru_.splice(lru_.begin(), lru_, it->second.lru);
	return it->second.fd;
}

void FdCache::insert(std::string_view who, std::string_view path,
		     std::shared_ptr<CachedFd> fd, std::uint64_t gen)
{
	std::lock_guard<std::mutex> g(lock_);
	if (capacity_ == 0 || gen != gen_ || who.size() > 255)
		return;
	std::string key = key_of(who, path);
	const std::size_t path_at = 1 + who.size();
	if (auto it = map_.find(key); it != map_.end()) {
		it->second.fd = std::move(fd);
		lru_.splice(lru_.begin(), lru_, it->second.lru);
		return;
	}
	while (map_.size() >= capacity_) {
		map_.erase(lru_.back());
		lru_.pop_back();
	}
	lru_.push_front(key);
	map_.emplace(std::move(key), Entry{std::move(fd), lru_.begin(), path_at});
}

void FdCache::invalidate(std::string_view path)
{
	std::lock_guard<std::mutex> g(lock_);
	gen_++;
	for (auto it = map_.begin(); it != map_.end();) {
		if (path_within(std::string_view(it->first).substr(it->second.path_at), path)) {
			lru_.erase(it->second.lru);
			it = map_.erase(it);
		} else {
			++it;
		}
	}
}

std::size_t FdCache::size() const
{
	std::lock_guard<std::mutex> g(lock_);
	return map_.size();
}

std::uint64_t FdCache::hits() const
{
	std::lock_guard<std::mutex> g(lock_);
	return hits_;
}

std::uint64_t FdCache::misses() const
{
	std::lock_guard<std::mutex> g(lock_);
	return misses_;
}

}  // namespace disagg::stord

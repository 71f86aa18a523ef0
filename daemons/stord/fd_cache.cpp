// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "fd_cache.hpp"

#include "path.hpp"

namespace disagg::stord {

std::shared_ptr<CachedFd> FdCache::lookup(std::string_view path, std::uint64_t &gen)
{
	std::lock_guard<std::mutex> g(lock_);
	gen = gen_;
	auto it = map_.find(std::string(path));
	if (it == map_.end()) {
		misses_++;
		return nullptr;
	}
	hits_++;
	lru_.splice(lru_.begin(), lru_, it->second.lru);
	return it->second.fd;
}

void FdCache::insert(std::string_view path, std::shared_ptr<CachedFd> fd, std::uint64_t gen)
{
	std::lock_guard<std::mutex> g(lock_);
	if (capacity_ == 0 || gen != gen_)
		return;
	std::string key(path);
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
	map_.emplace(std::move(key), Entry{std::move(fd), lru_.begin()});
}

void FdCache::invalidate(std::string_view path)
{
	std::lock_guard<std::mutex> g(lock_);
	gen_++;
	for (auto it = map_.begin(); it != map_.end();) {
		if (path_within(it->first, path)) {
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

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Open regular files, by path, least recently used first out.
//
// Only files reached without any symlink are cached (the opener uses
// RESOLVE_NO_SYMLINKS), so the cached path names real directories all the
// way down and every change of what it names goes through a RENAME, UNLINK
// or RMDIR of the path itself or of one of its parents: those call
// invalidate() on the path (and a rename on its target) after the change,
// which drops the path and everything beneath it. An open that raced with
// such a change must not put its stale descriptor back: lookup() hands out
// a generation, and insert() keeps the entry only if no invalidation
// happened since. Entries are shared: a descriptor stays open until the
// last request using it is done, even when it was dropped meanwhile.
//
// Entries are per caller: the key is the caller's mapped credentials
// (@who, see ids_key()) and the path, so a descriptor opened with one
// caller's rights is never used for another's request; every caller's
// first open of a path is a full openat2 with its own credentials, which
// checks search permission on every directory on the way. SETATTR
// invalidates the path too, so a chmod or chown through stord is seen by
// the next request of everybody.
//
// Assumes stord is the only one renaming and removing beneath its root;
// see the admin guide.
#pragma once

#include "unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace disagg::stord {

struct CachedFd {
	UniqueFd fd;
	bool writable = false;	// opened O_RDWR (else O_RDONLY)
};

class FdCache {
public:
	explicit FdCache(std::size_t capacity) : capacity_(capacity) {}

	// The entry of @path for caller @who, or nullptr; @gen is what
	// insert() needs.
	std::shared_ptr<CachedFd> lookup(std::string_view who, std::string_view path,
					 std::uint64_t &gen);
	// Remember @fd for @who and @path unless something was invalidated
	// since the lookup() that returned @gen (or the cache is disabled).
	void insert(std::string_view who, std::string_view path, std::shared_ptr<CachedFd> fd,
		    std::uint64_t gen);
	// Drop @path and every path beneath it, for every caller.
	void invalidate(std::string_view path);

	std::size_t size() const;
	std::size_t capacity() const { return capacity_; }
	std::uint64_t hits() const;
	std::uint64_t misses() const;

private:
	using Lru = std::list<std::string>;	// most recent first
	struct Entry {
		std::shared_ptr<CachedFd> fd;
		Lru::iterator lru;
		std::size_t path_at;	// where the path starts in the key
	};
	static std::string key_of(std::string_view who, std::string_view path);
	const std::size_t capacity_;
	mutable std::mutex lock_;
	std::unordered_map<std::string, Entry> map_;
	Lru lru_;
	std::uint64_t gen_ = 0;
	std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace disagg::stord

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The exported directory, and every way of reaching something beneath it.
//
// Whole paths are resolved with openat2(2) and RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS from the root's descriptor: an absolute symlink, a
// ".." or a symlink that would leave the root, and /proc magic links all
// fail (EXDEV, ELOOP). Final-component operations resolve the parent that
// way and then act on one name with the *at() calls, never following a
// symlink there. Objects already pinned by an O_PATH descriptor are reached
// again through /proc/self/fd/N (the kernel follows that link to exactly
// the pinned inode, never by name), which is how chmod, the xattr calls
// and the reopen of a checked regular file avoid every name lookup.
//
// Unless set_cross_mounts(true), every resolution adds RESOLVE_NO_XDEV:
// a path that would cross into another mount beneath the root (a
// filesystem mounted there, a bind mount), the final component included,
// fails with EXDEV, as an NFS export without crossmnt stops at mounts.
#pragma once

#include "unique_fd.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace disagg::stord {

// A final component: its parent directory (O_PATH) and its name.
struct At {
	UniqueFd dir;
	std::string name;
};

class FsRoot {
public:
	// Opens @dir. False and @err when it is not a directory or /proc is
	// not mounted (stord needs /proc/self/fd).
	bool open(const std::string &dir, std::string &err);

	const std::string &dir() const { return dir_; }
	void set_cross_mounts(bool on) { cross_mounts_ = on; }
	bool cross_mounts() const { return cross_mounts_; }
	int fd() const { return fd_.get(); }

	// openat2 of a checked @path beneath the root; @no_symlinks adds
	// RESOLVE_NO_SYMLINKS. A descriptor, or -errno.
	int open_path(std::string_view path, int flags, bool no_symlinks = false) const;
	// O_PATH|O_DIRECTORY descriptor of @path's parent and its last name;
	// -errno on failure.
	int open_parent(std::string_view path, std::string &name) const;
	// The same into @at; 0 or errno.
	int resolve_at(std::string_view path, At &at) const;
	// O_PATH|O_NOFOLLOW descriptor of @path's final component itself
	// (parent plus name): 0 or errno.
	int open_final(std::string_view path, UniqueFd &out) const;
	// O_PATH|O_NOFOLLOW descriptor of @name in directory @dirfd: the final
	// component itself, symlink or not. -errno on failure.
	int open_name(int dirfd, const std::string &name) const;
	// fstatat(AT_SYMLINK_NOFOLLOW) of @name in @dirfd, through open_name()
	// when mounts may not be crossed. 0 or errno.
	int stat_name(int dirfd, const std::string &name, struct stat &st) const;
	// Reopen an O_PATH descriptor with @flags through /proc/self/fd.
	static int reopen(int opath_fd, int flags);
	// "/proc/self/fd/N".
	static std::string proc_path(int fd);

private:
	std::uint64_t resolve_flags() const;

	std::string dir_;
	UniqueFd fd_;
	bool cross_mounts_ = false;
};

}  // namespace disagg::stord

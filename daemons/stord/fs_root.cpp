// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "fs_root.hpp"

#include "path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

namespace disagg::stord {

namespace {

constexpr int kOpenat2Retries = 8;

int openat2_beneath(int dirfd, const std::string &path, int flags, std::uint64_t resolve)
{
	open_how how{};
	// openat2 refuses O_PATH with anything but O_DIRECTORY/O_NOFOLLOW.
	if (!(flags & O_PATH))
		flags |= O_NOCTTY;
	how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve;
	for (int i = 0;; i++) {
		long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
		if (fd >= 0)
			return static_cast<int>(fd);
		// EAGAIN: a concurrent rename or mount; the kernel asks us to
		// try again.
		if ((errno != EAGAIN && errno != EINTR) || i >= kOpenat2Retries)
			return -errno;
	}
}

}  // namespace

bool FsRoot::open(const std::string &dir, std::string &err)
{
	int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = "--root " + dir + ": " + std::strerror(errno);
		return false;
	}
	fd_.reset(fd);
	dir_ = dir;
	// Check that openat2 and /proc/self/fd both work here.
	int probe = openat2_beneath(fd, ".", O_PATH | O_DIRECTORY, 0);
	if (probe < 0) {
		err = std::string("openat2: ") + std::strerror(-probe) +
		      " (stord needs Linux 5.6 or newer)";
		return false;
	}
	int again = reopen(probe, O_RDONLY | O_DIRECTORY);
	::close(probe);
	if (again < 0) {
		err = std::string("cannot reopen through /proc/self/fd: ") +
		      std::strerror(-again) + " (is /proc mounted?)";
		return false;
	}
	::close(again);
	return true;
}

std::uint64_t FsRoot::resolve_flags() const
{
	return cross_mounts_ ? 0 : RESOLVE_NO_XDEV;
}

int FsRoot::open_path(std::string_view path, int flags, bool no_symlinks) const
{
	return openat2_beneath(fd(), std::string(path), flags,
			       (no_symlinks ? RESOLVE_NO_SYMLINKS : 0) | resolve_flags());
}

int FsRoot::open_parent(std::string_view path, std::string &name) const
{
	Split s = split_path(path);
	name.assign(s.name);
	return openat2_beneath(fd(), std::string(s.parent), O_PATH | O_DIRECTORY,
			       resolve_flags());
}

int FsRoot::resolve_at(std::string_view path, At &at) const
{
	int fd = open_parent(path, at.name);
	if (fd < 0)
		return -fd;
	at.dir.reset(fd);
	return 0;
}

int FsRoot::open_final(std::string_view path, UniqueFd &out) const
{
	At at;
	if (int err = resolve_at(path, at))
		return err;
	int fd = open_name(at.dir.get(), at.name);
	if (fd < 0)
		return -fd;
	out.reset(fd);
	return 0;
}

int FsRoot::open_name(int dirfd, const std::string &name) const
{
	// One name, no slash, not "..": openat() cannot leave @dirfd, but it
	// would step onto a filesystem mounted on @name.
	if (!cross_mounts_)
		return openat2_beneath(dirfd, name, O_PATH | O_NOFOLLOW, RESOLVE_NO_XDEV);
	int fd = ::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int FsRoot::stat_name(int dirfd, const std::string &name, struct stat &st) const
{
	if (cross_mounts_)
		return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
	int fd = open_name(dirfd, name);
	if (fd < 0)
		return -fd;
	UniqueFd self(fd);
	return ::fstat(fd, &st) == 0 ? 0 : errno;
}

std::string FsRoot::proc_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

int FsRoot::reopen(int opath_fd, int flags)
{
	int fd = ::open(proc_path(opath_fd).c_str(), flags | O_CLOEXEC | O_NOCTTY);
	return fd >= 0 ? fd : -errno;
}

}  // namespace disagg::stord

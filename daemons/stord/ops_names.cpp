// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Operations on a final component: the parent is resolved beneath the
// root, then one name is acted on with the *at() calls, never following a
// symlink in it. Renames and removals invalidate the fd cache afterwards.
#include "fs_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace disagg::stord {

using namespace proto;

namespace {

dev_t decode_dev(std::uint32_t d)
{
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

// lstat of @at's name into @out.
int stat_at(const FsRoot &root, const At &at, FsAttr &out)
{
	struct stat st;
	if (int err = root.stat_name(at.dir.get(), at.name, st))
		return err;
	out = to_attr(st);
	return 0;
}

// fstat of a directory we hold open.
int stat_dir(int dirfd, FsAttr &out)
{
	struct stat st;
	if (::fstat(dirfd, &st) != 0)
		return errno;
	out = to_attr(st);
	return 0;
}

timespec time_of(std::uint32_t valid, std::uint32_t set, std::uint32_t now,
		 std::uint64_t sec, std::uint32_t nsec)
{
	timespec ts{};
	if (valid & now) {
		ts.tv_nsec = UTIME_NOW;
	} else if (valid & set) {
		ts.tv_sec = static_cast<time_t>(sec);
		ts.tv_nsec = nsec;
	} else {
		ts.tv_nsec = UTIME_OMIT;
	}
	return ts;
}

}  // namespace

int FsOps::getattr(const FsReq &r, Out &out)
{
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	FsAttr a;
	if (int err = stat_at(root_, at, a))
		return err;
	out.body = a;
	return 0;
}

int FsOps::entry_reply(const At &at, const FsAttr &attr, Out &out)
{
	if (!out.fsattr) {
		out.body = attr;
		return 0;
	}
	FsEntry e;
	e.attr = attr;
	// The change is made: without the directory's attributes, answer
	// the old form rather than an error (the client asks later).
	if (stat_dir(at.dir.get(), e.dir)) {
		out.body = attr;
		return 0;
	}
	e.old_dir = e.dir;
	out.body = e;
	return 0;
}

// lstat of the new name, then entry_reply().
int FsOps::new_name_reply(const At &at, Out &out)
{
	FsAttr a;
	if (int err = stat_at(root_, at, a))
		return err;
	return entry_reply(at, a, out);
}

int FsOps::setattr(const FsReq &r, Out &out)
{
	const std::uint32_t v = r.valid;
	if (v & ~DG_FS_SET_KNOWN)
		return EINVAL;
	if (((v & DG_FS_SET_ATIME) && r.atime_nsec >= 1000000000u) ||
	    ((v & DG_FS_SET_MTIME) && r.mtime_nsec >= 1000000000u))
		return EINVAL;
	// The size follows symlinks, like truncate(2).
	if (v & DG_FS_SET_SIZE) {
		if (r.offset > static_cast<std::uint64_t>(LLONG_MAX))
			return EINVAL;
		int err = 0;
		auto f = open_file(r.path, true, err);
		if (!f)
			return err;
		if (::ftruncate(f->fd.get(), static_cast<off_t>(r.offset)) != 0)
			return errno;
	}
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	int o = root_.open_name(at.dir.get(), at.name);
	if (o < 0)
		return -o;
	UniqueFd self(o);
	// Owner before mode: a chown clears set-id bits.
	if (v & (DG_FS_SET_UID | DG_FS_SET_GID)) {
		const uid_t uid = (v & DG_FS_SET_UID) ? r.uid : static_cast<uid_t>(-1);
		const gid_t gid = (v & DG_FS_SET_GID) ? r.gid : static_cast<gid_t>(-1);
		if (::fchownat(o, "", uid, gid, AT_EMPTY_PATH) != 0)
			return errno;
	}
	if (v & DG_FS_SET_MODE) {
		struct stat st;
		if (::fstat(o, &st) != 0)
			return errno;
		if (S_ISLNK(st.st_mode))
			return EOPNOTSUPP;	// as fchmodat(AT_SYMLINK_NOFOLLOW)
		const mode_t mode = allowed_mode(r.mode & 07777, S_ISDIR(st.st_mode));
		if (::chmod(FsRoot::proc_path(o).c_str(), mode) != 0)
			return errno;
	}
	if (v & (DG_FS_SET_ATIME | DG_FS_SET_MTIME | DG_FS_SET_ATIME_NOW |
		 DG_FS_SET_MTIME_NOW)) {
		const timespec ts[2] = {
			time_of(v, DG_FS_SET_ATIME, DG_FS_SET_ATIME_NOW, r.atime_sec,
				r.atime_nsec),
			time_of(v, DG_FS_SET_MTIME, DG_FS_SET_MTIME_NOW, r.mtime_sec,
				r.mtime_nsec),
		};
		if (::utimensat(at.dir.get(), at.name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
			return errno;
	}
	// Who may open it may have changed: every caller opens it afresh.
	if (v & (DG_FS_SET_MODE | DG_FS_SET_UID | DG_FS_SET_GID))
		cache_.invalidate(r.path);
	struct stat st;
	if (::fstat(o, &st) != 0)
		return errno;
	out.body = to_attr(st);
	return 0;
}

int FsOps::create(const FsReq &r, Out &out)
{
	const mode_t type = r.mode & S_IFMT;
	if (type != 0 && type != S_IFREG)
		return EINVAL;
	const mode_t perm = allowed_mode(r.mode & 07777, false);
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	const char *name = at.name.c_str();
	int fd = ::openat(at.dir.get(), name,
			  O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, perm);
	if (fd < 0) {
		if (errno != EEXIST || (r.flags & DG_FS_CREATE_EXCL))
			return errno;
		// It exists and that is fine: describe it, as open(O_CREAT)
		// would open it (but a symlink or directory would fail).
		FsAttr a;
		if (int err = stat_at(root_, at, a))
			return err;
		if (S_ISLNK(a.mode))
			return ELOOP;
		if (S_ISDIR(a.mode))
			return EISDIR;
		return entry_reply(at, a, out);
	}
	// Created by the caller: its owner and group are the caller's (or the
	// directory's group, by the storage host's rules).
	UniqueFd file(fd);
	struct stat st;
	if (::fstat(fd, &st) != 0) {
		const int err = errno;
		(void)::unlinkat(at.dir.get(), name, 0);
		return err;
	}
	return entry_reply(at, to_attr(st), out);
}

int FsOps::mkdir(const FsReq &r, Out &out)
{
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	// mkdir(2) takes no set-ID bits from the mode; a set-group-ID parent
	// passes its own on.
	if (::mkdirat(at.dir.get(), at.name.c_str(), r.mode & 07777) != 0)
		return errno;
	return new_name_reply(at, out);
}

int FsOps::mknod(const FsReq &r, Out &out)
{
	mode_t type = r.mode & S_IFMT;
	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
	    type != S_IFSOCK)
		return EINVAL;
	const bool device = type == S_IFCHR || type == S_IFBLK;
	if (device && !opt_.allow_devices)
		return EPERM;
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	const dev_t dev = device ? decode_dev(r.rdev) : 0;
	const mode_t perm = allowed_mode(r.mode & 07777, false);
	if (::mknodat(at.dir.get(), at.name.c_str(), type | perm, dev) != 0)
		return errno;
	return new_name_reply(at, out);
}

int FsOps::symlink(const FsReq &r, Out &out)
{
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	// The target is stored, never followed here; following it later is
	// resolved beneath the root like any path.
	const std::string target(r.name2);
	if (::symlinkat(target.c_str(), at.dir.get(), at.name.c_str()) != 0)
		return errno;
	return new_name_reply(at, out);
}

int FsOps::link(const FsReq &r, Out &out)
{
	At from, to;
	if (int err = root_.resolve_at(r.path, from))
		return err;
	if (int err = root_.resolve_at(r.name2, to))
		return err;
	// Flags 0: a symlink is linked itself, not followed.
	if (::linkat(from.dir.get(), from.name.c_str(), to.dir.get(), to.name.c_str(), 0) != 0)
		return errno;
	return new_name_reply(to, out);
}

int FsOps::unlink(const FsReq &r, bool dir, Out &out)
{
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	if (::unlinkat(at.dir.get(), at.name.c_str(), dir ? AT_REMOVEDIR : 0) != 0)
		return errno;
	cache_.invalidate(r.path);
	if (!out.rmattr)
		return 0;
	// Done: without the directory's attributes answer the old (empty)
	// form; the client asks later.
	FsEntry e;
	if (stat_dir(at.dir.get(), e.dir))
		return 0;
	e.old_dir = e.dir;
	out.body = e;
	return 0;
}

int FsOps::rename(const FsReq &r, Out &out)
{
	At from, to;
	if (int err = root_.resolve_at(r.path, from))
		return err;
	if (int err = root_.resolve_at(r.name2, to))
		return err;
	if (::syscall(SYS_renameat2, from.dir.get(), from.name.c_str(), to.dir.get(),
		      to.name.c_str(), r.flags) != 0)
		return errno;
	cache_.invalidate(r.path);
	cache_.invalidate(r.name2);
	if (!out.fsattr)
		return 0;
	// Done: a failed lstat now is not a failed rename. The client takes
	// an empty reply as the old form and asks later.
	FsEntry e;
	if (stat_at(root_, to, e.attr) || stat_dir(to.dir.get(), e.dir) ||
	    stat_dir(from.dir.get(), e.old_dir))
		return 0;
	out.body = e;
	return 0;
}

int FsOps::readlink(const FsReq &r, Out &out)
{
	At at;
	if (int err = root_.resolve_at(r.path, at))
		return err;
	out.buf.resize(kFsPathMax + 1);
	ssize_t n = ::readlinkat(at.dir.get(), at.name.c_str(),
				 reinterpret_cast<char *>(out.buf.data()), out.buf.size());
	if (n < 0)
		return errno;
	out.buf.resize(static_cast<std::size_t>(n));
	out.body = Data{out.buf};
	return 0;
}

}  // namespace disagg::stord

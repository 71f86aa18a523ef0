// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// READ, WRITE, FSYNC, STATFS (symlinks followed, beneath the root) and
// READDIR (stateless cookies: the getdents64 d_off of each entry).
#include "fs_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace disagg::stord {

using namespace proto;

namespace {

constexpr std::size_t kDentsBuf = 32 * 1024;
constexpr std::uint64_t kOffMax = static_cast<std::uint64_t>(LLONG_MAX);

// The kernel's struct linux_dirent64 header.
struct Dirent64 {
	std::uint64_t d_ino;
	std::int64_t d_off;
	std::uint16_t d_reclen;
	std::uint8_t d_type;
};
constexpr std::size_t kDirentName = 19;	// offsetof(linux_dirent64, d_name)

int sync_fd(int fd, bool data_only)
{
	return (data_only ? ::fdatasync(fd) : ::fsync(fd)) == 0 ? 0 : errno;
}

}  // namespace

int FsOps::read(const FsReq &r, Out &out)
{
	// With segments the data goes into the staging buffer, which the
	// service then writes into the client's memory (RDMA WRITE).
	const bool segs = r.flags & DG_FS_IO_SEGS;
	if (r.count > (segs ? kFsRdmaIoMax : kFsIoMax) || r.offset > kOffMax)
		return EINVAL;
	int err = 0;
	auto f = open_file(r.path, false, err);
	if (!f)
		return err;
	std::byte *dst = out.staging.data();
	if (!segs) {
		out.buf.resize(r.count);
		dst = out.buf.data();
	}
	std::size_t got = 0;
	while (got < r.count) {
		ssize_t n = ::pread(f->fd.get(), dst + got, r.count - got,
				    static_cast<off_t>(r.offset + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (got == 0)
				return errno;
			break;
		}
		if (n == 0)
			break;
		got += static_cast<std::size_t>(n);
	}
	if (segs) {
		out.io_bytes = static_cast<std::uint32_t>(got);
		out.buf = encode_fs_rdma_read_reply(out.io_bytes);
	} else {
		out.buf.resize(got);
	}
	out.body = Data{out.buf};
	return 0;
}

int FsOps::write(const FsReq &r, Out &out)
{
	// With segments the data was fetched into the staging buffer.
	const ByteSpan data = (r.flags & DG_FS_IO_SEGS) ? ByteSpan(out.staging.first(r.count))
							  : r.data;
	if (r.offset > kOffMax)
		return EINVAL;
	if (data.size() > kOffMax - r.offset)
		return EFBIG;
	int err = 0;
	auto f = open_file(r.path, true, err);
	if (!f)
		return err;
	const int fd = f->fd.get();
	std::size_t done = 0;
	while (done < data.size()) {
		ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
				     static_cast<off_t>(r.offset + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done == 0)
				return errno;
			break;	// a short write, as pwrite(2) reports it
		}
		done += static_cast<std::size_t>(n);
	}
	// The client's writeback ends with this reply: unless the export is
	// --async, the data must survive a crash of this host from now on.
	if ((r.flags & DG_FS_WRITE_SYNC) && !opt_.async && (err = sync_fd(fd, true)))
		return err;
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return errno;
	out.body = FsWriteReply{static_cast<std::uint32_t>(done), to_attr(st)};
	return 0;
}

int FsOps::fsync(const FsReq &r)
{
	const bool data_only = r.flags & DG_FS_FSYNC_DATA;
	int o = root_.open_path(r.path, O_PATH);
	if (o < 0)
		return -o;
	UniqueFd opath(o);
	struct stat st;
	if (::fstat(o, &st) != 0)
		return errno;
	int err = 0;
	if (S_ISDIR(st.st_mode)) {
		int d = FsRoot::reopen(o, O_RDONLY | O_DIRECTORY);
		if (d < 0)
			return -d;
		UniqueFd dir(d);
		return sync_fd(d, data_only);
	}
	auto f = open_file(r.path, false, err);
	if (!f)
		return err;
	if ((err = sync_fd(f->fd.get(), data_only)))
		return err;
	// Make the file's name durable too: sync the directory holding it.
	At at;
	if ((err = root_.resolve_at(r.path, at)))
		return err;
	int d = FsRoot::reopen(at.dir.get(), O_RDONLY | O_DIRECTORY);
	if (d < 0)
		return -d;
	UniqueFd dir(d);
	return sync_fd(d, false);
}

int FsOps::statfs(const FsReq &r, Out &out)
{
	int o = root_.open_path(r.path, O_PATH);
	if (o < 0)
		return -o;
	UniqueFd opath(o);
	struct statvfs sv;
	if (::fstatvfs(o, &sv) != 0)
		return errno;
	FsStatfs s;
	s.blocks = sv.f_blocks;
	s.bfree = sv.f_bfree;
	s.bavail = sv.f_bavail;
	s.files = sv.f_files;
	s.ffree = sv.f_ffree;
	s.bsize = static_cast<std::uint32_t>(sv.f_bsize);
	s.frsize = static_cast<std::uint32_t>(sv.f_frsize);
	s.namelen = static_cast<std::uint32_t>(sv.f_namemax);
	out.body = s;
	return 0;
}

int FsOps::readdir(const FsReq &r, Out &out, bool plus)
{
	// At most one message's worth; too little for any entry is EINVAL.
	const std::size_t count = std::min<std::size_t>(r.count, kFsIoMax);
	const std::size_t least = plus ? fs_direntplus_size(1) : fs_dirent_size(1);
	if (count < kFsReaddirReplySize + least || r.offset > kOffMax)
		return EINVAL;
	UniqueFd self;
	if (int err = root_.open_final(r.path, self))
		return err;
	int d = FsRoot::reopen(self.get(), O_RDONLY | O_DIRECTORY);
	if (d < 0)
		return -d;	// ENOTDIR for anything else, symlinks included
	UniqueFd dir(d);
	if (::lseek(d, static_cast<off_t>(r.offset), SEEK_SET) < 0)
		return errno;
	FsReaddir rd;
	FsReaddirPlus rdp;
	std::size_t used = kFsReaddirReplySize;
	std::vector<char> buf(kDentsBuf);
	for (;;) {
		long n = ::syscall(SYS_getdents64, d, buf.data(), buf.size());
		if (n < 0)
			return errno;
		if (n == 0) {
			rd.eof = true;
			break;
		}
		bool full = false;
		for (long pos = 0; pos < n;) {
			Dirent64 e;
			std::memcpy(&e, buf.data() + pos, sizeof(e));
			const char *name = buf.data() + pos + kDirentName;
			pos += e.d_reclen;
			const std::string_view nm(name, ::strnlen(name, e.d_reclen - kDirentName));
			if (nm == "." || nm == "..")
				continue;
			const std::size_t need =
				plus ? fs_direntplus_size(nm.size()) : fs_dirent_size(nm.size());
			if (used + need > count) {
				full = true;
				break;
			}
			used += need;
			if (!plus) {
				rd.entries.push_back(FsDirent{e.d_ino,
							      static_cast<std::uint64_t>(e.d_off),
							      e.d_type, std::string(nm)});
				continue;
			}
			// lstat beside the listing; an entry gone meanwhile
			// goes with mode 0 (no attributes).
			FsDirentPlus p;
			struct stat st;
			p.name = std::string(nm);
			if (root_.stat_name(d, p.name, st) == 0)
				p.attr = to_attr(st);
			p.cookie = static_cast<std::uint64_t>(e.d_off);
			p.type = e.d_type;
			rdp.entries.push_back(std::move(p));
		}
		if (full)
			break;
	}
	if (plus) {
		rdp.eof = rd.eof;
		if (rdp.entries.empty() && !rdp.eof)
			return EINVAL;
		out.body = std::move(rdp);
		return 0;
	}
	if (rd.entries.empty() && !rd.eof)
		return EINVAL;	// not even one entry fits @count
	out.body = std::move(rd);
	return 0;
}

}  // namespace disagg::stord

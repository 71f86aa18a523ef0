// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "fs_ops.hpp"

#include "log.hpp"
#include "path.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace disagg::stord {

using namespace proto;

namespace {

std::uint32_t encode_dev(dev_t d)
{
	const unsigned ma = major(d), mi = minor(d);
	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
}

// Flags each opcode knows; any other bit is EINVAL.
std::uint32_t known_flags(Op op)
{
	switch (op) {
	case Op::kFsCreate:
		return DG_FS_CREATE_EXCL;
	case Op::kFsRename:
		return DG_FS_RENAME_NOREPLACE | DG_FS_RENAME_EXCHANGE;
	case Op::kFsFsync:
		return DG_FS_FSYNC_DATA;
	case Op::kFsSetxattr:
		return DG_FS_XATTR_CREATE | DG_FS_XATTR_REPLACE;
	case Op::kFsRead:
		return DG_FS_IO_SEGS | DG_FS_IO_INVALIDATE;
	case Op::kFsWrite:
		return DG_FS_WRITE_SYNC | DG_FS_IO_SEGS | DG_FS_IO_INVALIDATE;
	default:
		return 0;
	}
}

// What the second string is: nothing, a path beneath the root, or free
// bytes (a symlink target, an xattr name).
enum class Name2 { kNone, kPath, kBytes };

Name2 name2_kind(Op op)
{
	switch (op) {
	case Op::kFsLink:
	case Op::kFsRename:
		return Name2::kPath;
	case Op::kFsSymlink:
	case Op::kFsGetxattr:
	case Op::kFsSetxattr:
	case Op::kFsRemovexattr:
		return Name2::kBytes;
	default:
		return Name2::kNone;
	}
}

// A READ with segments carries them as its data part.
bool takes_data(Op op, std::uint32_t flags)
{
	return op == Op::kFsWrite || op == Op::kFsSetxattr ||
	       (op == Op::kFsRead && (flags & DG_FS_IO_SEGS));
}

// The fields a request may not get wrong, whatever the opcode.
int check_fields(Op op, const FsReq &r)
{
	if (check_path(r.path))
		return EINVAL;
	if (r.flags & ~known_flags(op))
		return EINVAL;
	if (r.valid && op != Op::kFsSetattr)
		return EINVAL;
	if (!r.data.empty() && !takes_data(op, r.flags))
		return EINVAL;
	if ((r.flags & DG_FS_IO_INVALIDATE) && !(r.flags & DG_FS_IO_SEGS))
		return EINVAL;
	switch (name2_kind(op)) {
	case Name2::kNone:
		return r.name2.empty() ? 0 : EINVAL;
	case Name2::kPath:
		return check_path(r.name2);
	case Name2::kBytes:
		return 0;
	}
	return EINVAL;
}

}  // namespace

FsAttr to_attr(const struct stat &st)
{
	FsAttr a;
	a.ino = st.st_ino;
	a.dev = st.st_dev;
	a.size = static_cast<std::uint64_t>(st.st_size);
	a.blocks = static_cast<std::uint64_t>(st.st_blocks);
	a.atime_sec = static_cast<std::uint64_t>(st.st_atim.tv_sec);
	a.mtime_sec = static_cast<std::uint64_t>(st.st_mtim.tv_sec);
	a.ctime_sec = static_cast<std::uint64_t>(st.st_ctim.tv_sec);
	a.atime_nsec = static_cast<std::uint32_t>(st.st_atim.tv_nsec);
	a.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
	a.ctime_nsec = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
	a.mode = st.st_mode;
	a.nlink = static_cast<std::uint32_t>(st.st_nlink);
	a.uid = st.st_uid;
	a.gid = st.st_gid;
	a.rdev = encode_dev(st.st_rdev);
	a.blksize = static_cast<std::uint32_t>(st.st_blksize);
	return a;
}

// The request this thread runs: who asks, and its credential switch.
struct Current {
	const Ids &ids;
	const std::string who;	// ids_key(ids)
	ActAs &act;
};
thread_local Current *current = nullptr;

FsOps::FsOps(const FsRoot &root, FdCache &cache, const ExportOptions &opt)
	: root_(root), cache_(cache), opt_(opt), ability_(CredAbility::probe())
{
	::umask(0);
	if (!ability_.can_switch)
		LOG_WARN("no CAP_SETUID and CAP_SETGID: every request acts as uid %u gid %u",
			 ability_.own_uid, ability_.own_gid);
}

FsDone FsOps::run(const Hdr &h, std::uint8_t minor, const FsReq &r, std::uint32_t features,
		  std::span<std::byte> staging)
{
	if (test_hook)
		test_hook(h);
	const auto op = static_cast<Op>(h.opcode);
	Out out;
	out.fsattr = (features & kFeatFsattr) != 0;
	out.rmattr = out.fsattr && (features & kFeatRmattr) != 0;
	out.staging = staging;
	int err = check_fields(op, r);
	// Segments are the service's to check and to move (service.cpp);
	// here only the staging buffer they filled or will empty.
	if (!err && (r.flags & DG_FS_IO_SEGS) &&
	    (staging.size() < r.count || r.count > kFsRdmaIoMax))
		err = EPROTO;
	if (!err) {
		const Ids ids = map_cred(r.cred, opt_);
		ActAs act(ability_, ids);
		Current cur{ids, ids_key(ids), act};
		current = &cur;
		err = act.ok() ? execute(op, r, out) : EPERM;
		current = nullptr;
		// On the wire EAGAIN means "busy, not carried out: send it
		// again" (StorService's full queue); clients resend it for
		// ever. No file operation here should meet it, but if one does
		// it is an answer about the request, not a busy node.
		if (err == EAGAIN)
			err = EIO;
	}
	FsDone done;
	if (!err) {
		Hdr rh;
		rh.minor = minor;
		rh.opcode = h.opcode | kReplyBit;
		rh.req_id = h.req_id;
		Result<Bytes> f = encode_message(Message{rh, out.body});
		if (f) {
			done.frame = std::move(f).value();
			done.io_bytes = out.io_bytes;
			return done;
		}
		LOG_ERR_RL("cannot encode reply %#x: %s", rh.opcode,
			   std::string(to_string(f.error())).c_str());
		err = EIO;
	}
	// Errors are at most 4095 by construction (errno values).
	done.status = static_cast<std::uint32_t>(err);
	Result<Bytes> f = make_error_reply(h.opcode, h.req_id, done.status);
	if (f)
		done.frame = std::move(f).value();
	return done;
}

int FsOps::execute(Op op, const FsReq &r, Out &out)
{
	switch (op) {
	case Op::kFsGetattr:
		return getattr(r, out);
	case Op::kFsSetattr:
		return setattr(r, out);
	case Op::kFsRead:
		return read(r, out);
	case Op::kFsWrite:
		return write(r, out);
	case Op::kFsCreate:
		return create(r, out);
	case Op::kFsMkdir:
		return mkdir(r, out);
	case Op::kFsMknod:
		return mknod(r, out);
	case Op::kFsSymlink:
		return symlink(r, out);
	case Op::kFsLink:
		return link(r, out);
	case Op::kFsUnlink:
		return unlink(r, false, out);
	case Op::kFsRmdir:
		return unlink(r, true, out);
	case Op::kFsRename:
		return rename(r, out);
	case Op::kFsReadlink:
		return readlink(r, out);
	case Op::kFsReaddir:
		return readdir(r, out, false);
	case Op::kFsReaddirplus:
		// Only for who negotiated it: the reply is of the new form.
		return out.fsattr ? readdir(r, out, true) : EOPNOTSUPP;
	case Op::kFsStatfs:
		return statfs(r, out);
	case Op::kFsFsync:
		return fsync(r);
	case Op::kFsGetxattr:
		return getxattr(r, out, false);
	case Op::kFsListxattr:
		return getxattr(r, out, true);
	case Op::kFsSetxattr:
		return setxattr(r);
	case Op::kFsRemovexattr:
		return removexattr(r);
	default:
		return EOPNOTSUPP;
	}
}

std::shared_ptr<CachedFd> FsOps::open_file(std::string_view path, bool write, int &err)
{
	const std::string &who = current->who;
	std::uint64_t gen = 0;
	if (auto e = cache_.lookup(who, path, gen); e && (e->writable || !write))
		return e;
	// Cache only what no symlink leads to (see fd_cache.hpp).
	bool cacheable = true;
	int o = root_.open_path(path, O_PATH, true);
	if (o == -ELOOP) {
		cacheable = false;
		o = root_.open_path(path, O_PATH, false);
	}
	if (o < 0) {
		err = -o;
		return nullptr;
	}
	UniqueFd opath(o);
	struct stat st;
	if (::fstat(o, &st) != 0) {
		err = errno;
		return nullptr;
	}
	// Never open devices or FIFOs: their meaning is the client's.
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return nullptr;
	}
	// The owner may read and write whatever the mode (see fs_ops.hpp):
	// the file is the one the caller resolved, reopened by stord.
	const bool owner = st.st_uid == current->ids.uid;
	auto open_as_caller = [&](int flags) {
		int fd = FsRoot::reopen(o, flags);
		if (fd == -EACCES && owner)
			fd = current->act.as_daemon([&] { return FsRoot::reopen(o, flags); });
		return fd;
	};
	auto e = std::make_shared<CachedFd>();
	int fd = open_as_caller(O_RDWR);
	e->writable = fd >= 0;
	if (fd < 0 && !write && (fd == -EACCES || fd == -EROFS || fd == -EPERM || fd == -ETXTBSY))
		fd = open_as_caller(O_RDONLY);
	if (fd < 0) {
		err = -fd;
		return nullptr;
	}
	e->fd.reset(fd);
	if (cacheable)
		cache_.insert(who, path, e, gen);
	return e;
}

std::uint32_t FsOps::allowed_mode(std::uint32_t mode, bool dir) const
{
	if (opt_.allow_setid)
		return mode;
	return mode & ~static_cast<std::uint32_t>(dir ? S_ISUID : S_ISUID | S_ISGID);
}

}  // namespace disagg::stord

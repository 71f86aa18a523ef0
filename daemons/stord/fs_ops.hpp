// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The storage node's file operations: one request in, one reply frame out.
// Thread-safe (the worker threads call run() concurrently); every syscall
// goes through FsRoot, so nothing outside the root is ever reached.
//   fs_ops.cpp     run(): field checks, dispatch, reply encoding, helpers
//   ops_names.cpp  GETATTR SETATTR CREATE MKDIR MKNOD SYMLINK LINK UNLINK
//                  RMDIR RENAME READLINK (the final component is not
//                  followed: parent directory plus one name)
//   ops_data.cpp   READ WRITE FSYNC STATFS READDIR
//   ops_xattr.cpp  GETXATTR SETXATTR LISTXATTR REMOVEXATTR
//
// The process umask is set to 0 by the constructor: modes in requests are
// applied exactly (the client has applied its own umask).
//
// Every request runs with its caller's mapped credentials (creds.hpp): new
// objects are the caller's, and the storage host's own permission checks
// and chown rules decide. One exception, as nfsd makes it: the owner of a
// regular file may READ and WRITE it (and truncate it) whatever its mode,
// since the client checked the open (a file created 0444 by
// open(O_CREAT|O_WRONLY) is still written by its creator): when opening
// it fails with EACCES and the caller owns the file, stord opens the
// descriptor it already resolved as the caller with its own credentials.
#pragma once

#include "creds.hpp"
#include "fd_cache.hpp"
#include "fs_root.hpp"
#include "proto.hpp"

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <span>
#include <string>

namespace disagg::stord {

struct FsDone {
	std::uint32_t status = 0;	// 0 or the errno in the reply
	proto::Bytes frame;		// the reply
	std::uint32_t io_bytes = 0;	// READ with segments: bytes put into staging
};

class FsOps {
public:
	// @root's cross_mounts must match @opt's.
	FsOps(const FsRoot &root, FdCache &cache, const ExportOptions &opt = {});

	const ExportOptions &options() const { return opt_; }
	const CredAbility &ability() const { return ability_; }

	// Execute @r (opcode and req_id from @h) and build the reply, in
	// protocol minor @minor with the session's DG_FEAT_* @features
	// (kFeatFsattr: entry replies and READDIRPLUS; kFeatRmattr with it:
	// entry replies to UNLINK and RMDIR).
	// A READ or WRITE with DG_FS_IO_SEGS (whose segments the service has
	// checked) works on @staging instead of inline data: READ reads up to
	// r.count bytes into it and answers dg_fs_rdma_read_reply (the bytes
	// in io_bytes), WRITE writes its first r.count bytes (fetched by the
	// service). Without @staging such a request is EPROTO.
	FsDone run(const proto::Hdr &h, std::uint8_t minor, const proto::FsReq &r,
		   std::uint32_t features = 0, std::span<std::byte> staging = {});

	// Tests: called at the start of every run() on the worker thread.
	std::function<void(const proto::Hdr &)> test_hook;

private:
	// A reply body and the bytes its spans point into.
	struct Out {
		proto::Body body = proto::Empty{};
		proto::Bytes buf;
		bool fsattr = false;	// kFeatFsattr negotiated
		bool rmattr = false;	// kFeatRmattr too
		std::span<std::byte> staging;	// DG_FS_IO_SEGS: the data's place
		std::uint32_t io_bytes = 0;	// READ into @staging: bytes read
	};
	int execute(proto::Op op, const proto::FsReq &r, Out &out);

	// ops_names.cpp
	int getattr(const proto::FsReq &r, Out &out);
	int setattr(const proto::FsReq &r, Out &out);
	int create(const proto::FsReq &r, Out &out);
	int mkdir(const proto::FsReq &r, Out &out);
	int mknod(const proto::FsReq &r, Out &out);
	int symlink(const proto::FsReq &r, Out &out);
	int link(const proto::FsReq &r, Out &out);
	int unlink(const proto::FsReq &r, bool dir, Out &out);
	int rename(const proto::FsReq &r, Out &out);
	// @attr of a new name in @at's directory into @out: FsEntry with the
	// directory's attributes under kFeatFsattr, else FsAttr.
	int entry_reply(const At &at, const proto::FsAttr &attr, Out &out);
	int new_name_reply(const At &at, Out &out);
	int readlink(const proto::FsReq &r, Out &out);
	// ops_data.cpp
	int read(const proto::FsReq &r, Out &out);
	int write(const proto::FsReq &r, Out &out);
	int fsync(const proto::FsReq &r);
	int statfs(const proto::FsReq &r, Out &out);
	int readdir(const proto::FsReq &r, Out &out, bool plus);
	// ops_xattr.cpp
	int getxattr(const proto::FsReq &r, Out &out, bool list);
	int setxattr(const proto::FsReq &r);
	int removexattr(const proto::FsReq &r);

	// The regular file at @path (symlinks followed, beneath the root),
	// opened read-write if possible (@write: must be), from the cache or
	// put there. nullptr and @err on failure: EISDIR for a directory,
	// EINVAL for anything else that is not a regular file.
	std::shared_ptr<CachedFd> open_file(std::string_view path, bool write, int &err);
	// @mode without the set-ID bits the export does not allow (S_ISGID of
	// a directory is always fine).
	std::uint32_t allowed_mode(std::uint32_t mode, bool dir) const;

	const FsRoot &root_;
	FdCache &cache_;
	const ExportOptions opt_;
	const CredAbility ability_;
};

// struct stat to the wire's attributes (rdev in new_encode_dev form).
proto::FsAttr to_attr(const struct stat &st);

}  // namespace disagg::stord

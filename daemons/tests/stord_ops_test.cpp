// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord: every operation's result and errno, against what the same
// syscall does on the same temp dir.
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>

namespace disagg::stord::test {
namespace {

// errno of a syscall's -1, 0 on success.
int sys(int rc) { return rc == 0 ? 0 : errno; }

std::string str(const Got &g)
{
	Data d = g.body<Data>();
	return std::string(reinterpret_cast<const char *>(d.bytes.data()), d.bytes.size());
}

// Root semantics, devices and set-ID bits allowed: each operation against
// the syscall itself (stord_creds_test.cpp tests the export options).
ExportOptions everything()
{
	ExportOptions o = no_squash();
	o.allow_devices = true;
	o.allow_setid = true;
	return o;
}

class StordOps : public ::testing::Test {
protected:
	OpsHarness h{16, everything()};
	std::string p(const std::string &rel) { return h.tree.in_root(rel); }
};

TEST_F(StordOps, GetattrIsLstat)
{
	TempTree::write(p("f"), "hello");
	ASSERT_EQ(::symlink("f", p("l").c_str()), 0);
	ASSERT_EQ(::mkdir(p("d").c_str(), 0750), 0);
	for (const char *name : {"f", "l", "d"}) {
		auto g = h.run(Op::kFsGetattr, req(name));
		ASSERT_EQ(g->status(), 0u) << name;
		struct stat st;
		ASSERT_EQ(::lstat(p(name).c_str(), &st), 0);
		EXPECT_EQ(g->body<FsAttr>(), to_attr(st)) << name;
	}
	struct stat st;
	ASSERT_EQ(::lstat(h.tree.root.c_str(), &st), 0);
	EXPECT_EQ(h.run(Op::kFsGetattr, req("."))->body<FsAttr>().ino, st.st_ino);
	EXPECT_EQ(h.status(Op::kFsGetattr, req("missing")), static_cast<unsigned>(sys(::lstat(p("missing").c_str(), &st))));
	EXPECT_EQ(h.status(Op::kFsGetattr, req("f/x")), static_cast<unsigned>(sys(::lstat(p("f/x").c_str(), &st))));
	EXPECT_EQ(h.status(Op::kFsGetattr, req("f/x")), unsigned{ENOTDIR});
}

TEST_F(StordOps, CreateSetsModeAndOwner)
{
	ASSERT_EQ(::chmod(h.tree.root.c_str(), 0777), 0);	// uid 1234 creates here
	FsReq r = req("new");
	r.mode = S_IFREG | 0640;
	r.cred.uid = 1234;	// the caller owns what it creates
	r.cred.gid = 5678;
	auto g = h.run(Op::kFsCreate, r);
	ASSERT_EQ(g->status(), 0u);
	struct stat st;
	ASSERT_EQ(::lstat(p("new").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode, S_IFREG | 0640u);	// umask not applied
	if (::geteuid() == 0) {
		EXPECT_EQ(st.st_uid, 1234u);
		EXPECT_EQ(st.st_gid, 5678u);
	}
	EXPECT_EQ(g->body<FsAttr>(), to_attr(st));
	// Again: fine without EXCL, EEXIST with it (as open(O_CREAT|O_EXCL)).
	EXPECT_EQ(h.status(Op::kFsCreate, r), 0u);
	r.flags = DG_FS_CREATE_EXCL;
	int fd = ::open(p("new").c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
	EXPECT_EQ(h.status(Op::kFsCreate, r), static_cast<unsigned>(fd < 0 ? errno : 0));
	// Set-id bits are kept when the export allows them.
	FsReq s = req("suid");
	s.mode = 04755;
	ASSERT_EQ(h.status(Op::kFsCreate, s), 0u);
	ASSERT_EQ(::lstat(p("suid").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 04755u);
	// Only regular files; a directory in the way is EISDIR.
	s = req("dev");
	s.mode = S_IFCHR | 0600;
	EXPECT_EQ(h.status(Op::kFsCreate, s), unsigned{EINVAL});
	ASSERT_EQ(::mkdir(p("dir").c_str(), 0700), 0);
	EXPECT_EQ(h.status(Op::kFsCreate, req("dir")), unsigned{EISDIR});
	EXPECT_EQ(h.status(Op::kFsCreate, req("nodir/x")), unsigned{ENOENT});
	FsReq bad = req("x");
	bad.flags = 2;
	EXPECT_EQ(h.status(Op::kFsCreate, bad), unsigned{EINVAL});
}

TEST_F(StordOps, CreateDoesNotFollowASymlink)
{
	ASSERT_EQ(::symlink("target", p("l").c_str()), 0);
	EXPECT_EQ(h.status(Op::kFsCreate, req("l")), unsigned{ELOOP});
	FsReq r = req("l");
	r.flags = DG_FS_CREATE_EXCL;
	EXPECT_EQ(h.status(Op::kFsCreate, r), unsigned{EEXIST});
	struct stat st;
	EXPECT_NE(::lstat(p("target").c_str(), &st), 0);
}

TEST_F(StordOps, MkdirMknodSymlinkLink)
{
	FsReq r = req("d");
	r.mode = 0751;
	auto g = h.run(Op::kFsMkdir, r);
	ASSERT_EQ(g->status(), 0u);
	struct stat st;
	ASSERT_EQ(::lstat(p("d").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode, S_IFDIR | 0751u);
	EXPECT_EQ(g->body<FsAttr>(), to_attr(st));
	EXPECT_EQ(h.status(Op::kFsMkdir, r), static_cast<unsigned>(sys(::mkdir(p("d").c_str(), 0700))));

	r = req("fifo");
	r.mode = S_IFIFO | 0600;
	ASSERT_EQ(h.status(Op::kFsMknod, r), 0u);
	ASSERT_EQ(::lstat(p("fifo").c_str(), &st), 0);
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	if (::geteuid() == 0) {
		r = req("null");
		r.mode = S_IFCHR | 0600;
		r.rdev = (1u << 8) | 3u;	// new_encode_dev(1, 3)
		g = h.run(Op::kFsMknod, r);
		ASSERT_EQ(g->status(), 0u);
		ASSERT_EQ(::lstat(p("null").c_str(), &st), 0);
		EXPECT_EQ(major(st.st_rdev), 1u);
		EXPECT_EQ(minor(st.st_rdev), 3u);
		EXPECT_EQ(g->body<FsAttr>().rdev, r.rdev);
	}
	r = req("bad");
	r.mode = S_IFDIR | 0700;
	EXPECT_EQ(h.status(Op::kFsMknod, r), unsigned{EINVAL});

	r = req("sl");
	r.name2 = "any/../thing with\x01bytes";
	g = h.run(Op::kFsSymlink, r);
	ASSERT_EQ(g->status(), 0u);
	char buf[256] = {};
	ASSERT_GT(::readlink(p("sl").c_str(), buf, sizeof(buf)), 0);
	EXPECT_EQ(std::string(buf), r.name2);
	EXPECT_EQ(str(*h.run(Op::kFsReadlink, req("sl"))), r.name2);
	EXPECT_EQ(h.status(Op::kFsReadlink, req("d")), unsigned{EINVAL});

	TempTree::write(p("f"), "x");
	r = req("f");
	r.name2 = "d/f2";
	g = h.run(Op::kFsLink, r);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->body<FsAttr>().nlink, 2u);
	EXPECT_EQ(h.status(Op::kFsLink, r), static_cast<unsigned>(sys(::link(p("f").c_str(), p("d/f2").c_str()))));
	// A symlink is linked itself.
	r = req("sl");
	r.name2 = "sl2";
	ASSERT_EQ(h.status(Op::kFsLink, r), 0u);
	ASSERT_EQ(::lstat(p("sl2").c_str(), &st), 0);
	EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(StordOps, UnlinkRmdirRename)
{
	ASSERT_EQ(::mkdir(p("d").c_str(), 0700), 0);
	TempTree::write(p("d/f"), "x");
	TempTree::write(p("g"), "y");
	EXPECT_EQ(h.status(Op::kFsRmdir, req("d")), static_cast<unsigned>(sys(::rmdir(p("d").c_str()))));
	EXPECT_EQ(h.status(Op::kFsUnlink, req("d")), static_cast<unsigned>(sys(::unlink(p("d").c_str()))));
	EXPECT_EQ(h.status(Op::kFsRmdir, req("g")), unsigned{ENOTDIR});
	EXPECT_EQ(h.status(Op::kFsRmdir, req(".")), unsigned{EINVAL});

	FsReq r = req("g");
	r.name2 = "d/f";
	r.flags = DG_FS_RENAME_NOREPLACE;
	EXPECT_EQ(h.status(Op::kFsRename, r), unsigned{EEXIST});
	r.flags = DG_FS_RENAME_EXCHANGE;
	ASSERT_EQ(h.status(Op::kFsRename, r), 0u);
	EXPECT_EQ(TempTree::read(p("g")), "x");
	EXPECT_EQ(TempTree::read(p("d/f")), "y");
	r.flags = 0;
	ASSERT_EQ(h.status(Op::kFsRename, r), 0u);
	EXPECT_EQ(TempTree::read(p("d/f")), "x");
	r.flags = 4;
	EXPECT_EQ(h.status(Op::kFsRename, r), unsigned{EINVAL});
	r = req("d");
	r.name2 = "d/sub";
	EXPECT_EQ(h.status(Op::kFsRename, r), unsigned{EINVAL});	// into itself

	ASSERT_EQ(h.status(Op::kFsUnlink, req("d/f")), 0u);
	ASSERT_EQ(h.status(Op::kFsRmdir, req("d")), 0u);
	struct stat st;
	EXPECT_NE(::lstat(p("d").c_str(), &st), 0);
	EXPECT_EQ(h.status(Op::kFsUnlink, req("d")), unsigned{ENOENT});
}

TEST_F(StordOps, ReadWrite)
{
	TempTree::write(p("f"), "0123456789");
	FsReq r = req("f");
	r.count = 4;
	r.offset = 3;
	EXPECT_EQ(str(*h.run(Op::kFsRead, r)), "3456");
	r.offset = 8;
	EXPECT_EQ(str(*h.run(Op::kFsRead, r)), "89");	// short at the end
	r.offset = 100;
	EXPECT_EQ(str(*h.run(Op::kFsRead, r)), "");
	r.count = kFsIoMax + 1;
	EXPECT_EQ(h.status(Op::kFsRead, r), unsigned{EINVAL});
	r.count = 1;
	r.offset = 1ull << 63;
	EXPECT_EQ(h.status(Op::kFsRead, r), unsigned{EINVAL});

	Bytes big(kFsIoMax);
	for (std::size_t i = 0; i < big.size(); i++)
		big[i] = static_cast<std::byte>(i * 7);
	FsReq w = req("f");
	w.offset = 5;
	w.data = big;
	w.flags = DG_FS_WRITE_SYNC;
	auto g = h.run(Op::kFsWrite, w);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->body<FsWriteReply>().count, kFsIoMax);
	EXPECT_EQ(g->body<FsWriteReply>().attr.size, 5 + kFsIoMax);
	r.offset = 5;
	r.count = kFsIoMax;
	g = h.run(Op::kFsRead, r);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_TRUE(std::ranges::equal(g->body<Data>().bytes, big));
	w.flags = 2;
	EXPECT_EQ(h.status(Op::kFsWrite, w), unsigned{EINVAL});
	w.flags = 0;
	w.offset = (1ull << 63) - 2;
	EXPECT_EQ(h.status(Op::kFsWrite, w), unsigned{EFBIG});

	ASSERT_EQ(::mkdir(p("d").c_str(), 0700), 0);
	ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0600), 0);
	r = req("d");
	r.count = 1;
	EXPECT_EQ(h.status(Op::kFsRead, r), unsigned{EISDIR});
	r.path = "fifo";	// never opened: it would block or be the client's
	EXPECT_EQ(h.status(Op::kFsRead, r), unsigned{EINVAL});
	r.path = "missing";
	EXPECT_EQ(h.status(Op::kFsRead, r), unsigned{ENOENT});
	// Symlinks inside the root are followed.
	ASSERT_EQ(::symlink("f", p("l").c_str()), 0);
	r.path = "l";
	r.offset = 0;
	EXPECT_EQ(str(*h.run(Op::kFsRead, r)), "0");
}

TEST_F(StordOps, Setattr)
{
	TempTree::write(p("f"), "0123456789");
	FsReq r = req("f");
	r.valid = DG_FS_SET_SIZE | DG_FS_SET_MODE | DG_FS_SET_MTIME | DG_FS_SET_ATIME;
	r.offset = 4;
	r.mode = 0604;
	r.atime_sec = 1000;
	r.mtime_sec = 2000;
	r.mtime_nsec = 5;
	auto g = h.run(Op::kFsSetattr, r);
	ASSERT_EQ(g->status(), 0u);
	struct stat st;
	ASSERT_EQ(::lstat(p("f").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 4);
	EXPECT_EQ(st.st_mode & 07777, 0604u);
	EXPECT_EQ(st.st_atim.tv_sec, 1000);
	EXPECT_EQ(st.st_mtim.tv_sec, 2000);
	EXPECT_EQ(st.st_mtim.tv_nsec, 5);
	EXPECT_EQ(g->body<FsAttr>(), to_attr(st));
	if (::geteuid() == 0) {
		r = req("f");
		r.valid = DG_FS_SET_UID | DG_FS_SET_GID;
		r.uid = 42;
		r.gid = 43;
		ASSERT_EQ(h.status(Op::kFsSetattr, r), 0u);
		ASSERT_EQ(::lstat(p("f").c_str(), &st), 0);
		EXPECT_EQ(st.st_uid, 42u);
		EXPECT_EQ(st.st_gid, 43u);
	}
	r = req("f");
	r.valid = DG_FS_SET_MTIME;
	r.mtime_nsec = 1000000000;
	EXPECT_EQ(h.status(Op::kFsSetattr, r), unsigned{EINVAL});
	r.valid = 1u << 8;
	EXPECT_EQ(h.status(Op::kFsSetattr, r), unsigned{EINVAL});
	// chmod of a symlink itself is not supported (as fchmodat NOFOLLOW);
	// its target keeps its mode.
	ASSERT_EQ(::symlink("f", p("l").c_str()), 0);
	r = req("l");
	r.valid = DG_FS_SET_MODE;
	r.mode = 0777;
	EXPECT_EQ(h.status(Op::kFsSetattr, r), unsigned{EOPNOTSUPP});
	ASSERT_EQ(::lstat(p("f").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0604u);
	// The size follows it (truncate(2)).
	r.valid = DG_FS_SET_SIZE;
	r.offset = 1;
	ASSERT_EQ(h.status(Op::kFsSetattr, r), 0u);
	EXPECT_EQ(TempTree::read(p("f")), "0");
}

TEST_F(StordOps, ReaddirCookiesWalkEverything)
{
	std::set<std::string> want;
	for (int i = 0; i < 300; i++) {
		std::string n = "entry-" + std::to_string(i) + std::string(i % 40, 'x');
		TempTree::write(p(n), "");
		want.insert(n);
	}
	ASSERT_EQ(::mkdir(p("sub").c_str(), 0700), 0);
	want.insert("sub");
	std::set<std::string> seen;
	FsReq r = req(".");
	r.count = 512;	// a few entries per call
	int calls = 0;
	for (;;) {
		auto g = h.run(Op::kFsReaddir, r);
		ASSERT_EQ(g->status(), 0u);
		FsReaddir rd = g->body<FsReaddir>();
		ASSERT_LE(g->bytes.size() - kHdrSize, r.count);
		for (const FsDirent &e : rd.entries) {
			EXPECT_TRUE(seen.insert(e.name).second) << "twice: " << e.name;
			if (e.name == "sub") {
				EXPECT_EQ(e.type, DT_DIR);
			}
			r.offset = e.cookie;
		}
		calls++;
		if (rd.eof)
			break;
		ASSERT_FALSE(rd.entries.empty());
		ASSERT_LT(calls, 1000);
	}
	EXPECT_EQ(seen, want);
	EXPECT_GT(calls, 10);
	r.offset = 0;
	r.count = 16;	// no entry fits
	EXPECT_EQ(h.status(Op::kFsReaddir, r), unsigned{EINVAL});
	r.count = 4096;
	r.path = "sub";
	auto g = h.run(Op::kFsReaddir, r);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_TRUE(g->body<FsReaddir>().eof);
	EXPECT_TRUE(g->body<FsReaddir>().entries.empty());
	TempTree::write(p("file"), "");
	r.path = "file";
	EXPECT_EQ(h.status(Op::kFsReaddir, r), unsigned{ENOTDIR});
}

// DG_FEAT_FSATTR: name changes answer the object's and the directories'
// attributes (FsEntry); without it the old forms.
TEST_F(StordOps, EntryRepliesWithFsattr)
{
	ASSERT_EQ(::mkdir(p("a").c_str(), 0755), 0);
	ASSERT_EQ(::mkdir(p("b").c_str(), 0755), 0);
	struct stat st, dir;
	auto same = [](const FsAttr &a, const struct stat &s) {
		return a.ino == s.st_ino && a.dev == s.st_dev && a.mode == s.st_mode &&
		       a.nlink == s.st_nlink && a.mtime_sec == static_cast<std::uint64_t>(s.st_mtim.tv_sec) &&
		       a.mtime_nsec == static_cast<std::uint32_t>(s.st_mtim.tv_nsec) &&
		       a.size == static_cast<std::uint64_t>(s.st_size);
	};
	// Old form first.
	FsReq r = req("a/old");
	r.mode = S_IFREG | 0644;
	auto g = h.run(Op::kFsCreate, r);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->bytes.size(), kHdrSize + kFsAttrSize);
	g->body<FsAttr>();
	FsReq mv = req("a/old");
	mv.name2 = "b/old2";
	g = h.run(Op::kFsRename, mv);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->bytes.size(), kHdrSize);

	h.features = kFeatFsattr;
	r.path = "a/f";
	g = h.run(Op::kFsCreate, r);
	ASSERT_EQ(g->status(), 0u);
	FsEntry e = g->body<FsEntry>();
	ASSERT_EQ(::lstat(p("a/f").c_str(), &st), 0);
	ASSERT_EQ(::lstat(p("a").c_str(), &dir), 0);
	EXPECT_TRUE(same(e.attr, st));
	EXPECT_TRUE(same(e.dir, dir));
	EXPECT_EQ(e.old_dir, e.dir);
	// An existing name without EXCL: its attributes, the same form.
	e = h.run(Op::kFsCreate, r)->body<FsEntry>();
	EXPECT_TRUE(same(e.attr, st));

	FsReq m = req("a/d");
	m.mode = S_IFDIR | 0700;
	e = h.run(Op::kFsMkdir, m)->body<FsEntry>();
	ASSERT_EQ(::lstat(p("a/d").c_str(), &st), 0);
	ASSERT_EQ(::lstat(p("a").c_str(), &dir), 0);
	EXPECT_TRUE(same(e.attr, st));
	EXPECT_TRUE(same(e.dir, dir));
	EXPECT_EQ(dir.st_nlink, 3u);

	FsReq s = req("a/s");
	s.name2 = "f";
	e = h.run(Op::kFsSymlink, s)->body<FsEntry>();
	ASSERT_EQ(::lstat(p("a/s").c_str(), &st), 0);
	EXPECT_TRUE(same(e.attr, st));

	FsReq n = req("a/fifo");
	n.mode = S_IFIFO | 0600;
	e = h.run(Op::kFsMknod, n)->body<FsEntry>();
	ASSERT_EQ(::lstat(p("a/fifo").c_str(), &st), 0);
	EXPECT_TRUE(same(e.attr, st));

	// LINK: the target file (now 2 links) and the new name's directory.
	FsReq l = req("a/f");
	l.name2 = "b/g";
	e = h.run(Op::kFsLink, l)->body<FsEntry>();
	ASSERT_EQ(::lstat(p("b/g").c_str(), &st), 0);
	ASSERT_EQ(::lstat(p("b").c_str(), &dir), 0);
	EXPECT_TRUE(same(e.attr, st));
	EXPECT_EQ(e.attr.nlink, 2u);
	EXPECT_TRUE(same(e.dir, dir));

	// RENAME across directories: the moved file, new and old directory.
	mv = req("a/d");
	mv.name2 = "b/d";
	e = h.run(Op::kFsRename, mv)->body<FsEntry>();
	struct stat olddir;
	ASSERT_EQ(::lstat(p("b/d").c_str(), &st), 0);
	ASSERT_EQ(::lstat(p("b").c_str(), &dir), 0);
	ASSERT_EQ(::lstat(p("a").c_str(), &olddir), 0);
	EXPECT_TRUE(same(e.attr, st));
	EXPECT_TRUE(same(e.dir, dir));
	EXPECT_TRUE(same(e.old_dir, olddir));
	EXPECT_EQ(dir.st_nlink, 3u);
	EXPECT_EQ(olddir.st_nlink, 2u);
	// Errors stay errors.
	EXPECT_EQ(h.status(Op::kFsRename, mv), unsigned{ENOENT});
	EXPECT_EQ(h.status(Op::kFsMkdir, req("b/d")), unsigned{EEXIST});

	// UNLINK and RMDIR stay empty without DG_FEAT_RMATTR ...
	g = h.run(Op::kFsUnlink, req("a/s"));
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->bytes.size(), kHdrSize);
	// ... and with it carry the directory after the change, no object.
	h.features = kFeatFsattr | kFeatRmattr;
	e = h.run(Op::kFsUnlink, req("a/fifo"))->body<FsEntry>();
	ASSERT_EQ(::lstat(p("a").c_str(), &dir), 0);
	EXPECT_EQ(e.attr, FsAttr{});
	EXPECT_TRUE(same(e.dir, dir));
	EXPECT_EQ(e.old_dir, e.dir);
	e = h.run(Op::kFsRmdir, req("b/d"))->body<FsEntry>();
	ASSERT_EQ(::lstat(p("b").c_str(), &dir), 0);
	EXPECT_EQ(e.attr, FsAttr{});
	EXPECT_TRUE(same(e.dir, dir));
	EXPECT_EQ(dir.st_nlink, 2u);
	EXPECT_EQ(h.status(Op::kFsRmdir, req("b/d")), unsigned{ENOENT});
	EXPECT_EQ(h.status(Op::kFsUnlink, req("a/fifo")), unsigned{ENOENT});
	// RMATTR alone (without FSATTR) changes nothing.
	h.features = kFeatRmattr;
	g = h.run(Op::kFsUnlink, req("a/f"));
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->bytes.size(), kHdrSize);
}

TEST_F(StordOps, ReaddirplusCarriesAttributes)
{
	FsReq r = req(".");
	r.count = 4096;
	// Only for sessions that negotiated DG_FEAT_FSATTR.
	EXPECT_EQ(h.status(Op::kFsReaddirplus, r), unsigned{EOPNOTSUPP});
	h.features = kFeatFsattr;
	std::set<std::string> want;
	for (int i = 0; i < 100; i++) {
		std::string n = "e" + std::to_string(i) + std::string(i % 20, 'y');
		TempTree::write(p(n), std::string(static_cast<std::size_t>(i), 'z'));
		want.insert(n);
	}
	ASSERT_EQ(::mkdir(p("sub").c_str(), 0700), 0);
	ASSERT_EQ(::symlink("e1", p("ln").c_str()), 0);
	want.insert("sub");
	want.insert("ln");
	std::set<std::string> seen;
	int calls = 0;
	for (;;) {
		auto g = h.run(Op::kFsReaddirplus, r);
		ASSERT_EQ(g->status(), 0u);
		FsReaddirPlus rd = g->body<FsReaddirPlus>();
		ASSERT_LE(g->bytes.size() - kHdrSize, r.count);
		for (const FsDirentPlus &e : rd.entries) {
			EXPECT_TRUE(seen.insert(e.name).second) << "twice: " << e.name;
			struct stat st;
			ASSERT_EQ(::lstat(p(e.name).c_str(), &st), 0) << e.name;
			EXPECT_EQ(e.attr.ino, st.st_ino) << e.name;
			EXPECT_EQ(e.attr.mode, st.st_mode) << e.name;
			EXPECT_EQ(e.attr.size, static_cast<std::uint64_t>(st.st_size)) << e.name;
			EXPECT_EQ(e.attr.nlink, st.st_nlink) << e.name;
			r.offset = e.cookie;
		}
		calls++;
		if (rd.eof)
			break;
		ASSERT_FALSE(rd.entries.empty());
		ASSERT_LT(calls, 1000);
	}
	EXPECT_EQ(seen, want);
	EXPECT_GT(calls, 3);
	r.offset = 0;
	r.count = kFsReaddirReplySize + fs_direntplus_size(1) - 1;	// no entry fits
	EXPECT_EQ(h.status(Op::kFsReaddirplus, r), unsigned{EINVAL});
	r.count = 4096;
	r.path = "e0";
	EXPECT_EQ(h.status(Op::kFsReaddirplus, r), unsigned{ENOTDIR});
}

TEST_F(StordOps, StatfsAndFsync)
{
	auto g = h.run(Op::kFsStatfs, req("."));
	ASSERT_EQ(g->status(), 0u);
	struct statvfs sv;
	ASSERT_EQ(::statvfs(h.tree.root.c_str(), &sv), 0);
	EXPECT_EQ(g->body<FsStatfs>().blocks, sv.f_blocks);
	EXPECT_EQ(g->body<FsStatfs>().namelen, sv.f_namemax);
	TempTree::write(p("f"), "x");
	ASSERT_EQ(::mkdir(p("d").c_str(), 0700), 0);
	FsReq r = req("f");
	EXPECT_EQ(h.status(Op::kFsFsync, r), 0u);
	r.flags = DG_FS_FSYNC_DATA;
	EXPECT_EQ(h.status(Op::kFsFsync, r), 0u);
	r.path = "d";
	EXPECT_EQ(h.status(Op::kFsFsync, r), 0u);
	r.path = "missing";
	EXPECT_EQ(h.status(Op::kFsFsync, r), unsigned{ENOENT});
	r.flags = 2;
	EXPECT_EQ(h.status(Op::kFsFsync, r), unsigned{EINVAL});
}

TEST_F(StordOps, Xattrs)
{
	TempTree::write(p("f"), "x");
	if (::setxattr(p("f").c_str(), "user.probe", "1", 1, 0) != 0)
		GTEST_SKIP() << "no user xattrs on " << h.tree.root;
	ASSERT_EQ(::removexattr(p("f").c_str(), "user.probe"), 0);
	const std::string value = "v\0lue", name = "user.k";
	Bytes vb(reinterpret_cast<const std::byte *>(value.data()),
		 reinterpret_cast<const std::byte *>(value.data()) + 6);
	FsReq r = req("f");
	r.name2 = name;
	r.data = vb;
	r.flags = DG_FS_XATTR_REPLACE;
	EXPECT_EQ(h.status(Op::kFsSetxattr, r), unsigned{ENODATA});
	r.flags = DG_FS_XATTR_CREATE;
	ASSERT_EQ(h.status(Op::kFsSetxattr, r), 0u);
	EXPECT_EQ(h.status(Op::kFsSetxattr, r), unsigned{EEXIST});
	char buf[64];
	ASSERT_EQ(::getxattr(p("f").c_str(), name.c_str(), buf, sizeof(buf)), 6);
	FsReq g = req("f");
	g.name2 = name;
	g.count = 0;	// size only
	auto got = h.run(Op::kFsGetxattr, g);
	ASSERT_EQ(got->status(), 0u);
	EXPECT_EQ(got->body<FsXattr>().size, 6u);
	EXPECT_TRUE(got->body<FsXattr>().value.empty());
	g.count = 3;
	EXPECT_EQ(h.status(Op::kFsGetxattr, g), unsigned{ERANGE});
	g.count = 100;
	got = h.run(Op::kFsGetxattr, g);
	ASSERT_EQ(got->status(), 0u);
	EXPECT_TRUE(std::ranges::equal(got->body<FsXattr>().value, vb));
	FsReq l = req("f");
	l.count = 100;
	got = h.run(Op::kFsListxattr, l);
	ASSERT_EQ(got->status(), 0u);
	FsXattr x = got->body<FsXattr>();
	EXPECT_EQ(std::string(reinterpret_cast<const char *>(x.value.data()), x.value.size()),
		  name + std::string(1, '\0'));
	FsReq rm = req("f");
	rm.name2 = name;
	ASSERT_EQ(h.status(Op::kFsRemovexattr, rm), 0u);
	EXPECT_EQ(h.status(Op::kFsRemovexattr, rm), unsigned{ENODATA});
	rm.name2 = "";
	EXPECT_EQ(h.status(Op::kFsRemovexattr, rm), unsigned{ERANGE});
	rm.name2 = std::string(256, 'a');
	EXPECT_EQ(h.status(Op::kFsGetxattr, rm), unsigned{ERANGE});
}

TEST_F(StordOps, FieldsAnOpcodeDoesNotUseMustBeEmpty)
{
	TempTree::write(p("f"), "x");
	FsReq r = req("f");
	r.name2 = "x";
	EXPECT_EQ(h.status(Op::kFsGetattr, r), unsigned{EINVAL});
	r = req("f");
	Bytes d(1);
	r.data = d;
	EXPECT_EQ(h.status(Op::kFsGetattr, r), unsigned{EINVAL});
	r = req("f");
	r.flags = 1;
	EXPECT_EQ(h.status(Op::kFsGetattr, r), unsigned{EINVAL});
	r = req("f");
	r.valid = 1;
	EXPECT_EQ(h.status(Op::kFsUnlink, r), unsigned{EINVAL});
	// A rename's target is a path like any other.
	r = req("f");
	r.name2 = "../f";
	EXPECT_EQ(h.status(Op::kFsRename, r), unsigned{EINVAL});
}

}  // namespace
}  // namespace disagg::stord::test

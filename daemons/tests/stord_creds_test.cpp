// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord acts with the caller's rights: per-caller permission
// checks, squashing, the owner override, the fd cache per caller, and the
// export options (devices, set-ID bits, system xattrs, mounts). Needs root
// (to switch credentials at all and to plant files of other owners).
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace disagg::stord::test {
namespace {

constexpr std::uint32_t kAlice = 1000, kBob = 2000, kStaff = 3000;

FsReq as(std::string_view path, std::uint32_t uid, std::uint32_t gid,
	 std::initializer_list<std::uint32_t> groups = {})
{
	FsReq r = req(path);
	r.cred.uid = uid;
	r.cred.gid = gid;
	for (std::uint32_t g : groups)
		r.cred.groups[r.cred.ngroups++] = g;
	return r;
}

FsReq read_req(std::string_view path, std::uint32_t uid, std::uint32_t gid,
	       std::initializer_list<std::uint32_t> groups = {})
{
	FsReq r = as(path, uid, gid, groups);
	r.count = 100;
	return r;
}

std::string str(const Got &g)
{
	Data d = g.body<Data>();
	return std::string(reinterpret_cast<const char *>(d.bytes.data()), d.bytes.size());
}

ExportOptions squash(Squash s)
{
	ExportOptions o;
	o.squash = s;
	return o;
}

class StordCreds : public ::testing::Test {
protected:
	void SetUp() override
	{
		if (::geteuid() != 0)
			GTEST_SKIP() << "needs root to switch credentials";
	}
	// A file of @uid:@gid with @mode and @data, planted directly.
	static void plant(const std::string &p, uid_t uid, gid_t gid, mode_t mode,
			  const std::string &data = "data")
	{
		TempTree::write(p, data);
		ASSERT_EQ(::chown(p.c_str(), uid, gid), 0);
		ASSERT_EQ(::chmod(p.c_str(), mode), 0);
	}
	// The test thread's own credentials are back after every request.
	static void expect_restored()
	{
		EXPECT_EQ(::setfsuid(static_cast<uid_t>(-1)), 0);
		EXPECT_EQ(::setfsgid(static_cast<gid_t>(-1)), 0);
	}
};

TEST_F(StordCreds, OnlyWhoMayReadReads)
{
	OpsHarness h(16, squash(Squash::kRoot));
	plant(h.tree.in_root("alice"), kAlice, kAlice, 0600, "alice's");
	EXPECT_EQ(h.status(Op::kFsRead, read_req("alice", kBob, kBob)), unsigned{EACCES});
	expect_restored();
	auto g = h.run(Op::kFsRead, read_req("alice", kAlice, kAlice));
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(str(*g), "alice's");
	expect_restored();
	// Alice's descriptor is cached now: still not Bob's.
	EXPECT_EQ(h.status(Op::kFsRead, read_req("alice", kBob, kBob)), unsigned{EACCES});
	FsReq w = as("alice", kBob, kBob);
	const Bytes data(3, std::byte{'x'});
	w.data = data;
	EXPECT_EQ(h.status(Op::kFsWrite, w), unsigned{EACCES});
	EXPECT_EQ(TempTree::read(h.tree.in_root("alice")), "alice's");
}

TEST_F(StordCreds, GroupsCount)
{
	OpsHarness h(16, squash(Squash::kRoot));
	plant(h.tree.in_root("f"), kAlice, kStaff, 0640, "staff only");
	EXPECT_EQ(h.status(Op::kFsRead, read_req("f", kBob, kBob)), unsigned{EACCES});
	EXPECT_EQ(h.status(Op::kFsRead, read_req("f", kBob, kBob, {7, kStaff})), 0u);
	EXPECT_EQ(h.status(Op::kFsRead, read_req("f", kBob, kStaff)), 0u);
	// Search permission on the way there, for each caller's first open.
	ASSERT_EQ(::mkdir(h.tree.in_root("d").c_str(), 0700), 0);
	ASSERT_EQ(::chown(h.tree.in_root("d").c_str(), kAlice, kAlice), 0);
	plant(h.tree.in_root("d/g"), kBob, kBob, 0644);
	EXPECT_EQ(h.status(Op::kFsRead, read_req("d/g", kAlice, kAlice)), 0u);
	EXPECT_EQ(h.status(Op::kFsRead, read_req("d/g", kBob, kBob)), unsigned{EACCES});
	expect_restored();
}

TEST_F(StordCreds, NewFilesAreTheCallers)
{
	OpsHarness h(16, squash(Squash::kRoot));
	ASSERT_EQ(::chmod(h.tree.root.c_str(), 0777), 0);
	FsReq r = as("a", kAlice, kAlice, {kStaff});
	r.mode = S_IFREG | 0644;
	ASSERT_EQ(h.status(Op::kFsCreate, r), 0u);
	r.path = "dir";
	r.mode = 0755;
	ASSERT_EQ(h.status(Op::kFsMkdir, r), 0u);
	r.path = "ln";
	r.name2 = "a";
	ASSERT_EQ(h.status(Op::kFsSymlink, r), 0u);
	for (const char *n : {"a", "dir", "ln"}) {
		struct stat st;
		ASSERT_EQ(::lstat(h.tree.in_root(n).c_str(), &st), 0);
		EXPECT_EQ(st.st_uid, kAlice) << n;
		EXPECT_EQ(st.st_gid, kAlice) << n;
	}
	// chown by the host's rules: not to another user; to one's own group.
	FsReq c = as("a", kAlice, kAlice, {kStaff});
	c.valid = DG_FS_SET_UID;
	c.uid = kBob;
	EXPECT_EQ(h.status(Op::kFsSetattr, c), unsigned{EPERM});
	c.valid = DG_FS_SET_GID;
	c.gid = kStaff;
	EXPECT_EQ(h.status(Op::kFsSetattr, c), 0u);
	c.gid = 4242;
	EXPECT_EQ(h.status(Op::kFsSetattr, c), unsigned{EPERM});
	// Bob cannot chmod Alice's file, nor remove it from his sticky-less
	// ... well, from a directory he cannot write.
	FsReq m = as("a", kBob, kBob);
	m.valid = DG_FS_SET_MODE;
	m.mode = 0666;
	EXPECT_EQ(h.status(Op::kFsSetattr, m), unsigned{EPERM});
	EXPECT_EQ(h.status(Op::kFsUnlink, as("dir/x", kBob, kBob)), unsigned{ENOENT});
	TempTree::write(h.tree.in_root("dir/x"), "x");
	EXPECT_EQ(h.status(Op::kFsUnlink, as("dir/x", kBob, kBob)), unsigned{EACCES});
	expect_restored();
}

TEST_F(StordCreds, RootIsSquashedByDefault)
{
	OpsHarness h(16, ExportOptions{});
	ASSERT_EQ(::chmod(h.tree.root.c_str(), 0777), 0);
	plant(h.tree.in_root("secret"), 0, 0, 0600, "root's");
	EXPECT_EQ(h.status(Op::kFsRead, read_req("secret", 0, 0)), unsigned{EACCES});
	FsReq r = as("new", 0, 0);
	r.mode = 0644;
	ASSERT_EQ(h.status(Op::kFsCreate, r), 0u);
	struct stat st;
	ASSERT_EQ(::lstat(h.tree.in_root("new").c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, kDefaultAnonId);
	EXPECT_EQ(st.st_gid, kDefaultAnonId);
	// Group 0 goes too, as a primary group and among the groups.
	plant(h.tree.in_root("wheel"), kAlice, 0, 0640);
	EXPECT_EQ(h.status(Op::kFsRead, read_req("wheel", kBob, 0)), unsigned{EACCES});
	EXPECT_EQ(h.status(Op::kFsRead, read_req("wheel", kBob, kBob, {0})), unsigned{EACCES});
	expect_restored();
}

TEST_F(StordCreds, SquashNoneAndAll)
{
	{
		OpsHarness h(16, squash(Squash::kNone));
		plant(h.tree.in_root("secret"), 0, 0, 0600, "root's");
		auto g = h.run(Op::kFsRead, read_req("secret", 0, 0));
		ASSERT_EQ(g->status(), 0u);
		EXPECT_EQ(str(*g), "root's");
		// Root's rights, even on others' files.
		plant(h.tree.in_root("alice"), kAlice, kAlice, 0600);
		EXPECT_EQ(h.status(Op::kFsRead, read_req("alice", 0, 0)), 0u);
	}
	{
		ExportOptions o = squash(Squash::kAll);
		o.anon_uid = 4000;
		o.anon_gid = 4001;
		OpsHarness h(16, o);
		ASSERT_EQ(::chmod(h.tree.root.c_str(), 0777), 0);
		plant(h.tree.in_root("alice"), kAlice, kAlice, 0600);
		EXPECT_EQ(h.status(Op::kFsRead, read_req("alice", kAlice, kAlice)), unsigned{EACCES});
		FsReq r = as("new", kAlice, kAlice, {kStaff});
		r.mode = 0644;
		ASSERT_EQ(h.status(Op::kFsCreate, r), 0u);
		struct stat st;
		ASSERT_EQ(::lstat(h.tree.in_root("new").c_str(), &st), 0);
		EXPECT_EQ(st.st_uid, 4000u);
		EXPECT_EQ(st.st_gid, 4001u);
	}
	expect_restored();
}

TEST_F(StordCreds, OwnerMayWriteItsReadOnlyFile)
{
	OpsHarness h(16, squash(Squash::kRoot));
	ASSERT_EQ(::chmod(h.tree.root.c_str(), 0777), 0);
	// open("ro", O_CREAT | O_WRONLY, 0444) on the client, then write().
	FsReq c = as("ro", kAlice, kAlice);
	c.mode = S_IFREG | 0444;
	ASSERT_EQ(h.status(Op::kFsCreate, c), 0u);
	FsReq w = as("ro", kAlice, kAlice);
	const Bytes data(5, std::byte{'y'});
	w.data = data;
	auto g = h.run(Op::kFsWrite, w);
	ASSERT_EQ(g->status(), 0u);
	EXPECT_EQ(g->body<FsWriteReply>().count, 5u);
	EXPECT_EQ(TempTree::read(h.tree.in_root("ro")), "yyyyy");
	FsReq t = as("ro", kAlice, kAlice);
	t.valid = DG_FS_SET_SIZE;
	t.offset = 2;
	EXPECT_EQ(h.status(Op::kFsSetattr, t), 0u);
	// Nobody else: not even with the owner's descriptor in the cache.
	w.cred.uid = kBob;
	w.cred.gid = kBob;
	EXPECT_EQ(h.status(Op::kFsWrite, w), unsigned{EACCES});
	EXPECT_EQ(TempTree::read(h.tree.in_root("ro")), "yy");
	// Unreadable to its owner too, by mode: the owner still reads it.
	ASSERT_EQ(::chmod(h.tree.in_root("ro").c_str(), 0), 0);
	h.cache.invalidate(".");
	EXPECT_EQ(str(*h.run(Op::kFsRead, read_req("ro", kAlice, kAlice))), "yy");
	EXPECT_EQ(h.status(Op::kFsRead, read_req("ro", kBob, kBob)), unsigned{EACCES});
	expect_restored();
}

TEST_F(StordCreds, ChmodThroughStordIsSeenByCachedCallers)
{
	OpsHarness h(16, squash(Squash::kRoot));
	plant(h.tree.in_root("f"), kAlice, kAlice, 0644, "public");
	EXPECT_EQ(h.status(Op::kFsRead, read_req("f", kBob, kBob)), 0u);	// cached now
	FsReq m = as("f", kAlice, kAlice);
	m.valid = DG_FS_SET_MODE;
	m.mode = 0600;
	ASSERT_EQ(h.status(Op::kFsSetattr, m), 0u);
	EXPECT_EQ(h.status(Op::kFsRead, read_req("f", kBob, kBob)), unsigned{EACCES});
}

TEST_F(StordCreds, DevicesOnlyWhenAllowed)
{
	for (bool allow : {false, true}) {
		ExportOptions o = squash(Squash::kNone);
		o.allow_devices = allow;
		OpsHarness h(16, o);
		for (mode_t type : {S_IFCHR, S_IFBLK}) {
			FsReq r = as(type == S_IFCHR ? "chr" : "blk", 0, 0);
			r.mode = type | 0600;
			r.rdev = (1u << 8) | 3u;
			EXPECT_EQ(h.status(Op::kFsMknod, r), allow ? 0u : unsigned{EPERM}) << allow;
		}
		for (mode_t type : {S_IFIFO, S_IFSOCK}) {
			FsReq r = as(type == S_IFIFO ? "fifo" : "sock", 0, 0);
			r.mode = type | 0600;
			EXPECT_EQ(h.status(Op::kFsMknod, r), 0u);
		}
	}
}

TEST_F(StordCreds, SetIdBitsOnlyWhenAllowed)
{
	for (bool allow : {false, true}) {
		ExportOptions o = squash(Squash::kNone);
		o.allow_setid = allow;
		OpsHarness h(16, o);
		const std::uint32_t kept = allow ? 06000 : 0;
		FsReq r = as("f", 0, 0);
		r.mode = S_IFREG | 06755;
		ASSERT_EQ(h.status(Op::kFsCreate, r), 0u);
		struct stat st;
		ASSERT_EQ(::lstat(h.tree.in_root("f").c_str(), &st), 0);
		EXPECT_EQ(st.st_mode & 07777, 0755u | kept) << allow;
		r.path = "n";
		r.mode = S_IFIFO | 04644;
		ASSERT_EQ(h.status(Op::kFsMknod, r), 0u);
		ASSERT_EQ(::lstat(h.tree.in_root("n").c_str(), &st), 0);
		EXPECT_EQ(st.st_mode & 07777, 0644u | (allow ? 04000 : 0)) << allow;
		FsReq s = as("f", 0, 0);
		s.valid = DG_FS_SET_MODE;
		s.mode = 04711;
		auto g = h.run(Op::kFsSetattr, s);
		ASSERT_EQ(g->status(), 0u);
		EXPECT_EQ(g->body<FsAttr>().mode & 07777, 0711u | (allow ? 04000 : 0));
		// A set-group-ID directory is fine either way.
		ASSERT_EQ(::mkdir(h.tree.in_root("d").c_str(), 0755), 0);
		s.path = "d";
		s.mode = 06775;
		g = h.run(Op::kFsSetattr, s);
		ASSERT_EQ(g->status(), 0u);
		EXPECT_EQ(g->body<FsAttr>().mode & 07777, 02775u | (allow ? 04000 : 0));
	}
}

TEST_F(StordCreds, SystemXattrsOnlyWhenAllowed)
{
	for (bool allow : {false, true}) {
		ExportOptions o = squash(Squash::kNone);
		o.allow_sys_xattrs = allow;
		OpsHarness h(16, o);
		const std::string f = h.tree.in_root("f");
		plant(f, 0, 0, 0644);
		if (::setxattr(f.c_str(), "user.a", "1", 1, 0) != 0 ||
		    ::setxattr(f.c_str(), "trusted.t", "2", 1, 0) != 0)
			GTEST_SKIP() << "no user or trusted xattrs here: " << std::strerror(errno);
		const Bytes v(1, std::byte{'v'});
		for (const char *name : {"trusted.x", "security.capability"}) {
			FsReq r = as("f", 0, 0);
			r.name2 = name;
			r.data = v;
			const unsigned want = allow ? 0u : unsigned{EPERM};
			// (A bad capability value is EINVAL when allowed.)
			if (std::string_view(name) == "trusted.x" || !allow) {
				EXPECT_EQ(h.status(Op::kFsSetxattr, r), want) << name;
			}
			r.data = {};
			r.name2 = "trusted.t";
			EXPECT_EQ(h.status(Op::kFsRemovexattr, r), allow ? 0u : unsigned{EPERM});
			if (allow) {
				ASSERT_EQ(::setxattr(f.c_str(), "trusted.t", "2", 1, 0), 0);
			}
		}
		FsReq g = as("f", 0, 0);
		g.name2 = "trusted.t";
		g.count = 100;
		EXPECT_EQ(h.status(Op::kFsGetxattr, g), allow ? 0u : unsigned{ENODATA});
		g.name2 = "user.a";
		EXPECT_EQ(h.status(Op::kFsGetxattr, g), 0u);
		FsReq l = as("f", 0, 0);
		l.count = 0;
		auto size = h.run(Op::kFsListxattr, l);
		ASSERT_EQ(size->status(), 0u);
		l.count = 1000;
		auto list = h.run(Op::kFsListxattr, l);
		ASSERT_EQ(list->status(), 0u);
		const FsXattr x = list->body<FsXattr>();
		const std::string names(reinterpret_cast<const char *>(x.value.data()), x.value.size());
		EXPECT_EQ(size->body<FsXattr>().size, x.size);
		EXPECT_NE(names.find("user.a"), std::string::npos);
		EXPECT_EQ(names.find("trusted.") != std::string::npos, allow) << names;
		if (!allow) {
			EXPECT_EQ(names, std::string("user.a", 7));
			l.count = 3;	// too small for the filtered list
			EXPECT_EQ(h.status(Op::kFsListxattr, l), unsigned{ERANGE});
		}
	}
}

// A tmpfs mounted beneath the root, unmounted at the end.
class Mounted {
public:
	explicit Mounted(const std::string &dir) : dir_(dir)
	{
		::mkdir(dir.c_str(), 0755);
		ok_ = ::mount("stord-test", dir.c_str(), "tmpfs", 0, "size=1m") == 0;
		if (ok_)
			TempTree::write(dir + "/inner", "inner");
	}
	~Mounted()
	{
		if (ok_)
			::umount2(dir_.c_str(), MNT_DETACH);
	}
	bool ok() const { return ok_; }

private:
	std::string dir_;
	bool ok_ = false;
};

TEST_F(StordCreds, MountsAreNotCrossedUnlessAllowed)
{
	for (bool allow : {false, true}) {
		ExportOptions o = squash(Squash::kNone);
		o.cross_mounts = allow;
		OpsHarness h(16, o);
		ASSERT_EQ(::mkdir(h.tree.in_root("d").c_str(), 0755), 0);
		Mounted m(h.tree.in_root("d/mnt"));
		if (!m.ok())
			GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
		const unsigned want = allow ? 0u : unsigned{EXDEV};
		EXPECT_EQ(h.status(Op::kFsRead, read_req("d/mnt/inner", 0, 0)), want);
		EXPECT_EQ(h.status(Op::kFsGetattr, as("d/mnt/inner", 0, 0)), want);
		EXPECT_EQ(h.status(Op::kFsGetattr, as("d/mnt", 0, 0)), want);
		FsReq rd = as("d/mnt", 0, 0);
		rd.count = 4096;
		EXPECT_EQ(h.status(Op::kFsReaddir, rd), want);
		FsReq c = as("d/mnt/new", 0, 0);
		c.mode = 0644;
		EXPECT_EQ(h.status(Op::kFsCreate, c), want);
		FsReq x = as("d/mnt", 0, 0);
		x.count = 100;
		EXPECT_EQ(h.status(Op::kFsListxattr, x), want);
		// The directory holding the mount point is fine.
		EXPECT_EQ(h.status(Op::kFsGetattr, as("d", 0, 0)), 0u);
	}
}

}  // namespace
}  // namespace disagg::stord::test

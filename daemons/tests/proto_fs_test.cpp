// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Codec tests of the storage-node messages: byte layout against
// hand-written arrays, round trips, and rejection of malformed payloads.
#include "proto.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <initializer_list>
#include <string>

namespace disagg::proto {
namespace {

static_assert(sizeof(dg_fs_req) == 152 && sizeof(dg_fs_cred) == 80 && sizeof(dg_fs_attr) == 96);
static_assert(sizeof(dg_fs_write_reply) == 104 && sizeof(dg_fs_dirent) == 24);
static_assert(sizeof(dg_fs_readdir_reply) == 8 && sizeof(dg_fs_statfs) == 56);
static_assert(sizeof(dg_fs_xattr_reply) == 8);

Bytes bytes(std::initializer_list<unsigned> v)
{
	Bytes out;
	for (unsigned b : v)
		out.push_back(static_cast<std::byte>(b));
	return out;
}

Bytes payload(const Result<Bytes> &f)
{
	EXPECT_TRUE(f.ok()) << to_string(f.error());
	return f ? Bytes(f->begin() + kHdrSize, f->end()) : Bytes{};
}

Result<Message> decode_all(ByteSpan in)
{
	Result<Frame> f = decode_frame(in);
	if (!f)
		return f.error();
	return decode_message(*f);
}

const Bytes kFsReqWire = bytes({
	0x03, 0x00, 0x00, 0x00,	// path_len 3
	0x02, 0x00, 0x00, 0x00,	// name2_len 2
	0x01, 0x00, 0x00, 0x00,	// data_len 1
	0x01, 0x00, 0x00, 0x00,	// flags
	0x28, 0x00, 0x00, 0x00,	// valid
	0xa4, 0x81, 0x00, 0x00,	// mode 0100644
	0xe8, 0x03, 0x00, 0x00,	// uid 1000
	0xe9, 0x03, 0x00, 0x00,	// gid 1001
	0x03, 0x01, 0x00, 0x00,	// rdev
	0x00, 0x00, 0x01, 0x00,	// count 65536
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	// offset
	0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// atime_sec
	0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// mtime_sec
	0x01, 0x00, 0x00, 0x00,	// atime_nsec
	0x02, 0x00, 0x00, 0x00,	// mtime_nsec
	0xd0, 0x07, 0x00, 0x00,	// cred.uid 2000
	0xd1, 0x07, 0x00, 0x00,	// cred.gid 2001
	0x02, 0x00, 0x00, 0x00,	// cred.ngroups 2
	0x00, 0x00, 0x00, 0x00,	// cred.reserved
	0x0a, 0x00, 0x00, 0x00,	// cred.groups[0] 10
	0x00, 0x01, 0x00, 0x00,	// cred.groups[1] 256
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	// groups[2..15]
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	'a', '/', 'b',		// path
	'n', '2',		// name2
	0x7f,			// data
});

FsReq fs_req_value(const Bytes &data)
{
	FsReq r;
	r.flags = 1;
	r.valid = 0x28;
	r.mode = 0100644;
	r.uid = 1000;
	r.gid = 1001;
	r.rdev = 0x103;
	r.count = 65536;
	r.offset = 0x0102030405060708;
	r.atime_sec = 0x10;
	r.mtime_sec = 0x20;
	r.atime_nsec = 1;
	r.mtime_nsec = 2;
	r.cred.uid = 2000;
	r.cred.gid = 2001;
	r.cred.ngroups = 2;
	r.cred.groups[0] = 10;
	r.cred.groups[1] = 256;
	r.path = "a/b";
	r.name2 = "n2";
	r.data = data;
	return r;
}

TEST(ProtoFs, RequestLayout)
{
	const Bytes data = bytes({0x7f});
	Result<Bytes> f = make_request(Op::kFsWrite, 9, fs_req_value(data));
	EXPECT_EQ(payload(f), kFsReqWire);
	Result<Message> m = decode_all(*f);
	ASSERT_TRUE(m.ok()) << to_string(m.error());
	EXPECT_EQ(std::get<FsReq>(m->body), fs_req_value(data));
	// Every fs opcode takes the same request.
	for (std::uint16_t op = DG_OP_FS_GETATTR; op <= DG_OP_FS_READDIRPLUS; op++) {
		EXPECT_EQ(payload_kind(op), Kind::kFsReq) << op;
		EXPECT_TRUE(is_fs_op(op));
	}
	EXPECT_FALSE(is_fs_op(DG_OP_FS_READDIRPLUS + 1));
	EXPECT_FALSE(is_fs_op(DG_OP_MEM_INFO));
}

TEST(ProtoFs, RequestRejects)
{
	auto err = [](Bytes p) { return decode_fs_req(p).error(); };
	Bytes p = kFsReqWire;
	EXPECT_EQ(err(Bytes(p.begin(), p.begin() + 151)), Errc::kBadSize);
	Bytes extra = p;
	extra.push_back(std::byte{0});
	EXPECT_EQ(err(extra), Errc::kBadSize);
	Bytes longer = p;
	longer[0] = std::byte{4};	// path_len + name2 + data past the end
	EXPECT_EQ(err(longer), Errc::kBadSize);
	Bytes overflow = p;
	for (int i = 0; i < 4; i++) {	// 3 + 0xffffffff + 1 wraps in 32 bits
		overflow[4 + i] = std::byte{0xff};
	}
	EXPECT_EQ(err(overflow), Errc::kBadSize);
	Bytes nopath = p;
	nopath[0] = std::byte{0};
	nopath[4] = std::byte{5};
	EXPECT_EQ(err(nopath), Errc::kBadSize);	// path_len 0
	Bytes nul = p;
	nul[152 + 1] = std::byte{0};
	EXPECT_EQ(err(nul), Errc::kBadValue);
	Bytes nul2 = p;
	nul2[152 + 3] = std::byte{0};
	EXPECT_EQ(err(nul2), Errc::kBadValue);
	// The credentials: at most DG_FS_NGROUPS groups, unused ones and
	// reserved zero.
	const std::size_t cred = offsetof(dg_fs_req, cred);
	Bytes many = p;
	many[cred + 8] = std::byte{17};
	EXPECT_EQ(err(many), Errc::kBadValue);
	many[cred + 8] = std::byte{16};
	EXPECT_TRUE(decode_fs_req(many).ok());	// 16 groups, the rest were zero
	Bytes huge = p;
	huge[cred + 11] = std::byte{0x80};
	EXPECT_EQ(err(huge), Errc::kBadValue);
	Bytes res = p;
	res[cred + 12] = std::byte{1};
	EXPECT_EQ(err(res), Errc::kBadReserved);
	Bytes unused = p;
	unused[cred + 16 + 4 * 2] = std::byte{5};	// groups[2] with ngroups 2
	EXPECT_EQ(err(unused), Errc::kBadReserved);
	FsReq bad = fs_req_value(Bytes{});
	bad.cred.ngroups = 1;	// groups[1] is set
	EXPECT_EQ(make_request(Op::kFsGetattr, 1, bad).error(), Errc::kBadReserved);
	// Bounds: path and name2 at most 4095, data at most 64 KiB.
	FsReq r;
	std::string big(kFsPathMax + 1, 'a');
	r.path = big;
	EXPECT_EQ(make_request(Op::kFsGetattr, 1, r).error(), Errc::kBadSize);
	r.path = "a";
	r.name2 = big;
	EXPECT_EQ(make_request(Op::kFsGetattr, 1, r).error(), Errc::kBadSize);
	r.name2 = "";
	Bytes d(kFsIoMax + 1);
	r.data = d;
	EXPECT_EQ(make_request(Op::kFsWrite, 1, r).error(), Errc::kBadSize);
	// The largest legal request fits DG_FS_MSG_MAX.
	std::string maxp(kFsPathMax, 'p');
	r.path = maxp;
	r.name2 = maxp;
	r.data = ByteSpan(d).first(kFsIoMax);
	Result<Bytes> f = make_request(Op::kFsSetxattr, 1, r);
	ASSERT_TRUE(f.ok());
	EXPECT_LE(f->size(), kFsMsgMax);
}

FsAttr attr_value()
{
	FsAttr a;
	a.ino = 0x1111111111111111;
	a.dev = 0x22;
	a.size = 0x33;
	a.blocks = 0x44;
	a.atime_sec = 0x55;
	a.mtime_sec = 0x66;
	a.ctime_sec = 0x77;
	a.atime_nsec = 0x88;
	a.mtime_nsec = 0x99;
	a.ctime_nsec = 0xaa;
	a.mode = 0x41ed;
	a.nlink = 2;
	a.uid = 3;
	a.gid = 4;
	a.rdev = 0x105;
	a.blksize = 4096;
	return a;
}

const Bytes kAttrWire = bytes({
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,	// ino
	0x22, 0, 0, 0, 0, 0, 0, 0,	// dev
	0x33, 0, 0, 0, 0, 0, 0, 0,	// size
	0x44, 0, 0, 0, 0, 0, 0, 0,	// blocks
	0x55, 0, 0, 0, 0, 0, 0, 0,	// atime_sec
	0x66, 0, 0, 0, 0, 0, 0, 0,	// mtime_sec
	0x77, 0, 0, 0, 0, 0, 0, 0,	// ctime_sec
	0x88, 0, 0, 0,	0x99, 0, 0, 0,	0xaa, 0, 0, 0,	// nsecs
	0xed, 0x41, 0, 0,	// mode
	2, 0, 0, 0,	3, 0, 0, 0,	4, 0, 0, 0,	// nlink uid gid
	0x05, 0x01, 0, 0,	// rdev
	0x00, 0x10, 0, 0,	// blksize
	0, 0, 0, 0,		// reserved
});

// DG_FEAT_FSATTR: entry replies are told from the old forms by size.
TEST(ProtoFs, EntryReplyLayout)
{
	FsAttr dir = attr_value();
	dir.ino = 77;
	FsAttr old = attr_value();
	old.ino = 78;
	const FsEntry e{attr_value(), dir, old};
	for (Op op : {Op::kFsCreate, Op::kFsMkdir, Op::kFsMknod, Op::kFsSymlink, Op::kFsLink,
		      Op::kFsRename, Op::kFsUnlink, Op::kFsRmdir}) {
		Result<Bytes> f = make_reply(op, 1, e);
		ASSERT_TRUE(f.ok()) << static_cast<unsigned>(op);
		Bytes p = payload(f);
		ASSERT_EQ(p.size(), kFsEntryReplySize);
		EXPECT_EQ(Bytes(p.begin(), p.begin() + kFsAttrSize), kAttrWire);
		EXPECT_EQ(std::get<FsEntry>(decode_all(*f)->body), e);
		p[kFsAttrSize + 92] = std::byte{1};	// dir's reserved
		EXPECT_EQ(decode_fs_entry(p).error(), Errc::kBadReserved);
	}
	// Nowhere else, and never as a request.
	EXPECT_EQ(make_reply(Op::kFsGetattr, 1, e).error(), Errc::kBadBody);
	EXPECT_EQ(make_reply(Op::kFsSetattr, 1, e).error(), Errc::kBadBody);
	EXPECT_EQ(make_request(Op::kFsCreate, 1, e).error(), Errc::kBadBody);
	// The old forms still decode; a size between is refused.
	for (Op op : {Op::kFsRename, Op::kFsUnlink, Op::kFsRmdir})
		EXPECT_TRUE(std::holds_alternative<Empty>(
			decode_all(*make_reply(op, 1, Empty{}))->body));
	Bytes f = *make_reply(Op::kFsCreate, 1, e);
	f.resize(f.size() - 8);
	f[8] = std::byte{static_cast<unsigned char>(kFsEntryReplySize - 8)};
	f[9] = std::byte{static_cast<unsigned char>((kFsEntryReplySize - 8) >> 8)};
	EXPECT_FALSE(decode_all(f).ok());
}

TEST(ProtoFs, ReaddirplusLayout)
{
	FsReaddirPlus rd;
	rd.eof = true;
	rd.entries.push_back(FsDirentPlus{attr_value(), 5, 8, "abc"});
	rd.entries.push_back(FsDirentPlus{FsAttr{}, 9, 0, "gone-12"});
	Result<Bytes> f = make_reply(Op::kFsReaddirplus, 1, rd);
	ASSERT_TRUE(f.ok());
	Bytes p = payload(f);
	ASSERT_EQ(p.size(), kFsReaddirReplySize + fs_direntplus_size(3) + fs_direntplus_size(7));
	EXPECT_EQ(Bytes(p.begin() + 8, p.begin() + 8 + kFsAttrSize), kAttrWire);
	EXPECT_EQ(std::get<FsReaddirPlus>(decode_all(*f)->body), rd);
	EXPECT_EQ(payload_kind(DG_OP_FS_READDIRPLUS | kReplyBit), Kind::kFsReaddirPlus);
	rd.entries[0].name = "a/b";
	EXPECT_EQ(make_reply(Op::kFsReaddirplus, 1, rd).error(), Errc::kBadValue);
	EXPECT_EQ(make_reply(Op::kFsReaddir, 1, FsReaddirPlus{}).error(), Errc::kBadBody);
}

TEST(ProtoFs, AttrAndWriteReplyLayout)
{
	Result<Bytes> f = make_reply(Op::kFsGetattr, 1, attr_value());
	EXPECT_EQ(payload(f), kAttrWire);
	EXPECT_EQ(std::get<FsAttr>(decode_all(*f)->body), attr_value());
	for (Op op : {Op::kFsSetattr, Op::kFsCreate, Op::kFsMkdir, Op::kFsMknod, Op::kFsSymlink,
		      Op::kFsLink})
		EXPECT_EQ(payload_kind(static_cast<std::uint16_t>(op) | kReplyBit), Kind::kFsAttr);
	Bytes bad = kAttrWire;
	bad[92] = std::byte{1};	// reserved
	EXPECT_EQ(decode_fs_attr(bad).error(), Errc::kBadReserved);

	f = make_reply(Op::kFsWrite, 1, FsWriteReply{0x1234, attr_value()});
	Bytes want = bytes({0x34, 0x12, 0, 0, 0, 0, 0, 0});
	want.insert(want.end(), kAttrWire.begin(), kAttrWire.end());
	EXPECT_EQ(payload(f), want);
	EXPECT_EQ(std::get<FsWriteReply>(decode_all(*f)->body).count, 0x1234u);
	want[4] = std::byte{1};
	EXPECT_EQ(decode_fs_write_reply(want).error(), Errc::kBadReserved);
}

TEST(ProtoFs, ReaddirLayout)
{
	FsReaddir rd;
	rd.eof = true;
	rd.entries.push_back(FsDirent{5, 0x100, 8, "ab"});
	rd.entries.push_back(FsDirent{6, 0x200, 4, "12345678"});
	Result<Bytes> f = make_reply(Op::kFsReaddir, 1, rd);
	const Bytes want = bytes({
		2, 0, 0, 0,	1, 0, 0, 0,		// nr 2, eof
		5, 0, 0, 0, 0, 0, 0, 0,			// ino
		0x00, 0x01, 0, 0, 0, 0, 0, 0,		// cookie
		2, 0,	8,	0, 0, 0, 0, 0,		// name_len, type, reserved
		'a', 'b', 0, 0, 0, 0, 0, 0,		// name, padded to 8
		6, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x02, 0, 0, 0, 0, 0, 0,
		8, 0,	4,	0, 0, 0, 0, 0,
		'1', '2', '3', '4', '5', '6', '7', '8',	// exactly 8: no padding
	});
	EXPECT_EQ(payload(f), want);
	EXPECT_EQ(std::get<FsReaddir>(decode_all(*f)->body), rd);
	EXPECT_EQ(fs_dirent_size(1), 32u);
	EXPECT_EQ(fs_dirent_size(8), 32u);
	EXPECT_EQ(fs_dirent_size(9), 40u);

	Bytes bad = want;
	bad[0] = std::byte{3};	// more entries than bytes
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadSize);
	bad = want;
	bad[0] = std::byte{0xff};
	bad[3] = std::byte{0xff};	// a huge nr is refused before any allocation
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadSize);
	bad = want;
	bad[4] = std::byte{2};	// eof 2
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadValue);
	bad = want;
	bad[8 + 24 + 3] = std::byte{1};	// padding not zero
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadReserved);
	bad = want;
	bad[8 + 16] = std::byte{0xff};	// name_len past the end
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadSize);
	bad = want;
	bad[8 + 24] = std::byte{'/'};
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadValue);
	bad = want;
	bad.push_back(std::byte{0});
	EXPECT_EQ(decode_fs_readdir(bad).error(), Errc::kBadSize);
	FsReaddir empty_name;
	empty_name.entries.push_back(FsDirent{1, 1, 0, ""});
	EXPECT_EQ(make_reply(Op::kFsReaddir, 1, empty_name).error(), Errc::kBadValue);
}

TEST(ProtoFs, StatfsAndXattrLayout)
{
	FsStatfs s{1, 2, 3, 4, 5, 4096, 1024, 255};
	Result<Bytes> f = make_reply(Op::kFsStatfs, 1, s);
	const Bytes want = bytes({
		1, 0, 0, 0, 0, 0, 0, 0,	2, 0, 0, 0, 0, 0, 0, 0,
		3, 0, 0, 0, 0, 0, 0, 0,	4, 0, 0, 0, 0, 0, 0, 0,
		5, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x10, 0, 0,	0x00, 0x04, 0, 0,	0xff, 0, 0, 0,	0, 0, 0, 0,
	});
	EXPECT_EQ(payload(f), want);
	EXPECT_EQ(std::get<FsStatfs>(decode_all(*f)->body), s);

	const Bytes value = bytes({'v', 0, 'x'});
	f = make_reply(Op::kFsGetxattr, 1, FsXattr{3, value});
	EXPECT_EQ(payload(f), bytes({3, 0, 0, 0, 0, 0, 0, 0, 'v', 0, 'x'}));
	EXPECT_EQ(std::get<FsXattr>(decode_all(*f)->body), (FsXattr{3, value}));
	f = make_reply(Op::kFsListxattr, 1, FsXattr{77, {}});	// size only
	EXPECT_EQ(payload(f), bytes({77, 0, 0, 0, 0, 0, 0, 0}));
	EXPECT_EQ(make_reply(Op::kFsGetxattr, 1, FsXattr{4, value}).error(), Errc::kBadSize);
	EXPECT_EQ(decode_fs_xattr(bytes({3, 0, 0, 0, 1, 0, 0, 0, 'a', 'b', 'c'})).error(),
		  Errc::kBadReserved);
	EXPECT_EQ(decode_fs_xattr(bytes({1, 0, 0, 0})).error(), Errc::kBadSize);
}

TEST(ProtoFs, DataAndEmptyReplies)
{
	for (Op op : {Op::kFsRead, Op::kFsReadlink})
		EXPECT_EQ(payload_kind(static_cast<std::uint16_t>(op) | kReplyBit), Kind::kData);
	for (Op op : {Op::kFsUnlink, Op::kFsRmdir, Op::kFsRename, Op::kFsFsync, Op::kFsSetxattr,
		      Op::kFsRemovexattr}) {
		EXPECT_EQ(payload_kind(static_cast<std::uint16_t>(op) | kReplyBit), Kind::kEmpty);
		EXPECT_TRUE(make_reply(op, 1).ok());
	}
	// A body of the wrong kind is refused when encoding.
	EXPECT_EQ(make_reply(Op::kFsGetattr, 1, FsStatfs{}).error(), Errc::kBadBody);
	EXPECT_EQ(make_request(Op::kFsGetattr, 1, Empty{}).error(), Errc::kBadBody);
}

}  // namespace
}  // namespace disagg::proto

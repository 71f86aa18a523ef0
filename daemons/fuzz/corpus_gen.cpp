// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Writes the harnesses' seed inputs, built with the codec's own encoders:
//   corpus-gen DIR    writes DIR/<harness>/seed-<name> for every harness
// Seeds are valid frames for every opcode (requests and replies) and, for
// the services, scripts (fuzz_util.hpp) of whole sessions. The checked-in
// corpus (daemons/fuzz/corpus) holds these plus regression inputs; `make
// check` also runs freshly generated seeds, so a codec change is seeded at
// once (run `make fuzz-corpus` to refresh the checked-in ones).
#include "fuzz_util.hpp"
#include "proto.hpp"
#include "script.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace disagg;
using namespace disagg::proto;

namespace {

std::string g_dir;
std::vector<Bytes> g_keep;	// backing store for spans in bodies

[[noreturn]] void die(const std::string &what)
{
	std::fprintf(stderr, "corpus-gen: %s\n", what.c_str());
	std::exit(1);
}

void write_file(const std::string &harness, const std::string &name, const Bytes &b)
{
	const std::string dir = g_dir + "/" + harness;
	if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
		die("mkdir " + dir + ": " + std::strerror(errno));
	std::ofstream out(dir + "/seed-" + name, std::ios::binary | std::ios::trunc);
	out.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
	if (!out)
		die("cannot write " + dir + "/seed-" + name);
}

ByteSpan keep(std::string_view s)
{
	g_keep.emplace_back(reinterpret_cast<const std::byte *>(s.data()),
			    reinterpret_cast<const std::byte *>(s.data()) + s.size());
	return g_keep.back();
}

ByteSpan pattern(std::size_t n)
{
	Bytes b(n);
	for (std::size_t i = 0; i < n; i++)
		b[i] = static_cast<std::byte>(i * 7 + 1);
	g_keep.push_back(std::move(b));
	return g_keep.back();
}

std::uint64_t g_req = 0;

Bytes frame(std::uint16_t opcode, const Body &body = Empty{}, std::uint32_t status = 0)
{
	Hdr h;
	h.opcode = opcode;
	h.status = status;
	h.req_id = ++g_req;
	Result<Bytes> b = encode_message(Message{h, body});
	if (!b)
		die("cannot encode opcode " + std::to_string(opcode) + ": " +
		    std::string(to_string(b.error())));
	return std::move(b).value();
}
Bytes req(Op op, const Body &body = Empty{}) { return frame(static_cast<std::uint16_t>(op), body); }
// A client's reply to the daemon's @n-th request of its own (ServiceBase
// numbers them from 1, bit 63 set).
Bytes node_rep(Op op, std::uint64_t n, std::uint32_t status = 0)
{
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op) | kReplyBit;
	h.status = status;
	h.req_id = (1ull << 63) | n;
	Result<Bytes> b = encode_message(Message{h, Empty{}});
	if (!b)
		die("cannot encode a reply to request " + std::to_string(n));
	return std::move(b).value();
}
Bytes rep(Op op, const Body &body = Empty{})
{
	return frame(static_cast<std::uint16_t>(op) | kReplyBit, body);
}

Hello hello(Role role, std::uint64_t id, std::uint32_t features = 0)
{
	Hello h;
	h.role = role;
	h.client_id = id;
	h.features = features;
	h.name = "fuzz-seed";
	for (std::size_t i = 0; i < h.nonce.size(); i++)
		h.nonce[i] = static_cast<std::uint8_t>(i);
	return h;
}

FsReq fs(std::string_view path, std::string_view name2 = {}, ByteSpan data = {})
{
	FsReq r;
	r.path = path;
	r.name2 = name2;
	r.data = data;
	return r;
}

ByteSpan keep_bytes(Bytes b)
{
	g_keep.push_back(std::move(b));
	return g_keep.back();
}

// Client memory the stord harness lets one-sided transfers reach
// (fuzz/stord_service.cpp's kPeerAddr, kPeerRkey; 256 KiB).
constexpr std::uint64_t kPeerAddr = 0x10000;
constexpr std::uint32_t kPeerRkey = 0x5000;

// A READ or WRITE of "d/f" naming @n segments of 4 KiB (the last 100
// bytes) of that memory, with DG_FS_IO_SEGS and @flags.
FsReq segs_req(Op op, unsigned n, std::uint32_t flags, std::uint32_t rkey = kPeerRkey)
{
	std::vector<FsSeg> v;
	std::uint32_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		const std::uint32_t len = i + 1 == n ? 100 : 4096;
		v.push_back(FsSeg{kPeerAddr + i * 8192, len, rkey});
		total += len;
	}
	FsReq r = fs("d/f", {}, keep_bytes(encode_fs_segs(v)));
	r.flags = DG_FS_IO_SEGS | flags | (op == Op::kFsWrite ? DG_FS_WRITE_SYNC : 0);
	r.count = total;
	r.offset = 100;
	return r;
}

// A caller's credentials: user @uid, its group and some supplementary ones.
FsCred cred(std::uint32_t uid, std::uint32_t ngroups = 2)
{
	FsCred c;
	c.uid = uid;
	c.gid = uid;
	c.ngroups = ngroups;
	for (std::uint32_t i = 0; i < ngroups && i < c.groups.size(); i++)
		c.groups[i] = 100 + i;
	return c;
}

FsAttr attr()
{
	FsAttr a;
	a.ino = 42;
	a.dev = 8;
	a.size = 4096;
	a.blocks = 8;
	a.mode = 0100644;
	a.nlink = 1;
	a.blksize = 4096;
	a.mtime_sec = 1700000000;
	return a;
}

// Every fs request once, in an order that works on an empty root, as the
// caller @c.
std::vector<std::pair<std::string, Bytes>> fs_session(const FsCred &c = {})
{
	std::vector<std::pair<std::string, Bytes>> out;
	auto add = [&](const char *name, Op op, FsReq r) {
		r.cred = c;
		out.emplace_back(name, req(op, r));
	};
	FsReq r = fs("d");
	r.mode = 040755;
	add("mkdir", Op::kFsMkdir, r);
	r = fs("d/f");
	r.mode = 0100644;
	r.flags = DG_FS_CREATE_EXCL;
	add("create", Op::kFsCreate, r);
	r = fs("d/f", {}, keep("hello, storage node\n"));
	r.offset = 0;
	add("write", Op::kFsWrite, r);
	r = fs("d/f");
	r.count = 4096;
	add("read", Op::kFsRead, r);
	add("getattr", Op::kFsGetattr, fs("d/f"));
	r = fs("d/f");
	r.valid = DG_FS_SET_MODE | DG_FS_SET_SIZE | DG_FS_SET_ATIME | DG_FS_SET_MTIME_NOW;
	r.mode = 0600;
	r.offset = 8192;
	r.atime_sec = 1000;
	add("setattr", Op::kFsSetattr, r);
	add("symlink", Op::kFsSymlink, fs("sl", "d/f"));
	add("readlink", Op::kFsReadlink, fs("sl"));
	add("link", Op::kFsLink, fs("d/f", "d/g"));
	r = fs(".");
	r.count = 4096;
	add("readdir", Op::kFsReaddir, r);
	add("statfs", Op::kFsStatfs, fs("."));
	r = fs("d/f");
	r.flags = DG_FS_FSYNC_DATA;
	add("fsync", Op::kFsFsync, r);
	r = fs("d/f", "user.seed", keep("value"));
	r.flags = DG_FS_XATTR_CREATE;
	add("setxattr", Op::kFsSetxattr, r);
	r = fs("d/f", "user.seed");
	r.count = 256;
	add("getxattr", Op::kFsGetxattr, r);
	r = fs("d/f");
	r.count = 256;
	add("listxattr", Op::kFsListxattr, r);
	add("removexattr", Op::kFsRemovexattr, fs("d/f", "user.seed"));
	r = fs("d/g", "h");
	r.flags = DG_FS_RENAME_NOREPLACE;
	add("rename", Op::kFsRename, r);
	r = fs("fifo");
	r.mode = 010644;
	add("mknod", Op::kFsMknod, r);
	add("unlink", Op::kFsUnlink, fs("h"));
	add("unlink2", Op::kFsUnlink, fs("d/f"));
	add("rmdir", Op::kFsRmdir, fs("d"));
	return out;
}

void proto_seeds()
{
	std::vector<std::pair<std::string, Bytes>> f;
	f.emplace_back("hello-swap", req(Op::kHello, hello(Role::kSwap, 1, kFeatRdma)));
	f.emplace_back("hello-fs", req(Op::kHello, hello(Role::kFs, 2)));
	f.emplace_back("hello-ctl", req(Op::kHello, hello(Role::kCtl, 0)));
	f.emplace_back("hello-auth", req(Op::kHello, hello(Role::kSwap, 1, kFeatRdma | kFeatAuth)));
	HelloReply hr;
	hr.features = kFeatRdma;
	hr.server_id = 99;
	for (std::size_t i = 0; i < hr.nonce.size(); i++)
		hr.nonce[i] = static_cast<std::uint8_t>(0xa0 + i);
	for (std::size_t i = 0; i < hr.token.size(); i++)
		hr.token[i] = static_cast<std::uint8_t>(0x50 + i);
	f.emplace_back("hello-reply", rep(Op::kHello, hr));
	hr.features = kFeatRdma | kFeatAuth;
	hr.token = Token{};
	f.emplace_back("hello-reply-auth", rep(Op::kHello, hr));
	Auth a;
	for (std::size_t i = 0; i < a.mac.size(); i++)
		a.mac[i] = static_cast<std::uint8_t>(0x11 * i);
	a.id = "alice";
	f.emplace_back("auth", req(Op::kAuth, a));
	a.id = std::string(kNameMax, 'z');
	f.emplace_back("auth-long-id", req(Op::kAuth, a));
	AuthReply ar;
	for (std::size_t i = 0; i < ar.mac.size(); i++)
		ar.mac[i] = static_cast<std::uint8_t>(0xff - i);
	for (std::size_t i = 0; i < ar.token.size(); i++)
		ar.token[i] = static_cast<std::uint8_t>(0x30 + i);
	f.emplace_back("auth-reply", rep(Op::kAuth, ar));
	f.emplace_back("heartbeat", req(Op::kHeartbeat));
	f.emplace_back("heartbeat-reply", rep(Op::kHeartbeat));
	f.emplace_back("bye", req(Op::kBye));
	f.emplace_back("status", req(Op::kStatus));
	f.emplace_back("status-reply", rep(Op::kStatus, Data{keep("{\"server_id\":\"1\"}")}));
	f.emplace_back("mem-info", req(Op::kMemInfo));
	f.emplace_back("mem-info-reply", rep(Op::kMemInfo, MemInfo{64 << 20, 32 << 20, 4 << 20, 3}));
	f.emplace_back("mem-alloc", req(Op::kMemAlloc, MemAlloc{4 << 20, 7}));
	f.emplace_back("mem-alloc-reply",
		       rep(Op::kMemAlloc, MemSlab{1, 7, 0x7f0000000000, 4 << 20, 0x1234, kSlabResumed}));
	f.emplace_back("mem-free", req(Op::kMemFree, MemFree{1}));
	f.emplace_back("mem-free-reply", rep(Op::kMemFree));
	f.emplace_back("mem-evict", req(Op::kMemEvict, MemFree{1}));
	f.emplace_back("mem-read", req(Op::kMemRead, MemRw{1, kPageSize, kPageSize}));
	f.emplace_back("mem-read-reply", rep(Op::kMemRead, Data{pattern(kPageSize)}));
	f.emplace_back("mem-write",
		       req(Op::kMemWrite, MemWrite{MemRw{1, 0, kPageSize}, pattern(kPageSize)}));
	f.emplace_back("mem-write-reply", rep(Op::kMemWrite));
	f.emplace_back("mem-evict-reply", rep(Op::kMemEvict));
	f.emplace_back("mem-resize", req(Op::kMemResize, MemResize{32 << 20}));
	f.emplace_back("mem-resize-reply", rep(Op::kMemResize));
	for (auto &[name, b] : fs_session())
		f.emplace_back("fs-" + name, std::move(b));
	for (auto &[name, b] : fs_session(cred(1000, kFsNgroups)))
		if (name == "create" || name == "setattr" || name == "rename")
			f.emplace_back("fs-cred-" + name, std::move(b));
	f.emplace_back("fs-attr-reply", rep(Op::kFsGetattr, attr()));
	f.emplace_back("fs-read-reply", rep(Op::kFsRead, Data{keep("file data")}));
	f.emplace_back("fs-write-reply", rep(Op::kFsWrite, FsWriteReply{9, attr()}));
	// One-sided file data (DG_FS_IO_SEGS): the segments as data, the READ
	// reply's count in place of the data.
	f.emplace_back("hello-fs-rdma",
		       req(Op::kHello, hello(Role::kFs, 2, kFeatRdma | kFeatMq | kFeatRdmaFs)));
	f.emplace_back("fs-read-segs", req(Op::kFsRead, segs_req(Op::kFsRead, 2, 0)));
	f.emplace_back("fs-write-segs",
		       req(Op::kFsWrite, segs_req(Op::kFsWrite, 3, DG_FS_IO_INVALIDATE)));
	f.emplace_back("fs-read-segs-reply",
		       rep(Op::kFsRead, Data{keep_bytes(encode_fs_rdma_read_reply(4096))}));
	FsReaddir rd;
	rd.eof = true;
	rd.entries.push_back(FsDirent{42, 1, 8, "file"});
	rd.entries.push_back(FsDirent{43, 2, 4, "a-longer-directory-name"});
	f.emplace_back("fs-readdir-reply", rep(Op::kFsReaddir, rd));
	f.emplace_back("fs-entry-reply", rep(Op::kFsCreate, FsEntry{attr(), attr(), attr()}));
	f.emplace_back("fs-unlink-entry-reply", rep(Op::kFsUnlink, FsEntry{FsAttr{}, attr(), attr()}));
	FsReaddirPlus rdp;
	rdp.entries.push_back(FsDirentPlus{attr(), 1, 8, "file"});
	f.emplace_back("fs-readdirplus-reply", rep(Op::kFsReaddirplus, rdp));
	f.emplace_back("fs-statfs-reply",
		       rep(Op::kFsStatfs, FsStatfs{1000, 500, 400, 100, 50, 4096, 4096, 255}));
	f.emplace_back("fs-getxattr-reply", rep(Op::kFsGetxattr, FsXattr{5, keep("value")}));
	f.emplace_back("fs-getxattr-size-reply", rep(Op::kFsGetxattr, FsXattr{5, {}}));
	f.emplace_back("fs-unlink-reply", rep(Op::kFsUnlink));
	f.emplace_back("error-reply", frame(DG_OP_FS_READ | kReplyBit, Empty{}, ENOENT));
	Bytes other_major = req(Op::kHeartbeat);
	other_major[4] = std::byte{kMajor + 1};
	f.emplace_back("other-major", other_major);

	for (const auto &[name, b] : f)
		write_file("proto_frame", name, b);

	// proto_payload: the selector byte (kDecoders' index in
	// proto_payload.cpp, by payload kind) and the payload.
	auto selector = [](Kind k) -> int {
		switch (k) {
		case Kind::kHello: return 0;
		case Kind::kHelloReply: return 1;
		case Kind::kAuth: return 2;
		case Kind::kMemInfo: return 3;
		case Kind::kMemAlloc: return 4;
		case Kind::kMemSlab: return 5;
		case Kind::kMemFree: return 6;
		case Kind::kMemRw: return 7;
		case Kind::kMemWrite: return 8;
		case Kind::kFsReq: return 9;
		case Kind::kFsAttr: return 10;
		case Kind::kFsWriteReply: return 11;
		case Kind::kFsReaddir: return 12;
		case Kind::kFsStatfs: return 13;
		case Kind::kFsXattr: return 14;
		case Kind::kAuthReply: return 15;
		case Kind::kMemResize: return 16;
		case Kind::kFsEntry: return 17;
		case Kind::kFsReaddirPlus: return 18;
		default: return -1;
		}
	};
	for (const auto &[name, b] : f) {
		Result<Hdr> h = decode_hdr(b);
		if (!h || h->status)
			continue;
		const int sel = selector(payload_kind(h->opcode));
		if (sel < 0)
			continue;
		Bytes p;
		p.push_back(static_cast<std::byte>(sel));
		p.insert(p.end(), b.begin() + kHdrSize, b.end());
		write_file("proto_payload", name, p);
	}
}

// Service scripts (fuzz_util.hpp).
struct Script {
	Bytes b;
	explicit Script(std::uint8_t flags) { b.push_back(static_cast<std::byte>(flags)); }
	Script &connect()
	{
		fuzz::put_cmd(b, fuzz::Cmd::kConnect);
		return *this;
	}
	Script &send(const Bytes &frame, unsigned conn = 0)
	{
		fuzz::put_deliver(b, frame, conn);
		return *this;
	}
	Script &drop(unsigned conn = 0)
	{
		fuzz::put_cmd(b, fuzz::Cmd::kDrop, conn);
		return *this;
	}
	Script &tick(std::uint8_t sec)
	{
		fuzz::put_tick(b, sec);
		return *this;
	}
	// Keyed mode: connect and log in (script.hpp) as kTestKeys[@who] in
	// @role (0 swap, 1 fs, 2 ctl) with @client_id; @how 0 the right
	// proof, else one of script.hpp's spoilt AUTHs.
	Script &login(unsigned who, unsigned role, std::uint8_t client_id, std::uint8_t how = 0)
	{
		unsigned x = who | (role % 3) << 2;
		if (!x)
			x = 3 << 2;	// mallory as swap: 0 would be a plain connect
		b.push_back(static_cast<std::byte>(x << 3 | static_cast<unsigned>(fuzz::Cmd::kConnect)));
		b.push_back(static_cast<std::byte>(client_id));
		b.push_back(static_cast<std::byte>(how));
		return *this;
	}
};

enum : unsigned { kMallory, kAlice, kBob, kOps };
enum : unsigned { kSwap, kFs, kCtl };
// script.hpp's "how" of a login.
enum : std::uint8_t {
	kGood = 0,
	kBadMac = 4 | 5 << 3,	// bit 0 of MAC byte 5
	kReplay = 5,
	kOtherClient = 6,
	kOtherKey = 7,
};

void memd_seeds()
{
	const std::string h = "memd_service";
	for (std::uint8_t flags : {0, 1}) {
		Script s(flags);
		s.connect()
			.send(req(Op::kHello, hello(Role::kSwap, 1, kFeatRdma)))
			.send(req(Op::kMemInfo))
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}))
			.send(req(Op::kMemWrite, MemWrite{MemRw{1, 0, kPageSize}, pattern(kPageSize)}))
			.send(req(Op::kMemRead, MemRw{1, 0, kPageSize}))
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 2}))
			.send(req(Op::kMemFree, MemFree{2}))
			.send(req(Op::kStatus))
			.send(req(Op::kHeartbeat))
			.tick(20)
			.send(rep(Op::kHeartbeat))
			.send(req(Op::kBye));
		write_file(h, flags ? "swap-session-rdma" : "swap-session", s.b);
	}
	Script ctl(0);
	ctl.connect()
		.send(req(Op::kHello, hello(Role::kCtl, 0)))
		.send(req(Op::kMemInfo))
		.send(req(Op::kStatus))
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}))
		.send(req(Op::kHello, hello(Role::kCtl, 0)));
	write_file(h, "ctl", ctl.b);

	// Two connections with the same client id; then the grace period.
	Script two(1);
	two.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 5)))
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 9}))
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 5)), 1)
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 9}), 1)
		.send(req(Op::kMemRead, MemRw{1, 0, kPageSize}), 1)
		.drop(0)
		.tick(10)
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 5)), 1)
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 9}), 1)
		.tick(40);
	write_file(h, "same-client", two.b);

	Script bad(0);
	bad.connect()
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}))
		.connect()
		.send(req(Op::kHello, hello(Role::kFs, 3)))
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 4)))
		.send(req(Op::kMemEvict, MemFree{1}))
		.send(req(Op::kAuth, Auth{Mac{}, "alice"}))
		.send(req(Op::kFsGetattr, fs(".")))
		.send(req(Op::kMemRead, MemRw{77, 0, kPageSize}))
		.send(rep(Op::kMemAlloc, MemSlab{1, 1, 0, 1 << 20, 0, 0}))
		.tick(31);
	write_file(h, "refused", bad.b);

	// Eviction: a client holds slabs 1 and 2, the admin shrinks the node
	// to one slab; the client answers the MEM_EVICT of slab 2 (the
	// daemon's first request of its own), frees it, then the node shrinks
	// again and the answer is ENOENT, then garbage; a swap client may not
	// resize.
	for (std::uint8_t flags : {0, 1}) {
		Script e(flags);
		e.connect()
			.send(req(Op::kHello, hello(Role::kSwap, 1, kFeatRdma)))
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}))
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 2}))
			.send(req(Op::kMemResize, MemResize{1 << 20}))
			.connect()
			.send(req(Op::kHello, hello(Role::kCtl, 0)), 1)
			.send(req(Op::kMemResize, MemResize{1 << 20}), 1)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 3}), 0)
			.send(node_rep(Op::kMemEvict, 1), 0)
			.send(req(Op::kMemFree, MemFree{2}), 0)
			.send(req(Op::kMemResize, MemResize{2 << 20}), 1)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 3}), 0)
			.send(req(Op::kMemResize, MemResize{1 << 20}), 1)
			.send(node_rep(Op::kMemEvict, 2, ENOENT), 0)
			.send(node_rep(Op::kMemFree, 3), 0)
			.tick(31)
			.send(node_rep(Op::kMemEvict, 4), 0)
			.send(req(Op::kStatus), 1)
			.drop(0)
			.tick(31);
		write_file(h, flags ? "evict-rdma" : "evict", e.b);
	}
	Script ke(2);
	ke.login(kAlice, kSwap, 1)
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}), 0)
		.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 2}), 0)
		.login(kBob, kCtl, 0)
		.send(req(Op::kMemResize, MemResize{1 << 20}), 1)
		.login(kOps, kCtl, 0)
		.send(req(Op::kMemResize, MemResize{1 << 20}), 2)
		.send(node_rep(Op::kMemEvict, 1), 0)
		.send(req(Op::kMemFree, MemFree{2}), 0)
		.send(req(Op::kStatus), 1);
	write_file(h, "keyed-evict", ke.b);

	// Keyed: alice and bob with the same client id, each with slabs; each
	// tries the other's slab ids and STATUS; the admin sees everything.
	for (std::uint8_t flags : {2, 3}) {
		Script k(flags);
		k.login(kAlice, kSwap, 7)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}), 0)
			.send(req(Op::kMemWrite, MemWrite{MemRw{1, 0, kPageSize}, pattern(kPageSize)}), 0)
			.login(kBob, kSwap, 7)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}), 1)
			.send(req(Op::kMemRead, MemRw{1, 0, kPageSize}), 1)
			.send(req(Op::kMemFree, MemFree{1}), 1)
			.send(req(Op::kMemRead, MemRw{2, 0, kPageSize}), 0)
			.send(req(Op::kStatus), 0)
			.send(req(Op::kStatus), 1)
			.login(kOps, kCtl, 0)
			.send(req(Op::kStatus), 2)
			.drop(0)
			.login(kBob, kSwap, 7)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}), 2)
			.login(kAlice, kSwap, 7)
			.send(req(Op::kMemAlloc, MemAlloc{1 << 20, 1}), 3)
			.send(req(Op::kStatus), 3)
			.tick(40);
		write_file(h, flags & 1 ? "keyed-two-identities-rdma" : "keyed-two-identities", k.b);
	}

	// Keyed: every spoilt AUTH the harness makes, then the fuzzer's own
	// HELLO and AUTH frames on a plain connection.
	Script ka(2);
	ka.login(kAlice, kSwap, 1)
		.login(kAlice, kSwap, 1, kReplay)
		.login(kBob, kSwap, 2, kBadMac)
		.login(kBob, kSwap, 2, kOtherClient)
		.login(kBob, kSwap, 2, kOtherKey)
		.login(kMallory, kSwap, 3)
		.login(kOps, kFs, 4)
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 5, kFeatAuth)), 1)
		.send(req(Op::kAuth, Auth{Mac{}, "alice"}), 1)
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 6)), 1)
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 6, kFeatAuth)), 1)
		.send(req(Op::kMemInfo), 1)
		.connect()
		.send(req(Op::kHello, hello(Role::kCtl, 6, kFeatAuth)), 1)
		.tick(31)
		.send(req(Op::kAuth, Auth{Mac{}, "bob"}), 0)
		.send(req(Op::kStatus), 0);
	write_file(h, "keyed-bad-auth", ka.b);
}

void stord_seeds()
{
	const std::string h = "stord_service";
	Script s(0);
	s.connect().send(req(Op::kHello, hello(Role::kFs, 1)));
	for (auto &[name, b] : fs_session())
		s.send(b);
	s.send(req(Op::kStatus)).send(req(Op::kHeartbeat)).send(req(Op::kBye));
	write_file(h, "fs-session", s.b);

	// Ways out of the root, each refused.
	Script out(0);
	out.connect().send(req(Op::kHello, hello(Role::kFs, 1)));
	out.send(req(Op::kFsSymlink, fs("up", "../outside")));
	FsReq r = fs("up/secret");
	r.count = 4096;
	out.send(req(Op::kFsRead, r));
	out.send(req(Op::kFsGetattr, fs("../outside/secret")));
	out.send(req(Op::kFsLink, fs("up/secret", "s")));
	out.send(req(Op::kFsRename, fs("up/secret", "s")));
	out.send(req(Op::kFsSymlink, fs("abs", "/etc")));
	r = fs("abs");
	r.count = 4096;
	out.send(req(Op::kFsReaddir, r));
	r = fs("up/x");
	r.mode = 0100644;
	out.send(req(Op::kFsCreate, r));
	r = fs("up/secret");
	r.valid = DG_FS_SET_SIZE;
	out.send(req(Op::kFsSetattr, r));
	write_file(h, "escape", out.b);

	Script ctl(0);
	ctl.connect()
		.send(req(Op::kHello, hello(Role::kCtl, 0)))
		.send(req(Op::kStatus))
		.send(req(Op::kFsGetattr, fs(".")))
		.connect()
		.send(req(Op::kHello, hello(Role::kSwap, 3)), 1)
		.connect()
		.send(req(Op::kFsGetattr, fs(".")), 2);
	write_file(h, "roles", ctl.b);

	Script two(0);
	two.connect()
		.send(req(Op::kHello, hello(Role::kFs, 1)))
		.connect()
		.send(req(Op::kHello, hello(Role::kFs, 1)), 1);
	r = fs("a");
	r.mode = 0100600;
	two.send(req(Op::kFsCreate, r), 0);
	r = fs("a", {}, pattern(8192));
	r.offset = 4096;
	two.send(req(Op::kFsWrite, r), 1);
	r = fs("a");
	r.count = 65536;
	two.send(req(Op::kFsRead, r), 0).drop(1).tick(60).send(req(Op::kFsUnlink, fs("a")), 0);
	write_file(h, "two-clients", two.b);

	// One-sided file data: WRITE and READ with segments (the harness's
	// client memory), an invalidating READ, a request refused (5
	// segments), then a READ with a key the client does not hold (the
	// connection drops); a client without the feature gets EPROTO.
	Script os(0);
	os.connect().send(req(Op::kHello, hello(Role::kFs, 1, kFeatRdma | kFeatRdmaFs)));
	r = fs("d");
	r.mode = 040755;
	os.send(req(Op::kFsMkdir, r));
	r = fs("d/f");
	r.mode = 0100644;
	os.send(req(Op::kFsCreate, r));
	os.send(req(Op::kFsWrite, segs_req(Op::kFsWrite, 3, 0)));
	os.send(req(Op::kFsRead, segs_req(Op::kFsRead, 2, 0)));
	os.send(req(Op::kFsRead, segs_req(Op::kFsRead, 4, DG_FS_IO_INVALIDATE)));
	r = segs_req(Op::kFsRead, 4, 0);
	Bytes five(r.data.begin(), r.data.end());
	five.insert(five.end(), r.data.begin(), r.data.begin() + kFsSegSize);
	r.data = keep_bytes(std::move(five));
	r.count += 4096;
	os.send(req(Op::kFsRead, r));
	os.connect().send(req(Op::kHello, hello(Role::kFs, 2)), 1);
	os.send(req(Op::kFsRead, segs_req(Op::kFsRead, 1, 0)), 1);
	os.send(req(Op::kFsRead, segs_req(Op::kFsRead, 1, 0, kPeerRkey + 1)), 0);
	write_file(h, "one-sided", os.b);

	// Two users (squash none): 1000 makes a private file and a directory
	// of its own, 1001 may not read, write, rename or chmod them; root may.
	Script u(0);
	u.connect().send(req(Op::kHello, hello(Role::kFs, 1)));
	auto as = [](const FsCred &c, FsReq r) {
		r.cred = c;
		return r;
	};
	r = fs("mine");
	r.mode = 040700;
	u.send(req(Op::kFsMkdir, as(cred(1000), r)));
	r = fs("mine/f");
	r.mode = 0100600;
	u.send(req(Op::kFsCreate, as(cred(1000), r)));
	r = fs("pub");
	r.mode = 0100644;
	u.send(req(Op::kFsCreate, as(cred(1000), r)));
	r = fs("pub", {}, keep("by 1001"));
	u.send(req(Op::kFsWrite, as(cred(1001), r)));
	r = fs("mine/f");
	r.count = 64;
	u.send(req(Op::kFsRead, as(cred(1001), r)));
	u.send(req(Op::kFsUnlink, as(cred(1001), fs("pub"))));
	u.send(req(Op::kFsRename, as(cred(1001), fs("pub", "p2"))));
	r = fs("pub");
	r.valid = DG_FS_SET_MODE | DG_FS_SET_UID | DG_FS_SET_GID;
	r.mode = 06777;
	r.uid = 1001;
	r.gid = 101;
	u.send(req(Op::kFsSetattr, as(cred(1001), r)));
	u.send(req(Op::kFsSetattr, as(cred(1000), r)));
	u.send(req(Op::kFsSetattr, as(cred(0, 0), r)));
	u.send(req(Op::kFsSetxattr, as(cred(1001), fs("pub", "user.x", keep("v")))));
	u.send(req(Op::kFsSetxattr, as(cred(1000), fs("pub", "trusted.x", keep("v")))));
	r = fs("dev");
	r.mode = 020644;
	r.rdev = 0x0103;
	u.send(req(Op::kFsMknod, as(cred(0, 0), r)));
	u.send(req(Op::kFsRmdir, as(cred(1001), fs("mine"))));
	u.send(req(Op::kFsRmdir, as(cred(1000), fs("mine"))));
	for (auto &[name, b] : fs_session(cred(1002, kFsNgroups)))
		u.send(b);
	write_file(h, "users", u.b);

	// Keyed: logins (good and spoilt), then fs requests with credentials.
	Script k(2);
	k.login(kAlice, kFs, 1)
		.login(kBob, kFs, 1, kOtherKey)
		.login(kBob, kFs, 2)
		.login(kOps, kCtl, 0)
		.login(kMallory, kFs, 3)
		.login(kAlice, kSwap, 4);
	r = fs("a");
	r.mode = 0100600;
	k.send(req(Op::kFsCreate, as(cred(1000), r)), 0);
	r = fs("a");
	r.count = 16;
	k.send(req(Op::kFsRead, as(cred(1001), r)), 1)
		.send(req(Op::kStatus), 0)
		.send(req(Op::kStatus), 2)
		.send(req(Op::kFsGetattr, fs("a")), 2)
		.connect()
		.send(req(Op::kHello, hello(Role::kFs, 9, kFeatAuth)), 3)
		.send(req(Op::kAuth, Auth{Mac{}, "alice"}), 3);
	write_file(h, "keyed", k.b);
}

}  // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	g_dir = argv[1];
	if (::mkdir(g_dir.c_str(), 0755) != 0 && errno != EEXIST)
		die("mkdir " + g_dir + ": " + std::strerror(errno));
	proto_seeds();
	memd_seeds();
	stord_seeds();
	return 0;
}

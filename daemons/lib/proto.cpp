// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "proto.hpp"

#include "wire.hpp"

#include <algorithm>
#include <cstddef>

// One table per wire struct (see wire.hpp): the fields of the proto.h struct
// in order, each bound to its member of the proto.hpp struct, and the
// struct's own rules in check(). The encoder, decoder, size and equality
// follow from the table; check() runs when encoding and after decoding.

namespace disagg::proto::wire {

template <>
struct Wire<Hdr> {
	using H = Hdr;
	using C = dg_hdr;
	using Fields = std::tuple<DG_CONST(magic, kMagic, Errc::kBadMagic), DG_LE(major),
				  DG_LE(minor), DG_LE(opcode), DG_LE(length), DG_LE(status),
				  DG_LE(req_id)>;
	// Decoding only: encode_message() checks a header its own way.
	static Errc check(const Hdr &h)
	{
		if (h.major != kMajor)
			return Errc::kBadMajor;
		return h.length > kMaxPayload ? Errc::kTooLong : Errc::kOk;
	}
};

template <>
struct Wire<Hello> {
	using H = Hello;
	using C = dg_hello;
	// Bytes past name_len are ignored (the kernel sends zeros).
	using Fields = std::tuple<DG_LE(major), DG_LE(minor), DG_LE(role), DG_LE(features),
				  DG_RESERVED(reserved0), DG_LE(client_id), DG_RAW(nonce),
				  DG_NAME(name_len, name, 0, false), DG_RESERVED(reserved)>;
	static Errc check(const Hello &h)
	{
		if (h.role != Role::kSwap && h.role != Role::kFs && h.role != Role::kCtl)
			return Errc::kBadRole;
		return h.name.size() > kNameMax ? Errc::kBadNameLen : Errc::kOk;
	}
};

template <>
struct Wire<HelloReply> {
	using H = HelloReply;
	using C = dg_hello_reply;
	using Fields = std::tuple<DG_LE(major), DG_LE(minor), DG_LE(features),
				  DG_RESERVED(reserved0), DG_LE(server_id), DG_RAW(nonce),
				  DG_RAW(token)>;
};

template <>
struct Wire<Auth> {
	using H = Auth;
	using C = dg_auth;
	// Bytes past id_len are zero: one identity has one encoding.
	using Fields = std::tuple<DG_RAW(mac), DG_NAME(id_len, id, 1, true), DG_RESERVED(reserved)>;
	static Errc check(const Auth &a)
	{
		if (a.id.empty() || a.id.size() > kNameMax)
			return Errc::kBadNameLen;
		return valid_identity(a.id) ? Errc::kOk : Errc::kBadValue;
	}
};

template <>
struct Wire<AuthReply> {
	using H = AuthReply;
	using C = dg_auth_reply;
	using Fields = std::tuple<DG_RAW(mac), DG_RAW(token)>;
};

bool page_aligned(std::uint64_t v)
{
	return v % kPageSize == 0;
}

template <>
struct Wire<MemInfo> {
	using H = MemInfo;
	using C = dg_mem_info;
	using Fields = std::tuple<DG_LE(capacity), DG_LE(free), DG_LE(slab_size),
				  DG_LE(nr_clients), DG_RESERVED(reserved)>;
	static Errc check(const MemInfo &m)
	{
		if (m.free > m.capacity)
			return Errc::kBadValue;
		if (!page_aligned(m.slab_size))
			return Errc::kBadAlign;
		return m.slab_size ? Errc::kOk : Errc::kBadValue;
	}
};

template <>
struct Wire<MemAlloc> {
	using H = MemAlloc;
	using C = dg_mem_alloc;
	using Fields = std::tuple<DG_LE(size), DG_LE(tag)>;
	static Errc check(const MemAlloc &m)
	{
		if (m.size == 0)
			return Errc::kBadValue;
		return page_aligned(m.size) ? Errc::kOk : Errc::kBadAlign;
	}
};

template <>
struct Wire<MemSlab> {
	using H = MemSlab;
	using C = dg_mem_slab;
	using Fields = std::tuple<DG_LE(slab_id), DG_LE(tag), DG_LE(addr), DG_LE(size),
				  DG_LE(rkey), DG_LE(flags)>;
	static Errc check(const MemSlab &m)
	{
		if (m.size == 0 || (m.flags & ~kSlabResumed))
			return Errc::kBadValue;
		return page_aligned(m.size) ? Errc::kOk : Errc::kBadAlign;
	}
};

template <>
struct Wire<MemFree> {
	using H = MemFree;
	using C = dg_mem_free;
	using Fields = std::tuple<DG_LE(slab_id)>;
};

template <>
struct Wire<MemResize> {
	using H = MemResize;
	using C = dg_mem_resize;
	using Fields = std::tuple<DG_LE(capacity), DG_RESERVED(reserved)>;
	static Errc check(const MemResize &m)
	{
		if (m.capacity == 0)
			return Errc::kBadValue;
		return page_aligned(m.capacity) ? Errc::kOk : Errc::kBadAlign;
	}
};

template <>
struct Wire<MemRw> {
	using H = MemRw;
	using C = dg_mem_rw;
	using Fields = std::tuple<DG_LE(slab_id), DG_LE(offset), DG_LE(len),
				  DG_RESERVED(reserved)>;
	static Errc check(const MemRw &m)
	{
		if (!page_aligned(m.offset) || !page_aligned(m.len))
			return Errc::kBadAlign;
		if (m.len == 0 || m.len > kMaxRwLen)
			return Errc::kBadValue;
		if (m.offset > UINT64_MAX - m.len)
			return Errc::kBadValue;
		return Errc::kOk;
	}
};

// A dg_mem_rw and its data.
template <>
struct Wire<MemWrite> {
	using H = MemWrite;
	using C = dg_mem_rw;
	using Fields = std::tuple<DG_WHOLE(rw), DG_REST(data)>;
	static Errc check(const MemWrite &m)
	{
		if (Errc e = Wire<MemRw>::check(m.rw); e != Errc::kOk)
			return e;
		return m.data.size() == m.rw.len ? Errc::kOk : Errc::kBadSize;
	}
};

// Its rules are dg_fs_req's: see check_cred().
template <>
struct Wire<FsCred> {
	using H = FsCred;
	using C = dg_fs_cred;
	using Fields = std::tuple<DG_LE(uid), DG_LE(gid), DG_LE(ngroups), DG_RESERVED(reserved),
				  DG_LE_ARRAY(groups)>;
};

Errc check_cred(const FsCred &c)
{
	if (c.ngroups > kFsNgroups)
		return Errc::kBadValue;
	for (std::size_t i = c.ngroups; i < kFsNgroups; i++)
		if (c.groups[i] != 0)
			return Errc::kBadReserved;
	return Errc::kOk;
}

bool has_nul(std::string_view s)
{
	return s.find('\0') != std::string_view::npos;
}

// dg_fs_req, then path, name2 and data.
template <>
struct Wire<FsReq> {
	using H = FsReq;
	using C = dg_fs_req;
	using Fields = std::tuple<DG_TAIL(path_len, path, 1), DG_TAIL(name2_len, name2, 1),
				  DG_TAIL(data_len, data, 1), DG_LE(flags), DG_LE(valid),
				  DG_LE(mode), DG_LE(uid), DG_LE(gid), DG_LE(rdev), DG_LE(count),
				  DG_LE(offset), DG_LE(atime_sec), DG_LE(mtime_sec),
				  DG_LE(atime_nsec), DG_LE(mtime_nsec), DG_SUB(cred)>;
	static Errc check(const FsReq &r)
	{
		if (r.path.empty() || r.path.size() > kFsPathMax ||
		    r.name2.size() > kFsPathMax || r.data.size() > kFsIoMax)
			return Errc::kBadSize;
		if (has_nul(r.path) || has_nul(r.name2))
			return Errc::kBadValue;
		return check_cred(r.cred);
	}
};

template <>
struct Wire<FsAttr> {
	using H = FsAttr;
	using C = dg_fs_attr;
	using Fields = std::tuple<DG_LE(ino), DG_LE(dev), DG_LE(size), DG_LE(blocks),
				  DG_LE(atime_sec), DG_LE(mtime_sec), DG_LE(ctime_sec),
				  DG_LE(atime_nsec), DG_LE(mtime_nsec), DG_LE(ctime_nsec),
				  DG_LE(mode), DG_LE(nlink), DG_LE(uid), DG_LE(gid), DG_LE(rdev),
				  DG_LE(blksize), DG_RESERVED(reserved)>;
};

template <>
struct Wire<FsWriteReply> {
	using H = FsWriteReply;
	using C = dg_fs_write_reply;
	using Fields = std::tuple<DG_LE(count), DG_RESERVED(reserved), DG_SUB(attr)>;
};

// One entry of a READDIR reply: dg_fs_dirent, then the name padded to 8.
// Names are checked with the whole reply (FsReaddir).
template <>
struct Wire<FsDirent> {
	using H = FsDirent;
	using C = dg_fs_dirent;
	using Fields = std::tuple<DG_LE(ino), DG_LE(cookie), DG_TAIL(name_len, name, 8),
				  DG_LE(type), DG_RESERVED(reserved)>;
};

template <>
struct Wire<FsReaddir> {
	using H = FsReaddir;
	using C = dg_fs_readdir_reply;
	// An entry has a name of at least one byte.
	using Fields = std::tuple<DG_LIST(nr, entries, fs_dirent_size(1)), DG_BOOL(eof)>;
	static Errc check(const FsReaddir &r)
	{
		for (const FsDirent &e : r.entries)
			if (e.name.empty() || e.name.size() > kFsNameMax || has_nul(e.name) ||
			    e.name.find('/') != std::string::npos)
				return Errc::kBadValue;
		return Errc::kOk;
	}
};

template <>
struct Wire<FsEntry> {
	using H = FsEntry;
	using C = dg_fs_entry_reply;
	using Fields = std::tuple<DG_SUB(attr), DG_SUB(dir), DG_SUB(old_dir)>;
};

template <>
struct Wire<FsDirentPlus> {
	using H = FsDirentPlus;
	using C = dg_fs_direntplus;
	using Fields = std::tuple<DG_SUB(attr), DG_LE(cookie), DG_TAIL(name_len, name, 8),
				  DG_LE(type), DG_RESERVED(reserved)>;
};

template <>
struct Wire<FsReaddirPlus> {
	using H = FsReaddirPlus;
	using C = dg_fs_readdir_reply;
	using Fields = std::tuple<DG_LIST(nr, entries, fs_direntplus_size(1)), DG_BOOL(eof)>;
	static Errc check(const FsReaddirPlus &r)
	{
		for (const FsDirentPlus &e : r.entries)
			if (e.name.empty() || e.name.size() > kFsNameMax || has_nul(e.name) ||
			    e.name.find('/') != std::string::npos)
				return Errc::kBadValue;
		return Errc::kOk;
	}
};

template <>
struct Wire<FsStatfs> {
	using H = FsStatfs;
	using C = dg_fs_statfs;
	using Fields = std::tuple<DG_LE(blocks), DG_LE(bfree), DG_LE(bavail), DG_LE(files),
				  DG_LE(ffree), DG_LE(bsize), DG_LE(frsize), DG_LE(namelen),
				  DG_RESERVED(reserved)>;
};

// dg_fs_xattr_reply and the value, if any.
template <>
struct Wire<FsXattr> {
	using H = FsXattr;
	using C = dg_fs_xattr_reply;
	using Fields = std::tuple<DG_LE(size), DG_RESERVED(reserved), DG_REST(value)>;
	static Errc check(const FsXattr &x)
	{
		if (x.size > kFsXattrSizeMax)
			return Errc::kBadValue;
		if (!x.value.empty() && x.value.size() != x.size)
			return Errc::kBadSize;
		return Errc::kOk;
	}
};

}  // namespace disagg::proto::wire

namespace disagg::proto {
namespace {

// The payloads without a wire struct: Empty and Data.

Errc check_one(const Empty &) { return Errc::kOk; }
Errc check_one(const Data &d)
{
	return d.bytes.size() <= kMaxPayload ? Errc::kOk : Errc::kTooLong;
}
template <class T>
Errc check_one(const T &v)
{
	if constexpr (requires { wire::Wire<T>::check(v); })
		return wire::Wire<T>::check(v);
	else
		return Errc::kOk;
}

std::size_t payload_size(const Empty &) { return 0; }
std::size_t payload_size(const Data &d) { return d.bytes.size(); }
std::size_t payload_size(const auto &v) { return wire::wire_size(v); }

void put(const Empty &, std::span<std::byte>) {}
void put(const Data &d, std::span<std::byte> out)
{
	wire::copy_bytes(out.data(), d.bytes.data(), d.bytes.size());
}
void put(const auto &v, std::span<std::byte> out) { wire::put_struct(v, out); }

// Wraps a typed decoder result into a Body result.
template <class T>
Result<Body> to_body(Result<T> r)
{
	if (!r)
		return r.error();
	return Body{std::move(r).value()};
}

// Decodes a success payload of the given kind; kNone is an unknown opcode.
Result<Body> decode_body(Kind kind, ByteSpan p)
{
	switch (kind) {
	case Kind::kNone:
		break;
	case Kind::kEmpty:
		if (!p.empty())
			return Errc::kBadSize;
		return Body{Empty{}};
	case Kind::kHello:
		return to_body(decode_hello(p));
	case Kind::kHelloReply:
		return to_body(decode_hello_reply(p));
	case Kind::kAuth:
		return to_body(decode_auth(p));
	case Kind::kAuthReply:
		return to_body(decode_auth_reply(p));
	case Kind::kMemInfo:
		return to_body(decode_mem_info(p));
	case Kind::kMemAlloc:
		return to_body(decode_mem_alloc(p));
	case Kind::kMemSlab:
		return to_body(decode_mem_slab(p));
	case Kind::kMemFree:
		return to_body(decode_mem_free(p));
	case Kind::kMemRw:
		return to_body(decode_mem_rw(p));
	case Kind::kMemWrite:
		return to_body(decode_mem_write(p));
	case Kind::kMemResize:
		return to_body(decode_mem_resize(p));
	case Kind::kData:
		return Body{Data{p}};
	case Kind::kFsReq:
		return to_body(decode_fs_req(p));
	case Kind::kFsAttr:
		return to_body(decode_fs_attr(p));
	case Kind::kFsWriteReply:
		return to_body(decode_fs_write_reply(p));
	case Kind::kFsReaddir:
		return to_body(decode_fs_readdir(p));
	case Kind::kFsStatfs:
		return to_body(decode_fs_statfs(p));
	case Kind::kFsXattr:
		return to_body(decode_fs_xattr(p));
	case Kind::kFsEntry:
		return to_body(decode_fs_entry(p));
	case Kind::kFsReaddirPlus:
		return to_body(decode_fs_readdirplus(p));
	}
	return Errc::kBadOpcode;
}

// Status rules shared by encode_message() and decode_message().
Errc check_status(const Hdr &h)
{
	if (!h.is_reply())
		return h.status == 0 ? Errc::kOk : Errc::kBadStatus;
	return h.status <= kMaxErrno ? Errc::kOk : Errc::kBadStatus;
}

}  // namespace

bool MemWrite::operator==(const MemWrite &o) const
{
	return wire::equal(*this, o);
}

bool Data::operator==(const Data &o) const
{
	return std::ranges::equal(bytes, o.bytes);
}

bool FsReq::operator==(const FsReq &o) const
{
	return wire::equal(*this, o);
}

bool FsXattr::operator==(const FsXattr &o) const
{
	return wire::equal(*this, o);
}

std::string_view to_string(Errc e)
{
	switch (e) {
	case Errc::kOk: return "ok";
	case Errc::kTooShort: return "shorter than a header";
	case Errc::kBadMagic: return "bad magic";
	case Errc::kBadMajor: return "protocol major mismatch";
	case Errc::kTooLong: return "payload too long";
	case Errc::kTruncated: return "payload truncated";
	case Errc::kBadOpcode: return "unknown opcode";
	case Errc::kBadStatus: return "bad status";
	case Errc::kBadSize: return "wrong payload size";
	case Errc::kBadReserved: return "reserved field not zero";
	case Errc::kBadNameLen: return "name too long";
	case Errc::kBadRole: return "unknown role";
	case Errc::kBadAlign: return "not page aligned";
	case Errc::kBadValue: return "field out of range";
	case Errc::kBadBody: return "body does not match opcode";
	case Errc::kBadFeatures: return "features or minor not offered";
	}
	return "unknown error";
}

Kind payload_kind(std::uint16_t opcode)
{
	const bool reply = opcode & kReplyBit;
	switch (static_cast<Op>(opcode & ~kReplyBit)) {
	case Op::kHello:
		return reply ? Kind::kHelloReply : Kind::kHello;
	case Op::kAuth:
		return reply ? Kind::kAuthReply : Kind::kAuth;
	case Op::kHeartbeat:
		return Kind::kEmpty;
	case Op::kBye:
		return reply ? Kind::kNone : Kind::kEmpty;
	case Op::kStatus:
		return reply ? Kind::kData : Kind::kEmpty;
	case Op::kMemInfo:
		return reply ? Kind::kMemInfo : Kind::kEmpty;
	case Op::kMemAlloc:
		return reply ? Kind::kMemSlab : Kind::kMemAlloc;
	case Op::kMemFree:
	case Op::kMemEvict:
		return reply ? Kind::kEmpty : Kind::kMemFree;
	case Op::kMemRead:
		return reply ? Kind::kData : Kind::kMemRw;
	case Op::kMemWrite:
		return reply ? Kind::kEmpty : Kind::kMemWrite;
	case Op::kMemResize:
		return reply ? Kind::kEmpty : Kind::kMemResize;
	case Op::kFsGetattr:
	case Op::kFsSetattr:
	case Op::kFsCreate:
	case Op::kFsMkdir:
	case Op::kFsMknod:
	case Op::kFsSymlink:
	case Op::kFsLink:
		return reply ? Kind::kFsAttr : Kind::kFsReq;
	case Op::kFsRead:
	case Op::kFsReadlink:
		return reply ? Kind::kData : Kind::kFsReq;
	case Op::kFsWrite:
		return reply ? Kind::kFsWriteReply : Kind::kFsReq;
	case Op::kFsUnlink:
	case Op::kFsRmdir:
	case Op::kFsRename:
	case Op::kFsFsync:
	case Op::kFsSetxattr:
	case Op::kFsRemovexattr:
		return reply ? Kind::kEmpty : Kind::kFsReq;
	case Op::kFsReaddir:
		return reply ? Kind::kFsReaddir : Kind::kFsReq;
	case Op::kFsReaddirplus:
		return reply ? Kind::kFsReaddirPlus : Kind::kFsReq;
	case Op::kFsStatfs:
		return reply ? Kind::kFsStatfs : Kind::kFsReq;
	case Op::kFsGetxattr:
	case Op::kFsListxattr:
		return reply ? Kind::kFsXattr : Kind::kFsReq;
	}
	return Kind::kNone;
}

Kind kind_of(const Body &body)
{
	struct {
		Kind operator()(const Empty &) { return Kind::kEmpty; }
		Kind operator()(const Hello &) { return Kind::kHello; }
		Kind operator()(const HelloReply &) { return Kind::kHelloReply; }
		Kind operator()(const Auth &) { return Kind::kAuth; }
		Kind operator()(const AuthReply &) { return Kind::kAuthReply; }
		Kind operator()(const MemInfo &) { return Kind::kMemInfo; }
		Kind operator()(const MemAlloc &) { return Kind::kMemAlloc; }
		Kind operator()(const MemSlab &) { return Kind::kMemSlab; }
		Kind operator()(const MemFree &) { return Kind::kMemFree; }
		Kind operator()(const MemRw &) { return Kind::kMemRw; }
		Kind operator()(const MemWrite &) { return Kind::kMemWrite; }
		Kind operator()(const MemResize &) { return Kind::kMemResize; }
		Kind operator()(const Data &) { return Kind::kData; }
		Kind operator()(const FsReq &) { return Kind::kFsReq; }
		Kind operator()(const FsAttr &) { return Kind::kFsAttr; }
		Kind operator()(const FsWriteReply &) { return Kind::kFsWriteReply; }
		Kind operator()(const FsReaddir &) { return Kind::kFsReaddir; }
		Kind operator()(const FsStatfs &) { return Kind::kFsStatfs; }
		Kind operator()(const FsXattr &) { return Kind::kFsXattr; }
		Kind operator()(const FsEntry &) { return Kind::kFsEntry; }
		Kind operator()(const FsReaddirPlus &) { return Kind::kFsReaddirPlus; }
	} kind;
	return std::visit(kind, body);
}

Errc check(const Body &body)
{
	return std::visit([](const auto &m) { return check_one(m); }, body);
}

void encode_hdr(const Hdr &h, std::span<std::byte, kHdrSize> out)
{
	wire::put_struct(h, out);
}

Result<Hdr> decode_hdr(ByteSpan in)
{
	if (in.size() < kHdrSize)
		return Errc::kTooShort;
	return wire::decode<Hdr>(in.first(kHdrSize));
}

Result<Frame> decode_frame(ByteSpan in)
{
	Result<Hdr> h = decode_hdr(in);
	if (!h)
		return h.error();
	if (in.size() - kHdrSize < h->length)
		return Errc::kTruncated;
	return Frame{*h, in.subspan(kHdrSize, h->length)};
}

bool valid_identity(std::string_view id)
{
	if (id.empty() || id.size() > kNameMax)
		return false;
	for (char c : id)
		if (c <= ' ' || c > '~')
			return false;
	return true;
}

Result<Hello> decode_hello(ByteSpan p) { return wire::decode<Hello>(p); }
Result<HelloReply> decode_hello_reply(ByteSpan p) { return wire::decode<HelloReply>(p); }
Result<Auth> decode_auth(ByteSpan p) { return wire::decode<Auth>(p); }
Result<AuthReply> decode_auth_reply(ByteSpan p) { return wire::decode<AuthReply>(p); }
Result<MemInfo> decode_mem_info(ByteSpan p) { return wire::decode<MemInfo>(p); }
Result<MemAlloc> decode_mem_alloc(ByteSpan p) { return wire::decode<MemAlloc>(p); }
Result<MemSlab> decode_mem_slab(ByteSpan p) { return wire::decode<MemSlab>(p); }
Result<MemFree> decode_mem_free(ByteSpan p) { return wire::decode<MemFree>(p); }
Result<MemResize> decode_mem_resize(ByteSpan p) { return wire::decode<MemResize>(p); }
Result<MemRw> decode_mem_rw(ByteSpan p) { return wire::decode<MemRw>(p); }
Result<MemWrite> decode_mem_write(ByteSpan p) { return wire::decode<MemWrite>(p); }
Result<FsReq> decode_fs_req(ByteSpan p) { return wire::decode<FsReq>(p); }
Result<FsAttr> decode_fs_attr(ByteSpan p) { return wire::decode<FsAttr>(p); }
Result<FsWriteReply> decode_fs_write_reply(ByteSpan p) { return wire::decode<FsWriteReply>(p); }
Result<FsReaddir> decode_fs_readdir(ByteSpan p) { return wire::decode<FsReaddir>(p); }
Result<FsStatfs> decode_fs_statfs(ByteSpan p) { return wire::decode<FsStatfs>(p); }
Result<FsXattr> decode_fs_xattr(ByteSpan p) { return wire::decode<FsXattr>(p); }
Result<FsEntry> decode_fs_entry(ByteSpan p) { return wire::decode<FsEntry>(p); }
Result<FsReaddirPlus> decode_fs_readdirplus(ByteSpan p)
{
	return wire::decode<FsReaddirPlus>(p);
}

Result<FsSegs> decode_fs_segs(const FsReq &r)
{
	if (!(r.flags & DG_FS_IO_SEGS))
		return Errc::kBadValue;
	const std::size_t n = r.data.size() / kFsSegSize;
	if (r.data.size() % kFsSegSize || n == 0 || n > kFsSegsMax)
		return Errc::kBadSize;
	if (r.count == 0 || r.count > kFsRdmaIoMax)
		return Errc::kBadValue;
	FsSegs out;
	std::uint64_t total = 0;
	for (std::size_t i = 0; i < n; i++) {
		const std::byte *p = r.data.data() + i * kFsSegSize;
		FsSeg s;
		s.addr = wire::load_le<8>(p + offsetof(dg_fs_seg, addr));
		s.len = static_cast<std::uint32_t>(wire::load_le<4>(p + offsetof(dg_fs_seg, len)));
		s.rkey = static_cast<std::uint32_t>(wire::load_le<4>(p + offsetof(dg_fs_seg, rkey)));
		if (s.len == 0 || s.len > kFsRdmaIoMax || s.addr > UINT64_MAX - s.len)
			return Errc::kBadValue;
		if ((r.flags & DG_FS_IO_INVALIDATE) && s.rkey != (i ? out.seg[0].rkey : s.rkey))
			return Errc::kBadValue;
		total += s.len;	// at most 4 x 1 MiB: no overflow
		out.seg[i] = s;
	}
	if (total != r.count)
		return Errc::kBadValue;
	out.nr = static_cast<unsigned>(n);
	out.total = static_cast<std::uint32_t>(total);
	return out;
}

Bytes encode_fs_segs(std::span<const FsSeg> segs)
{
	Bytes b(segs.size() * kFsSegSize);
	for (std::size_t i = 0; i < segs.size(); i++) {
		std::byte *p = b.data() + i * kFsSegSize;
		wire::store_le<8>(p + offsetof(dg_fs_seg, addr), segs[i].addr);
		wire::store_le<4>(p + offsetof(dg_fs_seg, len), segs[i].len);
		wire::store_le<4>(p + offsetof(dg_fs_seg, rkey), segs[i].rkey);
	}
	return b;
}

Result<std::uint32_t> decode_fs_rdma_read_reply(ByteSpan p)
{
	if (p.size() != kFsRdmaReadReplySize)
		return Errc::kBadSize;
	if (!wire::all_zero(p.subspan(offsetof(dg_fs_rdma_read_reply, reserved), 4)))
		return Errc::kBadReserved;
	const auto count = static_cast<std::uint32_t>(
		wire::load_le<4>(p.data() + offsetof(dg_fs_rdma_read_reply, count)));
	if (count > kFsRdmaIoMax)
		return Errc::kBadValue;
	return count;
}

Bytes encode_fs_rdma_read_reply(std::uint32_t count)
{
	Bytes b(kFsRdmaReadReplySize);
	wire::store_le<4>(b.data() + offsetof(dg_fs_rdma_read_reply, count), count);
	return b;
}

Result<Message> decode_message(const Frame &f)
{
	const Hdr &h = f.hdr;
	if (f.payload.size() != h.length)
		return Errc::kBadSize;
	if (Errc e = check_status(h); e != Errc::kOk)
		return e;
	if (h.status != 0) {
		// An error reply answers any request, even one we do not know.
		if (!f.payload.empty())
			return Errc::kBadSize;
		return Message{h, Empty{}};
	}
	Kind kind = payload_kind(h.opcode);
	// DG_FEAT_FSATTR's form of the reply, told apart by its size (the
	// old forms are 96 bytes or empty).
	if (h.is_reply() && has_entry_reply(h.opcode) && f.payload.size() == kFsEntryReplySize)
		kind = Kind::kFsEntry;
	Result<Body> body = decode_body(kind, f.payload);
	if (!body)
		return body.error();
	return Message{h, std::move(body).value()};
}

Result<Bytes> encode_message(const Message &m)
{
	Hdr h = m.hdr;
	if (h.major != kMajor)
		return Errc::kBadMajor;
	if (Errc e = check_status(h); e != Errc::kOk)
		return e;
	const Kind want = h.status != 0 ? Kind::kEmpty : payload_kind(h.opcode);
	if (want == Kind::kNone)
		return Errc::kBadOpcode;
	if (kind_of(m.body) != want &&
	    !(kind_of(m.body) == Kind::kFsEntry && h.is_reply() && h.status == 0 &&
	      has_entry_reply(h.opcode)))
		return Errc::kBadBody;
	if (Errc e = check(m.body); e != Errc::kOk)
		return e;
	const std::size_t n =
		std::visit([](const auto &b) { return payload_size(b); }, m.body);
	if (n > kMaxPayload)
		return Errc::kTooLong;
	h.length = static_cast<std::uint32_t>(n);

	Bytes out(kHdrSize + n);	// zeroed: reserved fields and padding
	std::span<std::byte> buf(out);
	encode_hdr(h, buf.first<kHdrSize>());
	std::visit([&](const auto &body) { put(body, buf.subspan(kHdrSize)); }, m.body);
	return out;
}

Result<Bytes> make_request(Op op, std::uint64_t req_id, const Body &body)
{
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op);
	h.req_id = req_id;
	return encode_message(Message{h, body});
}

Result<Bytes> make_reply(Op op, std::uint64_t req_id, const Body &body)
{
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op) | kReplyBit;
	h.req_id = req_id;
	return encode_message(Message{h, body});
}

Result<Bytes> make_error_reply(std::uint16_t opcode, std::uint64_t req_id,
			       std::uint32_t status)
{
	if (status == 0)
		return Errc::kBadStatus;	// a success reply has a body
	Hdr h;
	h.opcode = opcode | kReplyBit;
	h.status = status;
	h.req_id = req_id;
	return encode_message(Message{h, Empty{}});
}

Result<Bytes> make_error_reply(Op op, std::uint64_t req_id, std::uint32_t status)
{
	return make_error_reply(static_cast<std::uint16_t>(op), req_id, status);
}

Result<Negotiated> negotiate(const Hello &peer, std::uint16_t our_minor,
			     std::uint32_t our_features)
{
	if (peer.major != kMajor)
		return Errc::kBadMajor;
	return Negotiated{std::min(peer.minor, our_minor),
			  peer.features & our_features & kFeatKnown};
}

Result<Negotiated> check_hello_reply(const Hello &sent, const HelloReply &reply)
{
	if (reply.major != kMajor)
		return Errc::kBadMajor;
	if (reply.minor > sent.minor || (reply.features & ~sent.features) ||
	    (reply.features & ~kFeatKnown))
		return Errc::kBadFeatures;
	return Negotiated{reply.minor, reply.features};
}

const char *role_name(Role r)
{
	switch (r) {
	case Role::kSwap: return "swap";
	case Role::kFs: return "fs";
	case Role::kCtl: return "ctl";
	}
	return "?";
}

}  // namespace disagg::proto
